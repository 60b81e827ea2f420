//! Text for a [`ComparisonReport`]: the measured runs as a table, the time per forward pass,
//! and the extrapolations beside the article's figures.

use crate::compare::ComparisonReport;
use crate::format::{
    format_count, format_duration, format_number, paint, superscript, table, Paint,
};
use std::fmt::Write;

/// A count given as log₁₀: `1,000,000`, or `10^71,580`, or `1.43×10^15`.
fn format_evaluations(log10: f64) -> String {
    if log10 < 15.0 {
        return format_count(10f64.powf(log10).round() as u64);
    }
    let exponent = log10.floor();
    let mantissa = 10f64.powf(log10 - exponent);
    let power = format!("10^{}", format_count(exponent as u64));
    if (mantissa - 1.0).abs() < 1e-9 {
        power
    } else {
        format!("{mantissa:.2}×{power}")
    }
}

impl ComparisonReport {
    /// The report as text tables, with ANSI colour when `colour` is true.
    pub fn render_text(&self, colour: bool) -> String {
        let mut out = String::new();
        let heading = |out: &mut String, text: &str| {
            let _ = writeln!(out, "{}", paint(text, Paint::Bold, colour));
        };
        heading(
            &mut out,
            &format!("Brute force against backprop: {}", self.network),
        );
        let _ = writeln!(
            out,
            "Backprop training first ({} epochs) reached cost {}; the weights not set free keep those values, the free ones start at 0.",
            format_count(self.config.training_epochs as u64),
            format_number(self.trained_cost)
        );
        let _ = writeln!(out);
        let mut rows = vec![[
            "task",
            "method",
            "N",
            "evaluations",
            "backward",
            "time",
            "start cost",
            "final cost",
        ]
        .map(String::from)
        .to_vec()];
        let mut previous = String::new();
        for run in &self.runs {
            let task = if run.task == previous {
                String::new()
            } else {
                run.task.clone()
            };
            previous = run.task.clone();
            let method = match run.values_per_weight {
                Some(v) => format!("{} ({v}{})", run.method.name(), superscript(run.parameters)),
                None => format!(
                    "{} ({} steps)",
                    run.method.name(),
                    format_count(run.steps as u64)
                ),
            };
            rows.push(vec![
                task,
                method,
                run.parameters.to_string(),
                format_count(run.evaluations),
                format_count(run.backward_passes),
                format_duration(run.seconds),
                format_number(run.starting_cost),
                format_number(run.final_cost),
            ]);
        }
        out += &table(&rows, &[false, false, true, true, true, true, true, true]);
        for (k, free) in self.config.free_counts.iter().map(|&k| {
            (
                k,
                &self.config.free_weights[..k.min(self.config.free_weights.len())],
            )
        }) {
            let names: Vec<String> = free.iter().map(|p| p.to_string()).collect();
            let _ = writeln!(out, "  {k} weights free: {}", names.join(", "));
        }
        let _ = writeln!(out);
        heading(&mut out, "Measured here, per call:");
        let mut rows = vec![[
            "network",
            "forward pass and cost",
            "backprop step (forward + backward)",
        ]
        .map(String::from)
        .to_vec()];
        for timing in &self.timings {
            rows.push(vec![
                timing.network.clone(),
                format_duration(timing.forward_seconds),
                format_duration(timing.backprop_step_seconds),
            ]);
        }
        out += &table(&rows, &[false, true, true]);
        let _ = writeln!(out);
        heading(&mut out, "Extrapolated with those times, beside the article's figures (its 1 GHz machine, one evaluation per cycle):");
        let mut rows = vec![["scenario", "method", "evaluations", "here", "the article"]
            .map(String::from)
            .to_vec()];
        for row in &self.extrapolations {
            rows.push(vec![
                row.scenario.clone(),
                row.method.name().to_string(),
                format_evaluations(row.evaluations_log10),
                row.time.clone(),
                row.seed_time.clone().unwrap_or_default(),
            ]);
        }
        out += &table(&rows, &[false, false, true, true, true]);
        let _ = writeln!(
            out,
            "(The article's 5-weight figure reads 11.5 days: 10¹⁵ evaluations at 10⁹ a second are \
             10⁶ s = 11.57 days, shown here to 3 digits as 11.6.)"
        );
        out
    }
}
