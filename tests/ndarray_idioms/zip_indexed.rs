//! `Zip::indexed` and `azip!((index ..) ..)`, ndarray's element loops that also hand the
//! closure each element's index (a grid filled from its coordinates, a weight by position): each
//! is followed as the nested index loops it stands for.

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;
use ndarray::{Array1, Array2, Array3, Zip, azip};

/// out_i = sin(a_i w)·(i + 1), f = Σ out_i: ∂/∂a_i = w cos(a_i w)(i + 1),
/// ∂/∂w = Σ a_i cos(a_i w)(i + 1).
#[differentiate]
fn weighted_by_position(a: &Array1<f64>, w: f64) -> f64 {
    let mut out = Array1::<f64>::zeros(a.len());
    Zip::indexed(&mut out)
        .and(a)
        .for_each(|i, o, &x| *o = (x * w).sin() * (i as f64 + 1.0));
    out.sum()
}

/// u_ijk = tanh(w s + b) with s = i + 2j + k, then f = Σ u_ijk² (1 + i + k), the second `Zip`
/// reading `u` and adding into a variable outside it, one index left out (`_`):
/// ∂f/∂w = Σ 2 u (1 − u²) s (1 + i + k), ∂f/∂b = Σ 2 u (1 − u²)(1 + i + k).
#[differentiate]
fn grid_from_coordinates(w: f64, b: f64) -> f64 {
    let mut u = Array3::<f64>::zeros((2, 3, 2));
    Zip::indexed(&mut u).for_each(|(i, j, k), o| {
        let s = (i + 2 * j + k) as f64;
        *o = (w * s + b).tanh();
    });
    let mut total = 0.0;
    Zip::indexed(&u).for_each(|(i, _, k), &v| total += v * v * (1.0 + i as f64 + k as f64));
    total
}

/// Into a `&mut` parameter, the other element taken by reference and the written one read
/// back by a method: out_ij ← tanh(out_ij + a_ij w (i + j)), f = Σ out_ij:
/// ∂f/∂w = Σ (1 − out_ij²) a_ij (i + j).
#[differentiate(wrt(w))]
fn into_a_buffer(out: &mut Array2<f64>, a: &Array2<f64>, w: f64) -> f64 {
    Zip::indexed(&mut *out).and(a).for_each(|(i, j), o, x| {
        *o += *x * w * (i + j) as f64;
        *o = o.tanh();
    });
    out.sum()
}

/// ndarray's `azip!` with `index`, of a matrix and of a row taken out: out_ij = a_ij eʷ (i − j),
/// f = Σ_j out_0j² j + Σ out_ij. Second order too.
#[differentiate(hessian)]
fn azip_with_index(a: &Array2<f64>, w: f64) -> f64 {
    let mut out = Array2::<f64>::zeros(a.raw_dim());
    azip!((index (i, j), o in &mut out, &x in a) *o = x * w.exp() * (i as f64 - j as f64));
    let mut s = 0.0;
    azip!((index j, &v in &out.row(0)) s += v * v * j as f64);
    s + out.sum()
}

/// A `return;` that skips an element (the diagonal), and a transposed view as a producer:
/// out_ij = a_ji w for i ≠ j, f = Σ out_ij: ∂/∂a_ji = w off the diagonal, 0 on it,
/// ∂/∂w = Σ_{i≠j} a_ji.
#[differentiate]
fn off_the_diagonal(a: &Array2<f64>, w: f64) -> f64 {
    let mut out = Array2::<f64>::zeros((a.ncols(), a.nrows()));
    Zip::indexed(&mut out).and(a.t()).for_each(|(i, j), o, &x| {
        if i == j {
            return;
        }
        *o = x * w;
    });
    out.sum()
}

fn matrix() -> Array2<f64> {
    Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin())
}

#[test]
fn zip_indexed_of_a_vector_weights_by_position() {
    let a = Array1::from(vec![0.3, -0.5, 0.9, 1.2]);
    let w = 0.7;
    let (v, (ga, gw)) = weighted_by_position_grad(&a, w);
    assert_eq!(v, weighted_by_position(&a, w));
    let mut want_w = 0.0;
    for i in 0..4 {
        let k = i as f64 + 1.0;
        assert!((ga[i] - w * (a[i] * w).cos() * k).abs() < 1e-12);
        want_w += a[i] * (a[i] * w).cos() * k;
    }
    assert!((gw - want_w).abs() < 1e-12);
    gradcheck(|a: &Array1<f64>| weighted_by_position(a, w), &a, &ga).assert_ok();
}

