//! The server's caps: sessions, layers, neurons, rows and request size. They keep one client
//! from taking the machine, and `GET /api/limits` tells the page what they are.

use serde::Serialize;
use std::time::Duration;

/// Every cap the server enforces.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// Sessions alive at once; one more is refused with 503.
    pub max_sessions: usize,
    /// Hidden layers per network.
    pub max_layers: usize,
    /// Neurons per hidden layer.
    pub max_neurons: usize,
    /// The largest request body in bytes (the CSV upload travels inside it); more is a 413.
    pub max_upload_bytes: usize,
    /// The fewest rows a generated data set may have.
    pub min_samples: usize,
    /// The most rows a generated data set may have.
    pub max_samples: usize,
    /// The most data rows an uploaded CSV may have.
    pub max_csv_rows: usize,
    /// The most batches one `step` request may ask for.
    pub max_step_batches: usize,
    /// The most epochs one `step` request may ask for.
    pub max_step_epochs: usize,
    /// Seconds a session lives without an open event stream or a request.
    pub idle_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sessions: 64,
            max_layers: 8,
            max_neurons: 16,
            max_upload_bytes: 1 << 20,
            min_samples: 10,
            max_samples: 2000,
            max_csv_rows: 5000,
            max_step_batches: 10_000,
            max_step_epochs: 1000,
            idle_seconds: 30,
        }
    }
}

impl Limits {
    /// How long a session may sit unused before it is freed.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_seconds)
    }
}
