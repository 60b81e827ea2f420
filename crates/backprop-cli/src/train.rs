//! `backprop train`: build the network the plan describes, train it on the prepared data,
//! evaluate it on the test part, and report.

use crate::config::TrainPlan;
use crate::data::{self, Part, PreparedData};
use crate::exit::CliError;
use crate::json::summary_json;
use crate::parse::ScheduleSpec;
use crate::progress::EpochReporter;
use crate::report::{header_lines, say, summary_lines, Outcome};
use backprop::optim::LearningRateSchedule;
use backprop::train::{evaluate, MetricAccumulator, Metrics, Task, Trainer, TrainingConfig};
use backprop::{Activation, Matrix, Network, NetworkConfig, Regularization};
use std::io::Write;
use std::time::Instant;

/// The most weights and biases a network may have (about 1 GiB of `f32`, before optimiser
/// state), so that a typo in `--layers` is an error rather than an allocation failure.
pub const MAX_PARAMETERS: usize = 1 << 28;
/// Rows per forward pass when predicting a whole part.
const PREDICTION_CHUNK: usize = 4096;

/// Runs `backprop train`.
pub fn run(plan: &TrainPlan) -> Result<(), CliError> {
    if let Some(threads) = plan.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|error| {
                CliError::Runtime(format!("cannot start {threads} threads: {error}"))
            })?;
    }
    let data = data::prepare(plan)?;
    let network_config = network_config(plan, &data)?;
    let mut network = network_config.init::<f32>()?;
    let sizes = network_config.sizes.clone();
    let output_activation = network_config
        .activations
        .last()
        .copied()
        .unwrap_or(Activation::Identity);
    let train_rows = data.train.rows();
    let batch_size = plan.batch_size.unwrap_or(train_rows).max(1);
    let training_config = TrainingConfig {
        epochs: plan.epochs,
        batch_size,
        optimizer: plan.optimizer.clone(),
        schedule: schedule(plan, train_rows.div_ceil(batch_size)),
        gradient_clip: plan.clip,
        early_stopping: plan.early_stopping,
        seed: plan.seed,
        task: Some(plan.task),
        ..TrainingConfig::default()
    };
    let mut trainer = Trainer::<f32>::new(training_config)?;

    for note in &plan.notes {
        say(format_args!("note: {note}"));
    }
    for line in header_lines(plan, &data, &sizes, output_activation, batch_size) {
        say(line);
    }
    let mut reporter =
        EpochReporter::new(plan.epochs, plan.output.quiet, plan.output.log.as_deref())?;
    let validation = data
        .validation
        .as_ref()
        .map(|part| (&part.features, &part.targets));
    let started = Instant::now();
    let fitted = trainer.fit(
        &mut network,
        &data.train.features,
        &data.train.targets,
        validation,
        &mut reporter,
    );
    let seconds = started.elapsed().as_secs_f64();
    let logged = reporter.finish();
    let history = fitted?;
    logged?;

    let processed = (history.epochs.len() * train_rows) as f64;
    let outcome = Outcome {
        plan,
        data: &data,
        sizes: &sizes,
        output_activation,
        batch_size,
        history: &history,
        test: test_metrics(&network, &data, plan.task),
        seconds,
        samples_per_second: if seconds > 0.0 {
            processed / seconds
        } else {
            0.0
        },
    };
    for line in summary_lines(&outcome) {
        say(line);
    }
    if plan.output.json {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", summary_json(&outcome))
            .and_then(|()| stdout.flush())
            .map_err(|error| CliError::io("cannot write the JSON result to stdout", error))?;
    }
    Ok(())
}

/// Sizes from the data and the plan, activations from the plan and the cost.
fn network_config(plan: &TrainPlan, data: &PreparedData) -> Result<NetworkConfig, CliError> {
    let mut sizes = vec![data.n_features];
    sizes.extend(&plan.hidden_layers);
    sizes.push(data.n_outputs);
    let parameters = sizes
        .windows(2)
        .try_fold(0usize, |total, pair| {
            pair[0]
                .checked_mul(pair[1])
                .and_then(|w| w.checked_add(pair[1]))
                .and_then(|p| total.checked_add(p))
        })
        .unwrap_or(usize::MAX);
    if parameters > MAX_PARAMETERS {
        return Err(CliError::usage(format!(
            "a {} network has {parameters} parameters, more than the {MAX_PARAMETERS} allowed; \
             use narrower --layers",
            crate::report::format_sizes(&sizes)
        )));
    }
    let regularization = Regularization {
        l2_nielsen: plan.l2_nielsen,
        training_set_size: data.train.rows(),
        l1: plan.l1,
    };
    Ok(NetworkConfig::new(&sizes, plan.cost)
        .with_hidden_activation(plan.activation)
        .with_initialization(plan.initialization)
        .with_dropout(plan.dropout)
        .with_regularization(regularization)
        .with_seed(plan.seed))
}

/// The schedule in steps; cosine anneals over every step after the warm-up.
fn schedule(plan: &TrainPlan, batches_per_epoch: usize) -> LearningRateSchedule {
    let schedule = match plan.schedule {
        ScheduleSpec::Constant => LearningRateSchedule::constant(),
        ScheduleSpec::Step { step_size, gamma } => {
            LearningRateSchedule::step_decay(step_size, gamma)
        }
        ScheduleSpec::Exponential { gamma } => LearningRateSchedule::exponential_decay(gamma),
        ScheduleSpec::Cosine { min_learning_rate } => {
            let total = (plan.epochs as u64).saturating_mul(batches_per_epoch as u64);
            let after_warmup = total.saturating_sub(plan.warmup).max(1);
            LearningRateSchedule::cosine_annealing(after_warmup, min_learning_rate)
        }
    };
    schedule.with_warmup(plan.warmup)
}

/// Loss and accuracy on the test part; for regression the loss in standardised units and MAE
/// and R² on predictions mapped back to the targets' units.
fn test_metrics(network: &Network<f32>, data: &PreparedData, task: Task) -> Metrics {
    let test = &data.test;
    let mut metrics = evaluate(network, &test.features, &test.targets, task);
    if let (Some(scaler), Some(values)) = (&data.target_scaler, &test.values) {
        let mut accumulator = MetricAccumulator::new();
        for (predictions, rows) in predictions_in_chunks(network, test) {
            accumulator.add(
                &scaler.inverse_transform(&predictions),
                &values.select_rows(&rows),
                0.0,
            );
        }
        let original = accumulator.finish(Task::Regression, 0.0);
        metrics.mae = original.mae;
        metrics.r2 = original.r2;
    }
    metrics
}

/// The network's outputs for a part, chunk by chunk, with the rows of each chunk.
fn predictions_in_chunks(network: &Network<f32>, part: &Part) -> Vec<(Matrix<f32>, Vec<usize>)> {
    (0..part.rows())
        .step_by(PREDICTION_CHUNK)
        .map(|start| {
            let rows: Vec<usize> = (start..(start + PREDICTION_CHUNK).min(part.rows())).collect();
            (network.forward(&part.features.select_rows(&rows)), rows)
        })
        .collect()
}
