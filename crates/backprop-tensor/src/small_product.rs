//! Products of small matrices straight from their buffers: C ← (C +) L·R, with no packing and
//! no dispatch, for the row blocks of a small network's training pass, where each operand is a
//! few kilobytes and `gemm`'s packing and planning would cost more than the arithmetic.
//!
//! C is m × n (rows `ldc` apart), R is depth × n (rows `ldr` apart), and L is m × depth read
//! through two strides, L(i, p) = `lhs[i·row_stride + p·depth_stride]`, so one kernel serves
//! X·Wᵀ (with W transposed once), δ·W, and δᵀ·X (δ read down its columns).
//!
//! **Order.** Each element's sum Σₚ L(i, p)·R(p, j) is formed from zero in p order and then, when
//! accumulating, added to C's value. The plain form rounds each product and each sum; with
//! AVX-512 each term is one fused multiply-add (so the two differ in the last bits, as the
//! conventions allow across CPU feature levels). Which form runs depends on the CPU alone.
//!
//! **Tiles.** With AVX-512, C is computed in tiles of up to 4 rows × 4 vectors (64 `f32` or 32
//! `f64` columns) held in registers while p runs: per p, the tile's row of R is loaded once and
//! each of its rows' L(i, p) broadcast once. Columns past n are masked off, never touched.

use crate::Float;

/// A matrix read through two strides: element (i, p) is `values[i·row_stride + p·depth_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a, T> {
    /// The elements.
    pub values: &'a [T],
    /// The distance between (i, p) and (i + 1, p).
    pub row_stride: usize,
    /// The distance between (i, p) and (i, p + 1).
    pub depth_stride: usize,
}

impl<'a, T> Strided<'a, T> {
    /// A row-major matrix whose rows are `stride` apart.
    pub fn rows(values: &'a [T], stride: usize) -> Self {
        Self {
            values,
            row_stride: stride,
            depth_stride: 1,
        }
    }

    /// The transpose of a row-major matrix whose rows are `stride` apart: element (i, p) is the
    /// stored matrix's (p, i).
    pub fn transposed(values: &'a [T], stride: usize) -> Self {
        Self {
            values,
            row_stride: 1,
            depth_stride: stride,
        }
    }
}

/// The shape of a product: C is `rows` × `cols`, summed over `depth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Rows of C and of L.
    pub rows: usize,
    /// Columns of C and of R.
    pub cols: usize,
    /// Columns of L, rows of R.
    pub depth: usize,
}

/// C ← L·R, or C ← C + L·R when `accumulate` (see the [module documentation](self) for the
/// layout and the order of the sums). With `depth` 0 the sum is zero.
///
/// ```
/// use backprop_tensor::small_product::{small_product, Shape, Strided};
/// // [1 2; 3 4] · [1 0 1; 0 1 1] = [1 2 3; 3 4 7]
/// let lhs = [1.0f64, 2.0, 3.0, 4.0];
/// let rhs = [1.0f64, 0.0, 1.0, 0.0, 1.0, 1.0];
/// let mut c = [0.0f64; 6];
/// let shape = Shape { rows: 2, cols: 3, depth: 2 };
/// small_product(&mut c, 3, false, Strided::rows(&lhs, 2), &rhs, 3, shape);
/// assert_eq!(c, [1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
/// // Lᵀ·R added on: [1 3; 2 4] · R = [1 3 4; 2 4 6].
/// small_product(&mut c, 3, true, Strided::transposed(&lhs, 2), &rhs, 3, shape);
/// assert_eq!(c, [2.0, 5.0, 7.0, 5.0, 8.0, 13.0]);
/// ```
///
/// # Panics
/// When a row of C or R is longer than its stride, or an element the shape reaches lies
/// outside its buffer.
pub fn small_product<T: Float>(
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
    lhs: Strided<'_, T>,
    rhs: &[T],
    ldr: usize,
    shape: Shape,
) {
    let keep = accumulate.then_some(T::ONE);
    scaled_product(c, ldc, keep, lhs, rhs, ldr, shape);
}

