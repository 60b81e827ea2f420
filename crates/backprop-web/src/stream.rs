//! Live training and the event stream.
//!
//! While a session plays, one task trains it in bursts on tokio's blocking pool: up to
//! `epochs_per_update` epochs, cut short after [`BURST`] so that big data sets with small
//! batches still send enough states, then publishes the state. Bursts start at most every
//! [`PERIOD`] (≤ 60 states a second); a burst plus its state takes a few milliseconds for
//! playground-size networks, so the rate stays near 60 and well above 30, also with many
//! sessions on two cores (see the README's measurements).
//!
//! The event stream (`GET …/events`, server-sent events) sends the latest state at once, then
//! each new one as `event: state`; states a slow reader misses are skipped, not queued.

use crate::registry::{lock, Handle, Registry};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The shortest time between two states while playing (60 a second).
pub const PERIOD: Duration = Duration::from_micros(16_667);
/// How often an idle stream sends a comment: a closed tab is noticed by then at the latest.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// The most training time in one burst, so that a state follows soon.
pub const BURST: Duration = Duration::from_millis(20);

/// Starts training `handle` on the server, unless it already trains.
pub fn play(handle: &Arc<Handle>) {
    if handle.running.swap(true, Ordering::SeqCst) {
        return;
    }
    let generation = handle.generation.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::spawn(training_loop(Arc::clone(handle), generation));
}

/// Stops training `handle` (the loop ends after its burst).
pub fn pause(handle: &Handle) {
    handle.running.store(false, Ordering::SeqCst);
}

async fn training_loop(handle: Arc<Handle>, generation: u64) {
    let current = |handle: &Handle| {
        handle.running.load(Ordering::SeqCst)
            && !handle.removed.load(Ordering::SeqCst)
            && handle.generation.load(Ordering::SeqCst) == generation
    };
    while current(&handle) {
        let started = tokio::time::Instant::now();
        let worker = Arc::clone(&handle);
        let burst = tokio::task::spawn_blocking(move || {
            // None: paused (or deleted) while this burst waited for the session.
            if let Some(diverged) = train_burst(&worker, generation) {
                if diverged {
                    worker.running.store(false, Ordering::SeqCst);
                }
                worker.publish();
            }
        });
        if burst.await.is_err() {
            // A panic in training: stop this session, keep the server.
            handle.running.store(false, Ordering::SeqCst);
            break;
        }
        tokio::time::sleep_until(started + PERIOD).await;
    }
}

/// Trains up to `epochs_per_update` epochs or for [`BURST`], whichever ends first; returns
/// whether training diverged, or `None` when the session no longer plays in this generation
/// (a `pause` that came while the burst waited for the lock has the last word).
fn train_burst(handle: &Handle, generation: u64) -> Option<bool> {
    let mut session = lock(&handle.session);
    let playing = handle.running.load(Ordering::SeqCst)
        && !handle.removed.load(Ordering::SeqCst)
        && handle.generation.load(Ordering::SeqCst) == generation;
    if !playing {
        return None;
    }
    let started = Instant::now();
    let target = session.epoch() + session.config.epochs_per_update;
    while session.epoch() < target && started.elapsed() < BURST {
        if session.diverged() {
            return Some(true);
        }
        session.step_batch();
    }
    Some(session.diverged())
}

/// The event stream of `handle`: its latest state now, then every new one.
pub fn events(
    handle: &Handle,
    registry: &Registry,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    struct Reader {
        states: tokio::sync::watch::Receiver<Arc<str>>,
        shutdown: tokio::sync::watch::Receiver<bool>,
        first: bool,
        _open: crate::registry::StreamGuard,
    }
    let reader = Reader {
        states: handle.states.subscribe(),
        shutdown: registry.shutdown.subscribe(),
        first: true,
        _open: handle.activity.open_stream(),
    };
    let stream = futures_util::stream::unfold(reader, |mut reader| async move {
        if !reader.first {
            tokio::select! {
                changed = reader.states.changed() => changed.ok()?,
                _ = reader.shutdown.wait_for(|stopping| *stopping) => return None,
            }
        }
        reader.first = false;
        let json = Arc::clone(&reader.states.borrow_and_update());
        let event = Event::default().event("state").data(&*json);
        Some((Ok(event), reader))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
