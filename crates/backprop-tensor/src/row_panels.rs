//! A product computed a band of whole rows at a time, each band handed on while it is still in
//! cache: C = op(A)·op(B) in panels of [`PANEL_ROWS`] rows, and `then(rows, panel)` on the
//! thread that computed the panel, right after it.
//!
//! This is how an element-wise optimiser step (Adam, RMSprop, momentum) is fused into the
//! backward pass: C is a layer's ∂C/∂W = δᵀX, and `then` updates the panel's rows of W and of
//! the optimiser's state from the panel just computed, which it reads from L1/L2 rather than
//! from memory after the whole backward pass. The panels are cut by the shapes alone, so the
//! bits never depend on the thread count; the threads of a team share the panels.

use crate::matmul::{one_call, view, SendPtr, Transpose, PARALLEL_THRESHOLD};
use crate::{team, Float, Matrix};
use std::marker::PhantomData;
use std::ops::Range;

/// Rows per panel, at any depth. Timed on one thread for ∂C/∂W followed by an Adam step over
/// W: 128 × 784 at depth 32, 106 µs apart against 96 µs in panels of 16 rows (93 µs in 32, 105
/// µs in 64); 256 × 784 at depth 128, 555 µs against 539 µs in panels of 16 (549 µs in 32). On
/// two threads the smaller panels share out more evenly (eight for the 128 rows rather than
/// four), which gained more than the 3 % they cost one thread at depth 32.
pub const PANEL_ROWS: usize = 16;

/// C = op(A)·op(B), [`PANEL_ROWS`] rows at a time, calling `then(rows, panel, parts)` with each
/// panel's rows of C right after computing them, on the same thread, and with the same values
/// of each of the `alongside` buffers (each as long as C, or empty: its parts are then empty).
/// Panels run on the team (see [`team::parallel_for`]) when the product has at least
/// [`PARALLEL_THRESHOLD`] multiply-adds, else in order on this thread; each panel's C is written
/// by one `gemm` call over the whole depth, so its values do not depend on which thread
/// computes it.
///
/// # Panics
/// When the inner dimensions differ, C has the wrong shape, or a buffer alongside is neither
/// empty nor as long as C.
#[track_caller]
pub fn gemm_row_panels<T: Float, const N: usize>(
    c: &mut Matrix<T>,
    (a, transpose_a): (&Matrix<T>, Transpose),
    (b, transpose_b): (&Matrix<T>, Transpose),
    alongside: [&mut [T]; N],
    then: impl Fn(Range<usize>, &mut [T], [&mut [T]; N]) + Sync + Send,
) {
    let (m, k, a_rs, a_cs) = view(a, transpose_a);
    let (k2, n, b_rs, b_cs) = view(b, transpose_b);
    assert!(
        k == k2 && c.shape() == (m, n),
        "gemm_row_panels: op(A) is {m}×{k}, op(B) is {k2}×{n}, C is {}×{}",
        c.rows(),
        c.cols()
    );
    assert!(
        alongside.iter().all(|b| b.is_empty() || b.len() == m * n),
        "gemm_row_panels: buffers of {:?} values beside a C of {}",
        alongside.iter().map(|b| b.len()).collect::<Vec<_>>(),
        m * n
    );
    if m == 0 {
        return;
    }
    let alongside = alongside.map(DisjointParts::new);
    let rows_per_panel = PANEL_ROWS;
    let count = m.div_ceil(rows_per_panel);
    let c_ptr = SendPtr(c.as_mut_slice().as_mut_ptr());
    let a_ptr = SendPtr(a.as_slice().as_ptr() as *mut T);
    let b_ptr = SendPtr(b.as_slice().as_ptr() as *mut T);
    let run_panel = |index: usize| {
        let (c_ptr, a_ptr, b_ptr) = (c_ptr, a_ptr, b_ptr);
        let first = index * rows_per_panel;
        let rows = rows_per_panel.min(m - first);
        // SAFETY: rows [first, first + rows) of C (m × n, row-major, checked above) lie inside
        // it, and no two panels share a row, so this is the only live reference to them.
        let panel = unsafe { std::slice::from_raw_parts_mut(c_ptr.0.add(first * n), rows * n) };
        // SAFETY: the rows of op(A) the panel reads start at row `first` (offset first·a_rs)
        // and lie inside A, and all of op(B) lies inside B (shapes checked above).
        unsafe {
            one_call(
                (rows, n, k),
                panel,
                n,
                (a_ptr.0.offset(first as isize * a_rs), a_rs, a_cs),
                (b_ptr.0, b_rs, b_cs),
            )
        };
        let values = first * n..(first + rows) * n;
        let parts = std::array::from_fn(|i| {
            let buffer = &alongside[i];
            if buffer.is_empty() {
                &mut []
            } else {
                // SAFETY: each panel takes its own rows' values, once: no two live parts overlap.
                unsafe { buffer.part(values.clone()) }
            }
        });
        then(first..first + rows, panel, parts);
    };
    let work = m.saturating_mul(n).saturating_mul(k);
    if count > 1 && work >= PARALLEL_THRESHOLD {
        team::parallel_for(count, run_panel);
    } else {
        (0..count).for_each(run_panel);
    }
}

/// A mutable slice whose disjoint parts the panels of one [`gemm_row_panels`] call take, each
/// its own rows: the weights and optimiser state a fused update writes beside ∂C/∂W.
struct DisjointParts<'a, T> {
    start: *mut T,
    len: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `DisjointParts` stands for a `&mut [T]` lent out in disjoint parts; sending or
