//! Second-order training with Hessian-vector products: L2-regularized logistic regression on
//! real data, trained by Newton-CG with the generated `loss_hvp` and by Adam with `loss_grad`,
//! to the same gradient norm.
//!
//! The data: the Wisconsin diagnostic breast cancer set (569 tumours, 30 features computed from
//! digitized images of fine-needle aspirates, 212 malignant and 357 benign; Street, Wolberg and
//! Mangasarian, 1993, from the UCI repository) as `smartcore` ships it
//! (`smartcore::dataset::breast_cancer`). The samples are split 80/20 by a seeded shuffle and the
//! features standardized on the training split.
//!
//! The model: `p(malignant | x) = σ(xᵀw + b)`, fitted by minimizing
//!
//! ```text
//! f(w, b) = (1/N) Σᵢ softplus(−yᵢ(xᵢᵀw + b)) + (λ/2)‖w‖²,   yᵢ = ±1,
//! ```
//!
//! written once under `#[differentiate(hessian)]`, which generates `loss_grad` (value and
//! gradient) and `loss_hvp` (value, gradient and `H·v` without forming `H`, forward mode over
//! reverse mode).
//!
//! Newton-CG: at each step, conjugate gradients on `H·p = −g` using only products `H·d` (at
//! most [`CG_ITERATIONS`], stopped early at a relative residual `min(½, √‖g‖)`, the forcing
//! sequence that makes truncated Newton superlinear), then a backtracking (Armijo) line search
//! on `f` from the full step. Adam: full-batch steps with `loss_grad`, its step size tuned
//! (the one of [`ADAM_LRS`] that reaches the target in the fewest steps). Both stop when
//! `‖∇f‖ ≤` [`TARGET_GRAD_NORM`] (or after their iteration limits) and print iterations, passes
//! over the data and wall time (the median of [`REPEATS`] runs), the final loss and the
//! accuracies, then what one pass of each kind costs.
//!
//! Run with `cargo run --release --example newton`.

use std::time::Instant;

use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::{Differentiable, differentiate, nn};
use ndarray::{Array1, Array2};

mod common;
use common::{Split, split_standardized};

/// The L2 weight `λ`.
const LAMBDA: f64 = 1e-3;
/// Both methods stop at this gradient norm.
const TARGET_GRAD_NORM: f64 = 1e-6;
/// At most this many conjugate-gradient iterations (Hessian-vector products) per Newton step.
const CG_ITERATIONS: usize = 20;
/// Newton steps at most.
const NEWTON_STEPS: usize = 50;
/// Adam steps at most.
const ADAM_STEPS: usize = 200_000;
/// Adam's step sizes tried; the one that reaches the target in the fewest steps is compared.
const ADAM_LRS: [f64; 6] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

/// Each method runs this many times; the median wall time is reported.
const REPEATS: usize = 11;

/// The weights and the bias.
#[derive(Clone, Differentiable)]
struct Model {
    w: Array1<f64>,
    b: f64,
}

/// The regularized mean logistic loss; `y` holds the labels as ±1.
#[differentiate(wrt(p), hessian)]
fn loss(p: &Model, x: &Array2<f64>, y: &Array1<f64>, lambda: f64) -> f64 {
    let margins = (x.dot(&p.w) + p.b) * y;
    nn::softplus(&(margins * -1.0)).mean().unwrap() + 0.5 * lambda * (&p.w * &p.w).sum()
}

/// The features and the labels (±1, malignant +1).
fn breast_cancer() -> (Array2<f64>, Array1<f64>) {
    let ds = smartcore::dataset::breast_cancer::load_dataset();
    let x = Array2::from_shape_vec(
        (ds.num_samples, ds.num_features),
        ds.data.iter().map(|&v| f64::from(v)).collect(),
    )
    .expect("one row of features per sample");
    // smartcore codes malignant as 0 and benign as 1.
    let y = ds
        .target
        .iter()
        .map(|&t| match t {
            0 => 1.0,
            1 => -1.0,
            other => panic!("label {other}"),
        })
        .collect();
    (x, y)
}

/// The fraction of samples on the right side of the decision boundary.
fn accuracy(p: &Model, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let scores = x.dot(&p.w) + p.b;
    let right = scores.iter().zip(y).filter(|&(s, y)| s * y > 0.0).count();
    right as f64 / y.len() as f64
}

fn norm(p: &Model) -> f64 {
    p.inner(p).sqrt()
}

