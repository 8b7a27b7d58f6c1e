use autodiff::{Differentiable, differentiate};

// A helper lending a row of a flat weight buffer: return the owned copy,
// `w[i * n..(i + 1) * n].to_vec()`, which is followed. The caller sees no second error.
#[differentiate]
fn row<'a>(w: &'a [f64], i: usize, n: usize) -> &'a [f64] {
    &w[i * n..(i + 1) * n]
}

#[differentiate(wrt(w))]
fn loss(w: &[f64], x: &[f64]) -> f64 {
    let r = row(w, 1, x.len());
    r.iter().zip(x).map(|(a, b)| a * b).sum::<f64>().tanh()
}

// A method marked on its own: the mark differentiates it, and so it says the same.
#[derive(Clone, Differentiable)]
struct Grid {
    w: ndarray::Array2<f64>,
}

#[differentiate]
impl Grid {
    #[differentiate(wrt(self))]
    fn row(&self, i: usize) -> (ndarray::ArrayView1<'_, f64>, f64) {
        (self.w.row(i), self.w[[i, 0]])
    }
}

fn main() {}
