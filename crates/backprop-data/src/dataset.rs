//! A data set in memory: a feature matrix X with one example per row, and its targets, either
//! class labels (classification) or a matrix of real values (regression, one column per target).
//!
//! For training, labels become one-hot rows: yᵢⱼ = 1 when j = labelᵢ, else 0.

use crate::DataError;
use backprop_tensor::{Float, Matrix};

/// What the network should predict for each row.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Classification: one class index per row, below `class_names.len()`.
    Classes {
        /// The class index of each row.
        labels: Vec<usize>,
        /// The name of each class, by index.
        class_names: Vec<String>,
    },
    /// Regression: one row per example, one column per target.
    Values(Matrix<f32>),
}

impl Targets {
    /// Number of rows (examples).
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values(values) => values.rows(),
        }
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the listed rows, in order.
    ///
    /// # Panics
    /// When an index is out of range.
    #[track_caller]
    pub fn subset(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes {
                labels,
                class_names,
            } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                class_names: class_names.clone(),
            },
            Targets::Values(values) => Targets::Values(values.select_rows(indices)),
        }
    }
}

/// Features, targets and names: everything a training run needs from its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// One example per row, one feature per column.
    pub features: Matrix<f32>,
    /// Labels or values, one per row of `features`.
    pub targets: Targets,
    /// The name of each feature column.
    pub feature_names: Vec<String>,
    /// A short name for the data set (e.g. `"circle"`).
    pub name: String,
    /// The string columns that were one-hot encoded (CSV data), in column order: each owns
    /// the contiguous features named `{name}={category}`. Empty for numeric data.
    pub categories: Vec<CategoricalColumn>,
}

/// A string (categorical) input column, one-hot encoded into one feature per category, named
/// `{name}={category}`. Stored with a model so that new data is encoded the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoricalColumn {
    /// The column's name in the CSV header.
    pub name: String,
    /// The categories seen in training, in feature order (sorted).
    pub categories: Vec<String>,
}

impl Dataset {
    /// A data set after checking that its parts agree: as many target rows as feature rows, one
    /// name per feature column, and every label below the number of classes.
    pub fn new(
        name: impl Into<String>,
        features: Matrix<f32>,
        feature_names: Vec<String>,
        targets: Targets,
    ) -> Result<Self, DataError> {
        if features.rows() != targets.len() {
            return Err(DataError::RowCountMismatch {
                features: features.rows(),
                targets: targets.len(),
            });
        }
        if feature_names.len() != features.cols() {
            return Err(DataError::FeatureNameCountMismatch {
                names: feature_names.len(),
                columns: features.cols(),
            });
        }
        if let Targets::Classes {
            labels,
            class_names,
        } = &targets
        {
            if let Some((row, &label)) = labels
                .iter()
                .enumerate()
                .find(|(_, &label)| label >= class_names.len())
            {
                return Err(DataError::LabelOutOfRange {
                    row,
                    label,
                    n_classes: class_names.len(),
                });
            }
        }
        Ok(Self {
            features,
            targets,
            feature_names,
            name: name.into(),
            categories: Vec::new(),
        })
    }

    /// The same data set with these categorical encodings recorded (see
    /// [`Dataset::categories`]).
    pub fn with_categories(mut self, categories: Vec<CategoricalColumn>) -> Self {
        self.categories = categories;
        self
    }

    /// The hex SHA-256 of the data set's content, which ties a model to its training data: the
    /// feature matrix as `f32` little-endian bytes (row-major), then the targets (labels as
    /// `u64` little-endian, or values as `f32` little-endian, row-major), then the feature
    /// names joined by `'\n'`. The name, class names and categories are not hashed (the
    /// categories are in the feature names).
    pub fn sha256(&self) -> String {
        crate::content_hash::ContentHasher::dataset(self)
    }

    /// Number of examples (rows).
    pub fn len(&self) -> usize {
        self.features.rows()
    }

    /// True when the data set has no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of feature columns (the network's input width).
    pub fn n_features(&self) -> usize {
        self.features.cols()
    }

    /// Number of classes for classification, `None` for regression.
    pub fn n_classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Classes { class_names, .. } => Some(class_names.len()),
            Targets::Values(_) => None,
        }
    }

    /// True when the targets are class labels.
    pub fn is_classification(&self) -> bool {
        matches!(self.targets, Targets::Classes { .. })
    }

    /// The network's output width: the number of classes, or the number of target columns.
    pub fn n_outputs(&self) -> usize {
        match &self.targets {
            Targets::Classes { class_names, .. } => class_names.len(),
            Targets::Values(values) => values.cols(),
        }
    }

    /// The class labels, or `None` for regression.
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes { labels, .. } => Some(labels),
            Targets::Values(_) => None,
        }
    }

    /// The class names, or `None` for regression.
    pub fn class_names(&self) -> Option<&[String]> {
        match &self.targets {
            Targets::Classes { class_names, .. } => Some(class_names),
            Targets::Values(_) => None,
        }
    }

    /// Rows per class, by class index (`None` for regression).
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        match &self.targets {
            Targets::Classes {
                labels,
                class_names,
            } => {
                let mut counts = vec![0; class_names.len()];
                for &label in labels {
                    counts[label] += 1;
                }
                Some(counts)
            }
            Targets::Values(_) => None,
        }
    }

    /// A new data set made of the listed rows, in the order listed (names are kept).
    ///
    /// # Panics
    /// When an index is out of range (indices come from the program, not from the user).
    #[track_caller]
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select_rows(indices),
            targets: self.targets.subset(indices),
            feature_names: self.feature_names.clone(),
            name: self.name.clone(),
            categories: self.categories.clone(),
        }
    }

    /// One-hot rows for `labels` (the same as the free function [`one_hot`]).
    ///
    /// # Panics
    /// When a label is `>= n_classes`.
    #[track_caller]
    pub fn one_hot<T: Float>(labels: &[usize], n_classes: usize) -> Matrix<T> {
        one_hot(labels, n_classes)
    }

    /// The training targets as a matrix: one-hot rows for classes, the values for regression.
    pub fn targets_matrix<T: Float>(&self) -> Matrix<T> {
        match &self.targets {
            Targets::Classes {
                labels,
                class_names,
            } => one_hot(labels, class_names.len()),
            Targets::Values(values) => values.cast(),
        }
    }
}

