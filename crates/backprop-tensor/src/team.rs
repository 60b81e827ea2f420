//! A team of threads that lives for one step of work (a training step, an inference call), so
//! that the step's many short parallel loops do not each wake a sleeping thread.
//!
//! rayon's idle workers sleep after a few microseconds without work, and waking one costs more
//! than a 784 × 128 product at batch 32 takes to split (measured: two threads gave 190k samples/s
//! against 178k on one). [`run`] starts the step on the calling pool thread and parks the
//! pool's other threads in a spin loop for as long as the step lasts. Each parallel loop of the
//! step ([`parallel_for`]) publishes its iteration count, and every thread, the caller included,
//! claims iterations from one atomic counter until none are left; the caller then waits for the
//! iterations others are still running. A loop never waits for a helper that has not arrived:
//! the caller simply runs everything itself.
//!
//! **Waiting.** An idle helper yields its core (`sched_yield`) between looks at the counter,
//! rather than spinning: on an idle core the call returns at once, so the helper answers within
//! a microsecond, and on a machine whose cores are all busy it stands aside instead of taking
//! time from the step's own thread. (A spinning helper measured 5–50 % slower than plain rayon
//! on the project's shared 2-core machine while other builds ran.)
//!
//! **Side jobs.** A step may also offer one piece of work to get ahead with ([`with_side_job`]:
//! the training loop's gather of the next batch while this one computes). A free helper claims
//! it before any loop iteration; an offer nobody claimed by the end of the caller's work is
//! withdrawn, so the caller never waits for a helper that has not come and does the work later
//! itself. A step may instead offer a side loop ([`with_side_loop`]: the same gather in pieces):
//! helpers run its pieces whenever no loop iteration is left to claim, so that the moments the
//! step's serial parts (the small layers, the loss) leave them idle do the work, and whatever
//! pieces are left when the caller's work ends, the caller runs then, beside any helper still
//! taking them.
//!
//! **Determinism.** The iterations are fixed before any thread sees them (GEMM tiles from the
//! shapes, fixed pieces of an elementwise update, rows of a gather), each writes its own part
//! of the output, and none sums across iterations. Which thread runs which iteration, and
//! whether a helper came at all, changes no bit.

use rayon::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// The side job's states (the low two bits of `Team::side_state`; the rest counts side jobs).
const SIDE_IDLE: u64 = 0;
const SIDE_POSTED: u64 = 1;
const SIDE_CLAIMED: u64 = 2;
const SIDE_DONE: u64 = 3;

/// Iteration counts and indices fit in 16 bits of the shared state word.
const MAX_ITERATIONS: usize = 0xFFFF;

/// The loop a team is running: its body and how many of its iterations have finished.
struct Job<'a> {
    body: &'a (dyn Fn(usize) + Sync),
    finished: AtomicUsize,
    /// Set when an iteration panicked on a helper.
    poisoned: AtomicBool,
}

/// A running team.
struct Team {
    /// Loop number (upper 32 bits), iteration count (16 bits) and next unclaimed iteration
    /// (lower 16 bits), in one word so that a claim is one compare-and-swap that also checks
    /// which loop it claims from.
    state: AtomicU64,
    /// The current loop; valid while it has unfinished iterations.
    job: AtomicPtr<Job<'static>>,
    /// Set when the step is over: helpers return to rayon.
    done: AtomicBool,
    /// The side job on offer ([`with_side_job`]): its number (upper bits) and state (low two
    /// bits), so that a helper's claim is one compare-and-swap that also checks which job.
    side_state: AtomicU64,
    /// The side job's body; valid from its posting until its state leaves `SIDE_CLAIMED`.
    side_body: AtomicPtr<SideBody<'static>>,
    /// Set when a side job panicked on a helper.
    side_failed: AtomicBool,
    /// The side loop on offer ([`with_side_loop`]), numbered and counted as `state` is.
    side_loop_state: AtomicU64,
    /// The side loop; valid while it has unfinished pieces.
    side_loop: AtomicPtr<Job<'static>>,
}

/// A side job's body.
type SideBody<'a> = &'a (dyn Fn() + Sync);

