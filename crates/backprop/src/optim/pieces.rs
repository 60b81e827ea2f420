//! Running an elementwise optimiser update in pieces, on every thread of the step.
//!
//! Each parameter's update p ← p − η·u(g, state) touches element i of every buffer and nothing
//! else, so cutting the buffers into pieces, and handing the pieces to threads in any order,
//! cannot change a bit. The bodies handed in here call [`simd_kernel!`]s, AVX-512 wide where the
//! CPU has it (the same bits as the baseline build: no FMA, no reordering).
//!
//! [`simd_kernel!`]: backprop_tensor::simd_kernel

use backprop_tensor::{team, Float};
use std::sync::Mutex;

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

/// Runs `body` on every piece, each exactly once, on the team's threads. The pieces are
/// disjoint borrows handed out through a lock each (taken once, uncontended), so no `unsafe`
/// is needed to let threads write different parts of one buffer.
pub(crate) fn run_pieces<P: Send>(pieces: Vec<P>, body: impl Fn(P) + Sync + Send) {
    let slots: Vec<Mutex<Option<P>>> = pieces.into_iter().map(|p| Mutex::new(Some(p))).collect();
    team::parallel_for(slots.len(), |index| {
        let piece = slots[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .expect("parallel_for runs each index once");
        body(piece)
    });
}

/// Panics unless every buffer has the parameter's length: the update pairs element i of each.
#[track_caller]
fn check_lengths(parameter: usize, others: &[(&str, usize)]) {
    for &(name, len) in others {
        assert_eq!(
            len, parameter,
            "optimiser update: the {name} has {len} elements, the parameter {parameter}"
        );
    }
}

/// `body(parameter, gradient)` over matching pieces.
#[track_caller]
pub(super) fn pieces2<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    body: impl Fn(&mut [T], &[T]) + Sync + Send,
) {
    check_lengths(parameter.len(), &[("gradient", gradient.len())]);
    if !split(parameter.len()) {
        return body(parameter, gradient);
    }
    let pieces = parameter
        .chunks_mut(PIECE)
        .zip(gradient.chunks(PIECE))
        .collect();
    run_pieces(pieces, |(p, g)| body(p, g));
}

/// `body(parameter, gradient, state)` over matching pieces.
#[track_caller]
pub(crate) fn pieces3<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    state: &mut [T],
    body: impl Fn(&mut [T], &[T], &mut [T]) + Sync + Send,
) {
    check_lengths(
        parameter.len(),
        &[("gradient", gradient.len()), ("state", state.len())],
    );
    if !split(parameter.len()) {
        return body(parameter, gradient, state);
    }
    let pieces = parameter
        .chunks_mut(PIECE)
        .zip(gradient.chunks(PIECE))
        .zip(state.chunks_mut(PIECE))
        .collect();
    run_pieces(pieces, |((p, g), s)| body(p, g, s));
}

/// `body(parameter, gradient, first state, second state)` over matching pieces.
#[track_caller]
pub(crate) fn pieces4<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    first: &mut [T],
    second: &mut [T],
    body: impl Fn(&mut [T], &[T], &mut [T], &mut [T]) + Sync + Send,
) {
    check_lengths(
        parameter.len(),
        &[
            ("gradient", gradient.len()),
            ("first state", first.len()),
            ("second state", second.len()),
        ],
    );
    if !split(parameter.len()) {
        return body(parameter, gradient, first, second);
    }
    let pieces = parameter
        .chunks_mut(PIECE)
        .zip(gradient.chunks(PIECE))
        .zip(first.chunks_mut(PIECE))
        .zip(second.chunks_mut(PIECE))
        .collect();
    run_pieces(pieces, |(((p, g), a), b)| body(p, g, a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "the state has 3 elements, the parameter 4")]
    fn a_short_state_buffer_is_refused() {
        let (mut p, g, mut s) = ([0.0f32; 4], [0.0f32; 4], [0.0f32; 3]);
        pieces3(&mut p, &g, &mut s, |_, _, _| {});
    }

    #[test]
    #[should_panic(expected = "the second state has 5 elements, the parameter 4")]
    fn a_long_second_buffer_is_refused() {
        let (mut p, g, mut a, mut b) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4], [0.0f64; 5]);
        pieces4(&mut p, &g, &mut a, &mut b, |_, _, _, _| {});
    }

    #[test]
    #[should_panic(expected = "the gradient has 2 elements, the parameter 4")]
    fn a_short_gradient_is_refused() {
        let (mut p, g) = ([0.0f32; 4], [0.0f32; 2]);
        pieces2(&mut p, &g, |_, _| {});
    }

    /// Split over a team of two, every element is updated once, with its own index's values.
    #[test]
    fn pieces_cover_the_buffers_once() {
        let len = 3 * PIECE + 17;
        let mut p: Vec<f32> = (0..len).map(|i| i as f32).collect();
        let g: Vec<f32> = (0..len).map(|i| 2.0 * i as f32).collect();
        let (mut a, mut b) = (vec![0.0f32; len], vec![0.0f32; len]);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            team::run(|| {
                assert!(split(len), "the test must take the split path");
                pieces4(&mut p, &g, &mut a, &mut b, |p, g, a, b| {
                    let rows = p.iter_mut().zip(g).zip(a.iter_mut()).zip(b.iter_mut());
                    for (((p, g), a), b) in rows {
                        *p += g;
                        *a += 1.0;
                        *b = *p;
                    }
                })
            })
        });
        for i in 0..len {
            assert_eq!(
                (p[i], a[i], b[i]),
                (3.0 * i as f32, 1.0, 3.0 * i as f32),
                "{i}"
            );
        }
    }
}
