use autodiff::differentiate;

// A write through a parameter taken by shared reference inside a loop is one error at the
// write; the reads of `*x` beside it are the parameter's value, not a second error saying
// that dereferencing a reference parameter is supported.
#[differentiate]
fn drift(x: &f64, v: f64) -> f64 {
    let mut path = 0.0;
    for _ in 0..3 {
        *x += v;
        path += *x;
    }
    path
}

fn main() {}
