//! Value parsers for flags whose values have structure: layer lists, schedules, and the
//! library's named activations, costs and initialisations.
//!
//! Each returns `Err(String)` with a message that says what was expected; clap shows it and
//! exits with status 2.

use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::{Activation, Cost, Initialization};

/// The largest width accepted for one hidden layer.
pub const MAX_LAYER_WIDTH: usize = 1 << 20;

/// `--layers`: the hidden layer widths, possibly none, after the image layers (`conv:…`,
/// `maxpool:…`, `avgpool:…`, `dropout:…`) that come first, kept as written until the
/// activation is known; then, one per hidden width, the probability of a `dropout:P` entry
/// right after it (0 for none; empty when there is none at all).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HiddenLayers(pub Vec<usize>, pub Vec<String>, pub Vec<f64>);

/// `--schedule`: a learning-rate schedule before the number of steps is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScheduleSpec {
    /// The base rate throughout.
    Constant,
    /// Multiply by `gamma` every `step_size` optimisation steps.
    Step {
        /// Steps between multiplications.
        step_size: u64,
        /// The factor.
        gamma: f64,
    },
    /// Multiply by `gamma` every optimisation step.
    Exponential {
        /// The factor.
        gamma: f64,
    },
    /// Cosine annealing to `min_learning_rate` over all steps after the warm-up.
    Cosine {
        /// The final learning rate.
        min_learning_rate: f64,
    },
}

impl std::fmt::Display for ScheduleSpec {
    /// The form `--schedule` takes: `constant`, `step:100:0.5`, `exponential:0.99`,
    /// `cosine:0.0001`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleSpec::Constant => write!(formatter, "constant"),
            ScheduleSpec::Step { step_size, gamma } => {
                write!(formatter, "step:{step_size}:{gamma}")
            }
            ScheduleSpec::Exponential { gamma } => write!(formatter, "exponential:{gamma}"),
            ScheduleSpec::Cosine { min_learning_rate } => {
                write!(formatter, "cosine:{min_learning_rate}")
            }
        }
    }
}

/// Parses `128,64`, `""` or `none`.
pub fn parse_layers(text: &str) -> Result<HiddenLayers, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("none") {
        return Ok(HiddenLayers::default());
    }
    let parts: Vec<&str> = trimmed.split(',').map(str::trim).collect();
    let image_count = parts
        .iter()
        .take_while(|part| part.parse::<usize>().is_err())
        .count();
    let (image, dense) = parts.split_at(image_count);
    for entry in image {
        FeatureLayer::parse(entry, Activation::Relu)?;
    }
    // Between dense widths only dropout may stand, at most one after each width.
    let mut dropout: Vec<f64> = Vec::new();
    let mut widths_text: Vec<&str> = Vec::new();
    for part in dense {
        if part.parse::<usize>().is_ok() {
            widths_text.push(part);
            dropout.push(0.0);
            continue;
        }
        match FeatureLayer::parse(part, Activation::Relu) {
            Ok(FeatureLayer::Dropout { probability }) => match dropout.last_mut() {
                Some(last) if *last == 0.0 => *last = probability,
                _ => {
                    return Err(format!(
                        "{part:?}: one dropout entry at most after each dense width"
                    ))
                }
            },
            Ok(_) => {
                return Err(format!(
                    "{part:?} comes after a dense layer: convolutions and pooling come first, \
                     then the dense widths (with dropout:P between them where wanted)"
                ))
            }
            // A dropout entry that does not parse says why (its probability), not "not a width".
            Err(reason) if part.starts_with("dropout:") => return Err(reason),
            Err(_) => widths_text.push(part),
        }
    }
    if dropout.iter().all(|p| *p == 0.0) {
        dropout.clear();
    }
    let widths = widths_text
        .iter()
        .map(|part| match part.parse::<usize>() {
            Ok(0) => Err(format!(
                "a hidden layer needs at least 1 unit, got 0 in {text:?}"
            )),
            Ok(width) if width > MAX_LAYER_WIDTH => Err(format!(
                "a hidden layer of {width} units is too wide (at most {MAX_LAYER_WIDTH})"
            )),
            Ok(width) => Ok(width),
            Err(_) => Err(format!(
                "{part:?} is not a layer width: expected positive integers separated by \
                     commas, such as 128,64, or \"none\""
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HiddenLayers(
        widths,
        image.iter().map(|entry| entry.to_string()).collect(),
        dropout,
    ))
}

/// Parses `--input-shape CxHxW`.
pub fn parse_image_shape(text: &str) -> Result<ImageShape, String> {
    text.parse()
}

/// Parses an activation with the library's names.
pub fn parse_activation(text: &str) -> Result<Activation, String> {
    text.parse()
}

/// Parses a cost with the library's names (`bce`, `cross-entropy`, `mse`, …).
pub fn parse_cost(text: &str) -> Result<Cost, String> {
    text.parse()
}

/// Parses an initialisation with the library's names.
pub fn parse_initialization(text: &str) -> Result<Initialization, String> {
    text.parse::<Initialization>().map_err(|message| {
        format!(
            "{message} (expected pytorch, uniform[:LOW:HIGH], normal, scaled-normal, \
             xavier-uniform, xavier-normal, he-uniform or he-normal)"
        )
    })
}

/// Parses `--delimiter`: one ASCII character, or `tab`, `\t`, `comma`, `semicolon`, `space`,
/// `pipe`. Quotes and line breaks cannot be delimiters.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    let byte = match text.to_ascii_lowercase().as_str() {
        "tab" | "\\t" | "\t" => b'\t',
        "comma" => b',',
        "semicolon" => b';',
        "space" => b' ',
        "pipe" => b'|',
        _ => match text.as_bytes() {
            [byte] if byte.is_ascii() => *byte,
            _ => {
                return Err(format!(
                    "{text:?} is not a delimiter: expected one ASCII character such as ',' or ';', \
                     or tab"
                ))
            }
        },
    };
    if matches!(byte, b'"' | b'\n' | b'\r') || (byte.is_ascii_control() && byte != b'\t') {
        return Err(format!("{text:?} cannot be a delimiter"));
    }
    Ok(byte)
}

