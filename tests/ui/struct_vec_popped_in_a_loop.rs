use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

#[differentiate]
fn f(x0: f64) -> f64 {
    let mut ps = vec![Particle { x: x0, v: 1.0 }, Particle { x: 2.0, v: x0 }];
    let mut s = 0.0;
    while let Some(p) = ps.pop() {
        s += p.x * p.v;
    }
    s
}

fn main() {
    let _ = f_grad(1.0);
}
