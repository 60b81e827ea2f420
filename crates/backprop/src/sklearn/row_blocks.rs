//! scikit-learn's batch gradients for small dense networks, a few rows at a time through every
//! layer: the same forward pass, output δ and backward pass as [`super::objective`]'s, but for
//! a block of [`BLOCK_ROWS`] examples at once, so that the block's z, a and δ stay in L1 cache
//! from the first layer to the last and back, and every product is a
//! [`small_product`](backprop_tensor::small_product) of a few kilobytes instead of a `gemm`
//! call over the whole batch (whose packing and dispatch cost more than the arithmetic when the
//! layers are a few dozen units wide: an iris batch is 120 × 4 → 100 → 3).
//!
//! For each block, with aˡ⁻¹ the block's input to layer l (the rows of X for the first):
//! - forward: zˡ = aˡ⁻¹·(Wˡ)ᵀ + bˡ, aˡ = σ(zˡ) (for layers of a few units, such as a classifier's
//!   output, as dot products of rows of aˡ⁻¹ and of Wˡ, which fill the vectors);
//! - BP1: δᴸ = (aᴸ − y)·sᵢ per row (softmax, logistic or identity output with its cost), or
//!   (exp(zᴸ) − y)·sᵢ for the Poisson output, sᵢ = 1/rows or wᵢ/Σw;
//! - BP2: δˡ⁻¹ = (δˡ·Wˡ) ⊙ σ′(zˡ⁻¹);
//!
//! and once the blocks of a chunk of up to [`CHUNK_ROWS`] rows are done, BP3 and BP4 over its
//! rows in one product per layer: ∂C/∂bˡ = Σ δˡ, ∂C/∂Wˡ = (δˡ)ᵀ·aˡ⁻¹ (depth up to 64 rather
//! than 16).
//!
//! **Determinism.** The batch is cut into chunks by its row count alone ([`chunk_count`] and
//! [`chunk_rows`]: as few as [`CHUNK_ROWS`] allows but at least two for more than one block,
//! whole blocks shared out evenly, so that two threads taking chunks in turn get similar
//! shares: a batch of 200 is 48 + 48 + 48 + 56 rows rather than 64 + 64 + 64 + 8, and the
//! last 55 rows of an epoch 32 + 23); each chunk sums its blocks' gradients and loss in row
//! order, and the chunks' sums are added in chunk order. Threads take whole chunks, so the
//! bits do not depend on how many there are.

use super::objective::{row_loss, rows_loss, SkData};
use crate::activation::Activation;
use crate::cost::{fused_delta, softmax_delta, Cost};
use crate::network::Network;
use crate::propagation::on_pool_thread;
use backprop_tensor::small_product::{small_product, small_product_by_rows, Shape, Strided};
use backprop_tensor::{team, Float, Matrix};

/// Examples carried through all the layers together.
pub(super) const BLOCK_ROWS: usize = 16;
/// Most examples whose gradients one task sums.
pub(super) const CHUNK_ROWS: usize = 64;
/// The widest layer (inputs or units) taken this way: past it `gemm` over the whole batch is
/// the faster path, and a block's buffers would leave L1.
const MAX_WIDTH: usize = 256;
/// Layers with fewer units than this compute z as dot products of rows of a and of W, which
/// fill the vectors along the inputs rather than along a few units.
const NARROW: usize = 8;
/// Multiply-adds per batch below which waking a second thread costs more than it saves.
const THREAD_WORK: usize = 1 << 20;
/// Multiply-adds per batch below which a second thread costs more than it saves even when it
/// stands by in a team already (an iris batch of 120 rows is about 250,000).
const TEAM_WORK: usize = 1 << 16;

