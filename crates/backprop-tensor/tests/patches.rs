//! `fold` against two plain references: each patch's values scattered onto the pixels it read
//! (the meaning, within rounding), and the documented order of additions (bit for bit), over
//! kernels, channel counts and widths on both sides of one `f32` vector.

use backprop_tensor::patches::fold;
use backprop_tensor::{Float, Matrix, SeededRng};

fn check<T: Float>(channels: usize, height: usize, width: usize, kernel: usize) {
    let (out_h, out_w) = (height - kernel + 1, width - kernel + 1);
    let patch = channels * kernel * kernel;
    let mut rng = SeededRng::new((channels * 1000 + height * 100 + width * 10 + kernel) as u64);
    let block = Matrix::<T>::random_uniform(out_h * out_w, patch, -1.0, 1.0, &mut rng);
    let block = block.as_slice();
    let mut image = vec![T::from_f64(7.0); channels * height * width];
    fold(&mut image, (channels, height, width), block, kernel);
    // The meaning: every patch value added onto the pixel it was read from.
    let mut scattered = vec![0.0f64; image.len()];
    for i in 0..out_h {
        for j in 0..out_w {
            let row = &block[(i * out_w + j) * patch..][..patch];
            for c in 0..channels {
                for u in 0..kernel {
                    for v in 0..kernel {
                        scattered[(c * height + i + u) * width + j + v] +=
                            row[(c * kernel + u) * kernel + v].to_f64();
                    }
                }
            }
        }
    }
    // The documented order: for each output row i, channel c and kernel row u, the runs'
    // values at pixel x (zero where a run does not reach it) summed by pairs in j order, then
    // added onto it.
    let mut ordered = vec![T::ZERO; image.len()];
    for i in 0..out_h {
        for c in 0..channels {
            for u in 0..kernel {
                let offset = (c * kernel + u) * kernel;
                for x in 0..width {
                    let values: Vec<T> = (0..out_w)
                        .map(|j| {
                            if j <= x && x < j + kernel {
                                block[(i * out_w + j) * patch + offset + x - j]
                            } else {
                                T::ZERO
                            }
                        })
                        .collect();
                    let mut sum = T::ZERO;
                    for pair in values.chunks(2) {
                        sum += pair.iter().copied().reduce(|a, b| a + b).unwrap_or(T::ZERO);
                    }
                    ordered[(c * height + i + u) * width + x] += sum;
                }
            }
        }
    }
    let shape = format!("{channels} × {height} × {width}, k = {kernel}");
    for (index, ((&got, &want), &exact)) in image.iter().zip(&ordered).zip(&scattered).enumerate() {
        assert!(
            (got.to_f64() - exact).abs() <= 1e-5 * (1.0 + exact.abs()),
            "{shape}, pixel {index}: {} vs {exact}",
            got.to_f64()
        );
        assert_eq!(
            got.to_f64().to_bits(),
            want.to_f64().to_bits(),
            "{shape}, pixel {index}: not in the documented order"
        );
    }
}

#[test]
fn folding_matches_plain_references() {
    for (channels, height, width, kernel) in [
        (1, 1, 1, 1),
        (1, 3, 4, 2),
        (2, 7, 9, 3),
        (20, 12, 12, 5),
        (3, 6, 16, 5),
        (2, 5, 17, 5),
        (2, 9, 30, 4),
        (4, 16, 16, 16),
        (1, 4, 8, 1),
    ] {
        check::<f32>(channels, height, width, kernel);
        check::<f64>(channels, height, width, kernel);
    }
}

#[test]
#[should_panic(expected = "positions")]
fn a_block_of_the_wrong_size_panics() {
    let mut image = [0.0f32; 12];
    fold(&mut image, (1, 3, 4), &[0.0; 5], 2);
}
