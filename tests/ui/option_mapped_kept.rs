use autodiff::differentiate;

// The `Option` a `map` returns, kept in a variable and taken apart later.
#[differentiate(wrt(x))]
fn kept(x: f64, o: Option<f64>) -> f64 {
    let q = o.map(|p| p * x);
    q.unwrap_or(0.0)
}

// Of a local `Option` the rewrite gives up on: one error, at the `map`, naming no helper of
// the macro's.
#[differentiate]
fn local(x: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = prev {
            s += v * p;
        }
        prev = Some(v);
    }
    let q = prev.map(|p| p * 2.0);
    s + q.unwrap_or(0.0)
}

fn main() {
    let _ = kept_grad(1.0, Some(2.0));
    let _ = local_grad(&[1.0]);
}
