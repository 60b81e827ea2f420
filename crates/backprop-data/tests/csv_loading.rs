//! CSV loading end to end: formats, targets, encodings, missing cells, every error with its
//! exact `file:line:column`, gzip, task inference, data hashes and reading data for a model.

use backprop_data::csv_file::{
    feature_specs, load_csv, load_model_input, parse_csv, parse_csv_with_summary, read_model_input,
    CsvError, CsvOptions, FeatureSpec, MissingPolicy, TargetColumn, TaskHint,
};
use backprop_data::{DataError, Dataset, Targets};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

fn parse(text: &str) -> Result<Dataset, DataError> {
    parse_with(text, &CsvOptions::default())
}

fn parse_with(text: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
    parse_csv(text.as_bytes(), "data.csv", options)
}

fn error(text: &str, options: &CsvOptions) -> String {
    match parse_with(text, options) {
        Ok(data) => panic!("expected an error, loaded {data:?}"),
        Err(error) => error.to_string(),
    }
}

fn target(text: &str) -> CsvOptions {
    CsvOptions {
        target: Some(text.parse().unwrap()),
        ..CsvOptions::default()
    }
}

fn with_missing(missing: MissingPolicy) -> CsvOptions {
    CsvOptions {
        missing,
        ..CsvOptions::default()
    }
}

fn with_task(task: TaskHint) -> CsvOptions {
    CsvOptions {
        task: Some(task),
        ..CsvOptions::default()
    }
}

