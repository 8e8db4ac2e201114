//! The whole-pool dot products (class probabilities): one dispatch per chunk, one read back.

use quarry_core::compute::Vectors;
use quarry_core::store::CompactRows;

use crate::io::bytes;
use crate::Gpu;

/// [`quarry_core::compute::Backend::dots`] on the GPU; `None` on any device error.
pub(crate) async fn run(
    gpu: &mut Gpu,
    store: &CompactRows,
    rows: &[usize],
    vectors: &Vectors,
) -> Option<Vec<i32>> {
    let count = vectors.count();
    let (words, entries) = {
        let mirror = gpu.sync(store);
        (mirror.words, mirror.entries(rows))
    };
    // The vectors' codes as `vec4<i32>` per word of a row, zero-padded like the rows.
    let mut codes = vec![0i32; count * words * 4];
    for v in 0..count {
        for (k, &c) in vectors.codes(v).iter().enumerate() {
            codes[v * words * 4 + k] = i32::from(c);
        }
    }
    let out_bytes = (rows.len() * count * 4) as u64;
    gpu.scoped(async {
        let vectors = gpu.storage("vectors", bytes(&codes));
        let out = gpu.zeroed("dots", out_bytes);
        let mirror = gpu.mirror.as_ref()?;
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&gpu.kernels.dots);
            for (chunk, entries) in mirror.chunks.iter().zip(&entries) {
                if entries.is_empty() {
                    continue;
                }
                let n = entries.len() as u32;
                let params = gpu.uniform([words as u32, count as u32, n, 0]);
                let list = gpu.storage("entries", bytes(entries));
                let group = gpu.bind(
                    &gpu.kernels.dots,
                    &[
                        (0, &params),
                        (1, &chunk.codes),
                        (2, &vectors),
                        (3, &list),
                        (4, &out),
                    ],
                );
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(n.div_ceil(64), 1, 1);
            }
        }
        let read = gpu.submit_and_read(encoder, &out, out_bytes).await?;
        let dots: Vec<i32> = bytemuck::pod_collect_to_vec(&read[..out_bytes as usize]);
        Some(dots)
    })
    .await
}
