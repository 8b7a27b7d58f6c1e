use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let clip = |t: f64| {
        if t > 1.0 {
            return 1.0;
        }
        t
    };
    clip(x) * 2.0
}

fn main() {
    let _ = f_grad(1.0);
}
