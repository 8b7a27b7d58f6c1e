//! An optional bias kept as an `Option` in a parameter struct (PyTorch's `bias=False`): the
//! derive says to keep the array and a flag.
use autodiff::Differentiable;
use ndarray::{Array1, Array2};

#[derive(Clone, Differentiable)]
struct Linear {
    w: Array2<f64>,
    bias: Option<Array1<f64>>,
}

fn main() {}
