//! The one training API: `Trainer::step` one batch at a time gives what `Trainer::fit` gives,
//! tells the rows of its next batch, resumes mid-epoch, and takes a new learning rate,
//! optimiser hyper-parameters or batch size between steps while the optimiser keeps its state.

use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::train::{
    DivergenceCheck, FusedSgdStep, PlainStep, Silent, StepInput, StepKind, StepStrategy,
    TrainingEvent,
};
use backprop::train::{DivergenceSettings, MetricAccumulator};
use backprop::{
    Activation, Cost, Matrix, Network, NetworkConfig, SeededRng, Trainer, TrainingConfig,
};

fn data<T: backprop::Float>() -> (Matrix<T>, Matrix<T>) {
    let mut rng = SeededRng::with_stream(11, 3);
    let x: Matrix<T> = Matrix::random_uniform(90, 5, -1.0, 1.0, &mut rng);
    let y = Matrix::from_fn(90, 2, |row, col| {
        let class = usize::from(x[(row, 0)] + x[(row, 1)] > T::ZERO);
        if class == col {
            T::ONE
        } else {
            T::ZERO
        }
    });
    (x, y)
}

fn network<T: backprop::Float>() -> Network<T> {
    NetworkConfig::new(&[5, 8, 2], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Tanh)
        .with_seed(3)
        .init()
        .unwrap()
}

fn config(optimizer: OptimizerConfig) -> TrainingConfig {
    TrainingConfig {
        epochs: 3,
        batch_size: 16,
        optimizer,
        seed: 5,
        ..TrainingConfig::default()
    }
}

fn bits(network: &Network<f32>) -> Vec<u32> {
    network
        .parameters()
        .iter()
        .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_bits()))
        .collect()
}

#[test]
fn stepping_batch_by_batch_equals_fit_bit_for_bit() {
    let (x, y) = data::<f32>();
    let optimizers: [OptimizerConfig; 2] = [
        SgdConfig::new().with_learning_rate(0.3).into(),
        AdamConfig::new().with_learning_rate(0.01).into(),
    ];
    for optimizer in optimizers {
        let mut fitted = network::<f32>();
        let mut losses = Vec::new();
        let mut record = |event: &TrainingEvent<'_>| {
            if let TrainingEvent::Batch(batch) = event {
                losses.push(batch.loss);
            }
        };
        let history = Trainer::new(config(optimizer.clone()))
            .unwrap()
            .fit(&mut fitted, &x, &y, None, &mut record)
            .unwrap();

        let mut stepped = network::<f32>();
        let mut trainer = Trainer::new(config(optimizer)).unwrap();
        let mut step_losses = Vec::new();
        let mut records = Vec::new();
        // 90 rows in batches of 16: 6 batches per epoch, the last one of 10.
        for step in 0..18 {
            let rows = trainer.next_batch_rows(x.rows());
            assert_eq!(rows.len(), if step % 6 == 5 { 10 } else { 16 });
            let report = trainer
                .step(&mut stepped, &x, &y, None, &mut Silent)
                .unwrap();
            assert_eq!(report.batch.step, step + 1);
            step_losses.push(report.batch.loss);
            records.extend(report.epoch_record);
        }
        assert_eq!(bits(&stepped), bits(&fitted));
        assert_eq!(step_losses, losses);
        assert_eq!(records.len(), 3);
        for (a, b) in records.iter().zip(&history.epochs) {
            assert_eq!(
                (a.epoch, a.step, a.train.loss),
                (b.epoch, b.step, b.train.loss)
            );
        }
        assert_eq!(trainer.epochs_done(), 3);
    }
}

#[test]
fn the_reported_next_rows_are_the_rows_each_step_uses() {
    let (x, y) = data::<f32>();
    let mut trainer =
        Trainer::new(config(SgdConfig::new().with_learning_rate(0.3).into())).unwrap();
    let mut net = network::<f32>();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let rows = trainer.next_batch_rows(x.rows());
        // Stepping on exactly those rows with a copy gives the same weights as the real step.
        let mut copy = net.clone();
        trainer.fork().step_rows(&mut copy, &x, &y, &rows).unwrap();
        trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
        assert_eq!(bits(&copy), bits(&net));
        seen.extend(rows);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..90).collect::<Vec<_>>(),
        "one epoch covers every row once"
    );
}

