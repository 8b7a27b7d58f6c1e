use autodiff::differentiate;

// Adapters the derivative does not follow are named, with what to write instead, rather than
// the chain's consumer.
#[differentiate]
fn leading(x: &[f64]) -> f64 {
    x.iter()
        .map_while(|v| if *v > 0.0 { Some(v.ln()) } else { None })
        .map(|c| c * c)
        .sum::<f64>()
}

#[differentiate]
fn logs(x: &[f64]) -> f64 {
    x.iter()
        .filter_map(|v| if *v > 0.0 { Some(v.ln()) } else { None })
        .sum::<f64>()
}

// The same with the sum's type left to the function's result: the error is at the adapter.
#[differentiate]
fn roots(x: &[f64]) -> f64 {
    x.iter()
        .filter_map(|&v| if v > 0.0 { Some(v.sqrt()) } else { None })
        .sum()
}

fn main() {
    let _ = leading_grad(&[1.0]);
    let _ = logs_grad(&[1.0]);
    let _ = roots_grad(&[1.0]);
}
