//! # Backpropagation, as this crate does it
//!
//! This page follows one training step through the code. Every formula names the function that
//! computes it, so you can read the idea and its implementation side by side.
//!
//! ## Notation
//!
//! A network has layers l = 1 … L (the dense layers; dropout sits between them and has no
//! parameters). Layer l holds weights wˡ (out × in, PyTorch's layout) and biases bˡ, and an
//! activation σ ([`Activation`](crate::Activation)):
//!
//! ```text
//! zˡ = wˡ aˡ⁻¹ + bˡ        weighted input         Dense::weighted_input
//! aˡ = σ(zˡ)               activation             Activation::forward
//! a⁰ = x                   the input
//! ```
//!
//! In code a batch is a matrix with one example per row, so zˡ for the whole batch is
//! Z = A·Wᵀ + 1·b: one [`Matrix::matmul_transpose`](crate::Matrix::matmul_transpose) and one
//! [`Matrix::add_row_to_each_row`](crate::Matrix::add_row_to_each_row).
//!
//! The cost C ([`Cost`](crate::Cost)) of a batch is the **mean** of the examples' costs, so
//! every gradient below carries a factor 1/n ([`Cost::loss`](crate::Cost::loss),
//! [`Cost::output_gradient`](crate::Cost::output_gradient)).
//!
//! ## Forward propagation
//!
//! [`Network::forward`](crate::Network::forward) is inference: a⁰ = x, then aˡ = σ(wˡaˡ⁻¹ + bˡ)
//! for l = 1 … L, and aᴸ is the prediction. During training each layer's
//! [`Layer::forward`](crate::Layer::forward) also keeps aˡ⁻¹, zˡ and aˡ in a
//! [`DenseCache`](crate::dense::DenseCache), because the backward pass needs them.
//!
//! ## The error δ
//!
//! δˡ = ∂C/∂zˡ says how much the cost would change if the weighted input of each unit moved.
//! Backprop computes δ at the output and carries it back, one layer at a time.
//!
//! **BP1, at the output layer:** δᴸ = ∇ₐC ⊙ σ′(zᴸ), in
//! [`Dense::output_delta`](crate::Dense::output_delta).
//! [`Cost::output_delta`](crate::Cost::output_delta) multiplies
//! [`Cost::output_gradient`](crate::Cost::output_gradient) (∇ₐC) by
//! [`Activation::derivative`](crate::Activation::derivative) (σ′). Two pairings fuse: softmax
//! with cross-entropy and sigmoid with binary cross-entropy both give δᴸ = a − y, because σ′
//! cancels the cost's denominator. The fused form is used in training (it is cheaper and never
//! divides by a tiny a); [`Trace::fused_output`](crate::Trace::fused_output) says when.
//!
//! **BP2, from layer l + 1 back to layer l:** δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ). It happens in two
//! halves in two layers: layer l + 1's
//! [`Dense::backpropagate_delta`](crate::Dense::backpropagate_delta) computes (wˡ⁺¹)ᵀ δˡ⁺¹
//! (for the batch, δ·W: one product), which is ∂C/∂aˡ; layer l's
//! [`Dense::hidden_delta`](crate::Dense::hidden_delta) multiplies it by σ′(zˡ)
//! ([`Activation::backward`](crate::Activation::backward); softmax uses its Jacobian).
//! In the company network: the CEO's feedback reaches each manager weighed by how much the CEO
//! trusts that manager (the weight), and scaled by how sensitive that manager was (σ′).
//!
//! **BP3, the biases:** ∂C/∂bˡ = δˡ. Summed over the batch:
//! a column sum in [`Dense::parameter_gradients`](crate::Dense::parameter_gradients).
//!
//! **BP4, the weights:** ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ, i.e. ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ. Summed over the batch
//! it is δᵀ·A: one product with the transpose read in place (no copy), in
//! [`Dense::parameter_gradients`](crate::Dense::parameter_gradients).
//!
//! These are the functions every training step runs (`propagation.rs` calls them layer by
//! layer). For plain SGD without momentum the trainer takes a named shortcut,
//! [`Dense::fused_sgd_update`](crate::Dense::fused_sgd_update): BP3, BP4 and the update in one
//! pass, so that ∂C/∂W never goes through memory; `tests/fused_sgd.rs` holds it equal to the
//! plain step. For the other rules (Adam, AdamW, RMSprop, momentum),
//! [`Dense::parameter_gradients_updating`](crate::Dense::parameter_gradients_updating) computes
//! BP4 a band of rows at a time and the rule updates each band while it is in cache
//! (`tests/fused_rule.rs`).
//!
//! [`Network::backward`](crate::Network::backward) runs all of it and returns the named
//! gradients; [`Network::trace`](crate::Network::trace) records every zˡ, aˡ, ∂C/∂aˡ, δˡ and
//! gradient for display ([`LayerTrace`](crate::LayerTrace)).
//!
//! ## Images: the same four equations through convolutions and pooling
//!
//! A convolution ([`Conv2d`](crate::conv::Conv2d)) is a dense layer whose weights are shared
//! and whose connections are local. Output (f, i, j) weighs the k × k × C patch of the input
//! under it (stride s):
//!
//! ```text
//! z[f,i,j] = b_f + Σ_{c,u,v} W[f,c,u,v] · x[c, s·i+u, s·j+v]
//! ```
//!
//! Every weight W\[f,c,u,v\] therefore appears in every output position (i, j) of plane f, and
//! every input pixel feeds the outputs whose patches cover it. The chain rule, applied to
//! those two facts:
//!
//! ```text
//! BP2's ⊙ σ′   δ[f,i,j] = ∂C/∂a[f,i,j] · σ′(z[f,i,j])            value by value, as before
//! BP3          ∂C/∂b_f = Σ_{i,j} δ[f,i,j]                        b_f is added at every (i, j)
//! BP4          ∂C/∂W[f,c,u,v] = Σ_{i,j} δ[f,i,j] · x[c, s·i+u, s·j+v]
//!                                              δ correlated with the input
//! BP2's (wˡ)ᵀδ ∂C/∂x[c,p,q] = Σ_{f,i,j} δ[f,i,j] · W[f, c, p−s·i, q−s·j]
//!                                              δ fully correlated with the flipped kernels
//! ```
//!
//! (summed over the batch too). For BP4, W\[f,c,u,v\] multiplied x\[c, s·i+u, s·j+v\] at every
//! (i, j); for BP2, pixel x\[c,p,q\] reached every output whose patch covers it, through the
//! weight at its offset (u, v) = (p − s·i, q − s·j).
//!
//! In code all four are products: im2col writes every patch as a column of X̂, Z = W·X̂ is the
//! forward pass, δ·X̂ᵀ is BP4, and Wᵀ·δ followed by col2im (which adds each column back onto the
//! pixels it came from) is BP2 ([`LayerOps::backward`](crate::LayerOps::backward) in
//! `conv/mod.rs`). Long patches are written as rows of X̂ instead, with Z and δ one output
//! position per row: the forward pass is then Z = X̂·Wᵀ and BP4 δᵀ·X̂, the same numbers from
//! operands the GEMM reads faster.
//!
//! **Pooling** ([`Pool2d`](crate::pool::Pool2d)) has no parameters, so only BP2 applies. A max
//! passes on one input, so ∂y/∂x is 1 for the window's winner and 0 for the rest: δ goes back
//! to the winning input only (ties to the first maximum, as PyTorch). An average
//! y = (1/s²) Σ x has ∂y/∂x = 1/s² for every input of its window: δ is spread evenly.
//! Flattening the last image for the dense layers moves no value, so it moves δ back unchanged.
//! `tests/convolution.rs` checks all of it against these formulas written out as loops and
//! against finite differences ([`gradient_check`](crate::gradient_check())).
//!
//! ## Gradient descent
//!
//! With every ∂C/∂θ known, an optimiser moves each parameter downhill. Plain SGD is
//! θ ← θ − η ∂C/∂θ ([`optim::sgd_update`](crate::optim::sgd_update)); momentum, Adam, AdamW
//! and RMSprop follow PyTorch's rules, each a pure function of parameter, gradient and state.
//! The learning rate η comes from a [`LearningRateSchedule`](crate::optim::LearningRateSchedule)
//! counted in optimisation steps. [`Trainer::step`](crate::Trainer::step) takes one
//! forward → backward → update on the next mini-batch; [`Trainer::fit`](crate::Trainer::fit)
//! repeats it over shuffled mini-batches, epoch after epoch.
//!
//! ## Why not just nudge each weight?
//!
//! The gradient could be measured without backprop: move one weight by ±h, run the network
//! twice, and divide the change in cost by 2h. That costs two forward passes **per parameter**;
//! backprop gets all of them for about the cost of two forward passes in total.
//! [`gradient_check`](crate::gradient_check()) does the slow thing on purpose, in `f64`, to
//! prove the fast thing right: every test in this crate that checks gradients compares the two
//! and requires a relative error below 1e-6.
//!
//! ## One step by hand
//!
//! ```
//! use backprop::{Activation, Cost, NetworkConfig};
//! use backprop::Matrix;
//! // 2 salespeople → 3 managers → 1 CEO, all sigmoid, quadratic cost.
//! let mut net = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
//!     .with_hidden_activation(Activation::Sigmoid)
//!     .with_output_activation(Activation::Sigmoid)
//!     .with_seed(7)
//!     .init::<f64>()
//!     .unwrap();
//! let x = Matrix::from_rows(&[[1.0, 0.0]]).unwrap();
//! let y = Matrix::from_rows(&[[1.0]]).unwrap();
//! let before = net.loss(&x, &y);
//! let (_, gradients) = net.backward(&x, &y);
//! // Gradient descent with η = 0.5, written out.
//! for (name, gradient) in &gradients.entries {
//!     let parameter = net.parameter_mut(name).unwrap();
//!     parameter.add_scaled(-0.5, gradient);
//! }
//! assert!(net.loss(&x, &y) < before);
//! ```
