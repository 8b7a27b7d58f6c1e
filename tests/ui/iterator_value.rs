use autodiff::differentiate;

// An iterator kept in a variable is written where it is used, unless a name it reads changes
// in between: here the count `k` given to `skip` is changed after the iterator is made.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut k = 1;
    let rest = x.iter().skip(k).map(|v| v * 2.0);
    k += 1;
    let mut s = 0.0;
    for v in rest {
        s += v;
    }
    s * k as f64
}

// Nor where a name it reads is declared again before the use: written there, the chain would
// read the new `w`.
#[differentiate]
fn g(x: &[f64], w: f64) -> f64 {
    let scaled = x.iter().map(|v| v * w);
    let w = 2.0 * w;
    scaled.sum::<f64>() * w
}

// Nor where the use is in the scope of a binding of such a name (the arm's `w`).
#[differentiate(wrt(x, w))]
fn h(x: &[f64], w: f64, k: Option<usize>) -> f64 {
    let scaled = x.iter().map(|v| v * w);
    match k {
        Some(w) => scaled.sum::<f64>() * w as f64,
        None => w,
    }
}

fn main() {
    let _ = f_grad(&[1.0]);
    let _ = g_grad(&[1.0], 1.0);
    let _ = h_grad(&[1.0], 1.0, Some(2));
}
