//! `backprop export MODEL --format onnx|c --out FILE [--prefix NAME]`: a trained model taken
//! into the field ([`backprop_export`]). The file is written atomically; a model the format cannot
//! express (string columns for C) exits 2 saying why.

use crate::draw::write_text_file;
use crate::exit::CliError;
use crate::model_file::{LoadedModel, ModelLocation};
use crate::report::{format_count, say};
use backprop_export::c::{export_c_header, COptions};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The formats `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One ONNX graph (opset 17) with the preprocessing inside, for onnxruntime.
    Onnx,
    /// One dependency-free C99 header: `{prefix}_predict(features, outputs)`, no malloc.
    C,
}

/// Flags of `backprop export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file.
    #[command(flatten)]
    pub model: ModelLocation,
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Where to write it (for C, a header such as model.h).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// C: the prefix of every name in the header ({prefix}_predict, {PREFIX}_INPUTS, …).
    #[arg(long, value_name = "NAME", default_value = "backprop")]
    pub prefix: String,
}

/// Runs `backprop export`.
pub fn run(arguments: &ExportArgs) -> Result<(), CliError> {
    let path = arguments.model.path("export")?;
    let loaded = LoadedModel::load(path)?;
    match arguments.format {
        ExportFormat::Onnx => {
            let bytes = backprop_export::onnx::export_onnx(&loaded.model)
                .map_err(|error| CliError::usage(format!("{}: {error}", loaded.name())))?;
            backprop::model::write_atomically(&arguments.out, &bytes)
                .map_err(|error| CliError::Runtime(error.to_string()))?;
            say(format_args!(
                "wrote {}: an ONNX graph, opset {} ({} bytes)",
                arguments.out.display(),
                backprop_export::onnx::OPSET,
                format_count(bytes.len())
            ));
        }
        ExportFormat::C => {
            let options = COptions {
                prefix: arguments.prefix.clone(),
                source: loaded.name().to_string(),
            };
            let header = export_c_header(&loaded.model, &options)
                .map_err(|error| CliError::usage(format!("{}: {error}", loaded.name())))?;
            write_text_file(&arguments.out, &header.text)?;
            say(format_args!(
                "wrote {}: a C99 header with {}_predict ({} bytes of float weights; compile with -lm)",
                arguments.out.display(),
                arguments.prefix,
                format_count(header.weight_bytes)
            ));
        }
    }
    Ok(())
}
