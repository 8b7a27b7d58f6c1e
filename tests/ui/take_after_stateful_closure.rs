// `take(n)` after a closure that changes a variable, where the chain's items are counted as
// they come (after a `chain`, a `filter`): the closure would run for one item more than Rust
// runs it, so the change is an error that says to write the loop.
use autodiff::differentiate;

#[differentiate]
fn first_three(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = 0.0;
    let s: f64 = a
        .iter()
        .chain(b.iter())
        .map(|&v| {
            acc = acc * 0.5 + v;
            v * acc
        })
        .take(3)
        .sum();
    s + acc
}

fn main() {}
