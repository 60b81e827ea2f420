//! Machine-readable output: the per-epoch JSON object (for `--log` lines and the history)
//! and the one JSON object `--json` prints on stdout at the end.
//!
//! Fractions are in [0, 1]. Non-finite numbers become `null`.

use crate::report::Outcome;
use backprop::train::{EpochRecord, Metrics, Task};
use serde_json::{json, Map, Value};

/// Inserts `{prefix}loss` and `{prefix}accuracy` or `{prefix}r2`.
fn insert_metrics(object: &mut Map<String, Value>, metrics: &Metrics, prefix: &str) {
    object.insert(format!("{prefix}loss"), json!(metrics.loss));
    if let Some(accuracy) = metrics.accuracy {
        object.insert(format!("{prefix}accuracy"), json!(accuracy));
    }
    if let Some(r2) = metrics.r2 {
        object.insert(format!("{prefix}r2"), json!(r2));
    }
}

/// One epoch: `epoch`, `loss`, `accuracy` or `r2`, `val_…`, `learning_rate`, `step`, `seconds`.
///
/// Regression losses are in standardised units; the training MAE is left out because it
/// would be too (R² does not depend on the units).
pub fn epoch_json(record: &EpochRecord) -> Value {
    let mut object = Map::new();
    object.insert("epoch".into(), json!(record.epoch));
    insert_metrics(&mut object, &record.train, "");
    if let Some(validation) = &record.validation {
        insert_metrics(&mut object, validation, "val_");
    }
    object.insert("learning_rate".into(), json!(record.learning_rate));
    object.insert("step".into(), json!(record.step));
    object.insert("seconds".into(), json!(record.seconds));
    Value::Object(object)
}

/// The final network's `{prefix}loss`, `accuracy`, `mae` and `r2` (MAE and R² in the
/// targets' units).
fn insert_final_metrics(object: &mut Map<String, Value>, metrics: &Metrics, prefix: &str) {
    object.insert(format!("{prefix}loss"), json!(metrics.loss));
    for (name, value) in [
        ("accuracy", metrics.accuracy),
        ("mae", metrics.mae),
        ("r2", metrics.r2),
    ] {
        if let Some(value) = value {
            object.insert(format!("{prefix}{name}"), json!(value));
        }
    }
}

/// The task's name in JSON.
fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classification => "classification",
        Task::Regression => "regression",
    }
}

/// The object `--json` prints.
pub fn summary_json(outcome: &Outcome<'_>) -> Value {
    let plan = outcome.plan;
    let data = outcome.data;
    let history = outcome.history;
    let mut object = Map::new();
    object.insert("command".into(), json!("train"));
    object.insert("dataset".into(), json!(data.name));
    object.insert("task".into(), json!(task_name(data.task)));
    object.insert("data".into(), json!(plan.spec));
    object.insert("preset".into(), json!(plan.preset.name));
    object.insert(
        "rows".into(),
        json!({
            "train": data.train.rows(),
            "validation": data.validation.as_ref().map_or(0, |part| part.rows()),
            "test": data.test.rows(),
        }),
    );
    object.insert("test_is_training_data".into(), json!(data.test_is_training));
    object.insert("layer_sizes".into(), json!(outcome.config.sizes));
    object.insert(
        "architecture".into(),
        json!(crate::report::format_architecture(outcome.config)),
    );
    object.insert(
        "activation".into(),
        json!(outcome.hidden_activation().map(|a| a.to_string())),
    );
    object.insert(
        "output_activation".into(),
        json!(outcome.output_activation().to_string()),
    );
    object.insert("cost".into(), json!(outcome.config.cost.to_string()));
    if plan.lbfgs.is_some() {
        object.insert("optimizer".into(), json!("lbfgs"));
        object.insert("learning_rate".into(), serde_json::Value::Null);
    } else {
        object.insert("optimizer".into(), json!(plan.optimizer.name()));
        object.insert(
            "learning_rate".into(),
            json!(plan.optimizer.learning_rate()),
        );
    }
    object.insert("batch_size".into(), json!(outcome.batch_size));
    object.insert("seed".into(), json!(plan.seed));
    object.insert("epochs".into(), json!(plan.epochs));
    object.insert("epochs_run".into(), json!(history.epochs.len()));
    object.insert("best_epoch".into(), json!(history.best_epoch));
    object.insert("stopped_early".into(), json!(history.stopped_early));
    insert_final_metrics(&mut object, &outcome.train, "train_");
    if let Some(validation) = &outcome.validation {
        insert_final_metrics(&mut object, validation, "validation_");
    }
    insert_final_metrics(&mut object, &outcome.test, "test_");
    object.insert(
        "model".into(),
        json!(plan.output.model.display().to_string()),
    );
    object.insert(
        "parameters".into(),
        json!(outcome
            .config
            .sizes
            .windows(2)
            .map(|pair| pair[0] * pair[1] + pair[1])
            .sum::<usize>()),
    );
    object.insert("seconds".into(), json!(outcome.seconds));
    object.insert(
        "samples_per_second".into(),
        json!(outcome.samples_per_second),
    );
    object.insert(
        "history".into(),
        Value::Array(history.epochs.iter().map(epoch_json).collect()),
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_objects_use_validation_prefixes_and_null_for_nan() {
        let record = EpochRecord {
            epoch: 2,
            train: Metrics {
                loss: f64::NAN,
                r2: Some(0.5),
                ..Metrics::default()
            },
            validation: Some(Metrics {
                loss: 0.25,
                r2: Some(0.75),
                ..Metrics::default()
            }),
            learning_rate: 0.01,
            step: 8,
            seconds: 0.1,
        };
        let value = epoch_json(&record);
        assert_eq!(value["epoch"], 2);
        assert!(value["loss"].is_null());
        assert_eq!(value["val_r2"], 0.75);
        assert!(value.get("accuracy").is_none());
    }
}
