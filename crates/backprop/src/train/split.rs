//! The validation split carved out of the training data: seeded, stratified by class for
//! classification.

use super::Task;
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix, SeededRng};

/// RNG stream for carving a validation split off the training data.
const SPLIT_STREAM: u64 = 2;

/// A seeded split of row indices into (train, held out); stratified by class for classification.
pub(super) fn split_rows<T: Float>(
    y: &Matrix<T>,
    fraction: f64,
    task: Task,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut rng = SeededRng::with_stream(seed, SPLIT_STREAM);
    let groups: Vec<Vec<usize>> = match task {
        Task::Classification => {
            let labels: Vec<usize> = if y.cols() == 1 {
                y.as_slice()
                    .iter()
                    .map(|&v| usize::from(v > T::from_f64(0.5)))
                    .collect()
            } else {
                y.argmax_rows()
            };
            let classes = labels.iter().copied().max().unwrap_or(0) + 1;
            let mut groups = vec![Vec::new(); classes];
            for (row, label) in labels.into_iter().enumerate() {
                groups[label].push(row);
            }
            groups.into_iter().filter(|g| !g.is_empty()).collect()
        }
        Task::Regression => vec![(0..y.rows()).collect()],
    };
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for mut group in groups {
        if group.len() < 2 {
            return Err(Error::Training(format!(
                "a class has only {} example(s): too few to hold some out for validation",
                group.len()
            )));
        }
        rng.shuffle(&mut group);
        let take = ((group.len() as f64 * fraction).round() as usize).clamp(1, group.len() - 1);
        held.extend_from_slice(&group[..take]);
        train.extend_from_slice(&group[take..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    Ok((train, held))
}
