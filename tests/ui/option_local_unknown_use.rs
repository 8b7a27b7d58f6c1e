use autodiff::differentiate;

fn report(p: Option<f64>) -> bool {
    p.is_some()
}

// A local `Option<f64>` is followed through `= Some(..)`, `= None`, `if let Some(p)`, `match`,
// `is_some`, `is_none` and `unwrap_or`; passed to a function it is not, and the error is at
// that call (not at the `if let`, a use that is followed), saying what to write.
#[differentiate]
fn jumps(xs: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut total = 0.0;
    for &x in xs {
        if let Some(p) = prev {
            total += (x - p) * (x - p);
        }
        let _ = report(prev);
        prev = Some(x);
    }
    total
}

fn main() {}
