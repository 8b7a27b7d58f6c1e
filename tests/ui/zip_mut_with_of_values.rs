use autodiff::differentiate;
use ndarray::Array2;

// ndarray's `zip_mut_with` and `map_inplace` (with a closure that writes `*a` more than once)
// change the array through their closure, which the derivative cannot follow; the errors
// name the forms that are followed (`Zip`, one write, a mapped copy), not an index loop,
// which a 2-D array would need two indices for.
#[differentiate]
fn f(w: &Array2<f64>) -> f64 {
    let z = w.mapv(|v| v * v);
    let mut y = w.clone();
    y.zip_mut_with(&z, |a, &b| {
        *a += b.sin();
        *a *= 2.0;
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
