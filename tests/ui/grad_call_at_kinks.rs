// A `kinks = exact` function taking a force from `pot_grad`: the one-sided derivative of a
// gradient is not generated, and the error says where the call is followed.
use autodiff::differentiate;

#[differentiate(hessian)]
fn pot(q: f64, k: f64) -> f64 {
    0.5 * k * q * q + 0.25 * q.powi(4)
}

#[differentiate(kinks = exact)]
fn kinked(q0: f64, k: f64) -> f64 {
    let (_, (f, _)) = pot_grad(q0, k);
    f.max(0.0) + q0.abs()
}

fn main() {
    let _ = kinked_grad(0.7, 1.3);
}
