//! scikit-learn's objective: the data cost of a batch, its penalty, its gradients, with
//! optional sample weights and the Poisson output.
//!
//! With sample weights wᵢ the data cost is Σᵢ wᵢ·Cᵢ / Σᵢ wᵢ and the penalty α/(2B)·Σw² with
//! B = Σᵢ wᵢ over the batch, as scikit-learn's `_backprop` computes them; without, B is the
//! batch's rows. The Poisson output is exp(z) with the half Poisson deviance
//! Σⱼ (yⱼ·ln(yⱼ/pⱼ) − yⱼ + pⱼ) per row, whose δ at the output is again p − y (canonical link).
//! The network carries an identity output for it; [`SkObjective::poisson`] applies the exp.

use super::{row_blocks, SkLayerStep, SkOptimizer};
use crate::cost::Cost;
use crate::dense::DenseCache;
use crate::network::Network;
use crate::propagation::{on_pool_thread, paced_on_pool_thread};
use backprop_tensor::pacer::Pacer;
use backprop_tensor::vector_math::ln_f64;
use backprop_tensor::{simd_kernel, team, Float, Matrix, MatrixView};

/// What the batches minimise besides the network's own output and cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkObjective {
    /// The L2 penalty α ≥ 0 (for AdamW, its decoupled decay).
    pub alpha: f64,
    /// The network's identity output is the log of a Poisson mean: p = exp(z), half deviance.
    pub poisson: bool,
}

/// Training rows: X, the targets (one column per output) and optional per-row weights.
#[derive(Clone, Copy, Debug)]
pub struct SkData<'a, T: Float> {
    /// One example per row, borrowed in place (a `Matrix`, or a buffer such as NumPy's).
    pub x: MatrixView<'a, T>,
    /// One target row per example.
    pub y: &'a Matrix<T>,
    /// Non-negative weight per row; None weighs every row 1.
    pub sample_weight: Option<&'a [T]>,
}

impl<'a, T: Float> SkData<'a, T> {
    /// Unweighted rows.
    pub fn new(x: &'a Matrix<T>, y: &'a Matrix<T>) -> Self {
        Self {
            x: x.into(),
            y,
            sample_weight: None,
        }
    }
}

/// scikit-learn's data loss of a batch at the network's output `a` (for Poisson, `a` is z and
/// p = exp(z)), the `weights`-weighted mean over rows of: softmax or binary cross-entropy
/// summed over outputs (probabilities clipped to the float type's ε), half the squared error
/// averaged over outputs, or the half Poisson deviance summed over outputs.
pub fn sk_output_loss<T: Float>(
    network: &Network<T>,
    poisson: bool,
    a: &Matrix<T>,
    y: &Matrix<T>,
    weights: Option<&[T]>,
) -> f64 {
    let cost = network.cost();
    let cols = a.cols().max(1);
    let row_loss = |p: &[T], t: &[T]| row_loss(cost, poisson, p, t);
    let rows = a.as_slice().chunks(cols).zip(y.as_slice().chunks(cols));
    match weights {
        None => rows.map(|(p, t)| row_loss(p, t)).sum::<f64>() / a.rows().max(1) as f64,
        Some(w) => {
            let total: f64 = rows
                .zip(w)
                .map(|((p, t), &w)| w.to_f64() * row_loss(p, t))
                .sum();
            total / w.iter().map(|w| w.to_f64()).sum::<f64>()
        }
    }
}

/// One row's data loss for [`sk_output_loss`]: `p` is the output (for Poisson, z).
pub(crate) fn row_loss<T: Float>(cost: Cost, poisson: bool, p: &[T], t: &[T]) -> f64 {
    let eps = T::EPSILON.to_f64();
    let cols = p.len().max(1);
    let pairs = p.iter().zip(t).map(|(&p, &t)| (p.to_f64(), t.to_f64()));
    if poisson {
        return pairs
            .map(|(z, t)| {
                let p = z.exp();
                let xlogy = if t == 0.0 { 0.0 } else { t * (t / p).ln() };
                xlogy - t + p
            })
            .sum();
    }
    match cost {
        Cost::SoftmaxCrossEntropy => {
            softmax_cross_entropy_from_logs(pairs.map(|(p, t)| (clipped_log(p, eps, false), t)))
        }
        Cost::BinaryCrossEntropy => binary_cross_entropy_from_logs(
            pairs.map(|(p, t)| (clipped_log(p, eps, false), clipped_log(p, eps, true), t)),
        ),
        _ => pairs.map(|(p, t)| (p - t).powi(2)).sum::<f64>() / cols as f64 / 2.0,
    }
}

