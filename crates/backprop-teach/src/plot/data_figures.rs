//! The figures that look at the network itself or run it on data: the diagram, the confusion
//! matrix, and for two input features the decision boundary and each hidden neuron's heat map.
//!
//! Grid points are raw feature values; the model's stored input scaler is applied before the
//! network sees them, exactly as `predict` does.

use super::confusion::confusion_svg;
use super::figures::{Figure, FigureData, FigureKind, Unavailable};
use super::heatmap::{confident, diverging, Heatmap, HIGH, LOW};
use super::plane::{activations, PlaneGrid, RowOrder};
use super::svg::{num, palette, Svg};
use crate::{diagram_svg, DiagramOptions};
use backprop::activation::Activation;
use backprop::evaluation::ClassificationReport;
use backprop::model::Model;
use backprop_tensor::Matrix;

/// Grid cells per side of the decision-boundary map.
const BOUNDARY_GRID: usize = 60;
/// Grid cells per side of a neuron's map.
const NEURON_GRID: usize = 32;
/// The most hidden neurons drawn.
const MAX_NEURONS: usize = 48;
/// The most data points drawn on a map.
const MAX_POINTS: usize = 600;

/// The network diagram, nodes shaded by their bias.
///
/// A network that starts with convolutions is drawn as its first layer's filters instead:
/// those are the weights a reader can see learn (strokes and edges on images), where a
/// diagram of thousands of lines would show nothing.
pub fn diagram_figure(model: &Model) -> std::result::Result<Figure, Unavailable> {
    if model.network.feature_count() > 0 {
        let title = "The first convolution's filters".to_string();
        let options = crate::FilterOptions {
            title: title.clone(),
            first_only: true,
            ..crate::FilterOptions::default()
        };
        let svg = crate::filters_svg(&model.network.cast::<f64>(), &options)?;
        return Ok(Figure {
            kind: FigureKind::Diagram,
            title,
            svg,
        });
    }
    if !model.network.config().hidden_dropout.is_empty() {
        return Err(
            "the diagram names dense layers layers.0, layers.1, …, and this model's \
                    dropout entries between them shift those names"
                .into(),
        );
    }
    let sizes: Vec<String> = model
        .network
        .config()
        .sizes
        .iter()
        .map(|s| s.to_string())
        .collect();
    let title = format!("The network {}", sizes.join("-"));
    let svg = diagram_svg(
        &model.network,
        &DiagramOptions::default().with_title(&title),
    )
    .map_err(|error| error.to_string())?;
    Ok(Figure {
        kind: FigureKind::Diagram,
        title,
        svg,
    })
}

/// The class each row is predicted to be.
fn predicted_classes(
    model: &Model,
    features: &Matrix<f32>,
) -> std::result::Result<Vec<usize>, Unavailable> {
    let outputs = model.predict(features).map_err(|error| error.to_string())?;
    Ok(if outputs.cols() == 1 {
        outputs
            .as_slice()
            .iter()
            .map(|&p| usize::from(p > 0.5))
            .collect()
    } else {
        outputs.argmax_rows()
    })
}

/// The number of classes and their names.
fn class_names(model: &Model) -> Vec<String> {
    let outputs = model.network.output_width();
    match &model.metadata.preprocessing.class_names {
        Some(names) => names.clone(),
        None => (0..outputs.max(2)).map(|c| c.to_string()).collect(),
    }
}

/// The confusion matrix of the model on the data.
pub fn confusion_figure(
    model: &Model,
    data: &FigureData,
) -> std::result::Result<Figure, Unavailable> {
    let Some(labels) = &data.labels else {
        return Err("a confusion matrix needs a classifier and labelled data".into());
    };
    let predicted = predicted_classes(model, &data.features)?;
    let names = class_names(model);
    let report = ClassificationReport::new(&predicted, labels, names.len());
    let title = "Confusion matrix".to_string();
    let svg = confusion_svg(&title, &data.description, &report.confusion, &names);
    Ok(Figure {
        kind: FigureKind::Confusion,
        title,
        svg,
    })
}

