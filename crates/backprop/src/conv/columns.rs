//! im2col and col2im: a batch's k × k × C patches laid out as the rows or the columns of a
//! matrix X̂, so that a convolution is one matrix product, and the patches' gradients added
//! back onto the pixels they were read from.
//!
//! Position-major X̂ (one patch per row, in W's (c, u, v) order) copies one run of k pixels per
//! (c, u); channel-major X̂ (one patch per column) copies one run of an output row per (c, u, v)
//! and output row, which is longer when the patch is short. col2im reads channel-major
//! gradients where it can (its runs are whole output rows, added as vectors, where
//! position-major runs of k values each overlap the run before them), and position-major ones
//! where only they are at hand: the input gradient summed over max-pooling's winners, one
//! patch gradient per position.

use super::{ConvGeometry, ImageShape};
use backprop_tensor::patches::fold;
use backprop_tensor::team::for_each_chunk;
use backprop_tensor::{simd_kernel, Float, Matrix};

/// The patch columns v in 0..k of output column j that fall inside a plane `width` wide, and
/// the pixel column of v = 0 (negative when the patch starts in the left padding).
fn inside_patch(
    j: usize,
    stride: usize,
    pad: usize,
    kernel: usize,
    width: usize,
) -> (usize, usize, isize) {
    let x0 = (j * stride) as isize - pad as isize;
    let first = (-x0).clamp(0, kernel as isize) as usize;
    let end = (width as isize - x0).clamp(first as isize, kernel as isize) as usize;
    (first, end, x0)
}

/// The position-major X̂ of one example's long patches: fills `block` (H′·W′ × C·k·k), whose
/// row i·W′ + j holds the C·k·k inputs that output position (i, j) weighs, in W's (c, u, v)
/// order, zeros where the patch hangs over the border. Each (c, u) is one run of k pixels
/// from one row of a plane. Row b·H′·W′ + … of a batch's X̂ is example b's block.
pub(super) fn im2col_by_position<T: Float>(
    geometry: &ConvGeometry,
    output: ImageShape,
    image: &[T],
    block: &mut [T],
) {
    let patch = geometry.patch_len();
    debug_assert_eq!(block.len(), output.plane() * patch);
    let shape = geometry.input;
    let (k, s) = (geometry.kernel, geometry.stride);
    let (pad, _) = geometry.padding.amounts(k);
    if s == 1 && pad == 0 && k <= WIDE_RUN {
        im2col_inside_by_position(geometry, output, image, block);
        return;
    }
    for (position, row) in block.chunks_mut(patch).enumerate() {
        let (i, j) = (position / output.width, position % output.width);
        let (v_first, v_end, x0) = inside_patch(j, s, pad, k, shape.width);
        for (c, channel) in row.chunks_mut(k * k).enumerate() {
            let plane = &image[c * shape.plane()..][..shape.plane()];
            for (u, run) in channel.chunks_mut(k).enumerate() {
                let y = (i * s + u) as isize - pad as isize;
                if y < 0 || y >= shape.height as isize {
                    run.fill(T::ZERO);
                    continue;
                }
                let pixels = &plane[y as usize * shape.width..][..shape.width];
                if v_first == 0 && v_end == k && k == 5 {
                    // The common case of a 5-wide kernel inside the image: a fixed-length
                    // copy the compiler inlines.
                    let x = x0 as usize;
                    let from: [T; 5] = pixels[x..x + 5].try_into().expect("5 values");
                    let to: &mut [T; 5] = run.try_into().expect("5 values");
                    *to = from;
                    continue;
                }
                run[..v_first].fill(T::ZERO);
                run[v_end..].fill(T::ZERO);
                let from = (x0 + v_first as isize) as usize;
                copy_run(
                    &mut run[v_first..v_end],
                    &pixels[from..from + (v_end - v_first)],
                );
            }
        }
    }
}

/// Values a wide copy moves at once in [`im2col_inside_by_position`].
const WIDE_RUN: usize = 8;

simd_kernel! {
    /// [`im2col_by_position`] for stride 1 without padding and k ≤ [`WIDE_RUN`], where every patch
    /// lies inside the image. One pixel row (c, i + u) serves the runs (c, u) of the W′ positions
    /// of output row i, which go to the same column of W′ consecutive rows. Each run is copied as
    /// [`WIDE_RUN`] values whenever that stays inside the source image and inside its row of X̂:
    /// the values past the run land where the next runs of the same row go, and those are written
    /// later (the runs of a row are written in (c, u) order and tile it), so every value ends up
    /// right. The last runs of a row, which would spill into the next row, are copied exactly.
    fn im2col_inside_by_position<T: Float>(
        geometry: &ConvGeometry,
        output: ImageShape,
        image: &[T],
        block: &mut [T],
    ) {
        let (patch, k, shape) = (geometry.patch_len(), geometry.kernel, geometry.input);
        let row_block = output.width * patch;
        for (i, rows) in block.chunks_exact_mut(row_block).enumerate() {
            for c in 0..shape.channels {
                for u in 0..k {
                    let offset = (c * k + u) * k;
                    let source = c * shape.plane() + (i + u) * shape.width;
                    let wide_end = source + output.width - 1 + WIDE_RUN;
                    if offset + WIDE_RUN <= patch && wide_end <= image.len() {
                        let windows = image[source..wide_end].windows(WIDE_RUN);
                        for (row, window) in rows.chunks_exact_mut(patch).zip(windows) {
                            let to: &mut [T; WIDE_RUN] = (&mut row[offset..offset + WIDE_RUN])
                                .try_into()
                                .expect("8 values");
                            *to = window.try_into().expect("8 values");
                        }
                    } else {
                        let pixels = &image[source..source + output.width - 1 + k];
                        for (row, window) in rows.chunks_exact_mut(patch).zip(pixels.windows(k)) {
                            copy_run(&mut row[offset..offset + k], window);
                        }
                    }
                }
            }
        }
    }
}