/// ln p (or, with `complement`, ln(1 − p)) of a probability clipped to [ε, 1 − ε]: the
/// cross-entropies' logarithms, for [`row_loss`] and [`rows_loss`] alike.
#[inline(always)]
fn clipped_log(p: f64, eps: f64, complement: bool) -> f64 {
    let p = p.clamp(eps, 1.0 - eps);
    ln_f64(if complement { 1.0 - p } else { p })
}

/// −Σⱼ tⱼ·ln pⱼ from (ln pⱼ, tⱼ), terms with tⱼ = 0 left out (so that ln ε never meets a 0).
#[inline(always)]
fn softmax_cross_entropy_from_logs(terms: impl Iterator<Item = (f64, f64)>) -> f64 {
    -terms
        .map(|(ln_p, t)| if t == 0.0 { 0.0 } else { t * ln_p })
        .sum::<f64>()
}

/// −Σⱼ (tⱼ·ln pⱼ + (1 − tⱼ)·ln(1 − pⱼ)) from (ln pⱼ, ln(1 − pⱼ), tⱼ), each term left out where
/// its factor is 0.
#[inline(always)]
fn binary_cross_entropy_from_logs(terms: impl Iterator<Item = (f64, f64, f64)>) -> f64 {
    -terms
        .map(|(ln_p, ln_q, t)| {
            let mut sum = 0.0;
            if t != 0.0 {
                sum += t * ln_p;
            }
            if t != 1.0 {
                sum += (1.0 - t) * ln_q;
            }
            sum
        })
        .sum::<f64>()
}

/// [`row_loss`] for each of the rows of `p` (rows of `cols`) against `t`, passed to `add` in
/// row order, with the cross-entropies' logarithms taken over all the rows at once in
/// vectorised loops (into `logs`): bit for bit the rows' [`row_loss`].
pub(crate) fn rows_loss<T: Float>(
    cost: Cost,
    poisson: bool,
    (p, t, cols): (&[T], &[T], usize),
    logs: &mut Vec<f64>,
    mut add: impl FnMut(f64),
) {
    let cols = cols.max(1);
    let rows = p.chunks(cols).zip(t.chunks(cols));
    let eps = T::EPSILON.to_f64();
    match (poisson, cost) {
        (false, Cost::SoftmaxCrossEntropy) => {
            logs.resize(p.len(), 0.0);
            clipped_logs(p, eps, logs, false);
            for (t, ln_p) in t.chunks(cols).zip(logs.chunks(cols)) {
                let terms = ln_p.iter().zip(t).map(|(&ln_p, &t)| (ln_p, t.to_f64()));
                add(softmax_cross_entropy_from_logs(terms));
            }
        }
        (false, Cost::BinaryCrossEntropy) => {
            logs.resize(2 * p.len(), 0.0);
            let (ln_p, ln_q) = logs.split_at_mut(p.len());
            clipped_logs(p, eps, ln_p, false);
            clipped_logs(p, eps, ln_q, true);
            let rows = t.chunks(cols).zip(ln_p.chunks(cols)).zip(ln_q.chunks(cols));
            for ((t, ln_p), ln_q) in rows {
                let terms = ln_p.iter().zip(ln_q.iter()).zip(t);
                add(binary_cross_entropy_from_logs(
                    terms.map(|((&ln_p, &ln_q), &t)| (ln_p, ln_q, t.to_f64())),
                ));
            }
        }
        _ => rows.for_each(|(p, t)| add(row_loss(cost, poisson, p, t))),
    }
}

