//! Steady-state training allocates nothing of its own: once the first steps have sized every
//! buffer, a training step of a network with convolutions, max-pooling, dropout and dense
//! layers makes no heap allocation, on one thread or on a team of two or three, outside the
//! `gemm` crate; nor does an Adam step fused into the backward pass of a dense network.
//!
//! The `gemm` crate allocates inside each call that packs an operand (its packing buffer and a
//! small vector of flags, in gemm-common's `gemm_basic_generic`) and takes no scratch memory
//! instead; see `backprop_tensor::matmul::inside_gemm_crate`. The test counts those apart and
//! bounds them: at most two allocations per call, and no more bytes than a packed copy of the
//! largest operand per call could need.
//!
//! A counting global allocator sees every allocation of the process, so this file holds one
//! test: no other test runs beside it.

use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::optim::{AdamConfig, Optimizer, OptimizerConfig, SgdConfig};
use backprop::train::{
    DivergenceCheck, DivergenceSettings, FusedRuleStep, FusedSgdStep, MetricAccumulator, PlainStep,
    StepInput, StepKind, StepStrategy,
};
use backprop::{Activation, Cost, Matrix, NetworkConfig, SeededRng};
use backprop_tensor::matmul::{gemm_crate_calls, inside_gemm_crate};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Counts allocations (and growths) while `COUNTING` is set.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static GEMM_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static GEMM_BYTES: AtomicUsize = AtomicUsize::new(0);

fn count(size: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let (allocations, bytes) = if inside_gemm_crate() {
        (&GEMM_ALLOCATIONS, &GEMM_BYTES)
    } else {
        (&ALLOCATIONS, &BYTES)
    };
    allocations.fetch_add(1, Ordering::Relaxed);
    bytes.fetch_add(size, Ordering::Relaxed);
}

// SAFETY: every call is passed on unchanged to the system allocator; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as for `alloc`; `ptr` came from this allocator, which is `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ROWS: usize = 96;
const BATCH: usize = 32;

/// 1×16×16 images in three classes.
fn data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::new(7);
    let x = Matrix::random_uniform(ROWS, 256, 0.0, 1.0, &mut rng);
    let y = Matrix::from_fn(ROWS, 3, |r, c| f32::from(u8::from(r % 3 == c)));
    (x, y)
}

/// What 9 steady-state steps allocated.
struct Counts {
    /// Allocations and bytes outside the `gemm` crate.
    ours: (usize, usize),
    /// Allocations and bytes inside it.
    gemm: (usize, usize),
    /// Calls into the `gemm` crate.
    gemm_calls: usize,
}

/// Rounds of 9 counted steps.
const ROUNDS: usize = 3;

