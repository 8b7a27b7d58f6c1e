use autodiff::Differentiable;

#[derive(Clone, Copy, Differentiable)]
union Params {
    w: f64,
    v: f32,
}

fn main() {}
