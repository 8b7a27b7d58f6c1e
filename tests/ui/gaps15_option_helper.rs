use autodiff::differentiate;

#[differentiate]
fn safe_log(x: f64) -> Option<f64> {
    if x > 0.0 { Some(x.ln()) } else { None }
}

#[differentiate]
fn or_zero(x: f64) -> f64 {
    safe_log(x).unwrap_or(0.0) * x
}

#[differentiate]
fn squared(x: f64) -> f64 {
    if let Some(v) = safe_log(x) { v * v } else { 0.0 }
}

#[differentiate]
fn plus(x: f64) -> f64 {
    match safe_log(x) {
        Some(v) => v + x,
        None => x,
    }
}

fn main() {
    let _ = or_zero_grad(1.0);
    let _ = squared_grad(1.0);
    let _ = plus_grad(1.0);
}
