use autodiff::Differentiable;

// A field marked `#[differentiable(data)]` is of a type declared data (`impl autodiff::Data for
// Act {}`), checked at the field.
#[derive(Clone, Copy)]
pub enum Act {
    Tanh,
    Relu,
}

#[derive(Clone, Differentiable)]
pub struct Unit {
    pub w: f64,
    #[differentiable(data)]
    pub act: Act,
}

fn main() {
    let _ = [Act::Tanh, Act::Relu];
}
