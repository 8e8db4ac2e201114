//! Core-Set's k-center greedy on the GPU: every pick of the batch in one submission
//! (`update` per chunk, `pick`, `copy_centre` per chunk, repeated), the picks read back once.

use quarry_core::store::CompactRows;

use crate::io::bytes;
use crate::mirror::pack;
use crate::Gpu;

/// Threads per workgroup of `update` and `pick` (as in `kcenter.wgsl`).
const GROUP: u32 = 256;

/// A distance above every real one: rows start at it before the first centre.
const FAR: f32 = 3.0e38;

/// [`quarry_core::compute::Backend::k_center`] on the GPU; `None` on any device error or
/// when the picks read back are not `want` distinct positions.
pub(crate) async fn run(
    gpu: &mut Gpu,
    store: &CompactRows,
    rows: &[usize],
    centres: &[usize],
    want: usize,
) -> Option<Vec<usize>> {
    let (words, entries) = {
        let mirror = gpu.sync(store);
        (mirror.words, mirror.entries(rows))
    };
    let mut centre_codes = Vec::with_capacity(centres.len() * words);
    let mut centre_scales = Vec::with_capacity(centres.len());
    for &c in centres {
        let (codes, scale) = store.codes(c);
        pack(codes, words, &mut centre_codes);
        centre_scales.push(scale);
    }
    let row_of: Vec<u32> = rows.iter().map(|&i| i as u32).collect();
    let picks = gpu
        .scoped(async {
            let mirror = gpu.mirror.as_ref()?;
            let k = &gpu.kernels;
            let start_centres = gpu.storage("centres", bytes(&centre_codes));
            let start_scales = gpu.storage("centre scales", bytes(&centre_scales));
            let centre = gpu.zeroed("centre", (words * 4) as u64);
            let centre_scale = gpu.zeroed("centre scale", 4);
            let nearest = gpu.storage("nearest", bytes(&vec![FAR; rows.len()]));
            let state = gpu.zeroed("state", 8);
            let picks = gpu.zeroed("picks", (want * 4) as u64);
            let row_of = gpu.storage("row of", bytes(&row_of));
            let groups_of = |entries: &[[u32; 2]]| (entries.len() as u32).div_ceil(GROUP);
            let partials: u32 = entries.iter().map(|e| groups_of(e)).sum();
            let partial_buffer = gpu.zeroed("partials", u64::from(partials) * 8);
            let pick_params = gpu.uniform([partials, 0, 0, 0]);
            let pick = gpu.bind(
                &k.pick,
                &[
                    (6, &nearest),
                    (7, &partial_buffer),
                    (8, &pick_params),
                    (9, &state),
                    (10, &picks),
                    (11, &row_of),
                ],
            );
            // Per chunk: the copy of a pick into the one centre; per chunk with rows, the first
            // update (all given centres) and the later ones (that one centre).
            let mut copies = Vec::new();
            let mut firsts = Vec::new();
            let mut laters = Vec::new();
            let mut partial_base = 0u32;
            for (chunk, entries) in mirror.chunks.iter().zip(&entries) {
                let copy_params =
                    gpu.uniform([words as u32, chunk.first as u32, chunk.count as u32, 0]);
                let copy_entries = [
                    (1, &chunk.codes),
                    (2, &chunk.scales),
                    (9, &state),
                    (12, &copy_params),
                    (13, &centre),
                    (14, &centre_scale),
                ];
                copies.push(gpu.bind(&k.copy, &copy_entries));
                if entries.is_empty() {
                    continue;
                }
                let n = entries.len() as u32;
                let groups = groups_of(entries);
                let list = gpu.storage("entries", bytes(entries));
                let bind = |count: usize, centres: &wgpu::Buffer, scales: &wgpu::Buffer| {
                    let params = gpu.uniform([words as u32, n, partial_base, count as u32]);
                    let group = gpu.bind(
                        &k.update,
                        &[
                            (0, &params),
                            (1, &chunk.codes),
                            (2, &chunk.scales),
                            (3, &list),
                            (4, centres),
                            (5, scales),
                            (6, &nearest),
                            (7, &partial_buffer),
                        ],
                    );
                    (groups, group)
                };
                firsts.push(bind(centres.len(), &start_centres, &start_scales));
                laters.push(bind(1, &centre, &centre_scale));
                partial_base += groups;
            }
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for step in 0..want {
                    pass.set_pipeline(&k.update);
                    for (groups, group) in if step == 0 { &firsts } else { &laters } {
                        pass.set_bind_group(0, group, &[]);
                        pass.dispatch_workgroups(*groups, 1, 1);
                    }
                    pass.set_pipeline(&k.pick);
                    pass.set_bind_group(0, &pick, &[]);
                    pass.dispatch_workgroups(1, 1, 1);
                    if step + 1 < want {
                        pass.set_pipeline(&k.copy);
                        for group in &copies {
                            pass.set_bind_group(0, group, &[]);
                            pass.dispatch_workgroups(1, 1, 1);
                        }
                    }
                }
            }
            let read = gpu
                .submit_and_read(encoder, &picks, (want * 4) as u64)
                .await?;
            Some(bytemuck::pod_collect_to_vec::<u8, u32>(&read[..want * 4]))
        })
        .await?;
    let picks: Vec<usize> = picks.into_iter().map(|p| p as usize).collect();
    let mut seen = vec![false; rows.len()];
    for &p in &picks {
        if p >= rows.len() || std::mem::replace(&mut seen[p], true) {
            return None;
        }
    }
    Some(picks)
}
