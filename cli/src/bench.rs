//! `quarry bench`: one learner refresh per strategy, exactly as the app runs it after an answer
//! (the learner on 8-bit rows, the head refit warm, the estimate, the audits, the selection), on a
//! seeded synthetic pool or on given embeddings. Prints a table and writes
//! `{"backend": "cpu", "strategies": {name: {"refresh_ms", "select_ms", "peak_extra_mib"}}}`
//! (`"backend": "gpu"` and `"adapter": name` with `--backend gpu`: the passes the GPU takes run
//! there, through `quarry-gpu` on the first adapter wgpu finds, after its self-check).
//!
//! ```text
//! quarry bench --pool 100000 --dim 1280 --classes 10 --labels 200 --batch 100 \
//!     --strategy auto,margin,badge,coreset --json out.json
//! quarry bench --embeddings E.npy --labels Y.npy --labels 200 ...   # a pool of your own
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use quarry_core::acquire::StrategyKind;
use quarry_core::bench::Bench;
use quarry_core::compute::now;
use quarry_gpu::Gpu;

#[path = "../../core/examples/support/rss.rs"]
mod rss;

pub const USAGE: &str = "usage: quarry bench [--pool N] [--dim D] [--classes C] [--labels L] \
[--batch B] [--strategy a,b] [--backend cpu|gpu] [--embeddings E.npy --labels Y.npy] [--json OUT]";

struct Args {
    pool: usize,
    dim: usize,
    classes: usize,
    labels: usize,
    batch: usize,
    strategies: Vec<StrategyKind>,
    embeddings: Option<PathBuf>,
    truth: Option<PathBuf>,
    json: Option<PathBuf>,
    gpu: bool,
}

/// One strategy's refresh.
struct Timing {
    refresh_ms: f64,
    select_ms: f64,
    peak_extra_mib: f64,
}

/// The value after `flag`, a whole number above 0.
fn positive(f: &mut super::Flags, flag: &str) -> Result<usize, String> {
    Some(f.number(flag)?)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{flag} takes a whole number above 0"))
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args {
        pool: 100_000,
        dim: 1280,
        classes: 10,
        labels: 200,
        batch: 100,
        strategies: vec![StrategyKind::Auto, StrategyKind::Margin],
        embeddings: None,
        truth: None,
        json: None,
        gpu: false,
    };
    let mut f = super::Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "--pool" => a.pool = positive(&mut f, flag)?,
            "--dim" => a.dim = positive(&mut f, flag)?,
            "--classes" => a.classes = positive(&mut f, flag)?,
            "--batch" => a.batch = positive(&mut f, flag)?,
            // A count, or (with --embeddings) the file of the pool's classes.
            "--labels" => {
                let v = f.value(flag)?;
                match v.parse::<usize>() {
                    Ok(n) => a.labels = n,
                    Err(_) => a.truth = Some(v.into()),
                }
            }
            "--embeddings" => a.embeddings = Some(f.value(flag)?.into()),
            "--strategy" => a.strategies = super::strategies(&f.value(flag)?)?,
            "--backend" => match f.value(flag)?.as_str() {
                "cpu" => a.gpu = false,
                "gpu" => a.gpu = true,
                v => return Err(format!("--backend takes cpu or gpu, not '{v}'")),
            },
            "--json" => a.json = Some(f.value(flag)?.into()),
            other => return Err(format!("unknown option {other}; {USAGE}")),
        }
    }
    if a.classes < 2 {
        return Err("--classes needs at least 2".into());
    }
    Ok(a)
}

/// The measured setup: a pool read from `--embeddings`/`--labels`, or the seeded synthetic one.
fn bench(a: &mut Args) -> Result<Bench, String> {
    match (&a.embeddings, &a.truth) {
        (Some(e), Some(t)) => {
            let read =
                |p: &PathBuf| std::fs::read(p).map_err(|err| format!("{}: {err}", p.display()));
            let x = quarry_core::npy::read_matrix(&read(e)?).map_err(|err| err.to_string())?;
            let y = quarry_core::npy::read_labels(&read(t)?).map_err(|err| err.to_string())?;
            if x.rows() != y.len() {
                return Err(format!("{} rows but {} classes", x.rows(), y.len()));
            }
            a.pool = x.rows();
            a.dim = x.cols();
            a.classes = y.iter().max().map_or(0, |m| m + 1).max(2);
            check_counts(a)?;
            let rows = (0..x.rows()).map(|r| x.row(r));
            Bench::new(rows, &y, a.classes, a.labels, a.batch).map_err(|e| e.to_string())
        }
        (None, None) => {
            check_counts(a)?;
            Bench::synthetic(a.pool, a.dim, a.classes, a.labels, a.batch).map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "--embeddings needs --labels FILE and the other way round; {USAGE}"
        )),
    }
}

