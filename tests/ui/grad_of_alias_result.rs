// A result type written through an alias the macro does not take for a float (`type R64 =
// f64;`; it reads the type as written): the function has `_vjp` but no `_grad`, and calling
// `_grad` is an error that says so and what to write (it was rustc's "cannot find function
// `energy_grad`").
use autodiff::differentiate;

type R64 = f64;

#[differentiate]
fn energy(x: f64, k: f64) -> R64 {
    0.5 * k * x * x
}

fn main() {
    let (_e, _g) = energy_grad(1.0, 2.0);
    // `_vjp` is there, with the pullback given the cotangent 1.
    let (_e, pullback) = energy_vjp(1.0, 2.0);
    let (_dx, _dk) = pullback(1.0);
}