/// C ← C + scale·(L·R): each element's sum Σₚ L(i, p)·R(p, j) formed from zero in p order as in
/// [`small_product`], then multiplied by `scale` and added to C (one fused multiply-add with
/// AVX-512; a product and a sum in the plain form). A plain SGD step W ← W − η·δᵀX for a layer
/// small enough to skip `gemm`'s packing.
///
/// ```
/// use backprop_tensor::small_product::{small_product_add_scaled, Shape, Strided};
/// // [1 1; 1 1] − 0.5·([1 2; 3 4] · [1 0; 0 1]) = [0.5 0; −0.5 −1]
/// let (lhs, rhs) = ([1.0f32, 2.0, 3.0, 4.0], [1.0f32, 0.0, 0.0, 1.0]);
/// let mut c = [1.0f32; 4];
/// let shape = Shape { rows: 2, cols: 2, depth: 2 };
/// small_product_add_scaled(&mut c, 2, -0.5, Strided::rows(&lhs, 2), &rhs, 2, shape);
/// assert_eq!(c, [0.5, 0.0, -0.5, -1.0]);
/// ```
///
/// # Panics
/// As [`small_product`].
pub fn small_product_add_scaled<T: Float>(
    c: &mut [T],
    ldc: usize,
    scale: T,
    lhs: Strided<'_, T>,
    rhs: &[T],
    ldr: usize,
    shape: Shape,
) {
    scaled_product(c, ldc, Some(scale), lhs, rhs, ldr, shape);
}

/// C ← L·R, or C ← C + scale·(L·R) when `keep` is `Some(scale)`.
fn scaled_product<T: Float>(
    c: &mut [T],
    ldc: usize,
    keep: Option<T>,
    lhs: Strided<'_, T>,
    rhs: &[T],
    ldr: usize,
    shape: Shape,
) {
    let Shape { rows, cols, depth } = shape;
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        cols <= ldc && (rows - 1) * ldc + cols <= c.len(),
        "small_product: C of {rows} × {cols} (rows {ldc} apart) in {} values",
        c.len()
    );
    if depth > 0 {
        assert!(
            cols <= ldr && (depth - 1) * ldr + cols <= rhs.len(),
            "small_product: R of {depth} × {cols} (rows {ldr} apart) in {} values",
            rhs.len()
        );
        let last = (rows - 1) * lhs.row_stride + (depth - 1) * lhs.depth_stride;
        assert!(
            last < lhs.values.len(),
            "small_product: L of {rows} × {depth} reaches value {last} of {}",
            lhs.values.len()
        );
    }
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() {
        let (lhs_at, rhs_at) = (lhs.values.as_ptr(), rhs.as_ptr());
        let strides = (lhs.row_stride, lhs.depth_stride, ldr, ldc);
        // SAFETY (both calls): the CPU has AVX-512F, and the checks above keep every element
        // the shape reaches inside its buffer; `c` is borrowed mutably for the call.
        let keep = keep.map(T::to_f64);
        if let Some(c) = T::as_f32_mut(c) {
            let (l, r) = (lhs_at.cast::<f32>(), rhs_at.cast::<f32>());
            let keep = keep.map(|scale| scale as f32);
            unsafe { wide::product(c.as_mut_ptr(), keep, l, r, strides, shape) };
            return;
        }
        if let Some(c) = T::as_f64_mut(c) {
            let (l, r) = (lhs_at.cast::<f64>(), rhs_at.cast::<f64>());
            unsafe { wide::product(c.as_mut_ptr(), keep, l, r, strides, shape) };
            return;
        }
    }
    plain(c, ldc, keep, lhs, rhs, ldr, shape);
}

crate::simd_kernel! {
    /// [`scaled_product`] element by element: a product, then a sum.
    fn plain<T: Float>(
        c: &mut [T],
        ldc: usize,
        keep: Option<T>,
        lhs: Strided<'_, T>,
        rhs: &[T],
        ldr: usize,
        shape: Shape,
    ) {
        for i in 0..shape.rows {
            let row = &mut c[i * ldc..][..shape.cols];
            for (j, out) in row.iter_mut().enumerate() {
                let mut sum = T::ZERO;
                for p in 0..shape.depth {
                    let l = lhs.values[i * lhs.row_stride + p * lhs.depth_stride];
                    sum += l * rhs[p * ldr + j];
                }
                *out = match keep {
                    Some(scale) => *out + scale * sum,
                    None => sum,
                };
            }
        }
    }
}

