//! `backprop serve`: the playground's web server. Thin: parse the flags, hand over to
//! `backprop_web::serve`, and map how it ended to an exit code (130 after SIGINT, 143 after
//! SIGTERM, 1 when the address cannot be bound).

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
}

/// Serves until SIGINT or SIGTERM.
pub fn run(arguments: &ServeArgs) -> Result<(), CliError> {
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
