use autodiff::differentiate;

fn bump(count: &mut u32) {
    *count += 1;
}

#[differentiate]
fn f(x: f64, mut calls: u32) -> f64 {
    bump(&mut calls);
    x * calls as f64
}

fn main() {
    let _ = f_grad(1.0, 0);
}
