//! A sequential network of dense layers (with optional dropout between them), built from a
//! validated [`NetworkConfig`].
//!
//! Forward propagation is aˡ = σ(wˡ aˡ⁻¹ + bˡ) layer after layer. Backpropagation runs the four
//! equations from the output back:
//! - BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ) ([`Dense::output_delta`], fused to a − y where it can be),
//! - BP2 δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) ([`Dense::backpropagate_delta`] in layer l + 1, then
//!   [`Dense::hidden_delta`] in layer l),
//! - BP3 ∂C/∂bˡ = δˡ and BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ ([`Dense::parameter_gradients`]),
//!
//! summed over the batch, with the cost a mean over its examples. The passes themselves are in
//! `propagation.rs`.

use crate::activation::Activation;
use crate::conv::{Conv2d, ConvGeometry, ImageShape};
use crate::cost::Cost;
use crate::dense::Dense;
use crate::dropout::Dropout;
use crate::feature_layers::{self, FeatureLayer};
use crate::init::Initialization;
use crate::layer::{Layer, ParameterSlot};
use crate::pool::Pool2d;
use crate::propagation::InferencePacer;
use crate::regularization::Regularization;
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix, MatrixView, SeededRng};

/// The RNG stream for initial weights; dropout after dense layer i uses `DROPOUT_STREAM + i`,
/// a dropout entry i among the image layers `FEATURE_DROPOUT_STREAM + i`.
const INIT_STREAM: u64 = 0;
const DROPOUT_STREAM: u64 = 100;
const FEATURE_DROPOUT_STREAM: u64 = 200;

/// Everything needed to build a network: full layer sizes, activations, cost and the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Units per dense layer, its input first: `[2, 3, 1]` is 2 inputs, 3 hidden units,
    /// 1 output. With image layers in front, `sizes[0]` is the width of their flattened output.
    pub sizes: Vec<usize>,
    /// The shape of an input image, when the network starts with image layers (and may be
    /// given for a dense network on images): the network then takes C·H·W inputs.
    pub input_shape: Option<ImageShape>,
    /// Convolutions, pooling and dropout applied to the input image, in order, before the
    /// dense layers; empty for a dense network.
    pub features: Vec<FeatureLayer>,
    /// One activation per dense layer (`sizes.len() − 1` of them).
    pub activations: Vec<Activation>,
    /// The cost.
    pub cost: Cost,
    /// How weights and biases start.
    pub initialization: Initialization,
    /// Dropout probability after every hidden layer (0 = none).
    pub dropout: f64,
    /// Dropout written into `--layers` between dense widths (`100,dropout:0.5,50`): entry i
    /// is the probability after hidden dense layer i (0 = none), at most one per hidden layer.
    /// Unlike [`NetworkConfig::dropout`], each such entry counts in the tensor names
    /// `layers.{i}`, as every entry of `--layers` does. Empty for none.
    pub hidden_dropout: Vec<f64>,
    /// Weight penalties that are part of the cost.
    pub regularization: Regularization,
    /// The seed for initial weights and dropout masks.
    pub seed: u64,
}

impl NetworkConfig {
    /// A config with ReLU hidden layers and the output activation the cost expects
    /// (softmax for cross-entropy, sigmoid for binary cross-entropy, identity otherwise).
    ///
    /// ```
    /// use backprop::{Activation, Cost, NetworkConfig};
    /// let config = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic).with_hidden_activation(Activation::Sigmoid);
    /// assert_eq!(config.activations, vec![Activation::Sigmoid, Activation::Identity]);
    /// ```
    pub fn new(sizes: &[usize], cost: Cost) -> Self {
        let layers = sizes.len().saturating_sub(1);
        let mut activations = vec![Activation::Relu; layers];
        if let Some(last) = activations.last_mut() {
            *last = cost.natural_output_activation();
        }
        Self {
            sizes: sizes.to_vec(),
            input_shape: None,
            features: Vec::new(),
            activations,
            cost,
            initialization: Initialization::default(),
            dropout: 0.0,
            hidden_dropout: Vec::new(),
            regularization: Regularization::none(),
            seed: 0,
        }
    }

