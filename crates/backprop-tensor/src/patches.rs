//! Folding patches back onto an image: the reverse of unfolding an image into its k × k
//! patches (im2col), as PyTorch's `fold` is of `unfold`. Where a convolution's input gradient
//! is formed one patch per row, each patch's gradient is added back onto the pixels it was
//! read from; the patches of neighbouring positions overlap, so each pixel sums up to k × k
//! of them.
//!
//! For stride 1 without padding, output row i's patches add onto pixel rows i .. i + k: for
//! each channel c and kernel row u, the W′ runs (i, j, c, u) of k values go onto pixel row
//! (c, i + u), run j shifted by j. Those runs are summed first (an overlap-add of W′ runs into
//! one W′ + k − 1 wide row, the shape of one vector when it is at most 16 `f32`; by pairs, so
//! that the additions form two short chains rather than one long one), and the sum added onto
//! the pixels: one vector load, add and store per (i, c, u) instead of W′ runs of k values,
//! each overlapping the last.

use crate::Float;

/// The image, C × H × W values, whose stride-1, unpadded k × k patches are the rows of `block`:
/// row i·W′ + j (W′ = W − k + 1) holds the gradient of the patch at output position (i, j),
/// C·k·k values in (c, u, v) order. `image` is overwritten: pixel (c, y, x) = Σ over the
/// patches that read it of their value there, added in a fixed order (output row i, then
/// kernel row u, each (i, u) first summed over j: runs 0 + 1, then 2 + 3, … added in turn),
/// the same bits on every CPU.
///
/// ```
/// use backprop_tensor::patches::fold;
/// // One channel of 2 × 3, 2 × 2 patches: positions (0, 0) and (0, 1).
/// let block = [1.0f32, 2.0, 3.0, 4.0, /* next patch */ 10.0, 20.0, 30.0, 40.0];
/// let mut image = [9.0f32; 6];
/// fold(&mut image, (1, 2, 3), &block, 2);
/// assert_eq!(image, [1.0, 2.0 + 10.0, 20.0, 3.0, 4.0 + 30.0, 40.0]);
/// ```
///
/// # Panics
/// When the kernel is 0 or larger than the image, or `image` and `block` are not the sizes
/// above.
pub fn fold<T: Float>(
    image: &mut [T],
    (channels, height, width): (usize, usize, usize),
    block: &[T],
    kernel: usize,
) {
    assert!(
        kernel >= 1 && kernel <= height && kernel <= width,
        "fold: a {kernel} × {kernel} kernel on a {height} × {width} image"
    );
    let (output_height, output_width) = (height - kernel + 1, width - kernel + 1);
    let patch = channels * kernel * kernel;
    assert_eq!(
        image.len(),
        channels * height * width,
        "fold: image of {} values for {channels} × {height} × {width}",
        image.len()
    );
    assert_eq!(
        block.len(),
        output_height * output_width * patch,
        "fold: {} values of patches for {output_height} × {output_width} positions of {patch}",
        block.len()
    );
    #[cfg(target_arch = "x86_64")]
    if let (Some(image), Some(block)) = (T::as_f32_mut(image), T::as_f32(block)) {
        if width <= 16 && crate::simd::has_avx512() {
            // SAFETY: the CPU has AVX-512F, the sizes were checked above, and a pixel row is
            // at most one vector.
            unsafe { fold_avx512(image, (channels, height, width), block, kernel) };
            return;
        }
    }
    fold_plain(image, (channels, height, width), block, kernel);
}

crate::simd_kernel! {
    /// [`fold`] one value at a time, in the same order as the vector form: for each (i, c, u)
    /// and pixel x of its row, the runs' values at x (zero where a run does not reach x)
    /// summed by pairs of runs in j order, then the sum added onto the pixel.
    fn fold_plain<T: Float>(
        image: &mut [T],
        shape: (usize, usize, usize),
        block: &[T],
        kernel: usize,
    ) {
        let (channels, height, width) = shape;
        let (output_height, output_width) = (height - kernel + 1, width - kernel + 1);
        let patch = channels * kernel * kernel;
        image.fill(T::ZERO);
        for i in 0..output_height {
            let patches = &block[i * output_width * patch..][..output_width * patch];
            for c in 0..channels {
                for u in 0..kernel {
                    let offset = (c * kernel + u) * kernel;
                    let pixels = &mut image[(c * height + i + u) * width..][..width];
                    for (x, pixel) in pixels.iter_mut().enumerate() {
                        // Run j's value at pixel x, zero where the run does not reach it.
                        let value = |j: usize| {
                            if j <= x && x < j + kernel {
                                patches[j * patch + offset + x - j]
                            } else {
                                T::ZERO
                            }
                        };
                        let mut sum = T::ZERO;
                        let mut j = 0;
                        while j + 1 < output_width {
                            sum += value(j) + value(j + 1);
                            j += 2;
                        }
                        if j < output_width {
                            sum += value(j);
                        }
                        *pixel += sum;
                    }
                }
            }
        }
    }
}

/// [`fold`] for `f32` with AVX-512 when a pixel row fits one vector (W ≤ 16): run j of
/// (i, c, u) is loaded straight into lanes j .. j + k (a masked load from j values before it),
/// the W′ runs summed in a register, and the sum added onto the pixel row.
///
/// # Safety
/// The CPU must have AVX-512F; `width` ≤ 16, `kernel` ≤ `height`, `width`; `image` holds
/// C·H·W values and `block` H′·W′·C·k·k.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fold_avx512(
    image: &mut [f32],
    (channels, height, width): (usize, usize, usize),
    block: &[f32],
    kernel: usize,
) {
    use std::arch::x86_64::{
        _mm512_add_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_setzero_ps,
    };
    let (output_height, output_width) = (height - kernel + 1, width - kernel + 1);
    let patch = channels * kernel * kernel;
    let row_mask = ((1u32 << width) - 1) as u16;
    let run_mask = ((1u32 << kernel) - 1) as u16;
    image.fill(0.0);
    for i in 0..output_height {
        let patches = &block[i * output_width * patch..][..output_width * patch];
        for c in 0..channels {
            for u in 0..kernel {
                let offset = (c * kernel + u) * kernel;
                // Lanes j .. j + k of the vector that starts j values before run j: the run
                // itself (j + k ≤ W ≤ 16). The other lanes are masked off, neither read nor
                // faulting, so the pointer is formed with wrapping arithmetic.
                let run = |j: usize| {
                    let run = patches[j * patch + offset..][..kernel].as_ptr();
                    // SAFETY: the mask admits exactly the k lanes of the run, which lie in
                    // `block` (sliced above).
                    unsafe { _mm512_maskz_loadu_ps(run_mask << j, run.wrapping_sub(j)) }
                };
                // Runs 0, 1 summed by pairs first (two short chains of additions instead of one
                // long one), the pairs then in order: a fixed order, the plain form's too.
                let mut sum = _mm512_setzero_ps();
                let mut j = 0;
                while j + 1 < output_width {
                    sum = _mm512_add_ps(sum, _mm512_add_ps(run(j), run(j + 1)));
                    j += 2;
                }
                if j < output_width {
                    sum = _mm512_add_ps(sum, run(j));
                }
                let pixels = image[(c * height + i + u) * width..][..width].as_mut_ptr();
                // SAFETY: the row mask admits the W lanes of the pixel row, inside `image`
                // (sliced above).
                unsafe {
                    let total = _mm512_add_ps(_mm512_maskz_loadu_ps(row_mask, pixels), sum);
                    _mm512_mask_storeu_ps(pixels, row_mask, total);
                }
            }
        }
    }
}
