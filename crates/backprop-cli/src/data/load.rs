//! Loading a `--data` source, with a short summary of what was read: rows, features after
//! one-hot encoding, classes or the target's range, the delimiter, rows dropped and cells
//! filled.

use super::DataSource;
use crate::exit::CliError;
use crate::report::format_count;
use backprop_data::csv_file::{load_csv_with_summary, CsvSummary};
use backprop_data::mnist::load_mnist_dir_hashed;
use backprop_data::{Dataset, Targets};

/// Classes listed by name in the summary; more are counted only.
const CLASSES_LISTED: usize = 10;

/// A loaded data set and, for MNIST, its own test part.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The data (for MNIST, the training part).
    pub data: Dataset,
    /// A test part that came with the data (MNIST's t10k files).
    pub test: Option<Dataset>,
    /// `"tabular"` or `"image"`.
    pub input_kind: &'static str,
    /// Lines describing what was loaded (none for built-in sets).
    pub summary: Vec<String>,
    /// The CSV target column's name, stored in the model so `evaluate` finds it again.
    pub target_name: Option<String>,
    /// Under `--missing mean`, what filled each feature column's missing cells (stored in the
    /// model, so that `predict` and `evaluate` fill new rows the same way).
    pub missing_fills: Vec<backprop_data::MissingFill>,
    /// `data`'s [`Dataset::sha256`] when the loader hashed it while reading (MNIST), so that
    /// the hash need not be taken again when `data` is the training part as it was loaded.
    pub data_sha256: Option<String>,
}

/// Loads the data of a source; `spec` is `--data` as given, for messages.
pub fn load_source(source: &DataSource, spec: &str) -> Result<Loaded, CliError> {
    match source {
        DataSource::BuiltIn { builtin, generate } => Ok(Loaded {
            data: builtin.load(generate)?,
            test: None,
            input_kind: "tabular",
            summary: Vec::new(),
            target_name: None,
            missing_fills: Vec::new(),
            data_sha256: None,
        }),
        DataSource::Mnist(folder) => {
            let (train, test, train_sha256) = load_mnist_dir_hashed(folder)?;
            let summary = format!(
                "data {spec}: {} training and {} test images (t10k) of {} pixels in [0, 1], \
                 {}",
                format_count(train.len()),
                format_count(test.len()),
                train.n_features(),
                describe_targets(&train)
            );
            Ok(Loaded {
                data: train,
                test: Some(test),
                input_kind: "image",
                summary: vec![summary],
                target_name: None,
                missing_fills: Vec::new(),
                data_sha256: Some(train_sha256),
            })
        }
        DataSource::Csv { path, options } => {
            let (data, summary) = load_csv_with_summary(path, options)?;
            let mut lines = vec![describe_csv(spec, &data, &summary)];
            lines.extend(
                summary
                    .warnings
                    .iter()
                    .map(|warning| format!("warning: {warning}")),
            );
            Ok(Loaded {
                summary: lines,
                target_name: Some(summary.target_name.clone()),
                missing_fills: summary.missing_fills.clone(),
                data,
                test: None,
                input_kind: "tabular",
                data_sha256: None,
            })
        }
    }
}

/// `data iris.csv: 150 rows, 4 features, delimiter ',', target "species": 3 classes (…)`.
fn describe_csv(spec: &str, data: &Dataset, summary: &CsvSummary) -> String {
    let mut text = format!("data {spec}: {} rows", format_count(data.len()));
    if summary.rows_dropped > 0 {
        text.push_str(&format!(
            " ({} of {} dropped for missing cells)",
            format_count(summary.rows_dropped),
            format_count(summary.rows_read)
        ));
    }
    text.push_str(&format!(", {} features", format_count(data.n_features())));
    if !data.categories.is_empty() {
        let names: Vec<&str> = data
            .categories
            .iter()
            .map(|column| column.name.as_str())
            .collect();
        text.push_str(&format!(" (one-hot: {})", names.join(", ")));
    }
    if summary.cells_filled > 0 {
        text.push_str(&format!(
            ", {} missing cells filled",
            format_count(summary.cells_filled)
        ));
    }
    let delimiter = match summary.delimiter {
        b'\t' => "tab".to_string(),
        byte => format!("'{}'", char::from(byte)),
    };
    text.push_str(&format!(
        ", delimiter {delimiter}, target {:?}: {}",
        summary.target_name,
        describe_targets(data)
    ));
    text
}

/// `3 classes (setosa 50, versicolor 50, virginica 50)` or `real values from 25 to 346`.
pub fn describe_targets(data: &Dataset) -> String {
    match &data.targets {
        Targets::Classes { class_names, .. } => {
            let counts = data.class_counts().unwrap_or_default();
            let mut listed: Vec<String> = class_names
                .iter()
                .zip(&counts)
                .take(CLASSES_LISTED)
                .map(|(name, count)| format!("{name} {}", format_count(*count)))
                .collect();
            if class_names.len() > CLASSES_LISTED {
                listed.push("…".into());
            }
            format!("{} classes ({})", class_names.len(), listed.join(", "))
        }
        Targets::Values(values) => {
            let slice = values.as_slice();
            let low = slice.iter().copied().fold(f32::INFINITY, f32::min);
            let high = slice.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let columns = if values.cols() == 1 {
                String::new()
            } else {
                format!(" in {} columns", values.cols())
            };
            format!("real values{columns} from {low} to {high} (regression)")
        }
    }
}
