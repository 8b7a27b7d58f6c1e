use autodiff::Differentiable;

// Integers, `bool`s and strings are data the gradient copies; a field of another type that is
// not differentiable (an enum choosing the activation) is an error at the field.
#[derive(Clone, Copy)]
enum Activation {
    Tanh,
    Relu,
}

#[derive(Clone, Differentiable)]
struct Params {
    w: Vec<f64>,
    act: Activation,
    b: f64,
}

fn main() {
    let _ = [Activation::Tanh, Activation::Relu];
}
