// Windows of a slice collected as references (`Vec<&[f64]>`, pairs of a flat array of
// coordinates) are not values the derivative follows: the error says to copy each window or
// to read the elements by index.
use autodiff::differentiate;

#[differentiate]
fn energy(x: &[f64]) -> f64 {
    let p: Vec<&[f64]> = x.chunks_exact(2).collect();
    let mut e = 0.0;
    for i in 0..p.len() {
        for j in 0..i {
            let dx = p[i][0] - p[j][0];
            let dy = p[i][1] - p[j][1];
            e += (-(dx * dx + dy * dy)).exp();
        }
    }
    e
}

fn main() {
    let _ = energy_grad(&[0.0, 1.0, 2.0, 3.0]);
}
