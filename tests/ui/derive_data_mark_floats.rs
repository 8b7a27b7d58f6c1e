use autodiff::Differentiable;

// Floats are differentiated: a field of them marked data would lose the derivative of a value
// written into it.
#[derive(Clone, Differentiable)]
pub struct Model {
    pub w: Vec<f64>,
    #[differentiable(data)]
    pub temperature: f64,
}

fn main() {}
