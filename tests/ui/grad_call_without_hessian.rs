// An unrolled gradient step taking the inner gradient from `quad_grad`, where `quad` is
// differentiated without `hessian`: the error says to add it.
use autodiff::differentiate;

#[differentiate]
fn quad(x: f64, a: f64) -> f64 {
    a * x * x
}

#[differentiate]
fn unrolled(x0: f64, a: f64) -> f64 {
    let (_, (g, _)) = quad_grad(x0, a);
    quad(x0 - 0.1 * g, a)
}

fn main() {
    let _ = unrolled_grad(1.0, 2.0);
}
