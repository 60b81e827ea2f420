//! Seeded train/test and train/validation splits, stratified for classification.
//!
//! A part of n rows held out with fraction f gets k = round(f·n) rows, kept between 1 and n − 1.
//! Stratified, this is done per class: each class's rows are shuffled and round(f·count) of them
//! held out, so every class keeps its proportion to within one row. Both parts keep the original
//! row order (the chosen indices are sorted). A data set under [`MIN_ROWS_TO_SPLIT`] rows, or a
//! class with a single row, cannot be split: the caller may skip splitting instead.
//!
//! Test and validation splits shuffle on streams of their own, so a validation split of the
//! training part never repeats the test split's shuffle.

use crate::{DataError, Dataset, Targets};
use backprop_tensor::SeededRng;

/// The ChaCha stream of the test split ("test" in ASCII).
pub const TEST_SPLIT_STREAM: u64 = 0x7465_7374;
/// The ChaCha stream of the validation split ("vali" in ASCII).
pub const VALIDATION_SPLIT_STREAM: u64 = 0x7661_6c69;
/// The fewest rows a data set needs to be split.
pub const MIN_ROWS_TO_SPLIT: usize = 10;

/// Which part a split holds out: it names the part in errors and picks the random stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitPurpose {
    /// A test part (`--test-split`).
    Test,
    /// A validation part taken from the training part (`--validation`).
    Validation,
}

impl SplitPurpose {
    /// `"test"` or `"validation"`.
    pub fn name(&self) -> &'static str {
        match self {
            SplitPurpose::Test => "test",
            SplitPurpose::Validation => "validation",
        }
    }

    /// The random stream the shuffle draws from.
    pub fn stream(&self) -> u64 {
        match self {
            SplitPurpose::Test => TEST_SPLIT_STREAM,
            SplitPurpose::Validation => VALIDATION_SPLIT_STREAM,
        }
    }
}

/// Splits off a test part: returns (train, test).
///
/// ```
/// use backprop_data::{train_test_split, BuiltIn, GenerateOptions};
/// let data = BuiltIn::Circle.load(&GenerateOptions::default()).unwrap();
/// let (train, test) = train_test_split(&data, 0.2, 7, true).unwrap();
/// assert_eq!((train.len(), test.len()), (400, 100));
/// ```
pub fn train_test_split(
    dataset: &Dataset,
    test_fraction: f64,
    seed: u64,
    stratify: bool,
) -> Result<(Dataset, Dataset), DataError> {
    split(dataset, test_fraction, seed, stratify, SplitPurpose::Test)
}

/// Splits a validation part off a training part: returns (train, validation).
pub fn train_validation_split(
    dataset: &Dataset,
    validation_fraction: f64,
    seed: u64,
    stratify: bool,
) -> Result<(Dataset, Dataset), DataError> {
    split(
        dataset,
        validation_fraction,
        seed,
        stratify,
        SplitPurpose::Validation,
    )
}

/// Splits `dataset` into (kept, held out). `stratify` only matters for classification.
pub fn split(
    dataset: &Dataset,
    fraction: f64,
    seed: u64,
    stratify: bool,
    purpose: SplitPurpose,
) -> Result<(Dataset, Dataset), DataError> {
    let mut rng = SeededRng::with_stream(seed, purpose.stream());
    let (kept, held_out) = split_indices(dataset, fraction, &mut rng, stratify, purpose)?;
    Ok((dataset.subset(&kept), dataset.subset(&held_out)))
}

/// The row indices of the two parts, (kept, held out), each sorted ascending.
pub fn split_indices(
    dataset: &Dataset,
    fraction: f64,
    rng: &mut SeededRng,
    stratify: bool,
    purpose: SplitPurpose,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    // Written so that NaN fails too.
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::InvalidFraction {
            purpose: purpose.name(),
            fraction,
        });
    }
    let rows = dataset.len();
    if rows < MIN_ROWS_TO_SPLIT {
        return Err(DataError::TooFewRowsToSplit {
            purpose: purpose.name(),
            name: dataset.name.clone(),
            rows,
            minimum: MIN_ROWS_TO_SPLIT,
        });
    }
    let groups = match (&dataset.targets, stratify) {
        (
            Targets::Classes {
                labels,
                class_names,
            },
            true,
        ) => class_groups(labels, class_names, purpose)?,
        _ => vec![(0..rows).collect()],
    };
    let mut kept = Vec::with_capacity(rows);
    let mut held_out = Vec::with_capacity(rows);
    for mut group in groups {
        rng.shuffle(&mut group);
        let count = held_out_count(group.len(), fraction);
        held_out.extend_from_slice(&group[..count]);
        kept.extend_from_slice(&group[count..]);
    }
    kept.sort_unstable();
    held_out.sort_unstable();
    Ok((kept, held_out))
}

/// round(f·n), kept in 1..=n−1 (n ≥ 2).
fn held_out_count(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).round() as usize).clamp(1, n - 1)
}

