use autodiff::differentiate;

// Rows held by reference: the gradient would hold references, so there is none; owned rows
// (`&[Vec<f64>]`) are differentiated.
#[differentiate]
fn f(w: &[&[f64]], x: &[f64]) -> f64 {
    w[0][0] * x[0]
}

fn main() {
    let _ = f_grad(&[&[1.0][..]], &[2.0]);
}
