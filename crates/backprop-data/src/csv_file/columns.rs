//! What each column holds: pass 1's statistics per column, and the decisions taken from them
//! (numeric or categorical features; regression values, integer or string class labels).

use super::error::CsvError;
use super::text::Table;
use super::{TargetColumn, TaskHint, MAX_INFERRED_INTEGER_CLASSES};
use crate::tabular::cells::Number;
use std::collections::BTreeSet;

/// What pass 1 learns about one column, from the kept rows' non-missing cells.
#[derive(Clone, Debug, Default)]
pub(crate) struct ColumnStats {
    /// Cells that read as numbers, finite or not.
    numeric: usize,
    /// Cells that do not.
    non_numeric: usize,
    /// Finite numbers, and their sum.
    finite: usize,
    sum: f64,
    /// The first cell that is not a number, and its line.
    first_non_numeric: Option<(u64, String)>,
    /// The first number that is not finite, and its line.
    first_non_finite: Option<(u64, String)>,
}

impl ColumnStats {
    /// Cells that are not missing.
    pub(crate) fn present(&self) -> usize {
        self.numeric + self.non_numeric
    }

    pub(crate) fn add(&mut self, line: u64, cell: &str, number: Number) {
        match number {
            Number::Finite(value) => {
                self.numeric += 1;
                self.finite += 1;
                self.sum += f64::from(value);
            }
            Number::NonFinite => {
                self.numeric += 1;
                self.first_non_finite
                    .get_or_insert_with(|| (line, cell.to_string()));
            }
            Number::Text => {
                self.non_numeric += 1;
                self.first_non_numeric
                    .get_or_insert_with(|| (line, cell.to_string()));
            }
        }
    }

    /// More than half the cells are numbers.
    pub(crate) fn mostly_numeric(&self) -> bool {
        self.numeric > self.non_numeric
    }
}

/// The distinct integer targets, up to one more than the inference limit.
#[derive(Debug)]
pub(crate) struct IntegerTargets {
    all_integer: bool,
    distinct: BTreeSet<i64>,
}

impl IntegerTargets {
    /// No target seen yet.
    pub(crate) fn new() -> Self {
        Self {
            all_integer: true,
            distinct: BTreeSet::new(),
        }
    }

    pub(crate) fn add(&mut self, cell: &str) {
        if !self.all_integer {
            return;
        }
        match cell.parse::<i64>() {
            Ok(value) if self.distinct.len() <= MAX_INFERRED_INTEGER_CLASSES => {
                self.distinct.insert(value);
            }
            Ok(_) => {}
            Err(_) => self.all_integer = false,
        }
    }
}

/// How a feature column is encoded.
#[derive(Clone, Debug)]
pub(crate) enum FeatureKind {
    /// One column of numbers; missing cells (under `mean`) become `mean`.
    Numeric { mean: f32 },
    /// One-hot over `categories` (sorted); missing cells (under `mean`) become `mode`.
    Categorical {
        categories: Vec<String>,
        mode: usize,
    },
}

/// How a feature column is encoded: numeric when all its cells are numbers (and finite, and not
/// all missing), an error at the first non-number when more than half are numbers, else
/// categorical (its categories are collected in pass 2). Errors come with their line.
pub(crate) fn feature_kind(
    table: &Table,
    column: usize,
    stats: &ColumnStats,
) -> Result<FeatureKind, (u64, CsvError)> {
    if stats.non_numeric == 0 {
        if let Some((line, value)) = &stats.first_non_finite {
            return Err((*line, table.not_finite(*line, column, value)));
        }
        if stats.finite == 0 {
            let error = CsvError::NoValues {
                file: table.file.to_string(),
                column: column + 1,
                name: table.name(column),
            };
            return Err((u64::MAX, error));
        }
        let mean = stats.sum / stats.finite as f64;
        Ok(FeatureKind::Numeric { mean: mean as f32 })
    } else if stats.mostly_numeric() {
        let (line, value) = stats.first_non_numeric.clone().unwrap_or_default();
        Err((line, table.not_a_number(line, column, &value)))
    } else {
        Ok(FeatureKind::Categorical {
            categories: Vec::new(),
            mode: 0,
        })
    }
}

