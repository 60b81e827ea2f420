//! The built-in 8×8 handwritten digits (UCI optdigits test part, as in scikit-learn's
//! `load_digits`): 1797 images, 64 pixel counts 0–16 each, classes 0–9.
//!
//! The gzip file (`data/digits.csv.gz`, 57 523 bytes; source, sha256 and licence in
//! `data/README.md`: CC BY 4.0 via UCI, shipped in scikit-learn under BSD-3-Clause) is embedded
//! in the library and decompressed on every load. Each line is 64 integers then the label.
//! Features are the raw counts as `f32`, named `p0`…`p63` (row-major); scaling is left to the
//! [`Scaler`](crate::Scaler).

use crate::{DataError, Dataset, Targets};
use backprop_tensor::Matrix;
use flate2::read::GzDecoder;
use std::io::Read;

/// The embedded gzip file.
const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
/// Pixels per image (8 × 8).
pub const DIGITS_PIXELS: usize = 64;
/// Number of images.
pub const DIGITS_ROWS: usize = 1797;
/// The largest pixel count (a 4×4 block fully on).
const MAX_PIXEL: f32 = 16.0;
/// A bound on the decompressed size (264 712 bytes), against a damaged build.
const MAX_DECOMPRESSED: u64 = 1 << 20;

fn damaged(reason: String) -> DataError {
    DataError::EmbeddedData { reason }
}

/// Parses one field as an integer in `0..=max`.
fn parse_count(field: &str, max: f32, line: usize) -> Result<f32, DataError> {
    let value: f32 = field
        .trim()
        .parse()
        .map_err(|_| damaged(format!("line {line}: {field:?} is not a number")))?;
    if !(0.0..=max).contains(&value) || value.fract() != 0.0 {
        return Err(damaged(format!(
            "line {line}: {value} is not an integer in 0..={max}"
        )));
    }
    Ok(value)
}

/// The digits data set: 1797 rows × 64 features, 10 classes named "0"…"9".
///
/// ```
/// let digits = backprop_data::digits().unwrap();
/// assert_eq!((digits.len(), digits.n_features(), digits.n_classes()), (1797, 64, Some(10)));
/// ```
pub fn digits() -> Result<Dataset, DataError> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_GZ)
        .take(MAX_DECOMPRESSED)
        .read_to_string(&mut text)
        .map_err(|error| damaged(error.to_string()))?;
    let mut pixels = Vec::with_capacity(DIGITS_ROWS * DIGITS_PIXELS);
    let mut labels = Vec::with_capacity(DIGITS_ROWS);
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line_number = index + 1;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGITS_PIXELS + 1 {
            return Err(damaged(format!(
                "line {line_number} has {} fields, expected {}",
                fields.len(),
                DIGITS_PIXELS + 1
            )));
        }
        for field in &fields[..DIGITS_PIXELS] {
            pixels.push(parse_count(field, MAX_PIXEL, line_number)?);
        }
        labels.push(parse_count(fields[DIGITS_PIXELS], 9.0, line_number)? as usize);
    }
    let features = Matrix::from_vec(labels.len(), DIGITS_PIXELS, pixels)?;
    Dataset::new(
        "digits",
        features,
        (0..DIGITS_PIXELS).map(|i| format!("p{i}")).collect(),
        Targets::Classes {
            labels,
            class_names: (0..10).map(|d| d.to_string()).collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_file_is_the_documented_one() {
        assert_eq!(DIGITS_GZ.len(), 57_523);
    }

    #[test]
    fn digits_have_the_documented_shape_and_class_counts() {
        let data = digits().unwrap();
        assert_eq!(data.len(), DIGITS_ROWS);
        assert_eq!(data.n_features(), 64);
        assert_eq!(
            data.class_counts(),
            Some(vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        );
        assert_eq!(data.feature_names[0], "p0");
        assert_eq!(data.feature_names[63], "p63");
        assert_eq!(data.class_names().unwrap()[9], "9");
        assert_eq!(data.name, "digits");
    }

    #[test]
    fn digits_pixels_are_counts_from_0_to_16() {
        let data = digits().unwrap();
        let values = data.features.as_slice();
        assert!(values
            .iter()
            .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
        assert_eq!(values.iter().cloned().fold(f32::MIN, f32::max), 16.0);
        assert_eq!(values.iter().cloned().fold(f32::MAX, f32::min), 0.0);
        // The first image (a 0), as in scikit-learn: row 0 starts 0, 0, 5, 13, 9, 1.
        assert_eq!(&values[..6], &[0.0, 0.0, 5.0, 13.0, 9.0, 1.0]);
        assert_eq!(data.labels().unwrap()[..3], [0, 1, 2]);
    }

    #[test]
    fn bad_fields_are_errors_not_panics() {
        assert!(parse_count("x", 16.0, 1).is_err());
        assert!(parse_count("17", 16.0, 1).is_err());
        assert!(parse_count("2.5", 16.0, 1).is_err());
        assert!(parse_count("-1", 16.0, 1).is_err());
        let message = parse_count("NaN", 16.0, 4).unwrap_err().to_string();
        assert!(message.contains("line 4"), "{message}");
    }
}