/// Claims the next iteration of the loop whose state word `state` read `seen` (loop number,
/// count and next iteration), if one is left.
fn claim(state: &AtomicU64, seen: u64) -> Option<usize> {
    let (count, next) = ((seen >> 16) & 0xFFFF, seen & 0xFFFF);
    if next >= count {
        return None;
    }
    state
        .compare_exchange_weak(seen, seen + 1, Ordering::AcqRel, Ordering::Relaxed)
        .ok()
        .map(|_| next as usize)
}

thread_local! {
    /// The team whose step this thread is running, if any.
    static CURRENT: Cell<*const Team> = const { Cell::new(std::ptr::null()) };
}

/// Runs `step` with the current rayon pool's other threads standing by for its parallel loops.
/// Call it on a pool thread; elsewhere, with one thread, or inside another team's step it simply
/// runs `step`.
pub fn run<R: Send>(step: impl FnOnce() -> R + Send) -> R {
    let threads = rayon::current_num_threads();
    let on_pool = rayon::current_thread_index().is_some();
    if threads <= 1 || !on_pool || is_active() {
        return step();
    }
    let team = Team::new();
    with_helpers(threads - 1, &team, step)
}

/// Runs `step` as a team's step with no helpers: its parallel loops run here, in order, and
/// the pool's other threads are left asleep (for a [`Pacer`] that found helpers slower).
///
/// [`Pacer`]: crate::pacer::Pacer
pub fn run_alone<R>(step: impl FnOnce() -> R) -> R {
    if is_active() {
        return step();
    }
    let team = Team::new();
    lead(&team, step)
}

/// Runs `step` here while `helpers` of the pool's other threads each pick up one helper's job.
/// Nested `rayon::join`s offer the helper jobs, which costs no allocation (a `rayon::scope`
/// spawn boxes each job, one allocation per step); a job nobody picked up by the end of the
/// step runs here and returns at once.
fn with_helpers<R: Send>(helpers: usize, team: &Team, step: impl FnOnce() -> R + Send) -> R {
    if helpers > 0 {
        let (result, ()) = rayon::join(|| with_helpers(helpers - 1, team, step), || team.help());
        return result;
    }
    lead(team, step)
}

/// Runs `step` on this thread as `team`'s step.
fn lead<R>(team: &Team, step: impl FnOnce() -> R) -> R {
    /// Ends the step, even when it panics, so that no helper spins for ever.
    struct Finish<'a>(&'a Team);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(std::ptr::null()));
            self.0.done.store(true, Ordering::Release);
        }
    }
    let _finish = Finish(team);
    CURRENT.with(|current| current.set(team));
    step()
}

/// True on the thread running a team's step.
pub fn is_active() -> bool {
    CURRENT.with(|current| !current.get().is_null())
}

/// Runs `body(0)`, …, `body(count − 1)`, each exactly once, in any order and on any thread: on
/// the team when this thread runs a team's step, else on rayon's pool when it has more than one
/// thread, else in order here.
pub fn parallel_for(count: usize, body: impl Fn(usize) + Sync + Send) {
    let team = CURRENT.with(|current| current.get());
    if count <= 1 {
        (0..count).for_each(body);
    } else if !team.is_null() && count <= MAX_ITERATIONS {
        // SAFETY: CURRENT points at a team only while `run` keeps it alive on this thread.
        unsafe { &*team }.for_each(count, &body);
    } else if rayon::current_num_threads() > 1 {
        (0..count).into_par_iter().for_each(body);
    } else {
        (0..count).for_each(body);
    }
}