/// How the target column is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum TargetKind {
    /// Regression values.
    Values,
    /// Integer class labels, in numeric order.
    Integers,
    /// String class labels: in numeric order when all are numbers, else in byte order.
    Strings { numeric_order: bool },
}

/// The index of the target column.
pub(crate) fn resolve_target(
    table: &Table,
    target: Option<&TargetColumn>,
) -> Result<usize, CsvError> {
    let names = &table.names;
    match target {
        None => Ok(names.len().saturating_sub(1)),
        Some(TargetColumn::Name(name)) => names
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| CsvError::UnknownTarget {
                file: table.file.to_string(),
                name: name.clone(),
                columns: table.list_names(),
            }),
        Some(&TargetColumn::Index(index)) if index < names.len() => Ok(index),
        Some(&TargetColumn::Index(index)) => names
            .iter()
            .position(|column| *column == index.to_string())
            .ok_or_else(|| CsvError::TargetIndexOutOfRange {
                file: table.file.to_string(),
                index,
                columns: names.len(),
                last: names.len().saturating_sub(1),
            }),
    }
}

/// How the target is read: the task given, or inferred (conventions: string targets classify;
/// integer targets with at most 100 distinct values classify; anything else regresses).
pub(crate) fn target_kind(
    table: &Table,
    target: usize,
    stats: &ColumnStats,
    integers: &IntegerTargets,
    task: Option<TaskHint>,
) -> Result<TargetKind, (u64, CsvError)> {
    let all_numeric = stats.non_numeric == 0;
    let not_finite = || {
        stats
            .first_non_finite
            .as_ref()
            .map(|(line, value)| (*line, table.not_finite(*line, target, value)))
    };
    let first_non_numeric = stats.first_non_numeric.clone().unwrap_or_default();
    match task {
        Some(TaskHint::Classify) if all_numeric && integers.all_integer => Ok(TargetKind::Integers),
        Some(TaskHint::Classify) => Ok(TargetKind::Strings {
            numeric_order: all_numeric,
        }),
        _ if all_numeric => match not_finite() {
            Some(error) => Err(error),
            None if task.is_none()
                && integers.all_integer
                && integers.distinct.len() <= MAX_INFERRED_INTEGER_CLASSES =>
            {
                Ok(TargetKind::Integers)
            }
            None => Ok(TargetKind::Values),
        },
        _ if stats.mostly_numeric() => {
            let (line, value) = first_non_numeric;
            Err((line, table.not_a_number(line, target, &value)))
        }
        Some(TaskHint::Regress) => {
            let (line, value) = first_non_numeric;
            let error = CsvError::NonNumericRegressionTarget {
                file: table.file.to_string(),
                line,
                column: target + 1,
                name: table.name(target),
                value,
            };
            Err((line, error))
        }
        None => Ok(TargetKind::Strings {
            numeric_order: false,
        }),
    }
}

