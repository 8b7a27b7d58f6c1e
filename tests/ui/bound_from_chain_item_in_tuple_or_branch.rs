use autodiff::differentiate;

// The item code run as written takes out of a chain over differentiated values, reaching the
// pattern inside a tuple (`match (x.chunks(2).next(), x.chunks(2).last())`, `if let (Some(c),
// true) = (x.first_chunk::<2>(), ..)`) or as the value of a branch (`let o = if .. {
// x.chunks(2).next() } else { .. }; if let Some(c) = o`): the names the pattern binds would be
// data, a gradient of zero. The error is at the pattern, as for the item matched directly.
#[differentiate]
fn ends(x: &[f64]) -> f64 {
    match (x.chunks(2).next(), x.chunks(2).last()) {
        (Some(a), Some(b)) => a[0] * b[1],
        _ => 0.0,
    }
}

#[differentiate]
fn first_pair_if_long(x: &[f64]) -> f64 {
    if let (Some(c), true) = (x.first_chunk::<2>(), x.len() > 2) { c[0] * c[1] } else { 0.0 }
}

#[differentiate]
fn pair_by_sign(x: &[f64]) -> f64 {
    let o = if x[0] > 0.0 { x.chunks(2).next() } else { x.chunks(3).next() };
    if let Some(c) = o { c[0] * c[1] } else { 0.0 }
}

#[differentiate]
fn second_pair(x: &[f64]) -> f64 {
    let c = if x.len() > 3 { x.chunks(2).nth(1) } else { None };
    match c {
        Some(&[a, b]) => a * b,
        _ => 0.0,
    }
}

// Positions bound the same way index the slice: allowed.
#[differentiate]
fn at_first_above(x: &[f64], w: f64) -> f64 {
    match (x.iter().position(|v| *v > 0.5), x.len()) {
        (Some(i), n) if i + 1 < n => x[i] * w,
        _ => w,
    }
}

fn main() {
    let _ = ends_grad(&[1.0, 2.0]);
    let _ = first_pair_if_long_grad(&[1.0, 2.0]);
    let _ = pair_by_sign_grad(&[1.0, 2.0]);
    let _ = second_pair_grad(&[1.0, 2.0]);
    let _ = at_first_above_grad(&[1.0, 2.0], 1.0);
}
