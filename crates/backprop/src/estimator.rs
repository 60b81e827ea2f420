//! A small `fit / predict / score` front over networks, configs and the training loop, in the
//! manner of scikit-learn's `MLPClassifier` and `MLPRegressor`.
//!
//! - [`Classifier`]: labels 0…k−1, a softmax output with cross-entropy; `score` is accuracy.
//! - [`Regressor`]: real targets, one column each, identity output with MSE; targets are
//!   standardised for training and mapped back for prediction; `score` is R².
//!
//! Defaults follow scikit-learn where it has one: ReLU hidden layers, Adam with learning rate
//! 1e-3, batches of min(200, n), 200 epochs. Inputs are used as given: scale them first.

use crate::network::{Network, NetworkConfig};
use crate::optim::{AdamConfig, OptimizerConfig};
use crate::train::{evaluate, History, Silent, Task, Trainer, TrainingConfig, Validation};
use crate::{Activation, Cost, Error, Initialization, Result};
use backprop_tensor::Matrix;

/// Settings shared by [`Classifier`] and [`Regressor`].
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatorSettings {
    /// Hidden layer widths, e.g. `[100]`.
    pub hidden_layers: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Optimiser and learning rate.
    pub optimizer: OptimizerConfig,
    /// Epochs.
    pub epochs: usize,
    /// Batch size; `None` means min(200, n).
    pub batch_size: Option<usize>,
    /// Seed for weights, shuffles and splits.
    pub seed: u64,
    /// Initialisation.
    pub initialization: Initialization,
    /// Hold out this fraction for early stopping, with the given patience.
    pub early_stopping: Option<(f64, usize)>,
}

impl Default for EstimatorSettings {
    fn default() -> Self {
        Self {
            hidden_layers: vec![100],
            activation: Activation::Relu,
            optimizer: OptimizerConfig::Adam(AdamConfig::default()),
            epochs: 200,
            batch_size: None,
            seed: 0,
            initialization: Initialization::default(),
            early_stopping: None,
        }
    }
}

impl EstimatorSettings {
    fn train(
        &self,
        sizes: Vec<usize>,
        cost: Cost,
        x: &Matrix<f32>,
        y: &Matrix<f32>,
        task: Task,
    ) -> Result<(Network<f32>, History)> {
        let network_config = NetworkConfig::new(&sizes, cost)
            .with_hidden_activation(self.activation)
            .with_initialization(self.initialization)
            .with_seed(self.seed);
        let mut network = network_config.init::<f32>()?;
        let (validation, early_stopping) = match self.early_stopping {
            Some((fraction, patience)) => (Validation::Fraction(fraction), Some(patience)),
            None => (Validation::None, None),
        };
        let config = TrainingConfig {
            epochs: self.epochs,
            batch_size: self.batch_size.unwrap_or(x.rows().clamp(1, 200)),
            optimizer: self.optimizer.clone(),
            validation,
            early_stopping,
            seed: self.seed,
            task: Some(task),
            ..TrainingConfig::default()
        };
        let history = Trainer::new(config)?.fit(&mut network, x, y, None, &mut Silent)?;
        Ok((network, history))
    }
}

macro_rules! settings_builders {
    () => {
        /// Sets the hidden layer widths.
        pub fn hidden_layers(mut self, widths: &[usize]) -> Self {
            self.settings.hidden_layers = widths.to_vec();
            self
        }
        /// Sets the hidden activation.
        pub fn activation(mut self, activation: Activation) -> Self {
            self.settings.activation = activation;
            self
        }
        /// Sets the optimiser (and with it the learning rate).
        pub fn optimizer(mut self, optimizer: OptimizerConfig) -> Self {
            self.settings.optimizer = optimizer;
            self
        }
        /// Sets the number of epochs.
        pub fn epochs(mut self, epochs: usize) -> Self {
            self.settings.epochs = epochs;
            self
        }
        /// Sets the batch size.
        pub fn batch_size(mut self, batch_size: usize) -> Self {
            self.settings.batch_size = Some(batch_size);
            self
        }
        /// Sets the seed.
        pub fn seed(mut self, seed: u64) -> Self {
            self.settings.seed = seed;
            self
        }
        /// Sets the initialisation.
        pub fn initialization(mut self, initialization: Initialization) -> Self {
            self.settings.initialization = initialization;
            self
        }
        /// Holds out `fraction` of the data and stops after `patience` epochs without improvement.
        pub fn early_stopping(mut self, fraction: f64, patience: usize) -> Self {
            self.settings.early_stopping = Some((fraction, patience));
            self
        }
        /// The trained network, once fitted.
        pub fn network(&self) -> Option<&Network<f32>> {
            self.fitted.as_ref().map(|f| &f.network)
        }
        /// The training history, once fitted.
        pub fn history(&self) -> Option<&History> {
            self.fitted.as_ref().map(|f| &f.history)
        }
    };
}

