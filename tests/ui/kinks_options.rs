use autodiff::differentiate;

#[differentiate(kinks = approximate)]
fn unknown_value(x: f64) -> f64 {
    x.max(0.0)
}

#[differentiate(kinks)]
fn without_value(x: f64) -> f64 {
    x.max(0.0)
}

#[differentiate(kinks = exact, hessian)]
fn with_hessian(x: f64) -> f64 {
    x.max(0.0)
}

#[differentiate(kinks = exact, checkpoint(snapshots = 4))]
fn with_checkpoint(x: f64) -> f64 {
    let mut y = x;
    for _ in 0..3 {
        y = y.max(0.0) * x;
    }
    y
}

#[differentiate(kinks = exact)]
fn mapped(x: &ndarray::Array1<f64>) -> f64 {
    x.mapv(|v| v.max(0.0)).sum()
}

fn main() {}
