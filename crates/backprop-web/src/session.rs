//! One training session: the data, the network, the optimiser and the shuffle generator, and
//! the training steps on them.
//!
//! A step is the library's: [`Network::compute_gradients`] on the batch (backprop, penalties
//! included), then [`Optimizer::step`] at the configured learning rate. Each epoch draws a
//! seeded permutation of the training rows and cuts it into batches, the last one smaller. The
//! δ lens ([`crate::trace`]) takes its "update one step would make" from [`take_step`] on a
//! copy, so it is the same computation.

use crate::config::{OptimizerChoice, RegularizationChoice, SessionConfig};
use crate::data::{SessionData, Task};
use crate::features::feature_matrix;
use crate::history::LossHistory;
use crate::limits::Limits;
use crate::ApiError;
use backprop::optim::{AdamConfig, Optimizer, OptimizerConfig, RmsPropConfig, SgdConfig};
use backprop::{Cost, Network, NetworkConfig, Regularization};
use backprop_tensor::{Matrix, SeededRng};

/// The random stream of the per-epoch shuffles (the library's trainer uses the same one).
const SHUFFLE_STREAM: u64 = 1;

/// A session's training state.
#[derive(Clone, Debug)]
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
    /// The optimiser and its state.
    pub optimizer: Optimizer<f32>,
    /// The network's parameter names, in [`Network::parameters`] order (fixed by the layers).
    pub parameter_names: Vec<String>,
    /// The generator the next epoch's permutation is drawn from.
    shuffle_rng: SeededRng,
    /// The permutation of the epoch in progress; empty between epochs.
    order: Vec<usize>,
    /// Batches of the epoch in progress already taken.
    batches_done: usize,
    /// Epochs complete.
    pub epoch: usize,
    /// Optimisation steps taken.
    pub step: u64,
    /// (epoch, train loss, test loss), thinned.
    pub history: LossHistory,
    /// The losses at the current weights, with the step they were computed at.
    losses: Option<(u64, f64, f64)>,
}

/// One optimisation step on a batch: backprop, then the optimiser. `names` are the network's
/// parameter names ([`Network::parameters`], computed once). Returns the batch cost.
pub fn take_step(
    network: &mut Network<f32>,
    optimizer: &mut Optimizer<f32>,
    names: &[String],
    x: &Matrix<f32>,
    y: &Matrix<f32>,
    learning_rate: f64,
) -> f64 {
    let loss = network.compute_gradients(x, y);
    optimizer.step(&mut network.parameter_refs(names), learning_rate);
    loss
}

impl Session {
    /// Builds the data and a fresh network for a checked configuration.
    pub fn new(config: SessionConfig, limits: &Limits) -> Result<Self, ApiError> {
        let data = crate::data::build(&config, limits)?;
        let targets = |values: &[f32]| Matrix::from_fn(values.len(), 1, |row, _| values[row]);
        let train_x = feature_matrix(&data.train.points, &config.features);
        let test_x = feature_matrix(&data.test.points, &config.features);
        let (train_y, test_y) = (targets(&data.train.targets), targets(&data.test.targets));
        let (network, optimizer) = fresh_model(&config, &data, config.seed)?;
        let parameter_names = network.parameters().into_iter().map(|(n, _)| n).collect();
        let mut session = Self {
            shuffle_rng: SeededRng::with_stream(config.seed, SHUFFLE_STREAM),
            config,
            data,
            train_x,
            train_y,
            test_x,
            test_y,
            network,
            optimizer,
            parameter_names,
            order: Vec::new(),
            batches_done: 0,
            epoch: 0,
            step: 0,
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
        let (network, optimizer) = fresh_model(&self.config, &self.data, seed)?;
        self.network = network;
        self.optimizer = optimizer;
        self.shuffle_rng = SeededRng::with_stream(seed, SHUFFLE_STREAM);
        self.order.clear();
        self.batches_done = 0;
        self.epoch = 0;
        self.step = 0;
        self.history = LossHistory::default();
        self.losses = None;
        self.record_epoch();
        Ok(())
    }

    /// The number of batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.train_x.rows().div_ceil(self.config.batch_size)
    }

