//! The network behind a `Core` in one float type, and the conversions between NumPy arrays
//! and the engine's row-major matrices.

use backprop::sklearn::{SkData, SkOptimizer};
use backprop::{Activation, Float, Matrix, Network};
use backprop_tensor::MatrixView;
use numpy::{
    Element, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One layer's parameters as NumPy arrays: (coef (n_in, n_out), intercept (n_out,)).
pub(crate) type Layer<'py, T> = (Bound<'py, PyArray2<T>>, Bound<'py, PyArray1<T>>);

/// X kept between calls: NumPy's own array when it is C-ordered, read in place while training
/// (never copied: MNIST's 188 MB, and the kernel's zeroing of as much fresh memory, a tenth of
/// a fit), else a row-major copy. As with scikit-learn's fits, which also read X with the GIL
/// released, X must not be changed by other threads while a fit runs.
pub(crate) enum KeptX<T: Float + Element> {
    /// The caller's array.
    Shared(Py<PyArray2<T>>),
    /// A copy of an array in another layout.
    Copied(Matrix<T>),
}

/// X borrowed for the length of one call.
pub(crate) enum XGuard<'a, 'py, T: Float + Element> {
    /// NumPy's buffer, read-only for the call.
    Shared(PyReadonlyArray2<'py, T>),
    /// The kept copy.
    Copied(&'a Matrix<T>),
}

impl<T: Float + Element> XGuard<'_, '_, T> {
    fn view(&self) -> MatrixView<'_, T> {
        match self {
            XGuard::Shared(array) => {
                let cols = array.shape()[1];
                let values = array.as_slice().expect("checked C-ordered when borrowed");
                MatrixView::new(values, cols).expect("whole rows")
            }
            XGuard::Copied(matrix) => (*matrix).into(),
        }
    }
}

/// Training rows kept between calls: X, Y and optional sample weights.
pub(crate) struct Rows<T: Float + Element> {
    pub(crate) x: KeptX<T>,
    /// X's rows.
    pub(crate) rows: usize,
    pub(crate) y: Matrix<T>,
    pub(crate) sample_weight: Option<Vec<T>>,
}

impl<T: Float + Element> Rows<T> {
    /// Keeps `x` as it is when it is C-ordered (see [`KeptX`]), else a copy.
    pub(crate) fn keep(
        x: &Bound<'_, PyArray2<T>>,
        y: Matrix<T>,
        sample_weight: Option<Vec<T>>,
    ) -> Self {
        let rows = x.shape()[0];
        let x = if x.is_c_contiguous() {
            KeptX::Shared(x.clone().unbind())
        } else {
            KeptX::Copied(to_matrix(&x.readonly()))
        };
        Self {
            x,
            rows,
            y,
            sample_weight,
        }
    }

    /// X for one call: NumPy's array borrowed read-only (an error if it changed shape or
    /// layout since it was kept, or is borrowed for writing), or the copy.
    pub(crate) fn borrow_x<'a, 'py>(&'a self, py: Python<'py>) -> PyResult<XGuard<'a, 'py, T>> {
        match &self.x {
            KeptX::Copied(matrix) => Ok(XGuard::Copied(matrix)),
            KeptX::Shared(array) => {
                let array = array.bind(py).clone();
                if array.shape()[0] != self.rows || !array.is_c_contiguous() {
                    return Err(value_error("X changed shape or layout during the fit"));
                }
                let array = array
                    .try_readonly()
                    .map_err(|error| value_error(format!("X cannot be read: {error}")))?;
                Ok(XGuard::Shared(array))
            }
        }
    }

    /// The rows as the engine reads them, X from `x` (see [`Rows::borrow_x`]).
    pub(crate) fn data<'a>(&'a self, x: &'a XGuard<'_, '_, T>) -> SkData<'a, T> {
        SkData {
            x: x.view(),
            y: &self.y,
            sample_weight: self.sample_weight.as_deref(),
        }
    }
}

/// One network with its optimiser and data, in one float type.
pub(crate) struct Engine<T: Float + Element> {
    pub(crate) network: Network<T>,
    pub(crate) optimizer: Option<SkOptimizer<T>>,
    pub(crate) data: Option<Rows<T>>,
}

pub(crate) fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(message.to_string())
}

/// A NumPy array in any layout, copied row by row into a `Matrix`.
pub(crate) fn to_matrix<T: Float + Element>(array: &PyReadonlyArray2<'_, T>) -> Matrix<T> {
    let view = array.as_array();
    let (rows, cols) = view.dim();
    // On huge pages, as the command line's MNIST: a batch gathered from random rows of a large
    // X then stays within the TLB's reach.
    match view.as_slice() {
        Some(slice) => Matrix::from_iter_huge_pages(rows, cols, slice.iter().copied()),
        None => Matrix::from_iter_huge_pages(rows, cols, view.iter().copied()),
    }
}

/// A `Matrix` as a C-ordered NumPy array, moved without a copy.
pub(crate) fn to_numpy<T: Float + Element>(
    py: Python<'_>,
    matrix: Matrix<T>,
) -> Bound<'_, PyArray2<T>> {
    let (rows, cols) = matrix.shape();
    PyArray1::from_vec(py, matrix.into_vec())
        .reshape([rows, cols])
        .expect("rows × cols values")
}