/// True when [`block_gradients`] computes this network's batch gradients: dense layers only,
/// none wider than [`MAX_WIDTH`], element-wise hidden activations, and an output whose δ is
/// a − y (softmax with cross-entropy, logistic with binary cross-entropy, identity with the
/// quadratic cost, which the Poisson output also uses).
pub(crate) fn handles<T: Float>(network: &Network<T>) -> bool {
    let layers = network.layers();
    let Some((output, hidden)) = layers.split_last() else {
        return false;
    };
    let dense_and_narrow = layers.iter().all(|layer| {
        layer.as_dense().is_some_and(|dense| {
            let (outputs, inputs) = dense.weight.shape();
            outputs <= MAX_WIDTH && inputs <= MAX_WIDTH
        })
    });
    let elementwise = hidden
        .iter()
        .filter_map(|layer| layer.as_dense())
        .all(|dense| dense.activation.is_elementwise());
    let output = output.as_dense().map(|dense| dense.activation);
    let canonical = matches!(
        (network.cost(), output),
        (Cost::SoftmaxCrossEntropy, Some(Activation::Softmax))
            | (Cost::BinaryCrossEntropy, Some(Activation::Sigmoid))
            | (Cost::Quadratic, Some(Activation::Identity))
    );
    dense_and_narrow && elementwise && canonical
}

/// True when a batch of `rows` is worth splitting across threads: more than one chunk, and
/// enough multiply-adds for a second thread to pay for its wake-up.
pub(crate) fn uses_threads<T: Float>(network: &Network<T>, rows: usize) -> bool {
    chunk_count(rows) > 1 && rows * work_per_row(network) >= THREAD_WORK
}

/// True when a batch of `rows` is worth splitting across the helpers of a team that stands by
/// already (as in a stretch of epochs, see [`super::sk_fit`]): more than one chunk, and enough
/// multiply-adds to pay for handing a chunk over.
pub(crate) fn uses_team<T: Float>(network: &Network<T>, rows: usize) -> bool {
    chunk_count(rows) > 1 && rows * work_per_row(network) >= TEAM_WORK
}

/// A row's multiply-adds, forward and backward.
fn work_per_row<T: Float>(network: &Network<T>) -> usize {
    network
        .dense_layers()
        .iter()
        .map(|dense| 3 * dense.weight.rows() * dense.weight.cols())
        .sum()
}

/// How many chunks a batch of `rows` is cut into: as few as hold at most [`CHUNK_ROWS`] rows
/// each, but two once there is more than one block, so that a short batch (an epoch's last)
/// can still split across two threads.
pub(super) fn chunk_count(rows: usize) -> usize {
    match rows {
        0..=BLOCK_ROWS => 1,
        _ => rows.div_ceil(CHUNK_ROWS).max(2),
    }
}

/// Rows first..last of chunk `index` of a batch of `rows` cut into `count` chunks: the batch's
/// blocks of [`BLOCK_ROWS`] (the last one possibly shorter) shared out as evenly as they go,
/// the later chunks taking the blocks left over, so that the short block joins a chunk with
/// fewer whole ones.
pub(super) fn chunk_rows(rows: usize, count: usize, index: usize) -> (usize, usize) {
    let blocks = rows.div_ceil(BLOCK_ROWS);
    let (each, extra) = (blocks / count, blocks % count);
    // Chunks count − extra.. take each + 1 blocks.
    let plain = count - extra;
    let first_block = index * each + index.saturating_sub(plain);
    let own = each + usize::from(index >= plain);
    let first = first_block * BLOCK_ROWS;
    (
        first.min(rows),
        ((first_block + own) * BLOCK_ROWS).min(rows),
    )
}

/// True when a layer of `units` computes z as dot products of rows ([`NARROW`]), reading W
/// as stored rather than transposed.
fn by_rows(units: usize) -> bool {
    units < NARROW
}

/// True when a layer of `units` × `inputs` sums its weight gradient transposed (inputs ×
/// units, rows as long as the layer is wide).
fn transposed_gradient(units: usize, inputs: usize) -> bool {
    inputs < units
}

