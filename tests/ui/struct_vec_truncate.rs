use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

#[differentiate]
fn f(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..4 {
        ps.push(Particle { x: x0 * i as f64, v: x0 });
    }
    ps.truncate(2);
    ps.iter().map(|p| p.x * p.v).sum()
}

fn main() {
    let _ = f_grad(1.0);
}
