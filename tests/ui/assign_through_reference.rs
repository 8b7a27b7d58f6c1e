use autodiff::differentiate;

#[differentiate]
fn f(x: f64, calls: &mut u32) -> f64 {
    *calls = 1;
    x * x
}

fn main() {
    let _ = f_grad(1.0, &mut 0);
}
