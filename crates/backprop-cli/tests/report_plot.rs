//! `train --report`, `train --diagnostics`, `report MODEL` and `plot`, run as the real
//! binary: the files exist, parse as SVG or PNG, hold the expected titles, the HTML report
//! fetches nothing, and the per-epoch diagnostics travel in the model file.

mod model_commands;

use backprop::Model;
use backprop_teach::plot::FigureKind;
use model_commands::{backprop, stderr, success};
use std::path::{Path, PathBuf};

/// The titles a full report on 2-D data holds.
const TITLES: [&str; 9] = [
    "Loss per epoch",
    "Accuracy per epoch",
    "The network 2-5-4-2",
    "Learning speed per layer",
    "Weight gradient per layer",
    "Saturated units per layer",
    "Confusion matrix",
    "Decision boundary",
    "Hidden neurons",
];

/// Trains a small sigmoid network on the built-in circle data, with a report.
fn circle_model(folder: &Path) -> (PathBuf, PathBuf, String) {
    let model = folder.join("circle.safetensors");
    let report = folder.join("train-report.html");
    let log = folder.join("train.jsonl");
    let arguments = [
        "train",
        "--data",
        "circle",
        "--samples",
        "200",
        "--noise",
        "0.1",
        "--layers",
        "5,4",
        "--activation",
        "sigmoid",
        "--epochs",
        "8",
        "--seed",
        "3",
        "--diagnostics",
        "--out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ];
    let output = backprop(&arguments);
    success(&arguments, &output);
    (model, report, stderr(&output))
}

/// Checks an HTML report: every title, inline SVG that parses, and nothing fetched.
fn check_report(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for title in TITLES {
        assert!(html.contains(title), "the report lacks {title:?}");
    }
    for pattern in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "<script",
        "<link",
        "<img",
        "url(",
    ] {
        assert!(
            !html.contains(pattern),
            "the report is not self-contained: {pattern}"
        );
    }
    let mut rest = html;
    let mut figures = 0;
    while let Some(start) = rest.find("<svg ") {
        let end = start
            + rest[start..]
                .find("</svg>\n<figcaption>")
                .expect("each figure ends before its caption");
        check_svg(&rest[start..end + "</svg>".len()]);
        figures += 1;
        rest = &rest[end..];
    }
    assert_eq!(figures, TITLES.len());
}

/// Parses an SVG document with the rasteriser's parser.
fn check_svg(svg: &str) {
    resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default())
        .unwrap_or_else(|error| panic!("invalid SVG ({error}): {}", &svg[..svg.len().min(300)]));
}

/// Checks a PNG: signature, a sensible size, and that it decodes to something not blank.
fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
    assert!(pixmap.width() > 300 && pixmap.height() > 200);
    let dark = pixmap
        .pixels()
        .iter()
        .filter(|pixel| pixel.red() < 100 && pixel.green() < 100 && pixel.blue() < 100)
        .count();
    assert!(
        dark > 500,
        "{}: hardly any dark pixels (no text?)",
        path.display()
    );
}

