// A hand-written pullback that returns fewer gradients than its function has differentiable
// parameters (it leaves out `scale`): a compile error at the call, never a gradient given to the
// wrong argument.
use autodiff::differentiate;

fn g(x: &[f64], n: usize, scale: f64) -> f64 {
    scale * x.iter().sum::<f64>() * n as f64
}

fn g_vjp(x: &[f64], n: usize, scale: f64) -> (f64, impl FnOnce(f64) -> Vec<f64>) {
    (g(x, n, scale), move |y: f64| {
        vec![y * scale * n as f64; x.len()]
    })
}

// The forward rule leaves `scale` out the same way.
fn g_jvp(x: &[f64], n: usize, scale: f64, dx: &Vec<f64>) -> (f64, f64) {
    (g(x, n, scale), scale * dx.iter().sum::<f64>() * n as f64)
}

#[differentiate]
fn f(v: &[f64], s: f64) -> f64 {
    g(v, 3, s)
}

fn main() {
    let _ = f_grad(&[1.0, 2.0], 0.5);
}