#[derive(Clone, Debug)]
struct Fitted {
    network: Network<f32>,
    history: History,
}

fn not_fitted<T>() -> Result<T> {
    Err(Error::Training(
        "the model is not fitted yet: call fit first".into(),
    ))
}

fn check_rows(x: &Matrix<f32>, count: usize, what: &str) -> Result<()> {
    if x.rows() != count {
        return Err(Error::Shape {
            context: what.into(),
            expected: format!("{} rows", x.rows()),
            found: format!("{count}"),
        });
    }
    Ok(())
}

/// A multi-layer perceptron classifier.
///
/// ```
/// use backprop::estimator::Classifier;
/// use backprop::Matrix;
/// let x = Matrix::<f32>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).unwrap();
/// let labels = [0, 1, 1, 0];
/// let mut model = Classifier::new(&[8]).epochs(500).seed(1);
/// model.fit(&x, &labels).unwrap();
/// assert_eq!(model.predict(&x).unwrap(), labels);
/// assert_eq!(model.score(&x, &labels).unwrap(), 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct Classifier {
    settings: EstimatorSettings,
    classes: usize,
    fitted: Option<Fitted>,
}

impl Classifier {
    /// A classifier with these hidden layers and scikit-learn-like defaults.
    pub fn new(hidden_layers: &[usize]) -> Self {
        Self {
            settings: EstimatorSettings {
                hidden_layers: hidden_layers.to_vec(),
                ..EstimatorSettings::default()
            },
            classes: 0,
            fitted: None,
        }
    }

    settings_builders!();

    /// Trains on rows of `x` with class labels 0…k−1.
    pub fn fit(&mut self, x: &Matrix<f32>, labels: &[usize]) -> Result<&History> {
        check_rows(x, labels.len(), "labels")?;
        let classes = labels.iter().copied().max().map_or(0, |m| m + 1).max(2);
        let y = one_hot(labels, classes);
        let mut sizes = vec![x.cols()];
        sizes.extend(&self.settings.hidden_layers);
        sizes.push(classes);
        let (network, history) = self.settings.train(
            sizes,
            Cost::SoftmaxCrossEntropy,
            x,
            &y,
            Task::Classification,
        )?;
        self.classes = classes;
        Ok(&self.fitted.insert(Fitted { network, history }).history)
    }

    /// Class probabilities, one row per example.
    pub fn predict_proba(&self, x: &Matrix<f32>) -> Result<Matrix<f32>> {
        let Some(fitted) = &self.fitted else {
            return not_fitted();
        };
        check_width(&fitted.network, x)?;
        Ok(fitted.network.forward(x))
    }

    /// The most probable class of each row.
    pub fn predict(&self, x: &Matrix<f32>) -> Result<Vec<usize>> {
        Ok(self.predict_proba(x)?.argmax_rows())
    }

    /// Accuracy on (`x`, `labels`), in [0, 1].
    pub fn score(&self, x: &Matrix<f32>, labels: &[usize]) -> Result<f64> {
        let Some(fitted) = &self.fitted else {
            return not_fitted();
        };
        check_rows(x, labels.len(), "labels")?;
        check_width(&fitted.network, x)?;
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes) {
            return Err(Error::Shape {
                context: "labels".into(),
                expected: format!("classes below {}", self.classes),
                found: format!("{bad}"),
            });
        }
        let y = one_hot(labels, self.classes);
        Ok(evaluate(&fitted.network, x, &y, Task::Classification)
            .accuracy
            .unwrap_or(0.0))
    }
}

/// A multi-layer perceptron regressor.
///
/// ```
/// use backprop::estimator::Regressor;
/// use backprop::Matrix;
/// let x = Matrix::<f32>::from_fn(40, 1, |i, _| i as f32 / 40.0);
/// let y = x.map(|v| 3.0 * v - 1.0);
/// let mut model = Regressor::new(&[8]).epochs(300).batch_size(8).seed(2);
/// model.fit(&x, &y).unwrap();
/// assert!(model.score(&x, &y).unwrap() > 0.99);
/// ```
#[derive(Clone, Debug)]
pub struct Regressor {
    settings: EstimatorSettings,
    target_mean: Vec<f64>,
    target_std: Vec<f64>,
    fitted: Option<Fitted>,
}

