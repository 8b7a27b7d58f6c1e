use autodiff::differentiate;

#[differentiate]
fn f(x: f64) {
    println!("{}", x * x);
}

fn main() {
    let _ = f_grad(1.0);
}
