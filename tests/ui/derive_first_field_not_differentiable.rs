use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Params {
    layers: usize,
    w: Vec<f64>,
}

fn main() {}
