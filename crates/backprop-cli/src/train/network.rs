//! The network to train: a fresh one from the plan and the data's widths, or under
//! `--init-from` the model's architecture and weights with the plan's dropout, penalties and
//! seed.

use crate::config::TrainPlan;
use crate::data::{DataSource, Splits};
use crate::exit::CliError;
use crate::report::format_sizes;
use backprop::conv::ImageShape;
use backprop::model::Model;
use backprop::train::Task;
use backprop::{Cost, Network, NetworkConfig, Regularization};
use backprop_data::BuiltIn;

/// The most weights and biases a network may have (about 1 GiB of `f32`, before optimiser
/// state), so that a typo in `--layers` is an error rather than an allocation failure.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// The network, ready to train, and whether it has a single sigmoid output for two classes
/// (which then trains on 0/1 labels instead of one-hot rows).
pub fn build(
    plan: &TrainPlan,
    splits: &Splits,
    model: Option<&Model>,
) -> Result<(Network<f32>, bool), CliError> {
    let regularization = Regularization {
        l2_nielsen: plan.l2_nielsen,
        training_set_size: splits.train.len(),
        l1: plan.l1,
    };
    match model {
        Some(model) => from_model(plan, splits, model, regularization),
        None => fresh(plan, splits, regularization),
    }
}

/// A new network: sizes from the data and `--layers`, activations from the plan and the cost.
fn fresh(
    plan: &TrainPlan,
    splits: &Splits,
    regularization: Regularization,
) -> Result<(Network<f32>, bool), CliError> {
    let (cost, output_activation) = plan.cost_for(splits.task)?;
    let single_sigmoid = cost == Cost::BinaryCrossEntropy && splits.train.n_classes() == Some(2);
    let mut sizes = vec![splits.train.n_features()];
    sizes.extend(&plan.hidden_layers);
    sizes.push(splits.n_outputs(single_sigmoid));
    check_parameter_count(&sizes)?;
    let mut config = NetworkConfig::new(&sizes, cost);
    if !plan.image_layers.is_empty() {
        let shape = image_shape(plan, splits)?;
        config = config.with_features(shape, plan.image_layers.clone());
        config
            .validate()
            .map_err(|e| CliError::usage(format!("--layers: {e}")))?;
    }
    let mut config = config
        .with_hidden_activation(plan.activation)
        .with_initialization(plan.initialization)
        .with_dropout(plan.dropout)
        .with_hidden_dropout(plan.hidden_dropout.clone())
        .with_regularization(regularization)
        .with_seed(plan.seed);
    if let Some(activation) = output_activation {
        config = config.with_output_activation(activation);
    }
    Ok((config.init::<f32>()?, single_sigmoid))
}

/// The shape of an input row as an image: `--input-shape`, or the data's own (MNIST's
/// 1×28×28, the built-in digits' 1×8×8).
pub(crate) fn image_shape(plan: &TrainPlan, splits: &Splits) -> Result<ImageShape, CliError> {
    let width = splits.train.n_features();
    let known = match &plan.source {
        DataSource::BuiltIn {
            builtin: BuiltIn::Digits,
            ..
        } => Some(ImageShape::new(1, 8, 8)),
        DataSource::Mnist(_) => Some(ImageShape::new(1, 28, 28)),
        _ => None,
    };
    let Some(shape) = plan.input_shape.or(known) else {
        return Err(CliError::usage(format!(
            "--layers has image layers or --augment shifts images, but the data's {width} \
             columns have no image shape: give --input-shape CxHxW"
        )));
    };
    if shape.len() != width {
        return Err(CliError::usage(format!(
            "--input-shape {shape} makes {} values per row, but the data has {width} input \
             columns",
            shape.len()
        )));
    }
    Ok(shape)
}

/// The model's network, re-made with the plan's dropout, penalties and seed (the shuffles and
/// dropout masks follow `--seed`), holding the model's weights.
fn from_model(
    plan: &TrainPlan,
    splits: &Splits,
    model: &Model,
    regularization: Regularization,
) -> Result<(Network<f32>, bool), CliError> {
    let mut config = model.network.config().clone();
    let output_width = model.network.output_width();
    let single_sigmoid = splits.task == Task::Classification && output_width == 1;
    let data_outputs = splits.n_outputs(single_sigmoid);
    if model.network.input_width() != splits.train.n_features() || output_width != data_outputs {
        return Err(CliError::usage(format!(
            "the model {} is a {} network, but the data needs {} inputs and {} outputs",
            plan.init_from
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display(),
            format_sizes(&config.sizes),
            splits.train.n_features(),
            data_outputs
        )));
    }
    config.dropout = plan.dropout;
    config.regularization = regularization;
    config.seed = plan.seed;
    let mut network = config.init::<f32>()?;
    network.copy_parameters_from(&model.network);
    Ok((network, single_sigmoid))
}

/// Refuses networks above [`MAX_PARAMETERS`].
fn check_parameter_count(sizes: &[usize]) -> Result<(), CliError> {
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
            format_sizes(sizes)
        )));
    }
    Ok(())
}
