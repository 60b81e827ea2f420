//! Matrices as reusable buffers: the training loop gathers every mini-batch, and every layer
//! writes its zˡ, aˡ and δˡ, into matrices that keep their allocation from batch to batch.
//! After the first batch of a given size nothing is allocated.

use crate::{team, Float, Matrix, MatrixView};

/// The destination of a parallel gather, shared by pieces that write disjoint rows.
struct SharedRows<T>(*mut T);
// SAFETY: a `SharedRows` lives only inside `gather_rows_from` and `gather_rows_beside`, while
// the destination's `&mut` borrow is held, and each piece writes rows no other piece writes:
// handing it to other threads hands them disjoint `&mut [T]`, which is sound for `T: Send`.
unsafe impl<T: Send> Send for SharedRows<T> {}
// SAFETY: as for `Send` above: concurrent users write disjoint rows and read nothing.
unsafe impl<T: Send> Sync for SharedRows<T> {}

impl<T: Copy> SharedRows<T> {
    /// Piece `piece` of a gather in pieces of `rows_per_piece` rows: rows `indices[first..]` of
    /// `source` (rows `cols` long), the piece's share of them, into the destination's rows from
    /// `first` = piece · rows_per_piece on.
    ///
    /// # Safety
    /// The destination must hold `indices.len()` rows of `cols` values, and no other thread may
    /// touch this piece's rows while it runs.
    unsafe fn copy_piece(
        &self,
        source: &[T],
        cols: usize,
        indices: &[usize],
        piece: usize,
        rows_per_piece: usize,
    ) {
        let first = piece * rows_per_piece;
        let piece_rows = &indices[first..(first + rows_per_piece).min(indices.len())];
        // SAFETY: rows `first..first + piece_rows.len()` lie inside the destination (it holds
        // `indices.len()` rows), and the caller gives this piece sole use of them.
        let target = unsafe {
            std::slice::from_raw_parts_mut(self.0.add(first * cols), piece_rows.len() * cols)
        };
        copy_rows_interleaved(target, source, cols, piece_rows);
    }
}

/// Cache lines prefetched at the start of each row by [`Matrix::prefetch_rows`].
pub const PREFETCH_LINES: usize = 4;
/// Gathers of at least this many values are split across the pool's threads.
pub const PARALLEL_GATHER: usize = 1 << 16;
/// Inside a team's step, where a split costs about a microsecond, gathers of at least this many
/// values are split (a batch of 32 MNIST rows is 25,088).
pub const TEAM_GATHER: usize = 1 << 14;
/// Values of one piece of [`Matrix::gather_rows_beside`]: small, so that a helper copying one
/// comes back within a few microseconds to the loop the step may have published meanwhile.
pub const SIDE_GATHER: usize = 1 << 12;

impl<T: Float> Matrix<T> {
    /// A `rows × cols` matrix of zeros whose memory the kernel is asked, before it is first
    /// touched, to back with 2 MiB transparent huge pages (Linux `madvise(MADV_HUGEPAGE)`;
    /// elsewhere the same as [`Matrix::zeros`]). For a large data set read in random row order:
    /// with 4 KiB pages a mini-batch gather from 60,000 × 784 `f32` (188 MB) misses the TLB on
    /// nearly every row. NumPy does the same for every array of 4 MiB or more.
    pub fn zeros_huge_pages(rows: usize, cols: usize) -> Self {
        Self::from_iter_huge_pages(rows, cols, std::iter::repeat(T::ZERO))
    }

