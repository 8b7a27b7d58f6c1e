use autodiff::{Differentiable, differentiate};

#[derive(Differentiable, Clone)]
struct Pool {
    v: Vec<f64>,
}

// A field of a parameter taken by `&mut` sorted by a closure: the error says to copy the
// parameter into a local, where the sort is followed (an index loop cannot sort).
#[differentiate]
fn sorted_head(p: &mut Pool, k: f64) -> f64 {
    p.v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    p.v[0] * k
}

fn main() {}
