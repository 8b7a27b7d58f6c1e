use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct Noise {
    sigma: f64,
    phase: f64,
}

#[differentiate]
impl Noise {
    fn new(sigma: f64) -> Self {
        Noise { sigma, phase: 0.3 }
    }
    fn sample(&mut self) -> f64 {
        let s = self.sigma * self.phase.sin();
        self.phase += 1.0;
        s
    }
}

#[differentiate]
fn noisy(sigma: f64) -> f64 {
    let mut n = Noise::new(sigma);
    let a = n.sample();
    let b = n.sample();
    a * a + b
}

fn main() {
    let _ = noisy_grad(1.0);
}
