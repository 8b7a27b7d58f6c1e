use autodiff::differentiate;

#[differentiate]
fn f(x: f64, k: Option<usize>) -> f64 {
    let mut count = 0;
    let n = k.map(|j| {
        count += 1;
        j * 2
    });
    x * (n.unwrap_or(0) + count) as f64
}

fn main() {
    let _ = f_grad(1.0, Some(2));
}