    /// Sets the activation of every hidden layer.
    pub fn with_hidden_activation(mut self, activation: Activation) -> Self {
        let n = self.activations.len();
        for a in self.activations.iter_mut().take(n.saturating_sub(1)) {
            *a = activation;
        }
        self
    }

    /// Sets the output layer's activation.
    pub fn with_output_activation(mut self, activation: Activation) -> Self {
        if let Some(last) = self.activations.last_mut() {
            *last = activation;
        }
        self
    }

    /// Sets every layer's activation explicitly.
    pub fn with_activations(mut self, activations: Vec<Activation>) -> Self {
        self.activations = activations;
        self
    }

    /// Starts the network with image layers reading `input_shape` images: `sizes[0]` becomes
    /// the width of their flattened output (left as it is when the layers do not fit the
    /// image, which [`NetworkConfig::validate`] then reports).
    ///
    /// ```
    /// use backprop::{Cost, NetworkConfig, Activation};
    /// use backprop::conv::ImageShape;
    /// use backprop::feature_layers::FeatureLayer;
    /// let layers = ["conv:4:3", "maxpool:2"].map(|t| FeatureLayer::parse(t, Activation::Relu).unwrap());
    /// let config = NetworkConfig::new(&[0, 10], Cost::SoftmaxCrossEntropy)
    ///     .with_features(ImageShape::new(1, 8, 8), layers.to_vec());
    /// assert_eq!(config.sizes, vec![4 * 3 * 3, 10]); // 8×8 → conv 6×6 → pool 3×3, 4 planes
    /// assert_eq!(config.input_width(), 64);
    /// ```
    pub fn with_features(mut self, input_shape: ImageShape, features: Vec<FeatureLayer>) -> Self {
        if let Ok(shapes) = feature_layers::shapes(input_shape, &features) {
            if let Some(first) = self.sizes.first_mut() {
                *first = shapes.last().unwrap_or(&input_shape).len();
            }
        }
        self.input_shape = Some(input_shape);
        self.features = features;
        self
    }

    /// The number of inputs an example has: C·H·W with an input shape, else `sizes[0]`.
    pub fn input_width(&self) -> usize {
        match self.input_shape {
            Some(shape) => shape.len(),
            None => self.sizes.first().copied().unwrap_or(0),
        }
    }

    /// The image after each image layer (empty without them).
    pub fn feature_shapes(&self) -> Result<Vec<ImageShape>, String> {
        match self.input_shape {
            Some(shape) => feature_layers::shapes(shape, &self.features),
            None if self.features.is_empty() => Ok(Vec::new()),
            None => Err("image layers need an input shape (CxHxW)".into()),
        }
    }

