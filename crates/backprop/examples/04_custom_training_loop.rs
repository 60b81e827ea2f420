//! A training loop written by hand from the library's parts: batches, `Network::backward`,
//! a learning-rate schedule, gradient clipping and an optimiser step. This is what
//! `Trainer::fit` does for you.
//!
//! Run: `cargo run --release -p backprop --example 04_custom_training_loop`

use backprop::optim::{
    clip_by_global_norm, AdamConfig, LearningRateSchedule, Optimizer, OptimizerConfig, ParameterRef,
};
use backprop::{evaluate, Activation, Cost, Matrix, NetworkConfig, SeededRng, Task};

fn main() -> Result<(), backprop::Error> {
    // Two interleaved classes on a ring: inside radius 1 or outside it.
    let mut rng = SeededRng::new(9);
    let x = Matrix::<f32>::random_uniform(400, 2, -2.0, 2.0, &mut rng);
    let y = Matrix::<f32>::from_fn(400, 2, |i, j| {
        let inside = x[(i, 0)].hypot(x[(i, 1)]) < 1.2;
        if (j == 1) == inside {
            1.0
        } else {
            0.0
        }
    });

    let mut network = NetworkConfig::new(&[2, 16, 16, 2], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Tanh)
        .with_seed(4)
        .init::<f32>()?;
    let base_rate = 0.02;
    let mut optimizer = Optimizer::new(OptimizerConfig::Adam(
        AdamConfig::default().with_learning_rate(base_rate),
    ))?;
    let batch_size = 32;
    let batches_per_epoch = x.rows().div_ceil(batch_size) as u64;
    let epochs = 60;
    let schedule =
        LearningRateSchedule::cosine_annealing(epochs * batches_per_epoch, 1e-4).with_warmup(20);

    let mut step = 0;
    for epoch in 1..=epochs {
        let order = rng.permutation(x.rows());
        let mut epoch_loss = 0.0;
        for rows in order.chunks(batch_size) {
            let (xb, yb) = (x.select_rows(rows), y.select_rows(rows));
            // Forward and backward: the batch cost and every ∂C/∂θ.
            epoch_loss += network.compute_gradients(&xb, &yb) * rows.len() as f64;
            let learning_rate = schedule.learning_rate_at(base_rate, step);
            let mut slots = network.parameter_slots();
            let mut gradients: Vec<&mut Matrix<f32>> =
                slots.iter_mut().map(|(_, s)| &mut *s.gradient).collect();
            clip_by_global_norm(&mut gradients, 5.0);
            let mut parameters: Vec<ParameterRef<'_, f32>> = slots
                .iter_mut()
                .map(|(name, s)| ParameterRef {
                    name: name.as_str(),
                    value: &mut *s.value,
                    gradient: &*s.gradient,
                })
                .collect();
            optimizer.step(&mut parameters, learning_rate);
            step += 1;
        }
        if epoch % 10 == 0 {
            let metrics = evaluate(&network, &x, &y, Task::Classification);
            println!(
                "epoch {epoch:3}  mean batch loss {:.4}  accuracy {:.1}%  learning rate {:.5}",
                epoch_loss / x.rows() as f64,
                100.0 * metrics.accuracy.unwrap_or(0.0),
                schedule.learning_rate_at(base_rate, step)
            );
        }
    }
    Ok(())
}
