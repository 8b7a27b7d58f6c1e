use autodiff::{Differentiable, differentiate};

#[derive(Differentiable, Clone)]
struct Pool {
    v: Vec<f64>,
}

// A field of a parameter taken by `&mut` written inside a loop, where the variable holds the
// version the loop carries: the same error as outside a loop (it was rustc's "`&mut Pool` has a
// field assigned … but does not derive `Differentiable`", which it does).
#[differentiate]
fn scaled(p: &mut Pool, k: f64) -> f64 {
    for j in 0..p.v.len() {
        p.v[j] = p.v[j] * k;
    }
    p.v[0] * k
}

fn main() {}
