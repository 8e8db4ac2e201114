//! `quarry simulate`: replays a labeled embedding set to compare acquisition strategies.
//! `quarry bench`: times one learner refresh per strategy ([`bench`]).
//! `quarry embed` / `quarry merge`: embeddings files made natively, sharded, joined ([`embed`]).
//!
//! ```text
//! quarry simulate --embeddings E.npy --labels L.npy --strategy margin,random --init 10 --batch 10 \
//!     --rounds 20 --seeds 5 --test-fraction 0.3 --json out.json [--csv out.csv] [--svg out.svg]
//! quarry simulate --demo emoji ...   # the bundled demo embeddings and ground truth
//! ```
//! Bad input prints one line and exits with code 2.

// The CLI is where wall time is read (selection timings); core stays clock-free.
#![allow(clippy::disallowed_methods)]

mod bench;
mod chart;
mod embed;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::audit::{AuditMethod, AuditSettings};
use quarry_core::matrix::Matrix;
use quarry_core::simulate::{simulate, SimConfig, SimReport};

const USAGE: &str =
    "usage: quarry simulate (--embeddings FILE.npy|.csv --labels FILE.npy|.csv | --demo emoji) \
[--strategy a,b] [--init N] [--batch N] [--rounds N] [--seeds N] [--test-fraction F] [--seed N] \
[--subpool auto|anchoral|off] [--audit [--audit-every N] [--audit-max N] \
[--audit-method uniform|active]] [--candidate-sets] [--json OUT] [--csv OUT] [--svg OUT]";

struct Args {
    embeddings: Option<PathBuf>,
    labels: Option<PathBuf>,
    demo: Option<String>,
    config: SimConfig,
    json: Option<PathBuf>,
    csv: Option<PathBuf>,
    svg: Option<PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quarry: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(argv: &[String]) -> Result<(), String> {
    match argv.first().map(String::as_str) {
        Some("simulate") => {}
        Some("bench") => return bench::run(&argv[1..]),
        Some("embed") => return embed::run(&argv[1..]),
        Some("merge") => return embed::merge(&argv[1..]),
        _ => return Err(format!("{USAGE} | {} | {}", bench::USAGE, embed::USAGE)),
    }
    let args = parse(&argv[1..])?;
    let (x, y) = load(&args)?;
    let start = Instant::now();
    let mut clock = move || start.elapsed().as_secs_f64() * 1e3;
    let report = simulate(&x, &y, &args.config, &mut clock).map_err(|e| e.to_string())?;
    print_summary(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, to_csv(&report)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        chart::write_svg(&report, path)?;
    }
    Ok(())
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args {
        embeddings: None,
        labels: None,
        demo: None,
        config: SimConfig {
            strategies: vec![StrategyKind::Margin, StrategyKind::Random],
            init: 10,
            batch: 10,
            rounds: 20,
            seeds: 5,
            test_fraction: 0.3,
            base_seed: 0,
            subpool: Subpool::Auto,
            audit: None,
            candidate_sets: false,
        },
        json: None,
        csv: None,
        svg: None,
    };
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "--embeddings" => a.embeddings = Some(f.value(flag)?.into()),
            "--labels" => a.labels = Some(f.value(flag)?.into()),
            "--demo" => a.demo = Some(f.value(flag)?),
            "--strategy" => a.config.strategies = strategies(&f.value(flag)?)?,
            "--init" => a.config.init = f.number(flag)?,
            "--batch" => a.config.batch = f.number(flag)?,
            "--rounds" => a.config.rounds = f.number(flag)?,
            "--seeds" => a.config.seeds = f.number(flag)?,
            "--seed" => a.config.base_seed = f.number(flag)? as u64,
            "--test-fraction" => {
                let v = f.value(flag)?;
                a.config.test_fraction = v
                    .parse()
                    .map_err(|_| format!("--test-fraction takes a number, not '{v}'"))?
            }
            "--subpool" => {
                let v = f.value(flag)?;
                a.config.subpool = Subpool::from_name(&v)
                    .ok_or_else(|| format!("--subpool takes auto, anchoral or off, not '{v}'"))?
            }
            "--audit" => {
                a.config.audit = Some(a.config.audit.unwrap_or(AuditSettings::RECOMMENDED))
            }
            "--audit-every" => {
                let every = f.number(flag)?;
                a.config
                    .audit
                    .get_or_insert(AuditSettings::RECOMMENDED)
                    .every = every;
            }
            "--audit-max" => {
                let max = f.number(flag)?;
                a.config.audit.get_or_insert(AuditSettings::RECOMMENDED).max = max;
            }
            "--audit-method" => {
                let v = f.value(flag)?;
                a.config
                    .audit
                    .get_or_insert(AuditSettings::RECOMMENDED)
                    .method = match v.as_str() {
                    "uniform" => AuditMethod::Uniform,
                    "active" => AuditMethod::Active,
                    _ => return Err(format!("--audit-method takes uniform or active, not '{v}'")),
                }
            }
            "--candidate-sets" => a.config.candidate_sets = true,
            "--json" => a.json = Some(f.value(flag)?.into()),
            "--csv" => a.csv = Some(f.value(flag)?.into()),
            "--svg" => a.svg = Some(f.value(flag)?.into()),
            other => return Err(format!("unknown option {other}; {USAGE}")),
        }
    }
    Ok(a)
}

/// The command line's flags in order, each flag's value read on demand.
struct Flags<'a>(std::slice::Iter<'a, String>);

impl<'a> Flags<'a> {
    fn new(argv: &'a [String]) -> Flags<'a> {
        Flags(argv.iter())
    }

    fn next_flag(&mut self) -> Option<&'a str> {
        self.0.next().map(String::as_str)
    }

