//! Every calculation `explain` prints checks by hand: each `expression = result` in the text
//! (forward pass, σ′, BP1, BP2, BP3/BP4, the update, the chain rule for one weight) is
//! re-evaluated here from its printed operands and must land within one unit of the printed
//! result's last digit.

use backprop::{Activation, Cost, NetworkConfig};
use backprop_teach::{
    chain_rule, explain_step, render_text, CompanyExample, TextStyle, WeightName,
};

/// A tiny parser for the printed arithmetic: numbers (`-0.25`, `1.5e-5`), `+`, `−` (U+2212),
/// `×`, parentheses and the activations `sigmoid(…)`, `tanh(…)`, `relu(…)`, `identity(…)`.
struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn skip(&mut self) {
        self.text = self.text.trim_start();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip();
        match self.text.strip_prefix(token) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    fn sum(&mut self) -> Option<f64> {
        let mut value = self.product()?;
        loop {
            if self.eat("+") {
                value += self.product()?;
            } else if self.eat("−") {
                value -= self.product()?;
            } else {
                return Some(value);
            }
        }
    }

    fn product(&mut self) -> Option<f64> {
        let mut value = self.atom()?;
        while self.eat("×") {
            value *= self.atom()?;
        }
        Some(value)
    }

    fn atom(&mut self) -> Option<f64> {
        if self.eat("(") {
            let value = self.sum()?;
            return self.eat(")").then_some(value);
        }
        for (name, function) in [
            (
                "sigmoid(",
                (|z: f64| 1.0 / (1.0 + (-z).exp())) as fn(f64) -> f64,
            ),
            ("tanh(", f64::tanh),
            ("relu(", |z: f64| z.max(0.0)),
            ("identity(", |z: f64| z),
        ] {
            if self.eat(name) {
                let value = self.sum()?;
                return self.eat(")").then(|| function(value));
            }
        }
        self.skip();
        let end = self
            .text
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || c == '.'
                    || c == 'e'
                    || (c == '-' && (i == 0 || self.text[..i].ends_with('e'))))
            })
            .map_or(self.text.len(), |(i, _)| i);
        let (number, rest) = self.text.split_at(end);
        let value = number.parse().ok()?;
        self.text = rest;
        Some(value)
    }
}

/// The whole of `text` as an expression with at least one operator, or `None`.
fn evaluate(text: &str) -> Option<f64> {
    if !text.contains(['×', '+', '−', '(']) {
        return None;
    }
    let mut parser = Parser { text };
    let value = parser.sum()?;
    parser.skip();
    parser.text.is_empty().then_some(value)
}

/// One unit of the last printed digit of `text`: `0.1344` → 1e-4, `-1.234e-5` → 1e-8.
fn last_digit(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    value.is_finite().then(|| 10f64.powi(exponent - decimals))
}

/// Checks every `expression = number` in `text`; returns how many were checked.
fn check_all(text: &str) -> usize {
    let mut checked = 0;
    for line in text.lines() {
        for equation in line.split(";  ") {
            // Drop a trailing annotation: "= -0.0127   (layers.0.bias[0])", "…: the a − y …".
            let equation = equation.split("   (").next().unwrap();
            let parts: Vec<&str> = equation.split(" = ").collect();
            for pair in parts.windows(2) {
                let left = pair[0].rsplit(": ").next().unwrap().trim();
                let right = pair[1]
                    .split([':', ' ', ',', ';'])
                    .next()
                    .unwrap()
                    .trim_end_matches('.');
                let (Some(value), Some(unit)) = (evaluate(left), last_digit(right)) else {
                    continue;
                };
                let printed: f64 = right.parse().unwrap();
                assert!(
                    (value - printed).abs() <= unit * 1.000_001,
                    "{left} = {value}, printed {printed} (last digit {unit}) in:\n{line}"
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn the_parser_reads_what_is_printed() {
    assert_eq!(evaluate("0.5 × (1 − 0.5)"), Some(0.25));
    assert_eq!(evaluate("(-0.5) × 2 + 1.5e-1"), Some(-0.85));
    assert_eq!(evaluate("sigmoid(0)"), Some(0.5));
    assert_eq!(evaluate("0.25"), None);
    assert_eq!(last_digit("-0.1344"), Some(1e-4));
    assert!((last_digit("1.234e-5").unwrap() - 1e-8).abs() < 1e-20);
    // A wrong printed result is caught.
    let caught = std::panic::catch_unwind(|| check_all("  x = 0.5 × 0.5 = 0.2502"));
    assert!(caught.is_err());
}

#[test]
fn every_printed_calculation_checks_by_hand() {
    let mut cases = vec![
        CompanyExample::default(),
        CompanyExample {
            signals: [0.0, 1.0],
            result: 0.0,
            ..CompanyExample::default()
        },
        CompanyExample {
            seed: 3,
            signals: [0.2, -1.0],
            result: 0.0,
            learning_rate: 0.5,
        },
    ];
    cases.extend((10..14).map(|seed| CompanyExample {
        seed,
        signals: [-0.5, 2.0],
        ..CompanyExample::default()
    }));
    for example in cases {
        let explanation = example.explain().unwrap();
        for style in [TextStyle::company(false), TextStyle::default()] {
            let text = render_text(&explanation, &style);
            // 9 forward equations (6 sums, 4 activations), 4 σ′, BP1, 3 BP2 sums and δs,
            // 13 gradients, 13 updates: well over 40.
            let checked = check_all(&text);
            assert!(
                checked >= 40,
                "only {checked} equations checked in:\n{text}"
            );
        }
        for (index, (rows, columns)) in [(0, (3, 2)), (1, (1, 3))] {
            for row in 0..rows {
                for column in 0..columns {
                    let weight = WeightName {
                        layer_index: index,
                        to_unit: row,
                        from_unit: column,
                    };
                    let roles = example.roles();
                    let chain = chain_rule(&explanation, weight, Some(&roles)).unwrap();
                    assert!(check_all(&chain.text) >= 2, "{}", chain.text);
                }
            }
        }
    }
}

#[test]
fn other_activations_and_costs_check_by_hand_too() {
    for (hidden, output, cost) in [
        (Activation::Tanh, Activation::Identity, Cost::Quadratic),
        (
            Activation::Relu,
            Activation::Sigmoid,
            Cost::BinaryCrossEntropy,
        ),
        (Activation::Sigmoid, Activation::Tanh, Cost::Quadratic),
    ] {
        let network = NetworkConfig::new(&[3, 4, 2], cost)
            .with_hidden_activation(hidden)
            .with_output_activation(output)
            .with_seed(5)
            .init::<f64>()
            .unwrap();
        let explanation = explain_step(&network, &[0.3, -1.2, 0.8], &[0.0, 1.0], 0.5).unwrap();
        let text = render_text(&explanation, &TextStyle::default());
        let checked = check_all(&text);
        assert!(checked >= 40, "{hidden} / {output}: {checked} in:\n{text}");
    }
}
