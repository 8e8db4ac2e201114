//! The inner loop of the compute layer: exact integer dot products of 8-bit rows with 16-bit
//! vectors, a few rows against a few vectors per call so each loaded value is used several times.
//!
//! One implementation per instruction set, chosen at compile time (wasm32 SIMD128, x86-64 SSE2)
//! or, for AVX2, once at run time; a portable loop elsewhere. All compute the same integers.
//! This is the only module of the workspace allowed `unsafe`: unaligned vector loads from slices
//! whose lengths are checked first, and the AVX2 call after its run-time check. Each `unsafe`
//! block says why it holds. `tests` compares every path available on the machine with the
//! portable one.
#![allow(unsafe_code)]

/// Values per call at most: `MAX_LEN · 127 · 8191 < 2³¹`, so no sum overflows `i32`
/// (vectors hold 14-bit values, rows 8-bit ones).
pub const MAX_LEN: usize = 2048;

/// `out[r][v] = Σⱼ rows[r][j] · vecs[v][j]`, exactly.
///
/// # Panics
/// When the slices differ in length, or are longer than [`MAX_LEN`].
#[inline]
pub fn dots<const R: usize, const V: usize>(rows: [&[i8]; R], vecs: [&[i16]; V]) -> [[i32; V]; R] {
    let n = rows.first().map_or(0, |r| r.len());
    assert!(
        n <= MAX_LEN && rows.iter().all(|r| r.len() == n) && vecs.iter().all(|v| v.len() == n),
        "rows and vectors of one length, at most {MAX_LEN}"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above); lengths were checked.
            return unsafe { x86::dots_avx2(rows, vecs) };
        }
        // SAFETY: SSE2 is part of x86-64; lengths were checked.
        #[allow(clippy::needless_return)]
        return unsafe { x86::dots_sse2(rows, vecs) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // SAFETY: SIMD128 is enabled at compile time; lengths were checked.
        #[allow(clippy::needless_return)]
        return unsafe { wasm::dots(rows, vecs) };
    }
    #[allow(unreachable_code)]
    portable(rows, vecs, 0)
}

/// The plain loop, from value `from` on: the whole of the portable path and the tail of the
/// vector paths.
#[inline]
fn portable<const R: usize, const V: usize>(
    rows: [&[i8]; R],
    vecs: [&[i16]; V],
    from: usize,
) -> [[i32; V]; R] {
    let mut out = [[0i32; V]; R];
    for (o, row) in out.iter_mut().zip(rows) {
        for (o, vec) in o.iter_mut().zip(vecs) {
            *o = row[from..]
                .iter()
                .zip(&vec[from..])
                .fold(0i32, |s, (&a, &b)| {
                    s.wrapping_add(i32::from(a).wrapping_mul(i32::from(b)))
                });
        }
    }
    out
}

