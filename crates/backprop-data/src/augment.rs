//! Data augmentation for images: Nielsen's one-pixel shifts (chapter 6, `expand_mnist.py`).
//!
//! Every training image is kept and followed by four copies moved by one pixel, up, down, left
//! and right, the row or column that comes in filled with zeros: five rows per image, in a fixed
//! order, so the expanded set is the same on every run (the shuffles follow the seed as usual).
//! A network that sees these learns that a digit one pixel over is the same digit.

use crate::Dataset;

/// The four one-pixel moves, as (rows, columns): the content moves by this much.
const SHIFTS: [(isize, isize); 4] = [(-1, 0), (1, 0), (0, -1), (0, 1)];

/// `data` with each image followed by its four one-pixel shifts. Each row holds `channels`
/// planes of `height × width` values, one after another, each row-major.
///
/// ```
/// use backprop_data::{augment::with_one_pixel_shifts, Dataset, Targets};
/// use backprop_tensor::Matrix;
/// // One 1×2×2 image [[1, 2], [3, 4]] of class 0.
/// let x = Matrix::from_rows(&[[1.0f32, 2.0, 3.0, 4.0]]).unwrap();
/// let targets = Targets::Classes { labels: vec![0], class_names: vec!["a".into()] };
/// let names = vec!["p0".into(), "p1".into(), "p2".into(), "p3".into()];
/// let data = Dataset::new("tiny", x, names, targets).unwrap();
/// let expanded = with_one_pixel_shifts(&data, (1, 2, 2));
/// assert_eq!(expanded.len(), 5);
/// assert_eq!(expanded.features.row(1), &[3.0, 4.0, 0.0, 0.0]); // moved up
/// assert_eq!(expanded.features.row(4), &[0.0, 1.0, 0.0, 3.0]); // moved right
/// assert_eq!(expanded.labels().unwrap(), &[0, 0, 0, 0, 0]);
/// ```
///
/// # Panics
/// When the rows do not hold `channels × height × width` values.
#[track_caller]
pub fn with_one_pixel_shifts(
    data: &Dataset,
    (channels, height, width): (usize, usize, usize),
) -> Dataset {
    assert_eq!(
        data.n_features(),
        channels * height * width,
        "one-pixel shifts: rows of {} values are not {channels}×{height}×{width} images",
        data.n_features()
    );
    let copies = 1 + SHIFTS.len();
    let indices: Vec<usize> = (0..data.len())
        .flat_map(|row| std::iter::repeat_n(row, copies))
        .collect();
    let mut expanded = data.subset(&indices);
    let plane = height * width;
    for row in 0..data.len() {
        let source = data.features.row(row);
        for (shift, &(dy, dx)) in SHIFTS.iter().enumerate() {
            let target = expanded.features.row_mut(row * copies + 1 + shift);
            for c in 0..channels {
                let (from, to) = (
                    &source[c * plane..][..plane],
                    &mut target[c * plane..][..plane],
                );
                for y in 0..height {
                    for x in 0..width {
                        // The value at (y, x) comes from (y − dy, x − dx), zero outside.
                        let sy = y as isize - dy;
                        let sx = x as isize - dx;
                        let inside =
                            (0..height as isize).contains(&sy) && (0..width as isize).contains(&sx);
                        to[y * width + x] = if inside {
                            from[sy as usize * width + sx as usize]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
    expanded
}
