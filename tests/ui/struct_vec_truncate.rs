use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

#[differentiate]
fn particle(x0: f64, k: f64) -> Particle {
    Particle { x: x0 * k, v: x0 }
}

// The elements are what a function returned: the macro does not see them to be structs (a
// `Vec` declared `Vec<Particle>` or built of literals is followed).
#[differentiate]
fn f(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..4 {
        ps.push(particle(x0, i as f64));
    }
    ps.truncate(2);
    ps.iter().map(|p| p.x * p.v).sum()
}

fn main() {
    let _ = f_grad(1.0);
}
