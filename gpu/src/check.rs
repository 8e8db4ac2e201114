//! The start-up self-check: the GPU must agree with the CPU on a small seeded pool before the
//! learner trusts it.

use quarry_core::acquire::StrategyKind;
use quarry_core::bench::Bench;
use quarry_core::compute::now;

use crate::{Gpu, GpuError};

/// Runs the refresh of a small seeded pool (1,000 rows × 96 values, 4 classes, 30 labels) with
/// the CPU and with `gpu`, for Core-Set (k-center on the GPU) and margin (probabilities on the
/// GPU): the queues and every probability must agree, and the GPU must have taken the passes.
/// Leaves no rows mirrored.
///
/// # Errors
/// [`GpuError::SelfCheck`] saying what disagreed.
pub async fn self_check(gpu: &mut Gpu) -> Result<(), GpuError> {
    let fail = |why: String| GpuError::SelfCheck(why);
    let bench = Bench::synthetic(1000, 96, 4, 30, 12).map_err(|e| fail(e.to_string()))?;
    let result = async {
        for kind in [StrategyKind::CoreSet, StrategyKind::Margin] {
            let (mut cpu, input) = bench.prepared(kind);
            let mut on_gpu = cpu.clone();
            let expected = cpu.refresh(&input).map_err(|e| fail(e.to_string()))?;
            let mut clock = || 0.0;
            let (got, _) = on_gpu
                .refresh_on(&input, &mut clock, gpu)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if let Some(why) = gpu.fault() {
                return Err(fail(format!("{} failed on the device: {why}", kind.name())));
            }
            if got.queue != expected.queue {
                return Err(fail(format!(
                    "{} picked {:?}, the CPU {:?}",
                    kind.name(),
                    got.queue,
                    expected.queue
                )));
            }
            if on_gpu.predictions_on(gpu).await
                != now(cpu.predictions_on(&mut quarry_core::compute::Cpu))
            {
                return Err(fail("the class probabilities differ".into()));
            }
        }
        Ok(())
    }
    .await;
    gpu.forget();
    if let Err(e) = &result {
        gpu.retire(&e.to_string());
    }
    result
}
