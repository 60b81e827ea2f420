//! Brute force against backprop: evaluation counts follow the formulas, the grid never does
//! worse than its start, extrapolations match the seed's arithmetic, durations read right.

use backprop_teach::compare::{compare, CompareConfig, ComparisonReport, Method, WeightPosition};
use backprop_teach::{compare_plot_svg, format_duration};
use std::sync::OnceLock;

fn report() -> &'static ComparisonReport {
    static REPORT: OnceLock<ComparisonReport> = OnceLock::new();
    REPORT.get_or_init(|| compare(&CompareConfig::quick()).unwrap())
}

#[test]
fn evaluation_counts_follow_the_formulas() {
    let report = report();
    let config = &report.config;
    let steps = config.steps as u64;
    for run in &report.runs {
        let n = run.parameters as u64;
        assert_eq!(run.free.len(), run.parameters);
        match run.method {
            Method::Grid => {
                assert_eq!(
                    run.evaluations,
                    (config.values_per_weight as u64).pow(n as u32)
                );
                assert!(run.final_cost <= run.starting_cost);
            }
            Method::OneAtATime => {
                assert_eq!((run.evaluations, run.backward_passes), (steps * (n + 1), 0))
            }
            Method::Backprop => assert_eq!((run.evaluations, run.backward_passes), (steps, steps)),
        }
        assert!(run.seconds > 0.0 && run.final_cost.is_finite());
    }
    let grids = report
        .runs
        .iter()
        .filter(|r| r.method == Method::Grid)
        .count();
    assert_eq!(grids, config.free_counts.len());
    let all = report.runs.iter().filter(|r| r.parameters == 13).count();
    assert_eq!(all, 2);
    assert_eq!(
        report.runs[0].free,
        ["layers.1.weight[0, 0]", "layers.1.weight[0, 1]"]
    );
}

#[test]
fn both_gradient_methods_descend_alike() {
    let report = report();
    for pair in report
        .runs
        .iter()
        .filter(|r| r.method != Method::Grid)
        .collect::<Vec<_>>()
        .chunks(2)
    {
        let (nudged, backprop) = (pair[0], pair[1]);
        assert_eq!(
            (nudged.method, backprop.method),
            (Method::OneAtATime, Method::Backprop)
        );
        assert!(backprop.final_cost < backprop.starting_cost);
        assert!(
            (nudged.final_cost - backprop.final_cost).abs() < 1e-4,
            "{} vs {}",
            nudged.final_cost,
            backprop.final_cost
        );
    }
}

#[test]
fn extrapolations_follow_the_seeds_arithmetic() {
    let report = report();
    let timing = &report.timings[1];
    assert_eq!(
        (timing.sizes.as_slice(), timing.parameters),
        (&[784, 30, 10][..], 23_860)
    );
    assert!(report
        .timings
        .iter()
        .all(|t| t.forward_seconds > 0.0 && t.backprop_step_seconds > 0.0));
    let seed: Vec<(usize, f64, String)> = report
        .extrapolations
        .iter()
        .filter(|r| r.method == Method::Grid && r.parameters <= 5)
        .map(|r| {
            (
                r.parameters,
                r.seed_seconds.unwrap(),
                r.seed_time.clone().unwrap(),
            )
        })
        .collect();
    let expected = [
        (2, 1e-3, "1 ms"),
        (4, 1e3, "16.7 minutes"),
        (5, 1e6, "11.6 days"),
    ];
    for ((n, seconds, text), (en, es, et)) in seed.iter().zip(expected) {
        assert_eq!((*n, text.as_str()), (en, et));
        assert!((seconds / es - 1.0).abs() < 1e-12);
    }
    let xor = report.timings[0].forward_seconds;
    let four = report
        .extrapolations
        .iter()
        .find(|r| r.method == Method::Grid && r.parameters == 4)
        .unwrap();
    assert!((four.seconds.unwrap() / (1e12 * xor) - 1.0).abs() < 1e-9);
    let rows: Vec<_> = report
        .extrapolations
        .iter()
        .filter(|r| r.parameters == 23_860)
        .collect();
    let grid = rows.iter().find(|r| r.method == Method::Grid).unwrap();
    assert_eq!(grid.time, "longer than the age of the universe");
    assert_eq!(grid.evaluations_log10, 3.0 * 23_860.0);
    let nudged = rows
        .iter()
        .find(|r| r.method == Method::OneAtATime && r.one_step)
        .unwrap();
    assert_eq!(nudged.evaluations_log10, 23_861f64.log10());
    assert!((nudged.seconds.unwrap() / (23_861.0 * timing.forward_seconds) - 1.0).abs() < 1e-9);
    let backprop = rows
        .iter()
        .find(|r| r.method == Method::Backprop && r.one_step)
        .unwrap();
    assert_eq!(
        backprop.seconds_per_evaluation,
        timing.backprop_step_seconds
    );
    assert!(report
        .extrapolations
        .iter()
        .any(|r| r.parameters > 1_000_000));
}

