// A `&mut self` method lent a generator that `wrt(..)` leaves out: its callers follow it
// through a copy that takes the receiver and what it is lent by value, and a generator has no
// derivative to be one of them. The error says to draw the noise in the caller and pass it.
use autodiff::{Differentiable, differentiate};

pub struct Lcg {
    state: u64,
}

impl Lcg {
    pub fn next_f64(&mut self) -> f64 {
        self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((self.state >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

#[derive(Clone, Differentiable)]
pub struct Chain {
    pub x: Vec<f64>,
    pub lr: f64,
}

#[differentiate(wrt(self))]
impl Chain {
    pub fn step(&mut self, rng: &mut Lcg) {
        for i in 0..self.x.len() {
            let e = rng.next_f64() - 0.5;
            self.x[i] += -self.lr * self.x[i] + (2.0 * self.lr).sqrt() * e;
        }
    }
}

fn main() {
    let mut c = Chain { x: vec![0.5], lr: 0.1 };
    c.step(&mut Lcg { state: 1 });
}
