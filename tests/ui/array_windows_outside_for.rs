// The windows and chunks of a matrix are followed as the iterable of a `for` loop and as a
// `Zip` producer with the shape written in the call; in an iterator chain, and as a `Zip`
// producer of a shape read from an array, they are an error that says to write the loop (they
// were rustc's "expected `usize`, found `({integer}, {integer})`" in the generated code).
use autodiff::differentiate;
use ndarray::{Array2, Zip};

#[differentiate]
fn correlate(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    u.windows((3, 3)).into_iter().map(|w| (&w * k).sum().tanh()).sum::<f64>()
}

#[differentiate]
fn correlate_like(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    u.windows(k.dim()).into_iter().map(|w| (&w * k).sum()).sum::<f64>()
}

#[differentiate]
fn filtered(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    let mut out = Array2::<f64>::zeros((u.nrows() - 2, u.ncols() - 2));
    Zip::from(&mut out).and(u.windows(k.dim())).for_each(|o, w| *o = (&w * k).sum());
    out.sum()
}

#[differentiate]
fn pooled(u: &Array2<f64>) -> f64 {
    u.exact_chunks((2, 2)).into_iter().map(|c| c.sum().powi(2)).sum::<f64>()
}

fn main() {}