/// One chunk's buffers (its rows of every layer's z, a and δ, so that BP3 and BP4 run once per
/// chunk over all its rows) and its sums.
struct Chunk<T: Float> {
    /// Σ (δˡ)ᵀ·aˡ⁻¹ (transposed where [`transposed_gradient`] says) and Σ δˡ over the chunk's
    /// rows, layer by layer.
    weight_gradients: Vec<Matrix<T>>,
    bias_gradients: Vec<Matrix<T>>,
    /// Σ wᵢ·(row i's loss) over the chunk's rows, in `f64`.
    loss: f64,
    /// The chunk's input rows and targets.
    input: Matrix<T>,
    target: Matrix<T>,
    /// The chunk's zˡ (where kept), aˡ and δˡ, layer by layer.
    z: Vec<Matrix<T>>,
    a: Vec<Matrix<T>>,
    delta: Vec<Matrix<T>>,
    /// One block's δˡ·Wˡ, ∂C/∂a for the layer before.
    grad_input: Vec<T>,
    /// One block's logarithms for its loss.
    logs: Vec<f64>,
}

impl<T: Float> Chunk<T> {
    fn new(layers: usize) -> Self {
        let empty = || Matrix::zeros(0, 0);
        let each = || (0..layers).map(|_| empty()).collect::<Vec<_>>();
        Self {
            weight_gradients: each(),
            bias_gradients: each(),
            loss: 0.0,
            input: empty(),
            target: empty(),
            z: each(),
            a: each(),
            delta: each(),
            grad_input: Vec::new(),
            logs: Vec::new(),
        }
    }
}

/// What every chunk reads: the network's layers, each weight also transposed where
/// [`by_rows`] is false (so the forward product reads a row of (Wˡ)ᵀ per input), the data and
/// the output's settings.
struct Shared<'a, T: Float> {
    weights: Vec<&'a Matrix<T>>,
    transposed: &'a [Matrix<T>],
    biases: Vec<&'a Matrix<T>>,
    activations: Vec<Activation>,
    /// Whether each layer keeps z apart from a: only where σ′ needs z itself
    /// ([`Activation::derivative_from_output`] is false); otherwise z is computed in a's place.
    keeps_z: Vec<bool>,
    data: SkData<'a, T>,
    cost: Cost,
    poisson: bool,
    /// 1/rows, or 1/Σw with sample weights.
    inverse_total: f64,
}

