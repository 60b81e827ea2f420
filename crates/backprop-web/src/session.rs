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
    /// The weights after each epoch, thinned, for the loss landscape's path.
    pub snapshots: crate::landscape::Snapshots,
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
        let targets = |values: &[f32]| target_matrix(values, data.classes);
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
            snapshots: Default::default(),
            losses: None,
        };
        session.record_epoch();
        Ok(session)
    }

    /// Changes the settings a PATCH may change (see [`crate::config::ConfigPatch`]), keeping
    /// the weights, the step and epoch counts and the loss history: a new learning rate keeps
    /// the optimiser's state, a new optimiser starts it fresh, a new batch size applies from the
    /// next epoch, and new noise, training share or sample count generate and split the data
    /// again from the same seed (the epoch in progress then starts over on the new rows).
    /// Nothing changes when any of it is refused.
    pub fn patch(&mut self, next: SessionConfig, limits: &Limits) -> Result<(), ApiError> {
        let current = &self.config;
        let data_changes = next.noise != current.noise
            || next.train_share != current.train_share
            || next.samples != current.samples;
        let data = if data_changes {
            Some(crate::data::build(&next, limits)?)
        } else {
            if next.batch_size > self.train_x.rows() {
                return Err(ApiError::bad_request(format!(
                    "batch_size: must be at most the {} training rows, got {}",
                    self.train_x.rows(),
                    next.batch_size
                )));
            }
            None
        };
        let training_rows = data
            .as_ref()
            .map_or(self.train_x.rows(), |d| d.train.points.len());
        // The penalty lives in the network's configuration (Nielsen's L2 also counts the
        // training rows): a network with the new one takes the current weights.
        let mut network = self.network.clone();
        if next.regularization != current.regularization
            || next.regularization_rate != current.regularization_rate
            || (data_changes && next.regularization == RegularizationChoice::L2)
        {
            let mut rebuilt = network_config(&next, self.data.task, training_rows, next.seed)
                .init::<f32>()
                .map_err(|error| ApiError::bad_request(format!("regularization: {error}")))?;
            rebuilt.copy_parameters_from(&self.network);
            network = rebuilt;
        }
        let mut trainer = self.trainer.fork();
        if next.optimizer != current.optimizer || data_changes {
            // A trainer that goes on from here: same steps, epochs, history and shuffles; a new
            // optimiser starts fresh, and new data drops the epoch in progress.
            let mut state = trainer.state(&network);
            if data_changes {
                state.epoch_in_progress = None;
            }
            let optimizer = if next.optimizer != current.optimizer {
                backprop::optim::Optimizer::new(optimizer_config(&next))
                    .map_err(|error| ApiError::bad_request(format!("optimizer: {error}")))?
            } else {
                trainer.optimizer().clone()
            };
            let mut training = trainer.config().clone();
            training.optimizer = optimizer.config().clone();
            trainer = Trainer::resume(training, state, optimizer, &mut network, None)
                .map_err(|error| ApiError::bad_request(format!("optimizer: {error}")))?;
        }
        if next.learning_rate != trainer.config().optimizer.learning_rate() {
            trainer
                .set_learning_rate(next.learning_rate)
                .map_err(|error| ApiError::bad_request(format!("learning_rate: {error}")))?;
        }
        if next.batch_size != trainer.config().batch_size {
            trainer
                .set_batch_size(next.batch_size)
                .map_err(|error| ApiError::bad_request(format!("batch_size: {error}")))?;
        }
        if let Some(data) = data {
            let targets = |values: &[f32]| target_matrix(values, data.classes);
            self.train_x = feature_matrix(&data.train.points, &next.features);
            self.test_x = feature_matrix(&data.test.points, &next.features);
            self.train_y = targets(&data.train.targets);
            self.test_y = targets(&data.test.targets);
            self.data = data;
        }
        self.network = network;
        self.trainer = trainer;
        self.config = next;
        self.losses = None;
        Ok(())
    }

    /// Fresh weights, optimiser and batch order from `seed` (the configuration's own when
    /// `None`); the data and its split stay, and so do settings changed by a PATCH.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<(), ApiError> {
        let seed = seed.unwrap_or(self.config.seed);
        let (network, trainer) = fresh_model(&self.config, &self.data, seed)?;
        self.network = network;
        self.trainer = trainer;
        self.stalled = false;
        self.history = LossHistory::default();
        self.snapshots = Default::default();
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
        self.snapshots.record(self.epoch(), &self.network);
    }
}

