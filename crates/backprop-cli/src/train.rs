//! `backprop train`: load and split the data, build the network (fresh, from the model
//! `--init-from` names, or from the checkpoint `--resume` names), train it, evaluate every
//! part, save the model and report.
//!
//! Training pauses between batches for checkpoints (`--checkpoint-every`) and signals
//! ([`crate::interrupt`]): the loop writes the checkpoint, then goes on or exits with 130/143.
//! Divergence stops with the last good weights saved, or restores and halves the learning
//! rate (`--on-divergence`).

mod checkpoints;
pub mod control;
pub mod model_file;
pub mod network;
pub mod options;
pub mod resume;

use crate::args::{DataDistributionArg, TrainArgs};
use crate::config::TrainPlan;
use crate::data::{self, Part, Scaling};
use crate::distributed::Cluster;
use crate::exit::CliError;
use crate::interrupt::StopRequest;
use crate::json::summary_json;
use crate::parse::ScheduleSpec;
use crate::progress::EpochReporter;
use crate::report::{format_architecture, format_count, header_lines, say, summary_lines, Outcome};
use backprop::model::AffineScaler;
use backprop::optim::LearningRateSchedule;
use backprop::train::checkpoint::Checkpoint;
use backprop::train::Sharding;
use backprop::train::{
    evaluate, DivergenceSettings, MetricAccumulator, Metrics, Task, Trainer, TrainingConfig,
};
use backprop::{Matrix, Network};
use checkpoints::Checkpoints;
use control::Control;
use options::{Recipe, RunOptions};
use std::io::Write;
use std::time::Instant;

/// Rows per forward pass when predicting a whole part.
const PREDICTION_CHUNK: usize = 4096;

/// Runs `backprop train`: a fresh run, or under `--resume` the run a checkpoint records.
///
/// Under `mpirun` (a build with `--features mpi`) every rank runs this; a rank that fails
/// ends the whole job with MPI_Abort, naming itself ([`Cluster::fail`]).
pub fn start(arguments: TrainArgs) -> Result<(), CliError> {
    let cluster = Cluster::start();
    if !cluster.is_root() {
        crate::report::silence();
    }
    start_on(arguments, &cluster).map_err(|error| cluster.fail(error))
}

fn start_on(arguments: TrainArgs, cluster: &Cluster) -> Result<(), CliError> {
    if arguments.resume.is_some() {
        let resumed = resume::prepare(arguments)?;
        let from = ResumeFrom {
            checkpoint: resumed.checkpoint,
            total_epochs: resumed.total_epochs,
        };
        return run(&resumed.plan, &resumed.options, Some(from), cluster);
    }
    let recipe = Recipe::from_command_line(&arguments)?;
    let arguments = crate::config::file::apply_config_file(arguments)?;
    let options = RunOptions::from_args(&arguments, recipe);
    let plan = TrainPlan::from_args(arguments)?;
    run(&plan, &options, None, cluster)
}

/// A checkpoint to go on from, and the epochs to reach in all.
pub struct ResumeFrom {
    /// The checkpoint read back.
    pub checkpoint: Checkpoint,
    /// The total epochs.
    pub total_epochs: usize,
}

