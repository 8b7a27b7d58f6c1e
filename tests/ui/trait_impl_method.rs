use autodiff::{Differentiable, differentiate};

pub trait Energy {
    fn energy(&self, x: f64) -> f64;
}

#[derive(Clone, Differentiable)]
pub struct Spring {
    k: f64,
}

// The generated items cannot join a trait's impl: rustc says so at the attribute (the
// attribute goes on the impl block instead, see tests/trait_impls.rs).
impl Energy for Spring {
    #[differentiate]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

fn main() {}
