//! `add_scaled_rows` and `sum_weighted_rows` against a plain loop in `f64`, over lengths on
//! both sides of the AVX-512 kernel's vectors and register chunks, with rows read at a stride.

use backprop_tensor::rows::{add_scaled_rows, sum_weighted_rows};
use backprop_tensor::{Float, Matrix, SeededRng};

fn check<T: Float>(len: usize, stride: usize, tolerance: f64) {
    let count = 9;
    let mut rng = SeededRng::new((len * 31 + stride) as u64);
    let rows = Matrix::<T>::random_uniform(count, stride, -1.0, 1.0, &mut rng);
    let scales = Matrix::<T>::random_uniform(1, count, -2.0, 2.0, &mut rng);
    let start = Matrix::<T>::random_uniform(1, len, -1.0, 1.0, &mut rng);
    // Picks counted from 100, some twice, out of order.
    let picks = [103u32, 100, 108, 103, 105, 101];
    let offset = stride - len;
    let mut sum = start.as_slice().to_vec();
    add_scaled_rows(
        &mut sum,
        &picks,
        100,
        scales.as_slice(),
        &rows.as_slice()[offset..],
        stride,
    );
    for (j, &got) in sum.iter().enumerate() {
        let want = start.as_slice()[j].to_f64()
            + picks
                .iter()
                .map(|&pick| {
                    let p = pick as usize - 100;
                    scales.as_slice()[p].to_f64() * rows[(p, offset + j)].to_f64()
                })
                .sum::<f64>();
        assert!(
            (got.to_f64() - want).abs() <= tolerance,
            "len {len}, stride {stride}, column {j}: {} vs {want}",
            got.to_f64()
        );
    }
}

#[test]
fn sums_of_picked_rows_match_a_plain_loop() {
    for len in [1, 5, 15, 16, 17, 127, 128, 129, 255, 500] {
        for extra in [0, 3] {
            check::<f32>(len, len + extra, 1e-5);
            check::<f64>(len, len + extra, 1e-13);
        }
    }
}

#[test]
#[should_panic(expected = "outside")]
fn a_pick_past_the_rows_panics() {
    let mut sum = [0.0f32; 4];
    add_scaled_rows(&mut sum, &[2], 0, &[1.0; 3], &[0.0; 8], 4);
}

fn check_weighted<T: Float>(len: usize, stride: usize, tolerance: f64) {
    let count = 7;
    let mut rng = SeededRng::new((len * 17 + stride) as u64);
    let rows = Matrix::<T>::random_uniform(count, stride, -1.0, 1.0, &mut rng);
    let weights = Matrix::<T>::random_uniform(1, 5, -2.0, 2.0, &mut rng);
    // Some rows twice, out of order; each pick with its own weight.
    let picks = [4u32, 0, 6, 4, 2];
    let offset = stride - len;
    // Whatever `sum` held is overwritten.
    let mut sum = vec![T::from_f64(1e6); len];
    sum_weighted_rows(
        &mut sum,
        &picks,
        weights.as_slice(),
        &rows.as_slice()[offset..],
        stride,
    );
    for (j, &got) in sum.iter().enumerate() {
        let want = picks
            .iter()
            .zip(weights.as_slice())
            .map(|(&p, w)| w.to_f64() * rows[(p as usize, offset + j)].to_f64())
            .sum::<f64>();
        assert!(
            (got.to_f64() - want).abs() <= tolerance,
            "len {len}, stride {stride}, column {j}: {} vs {want}",
            got.to_f64()
        );
    }
}

#[test]
fn weighted_sums_of_picked_rows_match_a_plain_loop() {
    for len in [1, 5, 15, 16, 17, 127, 128, 129, 255, 500] {
        for extra in [0, 3] {
            check_weighted::<f32>(len, len + extra, 1e-5);
            check_weighted::<f64>(len, len + extra, 1e-13);
        }
    }
    // No picks: zeros.
    let mut sum = [3.0f32; 20];
    sum_weighted_rows(&mut sum, &[], &[], &[1.0; 40], 20);
    assert_eq!(sum, [0.0; 20]);
}

#[test]
#[should_panic(expected = "outside")]
fn a_weighted_pick_past_the_rows_panics() {
    let mut sum = [0.0f32; 4];
    sum_weighted_rows(&mut sum, &[2], &[1.0], &[0.0; 8], 4);
}
