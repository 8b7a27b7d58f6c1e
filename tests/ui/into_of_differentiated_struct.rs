use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
pub struct P2 {
    pub a: f64,
    pub b: f64,
}

#[derive(Clone, Copy, Differentiable)]
pub struct Polar {
    pub r: f64,
    pub th: f64,
}

#[differentiate]
impl From<Polar> for P2 {
    fn from(p: Polar) -> P2 {
        P2 { a: p.r * p.th.cos(), b: p.r * p.th.sin() }
    }
}

#[differentiate]
fn energy(c: P2) -> f64 {
    c.a * c.a + c.b
}

// `p.into()` where the type it converts to is not declared (an argument): the error says to
// declare it or call `P2::from(p)` (rustc's "no function `into_vjp` for `Polar`" otherwise).
#[differentiate]
fn through_into(p: Polar) -> f64 {
    energy(p.into())
}

fn main() {
    let _ = through_into_grad(Polar { r: 1.0, th: 0.5 });
}
