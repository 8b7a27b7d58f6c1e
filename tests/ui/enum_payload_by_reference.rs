// An enum of settings matched through a reference: its payload `c` is bound as a `&f64`, which
// the arithmetic of a differentiated function does not take; `match *m` binds the value.
use autodiff::differentiate;

#[derive(Clone, Copy)]
enum Mode {
    Damp(f64),
    Keep,
}

#[differentiate(wrt(x))]
fn apply(m: &Mode, x: f64) -> f64 {
    match m {
        Mode::Damp(c) => x * c,
        Mode::Keep => x,
    }
}

fn main() {
    let _ = apply_grad(&Mode::Damp(0.5), 1.0);
}
