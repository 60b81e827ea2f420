//! The teaching views of a convolutional model through the real binary: `draw` shows each
//! convolution's filters as small images (one square per weight, the model file's values),
//! `explain --model` reports δ per feature map for one example, and the training report shows
//! the first convolution's filters.

mod train_support;

use backprop::Model;
use train_support::{scratch, succeed as ok, usage_error, write_file};

const LAYERS: &str = "conv:3:3,maxpool:2,conv:2:2,10";

fn train(dir: &std::path::Path) {
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "digits",
            "--layers",
            LAYERS,
            "--epochs",
            "2",
            "--out",
            "conv.safetensors",
            "--report",
            "train-report.html",
        ],
    );
}

#[test]
fn draw_shows_every_filter_weight_as_a_square_with_its_value() {
    let folder = scratch();
    let dir = folder.path();
    train(dir);
    ok(dir, &["draw", "conv.safetensors", "--out", "filters.svg"]);
    let svg = std::fs::read_to_string(dir.join("filters.svg")).unwrap();
    let model = Model::load(&dir.join("conv.safetensors")).unwrap();
    // layers.0 is 3 filters × 1 channel × 3×3, layers.2 is 2 × 3 × 2×2: one square each.
    for (tensor, shape) in [
        ("layers.0.weight", [3, 1, 3, 3]),
        ("layers.2.weight", [2, 3, 2, 2]),
    ] {
        let values = model.network.parameter(tensor).unwrap();
        let [filters, channels, kernel, _] = shape;
        for f in 0..filters {
            for c in 0..channels {
                for r in 0..kernel {
                    for col in 0..kernel {
                        let value =
                            values.as_slice()[((f * channels + c) * kernel + r) * kernel + col];
                        let title = format!("<title>{tensor}[{f}, {c}, {r}, {col}] = ");
                        let at = svg.find(&title).unwrap_or_else(|| panic!("no {title}"));
                        let shown: f64 = svg[at + title.len()..]
                            .split('<')
                            .next()
                            .unwrap()
                            .parse()
                            .unwrap();
                        assert!(
                            (shown - f64::from(value)).abs() <= 5e-7,
                            "{tensor}[{f}, {c}, {r}, {col}]: drawn {shown}, stored {value}"
                        );
                    }
                }
            }
        }
    }
    ok(dir, &["draw", "conv.safetensors", "--out", "filters.png"]);
    let png = std::fs::read(dir.join("filters.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let refused = usage_error(
        dir,
        &["draw", "conv.safetensors", "--values", "--out", "x.svg"],
    );
    assert!(
        refused.contains("--values") && refused.contains("filters"),
        "{refused}"
    );
    assert!(!dir.join("x.svg").exists());
}

#[test]
fn explain_reports_delta_per_feature_map_and_its_sum_is_the_bias_gradient() {
    let folder = scratch();
    let dir = folder.path();
    train(dir);
    // One 8×8 image from a file, one pixel per line.
    let pixels: Vec<String> = (0..64).map(|i| ((i * 7) % 17).to_string()).collect();
    let path = write_file(dir, "pixels.txt", &pixels.join("\n"));
    let input = format!("@{path}");
    let target = "0,0,0,1,0,0,0,0,0,0";
    let arguments = [
        "explain",
        "--model",
        "conv.safetensors",
        "--input",
        &input,
        "--target-values",
        target,
    ];
    let (text, _) = ok(dir, &arguments);
    assert!(text.contains("layers.0: 3 filters 3×3"), "{text}");
    assert!(text.contains("layers.2: 2 filters 2×2"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(ok(dir, &[&arguments[..], &["--json"]].concat()).0.trim()).unwrap();
    let convolutions = json["convolutions"].as_array().unwrap();
    assert_eq!(convolutions.len(), 2);
    // Σ δ over a map is ∂C/∂b of its filter: checked against central differences of the
    // cost in the bias, on the model in f64.
    let model = Model::load(&dir.join("conv.safetensors")).unwrap();
    let network = model.network.cast::<f64>();
    let x =
        backprop::Matrix::row_vector(&(0..64).map(|i| ((i * 7) % 17) as f64).collect::<Vec<_>>());
    let y = backprop::Matrix::row_vector(&[0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]);
    for (conv, tensor) in convolutions.iter().zip(["layers.0.bias", "layers.2.bias"]) {
        for (f, map) in conv["maps"].as_array().unwrap().iter().enumerate() {
            assert_eq!(map["map"], f + 1, "maps count from 1");
            let sum = map["delta_sum"].as_f64().unwrap();
            assert!((sum - map["bias_gradient"].as_f64().unwrap()).abs() < 1e-12);
            let h = 1e-6;
            let cost = |shift: f64| {
                let mut moved = network.clone();
                moved.parameter_mut(tensor).unwrap().as_mut_slice()[f] += shift;
                moved.loss(&x, &y)
            };
            let numeric = (cost(h) - cost(-h)) / (2.0 * h);
            assert!(
                (numeric - sum).abs() < 1e-5 * (1.0 + numeric.abs()),
                "{tensor}[{f}]: Σδ {sum}, finite difference {numeric}"
            );
        }
    }
    let refused = usage_error(dir, &[&arguments[..], &["--steps", "3"]].concat());
    assert!(refused.contains("δ per feature map"), "{refused}");
    let missing = usage_error(
        dir,
        &[
            "explain",
            "--model",
            "conv.safetensors",
            "--input",
            "@absent.txt",
        ],
    );
    assert!(missing.contains("absent.txt"), "{missing}");
}

#[test]
fn the_training_report_shows_the_first_convolutions_filters() {
    let folder = scratch();
    let dir = folder.path();
    train(dir);
    ok(dir, &["report", "conv.safetensors", "--out", "report.html"]);
    for page in ["train-report.html", "report.html"] {
        let html = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(html.contains("The first convolution"), "{page}");
        assert!(
            html.contains("Each filter of the first convolution"),
            "{page}: its caption"
        );
        assert!(
            !html.contains("Line width ∝ |w|"),
            "{page}: no dense diagram caption"
        );
        assert!(
            html.contains("layers.0.weight[2, 0, 2, 2] = "),
            "{page}: every filter drawn"
        );
        assert!(
            !html.contains("layers.2.weight["),
            "{page}: the first convolution only"
        );
    }
}
