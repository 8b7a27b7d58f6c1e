use autodiff::Differentiable;

#[derive(Differentiable)]
struct Layer<S> {
    w: Vec<S>,
    b: S,
}

fn main() {}
