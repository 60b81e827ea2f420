//! The `ndarray` and `linfa` features: conversions both ways over awkward layouts, and the
//! estimators through linfa's `Fit` and `Predict` on a `linfa::Dataset`, equal to the same
//! estimators trained directly. Runs with `cargo test -p backprop --features linfa --test
//! interop` (CI does).

#![cfg(feature = "linfa")]

use backprop::estimator::{Classifier, Regressor};
use backprop::linfa::{ClassifierParams, RegressorParams};
use backprop::optim::AdamConfig;
use backprop::Matrix;
use linfa::prelude::*;
use ndarray::{Array1, Array2};

#[test]
fn matrices_and_arrays_convert_both_ways() {
    let matrix = Matrix::from_fn(3, 5, |row, col| (row * 10 + col) as f64);
    let array: Array2<f64> = (&matrix).into();
    assert_eq!(array.dim(), (3, 5));
    assert_eq!(array[[2, 4]], 24.0);
    assert_eq!(Matrix::from(&array), matrix);
    // A transposed (column-major) view and a strided slice copy in row order.
    let transposed = Matrix::from_ndarray(array.t());
    assert_eq!(transposed, matrix.transpose());
    let every_other = Matrix::from_ndarray(array.slice(ndarray::s![.., ..;2]));
    assert_eq!(every_other.row(1), &[10.0, 12.0, 14.0]);
    let empty: Array2<f32> = Array2::zeros((0, 4));
    assert_eq!(Matrix::from_ndarray(empty.view()).shape(), (0, 4));
}

fn blobs() -> (Array2<f32>, Array1<usize>) {
    let x = Array2::from_shape_fn((60, 2), |(row, col)| {
        let class = row % 3;
        let centre = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]][class][col];
        centre + ((row * 7 + col * 3) % 11) as f32 / 11.0 - 0.5
    });
    let labels = Array1::from_shape_fn(60, |row| row % 3);
    (x, labels)
}

#[test]
fn a_classifier_fits_and_predicts_through_linfa() {
    let (x, labels) = blobs();
    let dataset = Dataset::new(x.clone(), labels.clone());
    let settings = Classifier::new(&[8])
        .optimizer(AdamConfig::new().with_learning_rate(0.02).into())
        .epochs(200)
        .seed(5);
    let fitted = ClassifierParams::new(settings.clone())
        .fit(&dataset)
        .unwrap();
    let predicted: Array1<usize> = fitted.predict(&x);
    let correct = predicted
        .iter()
        .zip(&labels)
        .filter(|(a, b)| a == b)
        .count();
    assert!(correct >= 57, "{correct} of 60: {predicted}");
    // The same as training the estimator directly.
    let mut direct = settings;
    direct
        .fit(&Matrix::from_ndarray(x.view()), labels.as_slice().unwrap())
        .unwrap();
    let expected = direct.predict(&Matrix::from_ndarray(x.view())).unwrap();
    assert_eq!(predicted.to_vec(), expected);
    // linfa's blanket impl on a dataset: its targets become the predictions.
    let on_dataset: Array1<usize> = fitted.predict(&dataset);
    assert_eq!(on_dataset, predicted);
}

#[test]
fn a_regressor_fits_and_predicts_through_linfa() {
    let x = Array2::from_shape_fn((50, 1), |(row, _)| row as f32 / 10.0);
    let y = x.column(0).mapv(|v| 3.0 * v - 1.0);
    let dataset = Dataset::new(x.clone(), y.clone());
    let settings = Regressor::new(&[16])
        .optimizer(AdamConfig::new().with_learning_rate(0.02).into())
        .epochs(500)
        .seed(2);
    let fitted = RegressorParams::new(settings).fit(&dataset).unwrap();
    let predicted: Array1<f32> = fitted.predict(&x);
    let worst = predicted
        .iter()
        .zip(&y)
        .map(|(p, t)| (p - t).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 0.5, "largest error {worst}");
    // A fit that backprop refuses is an error through linfa, not a panic.
    let empty = Dataset::new(Array2::<f32>::zeros((0, 1)), Array1::<f32>::zeros(0));
    assert!(RegressorParams::new(Regressor::new(&[4]))
        .fit(&empty)
        .is_err());
}