/// The channel-major X̂ of a short patch: fills `columns` (C·k·k × B·H′·W′), whose column
/// b·H′·W′ + i·W′ + j holds the C·k·k inputs that output position (i, j) of example b weighs,
/// zeros where the patch hangs over the border. Row (c, u, v) is written one output row i at a
/// time, from one row of pixels.
pub(super) fn im2col_by_channel<T: Float>(
    geometry: &ConvGeometry,
    output: ImageShape,
    input: &Matrix<T>,
    columns: &mut Matrix<T>,
) {
    let (batch, positions, patch) = (input.rows(), output.plane(), geometry.patch_len());
    columns.resize(patch, batch * positions);
    let shape = geometry.input;
    let (k, s) = (geometry.kernel, geometry.stride);
    let (pad, _) = geometry.padding.amounts(k);
    for_each_chunk(
        columns.as_mut_slice(),
        batch * positions,
        |row_index, row| {
            let (c, u, v) = (row_index / (k * k), (row_index / k) % k, row_index % k);
            let (i_first, i_end) = inside(output.height, s, u, pad, shape.height);
            let (j_first, j_end) = inside(output.width, s, v, pad, shape.width);
            for (example, block) in row.chunks_mut(positions).enumerate() {
                let plane = &input.row(example)[c * shape.plane()..][..shape.plane()];
                for (i, out) in block.chunks_mut(output.width).enumerate() {
                    if i < i_first || i >= i_end {
                        out.fill(T::ZERO);
                        continue;
                    }
                    let pixels = &plane[(i * s + u - pad) * shape.width..][..shape.width];
                    out[..j_first].fill(T::ZERO);
                    out[j_end..].fill(T::ZERO);
                    let x0 = j_first * s + v - pad;
                    if s == 1 {
                        copy_run(
                            &mut out[j_first..j_end],
                            &pixels[x0..x0 + (j_end - j_first)],
                        );
                    } else {
                        for (j, value) in out[j_first..j_end].iter_mut().enumerate() {
                            *value = pixels[x0 + j * s];
                        }
                    }
                }
            }
        },
    );
}

/// Copies `from` into `to` (equal lengths) in blocks of 8 values, the last block overlapping
/// the one before it, rather than through `memcpy`: im2col copies runs of one output row, a
/// few to a few dozen values each, where the call costs more than the copy.
#[inline(always)]
fn copy_run<T: Copy>(to: &mut [T], from: &[T]) {
    const BLOCK: usize = 8;
    let n = to.len();
    debug_assert_eq!(n, from.len());
    if n < BLOCK {
        for (to, &from) in to.iter_mut().zip(from) {
            *to = from;
        }
        return;
    }
    let mut start = 0;
    loop {
        let block: [T; BLOCK] = from[start..start + BLOCK].try_into().expect("8 values");
        to[start..start + BLOCK].copy_from_slice(&block);
        if start + BLOCK == n {
            break;
        }
        start = (start + BLOCK).min(n - BLOCK);
    }
}

fn inside(
    outputs: usize,
    stride: usize,
    offset: usize,
    pad: usize,
    length: usize,
) -> (usize, usize) {
    // s·o + offset ≥ pad  ⇔  o ≥ ⌈(pad − offset)/s⌉
    let first = pad.saturating_sub(offset).div_ceil(stride);
    // s·o + offset − pad < length  ⇔  o < ⌈(length + pad − offset)/s⌉
    let end = (length + pad)
        .saturating_sub(offset)
        .div_ceil(stride)
        .min(outputs);
    (first.min(end), end)
}

