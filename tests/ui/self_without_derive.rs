use autodiff::differentiate;

// A method of a struct of parameters that does not derive `Differentiable`: `self` is
// differentiated, and the error is at the receiver, with what to write, as at any other
// parameter of such a type (not only inside the body, at a read of a field).
#[derive(Clone)]
struct Linear {
    w: Vec<f64>,
    b: f64,
}

#[differentiate]
impl Linear {
    fn predict(&self, x: &[f64]) -> f64 {
        self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b
    }
}

fn main() {}
