//! The refresh `quarry bench` times, as the app's learner worker runs it: quarry-core in wasm32
//! with SIMD128, timed with the page's clock. `run.mjs` drives it; plain `extern "C"` exports
//! (numbers only), so no JS glue is needed.

use std::cell::{Cell, RefCell};

use quarry_core::acquire::StrategyKind;
use quarry_core::bench::Bench;

#[link(wasm_import_module = "bench")]
extern "C" {
    /// `performance.now()` of the worker.
    fn now() -> f64;
}

thread_local! {
    static SETUP: RefCell<Option<Bench>> = const { RefCell::new(None) };
    static TIMES: Cell<[f64; 3]> = const { Cell::new([0.0; 3]) };
}

fn clock() -> f64 {
    // SAFETY: an import that takes nothing and returns a number.
    unsafe { now() }
}

/// Builds the synthetic pool and the learner one answer behind; 0 on success.
#[no_mangle]
pub extern "C" fn setup(pool: u32, dim: u32, classes: u32, labels: u32, batch: u32) -> i32 {
    let b = Bench::synthetic(
        pool as usize,
        dim as usize,
        classes as usize,
        labels as usize,
        batch as usize,
    );
    match b {
        Ok(b) => {
            SETUP.set(Some(b));
            0
        }
        Err(_) => 1,
    }
}

/// Times one refresh with strategy `StrategyKind::ALL[kind]`; 0 on success. Read the times with
/// [`total_ms`], [`fit_ms`], [`select_ms`].
#[no_mangle]
pub extern "C" fn run(kind: u32) -> i32 {
    let Some(&kind) = StrategyKind::ALL.get(kind as usize) else {
        return 2;
    };
    SETUP.with_borrow(|s| {
        let Some(s) = s else { return 1 };
        let (mut learner, input) = s.prepared(kind);
        let mut c = clock;
        match learner.refresh_timed(&input, &mut c) {
            Ok((_, t)) => {
                TIMES.set([t.total_ms, t.fit_ms, t.select_ms]);
                0
            }
            Err(_) => 3,
        }
    })
}

#[no_mangle]
pub extern "C" fn total_ms() -> f64 {
    TIMES.get()[0]
}

#[no_mangle]
pub extern "C" fn fit_ms() -> f64 {
    TIMES.get()[1]
}

#[no_mangle]
pub extern "C" fn select_ms() -> f64 {
    TIMES.get()[2]
}

/// Best time of `runs` exact neighbour searches ("More like this": the 48 nearest of one item)
/// over the whole pool, in milliseconds; negative on failure.
#[no_mangle]
pub extern "C" fn similar(runs: u32) -> f64 {
    use quarry_core::neighbours::Query;
    SETUP.with_borrow(|s| {
        let Some(s) = s else { return -1.0 };
        let mut best = f64::INFINITY;
        for r in 0..runs.max(1) {
            let start = clock();
            if s.learner().similar(&Query::Item(r as usize * 7), 48).is_err() {
                return -2.0;
            }
            best = best.min(clock() - start);
        }
        best
    })
}

/// Time of one Map layout (PCA) of the whole pool, in milliseconds; negative on failure.
#[no_mangle]
pub extern "C" fn map() -> f64 {
    SETUP.with_borrow(|s| {
        let Some(s) = s else { return -1.0 };
        let start = clock();
        let layout = s.learner().map();
        let ms = clock() - start;
        if layout.items.is_empty() {
            -2.0
        } else {
            ms
        }
    })
}

/// Times the refresh with strategy `StrategyKind::ALL[kind]` on the learner itself, not a copy
/// (what the app's learner holds: see [`memory_bytes`]); 0 on success, times as for [`run`].
#[no_mangle]
pub extern "C" fn run_in_place(kind: u32) -> i32 {
    let Some(&kind) = StrategyKind::ALL.get(kind as usize) else {
        return 2;
    };
    SETUP.with_borrow_mut(|s| {
        let Some(s) = s else { return 1 };
        let mut c = clock;
        match s.refresh_in_place(kind, &mut c) {
            Ok(t) => {
                TIMES.set([t.total_ms, t.fit_ms, t.select_ms]);
                0
            }
            Err(_) => 3,
        }
    })
}

/// Bytes of this module's memory. A wasm memory never shrinks: this is its peak so far.
#[no_mangle]
pub extern "C" fn memory_bytes() -> f64 {
    core::arch::wasm32::memory_size(0) as f64 * 65536.0
}
