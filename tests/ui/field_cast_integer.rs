use autodiff::{Differentiable, differentiate};

// A parameter struct's integer field is data, which the macro sees where it is bound to a
// local of a declared type, an index or a loop bound; cast with `as` straight from the struct,
// it is read as a differentiated value, and the error says how to bind it.
#[derive(Clone, Differentiable)]
struct Mean {
    w: Vec<f64>,
    n: usize,
}

#[differentiate]
fn average(m: &Mean) -> f64 {
    m.w.iter().sum::<f64>() / m.n as f64
}

fn main() {
    let _ = average_grad(&Mean { w: vec![1.0, 2.0], n: 2 });
}
