use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct State {
    q: f64,
    p: f64,
}

#[differentiate]
fn f(x: f64, w: f64) -> f64 {
    let kick = |v: &mut f64, k: f64| *v += k * w;
    let mut s = State { q: x, p: 0.0 };
    kick(&mut s.p, s.q);
    s.q + s.p
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
