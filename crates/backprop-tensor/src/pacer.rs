//! Whether a training step's [`team`] gets helpers, decided by timing steps both ways.
//!
//! A second thread helps only while a second core is free for it. When another process holds
//! that core, the helper runs in whatever slices the scheduler leaves it, and an iteration it
//! has claimed holds up the whole step until it is scheduled again, which can take
//! milliseconds: two threads can then run well below one. No rule fixed in advance knows the
//! machine's load, so a [`Pacer`] measures it. A **trial** runs a window of steps with helpers
//! and a window alone (the team without helpers, the pool's other threads left asleep), each
//! at least [`WINDOW_STEPS`] steps and [`WINDOW_TIME`] long, the first step of each not counted
//! (it pays for waking or parking threads). The way with the lower mean step time is kept for
//! [`SETTLE_FACTOR`] times as long as the trial took, and then a new trial starts, its windows
//! in the other order, so the choice follows the machine's load as it changes. The kept way is
//! timed too, a window at a time: when its steps take [`SLOWDOWN`] times the mean its trial
//! measured, the load has changed, and a new trial starts at once. The first trial
//! starts with helpers, so a run shorter than one window runs as it did without a pacer.
//!
//! Which threads run a step never changes a bit of its result (see [`team`]), so neither does
//! the pacer: only the speed depends on it.
//!
//! [`team`]: crate::team

use std::time::{Duration, Instant};

/// Least steps counted in a trial window.
pub const WINDOW_STEPS: u32 = 4;
/// Least step time counted in a trial window: several of the scheduler's time slices, so that
/// a window sees a helper both running and waiting.
pub const WINDOW_TIME: Duration = Duration::from_millis(20);
/// The chosen way is kept for this many times the trial's duration.
pub const SETTLE_FACTOR: u32 = 25;
/// A kept way whose steps, over a window, take this many times the mean step time its trial
/// measured is tried again at once: the machine's load has changed (another guest of the host
/// took the second core's time, say) since the trial.
pub const SLOWDOWN: f64 = 1.5;
/// Least step time counted in a trial window of [`Pacer::for_calls`]: inference calls are
/// fewer and further between than training steps, so its windows are shorter (each still spans
/// a scheduler time slice or more).
pub const CALL_WINDOW_TIME: Duration = Duration::from_millis(5);

/// One trial window: the way it runs and what it has counted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Window {
    helpers: bool,
    /// Set once the window's first (uncounted) step has run.
    warm: bool,
    steps: u32,
    time: Duration,
}

impl Window {
    fn new(helpers: bool) -> Self {
        Self {
            helpers,
            ..Self::default()
        }
    }

    fn full(&self, least_time: Duration) -> bool {
        self.steps >= WINDOW_STEPS && self.time >= least_time
    }

    /// Counts a step of `elapsed` (the first one only warms the window up); true once the
    /// window is full.
    fn count(&mut self, elapsed: Duration, least_time: Duration) -> bool {
        if !self.warm {
            self.warm = true;
            return false;
        }
        self.steps += 1;
        self.time += elapsed;
        self.full(least_time)
    }

    fn mean(&self) -> Duration {
        self.time / self.steps.max(1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    /// Timing the two ways: the window running now, and the mean of the first one once it is
    /// done.
    Trying {
        window: Window,
        first: Option<Duration>,
        trial_time: Duration,
    },
    /// Keeping one way until `left` more step time has passed, or until a window of its steps
    /// takes [`SLOWDOWN`] times `expected`, the mean step time its trial measured.
    Settled {
        helpers: bool,
        left: Duration,
        expected: Duration,
        window: Window,
    },
}

/// Chooses, step after step, whether the step runs with helpers (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Pacer {
    stage: Stage,
    /// Trials finished: odd and even trials time the two ways in opposite orders, the first
    /// with helpers first (a run shorter than one window runs as it did before pacing).
    trials: u64,
    /// Least step time counted in a window.
    window_time: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Self {
            stage: Self::trial(0),
            trials: 0,
            window_time: WINDOW_TIME,
        }
    }
}

impl Pacer {
    /// A pacer that starts with a trial.
    pub fn new() -> Self {
        Self::default()
    }

    fn trial(trials: u64) -> Stage {
        Stage::Trying {
            window: Window::new(trials.is_multiple_of(2)),
            first: None,
            trial_time: Duration::ZERO,
        }
    }

    /// A pacer for inference calls: windows of at least [`WINDOW_STEPS`] calls and
    /// [`CALL_WINDOW_TIME`] rather than [`WINDOW_TIME`].
    pub fn for_calls() -> Self {
        Self {
            window_time: CALL_WINDOW_TIME,
            ..Self::default()
        }
    }

    /// Whether the next step should run with helpers.
    pub fn helpers(&self) -> bool {
        match self.stage {
            Stage::Trying { window, .. } => window.helpers,
            Stage::Settled { helpers, .. } => helpers,
        }
    }

    /// Runs `step(helpers)` with the way [`Pacer::helpers`] chooses, and counts its time.
    pub fn run<R>(&mut self, step: impl FnOnce(bool) -> R) -> R {
        let helpers = self.helpers();
        let start = Instant::now();
        let result = step(helpers);
        self.record(helpers, start.elapsed());
        result
    }

