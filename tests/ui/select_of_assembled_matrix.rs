use autodiff::differentiate;
use ndarray::{Array2, Axis};

// The free rows and columns of a stiffness matrix assembled in place, gathered by `select`:
// `select` reads the matrix (it does not change it), and has no rule; the error says how to
// gather the rows instead.
#[differentiate]
fn reduced_trace(k_el: &[f64]) -> f64 {
    let n = k_el.len() + 1;
    let mut k = Array2::<f64>::zeros((n, n));
    for e in 0..n - 1 {
        k[[e, e]] += k_el[e];
        k[[e + 1, e + 1]] += k_el[e];
    }
    let free: Vec<usize> = (1..n).collect();
    k.select(Axis(0), &free).sum()
}

fn main() {
    let _ = reduced_trace_grad(&[1.0, 2.0]);
}