/// The key a target cell is looked up by: integers by their canonical form (`+1` and `01` are
/// class `1`), strings as written.
pub(crate) fn class_key(kind: TargetKind, cell: &str) -> String {
    match (kind, cell.parse::<i64>()) {
        (TargetKind::Integers, Ok(value)) => value.to_string(),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &'static str) -> Table<'static> {
        Table::open(text.as_bytes(), "t.csv", true, None).unwrap()
    }

    fn stats_of(table: &Table, cells: &[&str]) -> ColumnStats {
        let mut stats = ColumnStats::default();
        for (line, cell) in cells.iter().enumerate() {
            stats.add(line as u64 + 2, cell, table.number(cell));
        }
        stats
    }

    #[test]
    fn targets_resolve_by_name_index_fallback_and_default() {
        let table = table("a,b,7\n1,2,3\n");
        assert_eq!(resolve_target(&table, None), Ok(2));
        let name = TargetColumn::Name("b".into());
        assert_eq!(resolve_target(&table, Some(&name)), Ok(1));
        assert_eq!(resolve_target(&table, Some(&TargetColumn::Index(0))), Ok(0));
        assert_eq!(resolve_target(&table, Some(&TargetColumn::Index(7))), Ok(2));
        assert!(matches!(
            resolve_target(&table, Some(&TargetColumn::Index(8))),
            Err(CsvError::TargetIndexOutOfRange {
                index: 8,
                columns: 3,
                last: 2,
                ..
            })
        ));
        let unknown = TargetColumn::Name("B".into());
        assert!(matches!(
            resolve_target(&table, Some(&unknown)),
            Err(CsvError::UnknownTarget { .. })
        ));
    }

    #[test]
    fn feature_kinds_follow_the_majority_rule() {
        let table = table("a,b\n1,2\n");
        let numeric = stats_of(&table, &["1", "2", "6"]);
        assert!(matches!(
            feature_kind(&table, 0, &numeric),
            Ok(FeatureKind::Numeric { mean }) if mean == 3.0
        ));
        let mostly = stats_of(&table, &["1", "x", "2"]);
        let (line, error) = feature_kind(&table, 0, &mostly).unwrap_err();
        assert_eq!(line, 3);
        assert_eq!(
            error.to_string(),
            "t.csv:3:1 (column \"a\"): expected a number, found \"x\""
        );
        let half = stats_of(&table, &["1", "x"]);
        assert!(matches!(
            feature_kind(&table, 0, &half),
            Ok(FeatureKind::Categorical { .. })
        ));
        let infinite = stats_of(&table, &["1", "inf"]);
        assert!(matches!(
            feature_kind(&table, 1, &infinite),
            Err((3, CsvError::NotFinite { column: 2, .. }))
        ));
    }

    #[test]
    fn target_kinds_are_inferred_or_forced() {
        let table = table("a,y\n1,2\n");
        let kind = |cells: &[&str], task| {
            let stats = stats_of(&table, cells);
            let mut integers = IntegerTargets::new();
            cells.iter().for_each(|cell| integers.add(cell));
            target_kind(&table, 1, &stats, &integers, task).map_err(|(_, error)| error)
        };
        assert_eq!(kind(&["1", "2"], None), Ok(TargetKind::Integers));
        assert_eq!(kind(&["1", "2.5"], None), Ok(TargetKind::Values));
        assert_eq!(
            kind(&["cat", "dog"], None),
            Ok(TargetKind::Strings {
                numeric_order: false
            })
        );
        assert_eq!(
            kind(&["1", "2.5"], Some(TaskHint::Classify)),
            Ok(TargetKind::Strings {
                numeric_order: true
            })
        );
        assert_eq!(
            kind(&["1", "2"], Some(TaskHint::Regress)),
            Ok(TargetKind::Values)
        );
        assert!(matches!(
            kind(&["cat", "dog"], Some(TaskHint::Regress)),
            Err(CsvError::NonNumericRegressionTarget { line: 2, .. })
        ));
        let many: Vec<String> = (0..=MAX_INFERRED_INTEGER_CLASSES)
            .map(|i| i.to_string())
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(kind(&many, None), Ok(TargetKind::Values));
        assert_eq!(kind(&many[1..], None), Ok(TargetKind::Integers));
    }

    #[test]
    fn integer_class_keys_are_canonical() {
        assert_eq!(class_key(TargetKind::Integers, "+007"), "7");
        assert_eq!(
            class_key(
                TargetKind::Strings {
                    numeric_order: false
                },
                "+007"
            ),
            "+007"
        );
    }
}
