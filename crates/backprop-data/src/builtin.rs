//! The built-in data sets by name (`--data circle`, …) and the options that generate them.
//!
//! Synthetic sets draw from `SeededRng::with_stream(seed, DATA_GENERATION_STREAM)`, a stream of
//! their own, so generating data never shifts the weight initialisation drawn from the same
//! seed. `xor-table` and `digits` are fixed and ignore every option.

use crate::{classic, digits, playground, DataError, Dataset};
use backprop_tensor::SeededRng;
use std::fmt;
use std::str::FromStr;

/// The ChaCha stream used to generate synthetic data ("data" in ASCII).
pub const DATA_GENERATION_STREAM: u64 = 0x6461_7461;
/// The fewest samples a generator accepts.
pub const MIN_SAMPLES: usize = 10;
/// The most samples a generator accepts (ten million).
pub const MAX_SAMPLES: usize = 10_000_000;
/// The largest accepted noise. The playground's range is 0.0–0.5 (its slider's 0–50 %).
pub const MAX_NOISE: f64 = 1.0;

/// How to generate a synthetic set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenerateOptions {
    /// Number of rows (at least [`MIN_SAMPLES`]); 500 by default, like the playground.
    pub samples: usize,
    /// Noise as a fraction, 0.0 (default) to 0.5 for the playground sets (its 0–50 %, divided
    /// by 100); for `moons` it is the standard deviation of the Gaussian noise, as in
    /// scikit-learn. Values up to [`MAX_NOISE`] are accepted.
    pub noise: f64,
    /// The seed (0 by default).
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            samples: 500,
            noise: 0.0,
            seed: 0,
        }
    }
}

/// A built-in data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltIn {
    /// The 4-row XOR truth table.
    XorTable,
    /// Playground: a disc (class 1) inside a ring (class 0).
    Circle,
    /// Playground: the four quadrants, class 1 where x·y ≥ 0.
    Xor,
    /// Playground: two Gaussian clusters.
    Gaussian,
    /// Playground: two interleaved spirals.
    Spiral,
    /// scikit-learn: two interleaving half-circles.
    Moons,
    /// Playground regression: a tilted plane.
    Plane,
    /// Playground regression: six signed bumps.
    MultiGaussian,
    /// The real 8×8 handwritten digits (1797 rows, 10 classes).
    Digits,
}

impl BuiltIn {
    /// Every built-in set, in the order of the help text.
    pub const ALL: [BuiltIn; 9] = [
        BuiltIn::Digits,
        BuiltIn::XorTable,
        BuiltIn::Circle,
        BuiltIn::Xor,
        BuiltIn::Gaussian,
        BuiltIn::Spiral,
        BuiltIn::Moons,
        BuiltIn::Plane,
        BuiltIn::MultiGaussian,
    ];

    /// The name used on the command line, e.g. `"multi-gaussian"`.
    pub fn name(&self) -> &'static str {
        match self {
            BuiltIn::XorTable => "xor-table",
            BuiltIn::Circle => "circle",
            BuiltIn::Xor => "xor",
            BuiltIn::Gaussian => "gaussian",
            BuiltIn::Spiral => "spiral",
            BuiltIn::Moons => "moons",
            BuiltIn::Plane => "plane",
            BuiltIn::MultiGaussian => "multi-gaussian",
            BuiltIn::Digits => "digits",
        }
    }

    /// True for the class-labelled sets, false for `plane` and `multi-gaussian`.
    pub fn is_classification(&self) -> bool {
        !matches!(self, BuiltIn::Plane | BuiltIn::MultiGaussian)
    }

    /// True when `samples`, `noise` and `seed` change the data (all but `xor-table`, `digits`).
    pub fn is_generated(&self) -> bool {
        !matches!(self, BuiltIn::XorTable | BuiltIn::Digits)
    }

    /// Makes the data set; checks `samples` and `noise` for the generated sets.
    pub fn load(&self, options: &GenerateOptions) -> Result<Dataset, DataError> {
        type Generator = fn(usize, f64, &mut SeededRng) -> Dataset;
        let generate: Generator = match self {
            BuiltIn::XorTable => return Ok(classic::xor_table()),
            BuiltIn::Digits => return digits::digits(),
            BuiltIn::Circle => playground::circle,
            BuiltIn::Xor => playground::xor,
            BuiltIn::Gaussian => playground::gaussian,
            BuiltIn::Spiral => playground::spiral,
            BuiltIn::Moons => classic::moons,
            BuiltIn::Plane => playground::plane,
            BuiltIn::MultiGaussian => playground::multi_gaussian,
        };
        validate(self.name(), options)?;
        let mut rng = SeededRng::with_stream(options.seed, DATA_GENERATION_STREAM);
        Ok(generate(options.samples, options.noise, &mut rng))
    }
}

