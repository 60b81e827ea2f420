//! Backpropagation from scratch: the 2-3-1 "company" network in plain `f64`, `std` only.
//!
//! Two salespeople (inputs) report to three managers (hidden sigmoid units), who report to one
//! CEO (sigmoid output). Layer l computes zˡ = wˡ aˡ⁻¹ + bˡ and aˡ = σ(zˡ); one example costs
//! C = ½ Σ (aᴸ − y)². Backpropagation hands the blame δ = ∂C/∂z from the CEO down, by:
//!
//! - BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ), with ∇ₐC = aᴸ − y for this cost;
//! - BP2 δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ);
//! - BP3 ∂C/∂bˡ = δˡ;
//! - BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ;
//! - then one step of gradient descent, w ← w − η ∂C/∂w (b likewise), lowers the cost.
//!
//! `tests/from_scratch.rs` checks every number here against the library's `Network::trace`.
//! Run: `cargo run -p backprop --example 00_backprop_from_scratch`

/// One layer: `w[j][k]` is the weight from input k to unit j (out × in), `b[j]` unit j's bias.
#[derive(Clone, Debug)]
pub struct Layer {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
}

/// What one layer saw in a forward and backward pass.
pub struct Record {
    pub z: Vec<f64>,
    pub a: Vec<f64>,
    pub delta: Vec<f64>,
    pub dw: Vec<Vec<f64>>,
    pub db: Vec<f64>,
}

/// σ(z) = 1 / (1 + e⁻ᶻ).
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// σ′(z) = σ(z) (1 − σ(z)).
pub fn sigmoid_prime(z: f64) -> f64 {
    sigmoid(z) * (1.0 - sigmoid(z))
}

/// Forward: zˡ = wˡ aˡ⁻¹ + bˡ.
pub fn weighted_input(layer: &Layer, a_prev: &[f64]) -> Vec<f64> {
    let dot = |row: &[f64]| row.iter().zip(a_prev).map(|(w, a)| w * a).sum::<f64>();
    (0..layer.b.len())
        .map(|j| dot(&layer.w[j]) + layer.b[j])
        .collect()
}

/// Cost of one example: C = ½ Σ (a − y)².
pub fn cost(a: &[f64], y: &[f64]) -> f64 {
    a.iter().zip(y).map(|(a, y)| 0.5 * (a - y).powi(2)).sum()
}

/// v ⊙ σ′(z), the elementwise product that ends BP1 and BP2.
pub fn hadamard_sigmoid_prime(v: &[f64], z: &[f64]) -> Vec<f64> {
    let slopes = z.iter().map(|&z| sigmoid_prime(z));
    v.iter().zip(slopes).map(|(v, s)| v * s).collect()
}

/// BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ), with ∇ₐC = a − y.
pub fn bp1(z: &[f64], a: &[f64], y: &[f64]) -> Vec<f64> {
    let nabla_a: Vec<f64> = a.iter().zip(y).map(|(a, y)| a - y).collect();
    hadamard_sigmoid_prime(&nabla_a, z)
}

/// BP2: δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ).
pub fn bp2(w_next: &[Vec<f64>], delta_next: &[f64], z: &[f64]) -> Vec<f64> {
    let mut back = vec![0.0; z.len()]; // (wˡ⁺¹)ᵀ δˡ⁺¹
    for (row, d) in w_next.iter().zip(delta_next) {
        for (k, w) in row.iter().enumerate() {
            back[k] += w * d;
        }
    }
    hadamard_sigmoid_prime(&back, z)
}

/// BP3: ∂C/∂bˡ = δˡ.
pub fn bp3(delta: &[f64]) -> Vec<f64> {
    delta.to_vec()
}

/// BP4: ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ, so ∂C/∂wˡⱼₖ = δˡⱼ aˡ⁻¹ₖ.
pub fn bp4(delta: &[f64], a_prev: &[f64]) -> Vec<Vec<f64>> {
    let row = |d: &f64| a_prev.iter().map(|a| d * a).collect();
    delta.iter().map(row).collect()
}

/// The forward pass: zˡ for every layer, and aˡ with `activations[0]` = x.
pub fn forward(layers: &[Layer], x: &[f64]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (mut zs, mut activations) = (Vec::new(), vec![x.to_vec()]);
    for (l, layer) in layers.iter().enumerate() {
        let z = weighted_input(layer, &activations[l]);
        activations.push(z.iter().map(|&z| sigmoid(z)).collect()); // aˡ = σ(zˡ)
        zs.push(z);
    }
    (zs, activations)
}

/// Forward, then δ by BP1 at the output and BP2 going back, then BP3 and BP4 in every layer.
pub fn backprop(layers: &[Layer], x: &[f64], y: &[f64]) -> Vec<Record> {
    let (zs, activations) = forward(layers, x);
    let last = layers.len() - 1;
    let mut deltas = vec![Vec::new(); layers.len()];
    deltas[last] = bp1(&zs[last], &activations[last + 1], y);
    for l in (0..last).rev() {
        deltas[l] = bp2(&layers[l + 1].w, &deltas[l + 1], &zs[l]);
    }
    let record = |l: usize| Record {
        z: zs[l].clone(),
        a: activations[l + 1].clone(),
        delta: deltas[l].clone(),
        dw: bp4(&deltas[l], &activations[l]),
        db: bp3(&deltas[l]),
    };
    (0..layers.len()).map(record).collect()
}

/// Gradient descent: w ← w − η ∂C/∂w and b ← b − η ∂C/∂b.
pub fn update(layers: &mut [Layer], records: &[Record], eta: f64) {
    for (layer, record) in layers.iter_mut().zip(records) {
        for (j, row) in layer.w.iter_mut().enumerate() {
            for (k, w) in row.iter_mut().enumerate() {
                *w -= eta * record.dw[j][k];
            }
            layer.b[j] -= eta * record.db[j];
        }
    }
}

fn main() {
    // The managers' trust in each salesperson, and the CEO's trust in each manager.
    let w1 = vec![vec![0.15, -0.40], vec![0.35, 0.25], vec![-0.25, 0.30]];
    let w2 = vec![vec![0.40, -0.30, 0.20]];
    let (b1, b2) = (vec![0.10, -0.10, 0.05], vec![0.05]);
    let mut layers = vec![Layer { w: w1, b: b1 }, Layer { w: w2, b: b2 }];
    let (x, y, eta) = ([1.0, 0.5], [1.0], 2.0);
    let records = backprop(&layers, &x, &y);
    let before = cost(&records[1].a, &y);
    for (l, r) in records.iter().enumerate() {
        let who = ["managers", "CEO"][l];
        println!("layer {} ({who}): z = {:.6?}, a = {:.6?}", l + 1, r.z, r.a);
        println!("  δ = {:.6?}", r.delta);
        println!("  ∂C/∂w = {:.6?}, ∂C/∂b = {:.6?}", r.dw, r.db);
    }
    update(&mut layers, &records, eta);
    let after = cost(&forward(&layers, &x).1[2], &y);
    println!("cost before {before:.6}, after one step with η = {eta}: {after:.6}");
    assert!(after < before, "one small gradient step lowers the cost");
}
