use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
enum Params {
    Linear { w: f64 },
    Constant(f64),
}

fn main() {}
