//! The Map: every embedded item on a 2-D projection of the pool (PCA, made by the learner:
//! `quarry_core::map`), drawn on one canvas as pixels (not thousands of DOM nodes), coloured
//! by the person's label, the model's prediction or its uncertainty, the queued items ringed.
//! Hovering shows the item; a click asks it; dragging draws a lasso whose items are selected,
//! and a class key (or a "Label selected" button) labels them, each its own answer. The last
//! frame's drawing time is on the canvas as `data-frame-ms` (the map benchmark reads it). A
//! component layer (ARCHITECTURE.md).

use leptos::prelude::*;
use quarry_core::acquire::margin;
use quarry_core::map::{Layout, Method};
use quarry_core::predict::{top, Predictions};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::controller::{ask_now, close_explore};
use super::explore::{open_map, set_map_tsne};
use super::predictions::refresh_view;
use super::similar::BulkLabels;
use super::state::MapTsne;
use super::state::{AppState, Explore};

/// Canvas side, in pixels.
const SIDE: u32 = 640;
/// Blank border around the points, in pixels.
const BORDER: f32 = 12.0;
/// How near (pixels) the pointer must be to a point to hover or click it.
const REACH: f32 = 7.0;

/// Class colours (RGB), cycled beyond twelve classes.
const PALETTE: [[u8; 3]; 12] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [57, 59, 121],
    [173, 73, 74],
];
const UNLABELED: [u8; 3] = [205, 205, 200];

/// What the colours show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Label,
    Prediction,
    Uncertainty,
}

fn to_pixel(v: f32) -> f32 {
    BORDER + v * (SIDE as f32 - 2.0 * BORDER)
}

fn to_map(px: f32) -> f32 {
    (px - BORDER) / (SIDE as f32 - 2.0 * BORDER)
}

fn class_colour(c: usize) -> [u8; 3] {
    PALETTE[c % PALETTE.len()]
}

/// The colour of every placed item, by `mode`.
fn colours(
    layout: &Layout,
    mode: Colour,
    labels: &[Option<usize>],
    predictions: Option<&Predictions>,
) -> Vec<[u8; 3]> {
    let rows = predictions.map(|p| p.by_item(labels.len()));
    layout
        .items
        .iter()
        .map(|&i| {
            let row = rows
                .as_ref()
                .and_then(|r| r.get(i).copied().flatten())
                .and_then(|r| predictions.map(|p| p.row(r)));
            match mode {
                Colour::Label => labels
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or(UNLABELED, class_colour),
                Colour::Prediction => row.map_or(UNLABELED, |r| class_colour(top(r).0)),
                Colour::Uncertainty => row.map_or(UNLABELED, |r| {
                    let margin = margin(r);
                    // Unsure (margin 0) dark red, sure (margin 1) pale.
                    let t = 1.0 - margin.clamp(0.0, 1.0);
                    let mix = |a: f32, b: f32| (a + (b - a) * t) as u8;
                    [mix(235.0, 170.0), mix(228.0, 20.0), mix(220.0, 30.0)]
                }),
            }
        })
        .collect()
}

/// Paints `size × size` pixels of `colour` centred on `(x, y)`.
fn dot(buf: &mut [u8], x: f32, y: f32, size: i32, colour: [u8; 3]) {
    let (cx, cy) = (x.round() as i32, y.round() as i32);
    let half = size / 2;
    for py in (cy - half)..(cy - half + size) {
        for px in (cx - half)..(cx - half + size) {
            if (0..SIDE as i32).contains(&px) && (0..SIDE as i32).contains(&py) {
                let at = (py as usize * SIDE as usize + px as usize) * 4;
                buf[at..at + 3].copy_from_slice(&colour);
                buf[at + 3] = 255;
            }
        }
    }
}

