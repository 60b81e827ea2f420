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
    /// Runs `work(helpers)`, with helpers as the pacer chooses and timed for it, or with
    /// helpers and untimed when another thread holds the pacer.
    pub(crate) fn run<R>(&self, work: impl FnOnce(bool) -> R) -> R {
        match self.0.try_lock() {
            Ok(mut pacer) => pacer.run(work),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().run(work),
            Err(TryLockError::WouldBlock) => work(true),
        }
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
        match self.0.try_lock() {
            Ok(mut pacer) => paced_on_pool_thread(parallel, &mut pacer, work),
            Err(TryLockError::Poisoned(poisoned)) => {
                paced_on_pool_thread(parallel, &mut poisoned.into_inner(), work)
            }
            Err(TryLockError::WouldBlock) => on_pool_thread(parallel, work),
        }
    }
}
