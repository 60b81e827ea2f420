//! The words `explain` uses must match the numbers: an unchanged weight is called unchanged, a
//! negative weight that shrinks towards 0 is "less strongly the other way" (never "trusts
//! less" or "more"), a weight that crosses 0 is a sign change, and each δ's sign is told as
//! "should report lower / higher". Cases are found by searching seeds, so each rule is tested
//! on a weight that really does what the words claim.

use backprop_teach::explanation::Explanation;
use backprop_teach::{render_text, CompanyExample, TextStyle};

/// The update line of weight wˡⱼₖ (1-based), as printed in section 6.
fn update_line(text: &str, l: usize, j: usize, k: usize) -> String {
    let sup = ['⁰', '¹', '²', '³'][l];
    let sub = |n: usize| ['₀', '₁', '₂', '₃', '₄'][n];
    let prefix = format!("w{sup}{}{}: ", sub(j), sub(k));
    text.lines()
        .map(str::trim_start)
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{text}"))
        .to_string()
}

/// Every weight of an explanation: (l, j, k, old, new), 1-based l; j, k from 0.
fn weights(e: &Explanation) -> Vec<(usize, usize, usize, f64, f64)> {
    e.layers
        .iter()
        .flat_map(|layer| {
            layer.units.iter().flat_map(move |unit| {
                (0..unit.weights.len()).map(move |k| {
                    (
                        layer.layer,
                        unit.unit,
                        k,
                        unit.weights[k],
                        unit.new_weights[k],
                    )
                })
            })
        })
        .collect()
}

/// The first (example, weight) over seeds and learning rates whose old and new values satisfy
/// `rule`.
fn find(rule: impl Fn(f64, f64) -> bool) -> (CompanyExample, Explanation, (usize, usize, usize)) {
    for learning_rate in [2.0, 20.0, 200.0] {
        for seed in 0..60 {
            let example = CompanyExample {
                seed,
                learning_rate,
                ..CompanyExample::default()
            };
            let e = example.explain().unwrap();
            if let Some(&(l, j, k, _, _)) = weights(&e)
                .iter()
                .find(|&&(_, _, _, old, new)| rule(old, new))
            {
                return (example, e, (l, j, k));
            }
        }
    }
    panic!("no weight found for the rule");
}

#[test]
fn an_unchanged_weight_is_called_unchanged() {
    // Salesperson 1 signals 0, so no weight on its report moves: ∂C/∂w = 0 · δ = 0.
    let example = CompanyExample {
        signals: [0.0, 1.0],
        result: 0.0,
        ..CompanyExample::default()
    };
    let e = example.explain().unwrap();
    let text = render_text(&e, &TextStyle::company(false));
    for j in 1..=3 {
        let line = update_line(&text, 1, j, 1);
        assert!(line.contains("unchanged"), "{line}");
        assert!(!line.contains("less") && !line.contains("more"), "{line}");
        // The weight from salesperson 2 did move, and is not called unchanged.
        assert!(!update_line(&text, 1, j, 2).contains("unchanged"));
    }
}

#[test]
fn a_negative_weight_shrinking_towards_zero_is_not_called_distrust() {
    let (_, e, (l, j, k)) = find(|old, new| old < 0.0 && new < 0.0 && new.abs() < old.abs());
    let text = render_text(&e, &TextStyle::company(false));
    let line = update_line(&text, l, j + 1, k + 1);
    assert!(line.contains("less strongly the other way"), "{line}");
    assert!(line.contains("w < 0, |w| shrinks"), "{line}");
    assert!(!line.contains("trusts"), "{line}");

    let (_, e, (l, j, k)) = find(|old, new| old < 0.0 && new < 0.0 && new.abs() > old.abs());
    let text = render_text(&e, &TextStyle::company(false));
    let line = update_line(&text, l, j + 1, k + 1);
    assert!(line.contains("more strongly the other way"), "{line}");

    let (_, e, (l, j, k)) = find(|old, new| old > 0.0 && new > old);
    let text = render_text(&e, &TextStyle::company(false));
    let line = update_line(&text, l, j + 1, k + 1);
    assert!(
        line.contains("trusts") && line.contains("more: w > 0, |w| grows"),
        "{line}"
    );
}

#[test]
fn a_weight_that_crosses_zero_is_a_sign_change() {
    for (rule, now) in [
        (
            (|old: f64, new: f64| old < 0.0 && new > 0.0) as fn(f64, f64) -> bool,
            "now raises",
        ),
        (|old: f64, new: f64| old > 0.0 && new < 0.0, "now lowers"),
    ] {
        let (_, e, (l, j, k)) = find(rule);
        let text = render_text(&e, &TextStyle::company(false));
        let line = update_line(&text, l, j + 1, k + 1);
        assert!(line.contains("sign change") && line.contains(now), "{line}");
    }
}

#[test]
fn each_delta_says_which_way_its_unit_should_report() {
    let e = CompanyExample::default().explain().unwrap();
    let text = render_text(&e, &TextStyle::company(false));
    for layer in &e.layers {
        for unit in &layer.units {
            let who = if layer.is_output {
                "the CEO".to_string()
            } else {
                format!("manager {}", unit.unit + 1)
            };
            let way = if unit.delta > 0.0 { "lower" } else { "higher" };
            let expected = format!("So {who} should report {way}");
            assert!(text.contains(&expected), "{expected:?} missing:\n{text}");
        }
    }
    // σ′ with its formula, and ∂C/∂a tied to the a − y of section 2.
    assert!(
        text.contains("σ′(z²₁) = σ(z²₁)(1 − σ(z²₁)) = a²₁(1 − a²₁) = "),
        "{text}"
    );
    assert!(text.contains("∂C/∂a²₁ = a²₁ − y₁ = "), "{text}");
    assert!(text.contains("the a − y of section 2"), "{text}");
    // One meaning of feedback; the salespeople do not learn; indices mapped.
    assert!(text.contains("customer's verdict") && !text.contains("customer feedback"));
    assert!(text.contains("do not learn"), "{text}");
    assert!(text.contains("w¹₁₂ is layers.0.weight[0, 1]"), "{text}");
}
