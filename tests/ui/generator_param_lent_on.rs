// A generator taken `&mut` and left out of `wrt`, lent as it is to a method that a
// differentiated value reaches: the callee may write values depending on it there (a
// workspace's buffers), which the macro cannot tell from a generator's state. The error says to
// draw the noise here and pass it.
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
pub struct Model {
    pub mu: Vec<f64>,
}

#[differentiate(wrt(self))]
impl Model {
    pub fn loss(&self, t: &[f64], rng: &mut Lcg) -> f64 {
        let mut l = 0.0;
        for i in 0..self.mu.len() {
            l += (self.mu[i] + rng.next_f64() - t[i]).powi(2);
        }
        l
    }
}

#[differentiate(wrt(m))]
pub fn batch_loss(m: &Model, batch: &[Vec<f64>], rng: &mut Lcg) -> f64 {
    let mut s = 0.0;
    for t in batch {
        s += m.loss(t, rng);
    }
    s
}

fn main() {
    let m = Model { mu: vec![0.0] };
    let _ = batch_loss_grad(&m, &[vec![1.0]], &mut Lcg { state: 1 });
}
