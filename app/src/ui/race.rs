//! The classroom race: on a demo, strategies learn side by side from the demo's true classes
//! (the simulator's protocol, run round by round in the learner worker: `quarry_core::
//! simulate::race`). Their learning curves grow live — the mean over seeds drawn as a line, the
//! lowest-to-highest seed shaded around it — with the items each one asked last. Space starts
//! and pauses, → steps one round; presenter mode is large type on high contrast. A component
//! layer (ARCHITECTURE.md).

use leptos::prelude::*;
use quarry_core::simulate::race::{spread, Spread};

use super::explore::{open_race, race_step, race_toggle};
use super::state::{AppState, Items};

const W: f64 = 720.0;
const H: f64 = 380.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// Lane colours, in strategy order (random grey, then distinct hues).
const COLOURS: [&str; 5] = ["#8a8f98", "#d9480f", "#1c7ed6", "#2b8a3e", "#9c36b5"];

fn colour(s: usize) -> &'static str {
    COLOURS[s % COLOURS.len()]
}

/// How a strategy is named on the race: the default policy by what it is.
fn label(kind: quarry_core::acquire::StrategyKind) -> String {
    match kind {
        quarry_core::acquire::StrategyKind::Auto => "default policy".to_string(),
        k => k.name().to_string(),
    }
}