/// One-hot encoding: row i has a 1 in column `labels[i]` and 0 elsewhere.
///
/// # Panics
/// When a label is `>= n_classes` ([`Dataset::new`] rules that out for a data set's labels).
#[track_caller]
pub fn one_hot<T: Float>(labels: &[usize], n_classes: usize) -> Matrix<T> {
    let mut matrix = Matrix::zeros(labels.len(), n_classes);
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            label < n_classes,
            "one_hot: label {label} in row {row} is not below {n_classes} classes"
        );
        matrix[(row, label)] = T::ONE;
    }
    matrix
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        let features = Matrix::from_rows(&[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]).unwrap();
        let targets = Targets::Classes {
            labels: vec![2, 0, 1],
            class_names: vec!["a".into(), "b".into(), "c".into()],
        };
        Dataset::new("tiny", features, vec!["u".into(), "v".into()], targets).unwrap()
    }

    #[test]
    fn sha256_of_many_values_is_that_of_their_bytes_in_order() {
        use sha2::{Digest, Sha256};
        // Past several of the hasher's 64 KiB slices, with a ragged end.
        let (rows, cols) = (3001, 13);
        let features = Matrix::from_fn(rows, cols, |i, j| (i * cols + j) as f32 * 0.37 - 5.0);
        let values = Matrix::from_fn(rows, 2, |i, j| (i + j) as f32 / 7.0);
        let names: Vec<String> = (0..cols).map(|j| format!("x{j}")).collect();
        let data = Dataset::new(
            "many",
            features.clone(),
            names.clone(),
            Targets::Values(values.clone()),
        )
        .unwrap();
        let mut bytes = Vec::new();
        for value in features.as_slice().iter().chain(values.as_slice()) {
            bytes.extend(value.to_le_bytes());
        }
        bytes.extend(names.join("\n").as_bytes());
        assert_eq!(data.sha256(), hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn accessors_report_shape_and_task() {
        let data = tiny();
        assert_eq!(data.len(), 3);
        assert!(!data.is_empty());
        assert_eq!(data.n_features(), 2);
        assert_eq!(data.n_classes(), Some(3));
        assert_eq!(data.n_outputs(), 3);
        assert!(data.is_classification());
        assert_eq!(data.class_counts(), Some(vec![1, 1, 1]));
    }

    #[test]
    fn one_hot_and_targets_matrix() {
        let m: Matrix<f64> = one_hot(&[1, 0], 3);
        assert_eq!(m.as_slice(), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(Dataset::one_hot::<f64>(&[1, 0], 3), m);
        let t: Matrix<f32> = tiny().targets_matrix();
        assert_eq!(t.argmax_rows(), vec![2, 0, 1]);
        let values = Matrix::from_rows(&[[1.5], [2.5]]).unwrap();
        let reg = Dataset::new(
            "r",
            Matrix::zeros(2, 1),
            vec!["x".into()],
            Targets::Values(values.clone()),
        )
        .unwrap();
        assert_eq!(reg.targets_matrix::<f32>(), values);
        assert_eq!(reg.n_classes(), None);
        assert_eq!(reg.n_outputs(), 1);
    }

    #[test]
    fn subset_keeps_rows_in_order_and_names() {
        let data = tiny().subset(&[2, 0]);
        assert_eq!(data.features.as_slice(), &[4.0, 5.0, 0.0, 1.0]);
        assert_eq!(data.labels(), Some(&[1, 2][..]));
        assert_eq!(data.class_names().unwrap().len(), 3);
        assert_eq!(data.feature_names, vec!["u", "v"]);
    }

    #[test]
    fn new_rejects_inconsistent_parts() {
        let labels = |labels: Vec<usize>| Targets::Classes {
            labels,
            class_names: vec!["0".into(), "1".into()],
        };
        let err = Dataset::new("x", Matrix::zeros(2, 1), vec!["a".into()], labels(vec![0]));
        assert_eq!(
            err.unwrap_err().to_string(),
            "the features have 2 rows but the targets have 1"
        );
        let err = Dataset::new("x", Matrix::zeros(1, 2), vec!["a".into()], labels(vec![0]));
        assert!(matches!(
            err,
            Err(DataError::FeatureNameCountMismatch { .. })
        ));
        let err = Dataset::new("x", Matrix::zeros(1, 1), vec!["a".into()], labels(vec![2]));
        assert_eq!(
            err.unwrap_err().to_string(),
            "row 0 has label 2, but there are only 2 classes"
        );
    }
}
