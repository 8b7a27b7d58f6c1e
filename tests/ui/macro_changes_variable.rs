// A macro runs as written on copies of the variables it names: a change made inside its
// arguments would be lost. The error is at the change and says what to write instead.
use autodiff::differentiate;
use std::fmt::Write;

#[differentiate]
fn popped(x: f64, y: f64) -> f64 {
    let mut stack = vec![x, y, x * y];
    assert!(stack.pop().is_some());
    stack[0] + stack[1]
}

#[differentiate]
fn scaled(x: f64, y: f64) -> f64 {
    let mut t = x;
    debug_assert!({
        t *= y;
        t.is_finite()
    });
    t
}

#[differentiate]
fn counted(x: f64) -> f64 {
    let mut n = 0;
    println!("{}", {
        n += 1;
        n
    });
    x * n as f64
}

#[differentiate]
fn written(x: f64, y: f64) -> f64 {
    let mut s = String::new();
    write!(s, "{}", x).unwrap();
    x * y + s.len() as f64
}

fn main() {
    let _ = popped_grad(1.0, 2.0);
    let _ = scaled_grad(1.0, 2.0);
    let _ = counted_grad(1.0);
    let _ = written_grad(1.0, 2.0);
}