#[test]
fn the_report_renders_as_a_table_json_and_a_plot() {
    let report = report();
    let text = report.render_text(false);
    for needle in [
        "all combinations (5²)",
        "one weight at a time",
        "backpropagation",
        "16.7 minutes",
        "11.6 days",
        "longer than the age of the universe",
        "23,860 parameters",
        "layers.1.weight[0, 1]",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    let json = report.to_json();
    assert_eq!(json["runs"][0]["method"], "grid");
    assert_eq!(json["runs"][0]["evaluations"], 25);
    let svg = compare_plot_svg(report);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("backpropagation (one step)") && svg.contains("the age of the universe"));
    // No two markers overlap (centres at least 10 px apart; radius 4 plus the stroke).
    let centres: Vec<(f64, f64)> = svg
        .lines()
        .filter(|line| line.starts_with("<circle"))
        .map(|line| {
            let attribute = |name: &str| -> f64 {
                let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                line[start..start + line[start..].find('"').unwrap()]
                    .parse()
                    .unwrap()
            };
            (attribute("cx"), attribute("cy"))
        })
        .collect();
    assert!(centres.len() > 5, "{svg}");
    for (i, a) in centres.iter().enumerate() {
        for b in &centres[i + 1..] {
            assert!(
                (a.0 - b.0).hypot(a.1 - b.1) >= 9.9,
                "{a:?} and {b:?} overlap"
            );
        }
    }
}

#[test]
fn durations_read_in_human_units() {
    let year = 365.25 * 86_400.0;
    let cases = [
        (0.0, "0 s"),
        (5e-7, "500 ns"),
        (1e-6, "1 µs"),
        (999e-6, "999 µs"),
        (1e-3, "1 ms"),
        (0.9999, "1 s"),
        (59.9, "59.9 s"),
        (60.0, "1 minute"),
        (3599.0, "1 hour"),
        (7200.0, "2 hours"),
        (86_400.0, "1 day"),
        (year, "1 year"),
        (2.5e3 * year, "2.5 thousand years"),
        (13.8e9 * year, "13.8 billion years"),
        (13.9e9 * year, "longer than the age of the universe"),
        (f64::INFINITY, "longer than the age of the universe"),
    ];
    for (seconds, text) in cases {
        assert_eq!(format_duration(seconds), text, "{seconds} s");
    }
}

#[test]
fn weight_positions_parse_and_must_exist() {
    let position: WeightPosition = "layers.1.weight[0, 2]".parse().unwrap();
    assert_eq!(position, WeightPosition::new("layers.1.weight", 0, 2));
    assert_eq!(position.to_string(), "layers.1.weight[0, 2]");
    assert!("layers.1.weight".parse::<WeightPosition>().is_err());
    let config = CompareConfig {
        free_weights: vec![WeightPosition::new("layers.5.weight", 0, 0)],
        free_counts: vec![1],
        training_epochs: 1,
        large_networks: vec![],
        ..CompareConfig::quick()
    };
    assert!(compare(&config)
        .unwrap_err()
        .to_string()
        .contains("layers.5.weight"));
}
