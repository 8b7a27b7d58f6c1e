// A `Vec` of arrays built inside a differentiated function (hidden states kept for later) has no
// adjoint that grows and shrinks with it: the error says to use each array where it is computed.
use autodiff::differentiate;
use ndarray::{Array1, Array2};

#[differentiate(wrt(w))]
fn f(w: &Array2<f64>, xs: &[Array1<f64>]) -> f64 {
    let mut h = Array1::zeros(w.nrows());
    let mut hs = Vec::new();
    for x in xs {
        h = (w.dot(x) + &h).mapv(f64::tanh);
        hs.push(h.clone());
    }
    hs[0].sum()
}

fn main() {
    let w = Array2::eye(2);
    let _ = f_grad(&w, &[Array1::ones(2)]);
}
