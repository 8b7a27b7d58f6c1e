use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Layer<T> {
    w: T,
    b: Vec<f64>,
}

fn takes<P: Differentiable>(_: &P) {}

fn main() {
    // `Vec<f32>` has scalar type `f32`, but the field `b` is `Vec<f64>`.
    takes(&Layer { w: vec![1.0f32], b: vec![1.0] });
}