    /// The training rows of the batch the next step will use.
    pub fn next_batch_rows(&self) -> Vec<usize> {
        let size = self.config.batch_size;
        let start = self.batches_done * size;
        let order = if self.order.is_empty() {
            self.shuffle_rng.clone().permutation(self.train_x.rows())
        } else {
            self.order.clone()
        };
        order[start..(start + size).min(order.len())].to_vec()
    }

    /// Takes one optimisation step on the next batch; returns its cost.
    pub fn step_batch(&mut self) -> f64 {
        if self.order.is_empty() {
            self.order = self.shuffle_rng.permutation(self.train_x.rows());
        }
        let size = self.config.batch_size;
        let start = self.batches_done * size;
        let rows = &self.order[start..(start + size).min(self.order.len())];
        let x = self.train_x.select_rows(rows);
        let y = self.train_y.select_rows(rows);
        let learning_rate = self.config.learning_rate;
        let loss = take_step(
            &mut self.network,
            &mut self.optimizer,
            &self.parameter_names,
            &x,
            &y,
            learning_rate,
        );
        self.step += 1;
        self.batches_done += 1;
        if start + size >= self.order.len() {
            self.order.clear();
            self.batches_done = 0;
            self.epoch += 1;
            self.record_epoch();
        }
        loss
    }

    /// Steps until the epoch in progress is complete (a whole epoch when none is in progress).
    pub fn step_epoch(&mut self) {
        let epoch = self.epoch;
        while self.epoch == epoch && !self.diverged() {
            self.step_batch();
        }
    }

    /// True once a loss or a weight is no longer finite: training stops there.
    pub fn diverged(&self) -> bool {
        let (_, train, test) = self.losses.unwrap_or((0, 0.0, 0.0));
        !(train.is_finite() && test.is_finite())
            || self
                .network
                .dense_layers()
                .iter()
                .any(|dense| !(dense.weight.all_finite() && dense.bias.all_finite()))
    }

    /// The cost (penalty excluded) over the training rows and over the test rows.
    pub fn losses(&mut self) -> (f64, f64) {
        match self.losses {
            Some((step, train, test)) if step == self.step => (train, test),
            _ => {
                let cost = self.network.cost();
                let loss = |network: &Network<f32>, x: &Matrix<f32>, y: &Matrix<f32>| {
                    let (z, a) = network.output_with_logits(x);
                    cost.loss(&z, &a, y)
                };
                let train = loss(&self.network, &self.train_x, &self.train_y);
                let test = loss(&self.network, &self.test_x, &self.test_y);
                self.losses = Some((self.step, train, test));
                (train, test)
            }
        }
    }

    fn record_epoch(&mut self) {
        let (train, test) = self.losses();
        self.history.record(self.epoch, train, test);
    }
}

/// The network and optimiser a configuration starts from, weights drawn from `seed`.
fn fresh_model(
    config: &SessionConfig,
    data: &SessionData,
    seed: u64,
) -> Result<(Network<f32>, Optimizer<f32>), ApiError> {
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
    let optimizer = Optimizer::new(optimizer)
        .map_err(|error| ApiError::bad_request(format!("optimizer: {error}")))?;
    Ok((network, optimizer))
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
        assert_eq!(s.epoch, 1);
        assert_eq!(s.step, 9);
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
            s.epoch
        );
    }

    #[test]
    fn reset_restarts_and_a_seed_changes_the_weights() {
        let mut s = session(SessionConfig::default());
        let initial = s.network.parameters()[0].1.clone();
        s.step_epoch();
        s.reset(None).unwrap();
        assert_eq!((s.epoch, s.step), (0, 0));
        assert_eq!(s.network.parameters()[0].1, &initial);
        s.reset(Some(99)).unwrap();
        assert_ne!(s.network.parameters()[0].1, &initial);
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
