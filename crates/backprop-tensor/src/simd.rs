//! Run-time CPU dispatch for the elementwise kernels.
//!
//! The crate is built for the baseline x86-64 (the conventions forbid `target-cpu=native`), which
//! gives the compiler 128-bit SSE2 vectors. [`simd_kernel!`](crate::simd_kernel) defines a
//! function whose body is compiled twice, once as is and once inside a function with AVX-512
//! enabled, and calls the second when the CPU has the features. Pasting the body (rather than
//! calling a closure from an AVX-512 function) matters: a closure that the optimiser declines to
//! inline stays compiled for the baseline, and measured so for the loss and activation loops.
//! Closures written inside the body inherit the AVX-512 features.
//!
//! **Same bits either way.** The kernels are plain IEEE additions, multiplications, divisions,
//! square roots and comparisons, which are exactly rounded one lane at a time; Rust never fuses
//! a·b + c into an FMA or reorders a sum unless told to. So the AVX-512 build and the baseline
//! build of a kernel produce identical results; only the GEMM kernels (the `gemm` crate's own
//! dispatch) differ between CPU feature levels.

/// True when this CPU has every feature the wide versions of the kernels are compiled with
/// (the `target_feature` list in [`simd_kernel!`](crate::simd_kernel), checked against this one
/// by a test), so they may run. Cached by the standard library after the first call.
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a function whose body runs compiled with AVX-512 when the CPU has it, and as built
/// otherwise (see the [module documentation](crate::simd)).
///
/// ```
/// backprop_tensor::simd_kernel! {
///     /// x ← 2x + 1.
///     pub fn double_plus_one<T: backprop_tensor::Float>(values: &mut [T]) {
///         for v in values.iter_mut() {
///             *v = *v + *v + T::ONE;
///         }
///     }
/// }
/// let mut v = [1.0f32, 2.0];
/// double_plus_one(&mut v);
/// assert_eq!(v, [3.0, 5.0]);
/// ```
#[macro_export]
macro_rules! simd_kernel {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident $(<$($generic:ident : $bound:path),*>)?
        ($($argument:ident : $kind:ty),* $(,)?) $(-> $output:ty)? $body:block
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$($generic: $bound),*>)? ($($argument: $kind),*) $(-> $output)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi1,bmi2")]
                #[allow(clippy::too_many_arguments)]
                fn wide $(<$($generic: $bound),*>)? ($($argument: $kind),*) $(-> $output)?
                    $body
                if $crate::simd::has_avx512() {
                    // SAFETY: the CPU has every feature `wide` was compiled for.
                    return unsafe { wide($($argument),*) };
                }
            }
            $body
        }
    };
}

#[cfg(test)]
mod tests {
    crate::simd_kernel! {
        fn kernel(values: &[f32]) -> Vec<f32> {
            values.iter().map(|&x| (x * 1.5 + 0.25) / (x.abs() + 1.0)).collect()
        }
    }

    /// Every feature the wide build is compiled with is one `has_avx512` checks at run time:
    /// running code built for a feature the CPU lacks is undefined behaviour.
    #[test]
    fn every_compiled_feature_is_checked_at_run_time() {
        let source = include_str!("simd.rs");
        let enabled = source
            .split("#[target_feature(enable = \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the wide build's feature list");
        let check = source
            .split("pub fn has_avx512() -> bool {")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("the run-time check");
        let features: Vec<&str> = enabled.split(',').collect();
        assert!(features.len() >= 6, "{features:?}");
        for feature in features {
            assert!(
                check.contains(&format!("is_x86_feature_detected!(\"{feature}\")")),
                "`{feature}` is compiled into the wide kernels but not checked at run time"
            );
        }
    }

    #[test]
    fn the_wide_build_gives_the_baseline_bits() {
        let values: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.173).collect();
        let baseline: Vec<f32> = values
            .iter()
            .map(|&x| (x * 1.5 + 0.25) / (x.abs() + 1.0))
            .collect();
        assert_eq!(kernel(&values), baseline);
    }
}
