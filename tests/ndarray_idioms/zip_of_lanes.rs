//! `Zip` of a vector with the rows (columns, outer views) of a matrix, the row-wise map that
//! ndarray's documentation shows: each item is a lane, not an element, and the `Zip` is
//! followed as the loop over zipped iterators it stands for.

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, Zip};

/// out_i = tanh(a_i·w), f = Σ out_i: ∂/∂a_ij = (1 − out_i²) w_j, ∂/∂w = Σ_i (1 − out_i²) a_i.
#[differentiate]
fn row_scores(a: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut out = Array1::zeros(a.nrows());
    Zip::from(&mut out)
        .and(a.rows())
        .for_each(|o, r| *o = r.dot(w).tanh());
    out.sum()
}

/// The same by columns with a bias per column and a typed closure, accumulated into the
/// output (`*o += ..`), and a log-sum-exp of each row by `axis_iter(Axis(0))`, written as a
/// loop body's last expression.
#[differentiate]
fn column_and_axis(a: &Array2<f64>, b: &Array1<f64>, w: &Array1<f64>) -> f64 {
    let mut cols = Array1::ones(a.ncols());
    Zip::from(&mut cols)
        .and(a.columns())
        .and(b)
        .for_each(|o: &mut f64, c, &bj| *o += (c.sum() + bj).powi(2));
    let mut rows = Array1::zeros(a.nrows());
    for _ in 0..1 {
        Zip::from(&mut rows)
            .and(a.axis_iter(Axis(0)))
            .for_each(|o, r| {
                let m = r.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                *o = m + r.mapv(|v| (v - m).exp()).sum().ln();
            })
    }
    cols.dot(w) + rows.sum()
}

fn matrix() -> Array2<f64> {
    Array2::from_shape_fn((4, 3), |(i, j)| ((i * 3 + j) as f64 * 0.41).sin())
}

#[test]
fn a_zip_of_a_vector_with_the_rows_of_a_matrix() {
    let a = matrix();
    let w = Array1::from(vec![0.3, -0.6, 0.9]);
    let (v, (ga, gw)) = row_scores_grad(&a, &w);
    assert_eq!(v, row_scores(&a, &w));
    let mut want_w = Array1::<f64>::zeros(3);
    for i in 0..4 {
        let o = a.row(i).dot(&w).tanh();
        for j in 0..3 {
            assert!((ga[[i, j]] - (1.0 - o * o) * w[j]).abs() < 1e-12);
        }
        want_w = want_w + &a.row(i) * (1.0 - o * o);
    }
    for j in 0..3 {
        assert!((gw[j] - want_w[j]).abs() < 1e-12);
    }
}

#[test]
fn zips_of_columns_and_of_an_axis_with_more_producers() {
    let a = matrix();
    let b = Array1::from(vec![0.1, -0.2, 0.3]);
    let w = Array1::from(vec![0.5, 0.25, -1.0]);
    let (v, (ga, gb, gw)) = column_and_axis_grad(&a, &b, &w);
    assert_eq!(v, column_and_axis(&a, &b, &w));
    // ∂/∂w_j = 1 + (Σ_i a_ij + b_j)², ∂/∂b_j = 2 w_j (Σ_i a_ij + b_j).
    for j in 0..3 {
        let s = a.column(j).sum() + b[j];
        assert!((gw[j] - (1.0 + s * s)).abs() < 1e-12);
        assert!((gb[j] - 2.0 * w[j] * s).abs() < 1e-12);
    }
    gradcheck(|a: &Array2<f64>| column_and_axis(a, &b, &w), &a, &ga).assert_ok();
}