    /// A `rows × cols` matrix on huge pages, as [`Matrix::zeros_huge_pages`], holding the
    /// first `rows × cols` of `values` in row-major order, written once (not zeroed first).
    ///
    /// # Panics
    /// When `values` holds fewer than `rows × cols` values, or the count overflows.
    #[track_caller]
    pub fn from_iter_huge_pages(
        rows: usize,
        cols: usize,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        let len = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("from_iter_huge_pages: {rows}×{cols} overflows"));
        let mut data: Vec<T> = Vec::with_capacity(len);
        #[cfg(target_os = "linux")]
        {
            let bytes = len * std::mem::size_of::<T>();
            let start = data.as_mut_ptr() as usize;
            let page = 4096;
            let (first, last) = (start.next_multiple_of(page), (start + bytes) / page * page);
            if last > first {
                // SAFETY: the range lies inside the allocation just made; the advice changes
                // how the kernel backs the pages, never their contents.
                unsafe {
                    libc::madvise(
                        first as *mut libc::c_void,
                        last - first,
                        libc::MADV_HUGEPAGE,
                    );
                }
            }
        }
        data.extend(values.into_iter().take(len));
        assert_eq!(
            data.len(),
            len,
            "from_iter_huge_pages: fewer than {rows}×{cols} values"
        );
        Self { rows, cols, data }
    }

    /// Reshapes to `rows × cols` in place, keeping the allocation when it is large enough.
    /// Elements that existed keep their values in storage order; new ones are zero. Callers
    /// that resize a buffer overwrite it.
    pub fn resize(&mut self, rows: usize, cols: usize) {
        let len = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("resize: {rows}×{cols} overflows"));
        self.data.resize(len, T::ZERO);
        self.rows = rows;
        self.cols = cols;
    }

    /// Makes `self` a copy of `source`, reusing `self`'s allocation.
    pub fn copy_from(&mut self, source: &Self) {
        self.data.clear();
        self.data.extend_from_slice(&source.data);
        self.rows = source.rows;
        self.cols = source.cols;
    }

    /// Makes `self` the listed rows of `source`, in order (a mini-batch gathered into a buffer
    /// that is reused from batch to batch).
    ///
    /// # Panics
    /// When an index is out of range.
    #[track_caller]
    ///
    /// On a rayon pool thread, a gather of at least `PARALLEL_GATHER` (65,536) values is split
    /// across the pool, and in a [`team`](crate::team)'s step one of at least `TEAM_GATHER`
    /// (16,384): the rows come from memory, a batch of 256 MNIST rows takes about 100 µs on one
    /// core, and a copy is the same bits whoever makes it.
    pub fn gather_rows(&mut self, source: &Self, indices: &[usize]) {
        self.gather_rows_from(source.into(), indices);
    }

    /// [`Matrix::gather_rows`] from rows borrowed in place (a view of any buffer).
    #[track_caller]
    pub fn gather_rows_from(&mut self, source: MatrixView<'_, T>, indices: &[usize]) {
        let cols = source.cols();
        check_rows(source, indices);
        let source = source.as_slice();
        self.resize(indices.len(), cols);
        if cols == 0 {
            return;
        }
        let pool = rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1;
        let values = self.data.len();
        let team = team::is_active() && values >= TEAM_GATHER;
        if team || (pool && values >= PARALLEL_GATHER) {
            let rows_per_piece = (TEAM_GATHER / 2).div_ceil(cols);
            let destination = SharedRows(self.data.as_mut_ptr());
            team::parallel_for(indices.len().div_ceil(rows_per_piece), |piece| {
                // SAFETY: the destination holds `indices.len()` rows, and each piece's rows
                // are written by that piece alone (`parallel_for` runs each index once).
                unsafe { destination.copy_piece(source, cols, indices, piece, rows_per_piece) }
            });
        } else {
            copy_rows_interleaved(&mut self.data, source, cols, indices);
        }
    }

    /// Gathers rows `indices` of `source` into this matrix in pieces that the team's helpers
    /// take up whenever the step's own loops leave them idle, while this thread runs `main`
    /// (a team's side loop, [`team::with_side_loop`]: the training loop's next batch, gathered
    /// during the serial parts of this step); the pieces left when `main` returns run then.
    /// Returns `main`'s result and whether the rows were gathered: outside a team's step
    /// nothing is, and the matrix is left as it was. A copy: the same values whoever makes it.
    ///
    /// # Panics
    /// When an index is out of range (before `main` runs).
    #[track_caller]
    pub fn gather_rows_beside<R>(
        &mut self,
        source: MatrixView<'_, T>,
        indices: &[usize],
        main: impl FnOnce() -> R,
    ) -> (R, bool) {
        if !team::is_active() {
            return (main(), false);
        }
        let cols = source.cols();
        check_rows(source, indices);
        self.resize(indices.len(), cols);
        let rows_per_piece = SIDE_GATHER.div_ceil(cols.max(1));
        let pieces = match cols {
            0 => 0,
            _ => indices.len().div_ceil(rows_per_piece),
        };
        let (source, destination) = (source.as_slice(), SharedRows(self.data.as_mut_ptr()));
        team::with_side_loop(
            pieces,
            |piece| {
                // SAFETY: the destination holds `indices.len()` rows, each piece's rows are
                // written by that piece alone (each piece of a side loop runs once), and `self`
                // stays borrowed until the loop has ended.
                unsafe { destination.copy_piece(source, cols, indices, piece, rows_per_piece) }
            },
            main,
        )
    }

    /// Asks the CPU to start loading the first `PREFETCH_LINES` (4) cache lines of each listed
    /// row into its L2 cache, and returns at once: a hint with no effect on any result. The
    /// training loop calls it for the next mini-batch, whose rows are scattered through a data
    /// set far larger than the caches, so that the latency of reaching each row overlaps the
    /// current batch's work; once the gather starts copying a row, the hardware's stream
    /// prefetcher fetches the rest. Measured on 60,000 × 784 inputs, one thread: +5 % samples
    /// per CPU-second at batch 10, +1–2 % at batch 32; prefetching whole rows gained no more
    /// and its ~1,500 prefetches per batch of 32 stalled on the cache's miss buffers.
    pub fn prefetch_rows(&self, indices: &[usize]) {
        let lines = (PREFETCH_LINES * 64 / std::mem::size_of::<T>()).min(self.cols);
        for &i in indices {
            if i < self.rows {
                prefetch(&self.data[i * self.cols..i * self.cols + lines]);
            }
        }
    }

    /// [`Matrix::column_sums`] into `sums`, resized to 1 × cols: rows are added in order, one
    /// after another (each column's sum in row order, whatever the vector width), so the
    /// result does not depend on threads or CPU features.
    pub fn column_sums_into(&self, sums: &mut Self) {
        sums.resize(1, self.cols);
        sums.data.fill(T::ZERO);
        if self.cols == 0 {
            return;
        }
        add_rows(&self.data, self.cols, &mut sums.data);
    }
}

