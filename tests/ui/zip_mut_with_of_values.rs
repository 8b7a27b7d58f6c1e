use autodiff::differentiate;
use ndarray::Array2;

// ndarray's `zip_mut_with` and `map_inplace` (with a closure other than one `*a = ..` or `*a +=
// ..`, after statements that do not write `*a`) change the array through their closure, which the derivative cannot follow; the errors
// name the forms that are followed (`Zip`, one statement, a mapped copy), not an index loop,
// which a 2-D array would need two indices for.
#[differentiate]
fn f(w: &Array2<f64>) -> f64 {
    let z = w.mapv(|v| v * v);
    let mut y = w.clone();
    y.zip_mut_with(&z, |a, &b| {
        let s = b.sin();
        *a += s;
    });
    let mut u = y.clone();
    u.map_inplace(|v| {
        *v = v.cos();
        *v *= 2.0;
    });
    u.sum()
}

fn main() {
    let _ = f_grad(&Array2::zeros((2, 2)));
}
