use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Named {}

#[derive(Clone, Differentiable)]
struct Tuple();

fn main() {}
