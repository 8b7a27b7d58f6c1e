// `_hvp` is generated with `#[differentiate(hessian)]`: calling it on a function differentiated
// without `hessian` is an error that says to add it (rustc's own "cannot find function"
// suggested `_jvp`, a first derivative).
use autodiff::differentiate;

#[differentiate]
fn cubic(x: f64) -> f64 {
    x * x * x
}

fn main() {
    let (_y, _g, _hv) = cubic_hvp(1.0, 1.0);
}
