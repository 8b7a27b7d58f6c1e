use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2};

#[derive(Clone, Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[derive(Clone, Differentiable)]
struct Mlp {
    l1: Dense,
}

// A field two levels down, outside a module marked `#[differentiate]`: its type is not seen,
// and the check at the field says to write `m.l1.w.flatten().iter()` for a matrix (inside such
// a module, the declared `Array2` is seen and the elements are a matrix's).
#[differentiate]
fn reg(m: &Mlp) -> f64 {
    m.l1.w.iter().map(|v| v * v).sum::<f64>() + m.l1.b.sum()
}

fn main() {
    let m = Mlp {
        l1: Dense {
            w: Array2::zeros((2, 2)),
            b: Array1::zeros(2),
        },
    };
    let _ = reg_grad(&m);
}
