//! # backprop-web
//!
//! The playground: an HTTP server (axum on tokio) that trains small networks with the
//! `backprop` library while a web page watches. `backprop serve` runs it; the page is embedded
//! in the binary. The JSON API is described in the crate's README and `API.md`.
//!
//! - [`config`] parses and checks a session's configuration;
//! - [`data`] and [`features`] make its data and the network inputs;
//! - [`session`] trains (one library step per batch), [`state`] and [`heatmap`] show it,
//!   [`trace`] is the δ lens, [`gradcheck`] its gradient check;
//! - [`registry`] holds the sessions and their caps, [`stream`] trains them live and streams
//!   their states, [`routes`] answers HTTP, [`server`] runs it all.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assets;
pub mod config;
pub mod data;
mod error;
pub mod features;
pub mod gradcheck;
pub mod heatmap;
pub mod history;
pub mod landscape;
pub mod limits;
pub mod prediction;
pub mod registry;
pub mod routes;
pub mod server;
pub mod session;
pub mod state;
pub mod stream;
pub mod trace;

pub use config::SessionConfig;
pub use error::{ApiError, WebError};
pub use limits::Limits;
pub use server::{serve, spawn, RunningServer, ServeOptions, Stopped};
