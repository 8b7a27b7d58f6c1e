use autodiff::differentiate;

struct Charges {
    q: Vec<f64>,
}

#[differentiate(wrt(pos))]
impl Charges {
    fn energy(&self, pos: &[[f64; 2]]) -> f64 {
        self.q[0] * self.q[1] / self.dist(pos[0], pos[1])
    }

    fn dist(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }
}

fn main() {}