    /// The value after `flag`.
    fn value(&mut self, flag: &str) -> Result<String, String> {
        self.0
            .next()
            .cloned()
            .ok_or_else(|| format!("{flag} needs a value"))
    }

    /// The value after `flag`, a whole number.
    fn number(&mut self, flag: &str) -> Result<usize, String> {
        let v = self.value(flag)?;
        v.parse()
            .map_err(|_| format!("{flag} takes a whole number, not '{v}'"))
    }
}

/// Strategy names, comma-separated.
fn strategies(list: &str) -> Result<Vec<StrategyKind>, String> {
    list.split(',')
        .map(|s| {
            StrategyKind::from_name(s.trim()).ok_or_else(|| {
                let known: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown strategy '{s}' (known: {})", known.join(", "))
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.is_empty() {
        return Err(format!("{}: the file is empty", path.display()));
    }
    Ok(bytes)
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

fn load(args: &Args) -> Result<(Matrix, Vec<usize>), String> {
    let (emb, labels) = match (&args.demo, &args.embeddings, &args.labels) {
        (Some(name), None, None) => demo_paths(name)?,
        (None, Some(e), Some(l)) => (e.clone(), l.clone()),
        _ => {
            return Err(format!(
                "give --embeddings and --labels, or --demo; {USAGE}"
            ))
        }
    };
    let x = if is_npy(&emb) {
        quarry_core::npy::read_matrix(&read(&emb)?)
    } else {
        quarry_core::table::read_embeddings_csv(&String::from_utf8_lossy(&read(&emb)?))
    }
    .map_err(|e| format!("{}: {e}", emb.display()))?;
    let y = if is_npy(&labels) {
        quarry_core::npy::read_labels(&read(&labels)?)
    } else if args.demo.is_some() {
        demo_labels(&labels)
    } else {
        quarry_core::table::read_labels_csv(&String::from_utf8_lossy(&read(&labels)?))
            .map(|(ids, _)| ids)
    }
    .map_err(|e| format!("{}: {e}", labels.display()))?;
    if x.rows() != y.len() {
        return Err(format!(
            "{} has {} rows but {} has {} labels",
            emb.display(),
            x.rows(),
            labels.display(),
            y.len()
        ));
    }
    Ok((x, y))
}

fn demo_paths(name: &str) -> Result<(PathBuf, PathBuf), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/demo")
        .join(name);
    let emb = dir.join("embeddings.npy");
    if !emb.exists() {
        return Err(format!(
            "no bundled embeddings for demo '{name}' (have: emoji, fashion)"
        ));
    }
    Ok((emb, dir.join("demo.json")))
}

/// Ground truth of a bundled demo, in demo.json order, as class ids.
fn demo_labels(manifest: &Path) -> Result<Vec<usize>, quarry_core::Error> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| quarry_core::Error::Invalid(e.to_string()))
    };
    let m = quarry_core::dataset::DemoManifest::from_json(&read(manifest)?)?;
    m.truth_ids(&read(&manifest.with_file_name("truth.csv"))?)
}

fn print_summary(r: &SimReport) {
    println!(
        "{} items × {} dims, {} classes, {} seeds",
        r.items, r.dim, r.classes, r.seeds
    );
    println!(
        "{:<18} {:>8} {:>8} {:>12} {:>14}",
        "strategy", "AULC", "± std", "final acc", "select ms/rnd"
    );
    for s in &r.strategies {
        let last = s.rounds.last();
        let sel: Vec<f64> = s.rounds.iter().map(|r| r.select_ms_mean).collect();
        println!(
            "{:<18} {:>8.4} {:>8.4} {:>12.4} {:>14.2}",
            s.strategy,
            s.aulc_mean,
            s.aulc_std,
            last.map_or(0.0, |l| l.accuracy_mean),
            sel.iter().sum::<f64>() / sel.len().saturating_sub(1).max(1) as f64
        );
        if let Some(a) = &s.audit {
            println!(
                "{:<18} audit error {:+.4} ± {:.4} (SE), CV error {:+.4} ± {:.4}, coverage {:.1}% over {} pairs, stable at {} labels ({} seeds)",
                "",
                a.estimate_error_mean,
                a.estimate_error_se,
                a.cv_error_mean,
                a.cv_error_se,
                a.coverage * 100.0,
                a.pairs,
                a.stop_labels_mean.map_or("—".to_string(), |l| format!("{l:.0}")),
                a.stopped_seeds
            );
        }
        if let Some(c) = &s.candidate_sets {
            println!(
                "{:<18} candidate sets: {:.1}% fewer bits ({:.0} vs {:.0}) to {} labels{}, hit rate {:.1}%, mean set {:.2}; to reach the full list's final accuracy: {:.1}% ({} vs {} labels)",
                "",
                c.saving * 100.0,
                c.bits_candidate_sets,
                c.bits_full_list,
                c.labels,
                if c.reached { "" } else { " (never reached the full list's final accuracy)" },
                c.hit_rate * 100.0,
                c.mean_set_size,
                c.saving_to_reach * 100.0,
                c.labels,
                c.labels_full_list
            );
        }
    }
}

fn to_csv(r: &SimReport) -> String {
    let mut out = String::from("strategy,labels,accuracy_mean,accuracy_std,select_ms_mean\n");
    for s in &r.strategies {
        for round in &s.rounds {
            out.push_str(&format!(
                "{},{},{:.6},{:.6},{:.3}\n",
                s.strategy,
                round.labels,
                round.accuracy_mean,
                round.accuracy_std,
                round.select_ms_mean
            ));
        }
    }
    out
}
