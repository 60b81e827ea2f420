//! The image layers a network can start with: convolutions, pooling and dropout, described as
//! plain data ([`FeatureLayer`]) in the network config and the model file, before the dense
//! layers that end it.
//!
//! Between the last of them and the first dense layer the image is flattened in PyTorch's
//! (C, H, W) order, which is already the order of an example's row: flattening moves no value.

use crate::activation::Activation;
use crate::conv::{ConvGeometry, ImageShape, Padding};
use crate::pool::{pooled_shape, PoolKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One image layer, as `--layers` and the model file name it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FeatureLayer {
    /// `conv:F:k[:s[:same|valid]]`: F filters of k × k, stride s (1), its activation after it.
    Conv {
        /// F.
        filters: usize,
        /// k.
        kernel: usize,
        /// s.
        stride: usize,
        /// The border rule.
        padding: Padding,
        /// σ, applied right after the convolution.
        #[serde(with = "activation_name")]
        activation: Activation,
    },
    /// `maxpool:s`.
    #[serde(rename = "maxpool")]
    MaxPool {
        /// s: s × s windows, stride s.
        size: usize,
    },
    /// `avgpool:s`.
    #[serde(rename = "avgpool")]
    AveragePool {
        /// s: s × s windows, stride s.
        size: usize,
    },
    /// `dropout:p`.
    Dropout {
        /// p, the probability of dropping each value.
        probability: f64,
    },
}

mod activation_name {
    use crate::activation::Activation;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(activation: &Activation, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&activation.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Activation, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FeatureLayer {
    /// The image this layer writes when it reads `input`, or why it cannot.
    pub fn output_shape(&self, input: ImageShape) -> Result<ImageShape, String> {
        match *self {
            FeatureLayer::Conv {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => ConvGeometry {
                input,
                filters,
                kernel,
                stride,
                padding,
            }
            .output(),
            FeatureLayer::MaxPool { size } | FeatureLayer::AveragePool { size } => {
                pooled_shape(input, size)
            }
            FeatureLayer::Dropout { probability } => {
                if (0.0..1.0).contains(&probability) {
                    Ok(input)
                } else {
                    Err(format!("dropout must be in [0, 1), got {probability}"))
                }
            }
        }
    }

    /// The pooling kind, for pooling layers.
    pub fn pool_kind(&self) -> Option<PoolKind> {
        match self {
            FeatureLayer::MaxPool { .. } => Some(PoolKind::Max),
            FeatureLayer::AveragePool { .. } => Some(PoolKind::Average),
            _ => None,
        }
    }

    /// Parses one `--layers` entry that is not a plain number; `activation` is the one a
    /// convolution gets.
    ///
    /// ```
    /// use backprop::{Activation, feature_layers::FeatureLayer, conv::Padding};
    /// let conv = FeatureLayer::parse("conv:20:5", Activation::Relu).unwrap();
    /// assert_eq!(conv, FeatureLayer::Conv { filters: 20, kernel: 5, stride: 1, padding: Padding::Valid, activation: Activation::Relu });
    /// assert_eq!(FeatureLayer::parse("maxpool:2", Activation::Relu).unwrap(), FeatureLayer::MaxPool { size: 2 });
    /// assert!(FeatureLayer::parse("conv:20", Activation::Relu).unwrap_err().contains("conv:FILTERS:KERNEL"));
    /// ```
    pub fn parse(text: &str, activation: Activation) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let number = |part: &str, what: &str| -> Result<usize, String> {
            match part.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "'{text}': the {what} must be a whole number of at least 1, got '{part}'"
                )),
            }
        };
        match parts.as_slice() {
            ["conv", rest @ ..] if (2..=4).contains(&rest.len()) => {
                let padding = match rest.get(3).copied() {
                    None | Some("valid") => Padding::Valid,
                    Some("same") => Padding::Same,
                    Some(other) => {
                        return Err(format!(
                            "'{text}': padding must be 'same' or 'valid', got '{other}'"
                        ))
                    }
                };
                Ok(FeatureLayer::Conv {
                    filters: number(rest[0], "number of filters")?,
                    kernel: number(rest[1], "kernel size")?,
                    stride: rest.get(2).map_or(Ok(1), |s| number(s, "stride"))?,
                    padding,
                    activation,
                })
            }
            ["conv", ..] => Err(format!(
                "'{text}': write conv:FILTERS:KERNEL[:STRIDE[:same|valid]], e.g. conv:20:5"
            )),
            ["maxpool", size] => Ok(FeatureLayer::MaxPool {
                size: number(size, "pooling size")?,
            }),
            ["avgpool", size] => Ok(FeatureLayer::AveragePool {
                size: number(size, "pooling size")?,
            }),
            ["dropout", p] => match p.parse::<f64>() {
                Ok(probability) if (0.0..1.0).contains(&probability) => {
                    Ok(FeatureLayer::Dropout { probability })
                }
                _ => Err(format!(
                    "'{text}': the dropout probability must be in [0, 1), got '{p}'"
                )),
            },
            _ => Err(format!(
                "'{text}' is not a layer: write a number of units (100), \
                 conv:FILTERS:KERNEL[:STRIDE[:same|valid]], maxpool:SIZE, avgpool:SIZE or dropout:P"
            )),
        }
    }
}

impl fmt::Display for FeatureLayer {
    /// The `--layers` spelling, stride and padding always written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureLayer::Conv {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => write!(f, "conv:{filters}:{kernel}:{stride}:{}", padding.name()),
            FeatureLayer::MaxPool { size } => write!(f, "maxpool:{size}"),
            FeatureLayer::AveragePool { size } => write!(f, "avgpool:{size}"),
            FeatureLayer::Dropout { probability } => write!(f, "dropout:{probability}"),
        }
    }
}

/// The image after each layer of `layers`, starting from `input`; the first error names the
/// layer (counting from 1, as a person reads `--layers`).
pub fn shapes(input: ImageShape, layers: &[FeatureLayer]) -> Result<Vec<ImageShape>, String> {
    let mut shape = input;
    let mut out = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        shape = layer.output_shape(shape).map_err(|reason| {
            format!("layer {} ({layer}) on a {shape} image: {reason}", index + 1)
        })?;
        out.push(shape);
    }
    Ok(out)
}