/// `--ignore` and `--features`: CSV columns by header name or 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnList(pub Vec<backprop_data::TargetColumn>);

/// Parses `id,2,comments` into columns: all digits is a 0-based index, anything else a name.
pub fn parse_columns(text: &str) -> Result<ColumnList, String> {
    let columns: Vec<backprop_data::TargetColumn> = text
        .split(',')
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse()
                .unwrap_or_else(|never: std::convert::Infallible| match never {})
        })
        .collect();
    if columns.is_empty() {
        return Err(format!(
            "{text:?} names no column (give names or 0-based indices, comma-separated)"
        ));
    }
    Ok(ColumnList(columns))
}

/// `--betas B1,B2`: Adam's two decay rates, each in [0, 1).
pub fn parse_betas(text: &str) -> Result<(f64, f64), String> {
    let values = parse_finite_numbers(text)
        .ok_or_else(|| format!("'{text}' is not two numbers B1,B2 (e.g. 0.9,0.999)"))?;
    match *values.as_slice() {
        [beta1, beta2] if (0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2) => {
            Ok((beta1, beta2))
        }
        [_, _] => Err(format!("'{text}': each beta must be in [0, 1)")),
        _ => Err(format!(
            "'{text}' is not two numbers B1,B2 (e.g. 0.9,0.999)"
        )),
    }
}

/// Parses `constant`, `step:STEP_SIZE:GAMMA`, `exponential:GAMMA` or `cosine[:MIN_LR]`.
pub fn parse_schedule(text: &str) -> Result<ScheduleSpec, String> {
    const FORMS: &str =
        "expected constant, step:STEP_SIZE:GAMMA, exponential:GAMMA or cosine[:MIN_LR]";
    let lower = text.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(':').collect();
    let number = |part: &str, what: &str| -> Result<f64, String> {
        part.parse::<f64>()
            .map_err(|_| format!("{part:?} is not a number for the {what} in {text:?}"))
    };
    match parts.as_slice() {
        ["constant"] => Ok(ScheduleSpec::Constant),
        ["step", step_size, gamma] => Ok(ScheduleSpec::Step {
            step_size: step_size
                .parse()
                .map_err(|_| format!("{step_size:?} is not a whole number of steps in {text:?}"))?,
            gamma: number(gamma, "factor GAMMA")?,
        }),
        ["exponential", gamma] => Ok(ScheduleSpec::Exponential {
            gamma: number(gamma, "factor GAMMA")?,
        }),
        ["cosine"] => Ok(ScheduleSpec::Cosine {
            min_learning_rate: 0.0,
        }),
        ["cosine", minimum] => Ok(ScheduleSpec::Cosine {
            min_learning_rate: number(minimum, "minimum learning rate")?,
        }),
        _ => Err(format!("unknown schedule {text:?}: {FORMS}")),
    }
}

