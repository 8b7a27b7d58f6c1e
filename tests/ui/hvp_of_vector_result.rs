// A Hessian is of a float: a `hessian` function whose result is a `Vec` has no `_hvp`, and
// calling it is an error that says so and names the second order it has (rustc's own "cannot
// find function" suggested `_jvp`, a first derivative).
use autodiff::differentiate;

#[differentiate(hessian)]
fn squares(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v * v).collect()
}

fn main() {
    let x = vec![1.0, 2.0];
    let (_y, _g, _hv) = squares_hvp(&x, &x);
}