/// A `cells` × `cells` grid over the data's range in each feature, widened by a tenth; row 0
/// at the bottom, as [`Heatmap`] draws it.
fn data_grid(features: &Matrix<f32>, cells: usize) -> PlaneGrid {
    let range = |column: usize| {
        let values = (0..features.rows()).map(|row| f64::from(features[(row, column)]));
        let low = values.clone().fold(f64::INFINITY, f64::min);
        let high = values.fold(f64::NEG_INFINITY, f64::max);
        let (low, high) = if low.is_finite() && high > low {
            (low, high)
        } else {
            (-1.0, 1.0)
        };
        let pad = (high - low) * 0.1;
        (low - pad, high + pad)
    };
    PlaneGrid {
        x: range(0),
        y: range(1),
        cells,
        rows: RowOrder::BottomFirst,
    }
}

fn check_plane(model: &Model) -> std::result::Result<(), Unavailable> {
    let width = model.network.input_width();
    if width != 2 {
        return Err(format!(
            "heat maps need two input features; this model has {width}"
        ));
    }
    Ok(())
}

/// The data as dots coloured by class (or grey without labels), at most [`MAX_POINTS`].
fn points(data: &FigureData) -> Vec<(f64, f64, String)> {
    let rows = data.features.rows();
    let every = rows.div_ceil(MAX_POINTS).max(1);
    (0..rows)
        .step_by(every)
        .map(|row| {
            let colour = match &data.labels {
                Some(labels) if labels.len() == rows => class_colour(labels[row]),
                _ => "#444444".to_string(),
            };
            (
                f64::from(data.features[(row, 0)]),
                f64::from(data.features[(row, 1)]),
                colour,
            )
        })
        .collect()
}

/// What the dots are: the rows, and that a dot's colour is its true class (what the data say),
/// not the prediction, which the background shows.
fn dots_note(data: &FigureData, classification: bool) -> String {
    if classification && data.labels.is_some() {
        format!(
            "dots: {}; a dot's colour is its true class, the background the prediction",
            data.description
        )
    } else {
        format!("dots: {}", data.description)
    }
}

/// Class 0 orange and class 1 blue (as the diverging scale), then the palette.
fn class_colour(class: usize) -> String {
    match class {
        0 => LOW.to_string(),
        1 => HIGH.to_string(),
        other => palette(other).to_string(),
    }
}

fn feature_names(model: &Model) -> (String, String) {
    let names = &model.metadata.preprocessing.feature_names;
    match names.as_slice() {
        [x, y] => (x.clone(), y.clone()),
        _ => ("x₁".into(), "x₂".into()),
    }
}

