//! `backprop draw`: a network diagram as SVG, line width proportional to |w|, colour by sign.
//!
//! - `draw MODEL --out net.svg` (or `--model MODEL`) draws a model file; with no model, the
//!   company network at its seeded start, with its roles (salespeople, managers, CEO).
//! - `--before OTHER_MODEL` draws the change from another model of the same sizes: which
//!   weights grew and which shrank.
//! - `--input v1,v2,…` shades the nodes by their activation for that input (a model's stored
//!   input scaler is applied first) instead of by their bias.
//!
//! The file is written atomically. PNG output is not available yet: an `--out` ending in `.png`
//! is refused (exit 2).

use crate::exit::CliError;
use crate::explain::{parse_values, scaled_input};
use crate::model_file::{LoadedModel, ModelLocation};
use crate::output_file::AtomicFile;
use crate::report::say;
use backprop::teach::{diagram_svg, CompanyExample, DiagramOptions};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flags of `backprop draw`.
#[derive(Debug, Args)]
pub struct DrawArgs {
    /// The model to draw [default: the company network at its seeded start].
    #[command(flatten)]
    pub model: ModelLocation,
    /// The SVG file to write.
    #[arg(long, value_name = "FILE.svg")]
    pub out: PathBuf,
    /// Draw the change from this model (same layer sizes) instead of the weights themselves.
    #[arg(long, value_name = "OTHER_MODEL")]
    pub before: Option<PathBuf>,
    /// Shade nodes by their activation for this input row (before the model's scaling).
    #[arg(long, value_name = "V1,V2,…")]
    pub input: Option<String>,
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

/// Refuses output names the command cannot write.
fn check_output_name(path: &Path) -> Result<(), CliError> {
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    if extension.as_deref() == Some("png") {
        return Err(CliError::usage(
            "PNG output is not available yet; write .svg",
        ));
    }
    Ok(())
}

/// Runs `backprop draw`.
pub fn run(arguments: &DrawArgs) -> Result<(), CliError> {
    check_output_name(&arguments.out)?;
    let path = arguments
        .model
        .flag
        .as_deref()
        .or(arguments.model.positional.as_deref());
    let mut options = DiagramOptions::default();
    if let Some(title) = &arguments.title {
        options = options.with_title(title);
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
            let loaded = LoadedModel::load(path)?;
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
    write_text_file(&arguments.out, &svg)?;
    say(format_args!("wrote {}", arguments.out.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_refused_with_a_usage_error() {
        let error = check_output_name(Path::new("net.PNG")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("write .svg"), "{error}");
        assert!(check_output_name(Path::new("net.svg")).is_ok());
    }
}
