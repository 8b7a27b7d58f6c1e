use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    loop {
        println!("{x}");
    }
}

fn main() {
    let _ = f_grad(1.0);
}
