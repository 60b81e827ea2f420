//! From a [`Table`] to a [`Dataset`], in three passes over the same text: (1) which rows are
//! kept, and what each column holds (numbers or strings, means, the first bad cell); (2) the
//! categories of string columns and the class names; (3) the feature matrix and the targets,
//! allocated from the counts of rows actually read.

use super::columns::{
    class_key, feature_kind, resolve_target, target_kind, ColumnStats, FeatureKind, IntegerTargets,
    TargetKind,
};
use super::error::CsvError;
use super::text::Table;
use super::{
    CsvOptions, CsvSummary, FillValue, MissingFill, MissingPolicy, TargetColumn, TaskHint,
    MAX_CLASSES, MAX_FEATURES,
};
use crate::tabular::cells::{is_missing, Number};
use crate::{CategoricalColumn, DataError, Dataset, Targets};
use backprop_tensor::Matrix;
use csv::StringRecord;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The feature matrix may take this many times the decompressed input…
const MATRIX_BYTES_PER_INPUT_BYTE: usize = 32;
/// …or this many bytes, whichever is larger.
const MATRIX_BYTES_FLOOR: usize = 256 << 20;

/// Refuses a `rows × columns` matrix of `f32` larger than 32 times the decompressed input (or
/// 256 MiB, whichever is larger): one-hot encoding must not turn a small file into a huge matrix.
pub(crate) fn check_matrix_size(
    file: &str,
    rows: usize,
    columns: usize,
    input_bytes: usize,
) -> Result<(), CsvError> {
    let bytes = rows.saturating_mul(columns).saturating_mul(4);
    let limit = input_bytes
        .saturating_mul(MATRIX_BYTES_PER_INPUT_BYTE)
        .max(MATRIX_BYTES_FLOOR);
    if bytes > limit {
        return Err(CsvError::TooLarge {
            file: file.to_string(),
            rows,
            columns,
            bytes,
            limit,
        });
    }
    Ok(())
}

/// A string column is named in a warning when it has at least this many distinct values…
const DISTINCT_WARNING_MINIMUM: usize = 20;
/// …and at least this share of its non-missing cells are distinct values.
const DISTINCT_WARNING_SHARE: f64 = 0.5;

/// Which columns are features: all but the target, or those `--features` names, less those
/// `--ignore` names. Naming the target, or an unknown column, is an error.
fn feature_columns(
    table: &Table,
    target: usize,
    options: &CsvOptions,
) -> Result<Vec<bool>, CsvError> {
    let width = table.names.len();
    let resolve = |flag: &'static str, column: &TargetColumn| -> Result<usize, CsvError> {
        let unknown = |name: String| CsvError::UnknownColumn {
            file: table.file.to_string(),
            flag,
            name,
            columns: table.list_names(),
        };
        match column {
            TargetColumn::Name(name) => table
                .names
                .iter()
                .position(|candidate| candidate == name)
                .ok_or_else(|| unknown(name.clone())),
            &TargetColumn::Index(index) if index < width => Ok(index),
            &TargetColumn::Index(index) => table
                .names
                .iter()
                .position(|candidate| *candidate == index.to_string())
                .ok_or_else(|| unknown(index.to_string())),
        }
    };
    let choice = |message: String| CsvError::ColumnChoice {
        file: table.file.to_string(),
        message,
    };
    let mut used: Vec<bool> = (0..width).map(|column| column != target).collect();
    if let Some(features) = &options.features {
        used = vec![false; width];
        for column in features {
            let index = resolve("--features", column)?;
            if index == target {
                return Err(choice(format!(
                    "--features names the target column {:?}; it cannot also be a feature",
                    table.name(index)
                )));
            }
            used[index] = true;
        }
    }
    for column in &options.ignore {
        let index = resolve("--ignore", column)?;
        if index == target {
            return Err(choice(format!(
                "--ignore names the target column {:?}; choose the target with --target",
                table.name(index)
            )));
        }
        used[index] = false;
    }
    if !used.contains(&true) {
        return Err(choice(
            "--features and --ignore leave no feature column".to_string(),
        ));
    }
    Ok(used)
}

/// Whether a row is used: the policy decides, and `error` fails on the first missing cell of a
/// column that is read (the target and the features).
fn keep_row(
    table: &Table,
    line: u64,
    record: &StringRecord,
    (target, used): (usize, &[bool]),
    policy: MissingPolicy,
) -> Result<bool, CsvError> {
    let first_missing = || {
        record
            .iter()
            .enumerate()
            .find(|&(column, cell)| {
                (column == target || used.get(column).copied().unwrap_or(false)) && is_missing(cell)
            })
            .map(|(column, _)| column)
    };
    match policy {
        MissingPolicy::Error => match first_missing() {
            Some(column) => Err(table.missing(line, column)),
            None => Ok(true),
        },
        MissingPolicy::Drop => Ok(first_missing().is_none()),
        MissingPolicy::Mean => Ok(!record.get(target).is_some_and(is_missing)),
    }
}