/// Draws the points (queued items ringed in black, selected ones in the accent colour) and the
/// lasso; returns the time it took, in milliseconds.
fn draw(
    canvas: &HtmlCanvasElement,
    layout: &Layout,
    colours: &[[u8; 3]],
    marked: &[u8],
    lasso: &[(f32, f32)],
) -> Result<f64, String> {
    let clock = web_sys::window().and_then(|w| w.performance());
    let start = clock.as_ref().map_or(0.0, |p| p.now());
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("the map's canvas has no 2-D context")?;
    let mut buf = vec![255u8; (SIDE * SIDE * 4) as usize];
    // Plain points first, marked ones on top.
    for pass in 0..2u8 {
        for (r, &colour) in colours.iter().enumerate() {
            if (marked[r] != 0) != (pass == 1) {
                continue;
            }
            let (x, y) = layout.point(r);
            let (x, y) = (to_pixel(x), to_pixel(y));
            match marked[r] {
                1 => dot(&mut buf, x, y, 7, [20, 20, 20]),
                2 => dot(&mut buf, x, y, 7, [47, 111, 223]),
                _ => {}
            }
            // Coloured points a little larger than the grey ones.
            let size = if colour == UNLABELED { 3 } else { 4 };
            dot(&mut buf, x, y, size, colour);
        }
    }
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&buf), SIDE, SIDE)
        .map_err(|e| format!("{e:?}"))?;
    ctx.put_image_data(&image, 0.0, 0.0)
        .map_err(|e| format!("{e:?}"))?;
    if lasso.len() > 1 {
        ctx.begin_path();
        ctx.move_to(f64::from(lasso[0].0), f64::from(lasso[0].1));
        for &(x, y) in &lasso[1..] {
            ctx.line_to(f64::from(x), f64::from(y));
        }
        ctx.close_path();
        ctx.set_stroke_style_str("#2f6fdf");
        ctx.set_line_width(1.5);
        ctx.stroke();
    }
    Ok(clock.map_or(0.0, |p| p.now()) - start)
}

/// What the Map's summary line says about `layout` (made in `ms`).
fn summary(layout: Option<&(Layout, f64)>, tsne: MapTsne) -> String {
    let hint = "Hover to see an item, click to ask it, drag a lasso to select unlabeled items.";
    let Some((l, ms)) = layout else {
        return "Laying out the pool…".to_string();
    };
    let n = l.items.len();
    match l.method {
        Method::Pca => format!(
            "{n} items (PCA: the two axes hold {:.0}% and {:.0}% of the spread; {ms:.0} ms). {hint}",
            l.explained[0] * 100.0,
            l.explained[1] * 100.0,
        ),
        Method::Tsne { pool, perplexity } => {
            let which = if n < pool {
                format!("{n} of {pool} items, a sample with every labeled and queued item in it")
            } else {
                format!("{n} items")
            };
            let state = match tsne.progress {
                Some(p) if p.done < p.total => "forming".to_string(),
                _ => format!("{:.1} s", ms / 1000.0),
            };
            format!(
                "{which} (t-SNE, perplexity {perplexity:.0}: near items stay near, the distances \
                 between groups mean little; {state}). {hint}"
            )
        }
    }
}

/// The progress bar of a t-SNE layout under way: done, total and what it is doing.
fn forming(tsne: MapTsne) -> Option<(f64, f64, String)> {
    let p = tsne.progress.filter(|p| tsne.on && p.done < p.total)?;
    let what = if p.searching {
        "Finding each item's nearest neighbours…"
    } else {
        "Forming the map…"
    };
    let share = 100.0 * p.done as f64 / p.total.max(1) as f64;
    Some((p.done as f64, p.total as f64, format!("{what} {share:.0}%")))
}

/// Pointer position on the canvas, in canvas pixels.
fn position(ev: &leptos::ev::MouseEvent) -> (f32, f32) {
    let canvas: HtmlCanvasElement = event_target(ev);
    let rect = canvas.get_bounding_client_rect();
    let scale = SIDE as f64 / rect.width().max(1.0);
    (
        ((f64::from(ev.client_x()) - rect.left()) * scale) as f32,
        ((f64::from(ev.client_y()) - rect.top()) * scale) as f32,
    )
}