    /// Each parameter's name and tensor shape in PyTorch's layout, computed without building
    /// the network: a convolution's weight \[F, C, k, k\], a dense weight \[out, in\], a bias
    /// \[out\]; image layers first, each entry one index, then the dense layers.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        let mut image = self.input_shape;
        for (index, feature) in self.features.iter().enumerate() {
            if let (
                FeatureLayer::Conv {
                    filters, kernel, ..
                },
                Some(input),
            ) = (feature, image)
            {
                shapes.push((
                    format!("layers.{index}.weight"),
                    vec![*filters, input.channels, *kernel, *kernel],
                ));
                shapes.push((format!("layers.{index}.bias"), vec![*filters]));
            }
            image = image.and_then(|shape| feature.output_shape(shape).ok());
        }
        for (l, pair) in self.sizes.windows(2).enumerate() {
            let index = self.dense_tensor_index(l);
            shapes.push((format!("layers.{index}.weight"), vec![pair[1], pair[0]]));
            shapes.push((format!("layers.{index}.bias"), vec![pair[1]]));
        }
        shapes
    }

    /// The i of `layers.{i}` for dense layer `dense` (0 reads the image layers' output or the
    /// input): the image layers and the dropout entries of `--layers` before it count.
    pub fn dense_tensor_index(&self, dense: usize) -> usize {
        let dropouts = self
            .hidden_dropout
            .iter()
            .take(dense)
            .filter(|p| **p > 0.0)
            .count();
        self.features.len() + dense + dropouts
    }

    /// Sets the initialisation scheme.
    pub fn with_initialization(mut self, initialization: Initialization) -> Self {
        self.initialization = initialization;
        self
    }

    /// Sets dropout after every hidden layer.
    pub fn with_dropout(mut self, probability: f64) -> Self {
        self.dropout = probability;
        self
    }

    /// Sets the dropout entries between dense layers, one probability per hidden layer
    /// (0 = none); see [`NetworkConfig::hidden_dropout`].
    pub fn with_hidden_dropout(mut self, probabilities: Vec<f64>) -> Self {
        self.hidden_dropout = probabilities;
        self
    }

    /// Sets the weight penalties.
    pub fn with_regularization(mut self, regularization: Regularization) -> Self {
        self.regularization = regularization;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the config: sizes, activations, the cost against the output layer, dropout and
    /// penalties. The error says what is wrong and how to fix it.
    pub fn validate(&self) -> Result<()> {
        let fail = |message: String| Err(Error::Config(message));
        if self.sizes.len() < 2 {
            return fail(format!(
                "a network needs at least an input and an output size, got {:?}",
                self.sizes
            ));
        }
        self.validate_features()?;
        if let Some(position) = self.sizes.iter().position(|&s| s == 0) {
            return fail(format!(
                "layer {position} of {:?} has zero width",
                self.sizes
            ));
        }
        if self.activations.len() != self.sizes.len() - 1 {
            return fail(format!(
                "{} layer sizes {:?} make {} layers, but {} activations were given",
                self.sizes.len(),
                self.sizes,
                self.sizes.len() - 1,
                self.activations.len()
            ));
        }
        let last = self.activations.len() - 1;
        if let Some(position) = self.activations[..last]
            .iter()
            .position(|a| *a == Activation::Softmax)
        {
            return fail(format!(
                "softmax is only supported on the output layer, not on hidden layer {}",
                position + 1
            ));
        }
        if let Some(a) = self.activations.iter().find(|a| matches!(a, Activation::LeakyRelu { negative_slope } if !negative_slope.is_finite())) {
            return fail(format!("bad activation {a}"));
        }
        self.cost
            .check_output(self.activations[last], self.sizes[last + 1])
            .map_err(Error::Config)?;
        if !(0.0..1.0).contains(&self.dropout) {
            return fail(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if self.hidden_dropout.len() > self.sizes.len() - 2 {
            return fail(format!(
                "{} dropout entries between dense layers, but the network has {} hidden layers \
                 for them to follow",
                self.hidden_dropout.len(),
                self.sizes.len() - 2
            ));
        }
        if let Some(p) = self
            .hidden_dropout
            .iter()
            .find(|p| !(0.0..1.0).contains(*p))
        {
            return fail(format!("dropout must be in [0, 1), got {p}"));
        }
        if self.dropout > 0.0 && self.hidden_dropout.iter().any(|p| *p > 0.0) {
            return fail(
                "dropout is given both after every hidden layer and between chosen dense layers; \
                 give one of the two"
                    .into(),
            );
        }
        self.regularization.validate().map_err(Error::Config)
    }

    fn validate_features(&self) -> Result<()> {
        let shapes = self.feature_shapes().map_err(Error::Config)?;
        for layer in &self.features {
            if let FeatureLayer::Conv { activation, .. } = layer {
                if !activation.is_elementwise() {
                    return Err(Error::Config(format!(
                        "a convolution's activation must be elementwise, not {activation}"
                    )));
                }
            }
        }
        if let Some(shape) = self.input_shape {
            let flat = shapes.last().unwrap_or(&shape).len();
            if flat != self.sizes[0] {
                return Err(Error::Config(format!(
                    "the image layers flatten a {shape} input to {} values, but the first dense \
                     layer takes {}",
                    flat, self.sizes[0]
                )));
            }
        }
        Ok(())
    }

    /// Validates the config and builds the network with seeded initial weights.
    pub fn init<T: Float>(&self) -> Result<Network<T>> {
        self.validate()?;
        let mut rng = SeededRng::with_stream(self.seed, INIT_STREAM);
        let mut layers: Vec<Layer<T>> = self.init_features(&mut rng)?;
        let count = self.activations.len();
        for (l, activation) in self.activations.iter().enumerate() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let (weight, bias) = self.initialization.draw::<T>(fan_in, fan_out, &mut rng);
            layers.push(Dense::new(weight, bias, *activation).into());
            let probability = match self.hidden_dropout.get(l) {
                Some(&p) if p > 0.0 => p,
                _ => self.dropout,
            };
            if probability > 0.0 && l + 1 < count {
                let stream = SeededRng::with_stream(self.seed, DROPOUT_STREAM + l as u64);
                layers.push(Dropout::new(fan_out, probability, stream).into());
            }
        }
        Ok(Network::from_layers(self.clone(), layers))
    }

    /// The image layers, their weights drawn before the dense layers' from the same stream.
    fn init_features<T: Float>(&self, rng: &mut SeededRng) -> Result<Vec<Layer<T>>> {
        let Some(mut shape) = self.input_shape else {
            return Ok(Vec::new());
        };
        let mut layers = Vec::with_capacity(self.features.len());
        for (index, feature) in self.features.iter().enumerate() {
            let output = feature.output_shape(shape).map_err(Error::Config)?;
            layers.push(match *feature {
                FeatureLayer::Conv {
                    filters,
                    kernel,
                    stride,
                    padding,
                    activation,
                } => {
                    let geometry = ConvGeometry {
                        input: shape,
                        filters,
                        kernel,
                        stride,
                        padding,
                    };
                    // PyTorch's fans for a convolution: C·k·k in, F·k·k out.
                    let (fan_in, fan_out) = (geometry.patch_len(), filters * kernel * kernel);
                    let (weight, bias) = self
                        .initialization
                        .draw_shaped::<T>(filters, fan_in, fan_in, fan_out, rng);
                    Conv2d::new(geometry, weight, bias, activation).into()
                }
                FeatureLayer::MaxPool { size } | FeatureLayer::AveragePool { size } => {
                    let kind = feature.pool_kind().expect("a pooling layer");
                    Pool2d::new(kind, size, shape).into()
                }
                FeatureLayer::Dropout { probability } => {
                    let stream = FEATURE_DROPOUT_STREAM + index as u64;
                    let stream = SeededRng::with_stream(self.seed, stream);
                    Dropout::new(shape.len(), probability, stream).into()
                }
            });
            shape = output;
        }
        Ok(layers)
    }
}

/// Named gradients, `layers.{i}.weight` and `layers.{i}.bias`, in layer order.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T: Float> {
    /// (name, ∂C/∂parameter) pairs.
    pub entries: Vec<(String, Matrix<T>)>,
}

