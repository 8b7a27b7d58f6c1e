use autodiff::differentiate;

// A helper returning an `Option` without `#[differentiate]`, its result unwrapped with a
// default: the error is at the call.
fn safe_log(x: f64) -> Option<f64> {
    if x > 0.0 { Some(x.ln()) } else { None }
}

#[differentiate]
fn or_zero(x: f64) -> f64 {
    safe_log(x).unwrap_or(0.0) * x
}

mod h {
    #[autodiff::differentiate]
    pub fn safe_sqrt(x: f64) -> Option<f64> {
        if x >= 0.0 { Some(x.sqrt()) } else { None }
    }
}

#[differentiate]
fn or_one(x: f64) -> f64 {
    h::safe_sqrt(x).unwrap_or(1.0) + x
}

fn main() {
    let _ = or_zero_grad(1.0);
    let _ = or_one_grad(1.0);
}
