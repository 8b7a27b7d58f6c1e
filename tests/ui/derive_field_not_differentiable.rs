use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Params {
    w: Vec<f64>,
    name: String,
    b: f64,
}

fn main() {}
