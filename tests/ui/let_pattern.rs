use autodiff::differentiate;

#[differentiate]
fn f(xs: [f64; 3]) -> f64 {
    let [a, ..] = xs;
    a * xs[2]
}

fn main() {
    let _ = f_grad([1.0, 2.0, 3.0]);
}