/// Adds the tail (values from `from` on) to the vector paths' sums.
#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
#[inline]
fn with_tail<const R: usize, const V: usize>(
    mut out: [[i32; V]; R],
    rows: [&[i8]; R],
    vecs: [&[i16]; V],
    from: usize,
) -> [[i32; V]; R] {
    if from < rows.first().map_or(0, |r| r.len()) {
        let tail = portable(rows, vecs, from);
        for (o, t) in out.iter_mut().zip(tail) {
            for (o, t) in o.iter_mut().zip(t) {
                *o = o.wrapping_add(t);
            }
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// AVX2: 16 values per step (`vpmovsxbw` widens the row, `vpmaddwd` multiplies and adds
    /// pairs into eight `i32` lanes). Loads are `lddqu`, which unlike `loadu` do not go through
    /// `copy_nonoverlapping` and its debug-build checks (2.5× slower in the dev profile).
    ///
    /// # Safety
    /// The CPU must have AVX2; all slices must have one length.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dots_avx2<const R: usize, const V: usize>(
        rows: [&[i8]; R],
        vecs: [&[i16]; V],
    ) -> [[i32; V]; R] {
        let n = rows.first().map_or(0, |r| r.len());
        let main = n - n % 16;
        let mut acc = [[_mm256_setzero_si256(); V]; R];
        let mut j = 0;
        while j < main {
            let mut x = [_mm256_setzero_si256(); R];
            for (x, row) in x.iter_mut().zip(rows) {
                // SAFETY: j + 16 <= n = row.len(): 16 bytes are in bounds.
                *x = _mm256_cvtepi8_epi16(unsafe {
                    _mm_lddqu_si128(row.as_ptr().wrapping_add(j).cast())
                });
            }
            for (v, vec) in vecs.iter().enumerate() {
                // SAFETY: j + 16 <= n = vec.len(): 16 values are in bounds.
                let y = unsafe { _mm256_lddqu_si256(vec.as_ptr().wrapping_add(j).cast()) };
                for (acc, x) in acc.iter_mut().zip(&x) {
                    acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(*x, y));
                }
            }
            j += 16;
        }
        let out = acc.map(|a| {
            a.map(|a| {
                let s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256::<1>(a));
                hsum128(s)
            })
        });
        super::with_tail(out, rows, vecs, main)
    }

    /// SSE2: 8 values per step (`punpcklbw` + `psraw` widen the row, `pmaddwd` multiplies).
    ///
    /// # Safety
    /// All slices must have one length.
    #[target_feature(enable = "sse2")]
    pub unsafe fn dots_sse2<const R: usize, const V: usize>(
        rows: [&[i8]; R],
        vecs: [&[i16]; V],
    ) -> [[i32; V]; R] {
        let n = rows.first().map_or(0, |r| r.len());
        let main = n - n % 8;
        let mut acc = [[_mm_setzero_si128(); V]; R];
        let mut j = 0;
        while j < main {
            let mut x = [_mm_setzero_si128(); R];
            for (x, row) in x.iter_mut().zip(rows) {
                // SAFETY: j + 8 <= n = row.len(): 8 bytes are in bounds.
                let b = unsafe { _mm_loadl_epi64(row.as_ptr().wrapping_add(j).cast()) };
                *x = _mm_srai_epi16::<8>(_mm_unpacklo_epi8(b, b));
            }
            for (v, vec) in vecs.iter().enumerate() {
                // SAFETY: j + 8 <= n = vec.len(): 8 values are in bounds.
                let y = unsafe { _mm_loadu_si128(vec.as_ptr().wrapping_add(j).cast()) };
                for (acc, x) in acc.iter_mut().zip(&x) {
                    acc[v] = _mm_add_epi32(acc[v], _mm_madd_epi16(*x, y));
                }
            }
            j += 8;
        }
        super::with_tail(acc.map(|a| a.map(|s| hsum128(s))), rows, vecs, main)
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn hsum128(a: __m128i) -> i32 {
        let s = _mm_add_epi32(a, _mm_shuffle_epi32::<0b01_00_11_10>(a));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use std::arch::wasm32::*;

    /// SIMD128: 8 values per step (`i16x8.load8x8_s` widens the row, `i32x4.dot_i16x8_s`
    /// multiplies and adds pairs).
    ///
    /// # Safety
    /// All slices must have one length.
    pub unsafe fn dots<const R: usize, const V: usize>(
        rows: [&[i8]; R],
        vecs: [&[i16]; V],
    ) -> [[i32; V]; R] {
        let n = rows.first().map_or(0, |r| r.len());
        let main = n - n % 8;
        let mut acc = [[i32x4_splat(0); V]; R];
        let mut j = 0;
        while j < main {
            let mut x = [i32x4_splat(0); R];
            for (x, row) in x.iter_mut().zip(rows) {
                // SAFETY: j + 8 <= n = row.len(): 8 bytes are in bounds.
                *x = unsafe { i16x8_load_extend_i8x8(row.as_ptr().wrapping_add(j)) };
            }
            for (v, vec) in vecs.iter().enumerate() {
                // SAFETY: j + 8 <= n = vec.len(): 16 bytes are in bounds.
                let y = unsafe { v128_load(vec.as_ptr().wrapping_add(j).cast()) };
                for (acc, x) in acc.iter_mut().zip(&x) {
                    acc[v] = i32x4_add(acc[v], i32x4_dot_i16x8(*x, y));
                }
            }
            j += 8;
        }
        let out = acc.map(|a| {
            a.map(|a| {
                i32x4_extract_lane::<0>(a)
                    .wrapping_add(i32x4_extract_lane::<1>(a))
                    .wrapping_add(i32x4_extract_lane::<2>(a))
                    .wrapping_add(i32x4_extract_lane::<3>(a))
            })
        });
        super::with_tail(out, rows, vecs, main)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, rng: &mut Rng) -> (Vec<i8>, Vec<i16>) {
        let a = (0..n)
            .map(|_| (rng.below(255) as i32 - 127) as i8)
            .collect();
        let b = (0..n)
            .map(|_| (rng.below(16383) as i32 - 8191) as i16)
            .collect();
        (a, b)
    }

    #[test]
    fn every_path_equals_the_plain_loop() {
        let mut rng = Rng::new(4);
        for n in [0, 1, 7, 8, 15, 16, 17, 100, 1280, MAX_LEN] {
            let (a0, b0) = random(n, &mut rng);
            let (a1, b1) = random(n, &mut rng);
            let (_, b2) = random(n, &mut rng);
            let want = portable([&a0[..], &a1[..]], [&b0[..], &b1[..], &b2[..]], 0);
            assert_eq!(dots([&a0[..], &a1[..]], [&b0[..], &b1[..], &b2[..]]), want);
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is part of x86-64; the lengths agree.
                let sse2 =
                    unsafe { x86::dots_sse2([&a0[..], &a1[..]], [&b0[..], &b1[..], &b2[..]]) };
                assert_eq!(sse2, want, "{n}");
            }
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let a = vec![-127i8; MAX_LEN];
        let b = vec![-8191i16; MAX_LEN];
        let want = 127 * 8191 * MAX_LEN as i64;
        assert_eq!(i64::from(dots([&a[..]], [&b[..]])[0][0]), want);
    }
}
