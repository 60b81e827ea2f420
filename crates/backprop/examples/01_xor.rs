//! XOR with the 2-3-1 "company" network: 2 salespeople (inputs), 3 managers (hidden sigmoid
//! units), 1 CEO (sigmoid output). XOR cannot be solved without the managers: no single line
//! separates (0,1) and (1,0) from (0,0) and (1,1).
//!
//! Run: `cargo run --release -p backprop --example 01_xor`

use backprop::optim::{OptimizerConfig, SgdConfig};
use backprop::train::{EpochRecord, TrainingEvent};
use backprop::{evaluate, Activation, Cost, Matrix, NetworkConfig, Task, Trainer, TrainingConfig};

fn main() -> Result<(), backprop::Error> {
    let x = Matrix::<f32>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        .expect("4 rows of 2");
    let y = Matrix::<f32>::from_rows(&[[0.0], [1.0], [1.0], [0.0]]).expect("4 rows of 1");

    let mut network = NetworkConfig::new(&[2, 3, 1], Cost::BinaryCrossEntropy)
        .with_hidden_activation(Activation::Sigmoid)
        .with_seed(1)
        .init::<f32>()?;
    let config = TrainingConfig {
        epochs: 1500,
        batch_size: 4,
        optimizer: OptimizerConfig::Sgd(
            SgdConfig::default()
                .with_learning_rate(2.0)
                .with_momentum(0.9),
        ),
        ..TrainingConfig::default()
    };
    let mut print_every_200 = |event: &TrainingEvent<'_>| {
        if let TrainingEvent::Epoch(EpochRecord { epoch, train, .. }) = event {
            if epoch % 200 == 0 || *epoch == 1 {
                println!(
                    "epoch {epoch:4}  loss {:.5}  accuracy {:.0}%",
                    train.loss,
                    100.0 * train.accuracy.unwrap_or(0.0)
                );
            }
        }
    };
    Trainer::new(config)?.fit(&mut network, &x, &y, None, &mut print_every_200)?;

    let metrics = evaluate(&network, &x, &y, Task::Classification);
    let output = network.forward(&x);
    for i in 0..4 {
        println!("{} xor {} -> {:.3}", x[(i, 0)], x[(i, 1)], output[(i, 0)]);
    }
    println!("accuracy {:.0}%", 100.0 * metrics.accuracy.unwrap_or(0.0));
    Ok(())
}
