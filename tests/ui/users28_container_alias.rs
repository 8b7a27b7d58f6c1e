use autodiff::differentiate;

// A container under another name is taken for a struct of the user's: the error at the sum of
// its elements says to write the type itself.
type Embedding = Vec<f64>;

#[differentiate]
fn squares(users: &[Embedding]) -> f64 {
    let mut s = 0.0;
    for u in users {
        s += u.iter().map(|v| v * v).sum::<f64>();
    }
    s
}

fn main() {
    let _ = squares_grad(&[vec![1.0, 2.0]]);
}
