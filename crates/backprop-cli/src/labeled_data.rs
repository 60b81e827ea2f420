//! Labelled data for a trained model (`evaluate`, `gradcheck --data`): a CSV file read in
//! chunks, the test part (`t10k` files) of an MNIST-style folder, or a built-in set (all of
//! it), with the targets put in the model's terms: class indices into the model's classes, or
//! values in the targets' units.

use crate::exit::CliError;
use crate::model_file::LoadedModel;
use backprop::train::Task;
use backprop::Matrix;
use backprop_data::mnist::find_mnist_files;
use backprop_data::tabular::{list_names, ModelInputStream, TargetEncoder};
use backprop_data::{
    images_and_labels, read_idx_file, DataSpec, Dataset, GenerateOptions, TargetColumn,
};
use std::path::Path;

pub use backprop_data::tabular::ModelTargets;

/// Rows with their targets.
#[derive(Clone, Debug)]
pub struct LabeledChunk {
    /// Raw features in the model's input order (not scaled).
    pub features: Matrix<f32>,
    /// The targets.
    pub targets: ModelTargets,
}

/// Where the rows come from.
enum Rows {
    Csv(Box<ModelInputStream>),
    Memory { data: Dataset, next: usize },
}

/// Labelled rows for one model.
pub struct LabeledData {
    rows: Rows,
    targets: TargetEncoder,
    /// What the rows are, for the report: `iris.csv`, `the t10k part of mnist:DIR`, …
    pub description: String,
    /// Said to the user before the figures (such as "the whole built-in set").
    pub notes: Vec<String>,
}

/// `--samples`, `--noise` and `--seed` for the generated built-in sets.
pub type Generate = GenerateOptions;

impl LabeledData {
    /// Opens `--data` for `model`; `targets` are the `--target` columns (CSV only).
    pub fn open(
        value: &str,
        model: &LoadedModel,
        targets: &[TargetColumn],
        generate: &Generate,
    ) -> Result<Self, CliError> {
        let spec: DataSpec = value
            .parse()
            .map_err(|error| CliError::usage(format!("--data: {error}")))?;
        let mut notes = Vec::new();
        let (rows, description) = match spec {
            DataSpec::Csv(path) => {
                let input = open_csv(&path, model, targets)?;
                let description = format!(
                    "{} (target {})",
                    path.display(),
                    input.target_names().join(", ")
                );
                (Rows::Csv(Box::new(input)), description)
            }
            DataSpec::Mnist(dir) => {
                let [_, _, images, labels] = find_mnist_files(&dir)?;
                let data =
                    images_and_labels(read_idx_file(&images)?, read_idx_file(&labels)?, "mnist")?;
                let description = format!("the test part (t10k files) of mnist:{}", dir.display());
                (Rows::Memory { data, next: 0 }, description)
            }
            DataSpec::BuiltIn(builtin) => {
                let data = builtin.load(generate)?;
                notes.push(format!(
                    "evaluating on the whole built-in set {} ({} rows), which may include rows the model was trained on",
                    builtin.name(),
                    data.len()
                ));
                (Rows::Memory { data, next: 0 }, builtin.name().to_string())
            }
        };
        if let Rows::Memory { data, .. } = &rows {
            if data.n_features() != model.input_width() {
                return Err(CliError::usage(format!(
                    "--data {value}: {} features per row, but the model {} takes {}",
                    data.n_features(),
                    model.name(),
                    model.input_width()
                )));
            }
        }
        Ok(Self {
            rows,
            targets: TargetEncoder::new(&model.columns().outputs),
            description,
            notes,
        })
    }

    /// Keeps only the test part of a built-in set, split as `train` split it (`--test-split
    /// fraction` with the model's seed, stratified), so that figures show the rows the model did
    /// not train on. Data read from a file is left as it is.
    pub fn keep_test_part(&mut self, fraction: f64, seed: u64) -> Result<(), CliError> {
        if let Rows::Memory { data, next } = &mut self.rows {
            let (_, test) = backprop_data::train_test_split(data, fraction, seed, true)?;
            *data = test;
            *next = 0;
            self.description = format!("the test part of {}", self.description);
            self.notes.clear();
        }
        Ok(())
    }

