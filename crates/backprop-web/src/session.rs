//! One training session: the data, the network and the library's [`Trainer`] that steps it.
//!
//! A step is the library's [`Trainer::step`]: the next batch of the epoch's seeded permutation
//! (the last batch smaller), backprop (penalties included) and the optimiser at the configured
//! learning rate. The δ lens ([`crate::trace`]) takes its "update one step would make" from
//! [`Trainer::step_rows`] on copies of the network and the trainer, so it is the same
//! computation.

use crate::config::{OptimizerChoice, RegularizationChoice, SessionConfig};
use crate::data::{SessionData, Task};
use crate::features::feature_matrix;
use crate::history::LossHistory;
use crate::limits::Limits;
use crate::ApiError;
use backprop::optim::{AdamConfig, OptimizerConfig, RmsPropConfig, SgdConfig};
use backprop::train::{DivergenceSettings, Silent};
use backprop::{Cost, Network, NetworkConfig, Regularization, Trainer, TrainingConfig};
use backprop_tensor::Matrix;

/// A session's training state.
pub struct Session {
    /// The configuration it was created with.
    pub config: SessionConfig,
    /// The data, raw and split.
    pub data: SessionData,
    /// Network inputs (features) of the training rows.
    pub train_x: Matrix<f32>,
    /// Targets of the training rows, one column.
    pub train_y: Matrix<f32>,
    /// Network inputs of the test rows.
    pub test_x: Matrix<f32>,
    /// Targets of the test rows.
    pub test_y: Matrix<f32>,
    /// The network being trained.
    pub network: Network<f32>,
    /// The library's trainer: optimiser, batch order, step and epoch counts.
    pub trainer: Trainer<f32>,
    /// True once a step was refused because its cost was not finite: training stops there.
    stalled: bool,
    /// (epoch, train loss, test loss), thinned.
    pub history: LossHistory,
    /// The losses at the current weights, with the step they were computed at.
    losses: Option<(u64, f64, f64)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("config", &self.config)
            .field("epoch", &self.epoch())
            .field("step", &self.step())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Builds the data and a fresh network for a checked configuration.
    pub fn new(config: SessionConfig, limits: &Limits) -> Result<Self, ApiError> {
        let data = crate::data::build(&config, limits)?;
        let targets = |values: &[f32]| Matrix::from_fn(values.len(), 1, |row, _| values[row]);
        let train_x = feature_matrix(&data.train.points, &config.features);
        let test_x = feature_matrix(&data.test.points, &config.features);
        let (train_y, test_y) = (targets(&data.train.targets), targets(&data.test.targets));
        let (network, trainer) = fresh_model(&config, &data, config.seed)?;
        let mut session = Self {
            config,
            data,
            train_x,
            train_y,
            test_x,
            test_y,
            network,
            trainer,
            stalled: false,
            history: LossHistory::default(),
            losses: None,
        };
        session.record_epoch();
        Ok(session)
    }

