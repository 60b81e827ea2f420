//! The data of one explained training step: what [`explain_step`](crate::explain_step)
//! records for every layer l and unit j — zˡⱼ, aˡⱼ, ∂C/∂aˡⱼ, σ′(zˡⱼ), δˡⱼ, the terms
//! wˡ⁺¹ₖⱼ δˡ⁺¹ₖ of BP2, ∂C/∂bˡⱼ = δˡⱼ (BP3), ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ (BP4), the updated weights — and
//! the cost before and after the step. All of it serialises to JSON.
//!
//! The JSON is for people, so it counts layers and units from 1, as the text and the notation
//! do (unit j is `"unit": j`), and names the model file's 0-based tensors beside them: unit j
//! of layer l is row j − 1 of `layers.{l−1}.weight` and `layers.{l−1}.bias`, and its weight
//! from unit k below is `layers.{l−1}.weight[j−1, k−1]` (each weight entry carries that name).
//! The Rust fields keep 0-based indices, ready for indexing.

use backprop::network::Network;
use serde::{Serialize, Serializer};

/// What the JSON's `counting` field says.
pub const COUNTING: &str = "layers and units count from 1, as in the text (w²₁₂ is layer 2, \
unit 1, reading unit 2); the model file's tensors count from 0: unit j of layer l is row j − 1 of \
layers.{l−1}.weight and layers.{l−1}.bias, and each weight entry names its tensor element";

/// Serialises a 0-based index as the number a person reads: index 0 is unit 1.
pub(crate) fn count_from_one<S: Serializer>(
    index: &usize,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(*index as u64 + 1)
}

/// One training step of a network on one example.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// How the JSON counts: [`COUNTING`].
    pub counting: &'static str,
    /// Units per layer, input first.
    pub sizes: Vec<usize>,
    /// The activation of each dense layer, by name.
    pub activations: Vec<String>,
    /// The cost, by name.
    pub cost: String,
    /// The example's input x = a⁰.
    pub input: Vec<f64>,
    /// The known result y.
    pub target: Vec<f64>,
    /// The learning rate η of the step.
    pub learning_rate: f64,
    /// Layers l = 1 … L.
    pub layers: Vec<LayerStep>,
    /// The error at the output and the cost.
    pub output: OutputError,
    /// The step's effect on the cost.
    pub update: UpdateSummary,
    #[serde(skip)]
    pub(crate) before: Network<f64>,
    #[serde(skip)]
    pub(crate) after: Network<f64>,
}

/// One dense layer l of an [`Explanation`].
#[derive(Clone, Debug, Serialize)]
pub struct LayerStep {
    /// l, counting dense layers from 1.
    pub layer: usize,
    /// The model file's tensors of this layer, `layers.{l−1}.weight` and `.bias`.
    pub weight_tensor: String,
    /// `layers.{l−1}.bias`.
    pub bias_tensor: String,
    /// σ of this layer, by name.
    pub activation: String,
    /// True for the output layer L.
    pub is_output: bool,
    /// aˡ⁻¹, the layer's input.
    pub input: Vec<f64>,
    /// One entry per unit j.
    pub units: Vec<UnitStep>,
    /// Norms and the largest entries, for layers too wide to list.
    pub summary: LayerSummary,
}

/// Everything one unit j of layer l does in a step.
#[derive(Clone, Debug, Serialize)]
pub struct UnitStep {
    /// j − 1: 0-based here, serialised from 1.
    #[serde(serialize_with = "count_from_one")]
    pub unit: usize,
    /// wˡⱼₖ for every input k: the unit's trust in each unit below.
    pub weights: Vec<f64>,
    /// bˡⱼ.
    pub bias: f64,
    /// zˡⱼ = Σₖ wˡⱼₖ aˡ⁻¹ₖ + bˡⱼ.
    pub z: f64,
    /// aˡⱼ = σ(zˡⱼ).
    pub a: f64,
    /// ∂C/∂aˡⱼ: ∇ₐC at the output; Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ in a hidden layer.
    pub cost_gradient: f64,
    /// σ′(zˡⱼ); `None` for softmax, which has no elementwise derivative.
    pub activation_derivative: Option<f64>,
    /// δˡⱼ = ∂C/∂zˡⱼ.
    pub delta: f64,
    /// The terms of Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ (hidden layers; empty at the output).
    pub feedback: Vec<FeedbackTerm>,
    /// ∂C/∂bˡⱼ = δˡⱼ (BP3).
    pub bias_gradient: f64,
    /// ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ for every input k (BP4).
    pub weight_gradients: Vec<f64>,
    /// bˡⱼ − η ∂C/∂bˡⱼ.
    pub new_bias: f64,
    /// wˡⱼₖ − η ∂C/∂wˡⱼₖ for every input k.
    pub new_weights: Vec<f64>,
}

