//! The bench's chart, drawn with plotters as SVG: per invocation busy vs billed time, peak
//! RSS, and billed GB-seconds per 1000 workflows, for each peer.

use std::path::Path;

use plotters::prelude::*;

use crate::bench::{LoopRows, Sample};

const BUSY: RGBColor = RGBColor(46, 134, 193);
const BILLED: RGBColor = RGBColor(231, 76, 60);
const RUST: RGBColor = RGBColor(206, 66, 43);
const PYTHON: RGBColor = RGBColor(55, 118, 171);

const RUST_IDLE: RGBColor = RGBColor(243, 156, 18);

fn peer_color(peer: &str) -> RGBColor {
    match peer {
        "rust" => RUST,
        "rust-idle" => RUST_IDLE,
        _ => PYTHON,
    }
}

/// One bar.
struct Bar {
    value: f64,
    color: RGBColor,
}

type DrawResult = Result<(), String>;

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing the chart: {e}")
}

/// Draws grouped bars: `groups` of `(label, bars)`; each bar labelled with its value.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    unit: &str,
    groups: &[(String, Vec<Bar>)],
    legend: &[(&str, RGBColor)],
) -> DrawResult {
    let max = groups
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.value))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let n = groups.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 17))
        .margin(12)
        .y_label_area_size(55)
        .x_label_area_size(10)
        .build_cartesian_2d(
            0.0..n,
            -max * 0.12..max * if legend.is_empty() { 1.18 } else { 1.45 },
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc(unit)
        .y_label_formatter(&|v| {
            if *v < 0.0 {
                String::new()
            } else {
                format!("{v:.0}")
            }
        })
        .draw()
        .map_err(err)?;
    for (i, (label, bars)) in groups.iter().enumerate() {
        let width = 0.7 / bars.len().max(1) as f64;
        for (k, bar) in bars.iter().enumerate() {
            let x0 = i as f64 + 0.15 + k as f64 * width;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x0 + width * 0.92, bar.value)],
                    bar.color.filled(),
                )))
                .map_err(err)?;
            let text = if bar.value >= 100.0 {
                format!("{:.0}", bar.value)
            } else {
                format!("{:.1}", bar.value)
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (x0, bar.value + max * 0.03),
                    ("sans-serif", 12).into_font(),
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (i as f64 + 0.15, -max * 0.05),
                ("sans-serif", 13).into_font(),
            )))
            .map_err(err)?;
    }
    for (name, color) in legend {
        let color = *color;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, 0.0), (0.0, 0.0)],
                color.filled(),
            )))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    if !legend.is_empty() {
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// One group per peer, each a single bar in the peer's colour.
fn one_bar_each<'a>(rows: impl Iterator<Item = (&'a str, f64)>) -> Vec<(String, Vec<Bar>)> {
    rows.map(|(peer, value)| {
        (
            peer.to_owned(),
            vec![Bar {
                value,
                color: peer_color(peer),
            }],
        )
    })
    .collect()
}

/// Writes the SVG.
pub fn draw(path: &Path, medians: &[(&'static str, Sample)], loops: &LoopRows) -> DrawResult {
    let root = SVGBackend::new(path, (1260, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((1, 3));
    let mut per_invocation = Vec::new();
    for (peer, s) in medians {
        for (kind, busy, billed) in [
            ("cold", s.cold_busy_ms, s.cold_billed_ms),
            ("warm", s.warm_busy_ms, s.warm_billed_ms),
        ] {
            per_invocation.push((
                format!("{peer} {kind}"),
                vec![
                    Bar {
                        value: busy,
                        color: BUSY,
                    },
                    Bar {
                        value: billed,
                        color: BILLED,
                    },
                ],
            ));
        }
    }
    panel(
        &areas[0],
        "Per invocation: busy vs billed",
        "ms",
        &per_invocation,
        &[("busy (to last workflow done)", BUSY), ("billed", BILLED)],
    )?;
    let rss = one_bar_each(medians.iter().map(|(p, s)| (*p, s.peak_rss_mib)));
    panel(&areas[1], "Peak RSS", "MiB", &rss, &[])?;
    if loops.is_empty() {
        let init = one_bar_each(medians.iter().map(|(p, s)| (*p, s.init_ms)));
        panel(&areas[2], "Init: exec → first /next", "ms", &init, &[])?;
    } else {
        let gbs = one_bar_each(loops.iter().copied());
        panel(
            &areas[2],
            "Serverless loop: GB-s per 1000 workflows",
            "GB-s",
            &gbs,
            &[],
        )?;
    }
    root.present().map_err(err)
}