/// The decision boundary: each grid point coloured by the predicted class (two classes: the
/// probability of class 1 on the orange-white-blue scale; more: the class's colour, paler
/// where the network is less sure); regression shows the output's value.
pub fn boundary_figure(
    model: &Model,
    data: &FigureData,
) -> std::result::Result<Figure, Unavailable> {
    check_plane(model)?;
    let grid = data_grid(&data.features, BOUNDARY_GRID);
    let outputs = model
        .predict(&grid.matrix())
        .map_err(|error| error.to_string())?;
    let classification = model.metadata.task == "classification";
    let (cells, notes): (Vec<String>, Vec<String>) = if classification && outputs.cols() <= 2 {
        let column = outputs.cols() - 1;
        let cells = (0..outputs.rows())
            .map(|row| diverging(f64::from(outputs[(row, column)])))
            .collect();
        let names = class_names(model);
        (cells, vec![format!("colour: the probability of class {} (blue) against {} (orange); white is the boundary, p = 0.5", names[1], names[0])])
    } else if classification {
        let cells = (0..outputs.rows())
            .map(|row| {
                let values: Vec<f32> = (0..outputs.cols()).map(|c| outputs[(row, c)]).collect();
                let (class, best) =
                    values
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f32::MIN),
                            |acc, (c, &v)| if v > acc.1 { (c, v) } else { acc },
                        );
                let chance = 1.0 / outputs.cols() as f64;
                class_colour_confident(class, (f64::from(best) - chance) / (1.0 - chance))
            })
            .collect();
        (
            cells,
            vec!["colour: the predicted class, paler where the network is less sure".into()],
        )
    } else {
        let values: Vec<f64> = (0..outputs.rows())
            .map(|row| f64::from(outputs[(row, 0)]))
            .collect();
        let (low, high) = min_max(&values);
        let cells = values
            .iter()
            .map(|v| diverging((v - low) / (high - low)))
            .collect();
        (
            cells,
            vec![format!(
                "colour: the prediction, from {} (orange) to {} (blue)",
                num(low),
                num(high)
            )],
        )
    };
    let title = if classification {
        "Decision boundary"
    } else {
        "The prediction over the input plane"
    }
    .to_string();
    let map = Heatmap {
        title: title.clone(),
        axis_names: feature_names(model),
        x_range: grid.x,
        y_range: grid.y,
        columns: BOUNDARY_GRID,
        rows: BOUNDARY_GRID,
        cells,
        points: points(data),
        notes: [notes, vec![dots_note(data, classification)]].concat(),
    };
    Ok(Figure {
        kind: FigureKind::Boundary,
        title,
        svg: map.to_svg(420.0),
    })
}

fn class_colour_confident(class: usize, confidence: f64) -> String {
    confident(&class_colour(class), confidence)
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if low.is_finite() && high > low {
        (low, high)
    } else {
        (low.min(0.0), low.max(0.0) + 1.0)
    }
}

/// The value range a neuron's activation is drawn on: the activation's own range where it
/// has one (sigmoid [0, 1], tanh [−1, 1]), else what the grid reaches.
fn activation_range(activation: Activation, values: &[f64]) -> (f64, f64) {
    match activation {
        Activation::Sigmoid => (0.0, 1.0),
        Activation::Tanh => (-1.0, 1.0),
        _ => min_max(values),
    }
}

/// One small heat map per hidden neuron: its activation aˡⱼ over the input plane, orange
/// low, blue high — what each neuron has learned to detect.
pub fn neurons_figure(
    model: &Model,
    data: &FigureData,
) -> std::result::Result<Figure, Unavailable> {
    check_plane(model)?;
    let dense = model.network.dense_layers();
    if dense.len() < 2 {
        return Err("the network has no hidden layer".into());
    }
    let grid = data_grid(&data.features, NEURON_GRID);
    let raw = grid.matrix();
    let inputs = match &model.metadata.preprocessing.input_scaler {
        Some(scaler) => scaler.transform(&raw),
        None => raw,
    };
    let plane = activations(&model.network, &inputs);
    let mut maps = Vec::new();
    let mut left_out = 0;
    for (layer, (a, dense_layer)) in plane.hidden.iter().zip(&dense).enumerate() {
        for unit in 0..a.cols() {
            if maps.len() == MAX_NEURONS {
                left_out += 1;
                continue;
            }
            let values: Vec<f64> = (0..a.rows()).map(|row| f64::from(a[(row, unit)])).collect();
            let (low, high) = activation_range(dense_layer.activation, &values);
            let cells = values
                .iter()
                .map(|v| diverging((v - low) / (high - low)))
                .collect();
            maps.push(Heatmap {
                title: format!("layer {}, unit {}", layer + 1, unit + 1),
                axis_names: feature_names(model),
                x_range: grid.x,
                y_range: grid.y,
                columns: NEURON_GRID,
                rows: NEURON_GRID,
                cells,
                points: Vec::new(),
                notes: Vec::new(),
            });
        }
    }
    let title = "Hidden neurons: each unit's activation over the input plane".to_string();
    let mut notes = vec![
        "orange: low activation, blue: high (sigmoid 0…1, tanh −1…1, others their own range)"
            .to_string(),
    ];
    if left_out > 0 {
        notes.push(format!("{left_out} more hidden units left out"));
    }
    let tiles: Vec<String> = maps.iter().map(|map| map.to_svg(150.0)).collect();
    Ok(Figure {
        kind: FigureKind::Neurons,
        svg: tile(&title, &tiles, 166.0, 192.0, &notes),
        title,
    })
}