/// One term wˡ⁺¹ₖⱼ δˡ⁺¹ₖ of BP2: unit k of the layer above passing its δ back to unit j.
#[derive(Clone, Debug, Serialize)]
pub struct FeedbackTerm {
    /// k − 1, the unit of layer l + 1: 0-based here, serialised from 1.
    #[serde(serialize_with = "count_from_one")]
    pub from_unit: usize,
    /// wˡ⁺¹ₖⱼ, how much unit k trusts unit j.
    pub weight: f64,
    /// δˡ⁺¹ₖ.
    pub delta: f64,
    /// wˡ⁺¹ₖⱼ δˡ⁺¹ₖ.
    pub product: f64,
}

/// Norms and the largest entries of one layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary {
    /// ‖wˡ‖.
    pub weight_norm: f64,
    /// ‖bˡ‖.
    pub bias_norm: f64,
    /// ‖aˡ‖.
    pub activation_norm: f64,
    /// ‖δˡ‖.
    pub delta_norm: f64,
    /// ‖∂C/∂wˡ‖.
    pub weight_gradient_norm: f64,
    /// The units with the largest |δˡⱼ|, largest first.
    pub largest_deltas: Vec<UnitValue>,
    /// The weights with the largest |wˡⱼₖ|, largest first.
    pub strongest_weights: Vec<WeightValue>,
    /// The weights with the largest |∂C/∂wˡⱼₖ|, largest first.
    pub largest_weight_gradients: Vec<WeightValue>,
}

/// A value belonging to unit j.
#[derive(Clone, Debug, Serialize)]
pub struct UnitValue {
    /// j − 1: 0-based here, serialised from 1.
    #[serde(serialize_with = "count_from_one")]
    pub unit: usize,
    /// The value.
    pub value: f64,
}

/// A value belonging to the weight wⱼₖ from unit k below to unit j.
#[derive(Clone, Debug, Serialize)]
pub struct WeightValue {
    /// j − 1: 0-based here, serialised from 1.
    #[serde(serialize_with = "count_from_one")]
    pub to_unit: usize,
    /// k − 1: 0-based here, serialised from 1.
    #[serde(serialize_with = "count_from_one")]
    pub from_unit: usize,
    /// The model file's element, `layers.{l−1}.weight[j−1, k−1]`.
    pub tensor_element: String,
    /// The value.
    pub value: f64,
}

/// The error at the output.
#[derive(Clone, Debug, Serialize)]
pub struct OutputError {
    /// aᴸ, the prediction.
    pub prediction: Vec<f64>,
    /// y, the known result.
    pub target: Vec<f64>,
    /// aᴸ − y per output unit.
    pub difference: Vec<f64>,
    /// The cost C (weight penalties included), from the trace.
    pub cost: f64,
    /// The weight-penalty part of C.
    pub penalty: f64,
    /// True when δᴸ came from the fused shortcut aᴸ − y (softmax or sigmoid with
    /// cross-entropy) instead of ∇ₐC ⊙ σ′(zᴸ).
    pub fused: bool,
}

/// What the update did.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateSummary {
    /// C before the step.
    pub cost_before: f64,
    /// C after the step, recomputed by the engine on the updated network.
    pub cost_after: f64,
    /// cost_after − cost_before.
    pub change: f64,
    /// True when the cost fell.
    pub fell: bool,
    /// aᴸ after the step.
    pub prediction_after: Vec<f64>,
    /// √(Σ (∂C/∂θ)²) over every weight and bias.
    pub gradient_norm: f64,
}

impl Explanation {
    /// The network before the step.
    pub fn network_before(&self) -> &Network<f64> {
        &self.before
    }

    /// The network after the step.
    pub fn network_after(&self) -> &Network<f64> {
        &self.after
    }

    /// Everything above as a JSON value (networks excluded; their weights are in `layers`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an explanation is plain data")
    }
}
