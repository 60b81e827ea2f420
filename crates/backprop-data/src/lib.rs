//! # backprop-data
//!
//! Data for `backprop`: a [`Dataset`] (features X, one example per row, and class labels or
//! regression values), the built-in sets ([`BuiltIn`]: TensorFlow Playground's 2-D generators,
//! scikit-learn's moons, the XOR truth table and the real 8×8 [`digits`]), seeded stratified
//! splits ([`train_test_split`]), scaling fitted on the training part
//! (standard x′ = (x − μ)/σ, min-max x′ = (x − min)/(max − min); [`Scaler`], [`TargetScaler`]),
//! CSV ([`csv_file`]) and IDX ([`idx`]) files, and the tabular preprocessing every front end
//! shares ([`tabular`]: cell rules, one-hot and target encoding, missing values, reading a
//! CSV for a trained model, aligning data to a model's columns).
//!
//! Downloading MNIST and Fashion-MNIST ([`mod@download`]) needs the cargo feature `download`
//! (off by default; the command line turns it on); without it the crate never touches the
//! network.
//!
//! Every random step draws from its own ChaCha stream of the one user seed (data generation,
//! test split, validation split), so none of them shifts another or the weight initialisation.
//!
//! ```
//! use backprop_data::{train_test_split, BuiltIn, GenerateOptions, ScalerKind};
//!
//! let options = GenerateOptions { samples: 200, noise: 0.1, seed: 42 };
//! let data = BuiltIn::Spiral.load(&options).unwrap();
//! assert_eq!((data.len(), data.n_features(), data.n_classes()), (200, 2, Some(2)));
//!
//! let (train, test) = train_test_split(&data, 0.25, 42, true).unwrap();
//! assert_eq!((train.len(), test.len()), (150, 50));
//! assert_eq!(test.class_counts(), Some(vec![25, 25]));
//!
//! let scaler = ScalerKind::Standard.fit(&train.features);
//! let x = scaler.transform(&train.features);
//! let mean: f32 = x.as_slice().iter().step_by(2).sum::<f32>() / 150.0;
//! assert!(mean.abs() < 1e-6);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod augment;
mod builtin;
mod classic;
pub mod content_hash;
pub mod csv_file;
mod dataset;
mod digits;
pub mod download;
mod error;
pub mod idx;
pub mod idx_cache;
pub mod mnist;
mod playground;
mod scale;
pub mod spec;
mod split;
mod statistics;
pub mod tabular;
mod target_scale;

pub use builtin::{
    BuiltIn, GenerateOptions, DATA_GENERATION_STREAM, MAX_NOISE, MAX_SAMPLES, MIN_SAMPLES,
};
pub use classic::xor_table;
pub use csv_file::{
    load_csv, parse_csv, CsvError, CsvOptions, FeatureSpec, FillValue, MissingFill, MissingPolicy,
    TargetColumn, TaskHint,
};
pub use dataset::{one_hot, CategoricalColumn, Dataset, Targets};
pub use digits::{digits, DIGITS_PIXELS, DIGITS_ROWS};
#[cfg(feature = "download")]
pub use download::{download, download_files, DownloadOptions};
pub use download::{verify_file, RemoteDataset, RemoteFile};
pub use error::DataError;
pub use idx::{images_and_labels, images_and_labels_hashed, parse_idx, read_idx_file, IdxArray};
pub use mnist::load_mnist_dir;
pub use scale::{Scaler, ScalerKind};
pub use spec::{DataSpec, DataSpecError};
pub use split::{
    split, split_indices, train_test_split, train_validation_split, SplitPurpose,
    MIN_ROWS_TO_SPLIT, TEST_SPLIT_STREAM, VALIDATION_SPLIT_STREAM,
};
pub use target_scale::TargetScaler;
