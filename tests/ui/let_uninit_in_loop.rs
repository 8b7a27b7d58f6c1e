// A variable declared without a value and first assigned inside a loop: the loop carries it
// before it has one. The error says to give it a value of its type, or to declare it where it
// is assigned.
use autodiff::differentiate;

#[differentiate]
fn pairs(p: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k;
    for i in 0..x.len() {
        k = i;
        s += p[k] * x[i];
        k += 1;
        s += p[k] * x[i];
    }
    s
}

fn main() {}