fn validate(name: &str, options: &GenerateOptions) -> Result<(), DataError> {
    if options.samples < MIN_SAMPLES {
        return Err(DataError::TooFewSamples {
            dataset: name.into(),
            requested: options.samples,
            minimum: MIN_SAMPLES,
        });
    }
    if options.samples > MAX_SAMPLES {
        return Err(DataError::TooManySamples {
            dataset: name.into(),
            requested: options.samples,
            maximum: MAX_SAMPLES,
        });
    }
    // `contains` is false for NaN, so NaN is rejected too.
    if !(0.0..=MAX_NOISE).contains(&options.noise) {
        return Err(DataError::InvalidNoise {
            noise: options.noise,
            maximum: MAX_NOISE,
        });
    }
    Ok(())
}

impl fmt::Display for BuiltIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BuiltIn {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self, DataError> {
        BuiltIn::ALL
            .into_iter()
            .find(|builtin| builtin.name() == name)
            .ok_or_else(|| DataError::UnknownBuiltIn {
                name: name.into(),
                expected: BuiltIn::ALL.map(|b| b.name()).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(samples: usize, noise: f64, seed: u64) -> GenerateOptions {
        GenerateOptions {
            samples,
            noise,
            seed,
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for builtin in BuiltIn::ALL {
            assert_eq!(builtin.name().parse::<BuiltIn>(), Ok(builtin));
            assert_eq!(builtin.to_string(), builtin.name());
        }
        let message = "circles".parse::<BuiltIn>().unwrap_err().to_string();
        assert!(message.contains("\"circles\""), "{message}");
        assert!(message.contains("multi-gaussian"), "{message}");
    }

    #[test]
    fn every_set_loads_with_the_advertised_task() {
        for builtin in BuiltIn::ALL {
            let data = builtin.load(&options(60, 0.1, 3)).unwrap();
            assert_eq!(data.is_classification(), builtin.is_classification());
            assert_eq!(data.name, builtin.name());
            if builtin.is_generated() {
                assert_eq!(data.len(), 60);
                assert_eq!(data.n_features(), 2);
                assert!(data.features.all_finite());
            }
        }
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_data() {
        for builtin in BuiltIn::ALL.into_iter().filter(BuiltIn::is_generated) {
            let a = builtin.load(&options(200, 0.2, 9)).unwrap();
            let b = builtin.load(&options(200, 0.2, 9)).unwrap();
            let c = builtin.load(&options(200, 0.2, 10)).unwrap();
            let bits = |d: &Dataset| -> Vec<u32> {
                let mut bits: Vec<u32> =
                    d.features.as_slice().iter().map(|v| v.to_bits()).collect();
                let targets = d.targets_matrix::<f32>();
                bits.extend(targets.as_slice().iter().map(|v| v.to_bits()));
                bits
            };
            assert_eq!(bits(&a), bits(&b), "{builtin}");
            assert_ne!(a.features, c.features, "{builtin}");
        }
    }

    #[test]
    fn generation_uses_its_own_stream() {
        let data = BuiltIn::Gaussian.load(&options(10, 0.0, 4)).unwrap();
        let mut rng = SeededRng::new(4);
        let from_default_stream = playground::gaussian(10, 0.0, &mut rng);
        assert_ne!(data.features, from_default_stream.features);
        let mut rng = SeededRng::with_stream(4, DATA_GENERATION_STREAM);
        assert_eq!(data, playground::gaussian(10, 0.0, &mut rng));
    }

    #[test]
    fn bad_options_are_clear_errors() {
        let message = |o| BuiltIn::Circle.load(&o).unwrap_err().to_string();
        assert_eq!(
            message(options(9, 0.0, 0)),
            "circle: 9 samples requested, at least 10 are needed"
        );
        assert!(message(options(MAX_SAMPLES + 1, 0.0, 0)).contains("at most"));
        assert_eq!(
            message(options(100, -0.1, 0)),
            "noise must be a finite fraction between 0 and 1 (0.5 is the playground's 50 %), got -0.1"
        );
        assert!(message(options(100, f64::NAN, 0)).contains("got NaN"));
        assert!(message(options(100, 30.0, 0)).contains("got 30"));
        assert!(message(options(100, f64::INFINITY, 0)).contains("got inf"));
        // Fixed sets ignore the options.
        assert_eq!(
            BuiltIn::XorTable.load(&options(0, -1.0, 0)).unwrap().len(),
            4
        );
    }

    #[test]
    fn defaults_follow_the_playground() {
        let defaults = GenerateOptions::default();
        assert_eq!((defaults.samples, defaults.noise), (500, 0.0));
        assert_eq!(BuiltIn::Spiral.load(&defaults).unwrap().len(), 500);
    }
}
