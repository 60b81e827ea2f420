//! The comparison as a plot: time against the number of weights, log-log, one line per
//! method, the age of the universe as a dashed line.

use crate::compare::{ComparisonReport, Method};
use crate::format::{escape, fixed, format_count, superscript, universe_age_seconds};
use std::fmt::Write;

const SERIES: [(Method, &str, &str); 3] = [
    (
        Method::Grid,
        "#d62728",
        "all combinations, 1000 values a weight (whole search)",
    ),
    (
        Method::OneAtATime,
        "#ff7f0e",
        "one weight at a time (one step)",
    ),
    (Method::Backprop, "#1f77b4", "backpropagation (one step)"),
];

/// Points beyond 10^this seconds are left off the plot and named in a note.
const OFF_CHART_LOG10: f64 = 60.0;

/// The least distance between two markers' centres (radius 4, stroke 2): closer ones are set
/// side by side.
const MARKER_GAP: f64 = 10.0;

/// A plot of time against the number of weights, both on log scales: one line per method,
/// filled markers measured here, hollow ones extrapolated, and the age of the universe as a
/// dashed line. Grid searches too long even for the plot are named in a note.
pub fn compare_plot_svg(report: &ComparisonReport) -> String {
    // (method, log10 N, log10 seconds, measured)
    let mut points: Vec<(Method, f64, f64, bool)> = Vec::new();
    for run in report.runs.iter().filter(|r| r.method != Method::Grid) {
        points.push((
            run.method,
            (run.parameters as f64).log10(),
            (run.seconds / run.steps.max(1) as f64).log10(),
            true,
        ));
    }
    let mut off_chart = Vec::new();
    for row in report.extrapolations.iter().filter(|r| r.one_step) {
        if row.seconds_log10 > OFF_CHART_LOG10 {
            off_chart.push(format!(
                "{} weights: 10^{} s",
                format_count(row.parameters as u64),
                format_count(row.seconds_log10.floor() as u64)
            ));
        } else {
            points.push((
                row.method,
                (row.parameters as f64).log10(),
                row.seconds_log10,
                false,
            ));
        }
    }
    let universe = universe_age_seconds().log10();
    let y_low = points
        .iter()
        .map(|p| p.2)
        .fold(f64::INFINITY, f64::min)
        .min(0.0)
        .floor();
    let y_high = points.iter().map(|p| p.2).fold(universe, f64::max).ceil() + 1.0;
    // 1,002,560 weights (log 6.0011) ends the axis at 10⁶, not at an empty decade up to 10⁷.
    let x_high = (points.iter().map(|p| p.1).fold(1.0, f64::max) - 0.01).ceil();
    let (width, height, left, right, top, bottom) = (780.0, 500.0, 80.0, 60.0, 50.0, 140.0);
    let px = |x: f64| left + (width - left - right) * x / x_high;
    let py = |y: f64| top + (height - top - bottom) * (y_high - y) / (y_high - y_low);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"##
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let label = |out: &mut String, x: f64, y: f64, anchor: &str, size: u32, text: &str| {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{size}" fill="#333333">{}</text>"##,
            fixed(x, 1),
            fixed(y, 1),
            escape(text)
        );
    };
    label(
        &mut out,
        width / 2.0,
        26.0,
        "middle",
        15,
        "Time against the number of weights (log scales)",
    );
    let step = ((y_high - y_low) / 10.0).ceil().max(1.0);
    let mut tick = (y_low / step).ceil() * step;
    while tick <= y_high {
        let y = py(tick);
        let _ = writeln!(
            out,
            r##"<path d="M{left},{} H{}" stroke="#e5e5e5" stroke-width="1"/>"##,
            fixed(y, 1),
            width - right
        );
        let power = if tick < 0.0 {
            format!("10⁻{} s", superscript((-tick) as usize))
        } else {
            format!("10{} s", superscript(tick as usize))
        };
        label(&mut out, left - 8.0, y + 4.0, "end", 11, &power);
        tick += step;
    }
    for decade in 0..=(x_high as usize) {
        let x = px(decade as f64);
        let _ = writeln!(
            out,
            r##"<path d="M{},{top} V{}" stroke="#e5e5e5" stroke-width="1"/>"##,
            fixed(x, 1),
            height - bottom
        );
        label(
            &mut out,
            x,
            height - bottom + 16.0,
            "middle",
            11,
            &format_count(10u64.pow(decade as u32)),
        );
    }
    label(
        &mut out,
        (left + width - right) / 2.0,
        height - bottom + 34.0,
        "middle",
        12,
        "number of weights and biases, N",
    );
    let universe_y = py(universe);
    let _ = writeln!(
        out,
        r##"<path d="M{left},{} H{}" stroke="#555555" stroke-width="1" stroke-dasharray="6 4"/>"##,
        fixed(universe_y, 1),
        width - right
    );
    label(
        &mut out,
        width - right - 4.0,
        universe_y - 6.0,
        "end",
        11,
        "the age of the universe",
    );
    // Markers are drawn after every line, each nudged right until it clears the markers
    // already drawn, so points that coincide (a measured run and its extrapolation, or two
    // methods at one N) stay visible side by side.
    let mut markers: Vec<(f64, f64, &str, &str)> = Vec::new();
    for (method, colour, _) in SERIES {
        let mut series: Vec<&(Method, f64, f64, bool)> =
            points.iter().filter(|p| p.0 == method).collect();
        series.sort_by(|a, b| a.1.total_cmp(&b.1));
        let path: Vec<String> = series
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{}{},{}",
                    if i == 0 { "M" } else { "L" },
                    fixed(px(p.1), 1),
                    fixed(py(p.2), 1)
                )
            })
            .collect();
        if series.len() > 1 {
            let _ = writeln!(
                out,
                r##"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"##,
                path.join(" ")
            );
        }
        for p in series {
            let fill = if p.3 { colour } else { "#ffffff" };
            let (mut x, y) = (px(p.1), py(p.2));
            while markers
                .iter()
                .any(|m| (m.0 - x).hypot(m.1 - y) < MARKER_GAP)
            {
                x += MARKER_GAP;
            }
            markers.push((x, y, fill, colour));
        }
    }
    for (x, y, fill, colour) in markers {
        let _ = writeln!(
            out,
            r##"<circle cx="{}" cy="{}" r="4" fill="{fill}" stroke="{colour}" stroke-width="2"/>"##,
            fixed(x, 1),
            fixed(y, 1)
        );
    }
    let mut y = height - bottom + 56.0;
    for (_, colour, name) in SERIES {
        let _ = writeln!(
            out,
            r##"<rect x="{left}" y="{}" width="22" height="6" fill="{colour}"/>"##,
            fixed(y - 6.0, 1)
        );
        label(&mut out, left + 30.0, y, "start", 11, name);
        y += 16.0;
    }
    label(
        &mut out,
        left,
        y,
        "start",
        10,
        "filled: measured here; hollow: extrapolated from the measured time per pass; markers that coincide are set side by side",
    );
    if !off_chart.is_empty() {
        let note = format!(
            "off the chart, all combinations for {}",
            off_chart.join("; ")
        );
        label(&mut out, left, y + 14.0, "start", 10, &note);
    }
    out.push_str("</svg>\n");
    out
}