#[component]
pub fn RaceView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let race = state.race;
    let curves = Memo::new(move |_| {
        race.with(|r| {
            (0..r.strategies.len())
                .map(|s| spread(&r.frames, s))
                .collect::<Vec<Vec<Spread>>>()
        })
    });
    // Axes: labels from the first to the last round planned; accuracy over what was seen.
    let x_max = move || {
        curves.with(|c| {
            c.iter()
                .flat_map(|c| c.last())
                .map(|p| p.labels)
                .fold(210.0f64, f64::max)
        })
    };
    let y_range = move || {
        curves.with(|c| {
            let (lo, hi) = c.iter().flatten().fold((1.0f64, 0.0f64), |(lo, hi), p| {
                (lo.min(p.low), hi.max(p.high))
            });
            if lo > hi {
                (0.0, 1.0)
            } else {
                ((lo - 0.05).clamp(0.0, 0.9), (hi + 0.02).min(1.0))
            }
        })
    };
    let sx = move |x: f64| LEFT + (W - LEFT - RIGHT) * x / x_max();
    let sy = move |y: f64| {
        let (lo, hi) = y_range();
        TOP + (H - TOP - BOTTOM) * (1.0 - (y - lo) / (hi - lo).max(1e-6))
    };
    let lanes = move || {
        curves
            .get()
            .into_iter()
            .enumerate()
            .map(|(s, c)| {
                let line = c
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", sx(p.labels), sy(p.mean)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let band = c
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", sx(p.labels), sy(p.high)))
                    .chain(
                        c.iter()
                            .rev()
                            .map(|p| format!("{:.1},{:.1}", sx(p.labels), sy(p.low))),
                    )
                    .collect::<Vec<_>>()
                    .join(" ");
                view! {
                    <g class="lane" data-strategy=s>
                        <polygon class="spread" points=band fill=colour(s) />
                        <polyline class="mean" points=line stroke=colour(s) />
                    </g>
                }
            })
            .collect_view()
    };
    let ticks = move || {
        let (lo, hi) = y_range();
        let step = if hi - lo > 0.4 { 0.1 } else { 0.05 };
        let mut t = (lo / step).ceil() * step;
        let mut out = Vec::new();
        while t <= hi + 1e-9 {
            out.push(t);
            t += step;
        }
        out.into_iter()
            .map(|y| {
                view! {
                    <line class="grid" x1=LEFT x2=W - RIGHT y1=sy(y) y2=sy(y) />
                    <text class="tick" x=LEFT - 6.0 y=sy(y) + 4.0 text-anchor="end">{format!("{:.0}%", y * 100.0)}</text>
                }
            })
            .collect_view()
    };
    let status = move || {
        race.with(|r| {
            if let Some(e) = &r.error {
                return e.clone();
            }
            if !r.ready {
                return "Setting the race up…".to_string();
            }
            let labels = r
                .frames
                .last()
                .map_or(0, |f| f.points.first().map_or(0, |p| p.labels));
            match (r.done(), r.running, r.frames.is_empty()) {
                (true, _, _) => format!("Finished at {labels} labels · Space races again"),
                (_, true, _) => format!("Racing · {labels} labels · Space pauses"),
                (_, false, true) => "Ready · Space starts, → steps one round".to_string(),
                _ => format!("Paused at {labels} labels · Space goes on, → steps"),
            }
        })
    };
    let legend = move || {
        let strategies = race.with(|r| r.strategies.clone());
        strategies
            .into_iter()
            .enumerate()
            .map(|(s, kind)| {
                let now = move || {
                    curves.with(|c| {
                        c.get(s).and_then(|c| c.last()).map(|p| {
                            format!(
                                "{:.1}% (seeds {:.1}–{:.1}%)",
                                p.mean * 100.0,
                                p.low * 100.0,
                                p.high * 100.0
                            )
                        })
                    })
                };
                view! {
                    <li data-strategy=s>
                        <svg class="swatch-line" viewBox="0 0 24 8" aria-hidden="true"><line x1="0" y1="4" x2="24" y2="4" stroke=colour(s) /></svg>
                        <strong>{label(kind)}</strong>
                        " " <span class="race-accuracy">{now}</span>
                        <Asked strategy=s />
                    </li>
                }
            })
            .collect_view()
    };
    let seeds = move || {
        race.with(|r| {
            r.frames
                .first()
                .map_or(0, |f| f.points.iter().filter(|p| p.strategy == 0).count())
        })
    };
    let presenter = move || race.with(|r| r.presenter);
    view! {
        <section class="race" class:presenter=presenter aria-label="Race">
            <div class="race-controls">
                <button class="primary" aria-keyshortcuts="Space" on:click=move |_| race_toggle(state)>
                    {move || if race.with(|r| r.running) { "Pause" } else { "Start" }} " " <kbd>"Space"</kbd>
                </button>
                <button aria-keyshortcuts="ArrowRight" on:click=move |_| race_step(state)>"Step " <kbd>"→"</kbd></button>
                <button on:click=move |_| open_race(state)>"Restart"</button>
                <button aria-pressed=move || presenter().to_string() on:click=move |_| race.update(|r| r.presenter = !r.presenter)>
                    "Presenter mode " <kbd>"P"</kbd>
                </button>
                <span class="race-status" role="status" data-testid="race-status">{status}</span>
            </div>
            <svg class="race-chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label="Race: accuracy against labels for each strategy">
                {ticks}
                <line class="axis" x1=LEFT x2=W - RIGHT y1=H - BOTTOM y2=H - BOTTOM />
                <text class="tick" x=LEFT y=H - BOTTOM + 18.0 text-anchor="middle">"0"</text>
                <text class="tick" x=W - RIGHT y=H - BOTTOM + 18.0 text-anchor="end">{move || format!("{:.0}", x_max())}</text>
                <text class="axis-label" x=(LEFT + W - RIGHT) / 2.0 y=H - 6.0 text-anchor="middle">"labels asked"</text>
                {lanes}
            </svg>
            <ul class="race-legend">{legend}</ul>
            <p class="muted">{move || format!("Each line is the mean accuracy on held-out items over {} seeds; the shaded band runs from the worst seed to the best.", seeds())}
                " Every strategy starts from the same random labels for a seed; the items under each name are the ones it asked for last."
            </p>
        </section>
    }
}

/// The items strategy `strategy` asked for in the last round (first seed), as thumbnails.
#[component]
fn Asked(strategy: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let items = move || {
        state.race.with(|r| {
            r.frames
                .iter()
                .rev()
                .find_map(|f| {
                    f.points
                        .iter()
                        .find(|p| p.strategy == strategy && p.seed == 0 && !p.asked.is_empty())
                        .map(|p| p.asked.clone())
                })
                .unwrap_or_default()
        })
    };
    let shown = move || {
        let items = items();
        state.dataset.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Images(urls)) => items
                .iter()
                .filter_map(|&i| urls.get(i).cloned())
                .take(10)
                .map(|u| view! { <img src=u alt="" /> }.into_any())
                .collect_view(),
            Some(Items::Texts(texts)) => items
                .iter()
                .filter_map(|&i| texts.get(i))
                .map(|t| quarry_core::shown::shown(t, quarry_core::shown::LINE_CHARS).into_owned())
                .take(3)
                .map(|t| view! { <span class="asked-text">{t}</span> }.into_any())
                .collect_view(),
            None => Vec::new().collect_view(),
        })
    };
    view! { <div class="asked">{shown}</div> }
}
