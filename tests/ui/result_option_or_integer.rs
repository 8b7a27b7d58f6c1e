use autodiff::differentiate;

// A helper that returns `None` where there is no root: return the float with a flag kept as a
// float, `-> (f64, f64)`, or a default.
#[differentiate]
fn root<T: num_traits::Float>(a: T, b: T) -> Option<T> {
    if a > b { Some((a - b).sqrt()) } else { None }
}

// A found flag beside the value: keep the flag as a float.
#[differentiate]
fn above(a: f64, b: f64) -> (f64, bool) {
    if a > b { (a - b, true) } else { (0.0, false) }
}

// The position of the largest element beside it: compute the index in a function without
// `#[differentiate]`.
#[differentiate]
fn largest(xs: &[f64]) -> (f64, usize) {
    let mut best = xs[0];
    let mut at = 0;
    for i in 1..xs.len() {
        if xs[i] > best {
            best = xs[i];
            at = i;
        }
    }
    (best, at)
}

fn main() {}

// An integer result: the attribute does not belong on the function.
#[differentiate]
fn count_positive(xs: &[f64]) -> usize {
    xs.iter().filter(|&&v| v > 0.0).count()
}