#[test]
fn learning_rate_and_hyper_parameters_change_between_steps_and_the_state_stays() {
    let (x, y) = data::<f32>();
    let adam = AdamConfig::new().with_learning_rate(0.01);
    let mut trainer = Trainer::new(config(adam.into())).unwrap();
    let mut net = network::<f32>();
    for _ in 0..4 {
        trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    }
    let state_before: Vec<_> = trainer.optimizer().state_tensors();
    trainer.set_learning_rate(0.002).unwrap();
    assert_eq!(trainer.optimizer().state_tensors(), state_before);
    assert_eq!(trainer.config().optimizer.learning_rate(), 0.002);
    let report = trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    assert_eq!(report.batch.learning_rate, 0.002);
    // Adam's moments went on from their state: a fresh Adam at the same weights moves
    // differently.
    trainer
        .set_optimizer_config(adam.with_learning_rate(0.002).with_beta1(0.5).into())
        .unwrap();
    let steps = trainer.optimizer().steps_taken();
    trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    assert_eq!(trainer.optimizer().steps_taken(), steps + 1);
    // Another rule would need another state: refused, and nothing changed.
    let error = trainer
        .set_optimizer_config(SgdConfig::new().into())
        .unwrap_err();
    assert!(error.to_string().contains("from Adam to SGD"), "{error}");
    assert_eq!(trainer.config().optimizer.name(), "Adam");
    assert!(trainer.set_learning_rate(-1.0).is_err());
}

#[test]
fn a_new_batch_size_takes_effect_with_the_next_epoch() {
    let (x, y) = data::<f32>();
    let mut trainer = Trainer::new(config(SgdConfig::new().into())).unwrap();
    let mut net = network::<f32>();
    trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    trainer.set_batch_size(45).unwrap();
    // The epoch in progress keeps its batches of 16.
    assert_eq!(trainer.next_batch_rows(90).len(), 16);
    let mut batches = 1;
    loop {
        let report = trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
        batches += 1;
        if report.epoch_record.is_some() {
            assert_eq!(report.batch.batches, 6);
            break;
        }
    }
    assert_eq!(batches, 6);
    let report = trainer.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    assert_eq!((report.batch.batch, report.batch.batches), (1, 2));
    assert!(trainer.set_batch_size(0).is_err());
}

#[test]
fn plain_sgd_takes_the_fused_step_and_momentum_the_fused_rule_step() {
    let (x, y) = data::<f32>();
    let mut net = network::<f32>();
    let mut sgd = Trainer::new(config(SgdConfig::new().into())).unwrap();
    let report = sgd.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    assert_eq!(report.kind, StepKind::FusedSgd);
    let momentum = SgdConfig::new().with_momentum(0.9);
    sgd.set_optimizer_config(momentum.into()).unwrap();
    let report = sgd.step(&mut net, &x, &y, None, &mut Silent).unwrap();
    assert_eq!(report.kind, StepKind::FusedRule);
}

/// One step's input on `rows`: learning rate 0.7, no clipping, the default divergence check.
fn sgd_input<'a>(x: &'a Matrix<f64>, y: &'a Matrix<f64>, rows: &'a [usize]) -> StepInput<'a, f64> {
    StepInput {
        x,
        y,
        rows,
        next_rows: &[],
        learning_rate: 0.7,
        gradient_clip: None,
        divergence: DivergenceCheck {
            settings: DivergenceSettings::default(),
            reference: None,
        },
    }
}

/// The fused step is an optimisation of the plain one: in f64 one step agrees within 1e-12
/// relative (the two round the update W − η·δᵀX in a different order).
#[test]
fn one_fused_step_equals_one_plain_step_in_f64() {
    let (x, y) = data::<f64>();
    let rows: Vec<usize> = (0..32).collect();
    let input = sgd_input(&x, &y, &rows);
    let sgd = || backprop::optim::Optimizer::<f64>::new(SgdConfig::new().into()).unwrap();
    let (mut plain, mut fused) = (network::<f64>(), network::<f64>());
    let (mut plain_metrics, mut fused_metrics) =
        (MetricAccumulator::new(), MetricAccumulator::new());
    let plain_loss = PlainStep::default()
        .step(&mut plain, &mut sgd(), &input, &mut plain_metrics)
        .unwrap();
    let fused_loss = FusedSgdStep::default()
        .step(&mut fused, &mut sgd(), &input, &mut fused_metrics)
        .unwrap();
    assert_eq!(
        plain_loss, fused_loss,
        "the cost is computed before either update"
    );
    let untouched = network::<f64>();
    for (((name, p), (_, f)), (_, u)) in plain
        .parameters()
        .iter()
        .zip(fused.parameters())
        .zip(untouched.parameters())
    {
        for ((&p, &f), &u) in p.as_slice().iter().zip(f.as_slice()).zip(u.as_slice()) {
            assert!(
                (p - f).abs() <= 1e-12 * p.abs().max(f.abs()).max(1e-3),
                "{name}: plain {p} fused {f}"
            );
            assert!(
                p != u || name.ends_with("bias"),
                "{name}: the step moved nothing"
            );
        }
    }
}