/// Runs `backprop train` with a resolved plan.
pub fn run(
    plan: &TrainPlan,
    options: &RunOptions,
    resume: Option<ResumeFrom>,
    cluster: &Cluster,
) -> Result<(), CliError> {
    if let Some(threads) = plan.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|error| {
                CliError::Runtime(format!("cannot start {threads} threads: {error}"))
            })?;
    }
    model_file::check_output_path(&plan.output.model)?;
    options.check(&plan.output.model)?;
    let distribution = cluster.data_distribution(plan.data_distribution)?;
    let model = match &resume {
        Some(_) => None,
        None => plan
            .init_from
            .as_deref()
            .map(model_file::load_model)
            .transpose()?,
    };
    // A fine-tuned run's data is re-expressed in its model's features and classes; resumed, in
    // the checkpoint's (the same ones).
    let align_to = match &resume {
        Some(from) => plan
            .init_from
            .as_ref()
            .map(|_| &from.checkpoint.model.metadata),
        None => model.as_ref().map(|model| &model.metadata),
    };
    let loaded = cluster.load_data(distribution, || {
        data::load::load_source(&plan.source, &plan.spec)
    })?;
    if let (Some(model), Some(path)) = (&model, &plan.init_from) {
        crate::config::resolve::check_scaling_matches(plan, model, path)?;
    }
    let mut splits = data::split(plan, align_to, loaded)?;
    if plan.augment_shift {
        let shape = network::image_shape(plan, &splits)?;
        let shape = (shape.channels, shape.height, shape.width);
        splits.train = backprop_data::augment::with_one_pixel_shifts(&splits.train, shape);
        splits.train_sha256 = None;
        splits.summary.push(format!(
            "augment: each training image and its four one-pixel shifts, {} rows",
            format_count(splits.train.len())
        ));
    }
    let (mut network, single_sigmoid) = match &resume {
        Some(from) => {
            let network = from.checkpoint.model.network.clone();
            let single = splits.task == Task::Classification && network.output_width() == 1;
            (network, single)
        }
        None => network::build(plan, &splits, model.as_ref())?,
    };
    let scaling = match (&resume, &model) {
        (Some(from), _) => Scaling::Reuse(&from.checkpoint.model.metadata.preprocessing),
        (None, Some(model)) => Scaling::Reuse(&model.metadata.preprocessing),
        (None, None) => Scaling::Fit {
            inputs: plan.scale,
            standardize_targets: plan.standardize_targets,
        },
    };
    let summary = std::mem::take(&mut splits.summary);
    let data = data::encode(splits, scaling, single_sigmoid);
    // Measured on every rank before the ranks compare their data, which waits for the slowest.
    let data_ready = cluster
        .is_distributed()
        .then(|| cluster.seconds_until_every_rank());
    cluster.check_same_data(&data.train_sha256)?;
    if let Some(from) = &resume {
        resume::check_data_hash(&from.checkpoint, &data.train_sha256, &plan.spec)?;
    }
    let train_rows = data.train.rows();
    let batch_size = batch_size(plan, train_rows)?;
    let batches_per_epoch = train_rows.div_ceil(batch_size);
    let training_config = TrainingConfig {
        epochs: plan.epochs,
        batch_size,
        optimizer: plan.optimizer.clone(),
        schedule: schedule(plan, batches_per_epoch),
        gradient_clip: plan.clip,
        shuffle: plan.shuffle,
        early_stopping: plan.early_stopping,
        seed: plan.seed,
        task: Some(data.task),
        divergence: DivergenceSettings {
            policy: options.divergence,
            ..DivergenceSettings::default()
        },
        ..TrainingConfig::default()
    };
    let (total_epochs, mut trainer) = match resume {
        Some(from) => {
            let done = from.checkpoint.state.epoch;
            let (resumed_network, mut trainer) = from
                .checkpoint
                .into_trainer(training_config)
                .map_err(|error| CliError::usage(format!("--resume: {error}")))?;
            network = resumed_network;
            trainer.set_epochs(from.total_epochs)?;
            say(format_args!(
                "resuming {} after {done} epoch(s) of {}",
                options.checkpoint.display(),
                from.total_epochs
            ));
            (from.total_epochs, trainer)
        }
        None => (plan.epochs, Trainer::<f32>::new(training_config)?),
    };
    let sharding = cluster.sharding(plan.shards, plan.fast_allreduce, network.config().dropout)?;
    if let Some(sharding) = sharding {
        say(sharding_line(cluster, &sharding, plan.fast_allreduce));
        trainer.set_sharding(sharding);
    }
    if let Some(seconds) = data_ready {
        say(format_args!(
            "data ready on every rank {seconds:.3} s after start ({})",
            match distribution {
                DataDistributionArg::Read => "each rank read it",
                DataDistributionArg::Broadcast => "rank 0 read it and broadcast it",
            }
        ));
    }

    for line in &summary {
        say(line);
    }
    for note in &plan.notes {
        say(format_args!("note: {note}"));
    }
    if let Some(path) = &plan.init_from {
        say(format_args!(
            "fine-tuning {}: its weights, architecture and feature scaling",
            path.display()
        ));
    }
    for line in header_lines(plan, &data, network.config(), batch_size, total_epochs) {
        say(line);
    }
    let mut reporter = EpochReporter::new(
        total_epochs,
        batches_per_epoch,
        plan.output.quiet || !cluster.is_root(),
        plan.output.log.as_deref().filter(|_| cluster.is_root()),
    )?
    .with_diagnostics(plan.output.diagnostics);
    let validation = data
        .validation
        .as_ref()
        .map(|part| (&part.features, &part.targets));
    let started = Instant::now();
    let stop = StopRequest::install()?;
    let checkpoints = Checkpoints {
        plan,
        data: &data,
        batch_size,
        options,
        root: cluster.is_root(),
    };
    let mut control = Control::new(
        &mut reporter,
        &stop,
        options.checkpoint_every,
        plan.optimizer.learning_rate(),
    )
    .with_cluster(cluster);
    let (mut lbfgs_signal, mut lbfgs_history) = (None, None);
    let fitted = loop {
        if let Some(config) = &plan.lbfgs {
            let done = crate::lbfgs::fit(&mut network, &data, config, &mut control, &stop);
            break done.map(|done| {
                say(crate::lbfgs::stop_reason(&done.report));
                lbfgs_signal = done.signal;
                lbfgs_history = Some(done.history);
            });
        }
        let fitted = trainer.fit(
            &mut network,
            &data.train.features,
            &data.train.targets,
            validation,
            &mut control,
        );
        match fitted {
            Ok(_) if trainer.is_finished() => break Ok(()),
            Ok(_) => {
                checkpoints.write(&network, &trainer)?;
                if let Some(signal) = stop.signal() {
                    break Err(checkpoints.interrupted(signal, &network, &trainer));
                }
            }
            Err(backprop::Error::Diverged { epoch, batch, loss }) => {
                // Every rank saw the same loss: each ends on its own, none aborts the others.
                cluster.fail_together();
                break Err(checkpoints.diverged(epoch, batch, loss, &network, &trainer));
            }
            Err(other) => break Err(CliError::from(other)),
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let logged = reporter.finish();
    fitted?;
    logged?;
    let timings = trainer.sharding_mut().map(|sharding| sharding.seconds());
    if !cluster.is_root() {
        // Rank 0 alone evaluates the parts, reports and writes files.
        return Ok(());
    }
    if let Some(timings) = timings {
        say(format_args!(
            "data-parallel timings (rank 0): shard gradients {:.3} s, combining {:.3} s of \
             which exchanges {:.3} s ({:.1} % of gradients and combining)",
            timings.compute,
            timings.combine,
            timings.exchange,
            100.0 * timings.exchange / (timings.compute + timings.combine).max(f64::MIN_POSITIVE)
        ));
    }
    let history = lbfgs_history.unwrap_or_else(|| trainer.history().clone());
    if options.checkpoints_requested {
        checkpoints.write(&network, &trainer)?;
        say(format_args!(
            "checkpoint saved to {} (go on with backprop train --resume {} --epochs N)",
            options.checkpoint.display(),
            options.checkpoint.display()
        ));
    }

    let processed = (history.epochs.len() * train_rows) as f64;
    let scaler = data.preprocessing.target_scaler.as_ref();
    let outcome = Outcome {
        plan,
        data: &data,
        config: network.config(),
        batch_size,
        history: &history,
        train: part_metrics(&network, &data.train, scaler, data.task),
        validation: data
            .validation
            .as_ref()
            .map(|part| part_metrics(&network, part, scaler, data.task)),
        test: part_metrics(&network, &data.test, scaler, data.task),
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
    let metadata = model_file::metadata(plan, &data, &network, &history, batch_size);
    let parameters = network.parameter_count();
    // The model first: a report that cannot be written must not cost the trained model.
    let report_metadata = plan.output.report.as_ref().map(|_| metadata.clone());
    model_file::save_model(&plan.output.model, network.clone(), metadata)?;
    say(format_args!(
        "saved {} ({}, {} parameters)",
        plan.output.model.display(),
        format_architecture(outcome.config),
        format_count(parameters)
    ));
    if let (Some(path), Some(metadata)) = (&plan.output.report, &report_metadata) {
        write_report(path, &plan.output.model, &network, metadata, &data)?;
    }
    if let Some(signal) = lbfgs_signal {
        // L-BFGS keeps no state worth a checkpoint: the model reached is what it leaves.
        return Err(CliError::Interrupted {
            signal,
            message: format!(
                "stopped by {} after {} L-BFGS iteration(s); the model reached is saved in {}",
                crate::interrupt::signal_name(signal),
                history.epochs.len(),
                plan.output.model.display()
            ),
        });
    }
    if plan.output.json {
        let mut summary = summary_json(&outcome);
        if let (Some(timings), Some(object)) = (timings, summary.as_object_mut()) {
            object.insert("ranks".into(), cluster.ranks().into());
            object.insert("compute_seconds".into(), timings.compute.into());
            object.insert("combine_seconds".into(), timings.combine.into());
            object.insert("communication_seconds".into(), timings.exchange.into());
        }
        if let (Some(seconds), Some(object)) = (data_ready, summary.as_object_mut()) {
            object.insert("data_ready_seconds".into(), seconds.into());
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{summary}")
            .and_then(|()| stdout.flush())
            .map_err(|error| CliError::io("cannot write the JSON result to stdout", error))?;
    }
    Ok(())
}

/// The line that says how batches are sharded and summed.
fn sharding_line(cluster: &Cluster, sharding: &Sharding<f32>, fast: bool) -> String {
    let sum = if fast {
        "summed with MPI_Allreduce (--fast-allreduce: within rounding of one process)"
    } else {
        "summed over a fixed tree (bit-identical for any rank count)"
    };
    let (ranks, shards) = (cluster.ranks(), sharding.shards());
    let idle = (0..ranks)
        .filter(|&rank| backprop::shard::owned_shards(shards, rank, ranks).is_empty())
        .count();
    let idle = if idle > 0 {
        format!(" ({idle} of the {ranks} ranks own no shard and only take part in exchanges)")
    } else {
        String::new()
    };
    format!("data-parallel: {ranks} rank(s), every batch cut into {shards} shards{idle}, {sum}")
}

/// Writes the HTML training report of the trained network, its data figures drawn on the
/// test part (features mapped back to their raw units, as the model file expects them).
fn write_report(
    path: &std::path::Path,
    model_path: &std::path::Path,
    network: &Network<f32>,
    metadata: &backprop::ModelMetadata,
    data: &data::PreparedData,
) -> Result<(), CliError> {
    let model = backprop::Model::new(network.clone(), metadata.clone())
        .map_err(|error| CliError::Runtime(format!("cannot describe the model: {error}")))?;
    let test = &data.test;
    let features = match &data.preprocessing.input_scaler {
        Some(scaler) => scaler.inverse_transform(&test.features),
        None => test.features.clone(),
    };
    let labels = (data.task == Task::Classification).then(|| {
        if test.targets.cols() == 1 {
            test.targets
                .as_slice()
                .iter()
                .map(|&value| usize::from(value > 0.5))
                .collect()
        } else {
            test.targets.argmax_rows()
        }
    });
    let part = if data.test_is_training {
        "the training data"
    } else {
        "the test part"
    };
    let figure_data = backprop_teach::plot::FigureData {
        features,
        labels,
        description: format!("{part} of {} ({} rows)", data.name, test.rows()),
    };
    let page =
        crate::figures::report_page(&model, &model_path.display().to_string(), Ok(&figure_data));
    crate::draw::write_text_file(path, &backprop_teach::plot::report_html(&page))?;
    say(format_args!(
        "wrote the report {} ({} figures)",
        path.display(),
        page.figures.len()
    ));
    Ok(())
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

/// Loss and accuracy on one part of the final network; for regression the loss in
/// standardised units and MAE and R² on predictions mapped back to the targets' units.
fn part_metrics(
    network: &Network<f32>,
    part: &Part,
    target_scaler: Option<&AffineScaler>,
    task: Task,
) -> Metrics {
    let mut metrics = evaluate(network, &part.features, &part.targets, task);
    if let (Some(scaler), Some(values)) = (target_scaler, &part.values) {
        let mut accumulator = MetricAccumulator::new();
        for (predictions, rows) in predictions_in_chunks(network, part) {
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

/// The batch size: the one asked for, or the whole training part. A batch asked for (flag or
/// config file) larger than the training part is a mistake worth saying; a preset's own batch
/// size on a smaller data set just becomes one full batch.
fn batch_size(plan: &TrainPlan, train_rows: usize) -> Result<usize, CliError> {
    match plan.batch_size {
        Some(asked) if asked > train_rows && Some(asked as u64) != plan.preset.batch_size => {
            Err(CliError::usage(format!(
                "--batch-size {asked} is larger than the {train_rows} training rows; use at most \
                 {train_rows}, or leave it out for one full batch"
            )))
        }
        Some(asked) => Ok(asked.clamp(1, train_rows.max(1))),
        None => Ok(train_rows.max(1)),
    }
}