/// Panics, naming the first, when an index is not a row of `source`.
#[track_caller]
fn check_rows<T>(source: MatrixView<'_, T>, indices: &[usize]) {
    if let Some(&bad) = indices.iter().find(|&&i| i >= source.rows()) {
        panic!(
            "row {bad} out of range for a {}×{} matrix",
            source.rows(),
            source.cols()
        );
    }
}

/// The most rows [`copy_rows_interleaved`] copies side by side.
const INTERLEAVED_ROWS: usize = 16;
/// Bytes of one row copied before moving to the next row of the group.
const INTERLEAVED_BYTES: usize = 128;

/// Copies rows `indices` of `source` (rows `cols` long) into consecutive rows of `target`. Up to
/// 16 rows (a small mini-batch, or one piece of a split gather) go 128 bytes of each row in turn
/// rather than one whole row after another: the rows are scattered through a data set far
/// larger than the caches, so each one's bytes wait on memory, and going across the rows keeps
/// those waits in flight together. More rows are copied one after another, which the stream
/// prefetcher serves better (both measured in docs/performance.md). A copy either way: the same
/// values in the same places.
fn copy_rows_interleaved<T: Copy>(target: &mut [T], source: &[T], cols: usize, indices: &[usize]) {
    if indices.len() > INTERLEAVED_ROWS {
        for (row, &i) in target.chunks_exact_mut(cols).zip(indices) {
            row.copy_from_slice(&source[i * cols..(i + 1) * cols]);
        }
        return;
    }
    let step = (INTERLEAVED_BYTES / std::mem::size_of::<T>().max(1)).max(1);
    let mut start = 0;
    while start < cols {
        let end = (start + step).min(cols);
        for (row, &i) in target.chunks_exact_mut(cols).zip(indices) {
            row[start..end].copy_from_slice(&source[i * cols + start..i * cols + end]);
        }
        start = end;
    }
}

