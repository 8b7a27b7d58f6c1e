//! `Zip` and `zip_mut_with` closures that compute their element's new value in several
//! statements before writing it (`let t = x * w; *o = t.tanh() + t;`): the statements before
//! the write go into the new value, as a block.

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, Zip};

/// out_ij = tanh(a_ij w) + a_ij w, f = Σ out_ij:
/// ∂f/∂a_ij = w (2 − tanh²(a_ij w)), ∂f/∂w = Σ a_ij (2 − tanh²(a_ij w)).
#[differentiate]
fn lets_before_the_write(a: &Array2<f64>, w: f64) -> f64 {
    let mut out = Array2::<f64>::zeros(a.raw_dim());
    Zip::from(&mut out).and(a).for_each(|o, &x| {
        let t = x * w;
        *o = t.tanh() + t;
    });
    out.sum()
}

/// out_i = 1 + (x_i − y_i w)² by `*o +=` after a `let`, then halved in place by
/// `zip_mut_with` after a `let` reading the old element: f = Σ (1 + d_i²)·0.5 + d_i² with
/// d_i = x_i − y_i w: ∂f/∂x_i = 3 d_i, ∂f/∂y_i = −3 d_i w, ∂f/∂w = −3 Σ d_i y_i.
#[differentiate]
fn added_and_scaled(x: &Array1<f64>, y: &Array1<f64>, w: f64) -> f64 {
    let mut out = Array1::<f64>::ones(x.len());
    Zip::from(&mut out).and(x).and(y).for_each(|o, &a, &b| {
        let d = a - b * w;
        *o += d * d;
    });
    out.zip_mut_with(&(x - &(y * w)), |o, &d| {
        let old = *o;
        *o = old * 0.5 + d * d;
    });
    out.sum()
}

#[test]
fn a_zip_computing_its_value_in_statements_before_the_write() {
    let a = Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37 + 0.1).sin());
    let w = 0.7;
    let (v, (ga, gw)) = lets_before_the_write_grad(&a, w);
    assert_eq!(v, lets_before_the_write(&a, w));
    let mut want_w = 0.0;
    for ((i, j), &x) in a.indexed_iter() {
        let t = (x * w).tanh();
        assert!((ga[[i, j]] - w * (2.0 - t * t)).abs() < 1e-12);
        want_w += x * (2.0 - t * t);
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
    gradcheck(|a: &Array2<f64>| lets_before_the_write(a, w), &a, &ga).assert_ok();
}

#[test]
fn zip_and_zip_mut_with_after_lets() {
    let x = Array1::from(vec![0.3, -0.5, 0.9, 1.2]);
    let y = Array1::from(vec![1.0, 0.25, -0.75, 0.5]);
    let w = 0.6;
    let (v, (gx, gy, gw)) = added_and_scaled_grad(&x, &y, w);
    assert_eq!(v, added_and_scaled(&x, &y, w));
    let mut want_w = 0.0;
    for i in 0..4 {
        let d = x[i] - y[i] * w;
        assert!((gx[i] - 3.0 * d).abs() < 1e-12);
        assert!((gy[i] + 3.0 * d * w).abs() < 1e-12);
        want_w -= 3.0 * d * y[i];
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
    gradcheck(|x: &Array1<f64>| added_and_scaled(x, &y, w), &x, &gx).assert_ok();
}
