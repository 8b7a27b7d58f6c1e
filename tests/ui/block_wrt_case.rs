use autodiff::{Differentiable, differentiate};

// `wrt(Self)` on an impl block, for `wrt(self)`: the error says which name was meant, rather
// than that each method lacks a parameter `Self`.
#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
}

#[differentiate(wrt(Self))]
impl Spring {
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }

    fn force(&self, x: f64) -> f64 {
        -self.k * x
    }
}

fn main() {}
