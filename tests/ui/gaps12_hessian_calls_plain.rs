// A `#[differentiate(hessian)]` function calls functions differentiated without `hessian`: a
// free function, a generic one, one over `f32`, a method and an associated function, one of them
// inside a loop. Each call is an error that says to add `hessian` to the called function.
use autodiff::differentiate;
use num_traits::Float;

#[differentiate]
fn bump(x: f64) -> f64 {
    x * x.sin()
}

#[differentiate]
fn bump_generic<F: Float>(x: F) -> F {
    x * x.sin()
}

#[differentiate]
fn bump32(x: f32) -> f32 {
    x.exp() * x
}

struct Spring {
    k: f64,
}

impl Spring {
    #[differentiate(wrt(x))]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }

    #[differentiate]
    fn scaled(x: f64) -> f64 {
        3.0 * x * x
    }
}

#[differentiate(hessian)]
fn uses_free(x: f64) -> f64 {
    bump(x) * x
}

#[differentiate(hessian)]
fn uses_generic<F: Float>(x: F) -> F {
    bump_generic(x) + x
}

#[differentiate(hessian)]
fn uses_f32(x: f32) -> f32 {
    bump32(x) * 2.0
}

#[differentiate(hessian, wrt(x))]
fn uses_method(s: &Spring, x: f64) -> f64 {
    let mut total = 0.0;
    for k in 0..3 {
        total += s.energy(x * k as f64) + Spring::scaled(x);
    }
    total
}

fn main() {}
