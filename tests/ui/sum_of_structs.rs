// `sum()` of a struct's values goes through the user's `impl Sum`, which the macro does not see:
// an error that says to write the `fold` it would be.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl std::ops::Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        V2 {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
}

impl std::iter::Sum for V2 {
    fn sum<I: Iterator<Item = V2>>(it: I) -> V2 {
        it.fold(V2 { x: 0.0, y: 0.0 }, |a, b| a + b)
    }
}

#[differentiate]
fn total(fs: &[V2]) -> f64 {
    let f: V2 = fs.iter().copied().sum();
    f.x * f.y
}

fn main() {
    let _ = total_grad(&[V2 { x: 1.0, y: 2.0 }]);
}
