use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
    l0: f64,
}

// With the attribute on one method of the block, only that one is differentiated: the call of
// the unmarked `energy` on differentiated values is an error that says to mark it (it was
// rustc's "no function or associated item named `energy_vjp` found for struct `Spring`").
#[differentiate]
impl Spring {
    fn energy(&self, d: f64) -> f64 {
        0.5 * self.k * (d - self.l0) * (d - self.l0)
    }

    #[differentiate(wrt(self))]
    fn chain(&self, xs: &[f64]) -> f64 {
        let mut e = 0.0;
        for i in 1..xs.len() {
            e += self.energy(xs[i] - xs[i - 1]);
        }
        e
    }

    // A call on data only runs as written.
    #[differentiate(wrt(x))]
    fn shifted(&self, x: f64) -> f64 {
        x * self.energy(1.0)
    }
}

fn main() {}
