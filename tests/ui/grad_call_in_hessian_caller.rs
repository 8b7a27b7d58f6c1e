// A `hessian` function taking an inner gradient from `quad_grad`: its Hessian would be a third
// derivative of `quad`, which is not generated.
use autodiff::differentiate;

#[differentiate(hessian)]
fn quad(x: f64, a: f64) -> f64 {
    a * x * x
}

#[differentiate(hessian)]
fn unrolled(x0: f64, a: f64) -> f64 {
    let (_, (g, _)) = quad_grad(x0, a);
    quad(x0 - 0.1 * g, a)
}

fn main() {
    let _ = unrolled_grad(1.0, 2.0);
}