/// Small SVG documents of `tile_width` × `tile_height` laid out in rows under a title, as
/// nested `<svg>` elements.
pub fn tile(
    title: &str,
    tiles: &[String],
    tile_width: f64,
    tile_height: f64,
    notes: &[String],
) -> String {
    let columns = tiles.len().clamp(1, 6);
    let rows = tiles.len().div_ceil(columns);
    let width = (columns as f64 * tile_width + 16.0).max(520.0);
    let height = 44.0 + rows as f64 * tile_height + 18.0 * notes.len() as f64 + 10.0;
    let mut svg = Svg::new(width, height);
    svg.title(width / 2.0, 26.0, 15.0, title);
    let mut body = String::new();
    for (index, tile) in tiles.iter().enumerate() {
        let x = 8.0 + (index % columns) as f64 * tile_width;
        let y = 40.0 + (index / columns) as f64 * tile_height;
        body.push_str(&tile.replacen(
            "<svg ",
            &format!("<svg x=\"{}\" y=\"{}\" ", num(x), num(y)),
            1,
        ));
    }
    let mut y = 44.0 + rows as f64 * tile_height + 8.0;
    for note in notes {
        svg.text(12.0, y, "start", 11.0, "#555555", note);
        y += 18.0;
    }
    let document = svg.finish();
    document.replacen("</svg>\n", &format!("{body}</svg>\n"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::cost::Cost;
    use backprop::model::ModelMetadata;
    use backprop::network::NetworkConfig;
    use backprop::train::Task;

    fn model(sizes: &[usize]) -> Model {
        let config = NetworkConfig::new(sizes, Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_seed(5);
        let network = config.init::<f32>().unwrap();
        Model::new(
            network,
            ModelMetadata::describe(&config, Task::Classification),
        )
        .unwrap()
    }

    fn data(width: usize) -> FigureData {
        let features = Matrix::from_fn(20, width, |row, column| {
            (row as f32 * 0.3 - 3.0) * if column == 0 { 1.0 } else { -0.5 }
        });
        FigureData {
            features,
            labels: Some((0..20).map(|row| row % 2).collect()),
            description: "twenty rows".into(),
        }
    }

    #[test]
    fn the_boundary_covers_the_data_and_draws_its_points() {
        let figure = boundary_figure(&model(&[2, 3, 2]), &data(2)).unwrap();
        assert_eq!(figure.kind, FigureKind::Boundary);
        assert!(figure.svg.contains(">Decision boundary</text>"));
        assert_eq!(figure.svg.matches("<circle").count(), 20);
        assert!(figure.svg.contains("dots: twenty rows"));
        assert!(figure.svg.contains("a dot's colour is its true class"));
    }

    #[test]
    fn each_hidden_unit_gets_a_map() {
        let figure = neurons_figure(&model(&[2, 3, 4, 2]), &data(2)).unwrap();
        for title in ["layer 1, unit 3", "layer 2, unit 4"] {
            assert!(figure.svg.contains(title), "{title}");
        }
        assert!(
            !figure.svg.contains("layer 3"),
            "the output layer is not a hidden one"
        );
        assert_eq!(figure.svg.matches("<svg ").count(), 1 + 7);
    }

    #[test]
    fn maps_need_two_features_and_a_confusion_matrix_counts_every_row() {
        let wide = model(&[3, 4, 2]);
        let error = boundary_figure(&wide, &data(3)).unwrap_err();
        assert!(
            error.contains("two input features; this model has 3"),
            "{error}"
        );
        assert!(neurons_figure(&wide, &data(3)).is_err());
        let confusion = confusion_figure(&wide, &data(3)).unwrap();
        assert!(confusion.svg.contains(" of 20 right"), "{}", confusion.svg);
    }
}
