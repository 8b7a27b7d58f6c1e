// `sum()` of values the macro does not see to be a struct of yours (a helper's results): the
// bound on the sum's start says to write the `fold`.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

impl std::iter::Sum for V2 {
    fn sum<I: Iterator<Item = V2>>(it: I) -> V2 {
        it.fold(V2 { x: 0.0, y: 0.0 }, |a, b| V2 { x: a.x + b.x, y: a.y + b.y })
    }
}

#[differentiate]
fn scaled(v: &V2, k: f64) -> V2 {
    V2 { x: v.x * k, y: v.y * k }
}

#[differentiate]
fn total(fs: &[V2]) -> f64 {
    let f: V2 = fs.iter().map(|v| scaled(v, 2.0)).sum();
    f.x * f.y
}

fn main() {
    let _ = total_grad(&[V2 { x: 1.0, y: 2.0 }]);
}
