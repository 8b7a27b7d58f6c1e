use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let double = |t: f64| t * 2.0;
    println!("{}", double(x));
    double(x)
}

fn main() {
    let _ = f_grad(1.0);
}
