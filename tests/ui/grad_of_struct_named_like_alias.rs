// A result type named like a float alias that is a struct (`Value`): `_vjp` works, and calling
// `_grad` is the error that says the result is not a float.
use autodiff::{differentiate, Differentiable};

#[derive(Clone, Debug, Differentiable)]
struct Value {
    a: f64,
    b: f64,
}

#[differentiate]
fn make(x: f64) -> Value {
    Value { a: 2.0 * x, b: x.sin() }
}

fn main() {
    let (_v, pullback) = make_vjp(1.0);
    let _dx: f64 = pullback(Value { a: 1.0, b: 0.0 });
    let (_v, _g) = make_grad(1.0);
}
