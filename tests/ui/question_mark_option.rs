use autodiff::differentiate;

// A helper that returns `None` past the end through `?`: write it returning a float, with
// `let Some(&a) = x.get(i + 1) else { return 0.0 };`.
#[differentiate]
fn slope_at(x: &[f64], i: usize) -> Option<f64> {
    let a = x.get(i + 1)?;
    let b = x.get(i)?;
    Some(a - b)
}

fn main() {}
