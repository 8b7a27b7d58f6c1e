// `pos[i].map(..)` of a row of `pos: &[[f64; 3]]` was taken for ndarray's `map`, rustc's
// "`[f64; 3]` is not an ndarray array" in the generated code; it is the error of a fixed-size
// array's map, which says what to write.
use autodiff::differentiate;

#[differentiate(wrt(pos))]
fn scaled_row(pos: &[[f64; 3]]) -> f64 {
    let s = pos[1].map(|c| c * 2.0);
    s[0] + s[2]
}

fn main() {
    let _ = scaled_row_grad(&[[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]]);
}
