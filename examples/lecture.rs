//! The lecture's automatic-differentiation examples, differentiated at compile time.
//!
//! Run with `cargo run --release --example lecture`.

use autodiff::check;
use autodiff::differentiate;
use autodiff::optim::{Adam, AdamConfig, Optimizer};

/// f(x) = 10·log(1 + exp(−2x)): the lecture's chain of five compositions.
#[differentiate]
fn f(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// g(x1, x2) = sin(x1) + x1·x2: the lecture's computation graph with two inputs.
#[differentiate]
fn g(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// relu(x) − relu(−x), which equals x everywhere.
#[differentiate]
fn identity_by_relus(x: f64) -> f64 {
    x.max(0.0) - (-x).max(0.0)
}

/// relu(relu(x)) − relu(−x), also x everywhere, in the default mode: at 0 the tie rule of each
/// `max` gives 3/4, not 1.
#[differentiate]
fn identity_by_nested_relus(x: f64) -> f64 {
    x.max(0.0).max(0.0) - (-x).max(0.0)
}

/// The same with `kinks = exact`: each kink takes the piece that a seeded direction enters, so
/// the derivative at 0 is 1, as it is everywhere else.
#[differentiate(kinks = exact)]
fn identity_by_nested_relus_exact(x: f64) -> f64 {
    x.max(0.0).max(0.0) - (-x).max(0.0)
}

/// A loss with a loop, a branch and an early exit: the Huber loss of a linear model.
#[differentiate(wrt(w, b))]
fn huber_loss(w: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = w * xs[i] + b - ys[i];
        total += if r.abs() <= 1.0 {
            0.5 * r * r
        } else {
            r.abs() - 0.5
        };
    }
    total / xs.len() as f64
}

fn main() {
    println!("f(x) = 10·log(1 + exp(−2x))");
    println!(
        "{:>6} {:>12} {:>14} {:>14}",
        "x", "f(x)", "f'(x)", "analytic"
    );
    for x in [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0] {
        let (y, dy) = f_grad(x);
        let e = (-2.0 * x).exp();
        let analytic = -20.0 * e / (1.0 + e);
        println!("{x:>6.2} {y:>12.6} {dy:>14.10} {analytic:>14.10}");
    }

    let (y, (d1, d2)) = g_grad(1.0, 2.0);
    println!("\ng(x1, x2) = sin(x1) + x1·x2 at (1, 2): value {y:.6}");
    println!(
        "  gradient ({d1:.10}, {d2:.10}); analytic (cos 1 + 2, 1) = ({:.10}, 1)",
        1f64.cos() + 2.0
    );
    let (_, pullback) = g_vjp(1.0, 2.0);
    let (p1, p2) = pullback(3.0);
    println!("  pullback of cotangent 3: ({p1:.10}, {p2:.10})");

    let report = check::gradcheck(|p: &(f64, f64)| g(p.0, p.1), &(1.0, 2.0), &(d1, d2));
    println!("  finite-difference check: {report}");

    println!("\nrelu(x) − relu(−x) = x, so its derivative is 1 everywhere:");
    for x in [-1.0, 0.0, 1.0] {
        let (y, d) = identity_by_relus_grad(x);
        println!(
            "  x = {x:>4}: value {y} = relu(x) − relu(−x) = {}, derivative {d}",
            relu(x) - relu(-x)
        );
    }
    println!("  at 0 each `max` tie splits the cotangent in half (the minimum-norm subgradient)");

    println!("\nrelu(relu(x)) − relu(−x) = x too; its derivative at 0:");
    let (_, d_default) = identity_by_nested_relus_grad(0.0);
    let (_, d_exact) = identity_by_nested_relus_exact_grad(0.0);
    println!("  default mode (ties split):            {d_default}");
    println!("  #[differentiate(kinks = exact)]:      {d_exact}");

    let xs: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x - 1.0).collect();
    let mut params = (0.0, 0.0);
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..2000 {
        let (_, grads) = huber_loss_grad(params.0, params.1, &xs, &ys);
        adam.step(&mut params, &grads);
    }
    let (w, b) = params;
    println!(
        "\nHuber regression trained with Adam: w = {w:.4}, b = {b:.4} (true 2, −1), loss {:.2e}",
        huber_loss(w, b, &xs, &ys)
    );
}
