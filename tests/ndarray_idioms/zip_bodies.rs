//! `Zip`, `zip_mut_with` and `map_inplace` closures that compute their element's new value in
//! several statements before writing it (`let t = x * w; *o = t.tanh() + t;`), or write it in
//! some branches only (a mask, `if k > 0.5 { *o = .. }`): the statements before the write go
//! into the new value, as a block, and a branch that does not write keeps the old value.

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

/// A mask, then a `match` of three arms (one not writing), then a `let` and an `if`/`else`,
/// each element's derivative that of the branch it takes: checked against central
/// differences (the points are away from the branches' edges).
#[differentiate]
fn written_in_branches(a: &Array2<f64>, m: &Array2<f64>, w: f64) -> f64 {
    let mut out = a * w;
    Zip::from(&mut out).and(m).for_each(|o, &k| {
        if k > 0.5 {
            *o = o.tanh() * w;
        }
    });
    Zip::from(&mut out)
        .and(a)
        .for_each(|o, &x| match (x > 0.0, x > 0.5) {
            (true, true) => *o += x * w,
            (true, false) => *o *= 2.0,
            _ => {}
        });
    Zip::from(&mut out).and(a).for_each(|o, &x| {
        let t = x * x;
        if t > 0.1 { *o -= t * w } else { *o = *o * 0.5 }
    });
    out.sum()
}

/// A soft clip above 0.3 by `map_inplace` without `else`: v ← 0.3 + (v − 0.3)/10 where v >
/// 0.3, with v = a_i w: f = Σ v_i': ∂f/∂a_i = w where a_i w ≤ 0.3, w/10 above;
/// ∂f/∂w = Σ a_i (1 or 1/10).
#[differentiate]
fn clipped_in_place(a: &Array1<f64>, w: f64) -> f64 {
    let mut m = a * w;
    m.map_inplace(|v| {
        if *v > 0.3 {
            *v = 0.3 + (*v - 0.3) * 0.1
        }
    });
    m.sum()
}

/// `zip_mut_with` writing where a mask is set (once the error that its closure is not
/// followed): b = 2a, b_i ← max(b_i, m_i) where m_i > 0.5, f = Σ b_i:
/// ∂f/∂a_i = 0 where the mask is set and m_i > 2a_i, 2 elsewhere.
#[differentiate(wrt(a))]
fn masked_maximum(a: &Array1<f64>, mask: &Array1<f64>) -> f64 {
    let mut b = a * 2.0;
    b.zip_mut_with(mask, |x, &y| {
        if y > 0.5 {
            *x = x.max(y)
        }
    });
    b.sum()
}

#[test]
fn writes_in_some_branches_keep_the_old_value_in_the_others() {
    let a = Array1::from(vec![1.0, -2.0, 0.1, 0.5]);
    let mask = Array1::from(vec![0.9, 0.7, 0.2, 0.6]);
    let (v, ga) = masked_maximum_grad(&a, &mask);
    assert_eq!(v, masked_maximum(&a, &mask));
    for i in 0..4 {
        let taken = mask[i] > 0.5 && mask[i] > 2.0 * a[i];
        assert_eq!(ga[i], if taken { 0.0 } else { 2.0 });
    }
    gradcheck(|a: &Array1<f64>| masked_maximum(a, &mask), &a, &ga).assert_ok();

    let a = Array2::from_shape_fn((3, 4), |(i, j)| {
        ((i * 4 + j) as f64 * 0.37 + 0.1).sin() * 1.3 - 0.2
    });
    let m = Array2::from_shape_fn((3, 4), |(i, j)| ((i + 2 * j) % 3) as f64 * 0.4);
    let w = 0.7;
    let (v, (ga, _, gw)) = written_in_branches_grad(&a, &m, w);
    assert_eq!(v, written_in_branches(&a, &m, w));
    gradcheck(|x: &Array2<f64>| written_in_branches(x, &m, w), &a, &ga).assert_ok();
    gradcheck(|w: &f64| written_in_branches(&a, &m, *w), &w, &gw).assert_ok();

    let x = Array1::from(vec![0.3, -0.5, 0.9, 1.2, 0.1]);
    let (v, (gx, gw)) = clipped_in_place_grad(&x, w);
    assert_eq!(v, clipped_in_place(&x, w));
    let mut want_w = 0.0;
    for i in 0..5 {
        let slope = if x[i] * w > 0.3 { 0.1 } else { 1.0 };
        assert!((gx[i] - w * slope).abs() < 1e-12);
        want_w += x[i] * slope;
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
    gradcheck(|x: &Array1<f64>| clipped_in_place(x, w), &x, &gx).assert_ok();
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