/// The network and trainer a configuration starts from, weights and batch order drawn from
/// `seed`.
fn fresh_model(
    config: &SessionConfig,
    data: &SessionData,
    seed: u64,
) -> Result<(Network<f32>, Trainer<f32>), ApiError> {
    let network = network_config(config, data.task, data.train.points.len(), seed)
        .init::<f32>()
        .map_err(|error| ApiError::bad_request(format!("the network: {error}")))?;
    let optimizer = optimizer_config(config);
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

/// The network a configuration describes (weights drawn from `seed`), for `training_rows`
/// training rows (Nielsen's L2 divides by them).
fn network_config(
    config: &SessionConfig,
    task: Task,
    training_rows: usize,
    seed: u64,
) -> NetworkConfig {
    let (cost, outputs) = match task {
        Task::Classify if config.classes > 2 => (Cost::SoftmaxCrossEntropy, config.classes),
        Task::Classify => (Cost::BinaryCrossEntropy, 1),
        Task::Regress => (Cost::MeanSquaredError, 1),
    };
    let mut sizes = vec![config.features.len()];
    sizes.extend(&config.hidden);
    sizes.push(outputs);
    let rate = config.regularization_rate;
    let regularization = match config.regularization {
        RegularizationChoice::None => Regularization::none(),
        RegularizationChoice::L1 => Regularization::l1(rate),
        RegularizationChoice::L2 => Regularization::l2_nielsen(rate, training_rows),
    };
    NetworkConfig::new(&sizes, cost)
        .with_hidden_activation(config.activation.activation())
        .with_regularization(regularization)
        .with_seed(seed)
}

/// Targets as the network reads them: one column (0/1 or a value), or one-hot rows for K ≥ 3
/// classes.
pub fn target_matrix(values: &[f32], classes: usize) -> Matrix<f32> {
    if classes <= 2 {
        return Matrix::from_fn(values.len(), 1, |row, _| values[row]);
    }
    Matrix::from_fn(values.len(), classes, |row, class| {
        f32::from(u8::from(values[row] as usize == class))
    })
}

/// The optimiser a configuration names, at its learning rate.
fn optimizer_config(config: &SessionConfig) -> OptimizerConfig {
    let learning_rate = config.learning_rate;
    match config.optimizer {
        OptimizerChoice::Sgd => SgdConfig::new().with_learning_rate(learning_rate).into(),
        OptimizerChoice::Momentum => SgdConfig::new()
            .with_learning_rate(learning_rate)
            .with_momentum(0.9)
            .into(),
        OptimizerChoice::Adam => AdamConfig::new().with_learning_rate(learning_rate).into(),
        OptimizerChoice::Rmsprop => RmsPropConfig::new()
            .with_learning_rate(learning_rate)
            .into(),
    }
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

    fn patched(s: &mut Session, body: &str) -> Result<(), ApiError> {
        let patch: crate::config::ConfigPatch = crate::config::parse_json(body.as_bytes())?;
        let next = patch.applied_to(&s.config, &Limits::default())?;
        s.patch(next, &Limits::default())
    }

    #[test]
    fn a_patch_keeps_the_weights_and_the_counts() {
        let mut s = session(SessionConfig::default());
        let initial = s.network.clone();
        s.step_epoch();
        for _ in 0..3 {
            s.step_batch();
        }
        let weights = s.network.parameters()[0].1.clone();
        let (epoch, step, history) = (s.epoch(), s.step(), s.history.entries().len());
        patched(
            &mut s,
            r#"{"learning_rate": 0.3, "regularization": "l2", "regularization_rate": 0.01}"#,
        )
        .unwrap();
        assert_eq!(s.network.parameters()[0].1, &weights);
        assert_eq!(
            (s.epoch(), s.step(), s.history.entries().len()),
            (epoch, step, history)
        );
        assert_eq!(s.trainer.config().optimizer.learning_rate(), 0.3);
        assert!(
            s.network.penalty() > 0.0,
            "the new penalty is in the network"
        );
        patched(&mut s, r#"{"optimizer": "adam"}"#).unwrap();
        assert_eq!(s.step(), step);
        s.step_batch();
        assert_eq!(s.step(), step + 1);
        // The batch size applies from the next epoch: this epoch goes on with batches of 10.
        patched(&mut s, r#"{"batch_size": 25}"#).unwrap();
        assert_eq!(s.next_batch_rows().len(), 10);
        s.step_epoch();
        assert_eq!(s.next_batch_rows().len(), 25);
        // New noise: new points from the same seed, the weights kept, the epoch restarted.
        let points = s.data.train.points.clone();
        s.step_batch();
        let weights = s.network.parameters()[0].1.clone();
        patched(&mut s, r#"{"noise": 0.3}"#).unwrap();
        assert_ne!(s.data.train.points, points);
        assert_eq!(s.network.parameters()[0].1, &weights);
        assert_eq!(s.next_batch_rows().len(), 25, "a whole new epoch");
        // Refused: nothing changes.
        let before = s.config.clone();
        assert!(patched(&mut s, r#"{"batch_size": 5000}"#)
            .unwrap_err()
            .message
            .starts_with("batch_size:"));
        assert_eq!(s.config, before);
        // Reset keeps the patched settings and restores the first weights bit for bit.
        s.reset(None).unwrap();
        assert_eq!((s.epoch(), s.step()), (0, 0));
        assert_eq!(s.config.learning_rate, 0.3);
        assert_eq!(s.config.optimizer, OptimizerChoice::Adam);
        assert_eq!(s.trainer.config().optimizer.learning_rate(), 0.3);
        for ((_, after), (_, first)) in s.network.parameters().iter().zip(initial.parameters()) {
            assert_eq!(*after, first);
        }
    }

    #[test]
    fn three_classes_use_softmax_and_learn_the_spiral() {
        let mut s = session(SessionConfig {
            dataset: crate::config::DatasetChoice::Spiral,
            classes: 3,
            features: vec![
                crate::features::Feature::X1,
                crate::features::Feature::X2,
                crate::features::Feature::X1Squared,
                crate::features::Feature::X2Squared,
                crate::features::Feature::SinX1,
                crate::features::Feature::SinX2,
            ],
            hidden: vec![8, 8],
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.03,
            ..SessionConfig::default()
        });
        assert_eq!(s.network.output_width(), 3);
        assert_eq!(s.network.cost(), Cost::SoftmaxCrossEntropy);
        assert_eq!(s.train_y.cols(), 3);
        assert!((0..s.train_y.rows()).all(|row| s.train_y.row(row).iter().sum::<f32>() == 1.0));
        for _ in 0..400 {
            s.step_epoch();
            if s.losses().1 < 0.2 {
                break;
            }
        }
        assert!(
            s.losses().1 < 0.2,
            "test loss {} at epoch {}",
            s.losses().1,
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