simd_kernel! {
    /// [`clipped_log`] of every value, one loop for each `complement` (a constant in the loop
    /// body, so that it vectorises without a branch).
    fn clipped_logs<T: Float>(p: &[T], eps: f64, logs: &mut [f64], complement: bool) {
        let values = logs.iter_mut().zip(p);
        if complement {
            values.for_each(|(l, &p)| *l = clipped_log(p.to_f64(), eps, true));
        } else {
            values.for_each(|(l, &p)| *l = clipped_log(p.to_f64(), eps, false));
        }
    }
}

/// Σw² over every weight (no biases); the batch penalty is α/(2B) times this.
pub fn squared_weights<T: Float>(network: &Network<T>) -> f64 {
    network
        .dense_layers()
        .iter()
        .map(|d| sum_of_squares(d.weight.as_slice()))
        .sum()
}

/// Partial sums of [`sum_of_squares`].
const LANES: usize = 32;

simd_kernel! {
    /// Σv² in `f64`: element i goes into partial sum i mod [`LANES`], and the partial sums are
    /// then added in order. The same bits on every machine and thread count, and the additions
    /// run side by side in SIMD lanes, where a single running sum waits for each addition
    /// before the next (every batch adds its penalty: 79,400 squares for MNIST's 784-100-10).
    pub(super) fn sum_of_squares<T: Float>(values: &[T]) -> f64 {
        let mut lanes = [0.0f64; LANES];
        let mut chunks = values.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                let v = v.to_f64();
                *lane += v * v;
            }
        }
        for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
            let v = v.to_f64();
            *lane += v * v;
        }
        lanes.iter().sum()
    }
}

/// B, a batch's weight: its `rows`, or the sum of its sample weights.
fn batch_weight<T: Float>(weights: Option<&[T]>, rows: usize) -> f64 {
    weights.map_or(rows as f64, |w| w.iter().map(|w| w.to_f64()).sum())
}

/// Forward and backward over the loaded batch, leaving (δᵀa)/B in the gradients (no penalty).
/// The output δ the cost gives, (a − y)/rows, is rescaled per row to wᵢ(a − y)/Σw, or
/// replaced by (exp(z) − y)·sᵢ for Poisson. With `step`, the optimiser's step is taken layer
/// by layer inside the backward pass ([`SkLayerStep`]). Returns the data loss and B.
pub(super) fn batch_gradients<T: Float>(
    network: &mut Network<T>,
    y: &Matrix<T>,
    weights: Option<&[T]>,
    poisson: bool,
    step: Option<&mut SkLayerStep<'_, T>>,
) -> (f64, f64) {
    let rows = y.rows();
    let total = batch_weight(weights, rows);
    let scales: Option<Vec<T>> =
        weights.map(|w| w.iter().map(|&w| T::from_f64(w.to_f64() / total)).collect());
    let mut adjust = |cache: &mut DenseCache<T>| {
        let cols = cache.z.cols();
        let delta = cache
            .delta
            .as_mut()
            .expect("the output δ was just computed");
        if poisson {
            let uniform = T::from_f64(1.0 / rows.max(1) as f64);
            for (i, ((d, z), t)) in delta
                .as_mut_slice()
                .chunks_mut(cols)
                .zip(cache.z.as_slice().chunks(cols))
                .zip(y.as_slice().chunks(cols))
                .enumerate()
            {
                let s = scales.as_ref().map_or(uniform, |s| s[i]);
                for ((d, &z), &t) in d.iter_mut().zip(z).zip(t) {
                    *d = (z.exp() - t) * s;
                }
            }
        } else if let Some(scales) = &scales {
            let rows = T::from_f64(rows as f64);
            for (d, &s) in delta.as_mut_slice().chunks_mut(cols).zip(scales) {
                let s = s * rows;
                d.iter_mut().for_each(|d| *d *= s);
            }
        }
    };
    match step {
        Some(step) => network.gradients_loaded_stepping(y, &mut adjust, step),
        None => network.gradients_loaded_adjusted(y, &mut adjust),
    }
    let a = &network
        .dense_layers()
        .last()
        .and_then(|d| d.cache())
        .expect("a training pass caches the output")
        .a;
    (sk_output_loss(network, poisson, a, y, weights), total)
}