/// C ← L·Rᵀ with R given by its rows (n × depth, rows `ldr` apart): C(i, j) = Σₚ L(i, p)·R(j, p),
/// each element a dot product of two contiguous rows. For narrow products (a few output
/// columns, a long depth) such as a small network's output layer z = a·Wᵀ with W as stored:
/// [`small_product`] would fill a fraction of each vector's lanes there. L's rows are `ldl`
/// apart, C's `ldc`.
///
/// With AVX-512 each dot product is summed lane by lane in p order (one fused multiply-add
/// per vector of the depth) and the lanes then added together; the plain form sums in p
/// order. So the two differ in the last bits; each gives the same bits on every run.
///
/// ```
/// use backprop_tensor::small_product::{small_product_by_rows, Shape};
/// // [1 2; 3 4] · [1 1; 0 2]ᵀ = [3 4; 7 8]
/// let (lhs, rhs) = ([1.0f32, 2.0, 3.0, 4.0], [1.0f32, 1.0, 0.0, 2.0]);
/// let mut c = [0.0f32; 4];
/// let shape = Shape { rows: 2, cols: 2, depth: 2 };
/// small_product_by_rows(&mut c, 2, &lhs, 2, &rhs, 2, shape);
/// assert_eq!(c, [3.0, 4.0, 7.0, 8.0]);
/// ```
///
/// # Panics
/// When a row is longer than its stride, or an element the shape reaches lies outside its
/// buffer.
pub fn small_product_by_rows<T: Float>(
    c: &mut [T],
    ldc: usize,
    lhs: &[T],
    ldl: usize,
    rhs: &[T],
    ldr: usize,
    shape: Shape,
) {
    let Shape { rows, cols, depth } = shape;
    if rows == 0 || cols == 0 {
        return;
    }
    let fits = |len: usize, count: usize, stride: usize, width: usize| {
        width <= stride && (count - 1) * stride + width <= len
    };
    assert!(
        fits(c.len(), rows, ldc, cols),
        "small_product_by_rows: C of {rows} × {cols} (rows {ldc} apart) in {} values",
        c.len()
    );
    assert!(
        fits(lhs.len(), rows, ldl, depth) && fits(rhs.len(), cols, ldr, depth),
        "small_product_by_rows: L of {rows} × {depth} (rows {ldl} apart) in {} values, or R \
         of {cols} × {depth} (rows {ldr} apart) in {}",
        lhs.len(),
        rhs.len()
    );
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() {
        let strides = (ldl, ldr, ldc);
        // SAFETY (both calls): the CPU has AVX-512F, and the checks above keep every row the
        // shape reaches inside its buffer.
        if let Some(c) = T::as_f32_mut(c) {
            let (l, r) = (lhs.as_ptr().cast::<f32>(), rhs.as_ptr().cast::<f32>());
            unsafe { wide::dots(c.as_mut_ptr(), l, r, strides, shape) };
            return;
        }
        if let Some(c) = T::as_f64_mut(c) {
            let (l, r) = (lhs.as_ptr().cast::<f64>(), rhs.as_ptr().cast::<f64>());
            unsafe { wide::dots(c.as_mut_ptr(), l, r, strides, shape) };
            return;
        }
    }
    plain_by_rows(c, ldc, lhs, ldl, rhs, ldr, shape);
}

