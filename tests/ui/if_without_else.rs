use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let _logged = if x > 0.0 {
        println!("positive");
    };
    x * x
}

fn main() {
    let _ = f_grad(1.0);
}
