use autodiff::differentiate;

// An iterator over differentiated values kept in a `mut` variable in a form that is not
// followed (`peekable()`, `fuse()`), whose items are taken by `it.next()` and `it.peek()`: the
// items would be bound as data, a gradient of zero. The error says to read by index.
#[differentiate]
fn neighbours(x: &[f64]) -> f64 {
    let mut it = x.iter().peekable();
    let mut s = 0.0;
    while let Some(a) = it.next() {
        if let Some(&&b) = it.peek() {
            s += a * b;
        }
    }
    s
}

#[differentiate]
fn squares(x: &[f64]) -> f64 {
    let mut it = x.iter().fuse();
    let mut s = 0.0;
    while let Some(a) = it.next() {
        s += a * a;
    }
    s
}

fn main() {
    let _ = neighbours_grad(&[1.0, 2.0]);
    let _ = squares_grad(&[1.0]);
}
