//! Line charts: one or more series against a shared x axis (epochs, usually), on a linear or
//! logarithmic y axis, with "nice" ticks (1, 2, 5 × 10ᵏ; decades on log scales) and a legend.

use super::svg::{num, Svg};
use crate::format::superscript;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub label: String,
    /// `#rrggbb`.
    pub colour: String,
    /// (x, y) points; non-finite y values (and, on log scales, y ≤ 0) are left out.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (validation curves).
    pub dashed: bool,
}

/// A chart to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// Shown above the plot.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Fixed y range (linear scale), such as [0, 1] for fractions.
    pub y_range: Option<(f64, f64)>,
    /// Tick labels as percentages (values are fractions).
    pub percent: bool,
    /// The lines.
    pub series: Vec<Series>,
    /// A line of text under the legend.
    pub note: Option<String>,
}

const WIDTH: f64 = 720.0;
const PLOT_HEIGHT: f64 = 300.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 48.0;
const LEGEND_LINE: f64 = 18.0;

/// Ticks 1, 2 or 5 × 10ᵏ covering [low, high], about `count` of them.
pub fn nice_ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    let span = (high - low).abs().max(f64::MIN_POSITIVE);
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| span / step <= count as f64 + 0.5)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil();
    let last = (high / step).floor();
    let mut ticks = Vec::new();
    let mut index = first;
    while index <= last + 1e-9 && ticks.len() < 100 {
        ticks.push(index * step);
        index += 1.0;
    }
    ticks
}

