use autodiff::{Differentiable, differentiate};

// A field marked `#[differentiable(data)]` given a method of its type: the type is declared
// data (`impl autodiff::Data for Act {}`), as the note says.
#[derive(Clone, Copy)]
pub enum Act {
    Tanh,
    Relu,
}

#[differentiate(wrt(z))]
impl Act {
    fn apply(&self, z: f64) -> f64 {
        match self {
            Act::Tanh => z.tanh(),
            Act::Relu => z.max(0.0),
        }
    }
}

#[derive(Clone, Differentiable)]
pub struct Unit {
    pub w: f64,
    #[differentiable(data)]
    pub act: Act,
}

#[differentiate]
fn f(u: &Unit, x: f64) -> f64 {
    u.act.apply(u.w * x)
}

fn main() {
    let _ = f_grad(&Unit { w: 0.5, act: Act::Relu }, 1.0);
    let _ = Act::Tanh;
}
