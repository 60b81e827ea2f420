//! `backprop serve`: the playground's web server, or with `--model` a prediction server for a
//! trained model. Thin: parse the flags, hand over to `backprop_web::serve` or
//! `backprop_web::prediction::serve`, and map how it ended to an exit code (130 after SIGINT,
//! 143 after SIGTERM, 1 when the address cannot be bound).

use crate::exit::CliError;
use clap::Args;

/// Flags of `backprop serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (127.0.0.1: this machine only).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port; 0 picks a free one (the URL printed says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Serve predictions of this trained model (POST /v1/predict, GET /v1/model, GET
    /// /healthz) instead of the playground.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<std::path::PathBuf>,
    /// With --model: the largest request body in bytes (larger ones get 413).
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20, requires = "model")]
    pub max_body_bytes: usize,
    /// With --model: the most rows in one request (more get 400).
    #[arg(long, value_name = "N", default_value_t = 10_000, requires = "model")]
    pub max_rows: usize,
}

/// Serves until SIGINT or SIGTERM.
pub fn run(arguments: &ServeArgs) -> Result<(), CliError> {
    if let Some(path) = &arguments.model {
        return serve_model(arguments, path);
    }
    let options = backprop_web::ServeOptions {
        host: arguments.host.clone(),
        port: arguments.port,
        ..backprop_web::ServeOptions::default()
    };
    let stopped = backprop_web::serve(&options, |address| {
        eprintln!("backprop playground: http://{address}/");
    })
    .map_err(|error| CliError::Runtime(error.to_string()))?;
    Err(CliError::Interrupted {
        signal: stopped.signal_number(),
        message: "backprop playground: stopped".into(),
    })
}

/// The prediction server for the model at `path`.
fn serve_model(arguments: &ServeArgs, path: &std::path::Path) -> Result<(), CliError> {
    let loaded = crate::model_file::LoadedModel::load(path)?;
    let name = loaded.name().to_string();
    let model =
        backprop_web::prediction::ServedModel::new(loaded.model, &name).map_err(CliError::usage)?;
    let limits = backprop_web::prediction::PredictionLimits {
        max_body_bytes: arguments.max_body_bytes,
        max_rows: arguments.max_rows,
    };
    let stopped = backprop_web::prediction::serve(
        &arguments.host,
        arguments.port,
        model,
        limits,
        |address| {
            eprintln!("backprop prediction server for {name}: http://{address}/v1/predict");
        },
    )
    .map_err(|error| CliError::Runtime(error.to_string()))?;
    Err(CliError::Interrupted {
        signal: stopped.signal_number(),
        message: "backprop prediction server: stopped".into(),
    })
}