/// The batch of `rows` (indices into `data`), forward and backward block by block: leaves
/// (δᵀa)/B and Σδ/B in every layer's gradients (no penalty) and returns the data loss and B
/// (rows, or the sample-weight sum), as [`super::objective`]'s `batch_gradients` does.
///
/// # Panics
/// When [`handles`] is false for the network.
pub(crate) fn block_gradients<T: Float>(
    network: &mut Network<T>,
    data: SkData<'_, T>,
    rows: &[usize],
    poisson: bool,
) -> (f64, f64) {
    assert!(
        handles(network),
        "block_gradients: not a small dense network"
    );
    let total = data.sample_weight.map_or(rows.len() as f64, |w| {
        rows.iter().map(|&i| w[i].to_f64()).sum()
    });
    if rows.is_empty() {
        for dense in network.dense_layers_mut() {
            dense
                .weight_gradient
                .resize(dense.weight.rows(), dense.weight.cols());
            dense.weight_gradient.fill(T::ZERO);
            dense.bias_gradient.fill(T::ZERO);
        }
        return (0.0, total);
    }
    let parallel = match team::is_active() {
        true => uses_team(network, rows.len()),
        false => uses_threads(network, rows.len()),
    };
    let dense = network.dense_layers();
    let Buffers {
        mut chunks,
        mut transposed,
    } = spare_buffers::<T>(chunk_count(rows.len()), dense.len());
    let count = chunks.len();
    for (transposed, dense) in transposed.iter_mut().zip(&dense) {
        match by_rows(dense.weight.rows()) {
            true => transposed.resize(0, 0),
            false => dense.weight.transpose_into(transposed),
        }
    }
    let shared = Shared {
        weights: dense.iter().map(|d| &d.weight).collect(),
        transposed: &transposed,
        biases: dense.iter().map(|d| &d.bias).collect(),
        activations: dense.iter().map(|d| d.activation).collect(),
        keeps_z: dense
            .iter()
            .map(|d| !d.activation.derivative_from_output())
            .collect(),
        data,
        cost: network.cost(),
        poisson,
        inverse_total: 1.0 / total,
    };
    let run = |index: usize, chunk: &mut Chunk<T>| {
        let (first, last) = chunk_rows(rows.len(), count, index);
        chunk_pass(&shared, &rows[first..last], chunk);
    };
    on_pool_thread(parallel, || {
        if parallel && team::is_active() {
            team::for_each_chunk(&mut chunks, 1, |index, chunk| run(index, &mut chunk[0]));
        } else {
            for (index, chunk) in chunks.iter_mut().enumerate() {
                run(index, chunk);
            }
        }
    });
    drop(shared);
    drop(dense);
    // The chunks' sums in chunk order, into the layers' gradients.
    let loss = chunks.iter().map(|chunk| chunk.loss).sum::<f64>();
    let (first, rest) = chunks.split_first_mut().expect("a batch has rows");
    for chunk in rest.iter() {
        let pairs = first
            .weight_gradients
            .iter_mut()
            .zip(&chunk.weight_gradients);
        let pairs = pairs.chain(first.bias_gradients.iter_mut().zip(&chunk.bias_gradients));
        for (sum, part) in pairs {
            sum.add_scaled(T::ONE, part);
        }
    }
    for (layer, dense) in network.dense_layers_mut().into_iter().enumerate() {
        let (units, inputs) = dense.weight.shape();
        let sum = &first.weight_gradients[layer];
        if transposed_gradient(units, inputs) {
            sum.transpose_into(&mut dense.weight_gradient);
        } else {
            dense.weight_gradient.copy_from(sum);
        }
        dense.bias_gradient.copy_from(&first.bias_gradients[layer]);
    }
    keep_buffers(Buffers { chunks, transposed });
    (loss / total, total)
}

/// One chunk of rows: forward, BP1 and BP2 block by block, then BP3 and BP4 over the chunk.
fn chunk_pass<T: Float>(shared: &Shared<'_, T>, rows: &[usize], chunk: &mut Chunk<T>) {
    let count = rows.len();
    let layers = shared.weights.len();
    chunk.input.gather_rows_from(shared.data.x, rows);
    chunk.target.gather_rows(shared.data.y, rows);
    chunk.loss = 0.0;
    for layer in 0..layers {
        let units = shared.weights[layer].rows();
        if shared.keeps_z[layer] {
            chunk.z[layer].resize(count, units);
        }
        chunk.a[layer].resize(count, units);
        chunk.delta[layer].resize(count, units);
    }
    for start in (0..count).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(count);
        block_pass(shared, &rows[start..end], start, chunk);
    }
    // BP3 and BP4 over the chunk's rows, in the orientation whose rows are the longer (so
    // that the vectors are full): ∂C/∂W = δᵀ·a, or its transpose aᵀ·δ.
    for layer in 0..layers {
        let (units, inputs) = shared.weights[layer].shape();
        let input = match layer {
            0 => chunk.input.as_slice(),
            _ => chunk.a[layer - 1].as_slice(),
        };
        chunk.delta[layer].column_sums_into(&mut chunk.bias_gradients[layer]);
        let delta = chunk.delta[layer].as_slice();
        // ∂C/∂W = δᵀ·a (units × inputs), or its transpose aᵀ·δ: Lᵀ·R either way.
        let (left, right, rows, cols) = match transposed_gradient(units, inputs) {
            true => (input, delta, inputs, units),
            false => (delta, input, units, inputs),
        };
        let gradient = &mut chunk.weight_gradients[layer];
        gradient.resize(rows, cols);
        let shape = Shape {
            rows,
            cols,
            depth: count,
        };
        let lhs = Strided::transposed(left, rows);
        small_product(
            gradient.as_mut_slice(),
            cols,
            false,
            lhs,
            right,
            cols,
            shape,
        );
    }
}

