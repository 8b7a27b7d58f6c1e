use autodiff::differentiate;

// Rows of differentiated values pushed into a `Vec`: a `Vec` of `Vec`s has no gradient type
// the generated code can use, so it is an error that says what to write instead.
#[differentiate]
fn gram(x: &[f64]) -> f64 {
    let mut rows = Vec::new();
    for i in 0..x.len() {
        let mut row = Vec::new();
        for j in 0..x.len() {
            row.push(x[i] * x[j]);
        }
        rows.push(row);
    }
    rows[0][0]
}

fn main() {
    let _ = gram_grad(&[1.0, 2.0]);
}
