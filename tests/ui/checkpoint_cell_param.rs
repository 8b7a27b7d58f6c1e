use autodiff::differentiate;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

fn lcg(s: u64) -> u64 {
    s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407)
}

fn unif(s: u64) -> f64 {
    (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

// A generator's seed in a `&Cell`: run again, the loop would draw other numbers.
#[differentiate(wrt(x0))]
fn noisy(x0: f64, n: usize, seed: &Cell<u64>) -> f64 {
    let mut x = x0;
    #[checkpoint(snapshots = 1)]
    for _ in 0..n {
        seed.set(lcg(seed.get()));
        x = x * (1.0 + unif(seed.get()));
    }
    x
}

// A log the loop pushes to, under the function-wide option.
#[differentiate(wrt(x0), checkpoint(snapshots = 2))]
fn logged(x0: f64, n: usize, log: &RefCell<Vec<f64>>) -> f64 {
    let mut x = x0;
    for _ in 0..n {
        log.borrow_mut().push(1.0);
        x = x.sin() * x0;
    }
    x
}

// A counter.
#[differentiate(wrt(x0))]
fn counted(x0: f64, n: usize, calls: &AtomicU64) -> f64 {
    let mut x = x0;
    #[checkpoint(snapshots = 1)]
    for _ in 0..n {
        calls.fetch_add(1, Ordering::Relaxed);
        x = x.cos() * x0;
    }
    x
}

fn main() {
    let _ = noisy_grad(1.0, 3, &Cell::new(42));
    let _ = logged_grad(1.0, 3, &RefCell::new(Vec::new()));
    let _ = counted_grad(1.0, 3, &AtomicU64::new(0));
}