/// A tick label: `0.25`, `1,000`, `1e-05`, or a percentage.
fn tick_label(value: f64, percent: bool) -> String {
    if percent {
        return format!("{}%", num(value * 100.0));
    }
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else if magnitude >= 1.0 && value.fract() == 0.0 {
        crate::format::group_thousands(&format!("{value:.0}"))
    } else {
        // Enough decimals to tell neighbouring ticks apart, no trailing zeros.
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl LineChart {
    /// A chart with no series.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            y_range: None,
            percent: false,
            series: Vec::new(),
            note: None,
        }
    }

    /// The points of a series that can be drawn on this chart's scale.
    fn drawable(&self, series: &Series) -> Vec<(f64, f64)> {
        series
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
            .collect()
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let legend_rows = self.series.len() + usize::from(self.note.is_some());
        let height = TOP + PLOT_HEIGHT + 56.0 + LEGEND_LINE * legend_rows as f64 + 8.0;
        let mut svg = Svg::new(WIDTH, height);
        svg.title(WIDTH / 2.0, 28.0, 16.0, &self.title);
        let points: Vec<(f64, f64)> = self.series.iter().flat_map(|s| self.drawable(s)).collect();
        let (plot_left, plot_right) = (LEFT, WIDTH - RIGHT);
        let (plot_top, plot_bottom) = (TOP, TOP + PLOT_HEIGHT);
        if points.is_empty() {
            svg.text(
                WIDTH / 2.0,
                TOP + PLOT_HEIGHT / 2.0,
                "middle",
                13.0,
                "#666666",
                "no data to plot",
            );
            return svg.finish();
        }
        let x_min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let mut x_max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        if x_max <= x_min {
            x_max = x_min + 1.0;
        }
        let transform = |y: f64| if self.log_y { y.log10() } else { y };
        let (mut y_min, mut y_max) = match self.y_range {
            Some(range) if !self.log_y => range,
            _ => {
                let values = points.iter().map(|p| transform(p.1));
                let low = values.clone().fold(f64::INFINITY, f64::min);
                let high = values.fold(f64::NEG_INFINITY, f64::max);
                if self.log_y {
                    (low.floor(), high.ceil())
                } else {
                    let pad = (high - low).abs() * 0.05;
                    (
                        (low - pad).min(if low >= 0.0 { 0.0 } else { low - pad }),
                        high + pad,
                    )
                }
            }
        };
        if y_max <= y_min {
            y_max = y_min + 1.0;
            y_min -= if self.log_y { 1.0 } else { 0.0 };
        }
        let px = |x: f64| plot_left + (plot_right - plot_left) * (x - x_min) / (x_max - x_min);
        let py = |y: f64| {
            plot_bottom - (plot_bottom - plot_top) * (transform(y) - y_min) / (y_max - y_min)
        };
        // Grid and y ticks.
        let y_ticks: Vec<f64> = if self.log_y {
            let decades = (y_max - y_min).round() as i64;
            let every = (decades / 8 + 1).max(1);
            (0..=decades)
                .filter(|d| d % every == 0)
                .map(|d| 10f64.powf(y_min + d as f64))
                .collect()
        } else {
            nice_ticks(y_min, y_max, 6)
        };
        for &tick in &y_ticks {
            let y = py(tick);
            svg.line((plot_left, y), (plot_right, y), "#e6e6e6", 1.0, "");
            let label = if self.log_y {
                let exponent = tick.log10().round() as i64;
                if exponent < 0 {
                    format!("10⁻{}", superscript(exponent.unsigned_abs() as usize))
                } else {
                    format!("10{}", superscript(exponent as usize))
                }
            } else {
                tick_label(tick, self.percent)
            };
            svg.text(plot_left - 8.0, y + 4.0, "end", 12.0, "#333333", &label);
        }
        for tick in nice_ticks(x_min, x_max, 8) {
            let x = px(tick);
            svg.line((x, plot_top), (x, plot_bottom), "#f0f0f0", 1.0, "");
            svg.text(
                x,
                plot_bottom + 18.0,
                "middle",
                12.0,
                "#333333",
                &tick_label(tick, false),
            );
        }
        svg.line(
            (plot_left, plot_bottom),
            (plot_right, plot_bottom),
            "#888888",
            1.0,
            "",
        );
        svg.line(
            (plot_left, plot_top),
            (plot_left, plot_bottom),
            "#888888",
            1.0,
            "",
        );
        svg.text(
            (plot_left + plot_right) / 2.0,
            plot_bottom + 38.0,
            "middle",
            13.0,
            "#333333",
            &self.x_label,
        );
        svg.vertical_text(18.0, (plot_top + plot_bottom) / 2.0, 13.0, &self.y_label);
        for series in &self.series {
            let drawn: Vec<(f64, f64)> = self
                .drawable(series)
                .into_iter()
                .map(|(x, y)| (px(x), py(y)))
                .collect();
            let dash = if series.dashed { "6 4" } else { "" };
            if drawn.len() == 1 {
                svg.circle(drawn[0].0, drawn[0].1, 3.5, &series.colour, &series.colour);
            } else {
                svg.polyline(&drawn, &series.colour, 2.0, dash);
            }
        }
        let mut y = plot_bottom + 62.0;
        for series in &self.series {
            let dash = if series.dashed { "6 4" } else { "" };
            svg.line(
                (plot_left, y - 4.0),
                (plot_left + 28.0, y - 4.0),
                &series.colour,
                2.5,
                dash,
            );
            svg.text(plot_left + 36.0, y, "start", 12.0, "#333333", &series.label);
            y += LEGEND_LINE;
        }
        if let Some(note) = &self.note {
            svg.text(plot_left, y, "start", 11.0, "#555555", note);
        }
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        let rounded = |ticks: Vec<f64>| -> Vec<f64> {
            ticks.iter().map(|t| (t * 1e6).round() / 1e6).collect()
        };
        assert_eq!(
            rounded(nice_ticks(0.0, 1.0, 5)),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        assert_eq!(
            rounded(nice_ticks(1.0, 30.0, 8)),
            vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
        );
        assert_eq!(
            rounded(nice_ticks(1.0, 3.0, 8)),
            vec![1.0, 1.5, 2.0, 2.5, 3.0]
        );
    }

    #[test]
    fn a_chart_names_its_series_and_skips_what_a_log_scale_cannot_show() {
        let mut chart = LineChart::new("Loss", "epoch", "loss");
        chart.log_y = true;
        chart.series.push(Series {
            label: "training".into(),
            colour: "#1f77b4".into(),
            points: vec![(1.0, 1.0), (2.0, 0.1), (3.0, 0.0), (4.0, f64::NAN)],
            dashed: false,
        });
        let svg = chart.to_svg();
        assert!(svg.contains(">Loss</text>"), "{svg}");
        assert!(svg.contains(">training</text>"));
        assert!(svg.contains("10⁻¹"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = LineChart::new("Loss", "epoch", "loss").to_svg();
        assert!(svg.contains("no data to plot"));
    }
}