#[component]
pub fn MapView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let mode = RwSignal::new(Colour::Label);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let lasso = RwSignal::new(Vec::<(f32, f32)>::new());
    let dragging = RwSignal::new(false);
    let hover = RwSignal::new(None::<(usize, f32, f32)>);
    let frame_ms = RwSignal::new(0.0f64);
    // New colours after every answer while the map is open.
    Effect::new(move |first: Option<()>| {
        state.update.track();
        if first.is_some() {
            refresh_view(state);
        }
    });
    let colours_now = Memo::new(move |_| {
        let labels: Vec<Option<usize>> = state.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    (0..s.len())
                        .map(|i| s.labels_of(i).first().copied())
                        .collect()
                })
                .unwrap_or_default()
        });
        state.layout.with(|l| {
            l.as_ref().map(|(l, _)| {
                state
                    .pool_predictions
                    .with(|p| colours(l, mode.get(), &labels, p.as_ref()))
            })
        })
    });
    let marks = Memo::new(move |_| {
        state.layout.with(|l| {
            let Some((l, _)) = l.as_ref() else {
                return Vec::new();
            };
            // 1 = queued, 2 = selected (wins), by item: one pass over each list, not a search
            // of them per point (a lasso may select thousands).
            let mut by_item = vec![0u8; state.session.with(|s| s.as_ref().map_or(0, |s| s.len()))];
            let mut mark = |i: usize, m: u8| {
                if let Some(slot) = by_item.get_mut(i) {
                    *slot = m;
                }
            };
            state
                .session
                .with(|s| s.iter().flat_map(|s| s.queue()).for_each(|&i| mark(i, 1)));
            state
                .selected
                .with(|sel| sel.iter().for_each(|&i| mark(i, 2)));
            l.items
                .iter()
                .map(|&i| by_item.get(i).copied().unwrap_or(0))
                .collect::<Vec<u8>>()
        })
    });
    Effect::new(move |_| {
        let (Some(el), Some(colours)) = (canvas.get(), colours_now.get()) else {
            return;
        };
        let marks = marks.get();
        let path = lasso.get();
        let drawn = state.layout.with_untracked(|l| {
            l.as_ref()
                .map(|(l, _)| draw(&el, l, &colours, &marks, &path))
        });
        match drawn {
            Some(Ok(ms)) => frame_ms.set(ms),
            Some(Err(e)) => state.report(e),
            None => {}
        }
    });
    let item_at = move |x: f32, y: f32| {
        state.layout.with_untracked(|l| {
            let (l, _) = l.as_ref()?;
            let reach = REACH / (SIDE as f32 - 2.0 * BORDER);
            l.nearest(to_map(x), to_map(y), reach)
                .map(|r| (l.items[r], l.point(r)))
        })
    };
    let on_down = move |ev: leptos::ev::MouseEvent| {
        dragging.set(true);
        lasso.set(vec![position(&ev)]);
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let (x, y) = position(&ev);
        if dragging.get_untracked() {
            lasso.update(|p| p.push((x, y)));
            hover.set(None);
        } else {
            hover.set(item_at(x, y).map(|(i, (px, py))| (i, to_pixel(px), to_pixel(py))));
        }
    };
    let on_up = move |ev: leptos::ev::MouseEvent| {
        if !dragging.get_untracked() {
            return;
        }
        dragging.set(false);
        let path = lasso.get_untracked();
        lasso.set(Vec::new());
        let (x0, x1, y0, y1) = path.iter().fold(
            (
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::INFINITY,
                f32::NEG_INFINITY,
            ),
            |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
        );
        if (x1 - x0).max(y1 - y0) < 4.0 {
            // A click: ask the item under the pointer.
            let (x, y) = position(&ev);
            if let Some((item, _)) = item_at(x, y) {
                state.explore.set(Explore::Off);
                ask_now(state, item);
            }
            return;
        }
        let polygon: Vec<(f32, f32)> = path.iter().map(|&(x, y)| (to_map(x), to_map(y))).collect();
        let inside = state.layout.with_untracked(|l| {
            l.as_ref()
                .map(|(l, _)| l.inside(&polygon))
                .unwrap_or_default()
        });
        // Labeled items stay out of a lasso: it is for labeling what is not yet labeled.
        let fresh: Vec<usize> = state.session.with_untracked(|s| {
            s.as_ref()
                .map(|s| {
                    inside
                        .iter()
                        .copied()
                        .filter(|&i| !s.is_labeled(i))
                        .collect()
                })
                .unwrap_or_default()
        });
        state.selected.set(fresh);
    };
    let classes = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    let legend = move || {
        (mode.get() != Colour::Uncertainty).then(|| {
            classes()
                .into_iter()
                .enumerate()
                .map(|(k, c)| {
                    let [r, g, b] = class_colour(k);
                    view! {
                        <li><span class="swatch" style:background=format!("rgb({r},{g},{b})")></span>{c}</li>
                    }
                    .into_any()
                })
                .chain(std::iter::once({
                    let [r, g, b] = UNLABELED;
                    let what = if mode.get() == Colour::Label { "not labeled yet" } else { "no guess yet" };
                    view! {
                        <li><span class="swatch" style:background=format!("rgb({r},{g},{b})")></span>{what}</li>
                    }
                    .into_any()
                }))
                .collect_view()
        })
    };
    let summary = move || {
        state
            .layout
            .with(|l| summary(l.as_ref(), state.map_tsne.get()))
    };
    let selected_count = move || state.selected.with(Vec::len);
    view! {
        <section class="map" aria-label="Map">
            <div class="map-controls">
                <label>"Colour by "
                    <select aria-label="Colour the map by" on:change=move |ev| mode.set(match super::select_value(&ev).as_str() {
                        "prediction" => Colour::Prediction,
                        "uncertainty" => Colour::Uncertainty,
                        _ => Colour::Label,
                    })>
                        <option value="label">"your labels"</option>
                        <option value="prediction">"the model's prediction"</option>
                        <option value="uncertainty">"the model's uncertainty"</option>
                    </select>
                </label>
                <label>"Layout "
                    <select aria-label="Lay the map out by" on:change=move |ev| set_map_tsne(state, super::select_value(&ev) == "tsne")>
                        <option value="pca" selected=move || !state.map_tsne.get().on>"PCA (every item, instant)"</option>
                        <option value="tsne" selected=move || state.map_tsne.get().on>"t-SNE (keeps neighbours together)"</option>
                    </select>
                </label>
                <button on:click=move |_| open_map(state)>"Lay out again"</button>
                <button on:click=move |_| close_explore(state)>"Close " <kbd>"Esc"</kbd></button>
            </div>
            <p class="muted" data-testid="map-summary">{summary}</p>
            {move || forming(state.map_tsne.get()).map(|(done, total, what)| view! {
                <p class="map-forming">
                    <progress max=total value=done aria-label="Map layout"></progress>
                    " " {what}
                </p>
            })}
            <BulkLabels testid="map-selected" />
            <Show when=move || selected_count() != 0>
                <button on:click=move |_| state.selected.set(Vec::new())>"Clear selection"</button>
            </Show>
            <div class="map-area">
                <canvas
                    node_ref=canvas
                    width=SIDE
                    height=SIDE
                    aria-label="Map of the pool"
                    data-frame-ms=move || format!("{:.2}", frame_ms.get())
                    data-points=move || state.layout.with(|l| l.as_ref().map_or(0, |(l, _)| l.items.len()))
                    on:mousedown=on_down
                    on:mousemove=on_move
                    on:mouseup=on_up
                    on:mouseleave=move |_| { hover.set(None); dragging.set(false); lasso.set(Vec::new()); }
                ></canvas>
                {move || hover.get().map(|(item, x, y)| view! { <HoverCard item x y /> })}
                <ul class="legend">{legend}</ul>
            </div>
        </section>
    }
}

