use autodiff::differentiate;

#[differentiate]
fn nll(x: &[f64], mu: f64) -> Result<f64, String> {
    if x.is_empty() {
        return Err("no data".to_string());
    }
    let mut s = 0.0;
    for v in x {
        s += (v - mu).powi(2);
    }
    Ok(s / x.len() as f64)
}

fn main() {
    let _ = nll(&[1.0], 0.5);
}
