// A `#[differentiate(hessian)]` function calls a method differentiated without `hessian` on a
// local built by a struct literal and on one built by `new`: the error is at each call, not at
// the literal or the constructor that made the local.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Decay {
    a: f64,
    k: f64,
}

#[differentiate]
impl Decay {
    fn new(a: f64, k: f64) -> Self {
        Decay { a, k }
    }

    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..xs.len() {
            s += (self.a * (-self.k * xs[i]).exp() - ys[i]).powi(2);
        }
        s
    }
}

#[differentiate(hessian, wrt(p))]
fn sse(p: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let m = Decay { a: p[0], k: p[1] };
    m.loss(xs, ys)
}

#[differentiate(hessian, wrt(p))]
fn sse_new(p: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let m = Decay::new(p[0], p[1]);
    m.loss(xs, ys)
}

fn main() {}
