use autodiff::differentiate;

// A dataset passed as a pair of slices: the tuple's gradient would hold references, so it has
// none. Each slice as a parameter of its own is differentiated; left out with `wrt(..)`, the
// pair is data and read as written.
#[differentiate]
fn fit((xs, ys): (&[f64], &[f64]), w: f64) -> f64 {
    xs.iter().zip(ys).map(|(x, y)| (w * x - y).powi(2)).sum()
}

#[differentiate]
fn pairs(ps: &[(&[f64], f64)]) -> f64 {
    ps.iter().map(|(r, s)| r[0] * s).sum()
}

fn main() {
    let _ = fit_grad((&[1.0][..], &[2.0][..]), 0.5);
    let _ = pairs_grad(&[(&[1.0][..], 2.0)]);
}
