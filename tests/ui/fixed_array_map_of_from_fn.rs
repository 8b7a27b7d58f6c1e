// `d.map(..)` of an array made by `from_fn` (which the macro writes element by element, so `d`
// is a `mut` local in its form) was the error that the closure "may change `d`" and to write an
// index loop: `map` changes nothing. The error says what is followed instead.
use autodiff::differentiate;

#[differentiate(wrt(pos))]
fn centred_square(pos: &[[f64; 3]]) -> f64 {
    let d: [f64; 3] = std::array::from_fn(|k| pos[0][k] - pos[1][k]);
    let sq = d.map(|v| v * v);
    sq.iter().sum::<f64>()
}

fn main() {
    let _ = centred_square_grad(&[[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]]);
}
