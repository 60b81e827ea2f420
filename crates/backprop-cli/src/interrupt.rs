//! Ctrl-C (SIGINT) and SIGTERM during training: the first one only raises a flag, which the
//! training loop reads between batches (it then writes a checkpoint and exits with 130 or
//! 143); a second one ends the process at once with the same status, which is safe because
//! every file is written atomically.
//!
//! The handlers are installed just before training starts: a signal while the data loads still
//! ends the process the usual way, as nothing is lost yet.

use crate::exit::CliError;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The signal that asked training to stop, if one did.
#[derive(Clone, Debug)]
pub struct StopRequest {
    received: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl StopRequest {
    /// Installs the handlers for SIGINT and SIGTERM.
    pub fn install() -> Result<Self, CliError> {
        let request = Self {
            received: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicUsize::new(0)),
        };
        for signal in [SIGINT, SIGTERM] {
            let status = 128 + signal;
            let failed = |error: std::io::Error| {
                CliError::io(format!("cannot handle signal {signal}"), error)
            };
            // Registered first, so it sees the flag as it was before this signal: only a
            // second signal exits at once.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                status,
                Arc::clone(&request.received),
            )
            .map_err(failed)?;
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&request.signal),
                usize::try_from(signal).unwrap_or(0),
            )
            .map_err(failed)?;
            signal_hook::flag::register(signal, Arc::clone(&request.received)).map_err(failed)?;
        }
        Ok(request)
    }

    /// Records `signal` as received, without a handler having run: another MPI rank got it,
    /// and every rank stops at the same batch.
    pub fn raise(&self, signal: i32) {
        self.signal
            .store(usize::try_from(signal).unwrap_or(0), Ordering::SeqCst);
        self.received.store(true, Ordering::SeqCst);
    }

    /// The number of the signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        if !self.received.load(Ordering::SeqCst) {
            return None;
        }
        let number = self.signal.load(Ordering::SeqCst);
        Some(
            i32::try_from(number)
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or(SIGINT),
        )
    }
}

/// The signal's name for messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