    /// Fresh weights, optimiser and batch order from `seed` (the configuration's own when
    /// `None`); the data and its split stay.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<(), ApiError> {
        let seed = seed.unwrap_or(self.config.seed);
        let (network, trainer) = fresh_model(&self.config, &self.data, seed)?;
        self.network = network;
        self.trainer = trainer;
        self.stalled = false;
        self.history = LossHistory::default();
        self.losses = None;
        self.record_epoch();
        Ok(())
    }

    /// Sets one parameter by hand: weight wˡⱼₖ when `input` is `Some(k)`, else bias bˡⱼ. Layers
    /// count from 1, neurons and inputs from 0, as in the state's `weights[j][k]`. The optimiser's
    /// state, the batch order and the counters stay; the losses are recomputed.
    pub fn set_parameter(
        &mut self,
        layer: usize,
        neuron: usize,
        input: Option<usize>,
        value: f32,
    ) -> Result<(), ApiError> {
        let mut layers = self.network.dense_layers_mut();
        let count = layers.len();
        if !(1..=count).contains(&layer) {
            return Err(ApiError::bad_request(format!(
                "layer: must be in 1..={count}, got {layer}"
            )));
        }
        let dense = &mut layers[layer - 1];
        let (neurons, inputs) = (dense.weight.rows(), dense.weight.cols());
        if neuron >= neurons {
            return Err(ApiError::bad_request(format!(
                "neuron: layer {layer} has neurons 0..{neurons}, got {neuron}"
            )));
        }
        match input {
            Some(k) if k >= inputs => {
                return Err(ApiError::bad_request(format!(
                    "input: layer {layer} has inputs 0..{inputs}, got {k}"
                )))
            }
            Some(k) => dense.weight[(neuron, k)] = value,
            None => dense.bias.as_mut_slice()[neuron] = value,
        }
        self.losses = None;
        self.stalled = false;
        Ok(())
    }

    /// Per hidden layer, the ReLU neurons that are dead: z ≤ 0 (so a = 0 and σ′ = 0) on every
    /// training row. Empty lists for other activations, which never stop passing gradient.
    pub fn dead_neurons(&self) -> Vec<Vec<usize>> {
        let hidden = self.network.dense_layers().len().saturating_sub(1);
        if self.config.activation != crate::config::ActivationChoice::Relu {
            return vec![Vec::new(); hidden];
        }
        let plane = backprop_teach::plot::plane::activations(&self.network, &self.train_x);
        plane
            .hidden
            .iter()
            .map(|a| {
                (0..a.cols())
                    .filter(|&j| (0..a.rows()).all(|row| a[(row, j)] <= 0.0))
                    .collect()
            })
            .collect()
    }

    /// Epochs complete.
    pub fn epoch(&self) -> usize {
        self.trainer.epochs_done()
    }

    /// Optimisation steps taken.
    pub fn step(&self) -> u64 {
        self.trainer.steps_taken()
    }

    /// The number of batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.train_x
            .rows()
            .div_ceil(self.trainer.config().batch_size)
    }

    /// The training rows of the batch the next step will use.
    pub fn next_batch_rows(&self) -> Vec<usize> {
        self.trainer.next_batch_rows(self.train_x.rows())
    }

    /// Takes one optimisation step on the next batch; returns its cost (NaN when the step was
    /// refused as diverged).
    pub fn step_batch(&mut self) -> f64 {
        let stepped = self.trainer.step(
            &mut self.network,
            &self.train_x,
            &self.train_y,
            None,
            &mut Silent,
        );
        match stepped {
            Ok(report) => {
                if report.epoch_record.is_some() {
                    self.record_epoch();
                }
                report.batch.loss
            }
            Err(_) => {
                self.stalled = true;
                f64::NAN
            }
        }
    }

    /// Steps until the epoch in progress is complete (a whole epoch when none is in progress).
    pub fn step_epoch(&mut self) {
        let epoch = self.epoch();
        while self.epoch() == epoch && !self.diverged() {
            self.step_batch();
        }
    }

    /// True once a loss or a weight is no longer finite: training stops there.
    pub fn diverged(&self) -> bool {
        let (_, train, test) = self.losses.unwrap_or((0, 0.0, 0.0));
        self.stalled
            || !(train.is_finite() && test.is_finite())
            || self
                .network
                .dense_layers()
                .iter()
                .any(|dense| !(dense.weight.all_finite() && dense.bias.all_finite()))
    }

    /// The cost (penalty excluded) over the training rows and over the test rows.
    pub fn losses(&mut self) -> (f64, f64) {
        let step = self.step();
        match self.losses {
            Some((at, train, test)) if at == step => (train, test),
            _ => {
                let cost = self.network.cost();
                let loss = |network: &Network<f32>, x: &Matrix<f32>, y: &Matrix<f32>| {
                    let (z, a) = network.output_with_logits(x);
                    cost.loss(&z, &a, y)
                };
                let train = loss(&self.network, &self.train_x, &self.train_y);
                let test = loss(&self.network, &self.test_x, &self.test_y);
                self.losses = Some((step, train, test));
                (train, test)
            }
        }
    }

    fn record_epoch(&mut self) {
        let (train, test) = self.losses();
        self.history.record(self.epoch(), train, test);
    }
}

