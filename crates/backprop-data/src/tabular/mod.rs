//! Tabular preprocessing: turning a table of text cells into the numbers a network reads, and
//! back into a trained model's terms, the same way in every front end (the command line, the
//! playground, the Python package).
//!
//! A table has named columns; one or more are targets, the rest features. Preprocessing is
//! what happens between the cells and the network's matrices, and what a model file must
//! remember of it so that prediction repeats it exactly:
//!
//! - **Cells** ([`cells`]): how text is read — the delimiter, trimming, the markers of a
//!   missing cell, numbers (with a decimal comma in `;`-separated files). One set of rules, used
//!   by the training loader ([`crate::csv_file`]) and the streamed reader alike.
//! - **Feature encoding.** A numeric column is one feature; a text column is one-hot encoded
//!   into one feature per category, `{column}={category}`, categories sorted
//!   ([`crate::csv_file`] decides which is which while loading; [`FeatureSpec`] records it).
//! - **Missing values.** An error by default, or rows dropped, or cells filled with the
//!   training column's mean (the most frequent category) ([`crate::MissingPolicy`]).
//! - **Scaling.** Standard or min-max, fitted on the training part only ([`crate::Scaler`],
//!   [`crate::TargetScaler`]), kept as `x′ = (x − center)/scale` ([`crate::Scaler::affine`]).
//! - **Target encoding.** One-hot rows, 0/1 labels for a single sigmoid output, or values
//!   ([`training_targets`], [`labels_as_values`]); for a trained model, labels matched to its
//!   classes by name ([`TargetEncoder`]).
//! - **Aligning to a model.** A model is described by its [`ModelColumns`] (input features,
//!   categories, classes or number of values). A new CSV is matched to them by column name and
//!   streamed in chunks ([`ModelInputStream`]); a loaded data set is re-expressed in the
//!   model's features and classes ([`align_to_model`]).
//!
//! Every failure is a [`TabularError`] naming the input and, where there is one, the line, the
//! column and the value.
//!
//! ```
//! use backprop_data::csv_file::FeatureSpec;
//! use backprop_data::tabular::{ModelInputStream, ModelOutputs, TargetEncoder};
//! use backprop_data::TargetColumn;
//!
//! let specs = [
//!     FeatureSpec::Numeric { name: "size".into() },
//!     FeatureSpec::Categorical { name: "colour".into(), categories: vec!["blue".into(), "red".into()] },
//! ];
//! let csv = "kind;colour;size\na;red;1,5\nb;blue;2\n";
//! let mut input = ModelInputStream::from_reader(Box::new(csv.as_bytes()), "fruit.csv".into(), &specs)?;
//! input.set_targets(&[TargetColumn::Name("kind".into())])?;
//! let chunk = input.next_chunk(100)?.unwrap();
//! assert_eq!(chunk.features.as_slice(), &[1.5, 0.0, 1.0, 2.0, 1.0, 0.0]);
//! assert_eq!(chunk.lines, [2, 3]);
//!
//! let encoder = TargetEncoder::new(&ModelOutputs::Classes(vec!["a".into(), "b".into()]));
//! let targets = encoder.encode_cells(&chunk.targets, &chunk.lines, &input.target_names(), input.file())?;
//! assert_eq!(targets, backprop_data::tabular::ModelTargets::Classes(vec![0, 1]));
//! # Ok::<(), backprop_data::tabular::TabularError>(())
//! ```

mod align;
pub mod cells;
mod error;
mod input_stream;
mod model;
mod stream;
mod targets;

pub use crate::csv_file::FeatureSpec;
pub use align::align_to_model;
pub use cells::MAX_COLUMNS;
pub use error::{list_names, TabularError};
pub use input_stream::{InputChunk, ModelInputStream, CHUNK_ROWS};
pub use model::{ModelColumns, ModelOutputs};
pub use targets::{labels_as_values, training_targets, ModelTargets, TargetEncoder};
