// A parameter struct that does not derive `Differentiable` has no gradient type.
use autodiff::differentiate;

#[derive(Clone)]
struct Params {
    scale: f64,
}

#[differentiate]
fn f(p: &Params, x: f64) -> f64 {
    x * p.scale
}

fn main() {
    let p = Params { scale: 2.0 };
    let _ = f_grad(&p, 1.0);
}
