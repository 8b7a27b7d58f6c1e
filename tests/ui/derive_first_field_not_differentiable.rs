use autodiff::Differentiable;

#[derive(Clone, Copy)]
enum Kind {
    Dense,
}

#[derive(Clone, Differentiable)]
struct Params {
    kind: Kind,
    w: Vec<f64>,
}

fn main() {
    let _ = Kind::Dense;
}
