// A helper that returns a value and writes through a `&mut f64` is followed where a
// differentiated function calls it (through its by-value copies), but has no `_grad` of its
// own: the function as written cannot be differentiated with the write through the reference.
// A call of its `_grad` is an error that says to leave the `&mut` parameter out of `wrt(..)`.
use autodiff::differentiate;

#[differentiate]
fn accumulate(x: f64, acc: &mut f64) -> f64 {
    *acc += x * x;
    2.0 * x
}

#[differentiate]
fn caller(x: f64) -> f64 {
    let mut acc = 0.0;
    let r = accumulate(x, &mut acc);
    acc * r
}

fn main() {
    let _ = caller_grad(1.0);
    let mut acc = 0.0;
    let _ = accumulate_grad(1.0, &mut acc);
}