#[test]
fn zip_indexed_fills_a_grid_from_its_coordinates_and_reads_it() {
    let (w, b) = (0.3, -0.2);
    let (_, (gw, gb)) = grid_from_coordinates_grad(w, b);
    let (mut want_w, mut want_b) = (0.0, 0.0);
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..2 {
                let s = (i + 2 * j + k) as f64;
                let u = (w * s + b).tanh();
                let c = 2.0 * u * (1.0 - u * u) * (1.0 + i as f64 + k as f64);
                want_w += c * s;
                want_b += c;
            }
        }
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
    assert!((gb - want_b).abs() < 1e-12, "{gb} {want_b}");
    gradcheck(
        |p: &(f64, f64)| grid_from_coordinates(p.0, p.1),
        &(w, b),
        &(gw, gb),
    )
    .assert_ok();
}

#[test]
fn zip_indexed_into_a_mut_parameter() {
    let a = matrix();
    let start = Array2::from_shape_fn((3, 4), |(i, j)| (i as f64 - j as f64) * 0.05);
    let w = 0.2;
    let mut out = start.clone();
    let (v, gw) = into_a_buffer_grad(&mut out, &a, w);
    let mut want = 0.0;
    for ((i, j), &s) in start.indexed_iter() {
        let o = (s + a[[i, j]] * w * (i + j) as f64).tanh();
        assert_eq!(out[[i, j]], o);
        want += (1.0 - o * o) * a[[i, j]] * (i + j) as f64;
    }
    assert_eq!(v, out.sum());
    assert!((gw - want).abs() < 1e-12, "{gw} {want}");
    gradcheck(|w: &f64| into_a_buffer(&mut start.clone(), &a, *w), &w, &gw).assert_ok();
}

#[test]
fn azip_with_an_index_first_and_second_order() {
    let a = matrix();
    let w = 0.2;
    let (v, (ga, gw)) = azip_with_index_grad(&a, w);
    assert_eq!(v, azip_with_index(&a, w));
    // ∂f/∂a_ij = eʷ (i − j) (1 + [i = 0] 2 out_0j j), ∂f/∂w = Σ_j 2 out_0j² j + Σ out_ij.
    let e = w.exp();
    let mut want_w = 0.0;
    for ((i, j), &x) in a.indexed_iter() {
        let d = i as f64 - j as f64;
        let o = x * e * d;
        let row = if i == 0 { 2.0 * o * j as f64 } else { 0.0 };
        assert!((ga[[i, j]] - e * d * (1.0 + row)).abs() < 1e-12);
        want_w += o + if i == 0 { 2.0 * o * o * j as f64 } else { 0.0 };
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
    gradcheck(|a: &Array2<f64>| azip_with_index(a, w), &a, &ga).assert_ok();
    let da = Array2::from_shape_fn((3, 4), |(i, j)| 0.1 * (i as f64) - 0.05 * j as f64);
    let (_, t) = azip_with_index_jvp(&a, w, &da, 0.5);
    jvpcheck(
        |p: &(Array2<f64>, f64)| azip_with_index(&p.0, p.1),
        &(a.clone(), w),
        &(da.clone(), 0.5),
        &t,
    )
    .assert_ok();
    let (_, _, hv) = azip_with_index_hvp(&a, w, &da, 0.5);
    hvpcheck(
        |p: &(Array2<f64>, f64)| azip_with_index_grad(&p.0, p.1).1,
        &(a.clone(), w),
        &(da, 0.5),
        &hv,
    )
    .assert_ok();
}

#[test]
fn zip_indexed_skips_elements_by_return() {
    let a = matrix();
    let w = 0.3;
    let (v, (ga, gw)) = off_the_diagonal_grad(&a, w);
    assert_eq!(v, off_the_diagonal(&a, w));
    let mut want_w = 0.0;
    for ((i, j), &x) in a.indexed_iter() {
        let want = if i == j { 0.0 } else { w };
        assert_eq!(ga[[i, j]], want);
        if i != j {
            want_w += x;
        }
    }
    assert!((gw - want_w).abs() < 1e-12, "{gw} {want_w}");
}