/// The allocations of each round of 9 training steps, after 3 uncounted ones, for the
/// convolutional network, or (`dense_only`) a dense one whose first layer's weight gradient is
/// computed in bands with the optimiser's step (the fused rule step).
fn allocations_per_round_of(
    optimizer: OptimizerConfig,
    threads: usize,
    dense_only: bool,
) -> Vec<Counts> {
    let (x, y) = data();
    let spec = [
        "conv:8:3",
        "maxpool:2",
        "conv:16:3",
        "dropout:0.3",
        "maxpool:2",
    ];
    let features = spec
        .iter()
        .map(|text| FeatureLayer::parse(text, Activation::Relu).unwrap())
        .collect();
    let mut network = match dense_only {
        false => NetworkConfig::new(&[0, 32, 3], Cost::SoftmaxCrossEntropy)
            .with_features(ImageShape::new(1, 16, 16), features),
        true => NetworkConfig::new(&[256, 300, 3], Cost::SoftmaxCrossEntropy),
    }
    .with_hidden_activation(Activation::Relu)
    .with_seed(3)
    .init::<f32>()
    .unwrap();
    let mut optimizer = Optimizer::<f32>::new(optimizer).unwrap();
    // The strategy the trainer would pick.
    let mut strategy: Box<dyn StepStrategy<f32>> =
        if FusedSgdStep::applies(&network, &optimizer, None) {
            Box::new(FusedSgdStep::default())
        } else if FusedRuleStep::applies(&network, &optimizer, None) {
            Box::new(FusedRuleStep::default())
        } else {
            Box::new(PlainStep::default())
        };
    assert_eq!(
        strategy.kind() == StepKind::FusedRule,
        dense_only && optimizer.config().name() == "Adam"
    );
    let batches: Vec<Vec<usize>> = (0..ROWS / BATCH)
        .map(|b| (b * BATCH..(b + 1) * BATCH).collect())
        .collect();
    let mut metrics = MetricAccumulator::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut step = |index: usize| {
            let rows = &batches[index % batches.len()];
            let next_rows = &batches[(index + 1) % batches.len()];
            let input = StepInput {
                x: &x,
                y: &y,
                rows,
                next_rows,
                learning_rate: 0.01,
                gradient_clip: None,
                divergence: DivergenceCheck {
                    settings: DivergenceSettings::default(),
                    reference: None,
                },
            };
            strategy
                .step(&mut network, &mut optimizer, &input, &mut metrics)
                .unwrap();
        };
        for index in 0..3 {
            step(index);
        }
        (0..ROUNDS)
            .map(|round| {
                for counter in [&ALLOCATIONS, &BYTES, &GEMM_ALLOCATIONS, &GEMM_BYTES] {
                    counter.store(0, Ordering::SeqCst);
                }
                let calls_before = gemm_crate_calls();
                COUNTING.store(true, Ordering::SeqCst);
                for index in 3 + round * 9..3 + (round + 1) * 9 {
                    step(index);
                }
                COUNTING.store(false, Ordering::SeqCst);
                Counts {
                    ours: (
                        ALLOCATIONS.load(Ordering::SeqCst),
                        BYTES.load(Ordering::SeqCst),
                    ),
                    gemm: (
                        GEMM_ALLOCATIONS.load(Ordering::SeqCst),
                        GEMM_BYTES.load(Ordering::SeqCst),
                    ),
                    gemm_calls: (gemm_crate_calls() - calls_before) as usize,
                }
            })
            .collect()
    })
}

#[test]
fn steady_state_training_steps_allocate_nothing() {
    let optimizers: [(&str, OptimizerConfig, bool); 3] = [
        ("sgd", SgdConfig::new().into(), false),
        ("adam", AdamConfig::new().into(), false),
        ("adam, dense layers only", AdamConfig::new().into(), true),
    ];
    for (name, optimizer, dense_only) in optimizers {
        for threads in [1, 2, 3] {
            let rounds = allocations_per_round_of(optimizer.clone(), threads, dense_only);
            // An allocation made per batch shows in every round. A pool thread that first
            // joins in late (on a busy machine a helper may miss the warm-up steps) makes its
            // one-time thread-local set-up in one round; so a round must come out clean.
            let ours: Vec<(usize, usize)> = rounds.iter().map(|r| r.ours).collect();
            assert!(
                ours.contains(&(0, 0)),
                "{name} on {threads} thread(s): allocations and bytes in each round of 9 \
                 steady-state steps: {ours:?}"
            );
            let counts = rounds.last().expect("rounds");
            // The largest operand here is a convolution's patch matrix, 72 × 32·14·14 values;
            // a packed copy of it is under 2 MB, and a call packs at most one panel of each
            // operand at a time.
            let (allocations, bytes) = counts.gemm;
            assert!(
                counts.gemm_calls > 0 && allocations <= 2 * counts.gemm_calls,
                "{name} on {threads} thread(s): {allocations} allocations in {} gemm calls",
                counts.gemm_calls
            );
            assert!(
                bytes <= counts.gemm_calls * (72 * 32 * 14 * 14 * 4),
                "{name} on {threads} thread(s): {bytes} bytes in {} gemm calls",
                counts.gemm_calls
            );
        }
    }
}
