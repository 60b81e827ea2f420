//! The live sessions: a map from id to [`Handle`], the session cap, and the idle reaper that
//! frees a session 30 s after its last request once no event stream is open (a tab that went
//! away without its `DELETE`).
//!
//! A handle holds the session behind a mutex, whether the server is training it, and a
//! `tokio::sync::watch` channel with its latest state as JSON text: every change publishes a
//! new one, every event stream and `GET` reads it, and a slow reader simply skips to the
//! newest.

use crate::config::SessionConfig;
use crate::limits::Limits;
use crate::session::Session;
use crate::state::State;
use crate::ApiError;
use axum::http::StatusCode;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::watch;

/// When a session was last used, and how many event streams it has open.
#[derive(Debug)]
pub struct Activity {
    streams: AtomicUsize,
    last_seen: Mutex<Instant>,
}

impl Activity {
    /// Notes a request now.
    pub fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    /// Counts an event stream as open until the guard is dropped.
    pub fn open_stream(self: &Arc<Self>) -> StreamGuard {
        self.streams.fetch_add(1, Ordering::SeqCst);
        self.touch();
        StreamGuard(Arc::clone(self))
    }

    fn idle_since(&self) -> Option<Instant> {
        (self.streams.load(Ordering::SeqCst) == 0).then(|| *lock(&self.last_seen))
    }
}

/// An open event stream; dropping it closes the count and restarts the idle clock.
#[derive(Debug)]
pub struct StreamGuard(Arc<Activity>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

/// Locks a mutex, going on with the data when a panicking thread poisoned it (every update of
/// a session is a whole step, so the data is consistent).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One live session.
#[derive(Debug)]
pub struct Handle {
    /// The session's id, `s-` and 16 hex digits.
    pub id: String,
    /// The session.
    pub session: Mutex<Session>,
    /// True while the server trains it.
    pub running: AtomicBool,
    /// Bumped at every `play`, so that at most one training loop runs.
    pub generation: AtomicU64,
    /// Set when the session is deleted or reaped: its loop stops.
    pub removed: AtomicBool,
    /// Requests and streams, for the reaper.
    pub activity: Arc<Activity>,
    /// The latest state, as JSON text.
    pub states: watch::Sender<Arc<str>>,
}

impl Handle {
    /// Builds the state, publishes it to every stream and returns it.
    pub fn publish(&self) -> Arc<str> {
        let mut session = lock(&self.session);
        let running = self.running.load(Ordering::SeqCst);
        let state = State::of(&mut session, &self.id, running);
        let json: Arc<str> = serde_json::to_string(&state)
            .expect("a state is plain data")
            .into();
        // Sent while the session is still locked, so states go out in the order they were
        // made: a state built before a training burst never overwrites one built after it.
        self.states.send_replace(Arc::clone(&json));
        drop(session);
        json
    }

    /// The latest published state.
    pub fn latest(&self) -> Arc<str> {
        Arc::clone(&self.states.borrow())
    }
}

/// Every live session.
#[derive(Debug)]
pub struct Registry {
    /// The caps.
    pub limits: Limits,
    sessions: Mutex<HashMap<String, Arc<Handle>>>,
    ids: RandomState,
    counter: AtomicU64,
    /// Flips to true when the server shuts down: event streams end.
    pub shutdown: watch::Sender<bool>,
}

impl Registry {
    /// An empty registry with these caps.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            sessions: Mutex::new(HashMap::new()),
            ids: RandomState::new(),
            counter: AtomicU64::new(0),
            shutdown: watch::Sender::new(false),
        })
    }

    /// Builds a session and adds it; 503 at the cap. Runs the data generation on the calling
    /// thread (call it from a blocking task).
    pub fn create(&self, config: SessionConfig) -> Result<Arc<Handle>, ApiError> {
        let full = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server already holds {} sessions, its cap; close a tab or try later",
                    self.limits.max_sessions
                ),
            )
        };
        if self.len() >= self.limits.max_sessions {
            return Err(full());
        }
        let session = Session::new(config, &self.limits)?;
        let number = self.counter.fetch_add(1, Ordering::SeqCst);
        let id = format!("s-{:016x}", self.ids.hash_one(number));
        let handle = Arc::new(Handle {
            id: id.clone(),
            session: Mutex::new(session),
            running: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            removed: AtomicBool::new(false),
            activity: Arc::new(Activity {
                streams: AtomicUsize::new(0),
                last_seen: Mutex::new(Instant::now()),
            }),
            states: watch::Sender::new(Arc::from("")),
        });
        handle.publish();
        let mut sessions = lock(&self.sessions);
        // Checked again: other sessions may have been added while this one was built.
        if sessions.len() >= self.limits.max_sessions {
            return Err(full());
        }
        sessions.insert(id, Arc::clone(&handle));
        Ok(handle)
    }

    /// The session called `id`, noting the request; 404 when there is none.
    pub fn get(&self, id: &str) -> Result<Arc<Handle>, ApiError> {
        let handle = lock(&self.sessions).get(id).cloned().ok_or_else(|| {
            ApiError::not_found(format!("no session {id:?} (it may have expired)"))
        })?;
        handle.activity.touch();
        Ok(handle)
    }

    /// Frees the session called `id`; 404 when there is none.
    pub fn remove(&self, id: &str) -> Result<(), ApiError> {
        let handle = lock(&self.sessions)
            .remove(id)
            .ok_or_else(|| ApiError::not_found(format!("no session {id:?}")))?;
        stop(&handle);
        Ok(())
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// True when no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees every session idle for longer than the limit; returns how many.
    pub fn reap(&self, now: Instant) -> usize {
        let timeout = self.limits.idle_timeout();
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, handle| {
            let idle = handle
                .activity
                .idle_since()
                .is_some_and(|since| now.saturating_duration_since(since) > timeout);
            if idle {
                stop(handle);
            }
            !idle
        });
        before - sessions.len()
    }

    /// Ends every session and stream: the server is stopping.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
        for (_, handle) in lock(&self.sessions).drain() {
            stop(&handle);
        }
    }
}

fn stop(handle: &Handle) {
    handle.removed.store(true, Ordering::SeqCst);
    handle.running.store(false, Ordering::SeqCst);
}
