use autodiff::differentiate;

// A closure called in a predicate is defined again where the predicate runs, over the values
// its body saw where it was written; a predicate that also reads a later `let` of the same name
// cannot see both, and the error says to compute the closure's value first.
#[differentiate]
fn near_sum(x: f64, v: &[f64]) -> f64 {
    let w = 2.0;
    let near = |a: f64| (a - x).abs() < w;
    let w = 0.5;
    v.iter().filter(|&&a| near(a) && a > w).map(|a| a * x).sum()
}

fn main() {
    let _ = near_sum_grad(1.0, &[0.3, 1.2]);
}