/// True when batches of `rows` examples split across threads ([`sk_epoch`] runs them in the
/// pool, else on the calling thread).
pub fn sk_uses_threads<T: Float>(network: &Network<T>, rows: usize) -> bool {
    if row_blocks::handles(network) {
        row_blocks::uses_threads(network, rows)
    } else {
        network.uses_threads(rows, true)
    }
}

/// True when [`sk_fit`](super::sk_fit)'s epochs in batches of `rows` split across threads: as
/// [`sk_uses_threads`], but a network in row blocks runs its epochs in stretches whose team
/// stands by from batch to batch, so smaller batches pay.
pub(crate) fn sk_fit_uses_threads<T: Float>(network: &Network<T>, rows: usize) -> bool {
    if row_blocks::handles(network) {
        row_blocks::uses_team(network, rows)
    } else {
        network.uses_threads(rows, true)
    }
}

/// True when [`sk_epoch`] and [`sk_loss_and_gradients`] take this network in row blocks (small
/// dense networks: see the `row_blocks` module) rather than with `gemm` over each batch.
pub fn sk_uses_row_blocks<T: Float>(network: &Network<T>) -> bool {
    row_blocks::handles(network)
}

/// Runs `epoch` (the work of [`sk_epoch`]s) on `pool` with its threads as helpers. For a
/// network in row blocks ([`sk_uses_row_blocks`]), one team for the whole of `epoch`, so that
/// the helpers stand by from batch to batch instead of being woken for each batch's chunks (a
/// wake-up costs about as much as a small network's batch).
pub fn sk_run_in_pool<R: Send>(
    row_blocks: bool,
    pool: &rayon::ThreadPool,
    epoch: impl FnOnce() -> R + Send,
) -> R {
    if row_blocks {
        pool.install(|| team::run(epoch))
    } else {
        pool.install(epoch)
    }
}

/// One epoch of scikit-learn's minibatch training: rows in `order`, batches of `batch_size`
/// (the last one shorter), one [`SkOptimizer::step`] each. Returns the epoch loss, Σ (batch
/// loss + α/(2B)·Σw²)·rows / n, as scikit-learn's `loss_curve_` records it.
///
/// # Panics
/// When shapes disagree with the network, `batch_size` is 0 or `order` holds a row out of range.
pub fn sk_epoch<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut SkOptimizer<T>,
    data: SkData<'_, T>,
    order: &[usize],
    batch_size: usize,
    objective: SkObjective,
) -> f64 {
    sk_epoch_paced(
        network,
        optimizer,
        data,
        (order, batch_size),
        objective,
        None,
    )
}