/// The reverse of im2col for one group of examples: adds the gradient of each patch back onto
/// the pixels it was read from, into `images` (the group's rows of ∂C/∂x, C·H·W values each),
/// which it overwrites. `block` holds the group's patch gradients channel-major, (C·k·k ×
/// examples·H′·W′), rows laid end to end: each row (c, u, v) then adds whole runs of an output
/// row onto a row of pixels, as vector adds (position-major rows would add runs of k values
/// that overlap the run before them).
pub(super) fn col2im_group<T: Float>(
    geometry: &ConvGeometry,
    output: ImageShape,
    block: &[T],
    images: &mut [T],
) {
    let shape = geometry.input;
    let positions = output.plane();
    let (k, s) = (geometry.kernel, geometry.stride);
    let (pad, _) = geometry.padding.amounts(k);
    images.fill(T::ZERO);
    let examples = images.len() / shape.len().max(1);
    let row_len = examples * positions;
    // Rows (c, u, v) in order, each output row i in order: for every pixel, a fixed order of
    // additions, whatever the grouping.
    for c in 0..shape.channels {
        for u in 0..k {
            let (i_first, i_end) = inside(output.height, s, u, pad, shape.height);
            for v in 0..k {
                let (j_first, j_end) = inside(output.width, s, v, pad, shape.width);
                if j_first == j_end || i_first == i_end {
                    continue;
                }
                let x0 = j_first * s + v - pad;
                let row = &block[((c * k + u) * k + v) * row_len..][..row_len];
                let pairs = images
                    .chunks_exact_mut(shape.len())
                    .zip(row.chunks(positions));
                for (image, gradients) in pairs {
                    let plane = &mut image[c * shape.plane()..][..shape.plane()];
                    for i in i_first..i_end {
                        let pixels = &mut plane[(i * s + u - pad) * shape.width..][..shape.width];
                        let from = &gradients[i * output.width..][j_first..j_end];
                        if s == 1 {
                            add_run(&mut pixels[x0..x0 + from.len()], from);
                        } else {
                            for (j, &value) in from.iter().enumerate() {
                                pixels[x0 + j * s] += value;
                            }
                        }
                    }
                }
            }
        }
    }
}

simd_kernel! {
    /// The reverse of [`im2col_by_position`] for one example: adds each position's patch
    /// gradient (row i·W′ + j of `block`, H′·W′ × C·k·k, in W's (c, u, v) order) back onto the
    /// pixels it was read from, into `image` (C·H·W values), which it overwrites. Positions in
    /// order, then (c, u) in order: each pixel gets its additions in one fixed order. The
    /// values that fell in the padding are dropped.
    pub(super) fn col2im_by_position<T: Float>(
        geometry: &ConvGeometry,
        output: ImageShape,
        block: &[T],
        image: &mut [T],
    ) {
        let (shape, patch) = (geometry.input, geometry.patch_len());
        let (k, s) = (geometry.kernel, geometry.stride);
        let (pad, _) = geometry.padding.amounts(k);
        debug_assert_eq!(block.len(), output.plane() * patch);
        debug_assert_eq!(image.len(), shape.len());
        if s == 1 && pad == 0 {
            // Every patch inside the image: each output row's runs summed first, then added
            // onto the pixels (vectors when a pixel row fits one).
            fold(image, (shape.channels, shape.height, shape.width), block, k);
            return;
        }
        image.fill(T::ZERO);
        for (position, row) in block.chunks_exact(patch).enumerate() {
            let (i, j) = (position / output.width, position % output.width);
            let (v_first, v_end, x0) = inside_patch(j, s, pad, k, shape.width);
            if v_first == v_end {
                continue;
            }
            let x = (x0 + v_first as isize) as usize;
            for (c, channel) in row.chunks_exact(k * k).enumerate() {
                let plane = &mut image[c * shape.plane()..][..shape.plane()];
                for (u, run) in channel.chunks_exact(k).enumerate() {
                    let y = (i * s + u) as isize - pad as isize;
                    if y < 0 || y >= shape.height as isize {
                        continue;
                    }
                    let pixels = &mut plane[y as usize * shape.width + x..][..v_end - v_first];
                    for (pixel, &gradient) in pixels.iter_mut().zip(&run[v_first..v_end]) {
                        *pixel += gradient;
                    }
                }
            }
        }
    }
}

/// Examples per group of [`col2im_group`]: their patch gradients (C·k·k × 8·H′·W′) fit in L2.
pub(super) const COL2IM_EXAMPLES: usize = 8;

/// to ← to + from, in blocks of eight (fixed-size arrays, so vector adds whatever the
/// length), then one by one.
#[inline(always)]
fn add_run<T: Float>(to: &mut [T], from: &[T]) {
    const BLOCK: usize = 8;
    debug_assert_eq!(to.len(), from.len());
    let mut to_blocks = to.chunks_exact_mut(BLOCK);
    let mut from_blocks = from.chunks_exact(BLOCK);
    for (to, from) in (&mut to_blocks).zip(&mut from_blocks) {
        let from: [T; BLOCK] = from.try_into().expect("8 values");
        let sums: [T; BLOCK] = std::array::from_fn(|l| to[l] + from[l]);
        to.copy_from_slice(&sums);
    }
    for (to, &from) in to_blocks
        .into_remainder()
        .iter_mut()
        .zip(from_blocks.remainder())
    {
        *to += from;
    }
}
