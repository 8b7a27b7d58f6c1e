//! A parameter struct of the user's named `Cell` (an RNN cell), not std's `Cell<T>`: the macro
//! took the name alone for std's cell, so under the default activity the parameter was
//! silently left out of the gradient (`loss_grad` returned the gradient of `x` only), and
//! `wrt(cell)` was the error "`cell` is a cell". std's cells are written with their type
//! argument (`Cell<f64>`, `RefCell<Vec<f64>>`); only those are cells now.

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, array};

#[derive(Clone, Debug, Differentiable)]
struct Cell {
    w: Array1<f64>,
}

#[differentiate]
impl Cell {
    fn score(&self, x: &Array1<f64>) -> f64 {
        self.w.dot(x)
    }
}

/// (w·x)²: ∂w = 2(w·x)·x, ∂x = 2(w·x)·w.
#[differentiate]
fn loss(cell: &Cell, x: &Array1<f64>) -> f64 {
    cell.w.dot(x).powi(2)
}

#[differentiate(wrt(cell))]
fn loss_wrt(cell: &Cell, x: &Array1<f64>) -> f64 {
    cell.score(x).powi(2)
}

#[differentiate]
fn loss_at(cell: &Cell, idx: &[usize]) -> f64 {
    cell.w[idx[0]].powi(2)
}

#[test]
fn a_struct_named_cell_is_a_parameter_struct() {
    let c = Cell {
        w: array![0.1, 0.2, 0.3],
    };
    let x = array![1.0, 2.0, 3.0];
    let s = 1.4;
    let (v, (gc, gx)): (f64, (Cell, Array1<f64>)) = loss_grad(&c, &x);
    assert_eq!(v, loss(&c, &x));
    assert_eq!(gc.w, &x * (2.0 * s));
    assert_eq!(gx, &c.w * (2.0 * s));
    let (_, g): (f64, Cell) = loss_wrt_grad(&c, &x);
    assert_eq!(g.w, gc.w);
    let (_, g): (f64, Cell) = loss_at_grad(&c, &[2]);
    assert_eq!(g.w, array![0.0, 0.0, 0.6]);
}
