use autodiff::differentiate;

// An item taken out of a chain over differentiated values by code run as written
// (`x.chunks(2).next()`, `x.windows(2).last()`) and bound by a pattern whose names then reach
// the result as floats: the names would be data, a gradient of zero. The error is at the
// pattern and says to read by index or use a form that is followed.
#[differentiate]
fn first_pair(x: &[f64]) -> f64 {
    if let Some(c) = x.chunks(2).next() { c[0] * c[1] } else { 0.0 }
}

#[differentiate]
fn last_step(x: &[f64]) -> f64 {
    match x.windows(2).last() {
        Some(w) => w[1] - w[0],
        None => 0.0,
    }
}

// Through a method on the item (`unwrap`), with a slice pattern, and by `let .. else`.
#[differentiate]
fn first_two(x: &[f64]) -> f64 {
    if let [a, b, ..] = x.chunks(3).next().unwrap() { a * b } else { 0.0 }
}

#[differentiate]
fn first_pair_else(x: &[f64]) -> f64 {
    let Some(c) = x.chunks(2).next() else {
        return 0.0;
    };
    c[0] * c[1]
}

// A position bound the same way indexes the slice: allowed.
#[differentiate]
fn at_first_above(x: &[f64], w: f64) -> f64 {
    match x.iter().position(|v| *v > 0.5) {
        Some(i) => x[i] * w,
        None => w,
    }
}

fn main() {
    let _ = first_pair_grad(&[1.0, 2.0]);
    let _ = last_step_grad(&[1.0, 2.0]);
    let _ = first_two_grad(&[1.0, 2.0]);
    let _ = first_pair_else_grad(&[1.0, 2.0]);
    let _ = at_first_above_grad(&[1.0, 2.0], 1.0);
}
