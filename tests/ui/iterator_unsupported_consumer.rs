use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], w: f64) -> f64 {
    let last = x.iter().map(|v| v * w).nth(1).unwrap();
    let opt = x.last().copied().unwrap_or(0.0);
    last + opt
}

// A fold that may stop early: the error says to write the loop.
#[differentiate]
fn capped(x: &[f64]) -> f64 {
    x.iter()
        .try_fold(0.0, |acc, &v| if acc > 1.0 { None } else { Some(acc + v * v) })
        .unwrap_or(-1.0)
}

fn main() {
    let _ = f_grad(&[1.0], 2.0);
    let _ = capped_grad(&[1.0]);
}
