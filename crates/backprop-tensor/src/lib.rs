//! # backprop-tensor
//!
//! The numeric kernel under `backprop`: a row-major 2-D [`Matrix`] over a [`Float`] (`f32` by
//! default, `f64` for gradient checks), elementwise operations, row and column sums, the
//! broadcast bias add Z = X·Wᵀ + 1·bᵀ, matrix products behind one GEMM wrapper
//! ([`matmul`]) and, for blocks of a few kilobytes where packing costs more than the arithmetic,
//! register-tiled products straight from the buffers ([`small_product`]), seeded random fills from ChaCha8 ([`SeededRng`]), run-time AVX-512 dispatch for
//! elementwise kernels ([`simd`]), a vectorisable eˣ ([`vector_math`]), the one row-wise
//! [`argmax`] with its NaN rule, and the workspace's one atomic file writer ([`atomic_file`]).
//!
//! ```
//! use backprop_tensor::{Matrix, SeededRng};
//! let x = Matrix::<f32>::from_rows(&[[1.0, 2.0], [3.0, 4.0]]).unwrap(); // 2 examples × 2 inputs
//! let w = Matrix::<f32>::from_rows(&[[0.5, -1.0]]).unwrap(); // 1 output × 2 inputs
//! let mut z = x.matmul_transpose(&w); // X·Wᵀ
//! z.add_row_to_each_row(&Matrix::row_vector(&[0.25]));
//! assert_eq!(z.as_slice(), &[-1.25, -2.25]);
//! let mut rng = SeededRng::new(1);
//! let r = Matrix::<f32>::random_uniform(2, 2, -1.0, 1.0, &mut rng);
//! assert!(r.max_abs() <= 1.0);
//! ```

#![warn(missing_docs)]

pub mod atomic_file;
mod buffer;
mod cpu;
mod error;
mod float;
pub mod matmul;
mod matrix;
#[cfg(feature = "ndarray")]
mod ndarray_interop;
pub mod pacer;
pub mod patches;
pub mod peak;
mod random;
pub mod row_panels;
pub mod rows;
pub mod simd;
pub mod small_product;
pub mod sparse_rows;
pub mod team;
mod tile_plan;
mod transpose;
pub mod vector_math;
mod view;

pub use buffer::SIDE_GATHER;
pub use cpu::cpu_features;
pub use error::TensorError;
pub use float::Float;
pub use matmul::Transpose;
pub use matrix::{all_finite, argmax, Matrix};
pub use random::{RngState, SeededRng};
pub use transpose::for_each_band_beside_transpose;
pub use view::MatrixView;
