// A method declared `wrt(self)` in a module marked `#[differentiate]`, called on the items of a
// loop over a field holding its structs with a value that depends on what is differentiated:
// the call's gradient has no entry for `x`, so the error names the parameter to add.
#[autodiff::differentiate]
mod flows {
    use autodiff::{Differentiable, differentiate};

    #[derive(Clone, Differentiable)]
    pub struct Affine {
        pub s: Vec<f64>,
    }

    #[differentiate(wrt(self))]
    impl Affine {
        pub fn forward(&self, x: &[f64]) -> Vec<f64> {
            x.iter().zip(&self.s).map(|(a, b)| a * b).collect()
        }
    }

    #[derive(Clone, Differentiable)]
    pub struct Flow {
        pub layers: Vec<Affine>,
    }

    #[differentiate(wrt(self))]
    impl Flow {
        pub fn nll(&self, x: &[f64]) -> f64 {
            let mut h = x.to_vec();
            for l in &self.layers {
                h = l.forward(&h);
            }
            h.iter().map(|v| v * v).sum()
        }
    }
}

fn main() {}
