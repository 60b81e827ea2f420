//! A batch whose examples pull one weight different ways: each example's gradient comes from
//! its own trace, the batch's from the engine's trace of the whole batch, and the batch's must
//! be their mean (the cost of a batch is the mean of its examples' costs).

use backprop::Matrix;
use backprop_teach::{batch_pull, CompanyExample, WeightName};

#[test]
fn the_batch_gradient_is_the_mean_of_the_examples_pulls() {
    let network = CompanyExample::default().network();
    let x = Matrix::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).unwrap();
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0]]).unwrap();
    let mut disagreeing = 0;
    for (layer_index, rows, columns) in [(0, 3, 2), (1, 1, 3)] {
        for to_unit in 0..rows {
            for from_unit in 0..columns {
                let weight = WeightName {
                    layer_index,
                    to_unit,
                    from_unit,
                };
                let pull = batch_pull(&network, &x, &y, weight, 2.0).unwrap();
                let mean: f64 = pull.examples.iter().map(|e| e.gradient).sum::<f64>()
                    / pull.examples.len() as f64;
                assert!((mean - pull.batch_gradient).abs() < 1e-12, "{weight:?}");
                let up = pull.examples.iter().any(|e| e.gradient < 0.0);
                let down = pull.examples.iter().any(|e| e.gradient > 0.0);
                if up && down {
                    disagreeing += 1;
                    let text = pull.text(|e| format!("{:?}", e.input));
                    assert!(
                        text.contains("pull w") && text.contains(" up") && text.contains(" down")
                    );
                }
            }
        }
    }
    // XOR's sales disagree: some weights are pulled both ways.
    assert!(disagreeing > 0);
    let bad = WeightName {
        layer_index: 1,
        to_unit: 1,
        from_unit: 0,
    };
    assert!(batch_pull(&network, &x, &y, bad, 2.0).is_err());
}
