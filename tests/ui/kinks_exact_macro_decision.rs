// In `kinks = exact`, a macro that reads differentiated values and whose result decides a
// branch runs its comparisons as written: at a tie their plain result would take the piece,
// whatever the direction. An error that says to write the comparison out.
use autodiff::differentiate;
use std::cmp::Ordering;

#[differentiate(kinks = exact)]
fn via_matches(a: f64, b: f64) -> f64 {
    if matches!(a.partial_cmp(&b), Some(Ordering::Greater)) { 2.0 * a } else { a + b }
}

#[differentiate(kinks = exact)]
fn via_guard(a: f64, b: f64) -> f64 {
    if matches!(a - b, d if d > 0.0) { 2.0 * a } else { a + b }
}

fn main() {}
