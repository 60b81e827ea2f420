//! How a matrix product C = op(A)·op(B) is cut into tiles, each one single-threaded `gemm`
//! call over the whole inner dimension. The layout is a function of the shapes and transposes
//! only, never of the thread count, which is what makes results bit-identical on any number of
//! threads; the measurements behind each choice are in the [`matmul`](crate::matmul) module's
//! documentation.

use crate::matmul::Transpose;

/// Rows per tile of a narrow forward product (n ≤ [`FORWARD_COLUMNS`]) on a large batch, and a
/// quarter of the rows per tile of the other packed products.
pub const ROW_TILE: usize = 64;
/// The widest column tile of the gradient products.
pub const COL_TILE: usize = 256;
/// Below this many multiply-adds a product runs on the calling thread. 2¹⁹ is about 10 µs on
/// one core: below it, handing half the tiles to a second thread cost more than it saved
/// (measured on Nielsen's 784-30-10 at batch 10, whose 235k-multiply-add products ran at 367k
/// samples/s on two threads and 496k on one).
pub const PARALLEL_THRESHOLD: usize = 1 << 19;
/// Forward products A·Bᵀ with at most this many rows use [`DOT_TILE`]-sized dot-product tiles.
pub const SMALL_ROWS: usize = 64;
/// Side of a dot-product tile: `gemm` runs its horizontal kernels up to 16 × 16 results.
pub const DOT_TILE: usize = 16;
/// Columns per tile of the forward product of a larger batch.
pub const FORWARD_COLUMNS: usize = 32;
/// Columns per tile of a larger batch's forward product with at least [`WIDE_OUTPUTS`]
/// columns: a tile of 64 columns packs X once for twice the work of a 32-column one (X·Wᵀ at
/// 128 × 256 × 784 and 256 × 128 × 784, one thread: 5–9 % faster than 32-column tiles, timed
/// in interleaved rounds by the `gemm_tiles` example).
pub const WIDE_FORWARD_COLUMNS: usize = 64;
/// The fewest columns for which the forward product takes [`WIDE_FORWARD_COLUMNS`].
pub const WIDE_OUTPUTS: usize = 128;
/// The most rows in one tile of a forward product.
pub const MAX_ROWS: usize = 1024;
/// Rows per tile of the forward product of a batch of at least twice this many rows (inference
/// at batch 1000: 4 tiles of 250 rows × all columns). Column tiles there packed all of X once per
/// tile: 580–816k samples/s for infer-b on two threads, against 741–861k with row tiles,
/// measured in turns.
pub const INFERENCE_ROWS: usize = 256;
/// Column tiles of the gradient products start on multiples of this.
const COLUMN_ALIGN: usize = 64;
/// Row tiles of the packed products start on multiples of this.
const ROW_ALIGN: usize = 16;

/// How one dimension of C is cut: `count` pieces of `size` (the last may be shorter), or
/// `count` near-equal pieces whose starts are rounded to multiples of `align`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Pieces of this size.
    Uniform(usize),
    /// This many near-equal pieces, starts rounded to multiples of `align`.
    Balanced {
        /// Number of pieces.
        count: usize,
        /// Starts are multiples of this.
        align: usize,
    },
}

impl Split {
    /// Cuts `len` into `count` pieces starting on multiples of `align` where they are long
    /// enough (at least twice `align`), else into pieces of `align`.
    fn balanced(len: usize, count: usize, align: usize) -> Self {
        if count <= 1 {
            Split::Uniform(len.max(1))
        } else if len / count >= 2 * align {
            Split::Balanced { count, align }
        } else {
            Split::Uniform(len.div_ceil(count).next_multiple_of(align.min(16)))
        }
    }

    /// The number of pieces of a dimension of length `len`.
    fn count(&self, len: usize) -> usize {
        match *self {
            Split::Uniform(size) => len.div_ceil(size),
            Split::Balanced { count, .. } => count,
        }
    }

    /// Where piece `j` starts (piece `count` "starts" at `len`).
    fn start(&self, j: usize, len: usize) -> usize {
        match *self {
            Split::Uniform(size) => (j * size).min(len),
            Split::Balanced { count, align } if j < count => {
                (j * len / count + align / 2) / align * align
            }
            Split::Balanced { .. } => len,
        }
    }
}

/// A product large enough to split that the gradient layout leaves in one tile (a hidden
/// layer's δᵀA or δW of at most 256 × 256, such as b-sgd-256's 64 × 128 × 256 weight gradient)
/// would keep a second thread idle for its whole length: it is cut in two instead, across the
/// columns on a multiple of 64 when there are at least 128 of them, else across the rows.
fn halved_when_whole(m: usize, n: usize, rows: Split, cols: Split) -> (Split, Split) {
    if rows.count(m) * cols.count(n) > 1 {
        (rows, cols)
    } else if n >= 2 * COLUMN_ALIGN {
        (rows, Split::balanced(n, 2, COLUMN_ALIGN))
    } else if m >= 2 * ROW_ALIGN {
        (Split::balanced(m, 2, ROW_ALIGN), cols)
    } else {
        (rows, cols)
    }
}

/// How an m × n result is cut into tiles: a function of the product's shape only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePlan {
    /// Rows of C.
    pub m: usize,
    /// Columns of C.
    pub n: usize,
    /// How the rows are cut.
    pub rows: Split,
    /// How the columns are cut.
    pub cols: Split,
    /// True when the tiles are handed to rayon; false runs them in order on this thread.
    pub parallel: bool,
}

