//! A dependency renamed in `Cargo.toml` (`ad = { package = "autodiff", .. }`): the generated
//! code finds the runtime through `#[differentiate]`. This file names the crate only
//! as `ad`.

use ad::differentiate;

/// f = x·sin(y) + Σ xᵢ over a chain: ∂f/∂x = sin y + 1, ∂f/∂y = x·cos y.
#[differentiate(crate = ad)]
fn f(x: f64, y: f64) -> f64 {
    let v = [x, 2.0 * x];
    x * y.sin() + v.iter().map(|e| e * 0.5).sum::<f64>() - x / 2.0
}

#[test]
fn a_renamed_dependency() {
    let (x, y) = (0.8, 1.3);
    let (v, (dx, dy)) = f_grad(x, y);
    assert!((v - (x * y.sin() + x)).abs() < 1e-12);
    assert!((dx - (y.sin() + 1.0)).abs() < 1e-12, "{dx}");
    assert!((dy - x * y.cos()).abs() < 1e-12, "{dy}");
    let r = ad::check::gradcheck(|p: &(f64, f64)| f(p.0, p.1), &(x, y), &(dx, dy));
    assert!(r.passed(), "{r}");
}
