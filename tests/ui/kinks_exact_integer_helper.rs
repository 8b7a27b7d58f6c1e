// In `kinks = exact`, a helper the macro does not see that computes an integer from a
// differentiated value (the cell a query falls in) would choose the piece by its plain result
// at a tie: an error that says how to compute the choice instead.
use autodiff::differentiate;

fn locate(xs: &[f64], t: f64) -> usize {
    xs.partition_point(|&x| x <= t).clamp(1, xs.len() - 1) - 1
}

#[differentiate(kinks = exact, wrt(ys, t))]
fn interp(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = locate(xs, t);
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

fn main() {}