/// Runs `main` on this thread while `side` is offered to the team's helpers, and returns
/// `main`'s result with whether a helper ran `side` to the end. A helper that is free takes it
/// (before any loop iterations); if none has by the time `main` returns, the offer is withdrawn
/// and `side` never runs, so the caller must not depend on it: it is work to get ahead with
/// (the next batch's gather while this one computes), done by the caller later when it was not.
/// Outside a team's step, or in a step without helpers, `side` is not run.
pub fn with_side_job<R>(side: impl Fn() + Sync, main: impl FnOnce() -> R) -> (R, bool) {
    let team = CURRENT.with(|current| current.get());
    if team.is_null() {
        return (main(), false);
    }
    // SAFETY: CURRENT points at a team only while `run` keeps it alive on this thread.
    let team = unsafe { &*team };
    let body: SideBody<'_> = &side;
    // SAFETY (lifetime): a helper dereferences the pointer only after claiming the job, and
    // `Withdraw` below does not let this function return (or unwind) while a claim is running.
    let pointer = &body as *const SideBody<'_> as *mut SideBody<'static>;
    team.side_body.store(pointer, Ordering::Release);
    let number = (team.side_state.load(Ordering::Relaxed) >> 2) + 1;
    let posted = number << 2 | SIDE_POSTED;
    team.side_failed.store(false, Ordering::Relaxed);
    team.side_state.store(posted, Ordering::Release);

    /// Withdraws the offer, or waits for the helper that took it, even when `main` panics.
    struct Withdraw<'a> {
        team: &'a Team,
        posted: u64,
    }
    impl Withdraw<'_> {
        /// True when a helper ran the job to the end.
        fn finish(&self) -> bool {
            let idle = self.posted & !3 | SIDE_IDLE;
            let withdrawn = self.team.side_state.compare_exchange(
                self.posted,
                idle,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if withdrawn.is_ok() {
                return false;
            }
            while self.team.side_state.load(Ordering::Acquire) & 3 != SIDE_DONE {
                std::hint::spin_loop();
            }
            !self.team.side_failed.load(Ordering::Acquire)
        }
    }
    impl Drop for Withdraw<'_> {
        fn drop(&mut self) {
            self.finish();
        }
    }
    let withdraw = Withdraw { team, posted };
    let result = main();
    let ran = withdraw.finish();
    std::mem::forget(withdraw);
    team.side_body
        .store(std::ptr::null_mut(), Ordering::Release);
    (result, ran)
}

/// Runs `main` on this thread while the pieces `side(0)`, …, `side(count − 1)` are offered to the
/// team's helpers for the moments they have no loop iteration to run (a helper always takes a
/// loop's iteration first); once `main` returns, this thread runs the pieces nobody has taken,
/// beside any helper still taking them, and waits for all. Returns `main`'s result and whether
/// the pieces ran: outside a team's step, or inside `main` of another side loop (one is on
/// offer at a time), they do not run at all, and in a step without helpers they all run here
/// after `main`. Each piece runs exactly once.
///
/// # Panics
/// When a piece panics (here or on a helper), after every piece that started has finished.
pub fn with_side_loop<R>(
    count: usize,
    side: impl Fn(usize) + Sync,
    main: impl FnOnce() -> R,
) -> (R, bool) {
    let team = CURRENT.with(|current| current.get());
    if team.is_null() || count > MAX_ITERATIONS {
        return (main(), false);
    }
    // SAFETY: CURRENT points at a team only while `run` keeps it alive on this thread.
    let team = unsafe { &*team };
    // Only the step's thread posts side loops, and it clears the pointer as each one ends: a
    // pointer set here means this call is nested in another side loop's `main`.
    if !team.side_loop.load(Ordering::Acquire).is_null() {
        return (main(), false);
    }
    let job = Job::new(&side);
    // SAFETY (lifetime): helpers only reach `job` through a successful claim, and neither the
    // normal return (`drain`) nor an unwind (`Close`) leaves this function before every
    // claimed piece has finished.
    post(&team.side_loop_state, &team.side_loop, &job, count);

    /// When `main` panics: takes the pieces nobody has claimed off the offer, and waits for
    /// the claimed ones.
    struct Close<'a> {
        team: &'a Team,
        job: &'a Job<'a>,
    }
    impl Drop for Close<'_> {
        fn drop(&mut self) {
            let claimed = self.team.close_side_loop();
            while self.job.finished.load(Ordering::Acquire) < claimed {
                std::thread::yield_now();
            }
            self.team
                .side_loop
                .store(std::ptr::null_mut(), Ordering::Release);
        }
    }
    let close = Close { team, job: &job };
    let result = main();
    std::mem::forget(close);
    drain(
        &team.side_loop_state,
        &team.side_loop,
        &job,
        count,
        "a piece of a side loop",
    );
    (result, true)
}

/// A buffer cut into chunks of `chunk` elements (the last may be shorter) that threads write,
/// each chunk by one iteration of a parallel loop.
struct Chunks<T> {
    start: *mut T,
    len: usize,
    chunk: usize,
}

