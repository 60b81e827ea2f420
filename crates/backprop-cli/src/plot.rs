//! `backprop plot MODEL --what KIND --out FILE.svg|.png`: the pictures of the training report
//! as files, or all of them with `--out-dir DIR [--format png]`.
//!
//! Kinds: loss, accuracy, learning-speed, weight-gradients, saturation, diagram (from the
//! model file alone), confusion, boundary, neurons (with data: `--data`, or the model's
//! built-in training data), and weight-curve (`--weight NAME`: the cost against one weight
//! with backprop's tangent and a finite-difference nudge, on the same data). A kind asked for by name that cannot be drawn is an error (exit
//! 2); with `--out-dir` and no `--what`, such kinds are skipped with a note.

use crate::exit::CliError;
use crate::figures::{load_figure_data, FigureDataArgs};
use crate::model_file::{LoadedModel, ModelLocation};
use crate::raster::{write_picture, PictureFormat};
use crate::report::say;
use backprop_teach::format::{format_number, operand};
use backprop_teach::plot::weight_curve::weight_curve;
use backprop_teach::plot::{figure, Figure, FigureData, FigureKind};
use backprop_teach::WeightName;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Flags of `backprop plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The model file.
    #[command(flatten)]
    pub model: ModelLocation,
    /// The picture: loss, accuracy, learning-speed, weight-gradients, saturation, diagram,
    /// confusion, boundary, neurons, weight-curve (with --weight); repeat it with --out-dir
    /// [default with --out-dir: all but weight-curve].
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub what: Vec<FigureKind>,
    /// The file to write, .svg or .png (one --what).
    #[arg(long, value_name = "FILE.svg|FILE.png", conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// Write each picture to DIR/KIND.svg (or .png with --format png).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// The format of the files --out-dir writes.
    #[arg(long, value_enum, default_value_t = FormatArg::Svg)]
    pub format: FormatArg,
    /// With --what weight-curve: the weight, named as in the model file, such as
    /// layers.1.weight[0,1].
    #[arg(long, value_name = "NAME")]
    pub weight: Option<String>,
    /// The data for the confusion matrix and heat maps.
    #[command(flatten)]
    pub data: FigureDataArgs,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// SVG documents.
    Svg,
    /// PNG pictures.
    Png,
}

fn parse_kind(text: &str) -> Result<FigureKind, String> {
    FigureKind::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = FigureKind::ALL
            .iter()
            .chain(&[FigureKind::WeightCurve])
            .map(|kind| kind.name())
            .collect();
        format!("unknown picture {text:?}; one of {}", names.join(", "))
    })
}

/// Runs `backprop plot`.
pub fn run(arguments: &PlotArgs) -> Result<(), CliError> {
    let targets: Vec<(FigureKind, PathBuf)> =
        match (&arguments.out, &arguments.out_dir) {
            (Some(path), None) => {
                PictureFormat::of(path, "--out")?;
                match arguments.what.as_slice() {
                    [kind] => vec![(*kind, path.clone())],
                    _ => return Err(CliError::usage(
                        "--out writes one picture: give exactly one --what (or use --out-dir DIR)",
                    )),
                }
            }
            (None, Some(folder)) => {
                let extension = match arguments.format {
                    FormatArg::Svg => PictureFormat::Svg,
                    FormatArg::Png => PictureFormat::Png,
                }
                .extension();
                let kinds = if arguments.what.is_empty() {
                    FigureKind::ALL.to_vec()
                } else {
                    arguments.what.clone()
                };
                kinds
                    .into_iter()
                    .map(|kind| (kind, folder.join(format!("{}.{extension}", kind.name()))))
                    .collect()
            }
            _ => {
                return Err(CliError::usage(
                    "plot needs --out FILE.svg|FILE.png (with one --what) or --out-dir DIR",
                ))
            }
        };
    let weight = match &arguments.weight {
        Some(name) => Some(
            WeightName::parse(name)
                .map_err(|message| CliError::usage(format!("--weight {message}")))?,
        ),
        None => None,
    };
    if weight.is_some()
        && !targets
            .iter()
            .any(|(kind, _)| *kind == FigureKind::WeightCurve)
    {
        return Err(CliError::usage("--weight goes with --what weight-curve"));
    }
    let model = LoadedModel::load(arguments.model.path("plot")?)?;
    model.require_dense_only("plot")?;
    let asked = !arguments.what.is_empty();
    let data = if targets.iter().any(|(kind, _)| kind.needs_data()) {
        Some(load_figure_data(&model, &arguments.data)?)
    } else {
        None
    };
    if let Some(folder) = &arguments.out_dir {
        std::fs::create_dir_all(folder).map_err(|error| {
            CliError::io(format!("cannot create folder {}", folder.display()), error)
        })?;
    }
    let mut written = 0;
    for (kind, path) in &targets {
        let figure_data = match &data {
            Some(Ok(data)) => Some(data),
            _ => None,
        };
        let drawn = match (kind.needs_data(), &data) {
            (true, Some(Err(reason))) => Err(reason.clone()),
            _ if *kind == FigureKind::WeightCurve => {
                weight_curve_figure(&model, weight, figure_data, path)?
            }
            _ => figure(&model.model, *kind, figure_data),
        };
        match drawn {
            Ok(figure) => {
                write_picture(path, &figure.svg, "--out")?;
                say(format_args!("wrote {}", path.display()));
                written += 1;
            }
            Err(reason) if asked => {
                return Err(CliError::usage(format!(
                    "{}: cannot draw {}: {reason}",
                    model.name(),
                    kind.name()
                )))
            }
            Err(reason) => say(format_args!("note: no {} picture: {reason}", kind.name())),
        }
    }
    if written == 0 {
        return Err(CliError::usage(format!(
            "{}: no picture could be drawn",
            model.name()
        )));
    }
    Ok(())
}

/// The weight-curve figure, which needs `--weight`; says the backprop and finite-difference
/// slopes on stderr.
fn weight_curve_figure(
    model: &LoadedModel,
    weight: Option<WeightName>,
    data: Option<&FigureData>,
    path: &std::path::Path,
) -> Result<Result<Figure, String>, CliError> {
    let weight = weight.ok_or_else(|| {
        CliError::usage("--what weight-curve needs --weight NAME, such as layers.1.weight[0,1]")
    })?;
    let Some(data) = data else {
        return Ok(Err(
            "the weight-curve figure needs labelled data (--data)".into()
        ));
    };
    let (curve, figure) = weight_curve(&model.model, data, weight)
        .map_err(|message| CliError::usage(format!("--weight {message}")))?;
    say(format_args!(
        "{}: ∂C/∂w = {} by backprop, {} by central differences (h = {}); cost {} at w = {}",
        path.display(),
        operand(curve.gradient),
        operand(curve.numeric_gradient),
        operand(curve.h),
        format_number(curve.cost),
        format_number(curve.value)
    ));
    Ok(Ok(figure))
}
