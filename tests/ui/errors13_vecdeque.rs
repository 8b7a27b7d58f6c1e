use autodiff::differentiate;
use std::collections::VecDeque;

// A queue of differentiated values is not followed: one error at the first use, which says to
// use a `Vec` with a position for the front.

#[differentiate]
fn fifo(x: &[f64]) -> f64 {
    let mut q = VecDeque::new();
    q.push_back(x[0]);
    q.push_back(x[1] * 2.0);
    let a = q.pop_front().unwrap();
    a * q[0]
}

// A moving window in a loop, in `f32`.
#[differentiate]
fn window32(x: &[f32]) -> f32 {
    let mut w: VecDeque<f32> = VecDeque::with_capacity(3);
    let mut s = 0.0;
    for &v in x {
        w.push_back(v);
        if w.len() > 2 {
            w.pop_front();
        }
        s += w.iter().sum::<f32>();
    }
    s
}

fn main() {
    let _ = fifo_grad(&[0.5, 1.0]);
    let _ = window32_grad(&[0.5, 1.0, 2.0]);
}
