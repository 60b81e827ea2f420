//! What a trained model reads and predicts, said in the data's terms: the front ends build a
//! [`ModelColumns`] from a model file's metadata, and the rest of [`super`] needs nothing else
//! of the model.

use crate::csv_file::{feature_specs, CsvError, FeatureSpec};
use crate::CategoricalColumn;

/// What a model predicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelOutputs {
    /// Classification: the class names in output order (`"0"`, `"1"`, … when the model stores
    /// none; two names for a single sigmoid unit).
    Classes(Vec<String>),
    /// Regression: this many values per row, in the targets' units.
    Values(usize),
}

impl ModelOutputs {
    /// `"classification"` or `"regression"`, as model files and messages say it.
    pub fn task_name(&self) -> &'static str {
        match self {
            ModelOutputs::Classes(_) => "classification",
            ModelOutputs::Values(_) => "regression",
        }
    }
}

/// A model's input columns and outputs, as training encoded them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelColumns {
    /// The input features in order; a one-hot feature is named `{column}={category}`.
    pub feature_names: Vec<String>,
    /// The categorical columns and the categories seen in training.
    pub categorical: Vec<CategoricalColumn>,
    /// What the model predicts.
    pub outputs: ModelOutputs,
}

impl ModelColumns {
    /// The input columns a CSV file must have, matched by name ([`feature_specs`]).
    pub fn feature_specs(&self) -> Result<Vec<FeatureSpec>, CsvError> {
        feature_specs(&self.feature_names, &self.categorical)
    }

    /// True when `name` is the one-hot feature of a category of one of the model's categorical
    /// columns.
    pub fn is_one_hot_feature(&self, name: &str) -> bool {
        self.categorical.iter().any(|column| {
            name.strip_prefix(column.name.as_str())
                .and_then(|rest| rest.strip_prefix('='))
                .is_some_and(|category| column.categories.iter().any(|known| known == category))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_features_are_recognised_by_column_and_category() {
        let columns = ModelColumns {
            feature_names: vec!["x".into(), "c=a".into(), "c=b".into()],
            categorical: vec![CategoricalColumn {
                name: "c".into(),
                categories: vec!["a".into(), "b".into()],
            }],
            outputs: ModelOutputs::Values(1),
        };
        assert!(columns.is_one_hot_feature("c=b"));
        assert!(!columns.is_one_hot_feature("c=z") && !columns.is_one_hot_feature("x"));
        assert_eq!(columns.feature_specs().unwrap().len(), 2);
        assert_eq!(columns.outputs.task_name(), "regression");
    }
}