pub(crate) fn parse_activation(name: &str) -> PyResult<Activation> {
    name.parse::<Activation>().map_err(value_error)
}

impl<T: Float + Element> Engine<T> {
    pub(crate) fn new(network: Network<T>) -> Self {
        Self {
            network,
            optimizer: None,
            data: None,
        }
    }

    pub(crate) fn check_width(&self, cols: usize) -> PyResult<()> {
        if cols != self.network.input_width() {
            return Err(value_error(format!(
                "X has {cols} features, but the network takes {} features as input",
                self.network.input_width()
            )));
        }
        Ok(())
    }

    pub(crate) fn coefs<'py>(&self, py: Python<'py>) -> Vec<Layer<'py, T>> {
        self.network
            .dense_layers()
            .iter()
            .map(|d| {
                let (out, inp) = d.weight.shape();
                let coef = Matrix::from_fn(inp, out, |i, j| d.weight[(j, i)]);
                (
                    to_numpy(py, coef),
                    PyArray1::from_slice(py, d.bias.as_slice()),
                )
            })
            .collect()
    }

    pub(crate) fn set_coefs(
        &mut self,
        coefs: Vec<PyReadonlyArray2<'_, f64>>,
        intercepts: Vec<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let mut layers = self.network.dense_layers_mut();
        if coefs.len() != layers.len() || intercepts.len() != layers.len() {
            return Err(value_error(format!(
                "expected {} coefficient matrices and intercept vectors, got {} and {}",
                layers.len(),
                coefs.len(),
                intercepts.len()
            )));
        }
        for (i, ((dense, coef), intercept)) in
            layers.iter_mut().zip(&coefs).zip(&intercepts).enumerate()
        {
            let (out, inp) = dense.weight.shape();
            let coef = coef.as_array();
            if coef.dim() != (inp, out) || intercept.len() != out {
                return Err(value_error(format!(
                    "layer {i}: coefs must be ({inp}, {out}) and intercepts ({out},), got {:?} and ({},)",
                    coef.dim(),
                    intercept.len()
                )));
            }
            dense.weight = Matrix::from_fn(out, inp, |j, k| T::from_f64(coef[(k, j)]));
            let intercept = intercept.as_array();
            dense.bias = Matrix::from_fn(1, out, |_, j| T::from_f64(intercept[j]));
        }
        Ok(())
    }
}

/// Rows per block of a prediction ([`backprop::ROW_BLOCK`]): each block runs the layers
/// straight through on one thread, reading NumPy's buffer in place.
pub(crate) const PREDICT_ROWS: usize = backprop::ROW_BLOCK;

/// The network's outputs for the rows of `x` (C order read in place, any other layout copied
/// first), block by block ([`Network::forward_rows`]). The blocks are a function of the row
/// count only, so the bits do not depend on the number of threads. With `check_finite`, None
/// when X holds a NaN or an infinity (scikit-learn's `validate_data` check, done on the first
/// layer's product instead of as its own pass over X), or when that product overflowed from
/// finite values.
pub(crate) fn forward_blocks<T: Float + Element>(
    network: &Network<T>,
    x: numpy::ndarray::ArrayView2<'_, T>,
    check_finite: bool,
) -> Option<Matrix<T>> {
    let (rows, cols) = x.dim();
    if !network.reads_rows_in_place() || cols == 0 {
        // image layers (a command-line model): the network's own batched inference
        let x = Matrix::from_vec(rows, cols, x.iter().copied().collect()).expect("rows × cols");
        if check_finite && !x.all_finite() {
            return None;
        }
        return Some(network.forward(&x));
    }
    let copy: Vec<T>;
    let x = match x.as_slice() {
        Some(slice) => slice,
        None => {
            copy = x.iter().copied().collect();
            &copy
        }
    };
    network.forward_rows(x, backprop::RowsOutput::Activations, check_finite)
}

/// Sample weights: one finite value ≥ 0 per row.
pub(crate) fn to_weights<T: Float + Element>(
    weights: &PyReadonlyArray1<'_, T>,
    rows: usize,
) -> PyResult<Vec<T>> {
    let weights: Vec<T> = weights.as_array().iter().copied().collect();
    if weights.len() != rows {
        return Err(value_error(format!(
            "sample_weight has {} values, X has {rows} rows",
            weights.len()
        )));
    }
    Ok(weights)
}

pub(crate) fn check_data<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> PyResult<()> {
    check_shapes(network, x.shape(), y)
}

/// [`check_data`] for an X of `shape` (rows, columns).
pub(crate) fn check_shapes<T: Float>(
    network: &Network<T>,
    (rows, cols): (usize, usize),
    y: &Matrix<T>,
) -> PyResult<()> {
    if cols != network.input_width() {
        return Err(value_error(format!(
            "X has {cols} features, but the network takes {}",
            network.input_width()
        )));
    }
    if y.shape() != (rows, network.output_width()) {
        return Err(value_error(format!(
            "y must be ({rows}, {}), got {:?}",
            network.output_width(),
            y.shape()
        )));
    }
    Ok(())
}