fn values(data: &Dataset) -> Vec<f32> {
    match &data.targets {
        Targets::Values(values) => values.as_slice().to_vec(),
        Targets::Classes { .. } => panic!("expected regression targets"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn detects_comma_semicolon_and_tab() {
    for (delimiter, text) in [
        (b',', "a,b,y\n1,2,0\n3,4,1\n"),
        (b';', "a;b;y\n1,5;2;0\n3,5;4;1\n"),
        (b'\t', "a\tb\ty\n1\t2\t0\n3\t4\t1\n"),
    ] {
        let (data, summary) =
            parse_csv_with_summary(text.as_bytes(), "d.csv", &CsvOptions::default()).unwrap();
        assert_eq!(summary.delimiter, delimiter, "{text:?}");
        assert_eq!(data.feature_names, ["a", "b"]);
        assert_eq!(data.len(), 2);
    }
    // Semicolon files may use decimal commas; other files may not.
    let data = parse("a;b;y\n1,5;2;0\n3,5;4;1\n").unwrap();
    assert_eq!(data.features.as_slice(), &[1.5, 2.0, 3.5, 4.0]);
    let message = error(
        "a\tb\ty\n1\t2\t0\n3\t4\t1\n5\t6,5\t1\n",
        &CsvOptions::default(),
    );
    assert_eq!(
        message,
        "data.csv:4:2 (column \"b\"): expected a number, found \"6,5\""
    );
    // A delimiter can be forced.
    let options = CsvOptions {
        delimiter: Some(b'|'),
        ..CsvOptions::default()
    };
    assert_eq!(parse_with("a|y\n1|0\n", &options).unwrap().len(), 1);
}

#[test]
fn header_or_no_header() {
    let data = parse("x,y\n1,0\n2,1\n").unwrap();
    assert_eq!(data.feature_names, ["x"]);
    assert_eq!(data.len(), 2);
    let options = CsvOptions {
        has_header: false,
        ..CsvOptions::default()
    };
    let data = parse_with("1,2,0\n3,4,1\n5,6,1\n", &options).unwrap();
    assert_eq!(data.feature_names, ["column_0", "column_1"]);
    assert_eq!(data.len(), 3);
    assert_eq!(data.class_names().unwrap(), ["0", "1"]);
    let options = CsvOptions {
        has_header: false,
        target: Some(TargetColumn::Name("column_0".into())),
        ..CsvOptions::default()
    };
    let data = parse_with("1,2,0\n3,4,1\n", &options).unwrap();
    assert_eq!(data.feature_names, ["column_1", "column_2"]);
}

#[test]
fn target_by_name_by_index_and_last_by_default() {
    let text = "a,b,c\n1,10,100\n2,20,200\n";
    let by_default = parse(text).unwrap();
    assert_eq!(by_default.feature_names, ["a", "b"]);
    assert_eq!(by_default.class_names().unwrap(), ["100", "200"]);
    let by_name = parse_with(text, &target("b")).unwrap();
    assert_eq!(by_name.feature_names, ["a", "c"]);
    assert_eq!(by_name.class_names().unwrap(), ["10", "20"]);
    let by_index = parse_with(text, &target("0")).unwrap();
    assert_eq!(by_index.feature_names, ["b", "c"]);
    assert_eq!(by_index.features.as_slice(), &[10.0, 100.0, 20.0, 200.0]);
    // An index past the end falls back to a column named by that number.
    let data = parse_with("x,2020\n1,5\n2,6\n", &target("2020")).unwrap();
    assert_eq!(data.feature_names, ["x"]);
}

#[test]
fn string_class_labels_from_an_iris_like_file() {
    let data = load_csv(&fixture("iris_small.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(data.len(), 30);
    assert_eq!(data.n_features(), 4);
    assert_eq!(
        data.class_names().unwrap(),
        ["setosa", "versicolor", "virginica"]
    );
    assert_eq!(data.class_counts(), Some(vec![10, 10, 10]));
    assert!(data.categories.is_empty());
    assert!(data.name.ends_with("iris_small.csv"));
}

#[test]
fn integer_labels_sort_numerically() {
    let data = parse("x,y\n1,10\n2,2\n3,+2\n4,010\n5,-1\n").unwrap();
    assert_eq!(data.class_names().unwrap(), ["-1", "2", "10"]);
    assert_eq!(data.labels().unwrap(), &[2, 1, 1, 2, 0]);
}

#[test]
fn string_features_are_one_hot_encoded_with_stored_categories() {
    let (data, summary) = parse_csv_with_summary(
        std::fs::read(fixture("houses_semicolon.csv"))
            .unwrap()
            .as_slice(),
        "houses.csv",
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.delimiter, b';');
    assert_eq!(summary.task, TaskHint::Regress);
    assert_eq!(
        data.feature_names,
        [
            "district=centre",
            "district=north",
            "district=south",
            "rooms",
            "area"
        ]
    );
    assert_eq!(data.categories.len(), 1);
    assert_eq!(data.categories[0].name, "district");
    assert_eq!(data.categories[0].categories, ["centre", "north", "south"]);
    // The first row is "north;6;125.5;124584.34".
    assert_eq!(data.features.row(0), &[0.0, 1.0, 0.0, 6.0, 125.5]);
    assert_eq!(values(&data)[0], 124_584.34);
    for row in 0..data.len() {
        let hot: f32 = data.features.row(row)[..3].iter().sum();
        assert_eq!(hot, 1.0);
    }
    let specs = feature_specs(&data.feature_names, &data.categories).unwrap();
    assert_eq!(
        specs,
        [
            FeatureSpec::Categorical {
                name: "district".into(),
                categories: vec!["centre".into(), "north".into(), "south".into()]
            },
            FeatureSpec::Numeric {
                name: "rooms".into()
            },
            FeatureSpec::Numeric {
                name: "area".into()
            },
        ]
    );
}

#[test]
fn quoted_fields_may_hold_delimiters_quotes_and_line_breaks() {
    let text = "name,\"a,b\",y\n\"Smith, J.\",\" 1.5 \",\"yes\"\n\"say \"\"hi\"\"\nthere\",2,no\n\"Smith, J.\",3,no\nx,4,yes\n";
    let data = parse(text).unwrap();
    assert_eq!(
        data.feature_names,
        ["name=Smith, J.", "name=say \"hi\"\nthere", "name=x", "a,b"]
    );
    assert_eq!(data.features.row(1), &[0.0, 1.0, 0.0, 2.0]);
    assert_eq!(data.class_names().unwrap(), ["no", "yes"]);
    // Lines after a two-line quoted field are counted as in the file.
    let message = error(
        "a,b,y\n\"x\ny\",1,0\nq,2,1\nr,oops,0\ns,3,1\n",
        &CsvOptions::default(),
    );
    assert_eq!(
        message,
        "data.csv:5:2 (column \"b\"): expected a number, found \"oops\""
    );
}

#[test]
fn crlf_bom_blank_lines_and_whitespace() {
    let text = "\u{feff}a , b ,y\r\n 1 , 2 ,0\r\n\r\n3,4,1\r\n\r\n  \r\n";
    let data = parse(text).unwrap();
    assert_eq!(data.feature_names, ["a", "b"]);
    assert_eq!(data.features.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    // Line numbers count CRLF lines and blank lines.
    let message = error(
        "\u{feff}a,y\r\n1,0\r\n\r\nx,1\r\n2,1\r\n3,0\r\n",
        &CsvOptions::default(),
    );
    assert_eq!(
        message,
        "data.csv:4:1 (column \"a\"): expected a number, found \"x\""
    );
}

#[test]
fn gzip_files_are_read_by_extension_and_by_magic_bytes() {
    let directory = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixture("iris_small.csv")).unwrap();
    let plain = load_csv(&fixture("iris_small.csv"), &CsvOptions::default()).unwrap();
    let gz_path = directory.path().join("iris.csv.gz");
    std::fs::write(&gz_path, gzip(&text)).unwrap();
    let from_gz = load_csv(&gz_path, &CsvOptions::default()).unwrap();
    assert_eq!(from_gz.features, plain.features);
    assert_eq!(from_gz.targets, plain.targets);
    assert_eq!(from_gz.sha256(), plain.sha256());
    // Gzip bytes under a plain name are recognised by their magic bytes.
    let disguised = directory.path().join("iris.csv");
    std::fs::write(&disguised, gzip(&text)).unwrap();
    assert_eq!(
        load_csv(&disguised, &CsvOptions::default())
            .unwrap()
            .features,
        plain.features
    );
    // A .gz name on plain text is refused rather than guessed.
    let message = parse_csv(b"a,y\n1,0\n", "x.csv.gz", &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("x.csv.gz: corrupt or truncated gzip data: "),
        "{message}"
    );
}

#[test]
fn truncated_or_corrupt_gzip_is_an_error() {
    let compressed = gzip(&std::fs::read(fixture("iris_small.csv")).unwrap());
    for cut in [2, 10, compressed.len() / 2, compressed.len() - 4] {
        let error =
            parse_csv(&compressed[..cut], "iris.csv.gz", &CsvOptions::default()).unwrap_err();
        assert!(
            matches!(error, DataError::Csv(CsvError::Gzip { .. })),
            "cut {cut}: {error}"
        );
    }
    let mut corrupt = compressed.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let error = parse_csv(&corrupt, "iris.csv.gz", &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(error, DataError::Csv(CsvError::Gzip { .. })),
        "{error}"
    );
    let error = parse_csv(b"", "empty.csv.gz", &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(error, DataError::Csv(CsvError::Gzip { .. })),
        "{error}"
    );
}

#[test]
fn missing_cells_are_an_error_by_default_naming_the_cell() {
    let text = "age,city,y\n30,paris,0\n31,,1\n";
    assert_eq!(
        error(text, &CsvOptions::default()),
        "data.csv:3:2 (column \"city\"): missing value; use --missing drop to drop rows with missing cells, or --missing mean to fill them with the column mean (the most frequent category for string columns)"
    );
    for marker in ["NA", "n/a", "NaN", "nan", "?", "NULL"] {
        let text = format!("age,y\n30,0\n{marker},1\n");
        assert!(
            error(&text, &CsvOptions::default())
                .starts_with("data.csv:3:1 (column \"age\"): missing value"),
            "{marker}"
        );
    }
    // A missing target is an error too.
    assert!(error("age,y\n30,0\n31,\n", &CsvOptions::default())
        .starts_with("data.csv:3:2 (column \"y\"): missing"));
}

#[test]
fn missing_drop_drops_rows() {
    let text = "a,c,y\n1,u,0\nNA,u,1\n3,,0\n4,v,\n5,v,1\n";
    let (data, summary) =
        parse_csv_with_summary(text.as_bytes(), "d.csv", &with_missing(MissingPolicy::Drop))
            .unwrap();
    assert_eq!(data.features.as_slice(), &[1.0, 1.0, 0.0, 5.0, 0.0, 1.0]);
    assert_eq!(data.labels().unwrap(), &[0, 1]);
    assert_eq!((summary.rows_read, summary.rows_dropped), (5, 3));
    let message = error("a,y\nNA,0\n?,1\n", &with_missing(MissingPolicy::Drop));
    assert_eq!(
        message,
        "data.csv: all 2 data rows have a missing cell; none is left after dropping them"
    );
}

#[test]
fn missing_mean_fills_means_and_most_frequent_categories() {
    let text = "a,c,y\n1,u,0\nNA,v,1\n3,,0\n5,v,\n5,v,1\n";
    let (data, summary) =
        parse_csv_with_summary(text.as_bytes(), "d.csv", &with_missing(MissingPolicy::Mean))
            .unwrap();
    // The row with a missing target is dropped; the mean is over the kept rows: (1+3+5)/3.
    assert_eq!(data.feature_names, ["a", "c=u", "c=v"]);
    assert_eq!(
        data.features.as_slice(),
        &[1.0, 1.0, 0.0, 3.0, 0.0, 1.0, 3.0, 0.0, 1.0, 5.0, 0.0, 1.0]
    );
    assert_eq!((summary.rows_dropped, summary.cells_filled), (1, 2));
    let message = error(
        "a,b,y\n1,NA,0\n2,NA,1\n",
        &with_missing(MissingPolicy::Mean),
    );
    assert_eq!(
        message,
        "data.csv: column 2 (\"b\") has no value at all to take a mean of"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let default = CsvOptions::default();
    let cases: Vec<(&str, CsvOptions, &str)> = vec![
        ("", default.clone(), "data.csv: the file is empty (no header and no data rows)"),
        (" \n\n  \n", default.clone(), "data.csv: the file is empty (no header and no data rows)"),
        ("a,b,y\n\n", default.clone(), "data.csv: the file has a header but no data rows"),
        (
            "\ny\n1\n2\n",
            default.clone(),
            "data.csv:2: only one column found (delimiters tried: comma, semicolon, tab); a CSV needs a target column and at least one feature column",
        ),
        (
            "a,b,y\n1,2,0\n1,2\n",
            default.clone(),
            "data.csv:3:3: ragged row: expected 3 fields as in the first row (line 1), found 2",
        ),
        (
            "a,b,y\n1,2,0\n1,2,0,4\n",
            default.clone(),
            "data.csv:3:4: ragged row: expected 3 fields as in the first row (line 1), found 4",
        ),
        (
            "id,age,y\n1,30,0\n2,31,1\n3,32,0\n4,3O,0\n5,abc,0\n",
            default.clone(),
            "data.csv:5:2 (column \"age\"): expected a number, found \"3O\"",
        ),
        (
            "a,b,y\n1,2,0\n1,inf,0\n",
            default.clone(),
            "data.csv:3:2 (column \"b\"): not a finite number: \"inf\"",
        ),
        (
            "a,b,y\n1,-inf,0\n",
            default.clone(),
            "data.csv:2:2 (column \"b\"): not a finite number: \"-inf\"",
        ),
        (
            "a,b,y\n1,2,0\n1,2,Infinity\n",
            default.clone(),
            "data.csv:3:3 (column \"y\"): not a finite number: \"Infinity\"",
        ),
        (
            "a,y\n1e39,0\n",
            default.clone(),
            "data.csv:2:1 (column \"a\"): not a finite number: \"1e39\"",
        ),
        (
            "a,b\n1,2\n",
            target("price"),
            "data.csv: no column named \"price\" for the target; the columns are: \"a\", \"b\"",
        ),
        (
            "a,b\n1,2\n",
            target("2"),
            "data.csv: target column index 2 is out of range: indices are 0-based and the file has 2 columns (0 to 1)",
        ),
        (
            "a,y\n1,cat\n2,dog\n",
            with_task(TaskHint::Regress),
            "data.csv:2:2 (column \"y\"): the target must be a number for regression (--task regress), found \"cat\"; leave out --task regress (or use --task classify) to treat it as class labels",
        ),
        (
            "a,y\n1,1.5\n2,2.5\n3,x\n",
            default.clone(),
            "data.csv:4:2 (column \"y\"): expected a number, found \"x\"",
        ),
        (
            "a,a,y\n1,2,0\n",
            default.clone(),
            "data.csv: the column name \"a\" occurs more than once; names must be unique to match features by name",
        ),
        (
            "c=x,c,y\n1,x,0\n2,z,1\n",
            default.clone(),
            "data.csv: the column name \"c=x\" occurs more than once after one-hot encoding; names must be unique to match features by name",
        ),
    ];
    for (text, options, expected) in cases {
        assert_eq!(error(text, &options), expected, "{text:?}");
    }
    let message = parse_csv(
        b"a,y\n1,0\n\xff\xfe,1\n",
        "data.csv",
        &CsvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        message,
        "data.csv:3: invalid UTF-8 (save the file as UTF-8)"
    );
}

#[test]
fn too_many_columns_is_refused_before_allocating() {
    let header = (0..100_001).map(|i| format!("c{i}")).collect::<Vec<_>>();
    let text = format!("{}\n", header.join(","));
    assert!(matches!(
        parse(&text),
        Err(DataError::Csv(CsvError::TooManyColumns {
            columns: 100_001,
            ..
        }))
    ));
    // One-hot encoding of an identifier column.
    let mut text = String::from("id,y\n");
    for i in 0..100_001 {
        text.push_str(&format!("id{i},{}\n", i % 2));
    }
    let message = error(&text, &CsvOptions::default());
    assert_eq!(
        message,
        "data.csv: 100001 columns after one-hot encoding, more than the limit of 100000; drop string columns with many distinct values (identifiers, free text)"
    );
}

#[test]
fn task_inference_follows_the_conventions() {
    let mut few = String::from("x,y\n");
    let mut many = String::from("x,y\n");
    for i in 0..300 {
        few.push_str(&format!("{i},{}\n", i % 100));
        many.push_str(&format!("{i},{}\n", i % 101));
    }
    assert_eq!(parse(&few).unwrap().n_classes(), Some(100));
    assert_eq!(parse(&many).unwrap().n_classes(), None);
    assert_eq!(
        parse_with(&many, &with_task(TaskHint::Classify))
            .unwrap()
            .n_classes(),
        Some(101)
    );
    let regressed = parse_with(&few, &with_task(TaskHint::Regress)).unwrap();
    assert_eq!(values(&regressed)[..3], [0.0, 1.0, 2.0]);
    let floats = parse("x,y\n1,0.5\n2,1\n3,1.5\n").unwrap();
    assert_eq!(values(&floats), [0.5, 1.0, 1.5]);
    let classified =
        parse_with("x,y\n1,0.5\n2,10\n3,2.5\n", &with_task(TaskHint::Classify)).unwrap();
    assert_eq!(classified.class_names().unwrap(), ["0.5", "2.5", "10"]);
}

#[test]
fn sha256_is_stable_and_sensitive_to_content() {
    let text = "a,b,y\n1,2,0\n3,4,1\n";
    let first = parse(text).unwrap();
    let hash = first.sha256();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(parse(text).unwrap().sha256(), hash);
    assert_eq!(parse("a;b;y\r\n1;2;0\r\n3;4;1\r\n").unwrap().sha256(), hash);
    assert_ne!(parse("a,b,y\n1,2,0\n3,4.5,1\n").unwrap().sha256(), hash);
    assert_ne!(parse("a,b,y\n1,2,1\n3,4,0\n").unwrap().sha256(), hash);
    assert_ne!(parse("a,c,y\n1,2,0\n3,4,1\n").unwrap().sha256(), hash);
    // Golden value: f32 LE features, u64 LE labels, then "a\nb".
    let mut bytes = Vec::new();
    for value in [1.0f32, 2.0, 3.0, 4.0] {
        bytes.extend(value.to_le_bytes());
    }
    for label in [0u64, 1] {
        bytes.extend(label.to_le_bytes());
    }
    bytes.extend(b"a\nb");
    use sha2::Digest;
    assert_eq!(hash, hex::encode(sha2::Sha256::digest(&bytes)));
}

#[test]
fn model_input_matches_columns_by_name() {
    let training = parse("colour,size,kind\nred,1,a\nblue,2,b\nred,3,a\n").unwrap();
    let specs = feature_specs(&training.feature_names, &training.categories).unwrap();
    // Columns in another order, the target present, an extra column, an unseen category.
    let new = "kind,size,note,colour\nb,5,x,blue\na,6,y,green\n";
    let options = target("kind");
    let input = read_model_input(new.as_bytes(), "new.csv", &specs, &options).unwrap();
    assert_eq!(input.features.as_slice(), &[1.0, 0.0, 5.0, 0.0, 0.0, 6.0]);
    assert_eq!(input.lines, [2, 3]);
    assert_eq!(input.warnings.len(), 2, "{:?}", input.warnings);
    assert_eq!(
        input.warnings[0],
        "new.csv: column(s) not used by the model, ignored: \"note\""
    );
    assert_eq!(
        input.warnings[1],
        "new.csv: column \"colour\": 1 cell(s) hold categories not seen in training (the first, \"green\", on line 3); they are encoded as all zeros"
    );
    let message = read_model_input(b"colour,kind\nred,a\n", "new.csv", &specs, &options)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "new.csv: the model needs the column \"size\", which is not in the file; the columns are: \"colour\", \"kind\""
    );
    // Missing cells in the model's columns follow the policy; the target's do not matter.
    let gaps = "colour,size,kind\nred,,\nblue,4,\n";
    let message = read_model_input(gaps.as_bytes(), "new.csv", &specs, &options)
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("new.csv:2:2 (column \"size\"): missing value"),
        "{message}"
    );
    let dropped = read_model_input(
        gaps.as_bytes(),
        "new.csv",
        &specs,
        &CsvOptions {
            missing: MissingPolicy::Drop,
            ..options.clone()
        },
    )
    .unwrap();
    assert_eq!(dropped.lines, [3]);
    let filled = read_model_input(
        gaps.as_bytes(),
        "new.csv",
        &specs,
        &CsvOptions {
            missing: MissingPolicy::Mean,
            ..options.clone()
        },
    )
    .unwrap();
    assert_eq!(filled.features.as_slice(), &[0.0, 1.0, 4.0, 1.0, 0.0, 4.0]);
    // From a gzipped file.
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("new.csv.gz");
    std::fs::write(&path, gzip(new.as_bytes())).unwrap();
    let from_file = load_model_input(&path, &specs, &options).unwrap();
    assert_eq!(from_file.features, input.features);
}

#[test]
fn feature_specs_reject_inconsistent_encodings() {
    let names: Vec<String> = ["c=a", "x", "c=b"].map(String::from).into();
    let column = backprop_data::CategoricalColumn {
        name: "c".into(),
        categories: vec!["a".into(), "b".into()],
    };
    assert!(matches!(
        feature_specs(&names, &[column]),
        Err(CsvError::InconsistentEncoding { .. })
    ));
}
