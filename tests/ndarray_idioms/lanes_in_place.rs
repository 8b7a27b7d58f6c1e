//! A matrix changed lane by lane in place, as ndarray code writes it: `for mut row in
//! m.rows_mut() { .. }` (`columns_mut`, `outer_iter_mut`, `axis_iter_mut(Axis(0 or 1))`, with
//! `.enumerate()`), and `m.row_mut(i).mapv_inplace(f)` (`column_mut`, `slice_mut`). Each is
//! followed as the lane copied, changed and assigned back; checked against the same function
//! written without mutable views, against analytic gradients and central differences, in
//! reverse and forward mode and with the Hessian.

use autodiff::check::finite_difference;
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, s};

/// Row-wise softmax written in place, the way it is written without an autodiff library.
#[differentiate(hessian)]
fn softmax_in_place(z: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let mut p = z.clone();
    for mut row in p.rows_mut() {
        let mx = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - mx).exp());
        let s = row.sum();
        row /= s;
    }
    (&p * w).sum()
}

/// The same function without views: `Σ_ij w_ij · e^{z_ij} / Σ_k e^{z_ik}`.
fn softmax_plain(z: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..z.nrows() {
        let s: f64 = z.row(i).iter().map(|v| v.exp()).sum();
        for j in 0..z.ncols() {
            total += w[[i, j]] * z[[i, j]].exp() / s;
        }
    }
    total
}

#[differentiate]
fn lanes_enumerated(a: &Array2<f64>, k: &Array1<f64>) -> f64 {
    let mut m = a.clone();
    for (i, mut r) in m.outer_iter_mut().enumerate() {
        for v in r.iter_mut() {
            *v = *v * k[i] + 1.0;
        }
    }
    for (j, c) in m.columns_mut().into_iter().enumerate() {
        for v in c {
            *v += k[j % 2];
        }
    }
    for mut c in m.axis_iter_mut(Axis(1)) {
        c.mapv_inplace(|v| v.sin());
    }
    (&m * &m).sum()
}

/// `lanes_enumerated` written element by element.
fn lanes_plain(a: &Array2<f64>, k: &Array1<f64>) -> f64 {
    let mut total = 0.0;
    for ((i, j), &v) in a.indexed_iter() {
        let e = (v * k[i] + 1.0 + k[j % 2]).sin();
        total += e * e;
    }
    total
}

/// Each row scaled by its own factor, zipped in: `Σ_ij (k_i·a_ij)²`.
#[differentiate]
fn rows_zipped(a: &Array2<f64>, k: &Array1<f64>) -> f64 {
    let mut m = a.clone();
    for (mut r, &s) in m.rows_mut().into_iter().zip(k.iter()) {
        r *= s;
    }
    for (i, (mut c, s)) in m
        .columns_mut()
        .into_iter()
        .zip(k.iter().cycle())
        .enumerate()
    {
        c += 0.0 * s * i as f64;
    }
    (&m * &m).sum()
}

#[differentiate]
fn regions_mapped(a: &Array2<f64>) -> f64 {
    let mut m = a.clone();
    m.row_mut(1).mapv_inplace(|v| v.tanh());
    m.column_mut(0).mapv_inplace(|v| v * v);
    m.slice_mut(s![.., 1..]).mapv_inplace(f64::exp);
    m.sum() + m[[1, 2]] * m[[0, 0]]
}

#[differentiate]
fn scaled_rows(m: &mut Array2<f64>, k: f64) -> f64 {
    for mut r in m.rows_mut() {
        r *= k;
    }
    m.sum()
}

fn matrix(r: usize, c: usize) -> Array2<f64> {
    Array2::from_shape_fn((r, c), |(i, j)| ((i * c + j) as f64 * 0.7).sin())
}

