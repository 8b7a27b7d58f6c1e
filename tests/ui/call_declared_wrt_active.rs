use autodiff::{Differentiable, differentiate};

// A call of a function whose `wrt(..)` the expansion sees (itself, or a method of the block)
// takes data where the list leaves a float out; a differentiated value passed there would lose
// its part of the gradient, so the call is an error that says which parameter to add.
#[differentiate(wrt(x))]
fn damped(x: f64, scale: f64, n: usize) -> f64 {
    if n == 0 { x * scale } else { damped(x.sin(), scale * x, n - 1) }
}

#[derive(Clone, Differentiable)]
struct Net {
    w: Vec<f64>,
}

#[differentiate(wrt(self))]
impl Net {
    fn forward(&self, x: &[f64]) -> f64 {
        self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>().tanh()
    }
    fn deep(&self, x: &[f64]) -> f64 {
        let h: Vec<f64> = x.iter().map(|v| self.forward(x) * v).collect();
        self.forward(&h)
    }
}

fn main() {
    let _ = damped_grad(0.5, 2.0, 3);
    let _ = Net { w: vec![1.0] }.deep_grad(&[0.5]);
}
