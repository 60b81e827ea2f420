//! `backprop evaluate --model FILE --data DATA`: a trained model's figures on labelled data.
//!
//! Classification: accuracy, per-class precision, recall, F1 and support (with the class
//! names), macro and weighted averages, and the confusion matrix. Regression: MSE, MAE and R²
//! in the targets' units. The figures come from [`backprop::evaluation`]; the human report goes
//! to stderr and `--json` prints one JSON object with the same figures on stdout (fractions in
//! [0, 1]). CSV data is read in chunks (see [`backprop_data::tabular::ModelInputStream`]); only the predicted and true
//! labels (or values) are kept.

use crate::exit::CliError;
use crate::labeled_data::{Generate, LabeledData, ModelTargets};
use crate::model_file::LoadedModel;
use crate::output_file::print_stdout_line;
use crate::report::{format_percent, say};
use backprop::evaluation::{ClassScores, ClassificationReport, RegressionReport};
use backprop::Matrix;
use backprop_data::tabular::CHUNK_ROWS;
use backprop_data::TargetColumn;
use clap::Args;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Flags of `backprop evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model file (.safetensors).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Labelled data: FILE.csv[.gz] with its target column, mnist:DIR (its t10k part), or a
    /// built-in set (all of it).
    #[arg(long, value_name = "DATA")]
    pub data: String,
    /// The target column, by name or 0-based index [default: the column that is not a model
    /// input]; repeat it for several regression targets.
    #[arg(long, value_name = "NAME|INDEX")]
    pub target: Vec<TargetColumn>,
    /// Rows to generate for a synthetic built-in set.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub samples: usize,
    /// Noise of a synthetic built-in set.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub noise: f64,
    /// Seed of a synthetic built-in set.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object with the figures on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `backprop evaluate`.
pub fn run(arguments: &EvaluateArgs) -> Result<(), CliError> {
    let model = LoadedModel::load(&arguments.model)?;
    let generate = Generate {
        samples: arguments.samples,
        noise: arguments.noise,
        seed: arguments.seed,
    };
    let mut data = LabeledData::open(&arguments.data, &model, &arguments.target, &generate)?;
    let mut predicted = Vec::new();
    let mut actual = Vec::new();
    let mut predicted_values = Vec::new();
    let mut actual_values = Vec::new();
    while let Some(chunk) = data.next_chunk(CHUNK_ROWS)? {
        let outputs = model.predict(&chunk.features)?;
        match chunk.targets {
            ModelTargets::Classes(labels) => {
                predicted.extend(outputs.argmax_rows());
                actual.extend(labels);
            }
            ModelTargets::Values(values) => {
                predicted_values.extend_from_slice(outputs.as_slice());
                actual_values.extend_from_slice(values.as_slice());
            }
        }
    }
    for warning in data.warnings() {
        say(format_args!("warning: {warning}"));
    }
    for note in &data.notes {
        say(format_args!("note: {note}"));
    }
    let rows = predicted.len() + predicted_values.len() / model.output_width().max(1);
    if rows == 0 {
        return Err(CliError::usage(format!(
            "--data {}: no rows to evaluate",
            arguments.data
        )));
    }
    let mut object = json!({
        "command": "evaluate",
        "model": model.name(),
        "data": data.description,
        "rows": rows,
    });
    say(format_args!(
        "model {} evaluated on {}: {rows} rows",
        model.name(),
        data.description
    ));
    if predicted_values.is_empty() {
        let report = ClassificationReport::new(&predicted, &actual, model.classes.len());
        for line in classification_lines(&report, &model.classes) {
            say(line);
        }
        merge(&mut object, classification_json(&report, &model.classes));
    } else {
        let shape = |values: Vec<f32>| Matrix::from_vec(rows, model.output_width(), values);
        let (Ok(predicted), Ok(actual)) = (shape(predicted_values), shape(actual_values)) else {
            return Err(CliError::Runtime(
                "predictions and targets differ in shape".into(),
            ));
        };
        let report = RegressionReport::new(&predicted, &actual);
        say(format_args!(
            "MSE {:.6}  MAE {:.6}  R² {:.4}  (in the targets' units)",
            report.mse, report.mae, report.r2
        ));
        merge(
            &mut object,
            json!({ "task": "regression", "mse": report.mse, "mae": report.mae, "r2": report.r2 }),
        );
    }
    if arguments.json {
        print_stdout_line(object)?;
    }
    Ok(())
}

/// Adds the fields of `extra` to `object`.
fn merge(object: &mut Value, extra: Value) {
    if let (Some(object), Value::Object(extra)) = (object.as_object_mut(), extra) {
        object.extend(extra);
    }
}

/// One class's (or an average's) scores as JSON.
fn scores_json(scores: &ClassScores) -> Value {
    json!({ "precision": scores.precision, "recall": scores.recall, "f1": scores.f1, "support": scores.support })
}

/// The classification figures as JSON.
pub fn classification_json(report: &ClassificationReport, classes: &[String]) -> Value {
    let per_class: Vec<Value> = report
        .per_class
        .iter()
        .zip(classes)
        .map(|(scores, class)| {
            let mut value = scores_json(scores);
            merge(&mut value, json!({ "class": class }));
            value
        })
        .collect();
    json!({
        "task": "classification",
        "accuracy": report.accuracy,
        "classes": classes,
        "per_class": per_class,
        "macro_average": scores_json(&report.macro_average),
        "weighted_average": scores_json(&report.weighted_average),
        "confusion": report.confusion,
    })
}

/// The classification report as text lines: accuracy, a table of scores, the confusion matrix.
pub fn classification_lines(report: &ClassificationReport, classes: &[String]) -> Vec<String> {
    let name_width = classes
        .iter()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut lines = vec![
        format!("accuracy {}", format_percent(report.accuracy)),
        String::new(),
    ];
    lines.push(format!(
        "{:<name_width$}  precision  recall     f1  support",
        "class"
    ));
    let row = |name: &str, scores: &ClassScores| {
        format!(
            "{name:<name_width$}  {:>9.4}  {:>6.4}  {:>5.4}  {:>7}",
            scores.precision, scores.recall, scores.f1, scores.support
        )
    };
    for (class, scores) in classes.iter().zip(&report.per_class) {
        lines.push(row(class, scores));
    }
    lines.push(row("macro avg", &report.macro_average));
    lines.push(row("weighted avg", &report.weighted_average));
    lines.push(String::new());
    lines.push("confusion matrix (rows: true class, columns: predicted class)".into());
    let largest = report
        .confusion
        .iter()
        .flatten()
        .max()
        .copied()
        .unwrap_or(0);
    let cell_width = classes
        .iter()
        .map(|name| name.chars().count())
        .chain([largest.to_string().len()])
        .max()
        .unwrap_or(1);
    let mut header = format!("{:<name_width$}", "");
    for class in classes {
        header.push_str(&format!("  {class:>cell_width$}"));
    }
    lines.push(header);
    for (class, counts) in classes.iter().zip(&report.confusion) {
        let mut line = format!("{class:<name_width$}");
        for count in counts {
            line.push_str(&format!("  {count:>cell_width$}"));
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_name_every_class_and_agree_with_the_library() {
        let classes: Vec<String> = ["cat", "dog"].map(String::from).into();
        let report = ClassificationReport::new(&[0, 1, 1, 1], &[0, 1, 0, 1], 2);
        let text = classification_lines(&report, &classes).join("\n");
        assert!(
            text.contains("accuracy 75.0%") && text.contains("weighted avg"),
            "{text}"
        );
        assert!(text.contains("dog"), "{text}");
        let value = classification_json(&report, &classes);
        assert_eq!(value["accuracy"], 0.75);
        assert_eq!(value["per_class"][1]["class"], "dog");
        assert_eq!(value["confusion"], json!([[1, 1], [0, 2]]));
    }
}
