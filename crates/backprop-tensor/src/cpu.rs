//! Which CPU features the matrix kernels use on this machine.
//!
//! The `gemm` crate picks its kernels at run time (AVX-512 where the CPU has it, else AVX2 with
//! FMA, else SSE/scalar), so one binary runs everywhere. Results may differ in the last bits
//! between those kernel families; on one machine they are always the same.

/// The SIMD level the GEMM kernels dispatch to here, e.g. `"x86-64 AVX-512F (AVX2, FMA)"`.
pub fn cpu_features() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        let fma = std::arch::is_x86_feature_detected!("fma");
        let level = if avx512 {
            "AVX-512F"
        } else if avx2 && fma {
            "AVX2+FMA"
        } else {
            "SSE2"
        };
        let mut extras = Vec::new();
        if avx2 {
            extras.push("AVX2");
        }
        if fma {
            extras.push("FMA");
        }
        if extras.is_empty() {
            format!("x86-64 {level}")
        } else {
            format!("x86-64 {level} ({})", extras.join(", "))
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "aarch64 NEON".to_string()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        format!("{} (portable kernels)", std::env::consts::ARCH)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_an_architecture() {
        let text = super::cpu_features();
        assert!(
            text.starts_with(std::env::consts::ARCH.replace('_', "-").as_str())
                || text.starts_with("aarch64"),
            "{text}"
        );
    }
}
