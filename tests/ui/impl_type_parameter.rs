use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct P2<T> {
    a: T,
}

impl<T: num_traits::Float> P2<T> {
    #[differentiate]
    fn energy(&self, x: T) -> T {
        self.a * x * x
    }
}

fn main() {
    let p = P2 { a: 0.5f64 };
    let _ = p.energy_grad(2.0);
}