// sharing it lets other threads take parts, which is sound when `T` itself may be sent and each
// part is taken once ([`DisjointParts::part`]'s contract).
unsafe impl<T: Send> Send for DisjointParts<'_, T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for DisjointParts<'_, T> {}

impl<'a, T> DisjointParts<'a, T> {
    /// Lends `values` out in parts.
    fn new(values: &'a mut [T]) -> Self {
        Self {
            start: values.as_mut_ptr(),
            len: values.len(),
            _borrow: PhantomData,
        }
    }

    /// True when there are no values.
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values in `range`.
    ///
    /// # Safety
    /// No two parts taken from one `DisjointParts` while both are alive may overlap: take each
    /// panel's range once, from that panel's `then`.
    ///
    /// # Panics
    /// When `range` is not inside the values.
    #[allow(clippy::mut_from_ref)]
    unsafe fn part(&self, range: Range<usize>) -> &mut [T] {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "DisjointParts::part: {range:?} of {} values",
            self.len
        );
        // SAFETY: the range lies inside the slice this was made from (checked above), which is
        // mutably borrowed for 'a; the caller guarantees no other live part overlaps it.
        unsafe { std::slice::from_raw_parts_mut(self.start.add(range.start), range.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::naive_matmul;

    /// Every panel arrives once, with its own rows of the full product, at shallow and deep
    /// products, with ragged last panels, transposed operands and a team of threads.
    #[test]
    fn panels_are_the_rows_of_the_product() {
        for (m, n, k) in [
            (1, 5, 3),
            (33, 17, 8),
            (70, 40, 64),
            (45, 130, 65),
            (200, 300, 16),
        ] {
            let a = Matrix::from_fn(k, m, |i, j| ((i * 7 + j * 3) % 13) as f64 / 13.0 - 0.4);
            let b = Matrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 17) as f64 / 17.0 - 0.5);
            let want = naive_matmul(&a, Transpose::Yes, &b, Transpose::No);
            let seen = std::sync::Mutex::new(vec![0usize; m]);
            let mut c = Matrix::filled(m, n, f64::NAN);
            let check = |rows: Range<usize>, panel: &mut [f64], []: [&mut [f64]; 0]| {
                assert_eq!(panel.len(), rows.len() * n);
                assert!(rows.len() <= PANEL_ROWS);
                for (offset, value) in panel.iter().enumerate() {
                    let (i, j) = (rows.start + offset / n, offset % n);
                    assert!(
                        (value - want[(i, j)]).abs() < 1e-12,
                        "({i}, {j}) of {m}×{n}×{k}"
                    );
                }
                let mut seen = seen.lock().unwrap();
                rows.for_each(|row| seen[row] += 1);
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            pool.install(|| {
                team::run(|| {
                    gemm_row_panels(&mut c, (&a, Transpose::Yes), (&b, Transpose::No), [], check)
                })
            });
            assert!(seen.lock().unwrap().iter().all(|&count| count == 1));
            assert_eq!(c.as_slice().len(), m * n);
            assert!(c.as_slice().iter().all(|v| v.is_finite()));
        }
    }

    /// The panels, and so every bit of C, are the same on one thread and on a team of three.
    #[test]
    fn the_bits_do_not_depend_on_the_thread_count() {
        let (m, n, k) = (130, 300, 24);
        let a = Matrix::from_fn(k, m, |i, j| ((i * 7 + j * 3) % 13) as f32 / 13.0 - 0.4);
        let b = Matrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 17) as f32 / 17.0 - 0.5);
        let run = |threads: usize| {
            let mut c = Matrix::zeros(m, n);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                team::run(|| {
                    gemm_row_panels(
                        &mut c,
                        (&a, Transpose::Yes),
                        (&b, Transpose::No),
                        [],
                        |_, _, []| {},
                    )
                })
            });
            c.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(3));
    }

    /// The buffers alongside arrive in the panel's parts (an empty one as empty parts), so a
    /// panel can update them from its C: here each copies its C into the first.
    #[test]
    fn buffers_alongside_arrive_in_the_panels_parts() {
        let (m, n, k) = (70, 90, 20);
        let a = Matrix::from_fn(k, m, |i, j| ((i * 7 + j * 3) % 13) as f32 / 13.0 - 0.4);
        let b = Matrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 17) as f32 / 17.0 - 0.5);
        let mut c = Matrix::zeros(m, n);
        let (mut copy, mut none) = (vec![0.0f32; m * n], Vec::new());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            team::run(|| {
                let alongside = [&mut copy[..], &mut none[..]];
                gemm_row_panels(
                    &mut c,
                    (&a, Transpose::Yes),
                    (&b, Transpose::No),
                    alongside,
                    {
                        |rows: Range<usize>, panel: &mut [f32], [copy, none]: [&mut [f32]; 2]| {
                            assert_eq!((copy.len(), none.len()), (rows.len() * n, 0));
                            copy.copy_from_slice(panel);
                        }
                    },
                )
            })
        });
        assert_eq!(copy, c.as_slice());
        assert!(c.as_slice().iter().any(|&v| v != 0.0));
    }

    #[test]
    #[should_panic(expected = "buffers of [5] values beside a C of 6")]
    fn a_buffer_alongside_of_another_length_is_refused() {
        let (a, b) = (Matrix::<f32>::zeros(1, 2), Matrix::<f32>::zeros(1, 3));
        let mut c = Matrix::zeros(2, 3);
        let mut short = [0.0f32; 5];
        gemm_row_panels(
            &mut c,
            (&a, Transpose::Yes),
            (&b, Transpose::No),
            [&mut short[..]],
            |_, _, _| {},
        );
    }
}
