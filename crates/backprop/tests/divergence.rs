//! Divergence handling: a run whose loss blows up stops naming the epoch and batch, with the
//! network holding the last good weights (those at the end of the last complete epoch), or,
//! under restore-and-halve, goes back to them with half the learning rate and finishes, within
//! a cap on the halvings.

use backprop::optim::{OptimizerConfig, SgdConfig};
use backprop::train::{
    DivergencePolicy, DivergenceSettings, RestoreEvent, Silent, TrainingObserver,
};
use backprop::{Cost, Error, Matrix, Network, NetworkConfig, SeededRng, Trainer, TrainingConfig};

/// y = 2x₁ − x₂ + ½ + noise on 128 standard-normal points: a linear regression whose MSE
/// Hessian is about 2I, so plain SGD is stable below a learning rate of about 1.
fn linear_data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::new(4);
    let x = Matrix::from_fn(128, 2, |_, _| rng.normal() as f32);
    let mut noise = SeededRng::new(5);
    let y = Matrix::from_fn(128, 1, |i, _| {
        2.0 * x[(i, 0)] - x[(i, 1)] + 0.5 + 0.01 * noise.normal() as f32
    });
    (x, y)
}

fn linear_network() -> Network<f32> {
    NetworkConfig::new(&[2, 1], Cost::MeanSquaredError)
        .with_seed(1)
        .init()
        .unwrap()
}

fn config(learning_rate: f64, epochs: usize, policy: DivergencePolicy) -> TrainingConfig {
    TrainingConfig {
        epochs,
        batch_size: 16,
        optimizer: OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(learning_rate)),
        divergence: DivergenceSettings {
            policy,
            ..DivergenceSettings::default()
        },
        seed: 2,
        ..TrainingConfig::default()
    }
}

fn bits(network: &Network<f32>) -> Vec<u32> {
    network
        .parameters()
        .into_iter()
        .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect()
}

#[derive(Default)]
struct Restores(Vec<RestoreEvent>);

impl TrainingObserver for Restores {
    fn on_restore(&mut self, event: &RestoreEvent) {
        self.0.push(event.clone());
    }
}

#[test]
fn a_slow_blow_up_stops_with_the_weights_of_the_last_good_epoch() {
    let (x, y) = linear_data();
    // Just past the stability limit: the loss grows by a few per cent a step and passes the
    // bound after some epochs, still finite.
    let mut network = linear_network();
    let mut trainer = Trainer::new(config(1.2, 100, DivergencePolicy::Stop)).unwrap();
    let error = trainer
        .fit(&mut network, &x, &y, None, &mut Silent)
        .unwrap_err();
    let Error::Diverged { epoch, batch, loss } = error else {
        panic!("expected divergence, got {error}")
    };
    assert!(
        epoch > 1,
        "diverged in epoch {epoch}: too fast to test the restore"
    );
    assert!((1..=8).contains(&batch), "{batch}");
    assert!(loss.is_finite() && loss > 1e3, "{loss}");
    assert_eq!(trainer.history().epochs.len(), epoch - 1);
    for value in network.parameters().iter().flat_map(|(_, m)| m.as_slice()) {
        assert!(value.is_finite());
    }
    // The same run stopped before the bad epoch holds exactly these weights.
    let mut before = linear_network();
    Trainer::new(config(1.2, epoch - 1, DivergencePolicy::Stop))
        .unwrap()
        .fit(&mut before, &x, &y, None, &mut Silent)
        .unwrap();
    assert_eq!(bits(&network), bits(&before));
}

#[test]
fn a_nan_in_the_first_epoch_stops_with_the_initial_weights() {
    let (x, y) = linear_data();
    let mut network = linear_network();
    let initial = bits(&network);
    let error = Trainer::new(config(1e30, 5, DivergencePolicy::Stop))
        .unwrap()
        .fit(&mut network, &x, &y, None, &mut Silent)
        .unwrap_err();
    assert!(matches!(error, Error::Diverged { epoch: 1, .. }), "{error}");
    assert!(error.to_string().contains("lower learning rate"), "{error}");
    assert_eq!(bits(&network), initial);
}

#[test]
fn restore_and_halve_recovers_and_finishes() {
    let (x, y) = linear_data();
    let mut network = linear_network();
    let mut trainer = Trainer::new(config(3.0, 6, DivergencePolicy::restore_and_halve())).unwrap();
    let mut restores = Restores::default();
    let history = trainer
        .fit(&mut network, &x, &y, None, &mut restores)
        .unwrap();
    assert!(trainer.is_finished());
    assert_eq!(history.epochs.len(), 6);
    // 3 → 1.5 → 0.75: stable (|1 − 2η| < 1) only at 0.75.
    let halvings = restores.0.len();
    assert_eq!(halvings, 2, "{:?}", restores.0);
    for (index, event) in restores.0.iter().enumerate() {
        assert_eq!(event.halvings, index + 1);
        assert_eq!(event.learning_rate_scale, 0.5f64.powi(index as i32 + 1));
    }
    assert_eq!(trainer.learning_rate_scale(), 0.5f64.powi(halvings as i32));
    let last = history.epochs.last().unwrap();
    assert_eq!(last.learning_rate, 0.75);
    assert!(last.train.loss < 0.01, "{}", last.train.loss);
}

#[test]
fn restore_and_halve_gives_up_after_its_cap() {
    let (x, y) = linear_data();
    let mut network = linear_network();
    let initial = bits(&network);
    let policy = DivergencePolicy::RestoreAndHalve { max_halvings: 2 };
    let mut trainer = Trainer::new(config(1e30, 6, policy)).unwrap();
    let mut restores = Restores::default();
    let error = trainer
        .fit(&mut network, &x, &y, None, &mut restores)
        .unwrap_err();
    assert!(matches!(error, Error::Diverged { epoch: 1, .. }), "{error}");
    assert_eq!(restores.0.len(), 2);
    assert_eq!(bits(&network), initial);
}
