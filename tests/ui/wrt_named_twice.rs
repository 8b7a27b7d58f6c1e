// A parameter named twice in `wrt(..)` is an error: the gradient has one entry per parameter.
use autodiff::differentiate;

#[differentiate(wrt(gain, gain))]
fn amp(gain: f64, x: f64) -> f64 {
    gain * x
}

fn main() {
    let _ = amp(1.0, 2.0);
}
