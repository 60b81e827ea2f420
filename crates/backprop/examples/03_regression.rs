//! Regression with the `fit / predict / score` front: learn y = sin(2x) + x/2 from 200 noisy
//! samples, then report R² on fresh points.
//!
//! Run: `cargo run --release -p backprop --example 03_regression`

use backprop::estimator::Regressor;
use backprop::{Activation, Matrix, SeededRng};

fn target(x: f32) -> f32 {
    (2.0 * x).sin() + 0.5 * x
}

fn main() -> Result<(), backprop::Error> {
    let mut rng = SeededRng::new(5);
    let x = Matrix::<f32>::random_uniform(200, 1, -3.0, 3.0, &mut rng);
    let y = Matrix::<f32>::from_fn(200, 1, |i, _| {
        target(x[(i, 0)]) + 0.05 * rng.normal() as f32
    });

    let mut model = Regressor::new(&[32, 32])
        .activation(Activation::Tanh)
        .epochs(400)
        .batch_size(32)
        .seed(1);
    let history = model.fit(&x, &y)?;
    println!(
        "final training loss (standardised targets): {:.4}",
        history.last().map_or(f64::NAN, |r| r.train.loss)
    );

    let grid = Matrix::<f32>::from_fn(7, 1, |i, _| -3.0 + i as f32);
    let truth = grid.map(target);
    let predicted = model.predict(&grid)?;
    for i in 0..grid.rows() {
        println!(
            "x = {:5.2}  true {:6.3}  predicted {:6.3}",
            grid[(i, 0)],
            truth[(i, 0)],
            predicted[(i, 0)]
        );
    }
    let test_x = Matrix::<f32>::random_uniform(500, 1, -3.0, 3.0, &mut rng);
    let test_y = test_x.map(target);
    println!(
        "R² on 500 fresh points: {:.4}",
        model.score(&test_x, &test_y)?
    );
    Ok(())
}