/// The network and trainer a configuration starts from, weights and batch order drawn from
/// `seed`.
fn fresh_model(
    config: &SessionConfig,
    data: &SessionData,
    seed: u64,
) -> Result<(Network<f32>, Trainer<f32>), ApiError> {
    let cost = match data.task {
        Task::Classify => Cost::BinaryCrossEntropy,
        Task::Regress => Cost::MeanSquaredError,
    };
    let mut sizes = vec![config.features.len()];
    sizes.extend(&config.hidden);
    sizes.push(1);
    let rate = config.regularization_rate;
    let regularization = match config.regularization {
        RegularizationChoice::None => Regularization::none(),
        RegularizationChoice::L1 => Regularization::l1(rate),
        RegularizationChoice::L2 => Regularization::l2_nielsen(rate, data.train.points.len()),
    };
    let network = NetworkConfig::new(&sizes, cost)
        .with_hidden_activation(config.activation.activation())
        .with_regularization(regularization)
        .with_seed(seed)
        .init::<f32>()
        .map_err(|error| ApiError::bad_request(format!("the network: {error}")))?;
    let learning_rate = config.learning_rate;
    let optimizer: OptimizerConfig = match config.optimizer {
        OptimizerChoice::Sgd => SgdConfig::new().with_learning_rate(learning_rate).into(),
        OptimizerChoice::Momentum => SgdConfig::new()
            .with_learning_rate(learning_rate)
            .with_momentum(0.9)
            .into(),
        OptimizerChoice::Adam => AdamConfig::new().with_learning_rate(learning_rate).into(),
        OptimizerChoice::Rmsprop => RmsPropConfig::new()
            .with_learning_rate(learning_rate)
            .into(),
    };
    let training = TrainingConfig {
        // The playground trains until it is paused.
        epochs: usize::MAX,
        batch_size: config.batch_size,
        optimizer,
        seed,
        // Only a cost that is no longer finite stops a session; a learner may well watch a
        // loss climb.
        divergence: DivergenceSettings {
            loss_bound_factor: f64::INFINITY,
            ..DivergenceSettings::default()
        },
        ..TrainingConfig::default()
    };
    let trainer = Trainer::new(training)
        .map_err(|error| ApiError::bad_request(format!("optimizer: {error}")))?;
    Ok((network, trainer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(config: SessionConfig) -> Session {
        Session::new(config, &Limits::default()).unwrap()
    }

    #[test]
    fn epochs_cut_the_permutation_into_batches() {
        let mut s = session(SessionConfig {
            batch_size: 30,
            ..SessionConfig::default()
        });
        assert_eq!(s.batches_per_epoch(), 9);
        let mut seen = Vec::new();
        for _ in 0..9 {
            seen.extend(s.next_batch_rows());
            s.step_batch();
        }
        assert_eq!(s.epoch(), 1);
        assert_eq!(s.step(), 9);
        seen.sort_unstable();
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
        assert_eq!(s.history.entries().len(), 2);
    }

    #[test]
    fn the_default_configuration_learns_the_circle() {
        let mut s = session(SessionConfig::default());
        let (_, before) = s.losses();
        for _ in 0..300 {
            s.step_epoch();
            if s.losses().1 < 0.1 {
                break;
            }
        }
        let (_, after) = s.losses();
        assert!(
            after < 0.1,
            "test loss {before} -> {after} after {} epochs",
            s.epoch()
        );
    }

    #[test]
    fn reset_restarts_and_a_seed_changes_the_weights() {
        let mut s = session(SessionConfig::default());
        let initial = s.network.parameters()[0].1.clone();
        s.step_epoch();
        s.reset(None).unwrap();
        assert_eq!((s.epoch(), s.step()), (0, 0));
        assert_eq!(s.network.parameters()[0].1, &initial);
        s.reset(Some(99)).unwrap();
        assert_ne!(s.network.parameters()[0].1, &initial);
    }

    #[test]
    fn parameters_set_by_hand_and_dead_relus() {
        let mut s = session(SessionConfig {
            activation: crate::config::ActivationChoice::Relu,
            ..SessionConfig::default()
        });
        let (before, _) = s.losses();
        assert!(s.dead_neurons().iter().all(|layer| !layer.contains(&1)));
        s.set_parameter(1, 1, Some(0), 0.0).unwrap();
        s.set_parameter(1, 1, Some(1), 0.0).unwrap();
        s.set_parameter(1, 1, None, -0.5).unwrap();
        let first = s.network.dense_layers()[0];
        assert_eq!(first.weight.row(1), [0.0, 0.0]);
        assert_eq!(first.bias.as_slice()[1], -0.5);
        assert_eq!(s.dead_neurons()[0], [1]);
        assert_ne!(s.losses().0, before, "the losses are recomputed");
        assert_eq!(s.step(), 0);
        let error = |result: Result<(), ApiError>| result.unwrap_err().message;
        assert!(error(s.set_parameter(4, 0, None, 1.0)).starts_with("layer:"));
        assert!(error(s.set_parameter(2, 2, None, 1.0)).starts_with("neuron:"));
        assert!(error(s.set_parameter(1, 0, Some(2), 1.0)).starts_with("input:"));
        let tanh = session(SessionConfig::default());
        assert_eq!(tanh.dead_neurons(), [Vec::<usize>::new(), Vec::new()]);
    }

    #[test]
    fn the_company_network_learns_the_xor_table() {
        let mut s = session(SessionConfig {
            dataset: crate::config::DatasetChoice::XorTable,
            hidden: vec![3],
            activation: crate::config::ActivationChoice::Sigmoid,
            optimizer: OptimizerChoice::Momentum,
            learning_rate: 1.0,
            batch_size: 4,
            ..SessionConfig::default()
        });
        for _ in 0..2000 {
            s.step_epoch();
            if s.losses().0 < 0.05 {
                break;
            }
        }
        assert!(
            s.losses().0 < 0.05,
            "loss {} at epoch {}",
            s.losses().0,
            s.epoch()
        );
    }

    #[test]
    fn every_optimizer_and_penalty_runs() {
        for optimizer in [
            OptimizerChoice::Sgd,
            OptimizerChoice::Momentum,
            OptimizerChoice::Adam,
            OptimizerChoice::Rmsprop,
        ] {
            for regularization in [RegularizationChoice::L1, RegularizationChoice::L2] {
                let mut s = session(SessionConfig {
                    optimizer,
                    regularization,
                    regularization_rate: 0.01,
                    ..SessionConfig::default()
                });
                s.step_epoch();
                assert!(!s.diverged());
            }
        }
    }
}
