//! The learning curve as an SVG chart: accuracy (0–100%) against number of labels.

use leptos::prelude::*;

use super::state::AppState;

const W: f64 = 280.0;
const H: f64 = 160.0;
const LEFT: f64 = 34.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;
const RIGHT: f64 = 10.0;

#[component]
pub fn LearningCurve() -> impl IntoView {
    let state = expect_context::<AppState>();
    let points = move || {
        state
            .update
            .with(|u| u.as_ref().map(|u| u.curve.clone()).unwrap_or_default())
    };
    let max_x = move || points().last().map_or(10, |p| p.labels.max(10)) as f64;
    let sx = move |x: f64| LEFT + (W - LEFT - RIGHT) * x / max_x();
    let sy = |y: f64| TOP + (H - TOP - BOTTOM) * (1.0 - y);
    let path = move || {
        points()
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p.labels as f64), sy(p.accuracy)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <svg
            class="curve"
            viewBox=format!("0 0 {W} {H}")
            role="img"
            aria-label="Learning curve: accuracy against number of labels"
        >
            {[0.0, 0.5, 1.0]
                .into_iter()
                .map(|y| {
                    view! {
                        <line class="grid" x1=LEFT x2=W - RIGHT y1=sy(y) y2=sy(y) />
                        <text class="tick" x=LEFT - 4.0 y=sy(y) + 3.0 text-anchor="end">
                            {format!("{:.0}%", y * 100.0)}
                        </text>
                    }
                })
                .collect_view()}
            <line class="axis" x1=LEFT x2=W - RIGHT y1=H - BOTTOM y2=H - BOTTOM />
            <text class="tick" x=LEFT y=H - 6.0 text-anchor="middle">"0"</text>
            <text class="tick" x=W - RIGHT y=H - 6.0 text-anchor="end">{move || format!("{:.0}", max_x())}</text>
            <text class="axis-label" x=(LEFT + W - RIGHT) / 2.0 y=H - 6.0 text-anchor="middle">"labels"</text>
            <polyline class="line" points=path />
            {move || {
                points()
                    .into_iter()
                    .map(|p| {
                        view! {
                            <circle class="dot" cx=sx(p.labels as f64) cy=sy(p.accuracy) r="2.5">
                                <title>{format!("{} labels: {:.0}%", p.labels, 100.0 * p.accuracy)}</title>
                            </circle>
                        }
                    })
                    .collect_view()
            }}
        </svg>
    }
}
