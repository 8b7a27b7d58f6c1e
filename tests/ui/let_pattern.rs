use autodiff::differentiate;

// An array pattern with a rest is followed on a variable (`let [a, ..] = xs;`); of another
// value (an array literal, a call's result), the error says to bind it first.
#[differentiate]
fn f(xs: [f64; 3]) -> f64 {
    let [a, ..] = [xs[0] * 2.0, xs[1], xs[2]];
    a * xs[2]
}

fn main() {
    let _ = f_grad([1.0, 2.0, 3.0]);
}
