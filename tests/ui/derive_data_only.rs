use autodiff::Differentiable;

// Integers and strings are data a parameter struct carries beside its parameters; a struct of
// data alone has nothing to differentiate.
#[derive(Clone, Differentiable)]
struct Shape {
    rows: usize,
    cols: usize,
    name: String,
}

fn main() {}
