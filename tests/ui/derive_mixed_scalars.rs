use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Params {
    w: Vec<f64>,
    b: f32,
}

fn main() {}
