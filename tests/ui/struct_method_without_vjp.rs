use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Model {
    scale: f64,
}

impl Model {
    fn bias(&self) -> f64 {
        self.scale * 0.5
    }
}

#[differentiate]
fn run(model: &Model, x: f64) -> f64 {
    x * model.bias()
}

fn main() {
    let _ = run_grad(&Model { scale: 1.0 }, 2.0);
}
