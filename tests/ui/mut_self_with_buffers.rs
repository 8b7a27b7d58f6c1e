// An optimizer's state kept in a struct whose `&mut self` step also writes the parameters it is
// lent (`opt.update(&mut w, &g, lr)`) is followed on a `mut` local (`tests/user_programs52.rs`);
// on an element of a container of such states the new state would be lost, and the call is an
// error that says to copy the element into a local and write it back (it was rustc's "no
// associated item named `__ad_mut_update`" three times).
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Momentum {
    pub v: Vec<f64>,
    pub beta: f64,
}

#[differentiate]
impl Momentum {
    fn update(&mut self, w: &mut Vec<f64>, g: &[f64], lr: f64) {
        for i in 0..w.len() {
            self.v[i] = self.beta * self.v[i] + g[i];
            w[i] -= lr * self.v[i];
        }
    }
}

#[differentiate]
fn unrolled(lr: f64, beta: f64, w0: &[f64]) -> f64 {
    let mut w = w0.to_vec();
    let mut opts = vec![Momentum { v: vec![0.0; w.len()], beta }; 2];
    for k in 0..4 {
        let g: Vec<f64> = w.iter().map(|x| x.sinh()).collect();
        opts[k % 2].update(&mut w, &g, lr);
    }
    w.iter().map(|x| x * x).sum()
}

fn main() {
    let _ = unrolled_grad(0.1, 0.9, &[0.3, 0.7]);
}
