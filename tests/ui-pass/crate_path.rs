//! `crate = path` with the crate's own name, and through a re-export.
mod reexport {
    pub use autodiff;
}

#[autodiff::differentiate(crate = ::autodiff)]
fn f(x: f64) -> f64 {
    x.sin() * x
}

#[autodiff::differentiate(crate = crate::reexport::autodiff)]
fn g(x: f64) -> f64 {
    x.exp()
}

fn main() {
    let (_, d) = f_grad(1.0);
    assert!((d - (1f64.cos() + 1f64.sin())).abs() < 1e-12);
    let (_, d) = g_grad(0.5);
    assert!((d - 0.5f64.exp()).abs() < 1e-12);
}