    /// Warnings gathered while reading (unknown categories).
    pub fn warnings(&self) -> Vec<String> {
        match &self.rows {
            Rows::Csv(input) => input.warnings(),
            Rows::Memory { .. } => Vec::new(),
        }
    }

    /// The next chunk of at most `max_rows` rows; `None` at the end.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<LabeledChunk>, CliError> {
        match &mut self.rows {
            Rows::Csv(input) => {
                let Some(chunk) = input.next_chunk(max_rows)? else {
                    return Ok(None);
                };
                let names = input.target_names();
                let targets = self.targets.encode_cells(
                    &chunk.targets,
                    &chunk.lines,
                    &names,
                    input.file(),
                )?;
                Ok(Some(LabeledChunk {
                    features: chunk.features,
                    targets,
                }))
            }
            Rows::Memory { data, next } => {
                let end = (*next + max_rows).min(data.len());
                if *next >= end {
                    return Ok(None);
                }
                let indices: Vec<usize> = (*next..end).collect();
                *next = end;
                let part = data.subset(&indices);
                let targets = self.targets.encode_dataset(&part.targets, &data.name)?;
                Ok(Some(LabeledChunk {
                    features: part.features,
                    targets,
                }))
            }
        }
    }
}

/// Opens a CSV file, choosing the target columns: those given, else the names the model
/// stores under `hyperparameters.target`, else the columns the model does not use when there
/// are exactly as many as it needs.
fn open_csv(
    path: &Path,
    model: &LoadedModel,
    targets: &[TargetColumn],
) -> Result<ModelInputStream, CliError> {
    let specs = model.feature_specs()?;
    let needed = if model.task == Task::Classification {
        1
    } else {
        model.output_width()
    };
    let mut chosen = targets.to_vec();
    if chosen.is_empty() {
        chosen = stored_target_names(model)
            .into_iter()
            .map(TargetColumn::Name)
            .collect();
    }
    let mut input = ModelInputStream::open(path, &specs)?;
    input.set_missing_fills(&model.missing_fills());
    if targets.is_empty() {
        // A stored target name this file does not have is no use: fall back to the columns
        // the model does not read.
        let unused = input.ignored_columns();
        if chosen
            .iter()
            .any(|t| !matches!(t, TargetColumn::Name(name) if unused.contains(name)))
        {
            chosen.clear();
        }
    }
    if chosen.is_empty() {
        let unused = input.ignored_columns();
        if unused.len() != needed {
            return Err(CliError::usage(format!(
                "{}: cannot tell the target column: {} column(s) are not model inputs ({}) and the model needs {needed}; name it with --target NAME|INDEX",
                input.file(),
                unused.len(),
                if unused.is_empty() { "none".into() } else { list_names(&unused) }
            )));
        }
        chosen = unused.into_iter().map(TargetColumn::Name).collect();
    }
    if chosen.len() != needed {
        return Err(CliError::usage(format!(
            "{}: {} target column(s) chosen, but the model has {needed} output(s) to compare with",
            input.file(),
            chosen.len()
        )));
    }
    input.set_targets(&chosen)?;
    Ok(input)
}

/// Target names a model may store (`hyperparameters.target`: a name or a list of names).
fn stored_target_names(model: &LoadedModel) -> Vec<String> {
    let metadata = &model.model.metadata;
    let value = metadata
        .hyperparameters
        .get("target")
        .or_else(|| metadata.extra.get("target"));
    match value {
        Some(serde_json::Value::String(name)) => vec![name.clone()],
        Some(serde_json::Value::Array(names)) => names
            .iter()
            .filter_map(|name| name.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
