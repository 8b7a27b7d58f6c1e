use autodiff::differentiate;

type Pair = (f64, f64);

#[differentiate]
fn f(x: f64) -> Pair {
    (x, 2.0 * x)
}

fn main() {
    let _ = f_grad(1.0);
}
