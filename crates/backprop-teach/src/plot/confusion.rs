//! The confusion matrix as a picture: one row per true class, one column per predicted class,
//! each cell shaded by the share of its row (so a perfect classifier shows a dark diagonal),
//! with the count written in.

use super::svg::{mix, Svg};
use crate::format::format_count;

/// The most classes drawn with their names and counts; beyond, cells get no text.
const LABELLED_CLASSES: usize = 20;

/// `counts[actual][predicted]` drawn as an SVG document, with `subtitle` (what the rows are)
/// under the title.
pub fn confusion_svg(
    title: &str,
    subtitle: &str,
    counts: &[Vec<usize>],
    class_names: &[String],
) -> String {
    let classes = counts.len();
    let labelled = classes <= LABELLED_CLASSES;
    let cell = if classes <= 10 {
        44.0
    } else {
        (520.0 / classes.max(1) as f64).max(8.0)
    };
    let name_width = if labelled {
        class_names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(1)
            .min(16) as f64
            * 7.5
            + 16.0
    } else {
        16.0
    };
    let left = 40.0 + name_width;
    let top = 96.0;
    let size = cell * classes as f64;
    let title_width =
        (title.chars().count() as f64 * 10.0).max(subtitle.chars().count() as f64 * 6.5) + 40.0;
    let width = (left + size + 24.0).max(360.0).max(title_width);
    let height = top + size + 66.0;
    let mut svg = Svg::new(width, height);
    svg.title(width / 2.0, 26.0, 16.0, title);
    svg.text(width / 2.0, 46.0, "middle", 11.0, "#555555", subtitle);
    svg.text(
        left + size / 2.0,
        74.0,
        "middle",
        12.0,
        "#333333",
        "predicted class",
    );
    svg.vertical_text(16.0, top + size / 2.0, 12.0, "true class");
    let total: usize = counts.iter().flatten().sum();
    let correct: usize = (0..classes)
        .map(|c| counts[c].get(c).copied().unwrap_or(0))
        .sum();
    for (actual, row) in counts.iter().enumerate() {
        let row_total: usize = row.iter().sum();
        for (predicted, &count) in row.iter().enumerate() {
            let share = if row_total > 0 {
                count as f64 / row_total as f64
            } else {
                0.0
            };
            let base = if actual == predicted {
                "#1f77b4"
            } else {
                "#d62728"
            };
            let fill = if count == 0 {
                "#ffffff".to_string()
            } else {
                mix("#ffffff", base, 0.12 + 0.88 * share)
            };
            let (x, y) = (left + predicted as f64 * cell, top + actual as f64 * cell);
            svg.rect(x, y, cell, cell, &fill, Some("#dddddd"));
            if labelled && count > 0 {
                let ink = if share > 0.55 { "#ffffff" } else { "#222222" };
                let size = if cell >= 40.0 { 12.0 } else { 9.0 };
                svg.text(
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0,
                    "middle",
                    size,
                    ink,
                    &format_count(count as u64),
                );
            }
        }
    }
    if labelled {
        for (index, name) in class_names.iter().enumerate().take(classes) {
            let short: String = name.chars().take(16).collect();
            svg.text(
                left - 6.0,
                top + (index as f64 + 0.5) * cell + 4.0,
                "end",
                11.0,
                "#333333",
                &short,
            );
            svg.text(
                left + (index as f64 + 0.5) * cell,
                top - 6.0,
                "middle",
                11.0,
                "#333333",
                &short,
            );
        }
    }
    let accuracy = if total > 0 {
        100.0 * correct as f64 / total as f64
    } else {
        0.0
    };
    svg.text(
        left,
        top + size + 24.0,
        "start",
        12.0,
        "#333333",
        &format!(
            "{} of {} right ({accuracy:.1}%)",
            format_count(correct as u64),
            format_count(total as u64)
        ),
    );
    svg.text(
        left,
        top + size + 44.0,
        "start",
        11.0,
        "#555555",
        "shade: share of the true class's rows",
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_writes_counts_names_and_accuracy() {
        let counts = vec![vec![8, 2], vec![1, 9]];
        let names = vec!["cat".to_string(), "dog".to_string()];
        let svg = confusion_svg("Confusion matrix", "pets (20 rows)", &counts, &names);
        assert!(svg.contains(">Confusion matrix</text>") && svg.contains(">pets (20 rows)</text>"));
        assert!(svg.contains(">cat</text>") && svg.contains(">dog</text>"));
        assert!(svg.contains(">9</text>"));
        assert!(svg.contains("17 of 20 right (85.0%)"), "{svg}");
        assert!(svg.contains("share of the true class"));
    }
}
