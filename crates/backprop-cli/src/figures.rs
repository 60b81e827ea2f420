//! What `report`, `plot` and `train --report` share: the labelled data the data figures are
//! drawn on, and the report page.
//!
//! Data comes from `--data` when given; otherwise from the data the model was trained on when
//! that was a built-in set (regenerated with the recorded samples, noise and seed). Without
//! either, the figures that need data are left out, each saying so.

use crate::exit::CliError;
use crate::labeled_data::{Generate, LabeledData, ModelTargets};
use crate::model_file::LoadedModel;
use backprop::model::Model;
use backprop::train::Task;
use backprop::Matrix;
use backprop_data::DataSpec;
use backprop_teach::plot::report::model_summary;
use backprop_teach::plot::{figure, FigureData, FigureKind, ReportPage};
use clap::Args;

/// Rows read for the data figures at most (MNIST's test part is 10,000).
const MAX_FIGURE_ROWS: usize = 20_000;

/// `--data` and the generator settings of the figures' data.
#[derive(Debug, Args)]
pub struct FigureDataArgs {
    /// Labelled data for the confusion matrix and the heat maps: FILE.csv[.gz], mnist:DIR (its
    /// t10k part) or a built-in set [default: the model's training data when it was built in].
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
    /// Rows of a generated built-in set [default: as recorded in the model, else 500].
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Noise of a generated built-in set [default: as recorded, else 0].
    #[arg(long, value_name = "F")]
    pub noise: Option<f64>,
    /// Seed of a generated built-in set [default: the model's seed].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// The figures' data for `model`: `Ok(None)` when there is none to use, with the reason.
pub fn load_figure_data(
    model: &LoadedModel,
    arguments: &FigureDataArgs,
) -> Result<Result<FigureData, String>, CliError> {
    let metadata = &model.model.metadata;
    let recorded = |key: &str| {
        metadata
            .hyperparameters
            .get(key)
            .and_then(|value| value.as_f64())
    };
    let spec = match &arguments.data {
        Some(spec) => spec.clone(),
        None => {
            let source = &metadata.data.source;
            match source.parse::<DataSpec>() {
                Ok(DataSpec::BuiltIn(_)) => source.clone(),
                _ => {
                    return Ok(Err(format!(
                        "the model was trained on {source:?}, not a built-in set; pass --data to draw it"
                    )))
                }
            }
        }
    };
    let generate = Generate {
        samples: arguments
            .samples
            .or(recorded("samples").map(|samples| samples as usize))
            .unwrap_or(500),
        noise: arguments.noise.or(recorded("noise")).unwrap_or(0.0),
        seed: arguments.seed.unwrap_or(metadata.seed),
    };
    let mut data = LabeledData::open(&spec, model, &[], &generate)?;
    // The model's own generated set, regenerated as it was: show its test part, as
    // `train --report` did, rather than rows the model trained on.
    let regenerated = arguments.data.is_none()
        && arguments.samples.is_none()
        && arguments.noise.is_none()
        && arguments.seed.is_none();
    if let (true, Some(fraction)) = (regenerated, recorded("test_split")) {
        data.keep_test_part(fraction, metadata.seed)?;
    }
    let mut rows: Vec<f32> = Vec::new();
    let mut labels = Vec::new();
    let mut count = 0;
    let width = model.input_width();
    while let Some(chunk) = data.next_chunk(4096.min(MAX_FIGURE_ROWS - count))? {
        count += chunk.features.rows();
        rows.extend_from_slice(chunk.features.as_slice());
        if let ModelTargets::Classes(classes) = chunk.targets {
            labels.extend(classes);
        }
        if count >= MAX_FIGURE_ROWS {
            break;
        }
    }
    if count == 0 {
        return Err(CliError::usage(format!("--data {spec}: no rows")));
    }
    let features = Matrix::from_vec(count, width, rows)
        .map_err(|error| CliError::Runtime(format!("--data {spec}: {error}")))?;
    let labels = (model.task == Task::Classification && labels.len() == count).then_some(labels);
    Ok(Ok(FigureData {
        features,
        labels,
        description: format!("{} ({count} rows)", data.description),
    }))
}

/// The report page of a model: the summary, then every figure that can be drawn (data
/// figures with `data`), the others listed with the reason.
pub fn report_page(model: &Model, name: &str, data: Result<&FigureData, &str>) -> ReportPage {
    let mut page = ReportPage {
        title: format!("Training report: {name}"),
        summary: model_summary(model),
        ..ReportPage::default()
    };
    match data {
        Ok(data) => page.notes.push(format!(
            "The confusion matrix and heat maps use {}.",
            data.description
        )),
        Err(reason) => page.notes.push(format!("No data figures: {reason}.")),
    }
    for kind in FigureKind::ALL {
        let drawn = match (kind.needs_data(), data) {
            (true, Err(reason)) => Err(reason.to_string()),
            (_, data) => figure(model, kind, data.ok()),
        };
        match drawn {
            Ok(figure) => page.figures.push(figure),
            Err(reason) => page.missing.push((kind, reason)),
        }
    }
    page
}
