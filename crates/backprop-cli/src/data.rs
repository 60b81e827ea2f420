//! Data for training: loading the `--data` source ([`load`]; under MPI, `packed` is the form
//! rank 0 broadcasts it in), the test and validation splits, feature scaling fitted on the
//! training part (or a model's, under `--init-from`), and target encoding. The preprocessing
//! itself is `backprop_data::tabular`'s; this module puts it together for `train` and records
//! it in the model file's terms.
//!
//! - Classification targets are one-hot rows, except a single sigmoid output on two classes,
//!   which trains on the label itself (0 or 1).
//! - Regression targets are standardised with a scaler fitted on the training part; the
//!   original values are kept so that test metrics can be reported in the targets' units.
//! - Scalers are kept as the model file stores them ([`AffineScaler`]: x′ = (x − center)/scale),
//!   so a fine-tuned model applies exactly the scaling it was first trained with.

mod encode;
pub mod load;
// Used by the MPI build only (and tested in every build).
#[cfg(any(feature = "mpi", test))]
pub mod packed;

pub use encode::{encode, PreparedData, Scaling};

use crate::config::TrainPlan;
use crate::exit::CliError;
use crate::model_file::model_columns;
use backprop::model::ModelMetadata;
use backprop::train::Task;
use backprop::Matrix;
use backprop_data::tabular::{align_to_model, labels_as_values};
use backprop_data::{
    train_test_split, train_validation_split, BuiltIn, CsvOptions, Dataset, GenerateOptions,
};
use std::path::PathBuf;

/// Where the data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// A built-in set, generated or embedded.
    BuiltIn {
        /// Which set.
        builtin: BuiltIn,
        /// How synthetic data is generated (ignored by fixed sets).
        generate: GenerateOptions,
    },
    /// A folder of MNIST IDX files; the t10k files are the test part.
    Mnist(PathBuf),
    /// A CSV file and how to read it.
    Csv {
        /// The file.
        path: PathBuf,
        /// Header, target, delimiter, missing cells, task.
        options: CsvOptions,
    },
}

impl DataSource {
    /// The task the data has before loading, when it is known: `None` for CSV files.
    pub fn natural_task(&self) -> Option<Task> {
        match self {
            DataSource::BuiltIn { builtin, .. } if !builtin.is_classification() => {
                Some(Task::Regression)
            }
            DataSource::BuiltIn { .. } | DataSource::Mnist(_) => Some(Task::Classification),
            DataSource::Csv { .. } => None,
        }
    }

    /// True for the 4-row XOR table, too small to split.
    pub fn is_tiny_table(&self) -> bool {
        matches!(
            self,
            DataSource::BuiltIn {
                builtin: BuiltIn::XorTable,
                ..
            }
        )
    }
}

/// One part of the data, ready for the network.
#[derive(Clone, Debug)]
pub struct Part {
    /// Scaled features, one example per row.
    pub features: Matrix<f32>,
    /// Training targets: one-hot, 0/1 labels, or standardised values.
    pub targets: Matrix<f32>,
    /// Regression targets in their original units.
    pub values: Option<Matrix<f32>>,
}

impl Part {
    /// Number of examples.
    pub fn rows(&self) -> usize {
        self.features.rows()
    }
}

/// The data split into parts, before scaling and encoding.
#[derive(Clone, Debug)]
pub struct Splits {
    /// The training part.
    pub train: Dataset,
    /// The validation part, when asked for.
    pub validation: Option<Dataset>,
    /// The test part (the training part itself when there is none).
    pub test: Dataset,
    /// True when the test part is the training data.
    pub test_is_training: bool,
    /// Classification or regression.
    pub task: Task,
    /// `"tabular"` or `"image"`.
    pub input_kind: &'static str,
    /// Lines describing what was loaded.
    pub summary: Vec<String>,
    /// The CSV target column's name, when the data came from a CSV.
    pub target_name: Option<String>,
    /// What filled missing cells (`--missing mean`), for the model file.
    pub missing_fills: Vec<backprop_data::MissingFill>,
    /// `train`'s [`Dataset::sha256`], when the loader took it and `train` is the data as loaded
    /// (no conversion, alignment or split changed it). Whoever changes `train` sets it to None.
    pub train_sha256: Option<String>,
}

impl Splits {
    /// Output width for this data: classes (or 1 for a single sigmoid unit) or target columns.
    pub fn n_outputs(&self, single_sigmoid: bool) -> usize {
        if single_sigmoid {
            1
        } else {
            self.train.n_outputs()
        }
    }
}

/// Re-expresses the loaded data in the model's features and classes under `--init-from`, and
/// splits it.
pub fn split(
    plan: &TrainPlan,
    model: Option<&ModelMetadata>,
    loaded: load::Loaded,
) -> Result<Splits, CliError> {
    let mut summary = loaded.summary;
    let mut data = loaded.data;
    let mut own_test = loaded.test;
    // Kept only down the one path below that leaves `data` as it was loaded.
    let mut loaded_sha256 = loaded.data_sha256;
    if plan.task == Some(Task::Regression) {
        loaded_sha256 = None;
        data = labels_as_values(data);
        own_test = own_test.map(labels_as_values);
    }
    if let Some(metadata) = model {
        let source = plan
            .init_from
            .as_deref()
            .unwrap_or(std::path::Path::new(""));
        let model_file = source.display().to_string();
        let task = metadata.task().map_err(|reason| {
            CliError::usage(format!("{model_file}: invalid backprop metadata: {reason}"))
        })?;
        let outputs = metadata.architecture.sizes.last().copied().unwrap_or(0);
        let columns = model_columns(metadata, task, outputs);
        loaded_sha256 = None;
        data = align_to_model(data, &columns, &model_file, &mut summary)?;
        own_test = own_test
            .map(|test| align_to_model(test, &columns, &model_file, &mut summary))
            .transpose()?;
    }
    let task = if data.is_classification() {
        Task::Classification
    } else {
        Task::Regression
    };
    let (train, test, test_is_training) = match (own_test, plan.test_split) {
        (Some(test), _) => (data, test, false),
        (None, Some(fraction)) => {
            let (train, test) = train_test_split(&data, fraction, plan.seed, true)?;
            loaded_sha256 = None;
            (train, test, false)
        }
        (None, None) => (data.clone(), data, true),
    };
    let (train, validation) = match plan.validation {
        Some(fraction) => {
            let (train, validation) = train_validation_split(&train, fraction, plan.seed, true)?;
            loaded_sha256 = None;
            (train, Some(validation))
        }
        None => (train, None),
    };
    Ok(Splits {
        train,
        validation,
        test,
        test_is_training,
        task,
        input_kind: loaded.input_kind,
        target_name: loaded.target_name,
        missing_fills: loaded.missing_fills,
        summary,
        train_sha256: loaded_sha256,
    })
}
