use autodiff::{Differentiable, differentiate};

// An enum holds no derivative: one built from a differentiated value is an error where it is
// built, not rustc's "no variant named `Soft_vjp`".
#[derive(Clone, Copy)]
pub enum Act {
    Tanh,
    Soft(f64),
}

impl autodiff::Data for Act {}

#[derive(Clone, Differentiable)]
pub struct Unit {
    pub w: f64,
    #[differentiable(data)]
    pub act: Act,
}

#[differentiate]
fn f(u: &Unit, x: f64) -> f64 {
    match u.act {
        Act::Tanh => (u.w * x).tanh(),
        Act::Soft(beta) => beta * u.w * x,
    }
}

#[differentiate]
fn g(w: &[f64], x: f64) -> f64 {
    let u = Unit {
        w: w[0],
        act: Act::Soft(w[1] * 2.0),
    };
    f(&u, x)
}

fn main() {
    let _ = g_grad(&[1.0, 2.0], 0.5);
    let _ = Act::Tanh;
}
