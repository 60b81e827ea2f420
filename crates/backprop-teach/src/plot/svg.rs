//! A small SVG writer: the document frame, text, lines and rectangles, with every number
//! written with at most two decimals so that files stay small and diffable.
//!
//! Text uses the font family `DejaVu Sans, sans-serif`: the command line embeds a subset of
//! DejaVu Sans for PNG output, and browsers fall back to their own sans-serif.

use crate::format::escape;
use std::fmt::Write;

/// The font family of every text element.
pub const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

/// Ten distinguishable colours (Tableau 10), for series and classes.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// The colour of series or class `index`.
pub fn palette(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A number with at most two decimals and no trailing zeros: `12`, `3.5`, `0.25`.
pub fn num(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// The ` stroke-dasharray="…"` attribute for an SVG dash array; nothing for a solid line ("").
fn dash_attribute(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{dash}""#)
    }
}

/// An SVG document being written.
pub struct Svg {
    out: String,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
}

impl Svg {
    /// A white canvas of `width` × `height` pixels.
    pub fn new(width: f64, height: f64) -> Self {
        let mut out = String::new();
        let _ = writeln!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}">"##,
            w = num(width),
            h = num(height)
        );
        let _ = writeln!(
            out,
            r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
            num(width),
            num(height)
        );
        Self { out, width, height }
    }

    /// Text at (x, y); `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, size: f64, fill: &str, content: &str) {
        let _ = writeln!(
            self.out,
            r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{}" fill="{fill}">{}</text>"##,
            num(x),
            num(y),
            num(size),
            escape(content)
        );
    }

    /// Bold text, for titles.
    pub fn title(&mut self, x: f64, y: f64, size: f64, content: &str) {
        let _ = writeln!(
            self.out,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="bold" fill="#222222">{}</text>"##,
            num(x),
            num(y),
            num(size),
            escape(content)
        );
    }

    /// Text turned 90° anticlockwise about (x, y), for a vertical axis label.
    pub fn vertical_text(&mut self, x: f64, y: f64, size: f64, content: &str) {
        let _ = writeln!(
            self.out,
            r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="{}" fill="#333333" transform="rotate(-90 {x} {y})">{}</text>"##,
            num(size),
            escape(content),
            x = num(x),
            y = num(y)
        );
    }

    /// A straight line; `dash` is an SVG dash array or empty.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64, dash: &str) {
        let dash = dash_attribute(dash);
        let _ = writeln!(
            self.out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"{dash}/>"##,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            num(width)
        );
    }

    /// A polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: &str) {
        let coordinates: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let dash = dash_attribute(dash);
        let _ = writeln!(
            self.out,
            r##"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{}" stroke-linejoin="round"{dash}/>"##,
            coordinates.join(" "),
            num(width)
        );
    }

    /// A filled rectangle, with an optional outline.
    pub fn rect(
        &mut self,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
        fill: &str,
        stroke: Option<&str>,
    ) {
        let stroke = stroke
            .map(|colour| format!(r#" stroke="{colour}" stroke-width="1""#))
            .unwrap_or_default();
        let _ = writeln!(
            self.out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"{stroke}/>"##,
            num(x),
            num(y),
            num(width),
            num(height)
        );
    }

    /// A circle.
    pub fn circle(&mut self, x: f64, y: f64, radius: f64, fill: &str, stroke: &str) {
        let _ = writeln!(
            self.out,
            r##"<circle cx="{}" cy="{}" r="{}" fill="{fill}" stroke="{stroke}" stroke-width="1"/>"##,
            num(x),
            num(y),
            num(radius)
        );
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// A colour between `low` and `high` (`#rrggbb`) at `t` in [0, 1].
pub fn mix(low: &str, high: &str, t: f64) -> String {
    let channel = |colour: &str, i: usize| {
        f64::from(u8::from_str_radix(&colour[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0))
    };
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let value =
        |i: usize| (channel(low, i) + (channel(high, i) - channel(low, i)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", value(0), value(1), value(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(3.5), "3.5");
        assert_eq!(num(0.254), "0.25");
        assert_eq!(num(-0.001), "0");
    }

    #[test]
    fn colours_mix_linearly() {
        assert_eq!(mix("#000000", "#ffffff", 0.5), "#808080");
        assert_eq!(mix("#ff0000", "#0000ff", 0.0), "#ff0000");
        assert_eq!(mix("#ff0000", "#0000ff", 2.0), "#0000ff");
    }

    #[test]
    fn text_is_escaped() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.text(1.0, 2.0, "start", 12.0, "#000000", "a < b & c");
        let document = svg.finish();
        assert!(document.contains("a &lt; b &amp; c"), "{document}");
        assert!(document.ends_with("</svg>\n"));
    }
}