/// The rows of each class present, in ascending order; an error for a class with one row.
fn class_groups(
    labels: &[usize],
    class_names: &[String],
    purpose: SplitPurpose,
) -> Result<Vec<Vec<usize>>, DataError> {
    let mut groups = vec![Vec::new(); class_names.len()];
    for (row, &label) in labels.iter().enumerate() {
        groups
            .get_mut(label)
            .ok_or(DataError::LabelOutOfRange {
                row,
                label,
                n_classes: class_names.len(),
            })?
            .push(row);
    }
    if let Some((class, group)) = groups.iter().enumerate().find(|(_, g)| g.len() == 1) {
        return Err(DataError::ClassTooSmall {
            purpose: purpose.name(),
            class,
            class_name: class_names[class].clone(),
            count: group.len(),
        });
    }
    groups.retain(|group| !group.is_empty());
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{digits, BuiltIn, GenerateOptions};
    use backprop_tensor::Matrix;

    fn labelled(labels: Vec<usize>, n_classes: usize) -> Dataset {
        let rows = labels.len();
        Dataset::new(
            "labelled",
            Matrix::from_fn(rows, 1, |i, _| i as f32),
            vec!["row".into()],
            Targets::Classes {
                labels,
                class_names: (0..n_classes).map(|c| format!("c{c}")).collect(),
            },
        )
        .unwrap()
    }

    #[test]
    fn stratified_split_keeps_class_proportions_within_one_row() {
        let data = digits().unwrap();
        for fraction in [0.1, 0.2, 0.25, 0.5] {
            let (train, test) = train_test_split(&data, fraction, 3, true).unwrap();
            assert_eq!(train.len() + test.len(), data.len());
            let all = data.class_counts().unwrap();
            let held = test.class_counts().unwrap();
            for (class, (&n, &t)) in all.iter().zip(&held).enumerate() {
                let expected = fraction * n as f64;
                assert!(
                    (t as f64 - expected).abs() <= 1.0,
                    "class {class}: {t} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn parts_are_disjoint_sorted_and_seeded() {
        let data = labelled((0..50).map(|i| i % 3).collect(), 3);
        let mut rng = SeededRng::new(1);
        let (kept, held) = split_indices(&data, 0.3, &mut rng, true, SplitPurpose::Test).unwrap();
        let mut all: Vec<usize> = kept.iter().chain(&held).copied().collect();
        assert!(kept.windows(2).all(|w| w[0] < w[1]) && held.windows(2).all(|w| w[0] < w[1]));
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
        let a = train_test_split(&data, 0.3, 5, true).unwrap();
        assert_eq!(a, train_test_split(&data, 0.3, 5, true).unwrap());
        assert_ne!(a, train_test_split(&data, 0.3, 6, true).unwrap());
        // Features follow their rows: row i holds the value i.
        assert!(a.1.features.as_slice().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn unstratified_and_regression_splits_take_round_fraction_of_rows() {
        let options = GenerateOptions {
            samples: 101,
            ..GenerateOptions::default()
        };
        let plane = BuiltIn::Plane.load(&options).unwrap();
        let (train, test) = train_test_split(&plane, 0.2, 1, true).unwrap();
        assert_eq!((train.len(), test.len()), (81, 20));
        let (train, validation) = train_validation_split(&train, 0.1, 1, false).unwrap();
        assert_eq!((train.len(), validation.len()), (73, 8));
        // Tiny fractions still hold out one row, large ones keep one.
        let data = labelled(vec![0; 10], 1);
        assert_eq!(train_test_split(&data, 0.01, 0, true).unwrap().1.len(), 1);
        assert_eq!(train_test_split(&data, 0.99, 0, false).unwrap().0.len(), 1);
    }

    #[test]
    fn bad_fractions_and_tiny_data_are_clear_errors() {
        let data = labelled((0..20).map(|i| i % 2).collect(), 2);
        for fraction in [0.0, 1.0, -0.2, 1.5, f64::NAN] {
            let err = train_test_split(&data, fraction, 0, true).unwrap_err();
            assert!(
                matches!(err, DataError::InvalidFraction { .. }),
                "{fraction}"
            );
        }
        assert_eq!(
            train_validation_split(&data, 1.0, 0, true)
                .unwrap_err()
                .to_string(),
            "the validation fraction must be strictly between 0 and 1, got 1"
        );
        let small = labelled(vec![0, 1, 0, 1, 0, 1, 0, 1, 0], 2);
        assert_eq!(
            train_test_split(&small, 0.2, 0, true)
                .unwrap_err()
                .to_string(),
            "cannot make a test split of \"labelled\": it has 9 rows and at least 10 are needed"
        );
    }

    #[test]
    fn a_class_with_one_row_cannot_be_stratified() {
        let mut labels = vec![0; 12];
        labels[5] = 2; // class 1 is absent (allowed), class 2 has one row (not allowed)
        let data = labelled(labels, 3);
        assert_eq!(
            train_test_split(&data, 0.2, 0, true).unwrap_err().to_string(),
            "cannot make a stratified test split: class \"c2\" (index 2) has 1 row(s), at least 2 are needed"
        );
        assert!(train_test_split(&data, 0.2, 0, false).is_ok());
    }
}