/// Parses `1,0.5,-2` into finite numbers (`--input`, `--signals`, `--target-values`); `None`
/// when a part is not a number, is NaN or infinite, or the list is empty. The caller names the
/// flag in its message.
pub fn parse_finite_numbers(text: &str) -> Option<Vec<f64>> {
    let values = text
        .split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite())
        })
        .collect::<Option<Vec<f64>>>()?;
    (!values.is_empty()).then_some(values)
}

/// Parses `2,3,1` into at least two layer sizes, each from 1 to `max_size` (`gradcheck
/// --sizes`); `None` otherwise.
pub fn parse_layer_sizes(text: &str, max_size: usize) -> Option<Vec<usize>> {
    let sizes = text
        .split(',')
        .map(|part| part.trim().parse::<usize>().ok())
        .collect::<Option<Vec<usize>>>()?;
    (sizes.len() >= 2 && sizes.iter().all(|&size| (1..=max_size).contains(&size))).then_some(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers() {
        assert_eq!(
            parse_layers("128, 64"),
            Ok(HiddenLayers(vec![128, 64], Vec::new(), Vec::new()))
        );
        assert_eq!(
            parse_layers("conv:20:5, maxpool:2,100"),
            Ok(HiddenLayers(
                vec![100],
                vec!["conv:20:5".to_string(), "maxpool:2".to_string()],
                Vec::new()
            ))
        );
        assert_eq!(
            parse_layers("100,dropout:0.5,50,30,dropout:0.2"),
            Ok(HiddenLayers(
                vec![100, 50, 30],
                Vec::new(),
                vec![0.5, 0.0, 0.2]
            ))
        );
        assert!(parse_layers("100,dropout:0.5,dropout:0.2,50")
            .unwrap_err()
            .contains("one dropout entry at most"));
        assert!(parse_layers("100,dropout:2")
            .unwrap_err()
            .contains("[0, 1)"));
        assert!(parse_layers("100,maxpool:2")
            .unwrap_err()
            .contains("comes after a dense layer"));
        assert_eq!(parse_layers(""), Ok(HiddenLayers::default()));
        assert_eq!(parse_layers("None"), Ok(HiddenLayers::default()));
        assert!(parse_layers("3,x")
            .unwrap_err()
            .contains("\"x\" is not a layer width"));
        assert!(parse_layers("3,0").unwrap_err().contains("at least 1 unit"));
        assert!(parse_layers("-3").is_err());
        assert!(parse_layers("99999999999")
            .unwrap_err()
            .contains("too wide"));
    }

    #[test]
    fn schedules() {
        assert_eq!(parse_schedule("constant"), Ok(ScheduleSpec::Constant));
        assert_eq!(
            parse_schedule("step:100:0.5"),
            Ok(ScheduleSpec::Step {
                step_size: 100,
                gamma: 0.5
            })
        );
        assert_eq!(
            parse_schedule("exponential:0.99"),
            Ok(ScheduleSpec::Exponential { gamma: 0.99 })
        );
        assert_eq!(
            parse_schedule("cosine:1e-4"),
            Ok(ScheduleSpec::Cosine {
                min_learning_rate: 1e-4
            })
        );
        assert!(parse_schedule("step:1")
            .unwrap_err()
            .contains("expected constant"));
        assert!(parse_schedule("step:x:0.5").is_err());
        assert!(parse_schedule("linear").is_err());
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter("\t"), Ok(b'\t'));
        assert!(parse_delimiter(",,").is_err());
        assert!(parse_delimiter("\"").is_err());
    }

    #[test]
    fn number_and_size_lists() {
        assert_eq!(
            parse_finite_numbers("1, 0.5,-2"),
            Some(vec![1.0, 0.5, -2.0])
        );
        assert_eq!(parse_finite_numbers("1,nan"), None);
        assert_eq!(parse_finite_numbers("inf"), None);
        assert_eq!(parse_finite_numbers(""), None);
        assert_eq!(parse_layer_sizes("2, 3,1", 4096), Some(vec![2, 3, 1]));
        assert_eq!(parse_layer_sizes("2", 4096), None);
        assert_eq!(parse_layer_sizes("2,0", 4096), None);
        assert_eq!(parse_layer_sizes("2,4097", 4096), None);
    }

    #[test]
    fn library_names() {
        assert_eq!(parse_activation("tanh"), Ok(Activation::Tanh));
        assert!(parse_activation("swish").is_err());
        assert_eq!(parse_cost("bce"), Ok(Cost::BinaryCrossEntropy));
        assert!(parse_initialization("zeros")
            .unwrap_err()
            .contains("he-normal"));
    }
}
