//! `backprop report MODEL`: the training report of a model file, as one self-contained HTML
//! page (inline CSS and SVG, nothing fetched): loss and accuracy per epoch, the diagram,
//! per-layer learning speed and saturation from the stored history, and with data the
//! confusion matrix, the decision boundary and the hidden neurons' heat maps.

use crate::draw::write_text_file;
use crate::exit::CliError;
use crate::figures::{load_figure_data, report_page, FigureDataArgs};
use crate::model_file::{LoadedModel, ModelLocation};
use crate::report::say;
use backprop_teach::plot::report_html;
use clap::Args;
use std::path::PathBuf;

/// Flags of `backprop report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The model file.
    #[command(flatten)]
    pub model: ModelLocation,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html", default_value = "report.html")]
    pub out: PathBuf,
    /// The data for the confusion matrix and heat maps.
    #[command(flatten)]
    pub data: FigureDataArgs,
}

/// Runs `backprop report`.
pub fn run(arguments: &ReportArgs) -> Result<(), CliError> {
    let model = LoadedModel::load(arguments.model.path("report")?)?;
    let data = load_figure_data(&model, &arguments.data)?;
    let page = report_page(
        &model.model,
        &model.name(),
        data.as_ref().map_err(String::as_str),
    );
    write_text_file(&arguments.out, &report_html(&page))?;
    for (kind, reason) in &page.missing {
        say(format_args!("note: no {} figure: {reason}", kind.name()));
    }
    say(format_args!(
        "wrote {} ({} figures)",
        arguments.out.display(),
        page.figures.len()
    ));
    Ok(())
}
