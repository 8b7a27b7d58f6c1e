// A differentiated method taking `&mut self` returns nothing: one that returns a value is an
// error that says what to write.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Counter {
    total: f64,
}

impl Counter {
    #[differentiate(wrt(x))]
    fn add(&mut self, x: f64) -> f64 {
        self.total * x
    }
}

fn main() {
    let mut c = Counter { total: 1.0 };
    let _ = c.add_grad(2.0);
}
