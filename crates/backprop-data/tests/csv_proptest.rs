//! Property tests of the CSV loader: no input makes it panic, and numeric tables read back
//! exactly.

use backprop_data::csv_file::{
    parse_csv, read_model_input, CsvOptions, FeatureSpec, MissingPolicy, TaskHint,
};
use backprop_data::Targets;
use proptest::prelude::*;

fn option_sets() -> Vec<CsvOptions> {
    vec![
        CsvOptions::default(),
        CsvOptions {
            has_header: false,
            missing: MissingPolicy::Mean,
            task: Some(TaskHint::Classify),
            ..CsvOptions::default()
        },
        CsvOptions {
            target: Some("0".parse().unwrap()),
            missing: MissingPolicy::Drop,
            task: Some(TaskHint::Regress),
            ..CsvOptions::default()
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for options in option_sets() {
            let _ = parse_csv(&bytes, "fuzz.csv", &options);
            let _ = parse_csv(&bytes, "fuzz.csv.gz", &options);
        }
        let specs = [
            FeatureSpec::Numeric { name: "a".into() },
            FeatureSpec::Categorical { name: "b".into(), categories: vec!["x".into()] },
        ];
        let _ = read_model_input(&bytes, "fuzz.csv", &specs, &CsvOptions::default());
    }

    #[test]
    fn csv_like_text_never_panics(
        text in "[ab,;\t\"\r\n0-9.?xNAe+-]{0,200}",
        missing in prop_oneof![
            Just(MissingPolicy::Error),
            Just(MissingPolicy::Drop),
            Just(MissingPolicy::Mean)
        ],
    ) {
        let options = CsvOptions { missing, ..CsvOptions::default() };
        let _ = parse_csv(text.as_bytes(), "fuzz.csv", &options);
        let specs = [FeatureSpec::Numeric { name: "a".into() }];
        let _ = read_model_input(text.as_bytes(), "fuzz.csv", &specs, &options);
    }

    #[test]
    fn numeric_tables_round_trip(
        table in (2usize..6, 1usize..30).prop_flat_map(|(cols, rows)| {
            proptest::collection::vec(
                proptest::collection::vec(
                    any::<f32>().prop_filter("finite", |value| value.is_finite()),
                    cols,
                ),
                rows,
            )
        }),
        delimiter in prop_oneof![Just(','), Just(';'), Just('\t')],
        crlf in any::<bool>(),
    ) {
        let cols = table[0].len();
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = (0..cols).map(|col| format!("c{col}")).collect::<Vec<_>>().join(&delimiter.to_string());
        text.push_str(end);
        for row in &table {
            let cells: Vec<String> = row.iter().map(|value| value.to_string()).collect();
            text.push_str(&cells.join(&delimiter.to_string()));
            text.push_str(end);
        }
        let options = CsvOptions { task: Some(TaskHint::Regress), ..CsvOptions::default() };
        let data = parse_csv(text.as_bytes(), "round.csv", &options).unwrap();
        prop_assert_eq!(data.len(), table.len());
        prop_assert_eq!(data.n_features(), cols - 1);
        let Targets::Values(targets) = &data.targets else {
            return Err(TestCaseError::fail("expected regression targets"));
        };
        for (row, expected) in table.iter().enumerate() {
            prop_assert_eq!(data.features.row(row), &expected[..cols - 1]);
            prop_assert_eq!(targets.row(row), &expected[cols - 1..]);
        }
    }
}