/// A fused step never forms ∂C/∂W: the layers' weight gradients are empty afterwards, not an
/// earlier step's values, and the next plain step fills them again.
#[test]
fn no_stale_weight_gradient_after_a_fused_step() {
    let (x, y) = data::<f64>();
    let rows: Vec<usize> = (0..32).collect();
    let input = sgd_input(&x, &y, &rows);
    let mut sgd = backprop::optim::Optimizer::<f64>::new(SgdConfig::new().into()).unwrap();
    let mut network = network::<f64>();
    let mut metrics = MetricAccumulator::new();
    PlainStep::default()
        .step(&mut network, &mut sgd, &input, &mut metrics)
        .unwrap();
    assert!(network
        .dense_layers()
        .iter()
        .all(|d| d.weight_gradient.rows() > 0));
    FusedSgdStep::default()
        .step(&mut network, &mut sgd, &input, &mut metrics)
        .unwrap();
    for dense in network.dense_layers() {
        assert_eq!(
            dense.weight_gradient.shape(),
            (0, 0),
            "a stale ∂C/∂W is left"
        );
    }
    let before_plain = network.clone();
    PlainStep::default()
        .step(&mut network, &mut sgd, &input, &mut metrics)
        .unwrap();
    let trace = before_plain.trace(&x.select_rows(&rows), &y.select_rows(&rows));
    for (dense, layer) in network.dense_layers().iter().zip(&trace.layers) {
        assert_eq!(dense.weight_gradient.shape(), dense.weight.shape());
        for (&g, &t) in dense
            .weight_gradient
            .as_slice()
            .iter()
            .zip(layer.weight_gradient.as_slice())
        {
            assert!(
                (g - t).abs() <= 1e-12 * t.abs().max(1e-6),
                "{g} against {t}"
            );
        }
    }
}

/// The logged training loss is the cost each step differentiated: with one batch per epoch,
/// the data cost plus the penalty of the weights the step started from, for Nielsen's L2 (a
/// fused step), L1 (a plain step) and L2 sharded.
#[test]
fn the_logged_loss_under_a_penalty_is_the_cost_the_step_differentiated() {
    use backprop::regularization::Regularization;
    use backprop::train::Task;
    let (x, y) = data::<f64>();
    let cases = [
        ("Nielsen's L2", Regularization::l2_nielsen(40.0, 90), None),
        ("L1", Regularization::l1(0.05), None),
        (
            "L2, 3 shards",
            Regularization::l2_nielsen(40.0, 90),
            Some(3),
        ),
    ];
    for (name, regularization, shards) in cases {
        let start = NetworkConfig::new(&[5, 8, 2], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_regularization(regularization)
            .with_seed(3)
            .init()
            .unwrap();
        let config = TrainingConfig {
            epochs: 1,
            batch_size: 90,
            ..config(SgdConfig::new().with_learning_rate(0.5).into())
        };
        let mut trainer = Trainer::new(config).unwrap();
        if let Some(shards) = shards {
            trainer.set_sharding(backprop::train::Sharding::local(shards).unwrap());
        }
        let mut network = start.clone();
        let history = trainer
            .fit(&mut network, &x, &y, None, &mut Silent)
            .unwrap();
        let logged = history.epochs[0].train.loss;
        let before = backprop::train::evaluate(&start, &x, &y, Task::Classification).loss;
        let after_penalty = network.penalty();
        assert!(
            (logged - before).abs() < 1e-9 * before,
            "{name}: logged {logged}, the cost at the step's start {before}"
        );
        // Not vacuous: the penalty moved by far more than the tolerance during the step.
        assert!((after_penalty - start.penalty()).abs() > 1e-4, "{name}");
    }
}
