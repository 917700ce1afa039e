//! The burst's timeline chart (plotters, SVG): invocations in flight and workflows
//! completed over time, one line per scenario (its median run).

use std::path::Path;

use plotters::prelude::*;

/// One scenario's series.
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// `(seconds, invocations in flight)` at every change.
    pub in_flight: &'a [(f64, u64)],
    /// Seconds at which each workflow completed, sorted.
    pub completed: &'a [f64],
}

const COLORS: [RGBColor; 6] = [
    RGBColor(206, 66, 43),
    RGBColor(243, 156, 18),
    RGBColor(142, 68, 173),
    RGBColor(39, 174, 96),
    RGBColor(55, 118, 171),
    RGBColor(90, 90, 90),
];

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing the burst chart: {e}")
}

/// Writes the SVG: invocations in flight (left) and workflows completed (right) over the
/// first `until` seconds.
pub fn draw(path: &Path, series: &[Series<'_>], until: f64) -> Result<(), String> {
    let root = SVGBackend::new(path, (1260, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((1, 2));
    let most = series
        .iter()
        .flat_map(|s| s.in_flight.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let total = series
        .iter()
        .map(|s| s.completed.len())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let lines = |s: &Series<'_>| -> Vec<(f64, f64)> {
        // A step line: each value holds until the next change.
        let mut out = vec![(0.0, 0.0)];
        for &(t, n) in s.in_flight.iter().filter(|p| p.0 <= until) {
            let last = out.last().map_or(0.0, |p| p.1);
            out.push((t, last));
            out.push((t, n as f64));
        }
        out
    };
    let done = |s: &Series<'_>| -> Vec<(f64, f64)> {
        let mut out = vec![(0.0, 0.0)];
        for (i, &t) in s.completed.iter().enumerate() {
            out.push((t, i as f64));
            out.push((t, (i + 1) as f64));
        }
        out
    };
    for (k, (title, y_max, y_desc)) in [
        ("Invocations in flight", most * 1.1, "invocations"),
        ("Workflows completed", total * 1.05, "workflows"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut chart = ChartBuilder::on(&areas[k])
            .caption(title, ("sans-serif", 17))
            .margin(12)
            .y_label_area_size(50)
            .x_label_area_size(35)
            .build_cartesian_2d(0.0..until, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the burst started")
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let points = if k == 0 { lines(s) } else { done(s) };
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(s.label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .position(if k == 0 {
                SeriesLabelPosition::UpperRight
            } else {
                SeriesLabelPosition::LowerRight
            })
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}