/// Loads the table as a data set.
pub(crate) fn load(
    table: &Table,
    options: &CsvOptions,
    input_bytes: usize,
) -> Result<(Dataset, CsvSummary), DataError> {
    let target = resolve_target(table, options.target.as_ref())?;
    let width = table.names.len();
    let policy = options.missing;
    let used = feature_columns(table, target, options)?;
    let read = (target, used.as_slice());

    // Pass 1: kept rows and column statistics.
    let mut stats = vec![ColumnStats::default(); width];
    let mut integers = IntegerTargets::new();
    let mut kept = 0usize;
    let rows_read = table.for_each_row(|line, record| {
        if !keep_row(table, line, record, read, policy)? {
            return Ok(());
        }
        kept += 1;
        for (column, cell) in record.iter().enumerate() {
            if is_missing(cell) || !(column == target || used.get(column).copied().unwrap_or(false))
            {
                continue;
            }
            if let Some(column_stats) = stats.get_mut(column) {
                column_stats.add(line, cell, table.number(cell));
            }
            if column == target {
                integers.add(cell);
            }
        }
        Ok(())
    })?;
    let file = table.file.to_string();
    if rows_read == 0 {
        return Err(CsvError::HeaderOnly { file }.into());
    }
    if kept == 0 {
        return Err(CsvError::AllRowsDropped {
            file,
            rows: rows_read,
        }
        .into());
    }

    // Column types, and the first error in file order.
    let mut errors: Vec<(u64, usize, CsvError)> = Vec::new();
    let mut kinds: Vec<Option<FeatureKind>> = vec![None; width];
    for (column, column_stats) in stats.iter().enumerate() {
        if column != target && used[column] {
            match feature_kind(table, column, column_stats) {
                Ok(kind) => kinds[column] = Some(kind),
                Err((line, error)) => errors.push((line, column, error)),
            }
        }
    }
    let target_stats = stats.get(target).cloned().unwrap_or_default();
    let target_kind = target_kind(table, target, &target_stats, &integers, options.task)
        .unwrap_or_else(|(line, error)| {
            errors.push((line, target, error));
            TargetKind::Values
        });
    if let Some((_, _, error)) = errors
        .into_iter()
        .min_by_key(|(line, column, _)| (*line, *column))
    {
        return Err(error.into());
    }

    // Pass 2: categories and class names.
    let classes = collect_categories(table, read, target_kind, policy, &mut kinds)?;

    // What fills missing cells, and string columns that look like IDs, dates or free text.
    let mut missing_fills = Vec::new();
    let mut warnings = Vec::new();
    for (column, kind) in kinds.iter().enumerate() {
        let value = match kind {
            Some(FeatureKind::Numeric { mean }) => FillValue::Number(*mean),
            Some(FeatureKind::Categorical { categories, mode }) => {
                let present = stats[column].present();
                let distinct = categories.len();
                if distinct >= DISTINCT_WARNING_MINIMUM
                    && distinct as f64 >= DISTINCT_WARNING_SHARE * present as f64
                {
                    warnings.push(format!(
                        "{}: column {:?} holds {distinct} distinct strings in {present} cells \
                         (an ID, a date or free text?) and becomes {distinct} one-hot inputs; \
                         leave it out with --ignore {:?} if it does not describe the rows",
                        table.file,
                        table.name(column),
                        table.name(column)
                    ));
                }
                FillValue::Category(categories.get(*mode).cloned().unwrap_or_default())
            }
            None => continue,
        };
        if policy == MissingPolicy::Mean {
            missing_fills.push(MissingFill {
                column: table.name(column),
                value,
            });
        }
    }

    // Names, sizes and limits.
    let mut feature_names = Vec::new();
    let mut categories = Vec::new();
    for (column, kind) in kinds.iter().enumerate() {
        match kind {
            Some(FeatureKind::Numeric { .. }) => feature_names.push(table.name(column)),
            Some(FeatureKind::Categorical {
                categories: values, ..
            }) => {
                let name = table.name(column);
                feature_names.extend(values.iter().map(|value| format!("{name}={value}")));
                categories.push(CategoricalColumn {
                    name,
                    categories: values.clone(),
                });
            }
            None => {}
        }
    }
    let mut seen = HashSet::with_capacity(feature_names.len());
    if let Some(name) = feature_names
        .iter()
        .find(|name| !seen.insert(name.as_str()))
    {
        return Err(CsvError::DuplicateColumn {
            file,
            name: name.clone(),
            after: " after one-hot encoding",
        }
        .into());
    }
    let columns = feature_names.len();
    check_matrix_size(table.file, kept, columns, input_bytes)?;

    // Pass 3: the matrix and the targets.
    let mut features: Vec<f32> = Vec::with_capacity(kept * columns);
    let mut labels: Vec<usize> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    match target_kind {
        TargetKind::Values => values.reserve(kept),
        _ => labels.reserve(kept),
    }
    let mut cells_filled = 0usize;
    table.for_each_row(|line, record| {
        if !keep_row(table, line, record, read, policy)? {
            return Ok(());
        }
        for (column, cell) in record.iter().enumerate() {
            if column == target {
                match target_kind {
                    TargetKind::Values => match table.number(cell) {
                        Number::Finite(value) => values.push(value),
                        _ => return Err(table.not_a_number(line, column, cell)),
                    },
                    _ => {
                        let key = class_key(target_kind, cell);
                        match classes.get(key.as_str()) {
                            Some(&label) => labels.push(label),
                            None => return Err(table.not_a_number(line, column, cell)),
                        }
                    }
                }
                continue;
            }
            let missing = is_missing(cell);
            if kinds.get(column).is_some_and(Option::is_some) {
                cells_filled += usize::from(missing);
            }
            match kinds.get(column) {
                Some(Some(FeatureKind::Numeric { mean })) => match table.number(cell) {
                    _ if missing => features.push(*mean),
                    Number::Finite(value) => features.push(value),
                    _ => return Err(table.not_a_number(line, column, cell)),
                },
                Some(Some(FeatureKind::Categorical { categories, mode })) => {
                    let start = features.len();
                    features.resize(start + categories.len(), 0.0);
                    let index = if missing {
                        Some(*mode)
                    } else {
                        categories
                            .binary_search_by(|category| category.as_str().cmp(cell))
                            .ok()
                    };
                    match index.and_then(|index| features.get_mut(start + index)) {
                        Some(slot) => *slot = 1.0,
                        None => return Err(table.not_a_number(line, column, cell)),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })?;

    let features = Matrix::from_vec(kept, columns, features)?;
    let (targets, task) = match target_kind {
        TargetKind::Values => (
            Targets::Values(Matrix::from_vec(kept, 1, values)?),
            TaskHint::Regress,
        ),
        _ => {
            let mut class_names = vec![String::new(); classes.len()];
            for (name, &index) in &classes {
                if let Some(slot) = class_names.get_mut(index) {
                    slot.clone_from(name);
                }
            }
            let targets = Targets::Classes {
                labels,
                class_names,
            };
            (targets, TaskHint::Classify)
        }
    };
    let summary = CsvSummary {
        delimiter: table.delimiter,
        target_name: table.name(target),
        task,
        rows_read,
        rows_dropped: rows_read - kept,
        cells_filled,
        missing_fills,
        warnings,
    };
    let data =
        Dataset::new(table.file, features, feature_names, targets)?.with_categories(categories);
    Ok((data, summary))
}

/// Pass 2: fills in the categories (sorted) and most frequent category of each categorical
/// column, and returns the class names with their indices (empty for regression).
fn collect_categories(
    table: &Table,
    (target, used): (usize, &[bool]),
    target_kind: TargetKind,
    policy: MissingPolicy,
    kinds: &mut [Option<FeatureKind>],
) -> Result<BTreeMap<String, usize>, CsvError> {
    let categorical: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, kind)| matches!(kind, Some(FeatureKind::Categorical { .. })))
        .map(|(column, _)| column)
        .collect();
    let numeric_columns = kinds
        .iter()
        .filter(|kind| matches!(kind, Some(FeatureKind::Numeric { .. })))
        .count();
    if categorical.is_empty() && target_kind == TargetKind::Values {
        return Ok(BTreeMap::new());
    }
    let mut counts: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); categorical.len()];
    let mut encoded_columns = numeric_columns;
    let mut integer_classes: BTreeSet<i64> = BTreeSet::new();
    let mut string_classes: BTreeSet<String> = BTreeSet::new();
    let too_many_classes = || CsvError::TooManyClasses {
        file: table.file.to_string(),
        name: table.name(target),
        limit: MAX_CLASSES,
    };
    table.for_each_row(|line, record| {
        if !keep_row(table, line, record, (target, used), policy)? {
            return Ok(());
        }
        for (slot, &column) in categorical.iter().enumerate() {
            let cell = record.get(column).unwrap_or_default();
            if is_missing(cell) {
                continue;
            }
            let Some(column_counts) = counts.get_mut(slot) else {
                continue;
            };
            if let Some(count) = column_counts.get_mut(cell) {
                *count += 1;
            } else {
                encoded_columns += 1;
                if encoded_columns > MAX_FEATURES {
                    return Err(CsvError::TooManyColumns {
                        file: table.file.to_string(),
                        columns: encoded_columns,
                        after: " after one-hot encoding",
                        limit: MAX_FEATURES,
                    });
                }
                column_counts.insert(cell.to_string(), 1);
            }
        }
        let cell = record.get(target).unwrap_or_default();
        match target_kind {
            TargetKind::Values => {}
            TargetKind::Integers => {
                if let Ok(value) = cell.parse::<i64>() {
                    integer_classes.insert(value);
                }
                if integer_classes.len() > MAX_CLASSES {
                    return Err(too_many_classes());
                }
            }
            TargetKind::Strings { .. } => {
                if !string_classes.contains(cell) {
                    string_classes.insert(cell.to_string());
                }
                if string_classes.len() > MAX_CLASSES {
                    return Err(too_many_classes());
                }
            }
        }
        Ok(())
    })?;
    for (&column, column_counts) in categorical.iter().zip(counts) {
        let mode = column_counts
            .values()
            .enumerate()
            .fold((0, 0), |(best, best_count), (index, &count)| {
                if count > best_count {
                    (index, count)
                } else {
                    (best, best_count)
                }
            })
            .0;
        if let Some(kind) = kinds.get_mut(column) {
            *kind = Some(FeatureKind::Categorical {
                categories: column_counts.into_keys().collect(),
                mode,
            });
        }
    }
    let names: Vec<String> = match target_kind {
        TargetKind::Values => Vec::new(),
        TargetKind::Integers => integer_classes.iter().map(i64::to_string).collect(),
        TargetKind::Strings { numeric_order } => {
            let mut names: Vec<String> = string_classes.into_iter().collect();
            if numeric_order {
                names.sort_by(|a, b| {
                    let number = |text: &str| text.parse::<f64>().unwrap_or(f64::NAN);
                    number(a).total_cmp(&number(b)).then_with(|| a.cmp(b))
                });
            }
            names
        }
    };
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(index, name)| (name, index))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_file::{parse_csv, TargetColumn};

    fn load_text(text: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
        parse_csv(text.as_bytes(), "t.csv", options)
    }

    #[test]
    fn matrix_size_is_bounded_by_the_input() {
        assert!(check_matrix_size("t.csv", 1000, 1000, 1000).is_ok());
        let error = check_matrix_size("t.csv", 1 << 20, 1 << 10, 1 << 20).unwrap_err();
        assert!(matches!(error, CsvError::TooLarge { .. }), "{error}");
        assert!(check_matrix_size("t.csv", usize::MAX, usize::MAX, 1).is_err());
    }

    #[test]
    fn the_earliest_bad_cell_is_reported() {
        let text = "a,b,y\n1,2,0\n1,x,0\n2,3,0\ninf,4,0\n";
        let error = load_text(text, &CsvOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "t.csv:3:2 (column \"b\"): expected a number, found \"x\""
        );
    }

    #[test]
    fn ties_for_the_most_frequent_category_go_to_the_first() {
        let options = CsvOptions {
            missing: MissingPolicy::Mean,
            ..CsvOptions::default()
        };
        let data = load_text("c,y\nv,0\nu,1\n,0\n", &options).unwrap();
        assert_eq!(data.feature_names, ["c=u", "c=v"]);
        assert_eq!(data.features.row(2), &[1.0, 0.0]);
    }

    #[test]
    fn too_many_classes_is_refused() {
        let mut text = String::from("x,y\n");
        for i in 0..=MAX_CLASSES {
            text.push_str(&format!("1,label{i}\n"));
        }
        let error = load_text(&text, &CsvOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "t.csv: target column \"y\" has more than 10000 distinct labels; for a numeric target use --task regress"
        );
    }

    #[test]
    fn summary_reports_what_happened() {
        let options = CsvOptions {
            target: Some(TargetColumn::Index(0)),
            missing: MissingPolicy::Drop,
            ..CsvOptions::default()
        };
        let (data, summary) = crate::csv_file::parse_csv_with_summary(
            b"y;x\n1;2\nNA;3\n2;?\n3;4\n",
            "t.csv",
            &options,
        )
        .unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(
            summary,
            CsvSummary {
                delimiter: b';',
                target_name: "y".into(),
                task: TaskHint::Classify,
                rows_read: 4,
                rows_dropped: 2,
                cells_filled: 0,
                missing_fills: Vec::new(),
                warnings: Vec::new(),
            }
        );
    }
}
