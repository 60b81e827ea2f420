//! Scaling and encoding the split data: a scaler fitted on the training part (or a model's,
//! under `--init-from`) applied to every part, one-hot or 0/1 class targets, standardised
//! regression targets ([`backprop_data::tabular::training_targets`]), and the preprocessing
//! the model file records, in its affine form ([`backprop_data::Scaler::affine`]).

use super::{Part, Splits};
use backprop::model::{AffineScaler, CategoricalEncoding, Preprocessing};
use backprop::train::Task;
use backprop_data::tabular::training_targets;
use backprop_data::{CategoricalColumn, Dataset, Scaler, ScalerKind, TargetScaler, Targets};

/// The parts of the data, scaled and encoded, and what the model file must say about them.
#[derive(Clone, Debug)]
pub struct PreparedData {
    /// The data set's name.
    pub name: String,
    /// The training part.
    pub train: Part,
    /// The validation part, when asked for.
    pub validation: Option<Part>,
    /// The test part (the training part itself when there is no test split).
    pub test: Part,
    /// True when the test part is the training data.
    pub test_is_training: bool,
    /// Classification or regression.
    pub task: Task,
    /// The preprocessing the model file records: names, encodings, scalers, input kind.
    pub preprocessing: Preprocessing,
    /// The SHA-256 of the training part before scaling ([`Dataset::sha256`]).
    pub train_sha256: String,
    /// The CSV target column's name, when the data came from a CSV.
    pub target_name: Option<String>,
}

/// How to scale: fit a new scaler, or keep a model's.
#[derive(Clone, Copy, Debug)]
pub enum Scaling<'a> {
    /// Fit this kind on the training part, and standardise regression targets when asked.
    Fit {
        /// How the features are scaled.
        inputs: ScalerKind,
        /// Standardise regression targets (`--target-scale standard`).
        standardize_targets: bool,
    },
    /// Use a model's stored input and target scalers.
    Reuse(&'a Preprocessing),
}

/// Scales and encodes the parts. Features that need no scaling move into the prepared parts,
/// never copied (MNIST's training images are 188 MB).
pub fn encode(mut splits: Splits, scaling: Scaling<'_>, single_sigmoid: bool) -> PreparedData {
    let train = &splits.train;
    let (input_scaler, target_scaler) = match scaling {
        Scaling::Fit {
            inputs,
            standardize_targets,
        } => (
            affine_scaler(inputs.fit(&train.features)),
            TargetScaler::fit_dataset(train)
                .filter(|_| standardize_targets)
                .map(|scaler| AffineScaler::standard(scaler.mean, scaler.std)),
        ),
        Scaling::Reuse(preprocessing) => (
            preprocessing.input_scaler.clone(),
            preprocessing.target_scaler.clone(),
        ),
    };
    let encode = |part: &Dataset| {
        encode_part(
            part,
            input_scaler.as_ref(),
            target_scaler.as_ref(),
            single_sigmoid,
        )
    };
    let preprocessing = Preprocessing {
        feature_names: train.feature_names.clone(),
        class_names: train.class_names().map(<[String]>::to_vec),
        categorical: train.categories.iter().map(categorical_encoding).collect(),
        input_scaler: input_scaler.clone(),
        target_scaler: target_scaler.clone(),
        input_kind: splits.input_kind.into(),
        missing_fill: splits
            .missing_fills
            .iter()
            .map(|fill| backprop::model::MissingFill {
                column: fill.column.clone(),
                value: match &fill.value {
                    backprop_data::FillValue::Number(value) => {
                        backprop::model::FillValue::Number(f64::from(*value))
                    }
                    backprop_data::FillValue::Category(category) => {
                        backprop::model::FillValue::Category(category.clone())
                    }
                },
            })
            .collect(),
    };
    // Hashing the training part (single-threaded, about as long as encoding every part) runs
    // on a second thread meanwhile, unless the loader hashed it already.
    let known_sha256 = splits.train_sha256.take();
    debug_assert!(
        known_sha256
            .as_ref()
            .is_none_or(|known| *known == train.sha256()),
        "the loader's hash is that of the training part"
    );
    let (train_sha256, (mut train_part, mut validation, mut test)) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| known_sha256.unwrap_or_else(|| train.sha256()));
        let parts = (
            encode(train),
            splits.validation.as_ref().map(encode),
            encode(&splits.test),
        );
        let hash = hash
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (hash, parts)
    });
    let Splits {
        train,
        validation: validation_data,
        test: test_data,
        test_is_training,
        task,
        target_name,
        ..
    } = splits;
    if input_scaler.is_none() {
        train_part.features = train.features;
        test.features = test_data.features;
        if let (Some(part), Some(data)) = (validation.as_mut(), validation_data) {
            part.features = data.features;
        }
    }
    PreparedData {
        target_name,
        name: train.name,
        train: train_part,
        validation,
        test,
        test_is_training,
        task,
        preprocessing,
        train_sha256,
    }
}

/// The model file's form of a fitted scaler: standard is (mean, σ), min-max is (min, range),
/// with the data crate's fallback of 1 for a constant column.
pub fn affine_scaler(scaler: Scaler) -> Option<AffineScaler> {
    let (center, scale) = scaler.affine()?;
    Some(match scaler {
        Scaler::MinMax { .. } => AffineScaler::min_max(center, scale),
        _ => AffineScaler::standard(center, scale),
    })
}

/// A data set's categorical column as the model file records it.
fn categorical_encoding(column: &CategoricalColumn) -> CategoricalEncoding {
    CategoricalEncoding {
        column: column.name.clone(),
        categories: column.categories.clone(),
    }
}

/// Scales the features and encodes the targets of one part. Unscaled features are left empty
/// (0 × 0) here: the caller moves the part's own in.
fn encode_part(
    part: &Dataset,
    input_scaler: Option<&AffineScaler>,
    target_scaler: Option<&AffineScaler>,
    single_sigmoid: bool,
) -> Part {
    let features = match input_scaler {
        Some(scaler) => scaler.transform(&part.features),
        None => backprop::Matrix::zeros(0, 0),
    };
    let targets = training_targets(&part.targets, single_sigmoid);
    match &part.targets {
        Targets::Values(values) => Part {
            features,
            targets: match target_scaler {
                Some(scaler) => scaler.transform(&targets),
                None => targets,
            },
            values: Some(values.clone()),
        },
        Targets::Classes { .. } => Part {
            features,
            targets,
            values: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::Matrix;

    #[test]
    fn min_max_scalers_keep_the_constant_column_fallback() {
        let features = Matrix::from_rows(&[[0.0f32, 5.0], [2.0, 5.0]]).unwrap();
        let scaler = affine_scaler(ScalerKind::MinMax.fit(&features)).unwrap();
        assert_eq!(scaler.kind, "minmax");
        assert_eq!(
            (scaler.center, scaler.scale),
            (vec![0.0, 5.0], vec![2.0, 1.0])
        );
        let standard = affine_scaler(ScalerKind::Standard.fit(&features)).unwrap();
        assert_eq!(standard.scale, vec![1.0, 1.0]);
        assert!(affine_scaler(ScalerKind::None.fit(&features)).is_none());
    }

    #[test]
    fn affine_scaling_matches_the_data_crate() {
        let features = Matrix::from_rows(&[[0.5f32, 1.0], [2.0, -3.0], [7.0, 0.25]]).unwrap();
        for kind in [ScalerKind::Standard, ScalerKind::MinMax] {
            let fitted = kind.fit(&features);
            let affine = affine_scaler(fitted.clone()).unwrap();
            assert_eq!(affine.transform(&features), fitted.transform(&features));
        }
    }
}
