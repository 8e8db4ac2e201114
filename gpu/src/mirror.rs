//! The learner's 8-bit rows on the GPU, uploaded once each: chunks of whole rows (codes packed
//! four to a `u32`, and one `f32` scale per row), each chunk one storage binding.

use quarry_core::store::{CompactRows, Rows};

use crate::io::bytes;
use crate::Gpu;

/// At most this many rows per chunk: one dispatch covers a chunk at 64 rows per workgroup.
const MAX_CHUNK_ROWS: usize = 65_535 * 64;

/// One binding's worth of rows: store rows `first..first + count`.
pub(crate) struct Chunk {
    pub codes: wgpu::Buffer,
    pub scales: wgpu::Buffer,
    pub first: usize,
    pub count: usize,
}

/// The store's rows as the GPU holds them.
pub(crate) struct Mirror {
    /// Row length in `u32` words (four codes each, zero-padded).
    pub words: usize,
    pub chunk_rows: usize,
    pub chunks: Vec<Chunk>,
    dim: usize,
    rows: usize,
    uploaded: Vec<bool>,
    /// The store's [`CompactRows::filled`] and [`CompactRows::rewrites`] when last synced.
    seen: (usize, u64),
}

/// `row`'s codes packed four to a word, zero-padded to `words` words.
pub(crate) fn pack(codes: &[i8], words: usize, out: &mut Vec<u32>) {
    let start = out.len();
    out.resize(start + words, 0);
    for (k, &c) in codes.iter().enumerate() {
        out[start + k / 4] |= u32::from(c as u8) << (8 * (k % 4));
    }
}

impl Mirror {
    /// Where store row `i` lives: (chunk, row within it).
    pub fn locate(&self, i: usize) -> (usize, usize) {
        (i / self.chunk_rows, i % self.chunk_rows)
    }

    /// For each chunk, its `(row within the chunk, position)` pairs for the store rows `rows`
    /// (position = index into `rows`).
    pub fn entries(&self, rows: &[usize]) -> Vec<Vec<[u32; 2]>> {
        let mut out = vec![Vec::new(); self.chunks.len()];
        for (p, &i) in rows.iter().enumerate() {
            let (c, local) = self.locate(i);
            out[c].push([local as u32, p as u32]);
        }
        out
    }
}

impl Gpu {
    /// Makes the mirror hold every present row of `store`: allocates it when there is none (or
    /// the store's shape changed, or a row was replaced), then uploads the rows not yet there,
    /// in runs of consecutive rows.
    pub(crate) fn sync(&mut self, store: &CompactRows) -> &Mirror {
        let dim = store.cols();
        let current = self.mirror.as_ref().is_some_and(|m| {
            m.dim == dim && m.rows == store.rows() && m.seen.1 == store.rewrites()
        });
        if !current {
            self.mirror = Some(self.allocate(store));
        }
        let mirror = self.mirror.as_mut().expect("allocated above");
        let seen = (store.filled(), store.rewrites());
        if mirror.seen != seen {
            let missing: Vec<usize> = (0..store.rows())
                .filter(|&i| store.is_present(i) && !mirror.uploaded[i])
                .collect();
            let mut at = 0;
            while at < missing.len() {
                let (chunk, local) = mirror.locate(missing[at]);
                let mut end = at + 1;
                while end < missing.len()
                    && missing[end] == missing[end - 1] + 1
                    && mirror.locate(missing[end]).0 == chunk
                {
                    end += 1;
                }
                let run = &missing[at..end];
                let mut codes = Vec::with_capacity(run.len() * mirror.words);
                let mut scales = Vec::with_capacity(run.len());
                for &i in run {
                    let (c, s) = store.codes(i);
                    pack(c, mirror.words, &mut codes);
                    scales.push(s);
                    mirror.uploaded[i] = true;
                }
                let target = &mirror.chunks[chunk];
                let word_at = (local * mirror.words * 4) as u64;
                self.queue
                    .write_buffer(&target.codes, word_at, bytes(&codes));
                self.queue
                    .write_buffer(&target.scales, (local * 4) as u64, bytes(&scales));
                at = end;
            }
            mirror.seen = seen;
        }
        self.mirror.as_ref().expect("allocated above")
    }

    fn allocate(&self, store: &CompactRows) -> Mirror {
        let dim = store.cols();
        let words = dim.div_ceil(4);
        let row_bytes = (words * 4) as u64;
        let by_bytes = usize::try_from(self.chunk_bytes / row_bytes).unwrap_or(usize::MAX);
        let chunk_rows = by_bytes
            .min(self.chunk_rows_cap.unwrap_or(usize::MAX))
            .clamp(1, MAX_CHUNK_ROWS);
        let chunks = (0..store.rows().div_ceil(chunk_rows))
            .map(|c| {
                let first = c * chunk_rows;
                let count = chunk_rows.min(store.rows() - first);
                Chunk {
                    codes: self.zeroed("rows", count as u64 * row_bytes),
                    scales: self.zeroed("scales", count as u64 * 4),
                    first,
                    count,
                }
            })
            .collect();
        Mirror {
            words,
            chunk_rows,
            chunks,
            dim,
            rows: store.rows(),
            uploaded: vec![false; store.rows()],
            seen: (0, store.rewrites()),
        }
    }
}
