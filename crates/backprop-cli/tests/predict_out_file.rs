//! `backprop predict --out FILE`: the file appears only when complete (temporary file in the
//! same folder, renamed at the end); a failure midway or an unwritable location leaves nothing.

mod model_commands;

use model_commands::*;

#[test]
fn out_files_are_written_atomically() {
    let (folder, data, model) = iris_model();
    let model = model.to_str().unwrap();
    let results = folder.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let out = results.join("predictions.csv");
    let arguments = [
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let printed = success(&arguments, &backprop(&arguments));
    assert!(printed.is_empty(), "--out leaves stdout empty");
    let written = std::fs::read_to_string(&out).unwrap();
    let plain_arguments = [
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
    ];
    assert_eq!(
        written,
        success(&plain_arguments, &backprop(&plain_arguments))
    );

    // A bad row after the first chunk: the earlier file stays, and no temporary file is left.
    let bad = folder.path().join("bad.csv");
    let mut text = String::from("a,b,colour\n");
    for _ in 0..5_000 {
        text.push_str("1,2,red\n");
    }
    text.push_str("1,oops,red\n");
    std::fs::write(&bad, text).unwrap();
    let output = backprop(&[
        "predict",
        "--model",
        model,
        "--input",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.csv:5002:2"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
    assert_eq!(files_in(&results), ["predictions.csv"]);

    // An unwritable location fails before any work and leaves nothing.
    let nowhere = results.join("missing-folder").join("p.csv");
    let output = backprop(&[
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
        "--out",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(files_in(&results), ["predictions.csv"]);
}
