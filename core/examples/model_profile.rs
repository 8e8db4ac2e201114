//! Where tract's time goes in one image model: every node of the optimised plan timed over a
//! few runs, summed by operator, on a fixed pattern input (batch 1, as the app runs it).
//!
//! Natively: `cargo run --release -p quarry-core --features embed --example model_profile --
//! assets/models/efficientnet_lite0_f32.onnx`. In WebAssembly with SIMD128, under Node's WASI
//! (V8, the engine of Chromium's workers):
//!
//! ```text
//! RUSTFLAGS="-C target-feature=+simd128" cargo build --release -p quarry-core --features embed \
//!     --example model_profile --target wasm32-wasip1
//! node e2e/wasi-run.mjs target/wasm32-wasip1/release/examples/model_profile.wasm \
//!     assets/models/efficientnet_lite0_f32.onnx
//! ```
//!
//! Used for the tract vs onnxruntime-web comparison in docs/evidence.md.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::SimpleState;

fn main() -> TractResult<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "assets/models/efficientnet_lite0_f32.onnx".into());
    let runs: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let plan = tract_onnx::onnx()
        .model_for_path(&path)?
        .with_input_fact(0, f32::fact([1, 3, 224, 224]).into())?
        .into_optimized()?
        .into_runnable()?;
    let input: Tensor = tract_ndarray::Array4::from_shape_fn((1, 3, 224, 224), |(_, c, y, x)| {
        ((c * 224 * 224 + y * 224 + x) as f32 * 0.37).sin() * 0.9
    })
    .into();
    plan.run(tvec!(input.clone().into()))?;

    let mut by_op: HashMap<String, (Duration, usize)> = HashMap::new();
    let mut state = SimpleState::new(&plan)?;
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let start = Instant::now();
        state.run_plan_with_eval(
            tvec!(input.clone().into()),
            |ctx, op_state, node, inputs| {
                let t = Instant::now();
                let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                let entry = by_op.entry(label(node)).or_default();
                entry.0 += t.elapsed();
                entry.1 += 1;
                out
            },
        )?;
        total += start.elapsed();
    }
    let per_run = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(runs);
    println!(
        "{path}: {:.1} ms per image (batch 1, mean of {runs} runs)",
        per_run(total)
    );
    let mut rows: Vec<_> = by_op.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1 .0));
    println!(
        "{:<48} {:>9} {:>6} {:>6}",
        "operator", "ms/image", "share", "nodes"
    );
    for (op, (time, count)) in rows.iter().take(16) {
        println!(
            "{op:<48} {:>9.2} {:>5.1}% {:>6}",
            per_run(*time),
            100.0 * time.as_secs_f64() / total.as_secs_f64(),
            count / runs as usize
        );
    }
    Ok(())
}

/// The operator's name, with the kernel shape for convolutions and matrix products.
fn label(node: &TypedNode) -> String {
    let name = node.op().name().to_string();
    let info = node.op().info().unwrap_or_default();
    match info
        .iter()
        .find(|l| l.contains("group") || l.contains("kernel"))
    {
        Some(detail) if name.contains("Conv") || name.contains("Mat") => {
            format!("{name} ({})", detail.chars().take(30).collect::<String>())
        }
        _ => name,
    }
}
