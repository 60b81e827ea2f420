//! linfa's traits for the estimators (the `linfa` feature; linfa has no neural network of its
//! own). [`ClassifierParams`] and [`RegressorParams`] hold an unfitted [`Classifier`] or
//! [`Regressor`] as linfa parameters; their `Fit` trains a copy and returns a
//! [`FittedClassifier`] or [`FittedRegressor`], which implement `PredictInplace`, so linfa's
//! blanket impls give them `Predict` on arrays and datasets.
//!
//! ```
//! use backprop::estimator::Classifier;
//! use backprop::linfa::ClassifierParams;
//! use linfa::prelude::*;
//! use ndarray::{array, Array1};
//! let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let labels: Array1<usize> = array![0, 1, 1, 0];
//! let dataset = Dataset::new(x.clone(), labels.clone());
//! let params = ClassifierParams::new(Classifier::new(&[8]).epochs(500).seed(3));
//! let fitted = params.fit(&dataset).unwrap();
//! let predicted: Array1<usize> = fitted.predict(&x);
//! assert_eq!(predicted, labels);
//! ```

use crate::estimator::{Classifier, Regressor};
use crate::Matrix;
use ::linfa::dataset::DatasetBase;
use ::linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};

/// Why a linfa `fit` failed: linfa's own checks, or backprop's.
#[derive(Debug, thiserror::Error)]
pub enum LinfaError {
    /// From linfa.
    #[error(transparent)]
    Linfa(#[from] ::linfa::Error),
    /// From backprop (bad labels, divergence, …).
    #[error(transparent)]
    Backprop(#[from] crate::Error),
}

/// An unfitted [`Classifier`] as linfa parameters.
#[derive(Clone, Debug)]
pub struct ClassifierParams(pub Classifier);

impl ClassifierParams {
    /// Parameters that train `classifier`'s settings.
    pub fn new(classifier: Classifier) -> Self {
        Self(classifier)
    }
}

/// A trained [`Classifier`]; predicts class labels (`usize`).
#[derive(Clone, Debug)]
pub struct FittedClassifier(pub Classifier);

/// An unfitted [`Regressor`] as linfa parameters (one target column).
#[derive(Clone, Debug)]
pub struct RegressorParams(pub Regressor);

impl RegressorParams {
    /// Parameters that train `regressor`'s settings.
    pub fn new(regressor: Regressor) -> Self {
        Self(regressor)
    }
}

/// A trained [`Regressor`]; predicts one value per row.
#[derive(Clone, Debug)]
pub struct FittedRegressor(pub Regressor);

fn records<D: Data<Elem = f32>>(x: &ArrayBase<D, Ix2>) -> Matrix<f32> {
    Matrix::from_ndarray(x.view())
}

impl Fit<Array2<f32>, Array1<usize>, LinfaError> for ClassifierParams {
    type Object = FittedClassifier;

    /// Trains a copy of the settings on the dataset's records and class labels.
    fn fit(
        &self,
        dataset: &DatasetBase<Array2<f32>, Array1<usize>>,
    ) -> Result<FittedClassifier, LinfaError> {
        let mut model = self.0.clone();
        let labels: Vec<usize> = dataset.targets.iter().copied().collect();
        model.fit(&records(&dataset.records), &labels)?;
        Ok(FittedClassifier(model))
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for FittedClassifier {
    /// The predicted classes.
    ///
    /// # Panics
    /// When `x` has another width than the training records (linfa's trait has no error to
    /// return), or `y` another length than `x` has rows.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        assert_eq!(y.len(), x.nrows(), "one target per row");
        let classes = self
            .0
            .predict(&records(x))
            .unwrap_or_else(|error| panic!("{error}"));
        y.iter_mut()
            .zip(classes)
            .for_each(|(slot, class)| *slot = class);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

impl Fit<Array2<f32>, Array1<f32>, LinfaError> for RegressorParams {
    type Object = FittedRegressor;

    /// Trains a copy of the settings on the dataset's records and target values.
    fn fit(
        &self,
        dataset: &DatasetBase<Array2<f32>, Array1<f32>>,
    ) -> Result<FittedRegressor, LinfaError> {
        let mut model = self.0.clone();
        let targets = Matrix::from_fn(dataset.targets.len(), 1, |row, _| dataset.targets[row]);
        model.fit(&records(&dataset.records), &targets)?;
        Ok(FittedRegressor(model))
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f32>> for FittedRegressor {
    /// The predicted values.
    ///
    /// # Panics
    /// When `x` has another width than the training records, or `y` another length than `x`
    /// has rows.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f32>) {
        assert_eq!(y.len(), x.nrows(), "one target per row");
        let values = self
            .0
            .predict(&records(x))
            .unwrap_or_else(|error| panic!("{error}"));
        y.iter_mut()
            .zip(values.as_slice())
            .for_each(|(slot, &value)| *slot = value);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f32> {
        Array1::zeros(x.nrows())
    }
}
