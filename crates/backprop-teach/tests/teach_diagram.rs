//! Diagrams: one line per drawn weight, widths ordered like |w|, colours by sign (or by the
//! change), role labels, and honest notes for layers too wide to draw.

use backprop::{Activation, Cost, Matrix, NetworkConfig};
use backprop_teach::diagram::{GREW, NEGATIVE, POSITIVE, SHRANK};
use backprop_teach::{diagram_layout, diagram_svg, CompanyExample, DiagramOptions};

/// The value of `attribute="…"` in each `<line` element, in order.
fn line_attributes(svg: &str, attribute: &str) -> Vec<String> {
    let key = format!(" {attribute}=\"");
    svg.lines()
        .filter(|l| l.starts_with("<line"))
        .map(|l| {
            let start = l.find(&key).unwrap() + key.len();
            l[start..start + l[start..].find('"').unwrap()].to_string()
        })
        .collect()
}

fn company_options() -> DiagramOptions {
    DiagramOptions::default().with_roles(CompanyExample::default().roles())
}

#[test]
fn one_line_per_weight_with_role_labels() {
    let network = CompanyExample::default().network();
    let svg = diagram_svg(&network, &company_options()).unwrap();
    assert_eq!(svg.matches("<line").count(), 9);
    for label in [
        "salesperson 1",
        "salesperson 2",
        "manager 1",
        "manager 2",
        "manager 3",
        ">CEO<",
        "salespeople (2)",
        "managers (3)",
    ] {
        assert!(svg.contains(label), "missing {label}");
    }
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"")
            && svg.contains("font-family=\"sans-serif\"")
    );
    assert_eq!(svg, diagram_svg(&network, &company_options()).unwrap());
}

#[test]
fn widths_follow_magnitudes_and_colours_follow_signs() {
    let network = CompanyExample::default().network();
    let layout = diagram_layout(&network, &company_options()).unwrap();
    let svg = diagram_svg(&network, &company_options()).unwrap();
    let widths: Vec<f64> = line_attributes(&svg, "stroke-width")
        .iter()
        .map(|w| w.parse().unwrap())
        .collect();
    let colours = line_attributes(&svg, "stroke");
    assert_eq!(widths.len(), layout.edges.len());
    // One scale for the whole network: widths compare across layers, and only the largest
    // |w| of all gets the widest line.
    let largest = (0..2)
        .map(|layer| {
            network
                .parameter(&format!("layers.{layer}.weight"))
                .unwrap()
                .max_abs()
        })
        .fold(0.0, f64::max);
    let edges: Vec<(usize, f64)> = layout
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.weight))
        .collect();
    for &(i, w) in &edges {
        let edge = &layout.edges[i];
        let weight = network
            .parameter(&format!("layers.{}.weight", edge.layer))
            .unwrap();
        assert_eq!(weight[(edge.to_unit, edge.from_unit)], w);
        assert_eq!(colours[i], if w < 0.0 { NEGATIVE } else { POSITIVE });
        if w.abs() == largest {
            assert_eq!(widths[i], 8.0);
        } else {
            assert!(widths[i] < 8.0);
        }
        for &(other, v) in &edges {
            if w.abs() > v.abs() {
                assert!(
                    widths[i] > widths[other],
                    "|{w}| > |{v}| but width {} ≤ {}",
                    widths[i],
                    widths[other]
                );
            }
        }
    }
}

#[test]
fn wide_layers_show_their_strongest_units_and_say_what_is_missing() {
    let network = NetworkConfig::new(&[784, 30, 10], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Sigmoid)
        .with_seed(2)
        .init::<f32>()
        .unwrap();
    let options = DiagramOptions::default().with_max_units_per_layer(12);
    let layout = diagram_layout(&network, &options).unwrap();
    let svg = diagram_svg(&network, &options).unwrap();
    assert_eq!(svg.matches("<line").count(), 12 * 12 + 10 * 12);
    let [input, hidden, output] = &layout.columns[..] else {
        panic!("3 columns")
    };
    assert_eq!((input.hidden_units, input.hidden_weights), (772, 0));
    assert_eq!(
        (hidden.hidden_units, hidden.hidden_weights),
        (18, 30 * 784 - 144)
    );
    assert_eq!((output.hidden_units, output.hidden_weights), (0, 300 - 120));
    let note = |c: &backprop_teach::diagram::Column| c.note.clone().unwrap_or_default();
    assert_eq!(note(input), "… 772 more units not shown");
    assert_eq!(
        note(hidden),
        "… 18 more units, 23,376 more weights not shown"
    );
    assert_eq!(note(output), "… 180 more weights not shown");
    for shown in [
        "… 772 more units not shown",
        "… 18 more units,",
        ">23,376 more weights not shown<",
        "… 180 more weights not shown",
    ] {
        assert!(svg.contains(shown), "missing {shown}");
    }
    // The drawn hidden units are the strongest: Σ|w| in and out.
    let strength = |j: usize| {
        let w1 = network.parameter("layers.0.weight").unwrap();
        let w2 = network.parameter("layers.1.weight").unwrap();
        w1.row(j).iter().map(|v| v.abs() as f64).sum::<f64>()
            + (0..10).map(|o| w2[(o, j)].abs() as f64).sum::<f64>()
    };
    let drawn: Vec<usize> = hidden.nodes.iter().map(|n| n.unit).collect();
    let weakest_drawn = drawn
        .iter()
        .map(|&j| strength(j))
        .fold(f64::INFINITY, f64::min);
    assert!((0..30)
        .filter(|j| !drawn.contains(j))
        .all(|j| strength(j) <= weakest_drawn));
}

#[test]
fn the_change_is_drawn_by_growth_and_size() {
    let example = CompanyExample::default();
    let explanation = example.explain().unwrap();
    let options = company_options().with_before(explanation.network_before());
    let layout = diagram_layout(explanation.network_after(), &options).unwrap();
    assert!(layout.shows_change);
    let largest = layout
        .edges
        .iter()
        .map(|e| e.change.unwrap().abs())
        .fold(0.0, f64::max);
    for edge in &layout.edges {
        let change = edge.change.unwrap();
        let old = edge.weight - change;
        assert_eq!(
            edge.colour,
            if edge.weight.abs() > old.abs() {
                GREW
            } else {
                SHRANK
            }
        );
        if change.abs() == largest {
            assert_eq!(edge.width, 8.0);
        }
    }
    let svg = diagram_svg(explanation.network_after(), &options).unwrap();
    assert!(svg.contains("trust grew") && svg.contains("|Δw|"));
}

#[test]
fn nodes_are_shaded_by_the_engines_activations() {
    let example = CompanyExample::default();
    let network = example.network();
    let options = company_options().with_activations_for(&example.signals);
    let layout = diagram_layout(&network, &options).unwrap();
    let trace = network.trace(
        &Matrix::row_vector(&example.signals),
        &Matrix::row_vector(&[example.result]),
    );
    for (column, layer) in layout.columns[1..].iter().zip(&trace.layers) {
        for node in &column.nodes {
            assert_eq!(node.value, Some(layer.a[(0, node.unit)]));
        }
    }
    assert_eq!(layout.columns[0].nodes[1].value, Some(example.signals[1]));
    assert!(diagram_svg(&network, &company_options().with_activations_for(&[1.0])).is_err());
}