/// One block of the chunk's rows, from `start`: forward through every layer, BP1 with the
/// loss, and BP2 back to the first layer, into the chunk's z, a and δ.
fn block_pass<T: Float>(
    shared: &Shared<'_, T>,
    rows: &[usize],
    start: usize,
    chunk: &mut Chunk<T>,
) {
    let count = rows.len();
    let layers = shared.weights.len();
    // Forward: zˡ = aˡ⁻¹·(Wˡ)ᵀ + bˡ, aˡ = σ(zˡ).
    for layer in 0..layers {
        let (units, inputs) = shared.weights[layer].shape();
        let (earlier, from_here) = chunk.a.split_at_mut(layer);
        let input = match layer {
            0 => chunk.input.as_slice(),
            _ => earlier[layer - 1].as_slice(),
        };
        let input = &input[start * inputs..][..count * inputs];
        let values = start * units..(start + count) * units;
        let a = &mut from_here[0].as_mut_slice()[values.clone()];
        // z goes to its own buffer where it is kept, else straight into a's place.
        let keeps_z = shared.keeps_z[layer];
        let (z, a) = match keeps_z {
            true => (&mut chunk.z[layer].as_mut_slice()[values], Some(a)),
            false => (a, None),
        };
        let shape = Shape {
            rows: count,
            cols: units,
            depth: inputs,
        };
        if by_rows(units) {
            let weight = shared.weights[layer].as_slice();
            small_product_by_rows(z, units, input, inputs, weight, inputs, shape);
        } else {
            let (lhs, rhs) = (
                Strided::rows(input, inputs),
                shared.transposed[layer].as_slice(),
            );
            small_product(z, units, false, lhs, rhs, units, shape);
        }
        let bias = shared.biases[layer].as_slice();
        match a {
            Some(a) => shared.activations[layer].add_bias_and_forward_rows(z, bias, a),
            None => shared.activations[layer].add_bias_and_forward_rows_in_place(z, bias),
        }
    }
    // BP1 and the loss: the block's rows at once where every row weighs 1, else row by row.
    let output = layers - 1;
    let cols = shared.weights[output].rows();
    match shared.data.sample_weight {
        None => {
            let values = start * cols..(start + count) * cols;
            let z = &z_of(shared, &chunk.z, &chunk.a, output)[values.clone()];
            let a = &chunk.a[output].as_slice()[values.clone()];
            let y = &chunk.target.as_slice()[values.clone()];
            let p = if shared.poisson { z } else { a };
            let (loss, logs) = (&mut chunk.loss, &mut chunk.logs);
            rows_loss(shared.cost, shared.poisson, (p, y, cols), logs, |row| {
                *loss += row
            });
            let delta = &mut chunk.delta[output].as_mut_slice()[values];
            let scale = T::from_f64(shared.inverse_total);
            output_delta(delta, a, y, (cols, scale), shared.poisson, shared.cost);
        }
        Some(weights) => {
            for (i, &row) in rows.iter().enumerate() {
                let at = (start + i) * cols;
                let weight = weights[row].to_f64();
                let (z, a) = (
                    &z_of(shared, &chunk.z, &chunk.a, output)[at..][..cols],
                    &chunk.a[output].as_slice()[at..][..cols],
                );
                let y = &chunk.target.as_slice()[at..][..cols];
                let p = if shared.poisson { z } else { a };
                chunk.loss += weight * row_loss(shared.cost, shared.poisson, p, y);
                let delta = &mut chunk.delta[output].as_mut_slice()[at..][..cols];
                let scale = T::from_f64(weight * shared.inverse_total);
                output_delta(delta, a, y, (cols, scale), shared.poisson, shared.cost);
            }
        }
    }
    // BP2, back to the first layer: δˡ⁻¹ = (δˡ·Wˡ) ⊙ σ′(zˡ⁻¹).
    for layer in (1..layers).rev() {
        let (units, inputs) = shared.weights[layer].shape();
        chunk.grad_input.resize(count * inputs, T::ZERO);
        let shape = Shape {
            rows: count,
            cols: inputs,
            depth: units,
        };
        let delta = &chunk.delta[layer].as_slice()[start * units..][..count * units];
        let lhs = Strided::rows(delta, units);
        let weight = shared.weights[layer].as_slice();
        small_product(
            &mut chunk.grad_input,
            inputs,
            false,
            lhs,
            weight,
            inputs,
            shape,
        );
        let range = start * inputs..(start + count) * inputs;
        let (z, a) = (
            &z_of(shared, &chunk.z, &chunk.a, layer - 1)[range.clone()],
            &chunk.a[layer - 1].as_slice()[range.clone()],
        );
        let before = &mut chunk.delta[layer - 1].as_mut_slice()[range];
        shared.activations[layer - 1].backward_slices(z, a, &chunk.grad_input, before);
    }
}

