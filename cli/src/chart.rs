//! The learning curves as an SVG chart (plotters).

use std::path::Path;

use plotters::prelude::*;
use quarry_core::simulate::SimReport;

const COLOURS: [RGBColor; 9] = [
    RGBColor(47, 111, 223),
    RGBColor(214, 96, 77),
    RGBColor(46, 160, 67),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Writes accuracy-vs-labels curves (mean over seeds, one line per strategy) to `path`.
///
/// # Errors
/// The drawing backend's message when the file cannot be written.
pub fn write_svg(report: &SimReport, path: &Path) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let max_x = report
        .strategies
        .iter()
        .flat_map(|s| s.rounds.iter().map(|r| r.labels))
        .max()
        .unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Held-out accuracy against labels (mean over seeds)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..max_x, 0.0..1.0)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("labels")
        .y_desc("accuracy")
        .draw()
        .map_err(|e| err(&e))?;
    for (k, s) in report.strategies.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                s.rounds.iter().map(|r| (r.labels as f64, r.accuracy_mean)),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(format!("{} (AULC {:.3})", s.strategy, s.aulc_mean))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
