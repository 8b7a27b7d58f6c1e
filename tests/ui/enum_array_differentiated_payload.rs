// An array of an enum's variants, one built from a differentiated value: an enum holds no
// derivative, so this is an error, not an array taken for data.
use autodiff::differentiate;

#[derive(Clone, Copy)]
enum Mode {
    Keep,
    Damp(f64),
}

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let modes = [Mode::Keep, Mode::Damp(x[2])];
    let mut s = 0.0;
    for m in modes {
        s += match m {
            Mode::Damp(c) => c * x[1],
            Mode::Keep => x[0],
        };
    }
    s
}

fn main() {}