// SAFETY: a `Chunks` hands out chunk `index` only to iteration `index` of one parallel loop,
// which runs each index once, so no two threads ever hold the same elements; it is made from
// a `&mut [T]` that stays borrowed for the whole loop. That is sharing disjoint `&mut [T]`,
// which is sound for `T: Send`.
unsafe impl<T: Send> Send for Chunks<T> {}
// SAFETY: as for `Send`: shared use only ever yields disjoint chunks.
unsafe impl<T: Send> Sync for Chunks<T> {}

impl<T> Chunks<T> {
    fn new(data: &mut [T], chunk: usize) -> Self {
        Self {
            start: data.as_mut_ptr(),
            len: data.len(),
            chunk,
        }
    }

    /// Chunk `index`, empty when the buffer ends before it.
    ///
    /// # Safety
    /// No other live reference may reach the same chunk: call it once per index, while the
    /// buffer it was made from is still borrowed.
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self, index: usize) -> &mut [T] {
        let first = (index * self.chunk).min(self.len);
        let len = self.chunk.min(self.len - first);
        // SAFETY: first + len ≤ self.len, so the chunk lies inside the buffer; the caller
        // promises it is not reached through any other reference.
        unsafe { std::slice::from_raw_parts_mut(self.start.add(first), len) }
    }
}

/// Runs `body(index, chunk)` on every `chunk`-element chunk of `data` (the last may be
/// shorter), on the team's threads, with no allocation: the chunks are fixed by the lengths
/// alone and each is written by one call, so which thread runs it changes no bit.
pub fn for_each_chunk<T: Send>(
    data: &mut [T],
    chunk: usize,
    body: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    if data.is_empty() || chunk == 0 {
        return;
    }
    let count = data.len().div_ceil(chunk);
    let chunks = Chunks::new(data, chunk);
    parallel_for(count, |index| {
        // SAFETY: `parallel_for` runs each index once, and `data` stays borrowed until it
        // returns.
        body(index, unsafe { chunks.get(index) })
    });
}

/// As [`for_each_chunk`], with chunk `index` of a second buffer beside chunk `index` of the
/// first (an empty slice where the second buffer has run out).
pub fn for_each_chunk_pair<A: Send, B: Send>(
    first: &mut [A],
    first_chunk: usize,
    second: &mut [B],
    second_chunk: usize,
    body: impl Fn(usize, &mut [A], &mut [B]) + Sync + Send,
) {
    if first.is_empty() || first_chunk == 0 {
        return;
    }
    let count = first.len().div_ceil(first_chunk);
    let (a, b) = (
        Chunks::new(first, first_chunk),
        Chunks::new(second, second_chunk),
    );
    parallel_for(count, |index| {
        // SAFETY: as in `for_each_chunk`, for both buffers.
        body(index, unsafe { a.get(index) }, unsafe { b.get(index) })
    });
}

/// As [`for_each_chunk`] over several buffers of one element type at once: iteration `index`
/// gets chunk `index` of each buffer (`buffers[i].1` elements of buffer i; an empty slice where
/// a buffer has run out). The iteration count is the first buffer's. For loops that carry a
/// group of examples through several stages while the group's data are in cache.
pub fn for_each_chunks<T: Send, const N: usize>(
    buffers: [(&mut [T], usize); N],
    body: impl Fn(usize, [&mut [T]; N]) + Sync + Send,
) {
    let Some((first, first_chunk)) = buffers.first() else {
        return;
    };
    if first.is_empty() || *first_chunk == 0 {
        return;
    }
    let count = first.len().div_ceil(*first_chunk);
    let chunks = buffers.map(|(data, chunk)| Chunks::new(data, chunk));
    parallel_for(count, |index| {
        // SAFETY: as in `for_each_chunk`, for every buffer: each index runs once, and the
        // buffers stay borrowed until `parallel_for` returns.
        body(
            index,
            std::array::from_fn(|i| unsafe { chunks[i].get(index) }),
        )
    });
}

