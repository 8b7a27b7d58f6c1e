use autodiff::differentiate;

// A method of the user's own trait on `f64`: the error says to write a differentiated function.
trait Sq {
    fn sq(self) -> Self;
}

impl Sq for f64 {
    fn sq(self) -> f64 {
        self * self
    }
}

#[differentiate]
fn sse(p: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += (p[0] * xs[i] + p[1] - ys[i]).sq();
    }
    s
}

fn main() {
    let _ = sse_grad(&[1.0, 0.0], &[1.0], &[2.0]);
}
