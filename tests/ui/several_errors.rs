use autodiff::differentiate;

fn apply(g: impl Fn(f64) -> f64, x: f64) -> f64 {
    g(x)
}

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let y = apply(|t: f64| t + 1.0, x);
    unsafe {
        core::hint::assert_unchecked(x == x);
    }
    let mut s = 0.0;
    for i in (0..n).cycle().take(2) {
        s += x * i as f64;
    }
    let k = s.to_string().parse::<f64>().unwrap();
    s + y + k
}

fn main() {
    let _ = f_grad(1.0, 10);
}