/// `a + t·d`.
fn along(a: &Model, t: f64, d: &Model) -> Model {
    let mut step = d.clone();
    step.scale(t);
    let mut out = a.clone();
    out.add_assign(&step);
    out
}

/// What a run did.
struct Run {
    name: &'static str,
    model: Model,
    iterations: usize,
    /// Gradients and Hessian-vector products evaluated (each one pass over the data).
    passes: String,
    seconds: f64,
    grad_norm: f64,
    reached: bool,
}

impl Run {
    /// The run that ended at `model`, with gradient `g`, after `iterations` from `started`.
    fn new(
        name: &'static str,
        model: Model,
        iterations: usize,
        passes: String,
        started: Instant,
        g: &Model,
    ) -> Run {
        Run {
            name,
            model,
            iterations,
            passes,
            seconds: started.elapsed().as_secs_f64(),
            grad_norm: norm(g),
            reached: norm(g) <= TARGET_GRAD_NORM,
        }
    }
}

/// Truncated Newton: conjugate gradients on `H·p = −g` with Hessian-vector products, then a
/// backtracking line search.
fn newton_cg(x: &Array2<f64>, y: &Array1<f64>, start: &Model) -> Run {
    let hvp = |p: &Model, d: &Model| loss_hvp(p, x, y, LAMBDA, d).2;
    let f = |p: &Model| loss(p, x, y, LAMBDA);
    let started = Instant::now();
    let mut p = start.clone();
    let (mut value, mut g) = loss_grad(&p, x, y, LAMBDA);
    let (mut steps, mut hvps, mut values) = (0, 0, 0);
    while norm(&g) > TARGET_GRAD_NORM && steps < NEWTON_STEPS {
        // CG on H·s = −g from s = 0: residual r = −g − H·s, direction d.
        let tolerance = norm(&g).sqrt().min(0.5) * norm(&g);
        let mut s = g.zero_like();
        let mut r = g.clone();
        r.scale(-1.0);
        let mut d = r.clone();
        let mut rr = r.inner(&r);
        for _ in 0..CG_ITERATIONS {
            let hd = hvp(&p, &d);
            hvps += 1;
            let curvature = d.inner(&hd);
            if curvature <= 0.0 {
                break; // not for a convex loss; kept so that the step stays a descent direction
            }
            let alpha = rr / curvature;
            s = along(&s, alpha, &d);
            r = along(&r, -alpha, &hd);
            let rr_next = r.inner(&r);
            if rr_next.sqrt() <= tolerance {
                break;
            }
            d = along(&r, rr_next / rr, &d);
            rr = rr_next;
        }
        if s.inner(&s) == 0.0 {
            s = g.clone();
            s.scale(-1.0);
        }
        // Armijo: the largest t = 2⁻ᵏ with f(p + t·s) ≤ f(p) + 10⁻⁴·t·⟨g, s⟩.
        let slope = g.inner(&s);
        let mut t = 1.0;
        loop {
            let trial = along(&p, t, &s);
            let v = f(&trial);
            values += 1;
            if v <= value + 1e-4 * t * slope || t < 1e-10 {
                p = trial;
                break;
            }
            t *= 0.5;
        }
        (value, g) = loss_grad(&p, x, y, LAMBDA);
        steps += 1;
    }
    let passes = format!("{} gradients, {hvps} HVPs, {values} values", steps + 1);
    Run::new("Newton-CG", p, steps, passes, started, &g)
}

/// Full-batch Adam with step size `lr` until the gradient norm reaches the target.
fn adam(x: &Array2<f64>, y: &Array1<f64>, start: &Model, lr: f64) -> Run {
    let started = Instant::now();
    let mut p = start.clone();
    let mut opt = Adam::new(AdamConfig {
        lr,
        ..Default::default()
    });
    let (_, mut g) = loss_grad(&p, x, y, LAMBDA);
    let mut steps = 0;
    while norm(&g) > TARGET_GRAD_NORM && steps < ADAM_STEPS {
        opt.step(&mut p, &g);
        (_, g) = loss_grad(&p, x, y, LAMBDA);
        steps += 1;
    }
    Run::new(
        "Adam",
        p,
        steps,
        format!("{} gradients", steps + 1),
        started,
        &g,
    )
}

