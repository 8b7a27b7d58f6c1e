use autodiff::differentiate;

struct Noise(u64);

impl Noise {
    fn sample(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[differentiate(checkpoint(snapshots = 4))]
fn noisy(x: f64, n: usize) -> f64 {
    let mut noise = Noise(7);
    let mut y = x;
    for _ in 0..n {
        y = y * x + noise.sample();
    }
    y
}

fn main() {
    let _ = noisy_grad(0.5, 10);
}
