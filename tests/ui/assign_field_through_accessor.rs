use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Particle {
    pub x: f64,
    pub v: f64,
}

// A field assigned through a reference into a container: the error says to index it or to
// loop with `iter_mut`.
#[differentiate]
fn f(a: f64) -> f64 {
    let mut ps = vec![Particle { x: a, v: 1.0 }, Particle { x: 2.0 * a, v: -1.0 }];
    let k = 0;
    let p = ps.get_mut(k + 1).unwrap();
    p.x *= a;
    ps[0].x * ps[1].x
}

fn main() {
    let _ = f_grad(1.0);
}