impl Team {
    /// A team with no loop published yet.
    fn new() -> Self {
        Self {
            state: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicBool::new(false),
            side_state: AtomicU64::new(0),
            side_body: AtomicPtr::new(std::ptr::null_mut()),
            side_failed: AtomicBool::new(false),
            side_loop_state: AtomicU64::new(0),
            side_loop: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Takes the side loop's unclaimed pieces off the offer; returns how many were claimed.
    fn close_side_loop(&self) -> usize {
        let mut seen = self.side_loop_state.load(Ordering::Acquire);
        loop {
            let (count, next) = ((seen >> 16) & 0xFFFF, seen & 0xFFFF);
            if next >= count {
                return count as usize;
            }
            let closed = seen & !0xFFFF | count;
            match self.side_loop_state.compare_exchange(
                seen,
                closed,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return next as usize,
                Err(now) => seen = now,
            }
        }
    }

    /// Claims and runs the side job on offer, if there is one; true when it ran one.
    fn run_side_job(&self) -> bool {
        let seen = self.side_state.load(Ordering::Acquire);
        if seen & 3 != SIDE_POSTED {
            return false;
        }
        let claimed = seen & !3 | SIDE_CLAIMED;
        if self
            .side_state
            .compare_exchange(seen, claimed, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // SAFETY: the claim succeeded, so the poster is waiting for this job to be done and its
        // body is alive until then.
        let body = unsafe { *self.side_body.load(Ordering::Acquire) };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        if outcome.is_err() {
            self.side_failed.store(true, Ordering::Release);
        }
        self.side_state
            .store(seen & !3 | SIDE_DONE, Ordering::Release);
        true
    }

    /// A helper: claims and runs iterations until the step is done.
    fn help(&self) {
        while !self.done.load(Ordering::Acquire) {
            if self.run_side_job() {
                continue;
            }
            // An iteration of the step's loop first; else a piece of the side loop, if one is
            // on offer; else offer the core to anything else that wants it, and look again as
            // soon as it comes back (at once on an idle machine).
            if !help_once(&self.state, &self.job)
                && !help_once(&self.side_loop_state, &self.side_loop)
            {
                std::thread::yield_now();
            }
        }
    }

    /// Publishes a loop of `count` iterations, helps run it, and waits until all have finished.
    fn for_each(&self, count: usize, body: &(dyn Fn(usize) + Sync)) {
        let job = Job::new(body);
        // SAFETY (lifetime): helpers only reach `job` through a successful claim, and `drain`
        // does not return before every claimed iteration has finished.
        post(&self.state, &self.job, &job, count);
        drain(
            &self.state,
            &self.job,
            &job,
            count,
            "an iteration of a parallel loop",
        );
    }
}

impl<'a> Job<'a> {
    fn new(body: &'a (dyn Fn(usize) + Sync)) -> Self {
        Self {
            body,
            finished: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        }
    }
}

/// On a helper: claims one iteration of the loop published on `state` and `slot`, if one is
/// left, and runs it (a panic marks the job poisoned for its caller to report); true when it
/// ran one.
fn help_once(state: &AtomicU64, slot: &AtomicPtr<Job<'static>>) -> bool {
    let seen = state.load(Ordering::Acquire);
    let Some(index) = claim(state, seen) else {
        return false;
    };
    // SAFETY: the claim succeeded, so the loop still has an unfinished iteration (this one) and
    // its caller waits for it in `drain` (or `with_side_loop`'s `Close`): the job is alive.
    let job = unsafe { &*slot.load(Ordering::Acquire) };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.body)(index)));
    if outcome.is_err() {
        job.poisoned.store(true, Ordering::Release);
    }
    job.finished.fetch_add(1, Ordering::Release);
    true
}

/// Publishes `job` as the next loop of `count` iterations on the state word `state` and the
/// pointer `slot`. The caller must keep `job` alive until [`drain`] has returned.
fn post(state: &AtomicU64, slot: &AtomicPtr<Job<'static>>, job: &Job<'_>, count: usize) {
    let pointer = job as *const Job<'_> as *mut Job<'static>;
    slot.store(pointer, Ordering::Release);
    let number = (state.load(Ordering::Relaxed) >> 32) + 1;
    state.store(number << 32 | (count as u64) << 16, Ordering::Release);
}

