use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Params;

fn main() {}
