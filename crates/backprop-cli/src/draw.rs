//! `backprop draw`: a network diagram as SVG, line width proportional to |w|, colour by sign.
//!
//! - `draw MODEL --out net.svg` (or `--model MODEL`) draws a model file; with no model, the
//!   company network at its seeded start, with its roles (salespeople, managers, CEO).
//! - `--before OTHER_MODEL` draws the change from another model of the same sizes: which
//!   weights grew and which shrank.
//! - `--backward` draws the backward pass of `backprop explain`'s step: each node's δ, the
//!   arrowheads pointing back along the weights.
//! - `--values` writes each weight (or its change) on its line; every line ends in an
//!   arrowhead at the unit it feeds. A 2-3-1 model is drawn with the company's roles.
//! - `--input v1,v2,…` shades the nodes by their activation for that input (a model's stored
//!   input scaler is applied first) instead of by their bias.
//! - A model that starts with convolutions is drawn as each convolution's filters, small
//!   k×k images coloured by the weights' signs (`backprop_teach::filters`).
//!
//! The file is written atomically, as SVG or PNG by `--out`'s extension ([`crate::raster`]).

use crate::exit::CliError;
use crate::explain::{parse_values, scaled_input};
use crate::model_file::{LoadedModel, ModelLocation};
use crate::output_file::AtomicFile;
use crate::raster::{write_picture, PictureFormat};
use crate::report::say;
use backprop_teach::{diagram_svg, filters_svg, CompanyExample, DiagramOptions, FilterOptions};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flags of `backprop draw`.
#[derive(Debug, Args)]
pub struct DrawArgs {
    /// The model to draw [default: the company network at its seeded start].
    #[command(flatten)]
    pub model: ModelLocation,
    /// The picture to write: FILE.svg, or FILE.png (rasterised with an embedded font).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub out: PathBuf,
    /// Draw the change from this model (same layer sizes) instead of the weights themselves.
    #[arg(long, value_name = "OTHER_MODEL")]
    pub before: Option<PathBuf>,
    /// Shade nodes by their activation for this input row (before the model's scaling).
    #[arg(long, value_name = "V1,V2,…", allow_hyphen_values = true)]
    pub input: Option<String>,
    /// Write each weight's value on its line (with --before: its change).
    #[arg(long)]
    pub values: bool,
    /// Draw the backward pass of the company's explained step (the sale of `backprop
    /// explain`): each node's δ, arrows pointing back the way δ flows.
    #[arg(long, conflicts_with_all = ["before", "input"])]
    pub backward: bool,
    /// The diagram's title [default: one naming the network].
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
}

/// Writes `text` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_text_file(path: &Path, text: &str) -> Result<(), CliError> {
    let mut file = AtomicFile::create(path)?;
    file.file()
        .write_all(text.as_bytes())
        .map_err(|error| CliError::io(format!("{}: cannot write", path.display()), error))?;
    file.commit()
}

/// A model with image layers: each convolution's filters as small images.
fn draw_filters(arguments: &DrawArgs, loaded: &LoadedModel) -> Result<(), CliError> {
    for (given, flag) in [
        (arguments.before.is_some(), "--before"),
        (arguments.input.is_some(), "--input"),
        (arguments.values, "--values"),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "{flag}: {} starts with convolutions, drawn as their filters; {flag} applies to \
                 the line diagrams of dense networks",
                loaded.path.display()
            )));
        }
    }
    let mut options = FilterOptions {
        title: format!(
            "The filters of {} ({})",
            loaded.name(),
            crate::report::format_architecture(loaded.model.network.config())
        ),
        ..FilterOptions::default()
    };
    if let Some(title) = &arguments.title {
        options.title.clone_from(title);
    }
    let svg =
        filters_svg(&loaded.model.network.cast::<f64>(), &options).map_err(CliError::usage)?;
    write_picture(&arguments.out, &svg, "--out")?;
    say(format_args!("wrote {}", arguments.out.display()));
    Ok(())
}

/// Runs `backprop draw`.
pub fn run(arguments: &DrawArgs) -> Result<(), CliError> {
    PictureFormat::of(&arguments.out, "--out")?;
    let path = arguments
        .model
        .flag
        .as_deref()
        .or(arguments.model.positional.as_deref());
    let mut options = DiagramOptions::default();
    if let Some(title) = &arguments.title {
        options = options.with_title(title);
    }
    if arguments.values {
        options = options.with_values();
    }
    let svg = match path {
        None => {
            if arguments.before.is_some() {
                return Err(CliError::usage(
                    "--before needs a model to compare with: backprop draw MODEL --before OTHER_MODEL --out FILE.svg",
                ));
            }
            let example = CompanyExample::default();
            options = options.with_roles(example.roles());
            if arguments.backward {
                let explanation = example.explain()?;
                let deltas: Vec<Vec<f64>> = explanation
                    .layers
                    .iter()
                    .map(|layer| layer.units.iter().map(|unit| unit.delta).collect())
                    .collect();
                options = options.with_deltas(&deltas);
            }
            if let Some(text) = &arguments.input {
                let values = parse_values("--input", text)?;
                if values.len() != 2 {
                    return Err(CliError::usage(format!(
                        "--input {text:?}: the company has two salespeople; give two numbers"
                    )));
                }
                options = options.with_activations_for(&values);
            }
            diagram_svg(&example.network(), &options)?
        }
        Some(path) => {
            if arguments.backward {
                return Err(CliError::usage(
                    "--backward draws the company network's explained step; for a model, \
                     backprop explain --model FILE --input … --html FILE draws its backward pass",
                ));
            }
            let loaded = LoadedModel::load(path)?;
            if loaded.model.network.feature_count() > 0 {
                return draw_filters(arguments, &loaded);
            }
            loaded.require_plain_numbering("draw")?;
            // A 2-3-1 model has the company network's shape: its units get the roles.
            if loaded.model.network.config().sizes == [2, 3, 1] {
                options = options.with_roles(CompanyExample::default().roles());
            }
            if let Some(text) = &arguments.input {
                let values = scaled_input(&loaded, &parse_values("--input", text)?)?;
                options = options.with_activations_for(&values);
            }
            if let Some(before_path) = &arguments.before {
                let before = LoadedModel::load(before_path)?;
                options = options.with_before(&before.model.network);
            }
            diagram_svg(&loaded.model.network, &options)?
        }
    };
    write_picture(&arguments.out, &svg, "--out")?;
    say(format_args!("wrote {}", arguments.out.display()));
    Ok(())
}
