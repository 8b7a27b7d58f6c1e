//! Checkpointed loops of every kind compile without a single warning.
#![deny(warnings)]

use autodiff::differentiate;

#[differentiate(checkpoint(snapshots = 4))]
fn every_loop(x: f64, v: &[f64], n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        s = (s * x).sin() + v[i % v.len()];
    }
    let mut k = 0;
    while k < n && s < 10.0 {
        s += x * x;
        k += 1;
    }
    loop {
        s *= 0.5;
        if s < 1.0 {
            break;
        }
    }
    for w in v {
        s += w * x;
    }
    s
}

#[differentiate]
fn on_one_loop(x: f64, n: usize) -> f64 {
    let mut h = vec![0.0; n + 1];
    h[0] = x;
    #[checkpoint(snapshots = 2)]
    for i in 0..n {
        h[i + 1] = h[i] * x + 1.0;
    }
    h[n]
}

fn main() {
    let v = [0.5, -1.0];
    let _ = every_loop_grad(0.3, &v, 5);
    let (_, pb) = every_loop_vjp(0.3, &v, 5);
    let _ = pb(1.0);
    let _ = on_one_loop_grad(0.3, 5);
}
