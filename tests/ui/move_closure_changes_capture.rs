use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut total = 0.0;
    let mut add = move |v: f64| {
        total += v;
        total
    };
    add(x);
    add(x) + total
}

fn main() {
    let _ = f_grad(1.0);
}