/// [`sk_epoch`] over the rows of `order` in batches of the given size, each batch too large for
/// row blocks run with helpers or alone as `pacer` finds faster now (see [`Pacer`]), the
/// choice made batch by batch as the command line's trainer makes it; without a pacer, always
/// with helpers. While a batch runs, the team's helpers gather the next one's inputs in small
/// pieces between its parallel loops, as the trainer's steps do. Called on a pool thread, as
/// [`sk_run_in_pool`] does.
///
/// # Panics
/// As [`sk_epoch`].
pub fn sk_epoch_paced<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut SkOptimizer<T>,
    data: SkData<'_, T>,
    (order, batch_size): (&[usize], usize),
    objective: SkObjective,
    mut pacer: Option<&mut Pacer>,
) -> f64 {
    assert!(batch_size > 0, "sk_epoch: batch_size must be positive");
    network.check_rows(data.x, Some(data.y));
    let mut y_batch = Matrix::zeros(0, 0);
    let mut w_batch: Vec<T> = Vec::new();
    let mut total = 0.0;
    let blocks = row_blocks::handles(network);
    // A first layer fed mostly zeros (pixels, one-hot columns) multiplies only the non-zeros.
    network.set_sparse_input(!blocks);
    // SGD and Adam run inside the backward pass (on the bands of the large weight gradients);
    // small networks in row blocks, and the library's rules, step after it.
    let fused = !blocks && optimizer.updates_in_bands();
    // The next batch's inputs, gathered by the team's helpers in the moments this step leaves
    // them (a copy: the same values whoever makes it).
    let mut ahead = Matrix::zeros(0, 0);
    let mut ahead_ready = false;
    for (index, rows) in order.chunks(batch_size).enumerate() {
        let next_rows = order
            .get((index + 1) * batch_size..)
            .map_or(&[][..], |rest| &rest[..rest.len().min(batch_size)]);
        let (loss, batch, squared) = if blocks {
            let (loss, batch) = row_blocks::block_gradients(network, data, rows, objective.poisson);
            (loss, batch, squared_weights(network))
        } else {
            // One team for the whole step, the gathers included (each of its parallel loops
            // would otherwise wake a sleeping pool thread).
            let parallel = network.uses_threads(rows.len(), true);
            let (network, optimizer) = (&mut *network, &mut *optimizer);
            let (y_batch, w_batch) = (&mut y_batch, &mut w_batch);
            let (ahead, ahead_ready) = (&mut ahead, &mut ahead_ready);
            let work = move || {
                match std::mem::take(ahead_ready) {
                    true => network.swap_batch(ahead),
                    false => network.load_batch_from(data.x, rows),
                }
                y_batch.gather_rows(data.y, rows);
                let weights = data.sample_weight.map(|w| {
                    w_batch.clear();
                    w_batch.extend(rows.iter().map(|&i| w[i]));
                    w_batch.as_slice()
                });
                // The penalty is of the weights before the step.
                let squared = squared_weights(network);
                let batch = batch_weight(weights, rows.len());
                let mut step = fused.then(|| SkLayerStep::begin(optimizer, objective.alpha, batch));
                let mut gradients =
                    || batch_gradients(network, y_batch, weights, objective.poisson, step.as_mut());
                let (loss, batch) = match next_rows.is_empty() {
                    true => gradients(),
                    false => {
                        let (result, gathered) =
                            ahead.gather_rows_beside(data.x, next_rows, gradients);
                        *ahead_ready = gathered;
                        result
                    }
                };
                (loss, batch, squared)
            };
            match pacer.as_deref_mut() {
                Some(pacer) => paced_on_pool_thread(parallel, pacer, work),
                None => on_pool_thread(parallel, work),
            }
        };
        let loss = loss + 0.5 * objective.alpha * squared / batch;
        total += loss * rows.len() as f64;
        if !fused {
            optimizer.step(network, objective.alpha, batch);
        }
    }
    total / order.len().max(1) as f64
}

/// scikit-learn's full-batch objective, what its L-BFGS minimises: fills every layer's
/// gradients with (δᵀa + αW)/B (biases without the penalty) and returns the loss plus
/// α/(2B)·Σw², B the rows or the sample-weight sum.
///
/// # Panics
/// When shapes disagree with the network.
pub fn sk_loss_and_gradients<T: Float>(
    network: &mut Network<T>,
    data: SkData<'_, T>,
    objective: SkObjective,
) -> f64 {
    network.check_rows(data.x, Some(data.y));
    let all: Vec<usize> = (0..data.x.rows()).collect();
    let (loss, batch) = if row_blocks::handles(network) {
        row_blocks::block_gradients(network, data, &all, objective.poisson)
    } else {
        network.load_batch_from(data.x, &all);
        batch_gradients(network, data.y, data.sample_weight, objective.poisson, None)
    };
    let alpha = objective.alpha;
    if alpha != 0.0 {
        let penalty = T::from_f64(alpha / batch);
        for dense in network.dense_layers_mut() {
            let dense = &mut *dense;
            dense.weight_gradient.add_scaled(penalty, &dense.weight);
        }
    }
    loss + 0.5 * alpha * squared_weights(network) / batch
}
