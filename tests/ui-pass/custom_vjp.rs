//! A public API built with `#[differentiate]` compiles cleanly under strict lints: generated
//! items keep the function's visibility and carry doc comments, and a hand-written `_vjp` is
//! (and `_jvp`) is used as a custom derivative by callers.
#![deny(warnings, missing_docs)]

use autodiff::differentiate;

/// `softplus(x) = ln(1 + e^x)`, with a hand-written, numerically stable pullback.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The pullback of [`softplus`]: its derivative is the logistic function.
pub fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    let s = 1.0 / (1.0 + (-x).exp());
    (softplus(x), move |g: f64| g * s)
}

/// The forward rule of [`softplus`]: the tangent times the logistic function.
pub fn softplus_jvp(x: f64, dx: f64) -> (f64, f64) {
    (softplus(x), dx / (1.0 + (-x).exp()))
}

/// A loss that uses the custom derivative.
#[differentiate]
pub fn loss(w: f64, x: f64, label: bool) -> f64 {
    let z = w * x;
    if label { softplus(-z) } else { softplus(z) }
}

fn main() {
    let (y, (dw, dx)) = loss_grad(0.5, 2.0, true);
    let s = 1.0 / (1.0 + 1.0f64.exp());
    assert!((y - loss(0.5, 2.0, true)).abs() < 1e-12);
    assert!((dw - (-2.0 * s)).abs() < 1e-12, "{dw}");
    assert!((dx - (-0.5 * s)).abs() < 1e-12, "{dx}");
    let (_, t) = loss_jvp(0.5, 2.0, true, 1.0, 0.0);
    assert!((t - dw).abs() < 1e-12, "{t}");
}
