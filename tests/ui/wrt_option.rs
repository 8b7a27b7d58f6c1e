use autodiff::differentiate;

// An `Option` has no gradient type: naming it in `wrt` says to take the value itself.
#[differentiate(wrt(x, reg))]
fn loss(x: f64, reg: Option<f64>) -> f64 {
    match reg {
        Some(l) => x * x + l * x,
        None => x * x,
    }
}

fn main() {
    let _ = loss_grad(1.0, Some(0.1));
}
