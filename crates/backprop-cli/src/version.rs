//! `backprop --version`: the version, and the CPU features the matrix kernels use here.

/// The long version text: version, then the SIMD level the GEMM kernels dispatch to.
pub fn long_version() -> &'static str {
    let text = format!(
        "{}\nmatrix kernels: gemm {} with run-time dispatch, using {}",
        env!("CARGO_PKG_VERSION"),
        "0.19",
        backprop_tensor::cpu_features()
    );
    // Computed once per process; clap needs a 'static string.
    Box::leak(text.into_boxed_str())
}
