use autodiff::{differentiate, Differentiable};

trait RobustLoss {
    fn rho(&self, r: f64) -> f64;
}

#[derive(Clone, Differentiable)]
struct Huber {
    delta: f64,
}

#[differentiate]
impl RobustLoss for Huber {
    fn rho(&self, r: f64) -> f64 {
        if r.abs() <= self.delta {
            0.5 * r * r
        } else {
            self.delta * (r.abs() - 0.5 * self.delta)
        }
    }
}

// A loss chosen by the caller's type: the call goes through the trait bound.
#[differentiate(wrt(rate))]
fn total<L: RobustLoss>(loss: &L, rate: &[f64], counts: &[f64]) -> f64 {
    rate.iter().zip(counts).map(|(&r, &c)| loss.rho(c - r)).sum()
}

// The same through a trait object.
#[differentiate(wrt(rate))]
fn total_dyn(loss: &dyn RobustLoss, rate: &[f64]) -> f64 {
    rate.iter().map(|&r| loss.rho(r)).sum()
}

fn main() {
    let h = Huber { delta: 1.0 };
    let _ = total(&h, &[1.0], &[2.0]);
    let _ = total_dyn(&h, &[1.0]);
}