/// Prefetches every 64-byte line of `values` into L2 (`prefetcht1`).
#[inline]
fn prefetch<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let bytes = std::mem::size_of_val(values);
        let start = values.as_ptr() as *const i8;
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch never faults and reads nothing architecturally; the address
            // lies inside `values`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(start.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// Columns [`add_rows`] sums at a time: their running sums stay in registers from the first row
/// to the last (four 512-bit registers of `f64`) instead of being loaded and stored for every row.
const SUM_TILE: usize = 32;

crate::simd_kernel! {
    /// sums += each row of `data` (rows of `cols`), in row order: each sum adds its column's
    /// values from the first row to the last, whether its column falls in a tile or not.
    fn add_rows<T: Float>(data: &[T], cols: usize, sums: &mut [T]) {
        let tiled = cols / SUM_TILE * SUM_TILE;
        for start in (0..tiled).step_by(SUM_TILE) {
            let tile: &mut [T; SUM_TILE] = (&mut sums[start..start + SUM_TILE])
                .try_into()
                .expect("a whole tile");
            let mut running = *tile;
            for row in data.chunks_exact(cols) {
                let values: &[T; SUM_TILE] = row[start..start + SUM_TILE]
                    .try_into()
                    .expect("a whole tile");
                for (s, &v) in running.iter_mut().zip(values) {
                    *s += v;
                }
            }
            *tile = running;
        }
        // The last columns one at a time, each sum in a register (a narrow output's two or
        // three columns would otherwise wait on a store and a load for every row).
        for (column, sum) in sums.iter_mut().enumerate().skip(tiled) {
            let mut running = *sum;
            for row in data.chunks_exact(cols) {
                running += row[column];
            }
            *sum = running;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_keep_their_allocation() {
        let source = Matrix::<f32>::from_fn(5, 3, |i, j| (i * 3 + j) as f32);
        let mut batch = Matrix::zeros(0, 0);
        batch.gather_rows(&source, &[4, 0, 2]);
        assert_eq!(batch, source.select_rows(&[4, 0, 2]));
        let pointer = batch.as_slice().as_ptr();
        batch.gather_rows(&source, &[1, 3]);
        assert_eq!(batch, source.select_rows(&[1, 3]));
        assert_eq!(batch.as_slice().as_ptr(), pointer);
        batch.resize(3, 2);
        assert_eq!(
            (batch.shape(), batch.as_slice()[..3].to_vec()),
            ((3, 2), vec![3.0, 4.0, 5.0])
        );
        let big = Matrix::<f32>::zeros_huge_pages(1000, 784);
        assert_eq!((big.shape(), big.max_abs()), ((1000, 784), 0.0));
        let mut copy = Matrix::zeros(1, 1);
        copy.copy_from(&source);
        assert_eq!(copy, source);
        source.prefetch_rows(&[0, 4, 99]);
        let mut sums = Matrix::zeros(3, 3);
        source.column_sums_into(&mut sums);
        assert_eq!(sums, source.column_sums());
    }

    /// Column sums, in tiles of columns or not, add each column's values from the first row to
    /// the last, bit for bit as a plain loop does.
    #[test]
    fn column_sums_add_rows_in_order_for_any_width() {
        for cols in [1, 3, 31, 32, 33, 64, 100, 130] {
            for rows in [1, 7, 64] {
                let values = Matrix::<f64>::from_fn(rows, cols, |i, j| {
                    ((i * 7 + j * 13) % 17) as f64 * 0.1 + 1e-9 * (i as f64)
                });
                let mut want = vec![0.0; cols];
                for i in 0..rows {
                    for (j, sum) in want.iter_mut().enumerate() {
                        *sum += values.row(i)[j];
                    }
                }
                let mut sums = Matrix::zeros(0, 0);
                values.column_sums_into(&mut sums);
                assert_eq!(sums.as_slice(), &want[..], "{rows} × {cols}");
                let single = Matrix::<f32>::from_fn(rows, cols, |i, j| (i + j) as f32 * 0.3);
                let want: Vec<f32> = (0..cols)
                    .map(|j| (0..rows).fold(0.0, |s, i| s + single.row(i)[j]))
                    .collect();
                assert_eq!(
                    single.column_sums().as_slice(),
                    &want[..],
                    "{rows} × {cols}"
                );
            }
        }
    }
}
