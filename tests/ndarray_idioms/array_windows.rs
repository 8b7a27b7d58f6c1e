//! The windows of an ndarray vector, `a.windows(k)`, whose items are views: their own methods
//! (`w.sum()`, `w.dot(&kernel)`, `w.mean()`) in a `for` loop and in a chain through
//! `into_iter()` (ndarray's windows are iterated through it), as a 1-D convolution is written
//! with ndarray; each such method is the method of the window's copy. A slice's windows keep
//! theirs (`len`, `iter`, `to_vec`).

use autodiff::check::finite_difference;
use autodiff::differentiate;
use ndarray::Array1;

/// A valid 1-D convolution through `tanh`: `Σ_i tanh(Σ_j a_{i+j} k_j)`.
#[differentiate]
fn conv_chain(a: &Array1<f64>, k: &Array1<f64>) -> f64 {
    a.windows(k.len())
        .into_iter()
        .map(|w| w.dot(k).tanh())
        .sum::<f64>()
}

#[differentiate]
fn window_methods(a: &Array1<f64>, k: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for (i, w) in a.windows(3).into_iter().enumerate() {
        t += w.dot(k).tanh() + w.sum() * w[0] + (i as f64) * w.mean().unwrap().powi(2);
    }
    t + a
        .windows(2)
        .into_iter()
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f64>()
}

/// `window_methods` by index.
fn window_methods_plain(a: &Array1<f64>, k: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for i in 0..a.len() - 2 {
        let dot = a[i] * k[0] + a[i + 1] * k[1] + a[i + 2] * k[2];
        let sum = a[i] + a[i + 1] + a[i + 2];
        t += dot.tanh() + sum * a[i] + (i as f64) * (sum / 3.0).powi(2);
    }
    for i in 0..a.len() - 1 {
        t += (a[i + 1] - a[i]).powi(2);
    }
    t
}

#[differentiate]
fn slice_windows(x: &[f64]) -> f64 {
    let mut t = 0.0;
    for w in x.windows(3) {
        t += w.len() as f64 * w[1] + w.iter().sum::<f64>() * w.to_vec()[2];
    }
    t
}

fn signal() -> Array1<f64> {
    Array1::from(vec![0.3, -0.7, 1.1, 0.4, 0.9, -0.2])
}

fn assert_close(what: &str, a: &Array1<f64>, b: &Array1<f64>, tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}: {a} vs {b}");
    }
}

#[test]
fn convolution_in_a_chain() {
    let (a, k) = (signal(), Array1::from(vec![0.2, 0.5, -0.3]));
    let (v, (ga, gk)) = conv_chain_grad(&a, &k);
    let y: Vec<f64> = (0..4)
        .map(|i| (0..3).map(|j| a[i + j] * k[j]).sum::<f64>())
        .collect();
    assert!((v - y.iter().map(|y| y.tanh()).sum::<f64>()).abs() < 1e-12);
    // ∂/∂a_m = Σ_i sech²(y_i)·k_{m−i}, ∂/∂k_j = Σ_i sech²(y_i)·a_{i+j}.
    let sech2: Vec<f64> = y.iter().map(|y| 1.0 - y.tanh().powi(2)).collect();
    let ea = Array1::from_shape_fn(6, |m| {
        (0..4)
            .filter(|&i| m >= i && m - i < 3)
            .map(|i| sech2[i] * k[m - i])
            .sum::<f64>()
    });
    let ek = Array1::from_shape_fn(3, |j| (0..4).map(|i| sech2[i] * a[i + j]).sum::<f64>());
    assert_close("∂a", &ga, &ea, 1e-12);
    assert_close("∂k", &gk, &ek, 1e-12);
}

#[test]
fn methods_of_windows() {
    let (a, k) = (signal(), Array1::from(vec![0.2, 0.5, -0.3]));
    let (v, (ga, gk)) = window_methods_grad(&a, &k);
    assert!((v - window_methods_plain(&a, &k)).abs() < 1e-12);
    assert_close(
        "∂a",
        &ga,
        &finite_difference(|a: &Array1<f64>| window_methods_plain(a, &k), &a, 1e-6),
        1e-6,
    );
    assert_close(
        "∂k",
        &gk,
        &finite_difference(|k: &Array1<f64>| window_methods_plain(&a, k), &k, 1e-6),
        1e-6,
    );
}

#[test]
fn windows_of_a_slice() {
    // Σ_i 3·x_{i+1} + (x_i + x_{i+1} + x_{i+2})·x_{i+2}, against differences.
    let x = signal().to_vec();
    let (v, g) = slice_windows_grad(&x);
    assert!((v - slice_windows(&x)).abs() < 1e-12);
    let fd = finite_difference(
        |x: &Array1<f64>| slice_windows(x.as_slice().unwrap()),
        &signal(),
        1e-6,
    );
    assert_close("∂x", &Array1::from(g), &fd, 1e-6);
}