crate::simd_kernel! {
    /// [`small_product_by_rows`] element by element: a product, then a sum.
    fn plain_by_rows<T: Float>(
        c: &mut [T],
        ldc: usize,
        lhs: &[T],
        ldl: usize,
        rhs: &[T],
        ldr: usize,
        shape: Shape,
    ) {
        for i in 0..shape.rows {
            let l = &lhs[i * ldl..][..shape.depth];
            for j in 0..shape.cols {
                let r = &rhs[j * ldr..][..shape.depth];
                c[i * ldc + j] = l.iter().zip(r).fold(T::ZERO, |sum, (&l, &r)| sum + l * r);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod wide {
    use super::Shape;
    use std::arch::x86_64::{
        __m512, __m512d, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_mask_storeu_pd,
        _mm512_mask_storeu_ps, _mm512_maskz_loadu_pd, _mm512_maskz_loadu_ps, _mm512_reduce_add_pd,
        _mm512_reduce_add_ps, _mm512_set1_pd, _mm512_set1_ps, _mm512_setzero_pd, _mm512_setzero_ps,
    };

    /// The float types with an AVX-512 register form.
    pub(crate) trait Lane: Copy {
        type Vector: Copy;
        const LANES: usize;
        unsafe fn zero() -> Self::Vector;
        unsafe fn splat(value: Self) -> Self::Vector;
        /// Lanes outside `mask` read as zero, and their addresses are not touched.
        unsafe fn load(at: *const Self, mask: u16) -> Self::Vector;
        /// Lanes outside `mask` are not written.
        unsafe fn store(at: *mut Self, value: Self::Vector, mask: u16);
        /// a·b + c, rounded once.
        unsafe fn fma(a: Self::Vector, b: Self::Vector, c: Self::Vector) -> Self::Vector;
        /// The sum of the lanes.
        unsafe fn sum(value: Self::Vector) -> Self;
    }

    // SAFETY (every function of both impls): the caller runs on a CPU with AVX-512F and keeps
    // the lanes `mask` admits inside one buffer.
    impl Lane for f32 {
        type Vector = __m512;
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> __m512 {
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        unsafe fn splat(value: f32) -> __m512 {
            unsafe { _mm512_set1_ps(value) }
        }
        #[inline(always)]
        unsafe fn load(at: *const f32, mask: u16) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(mask, at) }
        }
        #[inline(always)]
        unsafe fn store(at: *mut f32, value: __m512, mask: u16) {
            unsafe { _mm512_mask_storeu_ps(at, mask, value) }
        }
        #[inline(always)]
        unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn sum(value: __m512) -> f32 {
            unsafe { _mm512_reduce_add_ps(value) }
        }
    }

    impl Lane for f64 {
        type Vector = __m512d;
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> __m512d {
            unsafe { _mm512_setzero_pd() }
        }
        #[inline(always)]
        unsafe fn splat(value: f64) -> __m512d {
            unsafe { _mm512_set1_pd(value) }
        }
        #[inline(always)]
        unsafe fn load(at: *const f64, mask: u16) -> __m512d {
            unsafe { _mm512_maskz_loadu_pd(mask as u8, at) }
        }
        #[inline(always)]
        unsafe fn store(at: *mut f64, value: __m512d, mask: u16) {
            unsafe { _mm512_mask_storeu_pd(at, mask as u8, value) }
        }
        #[inline(always)]
        unsafe fn fma(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
            unsafe { _mm512_fmadd_pd(a, b, c) }
        }
        #[inline(always)]
        unsafe fn sum(value: __m512d) -> f64 {
            unsafe { _mm512_reduce_add_pd(value) }
        }
    }

    /// Rows of C per tile.
    const TILE_ROWS: usize = 4;
    /// Vectors of C per tile row.
    const TILE_VECTORS: usize = 4;

    /// Strides: L's row and depth strides, R's row stride, C's row stride.
    type Strides = (usize, usize, usize, usize);

    /// [`super::small_product`] in register tiles.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; every element the shape reaches through the strides lies
    /// inside the buffers behind `c`, `lhs` and `rhs`, and C's rows are at least `cols` apart.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn product<T: Lane>(
        c: *mut T,
        keep: Option<T>,
        lhs: *const T,
        rhs: *const T,
        strides: Strides,
        shape: Shape,
    ) {
        let (row_stride, _, _, ldc) = strides;
        let mut j = 0;
        while j < shape.cols {
            let width = (shape.cols - j).min(TILE_VECTORS * T::LANES);
            let vectors = width.div_ceil(T::LANES);
            let tail = width - (vectors - 1) * T::LANES;
            let last_mask = ((1u32 << tail) - 1) as u16;
            let mut i = 0;
            while i < shape.rows {
                let rows = (shape.rows - i).min(TILE_ROWS);
                // SAFETY: the tile's rows i.. and columns j.. lie inside the shape.
                let tile = unsafe {
                    Tile {
                        c: c.add(i * ldc + j),
                        lhs: lhs.add(i * row_stride),
                        rhs: rhs.add(j),
                        strides,
                        depth: shape.depth,
                        keep,
                        last_mask,
                    }
                };
                // SAFETY: as for this function, for the tile's part of the shape.
                unsafe {
                    match (rows, vectors) {
                        (4, 4) => tile.run::<4, 4>(),
                        (4, 3) => tile.run::<4, 3>(),
                        (4, 2) => tile.run::<4, 2>(),
                        (4, _) => tile.run::<4, 1>(),
                        (3, 4) => tile.run::<3, 4>(),
                        (3, 3) => tile.run::<3, 3>(),
                        (3, 2) => tile.run::<3, 2>(),
                        (3, _) => tile.run::<3, 1>(),
                        (2, 4) => tile.run::<2, 4>(),
                        (2, 3) => tile.run::<2, 3>(),
                        (2, 2) => tile.run::<2, 2>(),
                        (2, _) => tile.run::<2, 1>(),
                        (_, 4) => tile.run::<1, 4>(),
                        (_, 3) => tile.run::<1, 3>(),
                        (_, 2) => tile.run::<1, 2>(),
                        (_, _) => tile.run::<1, 1>(),
                    }
                }
                i += rows;
            }
            j += width;
        }
    }

    /// [`super::small_product_by_rows`]: C in tiles of up to 4 rows × 4 columns, each element's
    /// dot product summed in one register across the depth, then across its lanes.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; every row the shape reaches lies inside its buffer, whose
    /// rows are at least as long as the shape says.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dots<T: Lane>(
        c: *mut T,
        lhs: *const T,
        rhs: *const T,
        strides: (usize, usize, usize),
        shape: Shape,
    ) {
        let (ldl, ldr, ldc) = strides;
        let mut i = 0;
        while i < shape.rows {
            let rows = (shape.rows - i).min(4);
            let mut j = 0;
            while j < shape.cols {
                let cols = (shape.cols - j).min(4);
                // SAFETY: rows i.. of L and C and rows j.. of R lie inside the shape.
                let (c, l, r) = unsafe { (c.add(i * ldc + j), lhs.add(i * ldl), rhs.add(j * ldr)) };
                let tile = (c, l, r, strides, shape.depth);
                // SAFETY: as for this function, for the tile's part of the shape.
                unsafe {
                    match (rows, cols) {
                        (4, 4) => dot_tile::<T, 4, 4>(tile),
                        (4, 3) => dot_tile::<T, 4, 3>(tile),
                        (4, 2) => dot_tile::<T, 4, 2>(tile),
                        (4, _) => dot_tile::<T, 4, 1>(tile),
                        (3, 4) => dot_tile::<T, 3, 4>(tile),
                        (3, 3) => dot_tile::<T, 3, 3>(tile),
                        (3, 2) => dot_tile::<T, 3, 2>(tile),
                        (3, _) => dot_tile::<T, 3, 1>(tile),
                        (2, 4) => dot_tile::<T, 2, 4>(tile),
                        (2, 3) => dot_tile::<T, 2, 3>(tile),
                        (2, 2) => dot_tile::<T, 2, 2>(tile),
                        (2, _) => dot_tile::<T, 2, 1>(tile),
                        (_, 4) => dot_tile::<T, 1, 4>(tile),
                        (_, 3) => dot_tile::<T, 1, 3>(tile),
                        (_, 2) => dot_tile::<T, 1, 2>(tile),
                        (_, _) => dot_tile::<T, 1, 1>(tile),
                    }
                }
                j += cols;
            }
            i += rows;
        }
    }

    /// ROWS × COLS dot products of L's rows with R's, over the depth a vector at a time (the
    /// last masked).
    ///
    /// # Safety
    /// As [`dots`], for ROWS rows of L and C and COLS rows of R from the tile's corner.
    #[inline(always)]
    unsafe fn dot_tile<T: Lane, const ROWS: usize, const COLS: usize>(
        (c, lhs, rhs, (ldl, ldr, ldc), depth): (
            *mut T,
            *const T,
            *const T,
            (usize, usize, usize),
            usize,
        ),
    ) {
        // SAFETY (every load, store and offset below): within the rows the caller names, and
        // lanes past the depth are masked off.
        unsafe {
            let mut sums = [[T::zero(); COLS]; ROWS];
            let mut p = 0;
            while p < depth {
                let lanes = (depth - p).min(T::LANES);
                let mask = ((1u32 << lanes) - 1) as u16;
                let mut right = [T::zero(); COLS];
                for (j, value) in right.iter_mut().enumerate() {
                    *value = T::load(rhs.add(j * ldr + p), mask);
                }
                for (i, sums) in sums.iter_mut().enumerate() {
                    let left = T::load(lhs.add(i * ldl + p), mask);
                    for (sum, &value) in sums.iter_mut().zip(&right) {
                        *sum = T::fma(left, value, *sum);
                    }
                }
                p += T::LANES;
            }
            for (i, sums) in sums.iter().enumerate() {
                for (j, &sum) in sums.iter().enumerate() {
                    *c.add(i * ldc + j) = T::sum(sum);
                }
            }
        }
    }

    /// One tile of C: its corner in C, L's first row and R's first column.
    struct Tile<T> {
        c: *mut T,
        lhs: *const T,
        rhs: *const T,
        strides: Strides,
        depth: usize,
        /// C ← C + scale·sum when `Some(scale)`, C ← sum when `None`.
        keep: Option<T>,
        /// The lanes of the tile's last vector that lie inside C.
        last_mask: u16,
    }

    impl<T: Lane> Tile<T> {
        /// The mask of vector `v` of `vectors`.
        #[inline(always)]
        fn mask(&self, v: usize, vectors: usize) -> u16 {
            if v + 1 == vectors {
                self.last_mask
            } else {
                u16::MAX
            }
        }

        /// ROWS × VECTORS accumulators in registers while p runs over the depth.
        ///
        /// # Safety
        /// As [`product`], for this tile: ROWS rows of L and C from the corner, VECTORS vectors
        /// of R's and C's rows (the last as `last_mask` admits).
        #[inline(always)]
        unsafe fn run<const ROWS: usize, const VECTORS: usize>(&self) {
            let (row_stride, depth_stride, ldr, ldc) = self.strides;
            // SAFETY (every load, store and offset below): within the tile's part of the
            // buffers, as the caller promises; masked lanes are not touched.
            unsafe {
                let mut sums = [[T::zero(); VECTORS]; ROWS];
                let scale = self.keep.map(|scale| T::splat(scale));
                for p in 0..self.depth {
                    let r = self.rhs.add(p * ldr);
                    let mut row = [T::zero(); VECTORS];
                    for (v, value) in row.iter_mut().enumerate() {
                        *value = T::load(r.add(v * T::LANES), self.mask(v, VECTORS));
                    }
                    let l = self.lhs.add(p * depth_stride);
                    for (i, sums) in sums.iter_mut().enumerate() {
                        let factor = T::splat(*l.add(i * row_stride));
                        for (sum, &value) in sums.iter_mut().zip(&row) {
                            *sum = T::fma(factor, value, *sum);
                        }
                    }
                }
                for (i, sums) in sums.iter().enumerate() {
                    let out = self.c.add(i * ldc);
                    for (v, &sum) in sums.iter().enumerate() {
                        let (at, mask) = (out.add(v * T::LANES), self.mask(v, VECTORS));
                        // With scale 1 the fused form rounds once, as a plain add would.
                        let value = match scale {
                            Some(scale) => T::fma(scale, sum, T::load(at, mask)),
                            None => sum,
                        };
                        T::store(at, value, mask);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain form (which this machine's CPU may never pick) against the dispatching one,
    /// over tile edges, in both layouts of L.
    #[test]
    fn the_plain_form_agrees_with_the_dispatched_one() {
        for (rows, cols, depth) in [(1, 1, 1), (5, 33, 7), (4, 17, 3), (9, 70, 12)] {
            let ldc = cols + 3;
            let lhs: Vec<f64> = (0..rows * depth).map(|v| (v % 7) as f64 - 2.5).collect();
            let rhs: Vec<f64> = (0..depth * cols).map(|v| (v % 5) as f64 * 0.25).collect();
            let shape = Shape { rows, cols, depth };
            for lhs in [Strided::rows(&lhs, depth), Strided::transposed(&lhs, rows)] {
                let start: Vec<f64> = (0..rows * ldc).map(|v| v as f64).collect();
                let (mut plain_c, mut wide_c) = (start.clone(), start);
                plain(&mut plain_c, ldc, Some(1.0), lhs, &rhs, cols, shape);
                small_product(&mut wide_c, ldc, true, lhs, &rhs, cols, shape);
                // Small integers and quarters: every sum is exact, fused or not.
                assert_eq!(plain_c, wide_c, "{rows} × {cols} × {depth}");
                plain(&mut plain_c, ldc, Some(-0.25), lhs, &rhs, cols, shape);
                small_product_add_scaled(&mut wide_c, ldc, -0.25, lhs, &rhs, cols, shape);
                assert_eq!(plain_c, wide_c, "scaled: {rows} × {cols} × {depth}");
            }
            let (ldl, ldr) = (depth, depth);
            let rhs_rows: Vec<f64> = (0..cols * depth).map(|v| (v % 3) as f64 * 0.5).collect();
            let start = vec![-1.0; rows * ldc];
            let (mut plain_c, mut wide_c) = (start.clone(), start);
            plain_by_rows(&mut plain_c, ldc, &lhs, ldl, &rhs_rows, ldr, shape);
            small_product_by_rows(&mut wide_c, ldc, &lhs, ldl, &rhs_rows, ldr, shape);
            assert_eq!(plain_c, wide_c, "by rows: {rows} × {cols} × {depth}");
        }
    }
}
