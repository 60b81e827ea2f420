//! Running an elementwise optimiser update in pieces, on every thread of the step.
//!
//! Each parameter's update p ← p − η·u(g, state) touches element i of every buffer and nothing
//! else, so cutting the buffers into pieces, and handing the pieces to threads in any order,
//! cannot change a bit. The bodies handed in here call [`simd_kernel!`]s, AVX-512 wide where the
//! CPU has it (the same bits as the baseline build: no FMA, no reordering).
//!
//! [`simd_kernel!`]: backprop_tensor::simd_kernel

use backprop_tensor::{team, Float};
use std::ops::Range;

/// Elements per piece (64 KiB of `f32` per buffer): large enough that a thread's share is
/// worth the hand-over, small enough that Adam's largest MNIST tensor (100,352) makes 7 pieces.
pub(super) const PIECE: usize = 1 << 14;

/// True when the update is split across threads: there are at least two pieces and the caller
/// runs a team's step, or is a pool thread (splitting from outside the pool costs a wake-up,
/// about 15 µs, more than a piece's work).
fn split(len: usize) -> bool {
    let pool = rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1;
    len >= 2 * PIECE && (team::is_active() || pool)
}

/// A buffer whose disjoint pieces are written by different threads.
struct Shared<T>(*mut T);
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The piece `range` of the buffer.
    ///
    /// # Safety
    /// `range` lies inside the buffer and no other live slice overlaps it.
    #[allow(clippy::mut_from_ref)]
    unsafe fn piece(&self, range: Range<usize>) -> &mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(range.start), range.len())
    }
}

/// Runs `body(range)` over the pieces of a buffer of `len` elements.
fn for_pieces(len: usize, body: impl Fn(Range<usize>) + Sync + Send) {
    team::parallel_for(len.div_ceil(PIECE), |piece| {
        body(piece * PIECE..((piece + 1) * PIECE).min(len))
    });
}

/// `body(parameter, gradient)` over matching pieces.
pub(super) fn pieces2<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    body: impl Fn(&mut [T], &[T]) + Sync + Send,
) {
    if !split(parameter.len()) {
        return body(parameter, gradient);
    }
    let p = Shared(parameter.as_mut_ptr());
    // SAFETY: the pieces are disjoint ranges inside the buffers, one per iteration.
    for_pieces(parameter.len(), |r| {
        body(unsafe { p.piece(r.clone()) }, &gradient[r])
    });
}

/// `body(parameter, gradient, state)` over matching pieces.
pub(super) fn pieces3<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    state: &mut [T],
    body: impl Fn(&mut [T], &[T], &mut [T]) + Sync + Send,
) {
    if !split(parameter.len()) {
        return body(parameter, gradient, state);
    }
    let (p, s) = (Shared(parameter.as_mut_ptr()), Shared(state.as_mut_ptr()));
    for_pieces(parameter.len(), |r| {
        // SAFETY: the pieces are disjoint ranges inside the buffers, one per iteration.
        let (pr, sr) = unsafe { (p.piece(r.clone()), s.piece(r.clone())) };
        body(pr, &gradient[r], sr)
    });
}

/// `body(parameter, gradient, first state, second state)` over matching pieces.
pub(super) fn pieces4<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    first: &mut [T],
    second: &mut [T],
    body: impl Fn(&mut [T], &[T], &mut [T], &mut [T]) + Sync + Send,
) {
    if !split(parameter.len()) {
        return body(parameter, gradient, first, second);
    }
    let p = Shared(parameter.as_mut_ptr());
    let (a, b) = (Shared(first.as_mut_ptr()), Shared(second.as_mut_ptr()));
    for_pieces(parameter.len(), |r| {
        // SAFETY: the pieces are disjoint ranges inside the buffers, one per iteration.
        let (pr, ar, br) = unsafe { (p.piece(r.clone()), a.piece(r.clone()), b.piece(r.clone())) };
        body(pr, &gradient[r], ar, br)
    });
}