#[test]
fn train_writes_a_self_contained_report_and_prints_diagnostics() {
    let folder = tempfile::tempdir().unwrap();
    let (model, report, stderr) = circle_model(folder.path());
    check_report(&std::fs::read_to_string(&report).unwrap());
    for epoch in 1..=8 {
        assert!(
            stderr.contains(&format!("epoch {epoch} layers: 1 ‖δ‖ ")),
            "{stderr}"
        );
    }
    assert!(stderr.contains("saturated"), "{stderr}");
    // The --log lines carry the same figures.
    let log = std::fs::read_to_string(folder.path().join("train.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    for line in &lines {
        assert_eq!(line["layers"].as_array().unwrap().len(), 3, "{line}");
    }
    // The per-epoch diagnostics are in the model file, one entry per layer.
    let model = Model::load(&model).unwrap();
    assert_eq!(model.metadata.history.len(), 8);
    for summary in &model.metadata.history {
        assert_eq!(summary.layers.len(), 3);
        for layer in &summary.layers {
            assert!(layer.delta_norm > 0.0 && layer.weight_gradient_norm > 0.0);
        }
        assert!(summary.layers[0].saturated.is_some() && summary.layers[2].saturated.is_none());
    }
}

#[test]
fn report_rebuilds_the_report_from_the_model_file() {
    let folder = tempfile::tempdir().unwrap();
    let (model, train_report, _) = circle_model(folder.path());
    let out = folder.path().join("report.html");
    let arguments = [
        "report",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    let html = std::fs::read_to_string(&out).unwrap();
    check_report(&html);
    // The model's own built-in data by default, and of it the test part that train --report
    // drew: the same rows, described the same way.
    let part = "the test part of circle (40 rows)";
    let train_html = std::fs::read_to_string(&train_report).unwrap();
    assert!(train_html.contains(part), "train --report: {part}");
    assert!(html.contains(part), "report: {part}");
    assert!(!html.contains("circle (200 rows)"));
    let again = folder.path().join("again.html");
    let arguments = [
        "report",
        "--model",
        model.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        html,
        "the same file gives the same report"
    );
}

#[test]
fn plot_writes_every_kind_as_svg_and_png() {
    let folder = tempfile::tempdir().unwrap();
    let (model, _, _) = circle_model(folder.path());
    let model = model.to_str().unwrap();
    let svg_dir = folder.path().join("svg");
    let arguments = ["plot", model, "--out-dir", svg_dir.to_str().unwrap()];
    success(&arguments, &backprop(&arguments));
    for (kind, title) in FigureKind::ALL.iter().zip(TITLES) {
        let svg = std::fs::read_to_string(svg_dir.join(format!("{}.svg", kind.name()))).unwrap();
        assert!(svg.contains(title), "{} lacks {title:?}", kind.name());
        check_svg(&svg);
    }
    let png_dir = folder.path().join("png");
    let arguments = [
        "plot",
        model,
        "--out-dir",
        png_dir.to_str().unwrap(),
        "--format",
        "png",
        "--what",
        "loss",
        "--what",
        "boundary",
    ];
    success(&arguments, &backprop(&arguments));
    check_png(&png_dir.join("loss.png"));
    check_png(&png_dir.join("boundary.png"));
    assert_eq!(std::fs::read_dir(&png_dir).unwrap().count(), 2);
    let single = folder.path().join("speed.png");
    let arguments = [
        "plot",
        model,
        "--what",
        "learning-speed",
        "--out",
        single.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    check_png(&single);
}

#[test]
fn plot_refuses_what_it_cannot_draw() {
    let folder = tempfile::tempdir().unwrap();
    let (model, _, _) = circle_model(folder.path());
    let model = model.to_str().unwrap();
    let out = folder.path().join("x.svg");
    let out_text = out.to_str().unwrap();
    for (arguments, message) in [
        (
            vec![
                "plot", model, "--what", "loss", "--what", "accuracy", "--out", out_text,
            ],
            "exactly one --what",
        ),
        (
            vec!["plot", model, "--what", "loss", "--out", "x.gif"],
            "must end in .svg or .png",
        ),
        (
            vec!["plot", model, "--what", "lossy", "--out", out_text],
            "unknown picture",
        ),
        (vec!["plot", model, "--what", "loss"], "--out-dir"),
        (
            vec![
                "plot",
                model,
                "--what",
                "confusion",
                "--data",
                "digits",
                "--out",
                out_text,
            ],
            "64 features per row",
        ),
    ] {
        let output = backprop(&arguments);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{arguments:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{arguments:?}: {}",
            stderr(&output)
        );
        assert!(!out.exists());
    }
    // A model of 64 features has no 2-D heat maps.
    let digits = folder.path().join("digits.safetensors");
    let arguments = [
        "train",
        "--data",
        "digits",
        "--epochs",
        "1",
        "-q",
        "--out",
        digits.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    let output = backprop(&[
        "plot",
        digits.to_str().unwrap(),
        "--what",
        "boundary",
        "--out",
        out_text,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("heat maps need two input features; this model has 64"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn a_report_that_cannot_be_written_keeps_the_model() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("m.safetensors");
    let report = folder.path().join("missing-folder").join("r.html");
    let arguments = [
        "train",
        "--data",
        "xor-table",
        "--epochs",
        "3",
        "-q",
        "--out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    let output = backprop(&arguments);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("missing-folder"),
        "{}",
        stderr(&output)
    );
    assert!(model.exists() && !report.exists());
}
