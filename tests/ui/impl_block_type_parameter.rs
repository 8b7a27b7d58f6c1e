use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct P2<T> {
    a: T,
}

// With the attribute on the block, its float bounds are read (`impl<T: Float>`, see
// `tests/generics.rs`); a block parameter bounded by no float trait is an error that says to
// bound it on the block, not to repeat a bound the block already states.
#[differentiate]
impl<T: Copy + std::ops::Mul<Output = T>> P2<T> {
    fn energy(&self, x: T) -> T {
        self.a * x * x
    }
}

fn main() {}
