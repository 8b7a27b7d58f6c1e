use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

#[differentiate]
fn g(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

#[test]
fn lecture() {
    let (y, d) = f_grad(0.5);
    let e = (-1.0f64).exp();
    assert!((y - 10.0 * (1.0 + e).ln()).abs() < 1e-12);
    assert!((d - (-20.0 * e / (1.0 + e))).abs() < 1e-12, "{d}");
    let (_, (d1, d2)) = g_grad(1.0, 2.0);
    assert!((d1 - (1.0f64.cos() + 2.0)).abs() < 1e-12);
    assert!((d2 - 1.0).abs() < 1e-12);
}