fn check_counts(a: &Args) -> Result<(), String> {
    if a.labels >= a.pool {
        return Err(format!(
            "--labels {} leaves nothing to pick from {}",
            a.labels, a.pool
        ));
    }
    Ok(())
}

pub fn run(argv: &[String]) -> Result<(), String> {
    let mut a = parse(argv)?;
    let (before, _) = rss::rss_kib();
    let setup = bench(&mut a)?;
    let (after, _) = rss::rss_kib();
    let mut gpu = if a.gpu { Some(gpu(&setup)?) } else { None };
    let backend = match &gpu {
        Some(g) => format!("gpu ({}), CPU one thread for the rest", g.name()),
        None => "cpu, one thread".into(),
    };
    println!(
        "pool: {} × {} (8-bit rows), {} classes, {} labels, batch {}; backend {backend}",
        a.pool, a.dim, a.classes, a.labels, a.batch
    );
    println!(
        "the learner holding the pool: {:.0} MiB ({:.0} MiB of it the 8-bit rows)",
        after.saturating_sub(before) as f64 / 1024.0,
        (a.pool * a.dim) as f64 / (1024.0 * 1024.0)
    );
    println!("| strategy | refresh | of which fit + estimate | of which selection | peak extra |");
    println!("|---|---|---|---|---|");
    let start = Instant::now();
    let mut clock = move || start.elapsed().as_secs_f64() * 1e3;
    let mut report: BTreeMap<String, Timing> = BTreeMap::new();
    for &kind in &a.strategies {
        // The whole pool, AnchorAL off, unless the strategy is the default policy with its default.
        let (mut l, input) = setup.prepared(kind);
        rss::reset_peak();
        let (base, _) = rss::rss_kib();
        let (_, times) = match gpu.as_mut() {
            Some(g) => now(l.refresh_on(&input, &mut clock, g)),
            None => l.refresh_timed(&input, &mut clock),
        }
        .map_err(|e| e.to_string())?;
        if let Some(why) = gpu.as_ref().and_then(Gpu::fault) {
            return Err(format!("the GPU failed during {}: {why}", kind.name()));
        }
        let (_, peak) = rss::rss_kib();
        let t = Timing {
            refresh_ms: times.total_ms,
            select_ms: times.select_ms,
            peak_extra_mib: peak.saturating_sub(base) as f64 / 1024.0,
        };
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} MiB |",
            kind.name(),
            t.refresh_ms,
            times.fit_ms,
            t.select_ms,
            t.peak_extra_mib
        );
        report.insert(kind.name().to_string(), t);
    }
    if let Some(path) = &a.json {
        let strategies: serde_json::Map<String, serde_json::Value> = report
            .iter()
            .map(|(name, t)| {
                let v = serde_json::json!({
                    "refresh_ms": t.refresh_ms,
                    "select_ms": t.select_ms,
                    "peak_extra_mib": t.peak_extra_mib,
                });
                (name.clone(), v)
            })
            .collect();
        let mut json = serde_json::json!({ "backend": "cpu", "strategies": strategies });
        if let Some(g) = &gpu {
            json["backend"] = "gpu".into();
            json["adapter"] = g.name().into();
        }
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The GPU backend, self-checked, with the pool's rows already uploaded (once per pool, as in
/// the app, so the refreshes measured do not pay for it).
fn gpu(setup: &Bench) -> Result<Gpu, String> {
    let mut gpu = now(Gpu::new(true)).map_err(|e| e.to_string())?;
    now(quarry_gpu::self_check(&mut gpu)).map_err(|e| e.to_string())?;
    if gpu.is_fallback() {
        println!(
            "note: {} is a software adapter: its times say nothing of a GPU's",
            gpu.name()
        );
    }
    let start = Instant::now();
    let (learner, _) = setup.prepared(StrategyKind::Margin);
    now(learner.predictions_on(&mut gpu));
    println!(
        "rows uploaded to the GPU once: {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(gpu)
}
