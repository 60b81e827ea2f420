//! Heat maps over a 2-D input plane: one coloured cell per grid point, with the data drawn on
//! top — the decision boundary of a classifier and what each hidden neuron responds to, as in
//! TensorFlow Playground (blue high or class 1, orange low or class 0).
//!
//! Cell colours are quantised to [`LEVELS`] steps so that runs of equal colour along a row
//! merge into one rectangle, which keeps a 60 × 60 map to a few kilobytes.

use super::svg::{mix, num, Svg};

/// Colour steps of a continuous scale.
pub const LEVELS: f64 = 24.0;
/// The colour of high values and of class 1.
pub const HIGH: &str = "#1f77b4";
/// The colour of low values and of class 0.
pub const LOW: &str = "#ff7f0e";

/// A diverging colour for `t` in [0, 1]: orange at 0, white at ½, blue at 1 (quantised).
pub fn diverging(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let t = (t * LEVELS).round() / LEVELS;
    if t < 0.5 {
        mix(LOW, "#ffffff", t * 2.0)
    } else {
        mix("#ffffff", HIGH, (t - 0.5) * 2.0)
    }
}

/// `colour` faded towards white by confidence `confidence` in [0, 1] (quantised): pale where
/// the classifier hesitates.
pub fn confident(colour: &str, confidence: f64) -> String {
    let confidence = if confidence.is_finite() {
        confidence.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let confidence = (confidence * LEVELS).round() / LEVELS;
    mix("#ffffff", colour, 0.15 + 0.6 * confidence)
}

/// A map to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// Shown above the map.
    pub title: String,
    /// Names of the two input features (x, y).
    pub axis_names: (String, String),
    /// The x range of the grid, in the features' units.
    pub x_range: (f64, f64),
    /// The y range.
    pub y_range: (f64, f64),
    /// Grid columns.
    pub columns: usize,
    /// Grid rows; row 0 is the bottom (lowest y).
    pub rows: usize,
    /// One colour per cell, row by row from the bottom.
    pub cells: Vec<String>,
    /// Data points (x, y, colour), drawn as dots.
    pub points: Vec<(f64, f64, String)>,
    /// Lines of text under the map (the colour key).
    pub notes: Vec<String>,
}

impl Heatmap {
    /// The map as an SVG document whose square plot is `size` pixels wide; small maps
    /// (under 200 px) leave out the axis ticks.
    pub fn to_svg(&self, size: f64) -> String {
        let small = size < 200.0;
        let (left, top) = if small { (8.0, 26.0) } else { (64.0, 44.0) };
        let bottom = if small { 8.0 } else { 48.0 };
        let note_height = 16.0 * self.notes.len() as f64;
        // Wide enough for the longest note (DejaVu Sans at 11 px: about 6.5 px a character).
        let longest = self
            .notes
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0) as f64;
        let width = (left + size + if small { 8.0 } else { 24.0 }).max(left + longest * 6.5 + 8.0);
        let height = top + size + bottom + note_height;
        let mut svg = Svg::new(width, height);
        if small {
            svg.text(
                left + size / 2.0,
                17.0,
                "middle",
                12.0,
                "#222222",
                &self.title,
            );
        } else {
            svg.title(left + size / 2.0, 26.0, 15.0, &self.title);
        }
        let cell_width = size / self.columns.max(1) as f64;
        let cell_height = size / self.rows.max(1) as f64;
        for row in 0..self.rows {
            let y = top + size - (row + 1) as f64 * cell_height;
            let mut column = 0;
            while column < self.columns {
                let colour = &self.cells[row * self.columns + column];
                let mut end = column + 1;
                while end < self.columns && &self.cells[row * self.columns + end] == colour {
                    end += 1;
                }
                // A hair wider than the cell, so that anti-aliasing leaves no seams.
                svg.rect(
                    left + column as f64 * cell_width,
                    y,
                    (end - column) as f64 * cell_width + 0.5,
                    cell_height + 0.5,
                    colour,
                    None,
                );
                column = end;
            }
        }
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        let px = |x: f64| left + size * (x - x0) / (x1 - x0);
        let py = |y: f64| top + size - size * (y - y0) / (y1 - y0);
        let radius = if small { 1.8 } else { 3.2 };
        for (x, y, colour) in &self.points {
            if (x0..=x1).contains(x) && (y0..=y1).contains(y) {
                svg.circle(px(*x), py(*y), radius, colour, "#ffffff");
            }
        }
        svg.rect(left, top, size, size, "none", Some("#888888"));
        if !small {
            for tick in super::chart::nice_ticks(x0, x1, 5) {
                svg.text(
                    px(tick),
                    top + size + 16.0,
                    "middle",
                    11.0,
                    "#333333",
                    &num(tick),
                );
            }
            for tick in super::chart::nice_ticks(y0, y1, 5) {
                svg.text(
                    left - 6.0,
                    py(tick) + 4.0,
                    "end",
                    11.0,
                    "#333333",
                    &num(tick),
                );
            }
            svg.text(
                left + size / 2.0,
                top + size + 34.0,
                "middle",
                12.0,
                "#333333",
                &self.axis_names.0,
            );
            svg.vertical_text(16.0, top + size / 2.0, 12.0, &self.axis_names.1);
        }
        let mut y = top + size + bottom + 4.0;
        for note in &self.notes {
            svg.text(left, y, "start", 11.0, "#555555", note);
            y += 16.0;
        }
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_runs_orange_white_blue() {
        assert_eq!(diverging(0.0), LOW);
        assert_eq!(diverging(0.5), "#ffffff");
        assert_eq!(diverging(1.0), HIGH);
        assert_eq!(diverging(f64::NAN), "#ffffff");
    }

    #[test]
    fn equal_cells_merge_into_one_rectangle() {
        let map = Heatmap {
            title: "boundary".into(),
            axis_names: ("x1".into(), "x2".into()),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            columns: 4,
            rows: 2,
            cells: ["#ff0000", "#ff0000", "#ff0000", "#0000ff"]
                .iter()
                .chain(["#00ff00"; 4].iter())
                .map(|c| c.to_string())
                .collect(),
            points: vec![(0.5, 0.5, "#000000".into()), (2.0, 0.5, "#000000".into())],
            notes: vec!["blue: class 1".into()],
        };
        let svg = map.to_svg(300.0);
        assert_eq!(svg.matches("fill=\"#ff0000\"").count(), 1);
        assert_eq!(svg.matches("fill=\"#00ff00\"").count(), 1);
        assert_eq!(
            svg.matches("<circle").count(),
            1,
            "the point off the map is left out"
        );
        assert!(svg.contains(">blue: class 1</text>"));
    }
}
