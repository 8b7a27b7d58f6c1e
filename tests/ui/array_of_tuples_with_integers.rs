use autodiff::differentiate;

// An array literal of `(index, scale)` tuples bound by a `let` and iterated later: a tuple that
// holds an integer beside a differentiated value has no gradient type. The error says to
// iterate the literal in the loop's head (followed) or keep two arrays.
#[differentiate(wrt(w))]
fn f(w: &[f64]) -> f64 {
    let pairs = [(2usize, w[0]), (3, w[1])];
    let mut s = 0.0;
    for &(i, c) in pairs.iter() {
        s += c * w[i];
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0, 2.0, 3.0, 4.0]);
}