fn main() {
    let (x, y) = breast_cancer();
    let n = x.nrows();
    let Split {
        x_train,
        y_train,
        x_test,
        y_test,
    } = split_standardized(&x, &y, 440);
    let n_train = x_train.nrows();
    let malignant = y.iter().filter(|&&v| v > 0.0).count();
    println!(
        "breast cancer (Wisconsin diagnostic): {n} tumours ({malignant} malignant), {} features; \
         {n_train} train, {} test",
        x.ncols(),
        n - n_train
    );
    println!(
        "L2-regularized logistic regression, λ = {LAMBDA}; both methods run until ‖∇f‖ ≤ \
         {TARGET_GRAD_NORM:e}\n"
    );

    let start = Model {
        w: Array1::zeros(x.ncols()),
        b: 0.0,
    };
    // The runs are deterministic: each is repeated and its median wall time kept, so that one
    // run slowed down by other work on the machine does not decide the comparison.
    let median_of = |run: &dyn Fn() -> Run| {
        let mut runs: Vec<Run> = (0..REPEATS).map(|_| run()).collect();
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        runs.swap_remove(REPEATS / 2)
    };
    // Adam's step size is tuned on the same target: the one that needs the fewest steps.
    let mut best: Option<(f64, usize)> = None;
    let mut tried = Vec::new();
    for lr in ADAM_LRS {
        let r = adam(&x_train, &y_train, &start, lr);
        if r.reached {
            tried.push(format!("{lr}: {}", r.iterations));
            if best.is_none_or(|(_, steps)| r.iterations < steps) {
                best = Some((lr, r.iterations));
            }
        } else {
            tried.push(format!("{lr}: over {ADAM_STEPS}"));
        }
    }
    let (lr, _) = best.expect("some step size reaches the target");
    println!(
        "Adam, steps to the target by step size: {}; compared: {lr}\n",
        tried.join(", ")
    );
    let runs = [
        median_of(&|| newton_cg(&x_train, &y_train, &start)),
        median_of(&|| adam(&x_train, &y_train, &start, lr)),
    ];
    println!(
        "| method    | iterations | passes over the data                | wall time | ‖∇f‖     | \
         train loss   | train acc. | test acc. |"
    );
    println!(
        "|:----------|-----------:|:------------------------------------|----------:|---------:|\
         -------------:|-----------:|----------:|"
    );
    for r in &runs {
        println!(
            "| {:<9} | {:>10} | {:<35} | {:>6.1} ms | {:>8.1e} | {:>12.9} | {:>9.2}% | {:>8.2}% |",
            r.name,
            r.iterations,
            r.passes,
            r.seconds * 1e3,
            r.grad_norm,
            loss(&r.model, &x_train, &y_train, LAMBDA),
            100.0 * accuracy(&r.model, &x_train, &y_train),
            100.0 * accuracy(&r.model, &x_test, &y_test),
        );
    }
    for r in &runs {
        if !r.reached {
            println!(
                "\n{} stopped after {} iterations at ‖∇f‖ = {:.1e}, above the target",
                r.name, r.iterations, r.grad_norm
            );
        }
    }
    // What one pass costs, against one evaluation of the loss.
    let mean_time = |pass: &dyn Fn()| {
        let reps = 2000;
        let t = Instant::now();
        for _ in 0..reps {
            pass();
        }
        t.elapsed().as_secs_f64() / reps as f64
    };
    let p = &runs[0].model;
    let direction = autodiff::check::random_direction(p, 1);
    let t_f = mean_time(&|| {
        std::hint::black_box(loss(std::hint::black_box(p), &x_train, &y_train, LAMBDA));
    });
    let t_g = mean_time(&|| {
        std::hint::black_box(loss_grad(
            std::hint::black_box(p),
            &x_train,
            &y_train,
            LAMBDA,
        ));
    });
    let t_h = mean_time(&|| {
        std::hint::black_box(loss_hvp(
            std::hint::black_box(p),
            &x_train,
            &y_train,
            LAMBDA,
            &direction,
        ));
    });
    println!(
        "\none pass over the training set: loss {:.1} µs, gradient {:.1} µs ({:.1}× the loss), \
         Hessian-vector product {:.1} µs ({:.1}×)",
        t_f * 1e6,
        t_g * 1e6,
        t_g / t_f,
        t_h * 1e6,
        t_h / t_f
    );
    let (newton, adam) = (&runs[0], &runs[1]);
    if newton.reached && adam.reached {
        println!(
            "\nto the target: Newton-CG in {} steps and {:.1} ms, Adam in {} steps and {:.1} ms \
             (Adam / Newton-CG wall time {:.1})",
            newton.iterations,
            newton.seconds * 1e3,
            adam.iterations,
            adam.seconds * 1e3,
            adam.seconds / newton.seconds
        );
    }
    assert!(
        newton.reached,
        "Newton-CG must reach the target gradient norm"
    );
}