impl Regressor {
    /// A regressor with these hidden layers and scikit-learn-like defaults.
    pub fn new(hidden_layers: &[usize]) -> Self {
        Self {
            settings: EstimatorSettings {
                hidden_layers: hidden_layers.to_vec(),
                ..EstimatorSettings::default()
            },
            target_mean: Vec::new(),
            target_std: Vec::new(),
            fitted: None,
        }
    }

    settings_builders!();

    /// Trains on rows of `x` with targets `y` (one column per target).
    pub fn fit(&mut self, x: &Matrix<f32>, y: &Matrix<f32>) -> Result<&History> {
        check_rows(x, y.rows(), "targets")?;
        let n = y.rows().max(1) as f64;
        self.target_mean = (0..y.cols())
            .map(|j| (0..y.rows()).map(|i| y[(i, j)] as f64).sum::<f64>() / n)
            .collect();
        self.target_std = (0..y.cols())
            .map(|j| {
                let variance = (0..y.rows())
                    .map(|i| (y[(i, j)] as f64 - self.target_mean[j]).powi(2))
                    .sum::<f64>()
                    / n;
                if variance > 0.0 {
                    variance.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        let scaled = Matrix::from_fn(y.rows(), y.cols(), |i, j| {
            ((y[(i, j)] as f64 - self.target_mean[j]) / self.target_std[j]) as f32
        });
        let mut sizes = vec![x.cols()];
        sizes.extend(&self.settings.hidden_layers);
        sizes.push(y.cols());
        let (network, history) =
            self.settings
                .train(sizes, Cost::MeanSquaredError, x, &scaled, Task::Regression)?;
        Ok(&self.fitted.insert(Fitted { network, history }).history)
    }

    /// Predictions in the targets' original units, one row per example.
    pub fn predict(&self, x: &Matrix<f32>) -> Result<Matrix<f32>> {
        let Some(fitted) = &self.fitted else {
            return not_fitted();
        };
        check_width(&fitted.network, x)?;
        let scaled = fitted.network.forward(x);
        Ok(Matrix::from_fn(scaled.rows(), scaled.cols(), |i, j| {
            (scaled[(i, j)] as f64 * self.target_std[j] + self.target_mean[j]) as f32
        }))
    }

    /// R² on (`x`, `y`), averaged over target columns.
    pub fn score(&self, x: &Matrix<f32>, y: &Matrix<f32>) -> Result<f64> {
        let predicted = self.predict(x)?;
        if predicted.shape() != y.shape() {
            return Err(Error::Shape {
                context: "targets".into(),
                expected: format!("{:?}", predicted.shape()),
                found: format!("{:?}", y.shape()),
            });
        }
        let mut accumulator = crate::train::MetricAccumulator::new();
        accumulator.add(&predicted, y, 0.0);
        Ok(accumulator.finish(Task::Regression, 0.0).r2.unwrap_or(0.0))
    }
}

fn check_width(network: &Network<f32>, x: &Matrix<f32>) -> Result<()> {
    if x.cols() != network.input_width() {
        return Err(Error::Shape {
            context: "inputs".into(),
            expected: format!("{} columns", network.input_width()),
            found: format!("{}", x.cols()),
        });
    }
    Ok(())
}

/// One-hot rows for labels below `classes`.
pub fn one_hot(labels: &[usize], classes: usize) -> Matrix<f32> {
    let mut y = Matrix::zeros(labels.len(), classes);
    for (i, &label) in labels.iter().enumerate() {
        if label < classes {
            y[(i, label)] = 1.0;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_before_fit_and_on_bad_shapes() {
        let model = Classifier::new(&[4]);
        let x = Matrix::<f32>::zeros(3, 2);
        assert!(model
            .predict(&x)
            .unwrap_err()
            .to_string()
            .contains("not fitted"));
        let mut model = Classifier::new(&[4]).epochs(1);
        assert!(model.fit(&x, &[0, 1]).is_err());
        model.fit(&x, &[0, 1, 0]).unwrap();
        assert!(model
            .predict(&Matrix::zeros(1, 3))
            .unwrap_err()
            .to_string()
            .contains("2 columns"));
        assert!(model.score(&x, &[0, 1, 5]).is_err());
    }
}
