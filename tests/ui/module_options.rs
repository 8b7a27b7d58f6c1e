use autodiff::differentiate;

// A module's attribute only lets its functions see each other's `wrt(..)`; options belong on
// the functions.
#[differentiate(wrt(theta))]
mod model {
    use autodiff::differentiate;

    #[differentiate(wrt(theta))]
    pub fn forward(theta: &[f64], x: &[f64]) -> f64 {
        theta.iter().zip(x).map(|(t, x)| t * x).sum()
    }
}

fn main() {}
