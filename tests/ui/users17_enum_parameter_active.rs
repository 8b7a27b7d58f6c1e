// An enum of settings taken beside the floats, with the default activity: it has no gradient
// type, and the error is at its type and names `wrt(..)`.
use autodiff::differentiate;

#[derive(Clone, Copy)]
enum Activation {
    Relu,
    Tanh,
}

#[differentiate]
fn activate(x: f64, kind: Activation) -> f64 {
    match kind {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
    }
}

fn main() {
    let _ = activate(0.5, Activation::Tanh);
}
