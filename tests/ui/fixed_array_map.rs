// `.map(..)` of a fixed-size array: the closure form differentiated is ndarray's; the error says
// how to write it for `[T; N]`.
use autodiff::differentiate;

#[differentiate]
fn squares(x: &[f64]) -> f64 {
    let xs: [f64; 3] = [x[0], x[1], x[2]];
    let sq = xs.map(|v| v * v);
    sq.iter().sum()
}

fn main() {}