    /// Counts a step that ran `elapsed`, with helpers or not. A step run the other way than
    /// [`Pacer::helpers`] said is not counted (in a trial it would be timed as the wrong way).
    pub fn record(&mut self, helpers: bool, elapsed: Duration) {
        if helpers != self.helpers() {
            return;
        }
        let least_time = self.window_time;
        match &mut self.stage {
            Stage::Settled {
                left,
                expected,
                window,
                ..
            } => {
                *left = left.saturating_sub(elapsed);
                if left.is_zero() {
                    self.stage = Self::trial(self.trials);
                    return;
                }
                if !window.count(elapsed, least_time) {
                    return;
                }
                if window.mean() > expected.mul_f64(SLOWDOWN) {
                    self.stage = Self::trial(self.trials);
                } else {
                    *window = Window {
                        warm: true,
                        ..Window::new(window.helpers)
                    };
                }
            }
            Stage::Trying {
                window,
                first,
                trial_time,
            } => {
                *trial_time += elapsed;
                if !window.count(elapsed, least_time) {
                    return;
                }
                let Some(first_mean) = *first else {
                    *first = Some(window.mean());
                    *window = Window::new(!window.helpers);
                    return;
                };
                let (with_helpers, alone) = if window.helpers {
                    (window.mean(), first_mean)
                } else {
                    (first_mean, window.mean())
                };
                let helpers = with_helpers <= alone;
                self.stage = Stage::Settled {
                    helpers,
                    left: *trial_time * SETTLE_FACTOR,
                    expected: if helpers { with_helpers } else { alone },
                    window: Window::new(helpers),
                };
                self.trials += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds steps that take `alone` or `with_helpers` until the pacer has settled, and says
    /// which way it kept.
    fn settle(pacer: &mut Pacer, alone: Duration, with_helpers: Duration) -> bool {
        for _ in 0..100_000 {
            if let Stage::Settled { helpers, .. } = pacer.stage {
                return helpers;
            }
            let helpers = pacer.helpers();
            pacer.record(helpers, if helpers { with_helpers } else { alone });
        }
        panic!("the pacer never settled");
    }

    #[test]
    fn keeps_the_faster_way() {
        let ms = Duration::from_millis;
        let mut pacer = Pacer::new();
        assert!(!settle(&mut pacer, ms(1), ms(2)), "alone is faster");
        let mut pacer = Pacer::new();
        assert!(settle(&mut pacer, ms(3), ms(2)), "helpers are faster");
    }

    #[test]
    fn tries_again_after_settling_and_follows_a_change() {
        let us = Duration::from_micros;
        let mut pacer = Pacer::new();
        // A quiet machine: helpers win.
        assert!(settle(&mut pacer, us(300), us(200)));
        let Stage::Settled { left, .. } = pacer.stage else {
            unreachable!()
        };
        assert!(left >= WINDOW_TIME * 2 * SETTLE_FACTOR);
        // Steps a little slower than the trial's (within SLOWDOWN): the settled way runs on
        // until its time is spent...
        let mut steps = 0;
        while matches!(pacer.stage, Stage::Settled { .. }) {
            assert!(pacer.helpers());
            pacer.record(true, us(280));
            steps += 1;
        }
        assert!(steps > 1000);
        // ...then a trial, alone first this time, finds that helpers are still faster.
        assert!(!pacer.helpers());
        assert!(settle(&mut pacer, us(300), us(200)));
        assert_eq!(pacer.trials, 2);
    }

    #[test]
    fn a_settled_way_that_slows_down_is_tried_again_at_once() {
        let us = Duration::from_micros;
        let mut pacer = Pacer::new();
        assert!(settle(&mut pacer, us(300), us(200)));
        // The second core gets taken: steps with helpers take three times as long. Within a
        // window (its warm-up step, then WINDOW_TIME of steps) a new trial starts...
        let mut steps = 0;
        while matches!(pacer.stage, Stage::Settled { .. }) {
            pacer.record(true, us(600));
            steps += 1;
        }
        assert_eq!(steps, 1 + WINDOW_TIME.as_micros() as u32 / 600 + 1);
        // ...alone first this time, and finds that alone is faster now.
        assert!(!pacer.helpers());
        assert!(!settle(&mut pacer, us(300), us(600)));
        assert_eq!(pacer.trials, 2);
        // The same when alone was kept and its own steps slow down.
        let mut steps = 0;
        while matches!(pacer.stage, Stage::Settled { .. }) {
            pacer.record(false, us(900));
            steps += 1;
        }
        assert!(steps < 100, "{steps} steps");
    }

    #[test]
    fn a_window_needs_its_steps_and_its_time() {
        let mut pacer = Pacer::new();
        // Long steps: the window is full after the warm-up step and WINDOW_STEPS more.
        for _ in 0..=WINDOW_STEPS {
            assert!(pacer.helpers());
            pacer.record(true, WINDOW_TIME);
        }
        assert!(!pacer.helpers(), "the second window times the other way");
        // Short steps: the window runs until WINDOW_TIME has passed.
        let short = WINDOW_TIME / 1000;
        for _ in 0..1000 {
            pacer.record(false, short);
            assert!(!pacer.helpers(), "still the second window");
        }
        pacer.record(false, short);
        assert!(matches!(pacer.stage, Stage::Settled { helpers: false, .. }));
    }

    #[test]
    fn a_pacer_for_calls_has_shorter_windows() {
        let mut pacer = Pacer::for_calls();
        // Calls with helpers of a fifth of the short window: the warm-up call, then five to
        // fill it.
        let step = CALL_WINDOW_TIME / 10;
        for _ in 0..6 {
            assert!(pacer.helpers());
            pacer.record(true, step * 2);
        }
        assert!(
            !pacer.helpers(),
            "the second window after {CALL_WINDOW_TIME:?}"
        );
        assert!(CALL_WINDOW_TIME < WINDOW_TIME);
        assert!(!settle(&mut pacer, step, step * 2), "alone is faster");
    }

    #[test]
    fn a_step_run_the_other_way_is_not_counted() {
        let mut pacer = Pacer::new();
        let before = pacer.clone();
        pacer.record(false, Duration::from_secs(1));
        assert_eq!(pacer, before);
    }
}
