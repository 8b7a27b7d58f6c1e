use autodiff::Differentiable;

// A field's mark takes `data` alone.
#[derive(Clone, Copy)]
enum Act {
    Tanh,
}

#[derive(Clone, Differentiable)]
struct Layer {
    w: Vec<f64>,
    #[differentiable(skip)]
    act: Act,
}

fn main() {
    let _ = Act::Tanh;
}
