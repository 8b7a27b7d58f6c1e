// A method of a struct without a derivative (a generator's, its `impl` not marked) lent a
// buffer that holds differentiated values: what it writes there cannot be followed. The
// error says to lend it a buffer of data and combine the two in the function.
use autodiff::differentiate;

pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn next_f64(&mut self) -> f64 {
        self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((self.state >> 11) as f64) / ((1u64 << 53) as f64)
    }
    pub fn perturb(&mut self, out: &mut [f64]) {
        for o in out.iter_mut() {
            *o += self.next_f64() - 0.5;
        }
    }
}

#[differentiate(wrt(w))]
pub fn loss(w: &[f64], rng: &mut Rng) -> f64 {
    let mut z = w.to_vec();
    rng.perturb(&mut z);
    z.iter().map(|v| v * v).sum()
}

fn main() {
    let _ = loss_grad(&[0.5], &mut Rng { state: 1 });
}