impl<T: Float> Gradients<T> {
    /// The gradient of one parameter.
    pub fn get(&self, name: &str) -> Option<&Matrix<T>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// √(Σ g²) over every gradient, in `f64`.
    pub fn global_norm(&self) -> f64 {
        self.entries
            .iter()
            .map(|(_, m)| m.norm().powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

/// A built sequential network.
#[derive(Clone, Debug)]
pub struct Network<T: Float = f32> {
    pub(crate) config: NetworkConfig,
    pub(crate) layers: Vec<Layer<T>>,
    /// ∂C/∂a handed from layer to layer in the backward pass, two buffers used in turn.
    pub(crate) gradient_buffers: [Matrix<T>; 2],
    /// The batch of a training pass, for a network that starts with image layers (a dense
    /// network reads its batch from the first dense layer's own input buffer).
    pub(crate) input: Matrix<T>,
    /// Each image layer's output in a training pass, kept from batch to batch.
    pub(crate) feature_outputs: Vec<Matrix<T>>,
    /// The output of a dropout between dense layers in a training pass, kept from batch to
    /// batch (the next dense layer copies it into its input buffer).
    pub(crate) dropout_output: Matrix<T>,
    /// Whether inference calls run with helpers or alone (see [`InferencePacer`]).
    pub(crate) inference_pacer: InferencePacer,
}

impl<T: Float> Network<T> {
    fn from_layers(config: NetworkConfig, layers: Vec<Layer<T>>) -> Self {
        Self {
            config,
            layers,
            gradient_buffers: [Matrix::zeros(0, 0), Matrix::zeros(0, 0)],
            input: Matrix::zeros(0, 0),
            feature_outputs: Vec::new(),
            dropout_output: Matrix::zeros(0, 0),
            inference_pacer: InferencePacer::default(),
        }
    }

    /// The config it was built from.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The cost.
    pub fn cost(&self) -> Cost {
        self.config.cost
    }

    /// Input width: C·H·W for a network on images, else the first dense layer's inputs.
    pub fn input_width(&self) -> usize {
        self.config.input_width()
    }

    /// Output width.
    pub fn output_width(&self) -> usize {
        *self
            .config
            .sizes
            .last()
            .expect("validated config has sizes")
    }

    /// All layers, image layers and dropout included.
    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }

    /// The dense layers, in order: layer l = 1…L of the equations is `dense_layers()[l − 1]`.
    pub fn dense_layers(&self) -> Vec<&Dense<T>> {
        self.layers.iter().filter_map(|l| l.as_dense()).collect()
    }

    /// Lets the first layer multiply only the non-zeros of mostly-zero training batches (see
    /// [`crate::sparse_input`]), or stops it. Only a network whose first layer is dense takes it.
    pub fn set_sparse_input(&mut self, enabled: bool) {
        if self.feature_count() == 0 {
            if let Some(first) = self
                .layers
                .first_mut()
                .and_then(|layer| layer.as_dense_mut())
            {
                first.set_sparse_input(enabled);
            }
        }
    }

    /// Lets every dense layer's inference multiply only the non-zeros of a mostly-zero input
    /// (the default), or makes it multiply every value: [`Dense::set_sparse_inference`].
    pub fn set_sparse_inference(&mut self, enabled: bool) {
        for dense in self.dense_layers_mut() {
            dense.set_sparse_inference(enabled);
        }
    }

    /// The dense layers, mutable.
    pub fn dense_layers_mut(&mut self) -> Vec<&mut Dense<T>> {
        self.layers
            .iter_mut()
            .filter_map(|l| l.as_dense_mut())
            .collect()
    }

    /// The number of image layers (convolutions, pooling, dropout) before the dense layers.
    pub fn feature_count(&self) -> usize {
        self.config.features.len()
    }

    /// The layers that hold parameters, each with the index its names carry: an image layer's
    /// position among the image layers (pooling and dropout count, as entries of `--layers`),
    /// then the dense layers after them (a dropout entry of `--layers` between dense layers
    /// counts; the dropout of [`NetworkConfig::dropout`] does not).
    pub(crate) fn numbered(&self) -> Vec<(usize, &Layer<T>)> {
        let numbers = self.layer_numbers();
        self.layers
            .iter()
            .zip(numbers)
            .filter_map(|(layer, number)| Some((number?, layer)))
            .collect()
    }

    /// [`Network::numbered`], mutable.
    pub(crate) fn numbered_mut(&mut self) -> Vec<(usize, &mut Layer<T>)> {
        let numbers = self.layer_numbers();
        self.layers
            .iter_mut()
            .zip(numbers)
            .filter_map(|(layer, number)| Some((number?, layer)))
            .collect()
    }

    /// For each layer, the index its parameter names carry, or `None` when it holds no
    /// parameters (pooling, dropout). A convolution is always among the image layers, so its
    /// position is its index. See [`Network::numbered`].
    fn layer_numbers(&self) -> Vec<Option<usize>> {
        let mut dense = 0;
        self.layers
            .iter()
            .enumerate()
            .map(|(position, layer)| match layer {
                Layer::Convolution(_) => Some(position),
                Layer::Dense(_) => {
                    dense += 1;
                    Some(self.config.dense_tensor_index(dense - 1))
                }
                Layer::Pool(_) | Layer::Dropout(_) => None,
            })
            .collect()
    }

    /// Named parameters, `layers.{i}.weight` and `layers.{i}.bias`, in PyTorch's layouts: a
    /// dense weight (out × in), a convolution's (F × C·k·k), i.e. (F, C, k, k). With no image
    /// layers i counts the dense layers from 0; image layers count first, each entry one index.
    pub fn parameters(&self) -> Vec<(String, &Matrix<T>)> {
        self.numbered()
            .into_iter()
            .flat_map(|(i, layer)| {
                layer
                    .parameters()
                    .into_iter()
                    .map(move |(n, m)| (format!("layers.{i}.{n}"), m))
            })
            .collect()
    }

    /// Each parameter's name and its tensor shape in PyTorch's layout, in the order of
    /// [`Network::parameters`] ([`NetworkConfig::parameter_shapes`]).
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.config.parameter_shapes()
    }

    /// One parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&Matrix<T>> {
        self.parameters()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// One parameter by name, mutable.
    pub fn parameter_mut(&mut self, name: &str) -> Option<&mut Matrix<T>> {
        self.parameter_slots()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, slot)| slot.value)
    }

    /// Parameters with their gradients, named, mutable: what an optimiser step needs.
    pub fn parameter_slots(&mut self) -> Vec<(String, ParameterSlot<'_, T>)> {
        self.numbered_mut()
            .into_iter()
            .flat_map(|(i, layer)| {
                layer
                    .parameter_slots()
                    .into_iter()
                    .map(move |s| (format!("layers.{i}.{}", s.name), s))
            })
            .collect()
    }

    /// The gradients of the last backward pass, named.
    pub fn gradients(&self) -> Gradients<T> {
        let entries = self
            .numbered()
            .into_iter()
            .flat_map(|(i, layer)| {
                layer
                    .gradients()
                    .into_iter()
                    .map(move |(n, m)| (format!("layers.{i}.{n}"), m.clone()))
            })
            .collect();
        Gradients { entries }
    }

    /// The number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.parameters().iter().map(|(_, m)| m.len()).sum()
    }

    #[track_caller]
    pub(crate) fn check_batch(&self, x: &Matrix<T>, y: Option<&Matrix<T>>) {
        self.check_rows(x.into(), y);
    }

    /// [`Network::check_batch`] for rows borrowed in place.
    #[track_caller]
    pub(crate) fn check_rows(&self, x: MatrixView<'_, T>, y: Option<&Matrix<T>>) {
        assert_eq!(
            x.cols(),
            self.input_width(),
            "network {:?}: input batch has {} columns",
            self.config.sizes,
            x.cols()
        );
        if let Some(y) = y {
            assert_eq!(
                y.shape(),
                (x.rows(), self.output_width()),
                "network {:?}: targets are {}×{} for {} examples",
                self.config.sizes,
                y.rows(),
                y.cols(),
                x.rows()
            );
        }
    }

    /// The weight penalty part of the cost.
    pub fn penalty(&self) -> f64 {
        let regularization = self.config.regularization;
        if regularization.is_none() {
            return 0.0;
        }
        self.parameters()
            .into_iter()
            .filter(|(name, _)| name.ends_with(".weight"))
            .map(|(_, weight)| regularization.penalty(weight))
            .sum()
    }

    /// The cost of a batch at the current weights (inference forward pass plus penalty).
    ///
    /// # Panics
    /// When `x` or `y` have the wrong shape.
    #[track_caller]
    pub fn loss(&self, x: &Matrix<T>, y: &Matrix<T>) -> f64 {
        self.check_batch(x, Some(y));
        let (z, a) = self.output_with_logits(x);
        self.config.cost.loss(&z, &a, y) + self.penalty()
    }

    /// The same network with every parameter converted to another float type.
    pub fn cast<U: Float>(&self) -> Network<U> {
        let mut other = self
            .config
            .init::<U>()
            .expect("the config was validated when this network was built");
        for ((_, source), (_, slot)) in self.parameters().into_iter().zip(other.parameter_slots()) {
            *slot.value = source.cast();
        }
        other
    }

    /// Copies parameters in from another network of the same shape (e.g. best weights).
    ///
    /// # Panics
    /// When the shapes differ.
    #[track_caller]
    pub fn copy_parameters_from(&mut self, other: &Network<T>) {
        for ((name, slot), (_, source)) in
            self.parameter_slots().into_iter().zip(other.parameters())
        {
            assert_eq!(
                slot.value.shape(),
                source.shape(),
                "copy_parameters_from: {name} shapes differ"
            );
            slot.value.as_mut_slice().copy_from_slice(source.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_are_clear() {
        let message = |config: NetworkConfig| config.validate().unwrap_err().to_string();
        assert!(message(NetworkConfig::new(&[3], Cost::Quadratic))
            .contains("at least an input and an output"));
        assert!(message(NetworkConfig::new(&[2, 0, 1], Cost::Quadratic)).contains("layer 1"));
        assert!(message(
            NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
                .with_activations(vec![Activation::Relu])
        )
        .contains("1 activations"));
        assert!(message(
            NetworkConfig::new(&[2, 3, 1], Cost::BinaryCrossEntropy)
                .with_output_activation(Activation::Relu)
        )
        .contains("sigmoid"));
        assert!(message(
            NetworkConfig::new(&[2, 3, 4], Cost::MeanSquaredError)
                .with_output_activation(Activation::Softmax)
        )
        .contains("softmax output needs the cross-entropy"));
        assert!(message(
            NetworkConfig::new(&[2, 3, 4], Cost::SoftmaxCrossEntropy)
                .with_hidden_activation(Activation::Softmax)
        )
        .contains("only supported on the output layer"));
        assert!(message(
            NetworkConfig::new(&[2, 3, 4], Cost::SoftmaxCrossEntropy).with_dropout(1.0)
        )
        .contains("dropout"));
        assert!(NetworkConfig::new(&[2, 3, 4], Cost::SoftmaxCrossEntropy)
            .validate()
            .is_ok());
    }

    #[test]
    fn names_and_layout_follow_pytorch() {
        let net = NetworkConfig::new(&[4, 5, 3], Cost::SoftmaxCrossEntropy)
            .with_dropout(0.2)
            .init::<f32>()
            .unwrap();
        let names: Vec<String> = net.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias"
            ]
        );
        assert_eq!(net.parameter("layers.1.weight").unwrap().shape(), (3, 5));
        assert_eq!(net.layers().len(), 3);
        assert_eq!(net.parameter_count(), 4 * 5 + 5 + 5 * 3 + 3);
    }

    #[test]
    fn same_seed_same_weights_other_seed_differs() {
        let config = NetworkConfig::new(&[3, 4, 2], Cost::SoftmaxCrossEntropy).with_seed(11);
        let a = config.init::<f32>().unwrap();
        let b = config.init::<f32>().unwrap();
        let c = config.clone().with_seed(12).init::<f32>().unwrap();
        assert_eq!(a.parameters(), b.parameters());
        assert_ne!(a.parameters(), c.parameters());
    }

    #[test]
    fn loss_matches_backward_loss_without_dropout() {
        let mut net = NetworkConfig::new(&[2, 4, 3], Cost::SoftmaxCrossEntropy)
            .with_seed(2)
            .init::<f64>()
            .unwrap();
        let x = Matrix::from_rows(&[[0.5, -1.0], [2.0, 0.25]]).unwrap();
        let y = Matrix::from_rows(&[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).unwrap();
        let inference = net.loss(&x, &y);
        let (training, _) = net.backward(&x, &y);
        assert_eq!(inference, training);
    }
}
