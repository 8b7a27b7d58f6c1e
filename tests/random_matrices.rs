//! Classes of failures that random-program testing (`autodiff-random`, the `matrix` kind) found
//! on matrices of differentiated values built inside the function.

use autodiff::differentiate;
use ndarray::{Array2, s};

mod common;
use common::*;

/// A loop over the rows of a local matrix whose result is read again (the row kept for the
/// pullback borrowed the matrix it moves, rustc's E0505): rows (x, x) and (x, 2),
/// t = Σ sum(row)·row₁ = 2x·x + (x + 2)·2 = 2x² + 2x + 4, y = t², dy/dx = 2t(4x + 2).
#[differentiate]
fn rows_of_a_local_matrix(x: f64) -> f64 {
    let m: Array2<f64> = Array2::from(vec![[x, x], [x, 2.0]]);
    let mut t: f64 = 0.0;
    for row in m.rows() {
        t += row.sum() * row[1];
    }
    t * t
}

/// The same with the rows taken as regions in an index loop: rows (x, 2x) and (1, x),
/// t = Σᵢ sum(rowᵢ)·mᵢ₀ = 3x·x + (1 + x)·1 = 3x² + x + 1, y = sin t, dy/dx = cos t·(6x + 1).
#[differentiate]
fn row_regions_of_a_local_matrix(x: f64) -> f64 {
    let m = Array2::from_shape_vec((2, 2), vec![x, 2.0 * x, 1.0, x]).unwrap();
    let mut t = 0.0;
    for i in 0..m.nrows() {
        t += m.slice(s![i, ..]).sum() * m[[i, 0]];
    }
    t.sin()
}

#[test]
fn views_of_a_local_matrix_read_in_a_loop() {
    for x in [0.5, -1.25] {
        let (y, d) = rows_of_a_local_matrix_grad(x);
        let t = 2.0 * x * x + 2.0 * x + 4.0;
        close("rows: value", y, t * t, 1e-12);
        close("rows: derivative", d, 2.0 * t * (4.0 * x + 2.0), 1e-12);
        fd("rows", rows_of_a_local_matrix, x, d);

        let (y, d) = row_regions_of_a_local_matrix_grad(x);
        let t = 3.0 * x * x + x + 1.0;
        close("regions: value", y, t.sin(), 1e-12);
        close("regions: derivative", d, t.cos() * (6.0 * x + 1.0), 1e-12);
        fd("regions", row_regions_of_a_local_matrix, x, d);
    }
}
