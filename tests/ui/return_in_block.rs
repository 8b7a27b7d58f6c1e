use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let y = {
        if x > 1.0 {
            return x;
        }
        x * 2.0
    };
    y
}

fn main() {
    let _ = f_grad(1.0);
}
