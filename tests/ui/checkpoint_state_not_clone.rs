use autodiff::differentiate;

/// Carried through the loop, so each snapshot clones it: it must implement `Clone`.
struct Noise(u64);

#[differentiate(checkpoint(snapshots = 4))]
fn noisy(x: f64, n: usize) -> f64 {
    let mut noise = Noise(7);
    let mut y = x;
    for _ in 0..n {
        noise = Noise(noise.0 + 1);
        y = y * x + (noise.0 as f64) * 0.01;
    }
    y
}

fn main() {
    let _ = noisy_grad(0.5, 3);
}
