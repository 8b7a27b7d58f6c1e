use autodiff::differentiate;

trait Activation {
    fn apply(z: f64) -> f64;
}

struct Softplus;

#[differentiate]
impl Activation for Softplus {
    fn apply(z: f64) -> f64 {
        (1.0 + z.exp()).ln()
    }
}

// An activation chosen by a type parameter, its associated function called through the bound:
// rustc said "no function `apply_vjp` found for type parameter `A`" inside the generated code,
// suggesting `apply::apply(v)`.
#[differentiate(wrt(x))]
fn layer<A: Activation>(x: &[f64]) -> f64 {
    x.iter().map(|&v| A::apply(v)).sum()
}

fn main() {
    let _ = layer::<Softplus>(&[1.0]);
}