/// The item under the pointer: its picture or text, name, label or guess.
#[component]
fn HoverCard(item: usize, x: f32, y: f32) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (name, status) = state.session.with_untracked(|s| {
        let Some(s) = s.as_ref() else {
            return (String::new(), String::new());
        };
        let status = if s.is_labeled(item) {
            let names: Vec<&str> = s
                .labels_of(item)
                .into_iter()
                .map(|c| s.classes()[c].as_str())
                .collect();
            format!("you: {}", names.join(", "))
        } else {
            state
                .pool_predictions
                .with_untracked(|p| {
                    p.as_ref().and_then(|p| p.of(item)).map(|row| {
                        let (c, pr) = top(row);
                        format!(
                            "model: {} {:.0}%",
                            s.classes().get(c).cloned().unwrap_or_default(),
                            pr * 100.0
                        )
                    })
                })
                .unwrap_or_else(|| "unlabeled".into())
        };
        (s.item_name(item).to_string(), status)
    });
    let content = state.item_content(item);
    let data_item = name.clone();
    view! {
        <div
            class="hover-card"
            data-testid="map-hover"
            data-item=data_item
            style:left=format!("{}px", x + 12.0)
            style:top=format!("{}px", y + 12.0)
        >
            {match content {
                Some((url, false)) => view! { <img src=url alt="" /> }.into_any(),
                Some((text, true)) => view! { <p class="tile-text">{text}</p> }.into_any(),
                None => ().into_any(),
            }}
            <strong>{name}</strong>
            <span class="muted">{status}</span>
        </div>
    }
}