impl TilePlan {
    /// The tiling of C = op(A)·op(B) for C m × n and inner dimension k.
    pub fn for_product(
        m: usize,
        n: usize,
        k: usize,
        transpose_a: Transpose,
        transpose_b: Transpose,
    ) -> Self {
        let forward = transpose_a == Transpose::No && transpose_b == Transpose::Yes;
        let parallel = m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD;
        let (rows, cols) = if forward && m <= SMALL_ROWS {
            (Split::Uniform(DOT_TILE), Split::Uniform(DOT_TILE))
        } else if !parallel {
            // One thread: one call, whose own blocking beats any cut.
            (Split::Uniform(m.max(1)), Split::Uniform(n.max(1)))
        } else if forward && m >= 2 * INFERENCE_ROWS {
            // Large batches (inference): X is packed once, in row blocks, and W once per block.
            let rows = Split::balanced(m, m.div_ceil(INFERENCE_ROWS), ROW_ALIGN);
            (rows, Split::Uniform(n.max(1)))
        } else if forward && n > FORWARD_COLUMNS {
            let rows = Split::balanced(m, m.div_ceil(MAX_ROWS), ROW_ALIGN);
            let width = if n >= WIDE_OUTPUTS {
                WIDE_FORWARD_COLUMNS
            } else {
                FORWARD_COLUMNS
            };
            (rows, Split::Uniform(width))
        } else if forward {
            (Split::Uniform(ROW_TILE), Split::Uniform(n.max(1)))
        } else {
            let rows = Split::balanced(m, m.div_ceil(4 * ROW_TILE), ROW_ALIGN);
            let cols = Split::balanced(n, n.div_ceil(COL_TILE), COLUMN_ALIGN);
            halved_when_whole(m, n, rows, cols)
        };
        let parallel = parallel && rows.count(m) * cols.count(n) > 1;
        Self {
            m,
            n,
            rows,
            cols,
            parallel,
        }
    }

    /// The number of tiles.
    pub fn count(&self) -> usize {
        self.rows.count(self.m) * self.cols.count(self.n)
    }

    /// Tile `index` (row-major over tiles): (first row, rows, first column, columns).
    pub fn tile(&self, index: usize) -> (usize, usize, usize, usize) {
        let across = self.cols.count(self.n);
        let (i, j) = (index / across, index % across);
        let (row0, row1) = (self.rows.start(i, self.m), self.rows.start(i + 1, self.m));
        let (col0, col1) = (self.cols.start(j, self.n), self.cols.start(j + 1, self.n));
        (row0, row1 - row0, col0, col1 - col0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_result_once() {
        let shapes = [
            (1, 1),
            (64, 256),
            (65, 257),
            (200, 3),
            (10, 30),
            (32, 784),
            (128, 784),
            (1000, 10_000),
            (3000, 40),
        ];
        for (m, n) in shapes {
            for (ta, tb) in [
                (Transpose::No, Transpose::Yes),
                (Transpose::Yes, Transpose::No),
            ] {
                let plan = TilePlan::for_product(m, n, 100, ta, tb);
                let mut count = vec![0u8; m * n];
                for index in 0..plan.count() {
                    let (r0, r, c0, c) = plan.tile(index);
                    for i in r0..r0 + r {
                        for j in c0..c0 + c {
                            count[i * n + j] += 1;
                        }
                    }
                }
                assert!(count.iter().all(|&c| c == 1), "{m}×{n} {plan:?}");
            }
        }
    }

    #[test]
    fn tiles_follow_the_measured_layouts() {
        let (no, yes) = (Transpose::No, Transpose::Yes);
        // 784 columns: 192 + 192 + 192 + 208, edges on multiples of 64; all 128 rows.
        let plan = TilePlan::for_product(128, 784, 32, yes, no);
        let widths: Vec<usize> = (0..plan.count()).map(|t| plan.tile(t).3).collect();
        assert_eq!((widths, plan.tile(3).1), (vec![192, 192, 192, 208], 128));
        assert!(plan.parallel);
        // A small batch's forward product takes dot-product tiles.
        let forward = TilePlan::for_product(32, 128, 784, no, yes);
        assert_eq!((forward.tile(0), forward.count()), ((0, 16, 0, 16), 16));
        // A larger batch's: all rows, 64 columns from 128 outputs, 32 below.
        let forward = TilePlan::for_product(256, 128, 784, no, yes);
        assert_eq!((forward.tile(1), forward.count()), ((0, 256, 64, 64), 2));
        let forward = TilePlan::for_product(256, 64, 128, no, yes);
        assert_eq!((forward.tile(1), forward.count()), ((0, 256, 32, 32), 2));
        // A gradient product past the threshold that would be one tile is cut in two: across
        // 64-column edges when it is wide enough, else across the rows.
        let gradient = TilePlan::for_product(64, 128, 256, yes, no);
        assert_eq!((gradient.tile(1), gradient.count()), ((0, 64, 64, 64), 2));
        let back = TilePlan::for_product(256, 100, 64, no, no);
        assert_eq!((back.tile(1), back.count()), ((128, 128, 0, 100), 2));
        assert!(back.parallel);
        // Nielsen's products stay on one thread, the weight gradient in one piece.
        assert!(!TilePlan::for_product(10, 30, 784, no, yes).parallel);
        let gradient = TilePlan::for_product(30, 784, 10, yes, no);
        assert_eq!((gradient.parallel, gradient.count()), (false, 1));
    }
}
