//! What a learner reads counts from 1 and names the model file's 0-based tensors beside it;
//! `explain --steps` trains the company on several sales unless the learner asks for one.

mod model_commands;

use model_commands::{backprop, success};

fn json_of(arguments: &[&str]) -> serde_json::Value {
    serde_json::from_str(success(arguments, &backprop(arguments)).trim()).unwrap()
}

#[test]
fn explain_json_counts_units_from_one_and_names_the_tensor_elements() {
    let json = json_of(&["explain", "--json"]);
    assert!(json["counting"].as_str().unwrap().contains("from 1"));
    let layers = json["layers"].as_array().unwrap();
    for (index, layer) in layers.iter().enumerate() {
        assert_eq!(layer["layer"], index + 1);
        assert_eq!(layer["weight_tensor"], format!("layers.{index}.weight"));
        assert_eq!(layer["bias_tensor"], format!("layers.{index}.bias"));
        let units = layer["units"].as_array().unwrap();
        for (row, unit) in units.iter().enumerate() {
            assert_eq!(unit["unit"], row + 1, "layer {}", index + 1);
            for term in unit["feedback"].as_array().unwrap() {
                let from = term["from_unit"].as_u64().unwrap() as usize;
                assert!((1..=layers[index + 1]["units"].as_array().unwrap().len()).contains(&from));
            }
        }
        // Each listed weight: 1-based units, the file's 0-based element, the same value.
        for entry in layer["summary"]["strongest_weights"].as_array().unwrap() {
            let (j, k) = (
                entry["to_unit"].as_u64().unwrap() as usize,
                entry["from_unit"].as_u64().unwrap() as usize,
            );
            assert!(j >= 1 && k >= 1);
            assert_eq!(
                entry["tensor_element"],
                format!("layers.{index}.weight[{}, {}]", j - 1, k - 1)
            );
            assert_eq!(entry["value"], units[j - 1]["weights"][k - 1]);
        }
        for entry in layer["summary"]["largest_deltas"].as_array().unwrap() {
            let j = entry["unit"].as_u64().unwrap() as usize;
            assert_eq!(entry["value"], units[j - 1]["delta"]);
        }
    }
}

#[test]
fn the_chain_rule_json_gives_the_file_name_beside_the_notation() {
    let json = json_of(&["explain", "--weight", "layers.1.weight[0,1]", "--json"]);
    let weight = &json["weight"];
    assert_eq!(weight["name"], "layers.1.weight[0, 1]");
    assert_eq!(weight["layer"], 2);
    assert_eq!(weight["to_unit"], 1);
    assert_eq!(weight["from_unit"], 2);
    assert_eq!(json["symbol"], "w²₁₂");
}

#[test]
fn plain_steps_train_the_company_on_the_four_sales_and_show_the_weights() {
    let arguments = ["explain", "--steps", "20000"];
    let text = success(&arguments, &backprop(&arguments));
    assert!(text.contains("XOR's four sales as one batch"), "{text}");
    assert!(text.contains("changed their weights"), "{text}");
    assert!(
        text.contains("step 20000"),
        "the table reaches the last step:\n{text}"
    );
    assert!(text.contains("sale 1 (signals 0, 0; verdict 0)"), "{text}");
    assert!(text.contains("4 of 4 sales"), "{text}");
    assert!(!text.contains("One sale is easy"), "{text}");
    // The same run as JSON: every weight at the kept steps, and it moved.
    let json = json_of(&["explain", "--steps", "20000", "--json"]);
    let weights = json["weights"].as_array().unwrap();
    assert_eq!(weights.first().unwrap()["step"], 0);
    assert_eq!(weights.last().unwrap()["step"], 20000);
    let ceo =
        |snapshot: &serde_json::Value| snapshot["layers"][1]["weight"][0][1].as_f64().unwrap();
    assert!((ceo(weights.last().unwrap()) - ceo(&weights[0])).abs() > 1.0);
}

#[test]
fn asking_for_one_sale_steps_that_sale_and_says_it_is_easy() {
    let arguments = ["explain", "--steps", "1000", "--signals", "1,0.5"];
    let text = success(&arguments, &backprop(&arguments));
    assert!(text.contains("until every |a − y|"), "{text}");
    assert!(text.contains("One sale is easy"), "{text}");
    assert!(!text.contains(" 1 steps"), "{text}");
    let once = ["explain", "--steps", "1", "--result", "1"];
    let text = success(&once, &backprop(&once));
    assert!(text.contains("After 1 step "), "{text}");
    // A page explains one sale; for the four sales it is refused, in words.
    let refused = backprop(&["explain", "--steps", "5", "--html", "page.html"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("--html") && message.contains("--signals"),
        "{message}"
    );
    assert!(!std::path::Path::new("page.html").exists());
}