fn assert_close(what: &str, a: &Array2<f64>, b: &Array2<f64>, tol: f64) {
    assert_eq!(a.dim(), b.dim(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn softmax_rows() {
    let (z, w) = (matrix(3, 4), matrix(3, 4).mapv(|v| v * 2.0 - 0.5));
    let (v, (gz, gw)) = softmax_in_place_grad(&z, &w);
    assert!((v - softmax_plain(&z, &w)).abs() < 1e-12);
    // ∂/∂w_ij = p_ij; ∂/∂z_ij = p_ij (w_ij − Σ_k p_ik w_ik).
    let mut p = z.mapv(f64::exp);
    for mut row in p.rows_mut() {
        let s = row.sum();
        row /= s;
    }
    assert_close("∂w", &gw, &p, 1e-12);
    let expected = Array2::from_shape_fn(z.dim(), |(i, j)| {
        let pw: f64 = (0..4).map(|k| p[[i, k]] * w[[i, k]]).sum();
        p[[i, j]] * (w[[i, j]] - pw)
    });
    assert_close("∂z", &gz, &expected, 1e-12);
    assert_close(
        "∂z differences",
        &gz,
        &finite_difference(|z: &Array2<f64>| softmax_plain(z, &w), &z, 1e-6),
        1e-6,
    );
}

#[test]
fn softmax_rows_forward_and_hessian() {
    let (z, w) = (matrix(2, 3), matrix(2, 3).mapv(|v| 1.0 - v));
    let (dz, dw) = (
        matrix(2, 3).mapv(|v| v * 0.3 + 0.1),
        matrix(2, 3).mapv(|v| -v),
    );
    let h = 1e-6;
    let at = |t: f64| softmax_plain(&(&z + &(&dz * t)), &(&w + &(&dw * t)));
    let (_, tangent) = softmax_in_place_jvp(&z, &w, &dz, &dw);
    assert!(
        (tangent - (at(h) - at(-h)) / (2.0 * h)).abs() < 1e-7,
        "{tangent}"
    );
    let (_, _, (hz, hw)) = softmax_in_place_hvp(&z, &w, &dz, &dw);
    let grad_at = |t: f64| softmax_in_place_grad(&(&z + &(&dz * t)), &(&w + &(&dw * t))).1;
    let ((pz, pw), (mz, mw)) = (grad_at(h), grad_at(-h));
    assert_close("Hz", &hz, &((&pz - &mz) / (2.0 * h)), 1e-6);
    assert_close("Hw", &hw, &((&pw - &mw) / (2.0 * h)), 1e-6);
}

#[test]
fn lanes_with_indices() {
    let (a, k) = (matrix(2, 3), Array1::from(vec![0.5, -0.7]));
    let (v, (ga, gk)) = lanes_enumerated_grad(&a, &k);
    assert!((v - lanes_plain(&a, &k)).abs() < 1e-12);
    assert_close(
        "∂a",
        &ga,
        &finite_difference(|a: &Array2<f64>| lanes_plain(a, &k), &a, 1e-6),
        1e-6,
    );
    let h = 1e-6;
    for i in 0..2 {
        let (mut p, mut m) = (k.clone(), k.clone());
        p[i] += h;
        m[i] -= h;
        let fd = (lanes_plain(&a, &p) - lanes_plain(&a, &m)) / (2.0 * h);
        assert!((gk[i] - fd).abs() < 1e-6, "∂k[{i}]: {} vs {fd}", gk[i]);
    }
}

#[test]
fn regions_mapped_in_place() {
    let a = matrix(2, 3);
    let (v, g) = regions_mapped_grad(&a);
    assert!((v - regions_mapped(&a)).abs() < 1e-12);
    assert_close("∂a", &g, &finite_difference(regions_mapped, &a, 1e-6), 1e-6);
}

#[test]
fn rows_of_a_mut_parameter() {
    // m.sum() after scaling every row by k: ∂/∂m = k everywhere, ∂/∂k = Σ m.
    let a = matrix(2, 3);
    let (v, (gm, gk)) = scaled_rows_grad(&mut a.clone(), 1.5);
    assert!((v - 1.5 * a.sum()).abs() < 1e-12);
    assert_close("∂m", &gm, &Array2::from_elem((2, 3), 1.5), 1e-15);
    assert!((gk - a.sum()).abs() < 1e-12);
}

#[test]
fn rows_zipped_with_factors() {
    // ∂/∂a_ij = 2·k_i²·a_ij, ∂/∂k_i = 2·k_i·Σ_j a_ij².
    let (a, k) = (matrix(2, 3), Array1::from(vec![1.5, -0.5]));
    let (v, (ga, gk)) = rows_zipped_grad(&a, &k);
    let expected: f64 = a.indexed_iter().map(|((i, _), x)| (k[i] * x).powi(2)).sum();
    assert!((v - expected).abs() < 1e-12);
    assert_close(
        "∂a",
        &ga,
        &Array2::from_shape_fn((2, 3), |(i, j)| 2.0 * k[i] * k[i] * a[[i, j]]),
        1e-12,
    );
    for i in 0..2 {
        let e = 2.0 * k[i] * a.row(i).iter().map(|x| x * x).sum::<f64>();
        assert!((gk[i] - e).abs() < 1e-12, "∂k[{i}]: {} vs {e}", gk[i]);
    }
}
