use autodiff::differentiate;

// A recursive function: the pullback `_vjp` returns would keep the inner call's pullback, a
// type containing itself. One error at the call says to write a loop.
#[differentiate]
fn power(x: f64, n: u32) -> f64 {
    if n == 0 { 1.0 } else { x * power(x, n - 1) }
}

fn main() {
    let _ = power_grad(1.5, 3);
}
