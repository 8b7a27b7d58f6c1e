use autodiff::differentiate;

// A tuple's element assigned by position: the error says to rebuild the tuple.
#[differentiate]
fn f(x: f64) -> f64 {
    let mut t = (x, 1.0);
    t.0 = x * x;
    t.0 + t.1
}

fn main() {
    let _ = f_grad(1.0);
}
