//! Inference calls with helpers or alone, as a [`Pacer`] finds faster on this machine now.
//!
//! Two threads help a prediction only while a second core is free for the second one: when
//! another process takes its time, a block of rows it has claimed holds up the whole call, and
//! two threads run below one. Training steps are paced by the trainer; inference takes `&self`
//! (a network may predict on several threads at once), so each network keeps a pacer for its
//! inference calls behind a lock, with windows for calls ([`Pacer::for_calls`]). A call that
//! finds the pacer in use by another thread runs with helpers, uncounted. Which threads run a
//! call never changes a bit of its result.

use super::{on_pool_thread, paced_on_pool_thread};
use backprop_tensor::pacer::Pacer;
use std::sync::{Mutex, TryLockError};

/// A network's pacer for its inference calls. A copy of the network starts with a fresh one.
#[derive(Debug)]
pub(crate) struct InferencePacer(Mutex<Pacer>);

impl Default for InferencePacer {
    fn default() -> Self {
        Self(Mutex::new(Pacer::for_calls()))
    }
}

impl Clone for InferencePacer {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl InferencePacer {
    /// Runs `work` with the pacer, or with `None` when another thread holds it.
    fn with<R>(&self, work: impl FnOnce(Option<&mut Pacer>) -> R) -> R {
        match self.0.try_lock() {
            Ok(mut pacer) => work(Some(&mut pacer)),
            Err(TryLockError::Poisoned(poisoned)) => work(Some(&mut poisoned.into_inner())),
            Err(TryLockError::WouldBlock) => work(None),
        }
    }

    /// Runs `work(helpers)`, with helpers as the pacer chooses and timed for it, or with
    /// helpers and untimed when another thread holds the pacer.
    pub(crate) fn run<R>(&self, work: impl FnOnce(bool) -> R) -> R {
        self.with(|pacer| match pacer {
            Some(pacer) => pacer.run(work),
            None => work(true),
        })
    }

    /// Whether the next call runs with helpers (for tests).
    #[cfg(test)]
    pub(crate) fn helpers(&self) -> bool {
        self.0.lock().map_or(true, |pacer| pacer.helpers())
    }

    /// [`on_pool_thread`] for an inference call: `work` runs as a team's step with helpers,
    /// or alone, as the pacer chooses (when `parallel`; otherwise right here).
    pub(crate) fn on_pool_thread<R: Send>(
        &self,
        parallel: bool,
        work: impl FnOnce() -> R + Send,
    ) -> R {
        self.with(|pacer| match pacer {
            Some(pacer) => paced_on_pool_thread(parallel, pacer, work),
            None => on_pool_thread(parallel, work),
        })
    }
}
