//! Per-layer diagnostics as training events: an observer that asks for them gets one
//! [`EpochDiagnostics`] per epoch, the history keeps them, they equal a trace of the fixed
//! batch at the epoch's end, and asking for them does not change what training does.

use backprop::optim::{OptimizerConfig, SgdConfig};
use backprop::train::{
    diagnose, diagnostics::diagnostic_batch, BatchEvent, EpochDiagnostics, EpochRecord,
    TrainingObserver,
};
use backprop::{Activation, Cost, Matrix, Network, NetworkConfig, Trainer, TrainingConfig};

/// Records every diagnostics event and a copy of the network at each epoch's end.
#[derive(Default)]
struct Recorder {
    diagnostics: Vec<EpochDiagnostics>,
    epochs: usize,
}

impl TrainingObserver for Recorder {
    fn on_batch(&mut self, _event: &BatchEvent) {}

    fn on_epoch(&mut self, _record: &EpochRecord) {
        self.epochs += 1;
    }

    fn wants_diagnostics(&self) -> bool {
        true
    }

    fn on_diagnostics(&mut self, diagnostics: &EpochDiagnostics) {
        assert_eq!(
            diagnostics.epoch, self.epochs,
            "after the epoch's own event"
        );
        self.diagnostics.push(diagnostics.clone());
    }
}

fn data() -> (Matrix<f64>, Matrix<f64>) {
    let x = Matrix::from_fn(300, 2, |row, column| {
        ((row * 7 + column * 3) % 11) as f64 / 5.0 - 1.0
    });
    let y = Matrix::from_fn(300, 2, |row, column| {
        let class = usize::from(x[(row, 0)] * x[(row, 1)] > 0.0);
        f64::from(u8::from(class == column))
    });
    (x, y)
}

fn network() -> Network<f64> {
    NetworkConfig::new(&[2, 6, 6, 6, 2], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Sigmoid)
        .with_seed(4)
        .init::<f64>()
        .unwrap()
}

fn config(epochs: usize) -> TrainingConfig {
    TrainingConfig {
        epochs,
        batch_size: 16,
        optimizer: OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.5)),
        ..TrainingConfig::default()
    }
}

#[test]
fn one_event_per_epoch_equal_to_a_trace_of_the_fixed_batch() {
    let (x, y) = data();
    let mut net = network();
    let mut recorder = Recorder::default();
    let history = Trainer::new(config(3))
        .unwrap()
        .fit(&mut net, &x, &y, None, &mut recorder)
        .unwrap();
    assert_eq!(recorder.diagnostics.len(), 3);
    assert_eq!(history.diagnostics, recorder.diagnostics);
    let last = recorder.diagnostics.last().unwrap();
    assert_eq!(last.rows, 256, "the first 256 rows");
    // The last epoch's figures are those of the final network on the same batch.
    let (bx, by) = diagnostic_batch(&x, &y);
    assert_eq!(*last, diagnose(&net, &bx, &by, 3));
    // Sigmoid layers shrink δ on its way back: the first layer learns slowest at the start.
    let first = &recorder.diagnostics[0].layers;
    assert!(first[0].delta_norm < first[3].delta_norm, "{first:?}");
    assert!(first[0].saturated.is_some() && first[3].saturated.is_none());
}

#[test]
fn asking_for_diagnostics_changes_nothing_else() {
    let (x, y) = data();
    let mut watched = network();
    let mut plain = network();
    let with = Trainer::new(config(2))
        .unwrap()
        .fit(&mut watched, &x, &y, None, &mut Recorder::default())
        .unwrap();
    let without = Trainer::new(config(2))
        .unwrap()
        .fit(&mut plain, &x, &y, None, &mut backprop::train::Silent)
        .unwrap();
    assert!(without.diagnostics.is_empty());
    assert_eq!(with.epochs.len(), without.epochs.len());
    for (a, b) in with.epochs.iter().zip(&without.epochs) {
        assert_eq!(a.train, b.train);
    }
    for ((name, a), (_, b)) in watched.parameters().into_iter().zip(plain.parameters()) {
        assert_eq!(a.as_slice(), b.as_slice(), "{name}");
    }
}