/// Claims and runs here whatever is left of the loop [`post`] published, waits until all
/// `count` iterations have finished (those on other threads too), and takes the loop off
/// `slot`; then passes on a panic of an iteration run here, or reports one on another thread
/// (`what` names the iterations). A panic must not unwind past `job` while helpers may use it,
/// hence the order.
fn drain(
    state: &AtomicU64,
    slot: &AtomicPtr<Job<'static>>,
    job: &Job<'_>,
    count: usize,
    what: &str,
) {
    let mut panic = None;
    loop {
        let seen = state.load(Ordering::Acquire);
        if seen & 0xFFFF >= count as u64 {
            break;
        }
        if let Some(index) = claim(state, seen) {
            let run = std::panic::AssertUnwindSafe(|| (job.body)(index));
            if let Err(payload) = std::panic::catch_unwind(run) {
                panic.get_or_insert(payload);
            }
            job.finished.fetch_add(1, Ordering::Release);
        }
    }
    while job.finished.load(Ordering::Acquire) < count {
        std::thread::yield_now();
    }
    slot.store(std::ptr::null_mut(), Ordering::Release);
    if let Some(payload) = panic {
        std::panic::resume_unwind(payload);
    }
    assert!(
        !job.poisoned.load(Ordering::Acquire),
        "{what} panicked on another thread"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_iteration_runs_once_on_any_thread_count() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let every_iteration_once = pool.install(|| {
                run(|| {
                    assert_eq!(is_active(), threads > 1);
                    (0..200usize).all(|n| {
                        let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                        parallel_for(n, |i| {
                            hits[i].fetch_add(1, Ordering::Relaxed);
                        });
                        hits.iter().all(|h| h.load(Ordering::Relaxed) == 1)
                    })
                })
            });
            assert!(every_iteration_once, "{threads} threads");
            assert!(!is_active());
        }
    }

    #[test]
    fn alone_every_iteration_runs_here_in_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (order, threads) = pool.install(|| {
            run_alone(|| {
                assert!(is_active());
                let seen = std::sync::Mutex::new(Vec::new());
                parallel_for(50, |i| {
                    let thread = rayon::current_thread_index();
                    seen.lock().unwrap().push((i, thread));
                });
                let seen = seen.into_inner().unwrap();
                let order: Vec<usize> = seen.iter().map(|&(i, _)| i).collect();
                let here = rayon::current_thread_index();
                (order, seen.iter().all(|&(_, t)| t == here))
            })
        });
        assert_eq!(order, (0..50).collect::<Vec<_>>());
        assert!(threads, "every iteration ran on the calling thread");
        assert!(!is_active());
        // From outside any pool too.
        assert!(run_alone(is_active));
    }

    #[test]
    fn chunks_of_several_buffers_line_up() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (mut first, mut second, mut third) = (vec![0u32; 10], vec![0u32; 7], Vec::new());
        pool.install(|| {
            run(|| {
                for_each_chunks(
                    [
                        (&mut first[..], 3),
                        (&mut second[..], 2),
                        (&mut third[..], 5),
                    ],
                    |index, [a, b, c]| {
                        assert!(c.is_empty());
                        a.iter_mut().for_each(|v| *v = index as u32 + 1);
                        b.iter_mut().for_each(|v| *v = 10 * (index as u32 + 1));
                    },
                )
            })
        });
        assert_eq!(first, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
        assert_eq!(second, [10, 10, 20, 20, 30, 30, 40]);
    }

    #[test]
    fn a_side_job_runs_on_a_helper_once_or_not_at_all() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        // The step waits until the helper has run the side job (or 10 s pass).
        let runs = AtomicUsize::new(0);
        let ((), ran) = pool.install(|| {
            run(|| {
                with_side_job(
                    || {
                        runs.fetch_add(1, Ordering::SeqCst);
                    },
                    || {
                        let start = std::time::Instant::now();
                        while runs.load(Ordering::SeqCst) == 0
                            && start.elapsed() < std::time::Duration::from_secs(10)
                        {
                            std::thread::yield_now();
                        }
                    },
                )
            })
        });
        assert!(ran, "the helper ran the side job");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Without helpers, or outside a team, the offer lapses: the job never runs.
        let lapsed = pool.install(|| run_alone(|| with_side_job(|| panic!("ran"), || 5)));
        assert_eq!(lapsed, (5, false));
        assert_eq!(with_side_job(|| panic!("ran"), || 6), (6, false));
        // A side job that panics on the helper reports that it did not run, and the team goes on.
        let (value, ran) = pool.install(|| {
            run(|| {
                let tried = AtomicBool::new(false);
                let result = with_side_job(
                    || {
                        tried.store(true, Ordering::SeqCst);
                        panic!("side job failed");
                    },
                    || {
                        let start = std::time::Instant::now();
                        while !tried.load(Ordering::SeqCst)
                            && start.elapsed() < std::time::Duration::from_secs(10)
                        {
                            std::thread::yield_now();
                        }
                        let hits: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
                        parallel_for(64, |i| {
                            hits[i].fetch_add(1, Ordering::Relaxed);
                        });
                        hits.iter().all(|h| h.load(Ordering::Relaxed) == 1)
                    },
                );
                result
            })
        });
        assert!(value, "the step's loops still ran every iteration once");
        assert!(!ran, "a panicked side job did not run to the end");
    }

    #[test]
    fn a_side_loop_runs_every_piece_once_beside_the_steps_loops() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let pieces: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
            let (all_once, ran) = pool.install(|| {
                run(|| {
                    with_side_loop(
                        pieces.len(),
                        |i| {
                            pieces[i].fetch_add(1, Ordering::SeqCst);
                        },
                        || {
                            // Loops of the step itself, with pieces taken between them.
                            (0..20).all(|_| {
                                let hits: Vec<AtomicUsize> =
                                    (0..32).map(|_| AtomicUsize::new(0)).collect();
                                parallel_for(32, |i| {
                                    hits[i].fetch_add(1, Ordering::Relaxed);
                                });
                                hits.iter().all(|h| h.load(Ordering::Relaxed) == 1)
                            })
                        },
                    )
                })
            });
            assert!(
                all_once,
                "{threads} threads: the step's loops ran every iteration once"
            );
            // `run` on a pool of one thread makes no team: the pieces do not run.
            let expected = usize::from(threads > 1);
            assert_eq!(ran, threads > 1, "{threads} threads");
            assert!(
                pieces.iter().all(|p| p.load(Ordering::SeqCst) == expected),
                "{threads} threads: every piece ran {expected} times"
            );
            // With no helpers every piece runs after `main`, here.
            let order = std::sync::Mutex::new(Vec::new());
            let (value, ran) = pool.install(|| {
                run_alone(|| {
                    with_side_loop(
                        3,
                        |i| order.lock().unwrap().push(i),
                        || {
                            order.lock().unwrap().push(99);
                            7
                        },
                    )
                })
            });
            assert_eq!((value, ran), (7, true));
            assert_eq!(*order.lock().unwrap(), [99, 0, 1, 2]);
        }
        // Outside a team's step the pieces do not run, nor those of a side loop offered inside
        // another's `main`; the outer loop's pieces still run once each.
        assert_eq!(with_side_loop(4, |_| panic!("ran"), || 6), (6, false));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let outer: Vec<AtomicUsize> = (0..40).map(|_| AtomicUsize::new(0)).collect();
        let ((nested, nested_ran), ran) = pool.install(|| {
            run(|| {
                with_side_loop(
                    outer.len(),
                    |i| {
                        outer[i].fetch_add(1, Ordering::SeqCst);
                    },
                    || with_side_loop(3, |_| panic!("nested piece ran"), || 8),
                )
            })
        });
        assert_eq!((nested, nested_ran, ran), (8, false, true));
        assert!(outer.iter().all(|p| p.load(Ordering::SeqCst) == 1));
    }

    #[test]
    fn a_side_loop_survives_panics_in_its_pieces_and_in_the_step() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        // A panicking piece reaches the caller once every piece is done.
        let finished = AtomicUsize::new(0);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                run(|| {
                    with_side_loop(
                        16,
                        |i| {
                            if i == 5 {
                                panic!("piece 5");
                            }
                            finished.fetch_add(1, Ordering::SeqCst);
                        },
                        || (),
                    )
                })
            })
        }));
        assert!(outcome.is_err());
        assert_eq!(finished.load(Ordering::SeqCst), 15);
        // A panicking step leaves after the pieces already claimed, and the pool goes on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| run(|| with_side_loop(1000, |_| (), || panic!("step"))))
        }));
        assert!(outcome.is_err());
        let sum: usize = pool.install(|| run(|| (0..10).sum()));
        assert_eq!(sum, 45);
    }

    #[test]
    fn a_panicking_step_releases_the_helpers() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let outcome = pool.install(|| std::panic::catch_unwind(|| run(|| panic!("step failed"))));
        assert!(outcome.is_err());
        // The pool is still usable.
        assert_eq!(pool.install(|| run(|| 7)), 7);
    }
}