/// Layer `layer`'s z over the chunk: its own buffer, or a where z was not kept (σ′ reads a
/// alone then, and a Poisson output's identity leaves a = z).
fn z_of<'c, T: Float>(
    shared: &Shared<'_, T>,
    z: &'c [Matrix<T>],
    a: &'c [Matrix<T>],
    layer: usize,
) -> &'c [T] {
    match shared.keeps_z[layer] {
        true => z[layer].as_slice(),
        false => a[layer].as_slice(),
    }
}

/// BP1 for rows of `cols` values with a common scale s: the cost's own δ, (a − y)·s (for
/// softmax, (a·Σy − y)·s where a row's targets do not sum to 1), or (exp(z) − y)·s for the
/// Poisson output (whose `a` is z).
fn output_delta<T: Float>(
    delta: &mut [T],
    a: &[T],
    y: &[T],
    (cols, scale): (usize, T),
    poisson: bool,
    cost: Cost,
) {
    match (poisson, cost) {
        (true, _) => {
            for ((d, &z), &t) in delta.iter_mut().zip(a).zip(y) {
                *d = (z.exp() - t) * scale;
            }
        }
        (false, Cost::SoftmaxCrossEntropy) => softmax_delta(delta, a, y, cols, scale),
        (false, _) => fused_delta(delta, a, y, scale),
    }
}

/// A batch's buffers: its chunks and the layers' transposed weights (for layers not
/// [`by_rows`]; empty for the others).
struct Buffers<T: Float> {
    chunks: Vec<Chunk<T>>,
    transposed: Vec<Matrix<T>>,
}

thread_local! {
    /// The last batch's buffers on this thread, kept for the next batch: a batch of an
    /// iris-sized network takes a few microseconds, as long as allocating and zeroing them.
    static SPARE_BUFFERS: std::cell::RefCell<Option<Box<dyn std::any::Any>>> =
        const { std::cell::RefCell::new(None) };
}

/// Buffers for `count` chunks of a network of `layers` layers, reusing this thread's spares.
fn spare_buffers<T: Float>(count: usize, layers: usize) -> Buffers<T> {
    let spare = SPARE_BUFFERS.with(|spare| spare.borrow_mut().take());
    let mut buffers = spare
        .and_then(|spare| spare.downcast::<Buffers<T>>().ok())
        .map_or_else(
            || Buffers {
                chunks: Vec::new(),
                transposed: Vec::new(),
            },
            |buffers| *buffers,
        );
    let chunks = &mut buffers.chunks;
    chunks.truncate(count);
    chunks.resize_with(count, || Chunk::new(layers));
    for chunk in chunks {
        if chunk.z.len() != layers {
            *chunk = Chunk::new(layers);
        }
    }
    buffers
        .transposed
        .resize_with(layers, || Matrix::zeros(0, 0));
    buffers.transposed.truncate(layers);
    buffers
}

/// Keeps `buffers` for this thread's next batch.
fn keep_buffers<T: Float>(buffers: Buffers<T>) {
    SPARE_BUFFERS.with(|spare| *spare.borrow_mut() = Some(Box::new(buffers)));
}
