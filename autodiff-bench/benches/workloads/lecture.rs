//! Workload 1: the lecture's two scalar examples, `10·log(1 + exp(−2x))` and
//! `sin(x₁) + x₁·x₂`. Tiny functions: what is measured here is mostly per-call overhead, which
//! generated code must not add. A third case is scalar code full of kinks, the lecture's ReLU
//! identity f₄ per element, for the exact mode at kinks.

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::check::random_direction;
use autodiff::differentiate;
use easy_ml::differentiation::{Record, WengertList};
use easy_ml::numeric::extra::{Exp, Ln, Sin};

use super::alloc::heap_kept_by;
use super::{
    Case, Method, RTOL_EXACT, RTOL_FD, Stored, assert_close, central_fd, check_tangent, runner,
};

#[differentiate]
pub fn softplus(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// [`softplus`] in exact mode at kinks: it has none, so what it costs is the mode's overhead.
#[differentiate(kinks = exact)]
pub fn softplus_exact(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// Hand-written: `d/dx 10·ln(1 + e^{−2x}) = −20·e^{−2x} / (1 + e^{−2x})`, reusing `e^{−2x}`.
#[inline]
pub fn softplus_hand(x: f64) -> (f64, f64) {
    let e = (-2.0 * x).exp();
    let u = 1.0 + e;
    (10.0 * u.ln(), -20.0 * e / u)
}

/// The tape: one `Record` per operation on a reused `WengertList`, then its backward sweep.
pub fn softplus_tape(list: &WengertList<f64>, x: f64) -> (f64, f64) {
    list.clear();
    let xr = Record::variable(x, list);
    let y = ((xr * -2.0).exp() + 1.0).ln() * 10.0;
    let d = y.derivatives();
    (y.number, d[&xr])
}

#[differentiate]
pub fn sin_mul(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

#[differentiate(kinks = exact)]
pub fn sin_mul_exact(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

/// Hand-written: `∂/∂x₁ = cos x₁ + x₂`, `∂/∂x₂ = x₁`.
#[inline]
pub fn sin_mul_hand(x1: f64, x2: f64) -> (f64, (f64, f64)) {
    let (s, c) = x1.sin_cos();
    (s + x1 * x2, (c + x2, x1))
}

pub fn sin_mul_tape(list: &WengertList<f64>, x1: f64, x2: f64) -> (f64, (f64, f64)) {
    list.clear();
    let a = Record::variable(x1, list);
    let b = Record::variable(x2, list);
    let y = a.sin() + a * b;
    let d = y.derivatives();
    (y.number, (d[&a], d[&b]))
}

pub fn cases() -> Vec<Case> {
    vec![softplus_case(), sin_mul_case(), relu_identity_case()]
}

/// The lecture's f₄(x) = ReLU(ReLU(x)) − ReLU(−x) = x elementwise, weighted, plus a kink of
/// `abs` per element: Σᵢ wᵢ·f₄(xᵢ) + |xᵢ − ½|. Five kinks per element.
#[differentiate(wrt(x))]
pub fn relu_identity(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let f4 = x[i].max(0.0).max(0.0) - (-x[i]).max(0.0);
        s += w[i] * f4 + (x[i] - 0.5).abs();
    }
    s
}

#[differentiate(wrt(x), kinks = exact)]
pub fn relu_identity_exact(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let f4 = x[i].max(0.0).max(0.0) - (-x[i]).max(0.0);
        s += w[i] * f4 + (x[i] - 0.5).abs();
    }
    s
}

/// Hand-written: `∂/∂xᵢ = wᵢ + sign(xᵢ − ½)` away from the kinks.
pub fn relu_identity_hand(x: &[f64], w: &[f64]) -> (f64, Vec<f64>) {
    let mut s = 0.0;
    let mut g = Vec::with_capacity(x.len());
    for (&x, &w) in x.iter().zip(w) {
        s += w * x + (x - 0.5).abs();
        g.push(w + if x > 0.5 { 1.0 } else { -1.0 });
    }
    (s, g)
}

fn relu_identity_case() -> Case {
    let n = 64;
    let name = format!("lecture ReLU identity f4, n={n}");
    let mut rng = super::Rng::new(4);
    let x: Vec<f64> = (0..n).map(|_| rng.range(-2.0, 2.0)).collect();
    let w: Vec<f64> = (0..n).map(|_| rng.range(-1.0, 1.0)).collect();
    let (yh, gh) = relu_identity_hand(&x, &w);
    let (yo, go) = relu_identity_grad(&x, &w);
    let (ye, ge) = relu_identity_exact_grad(&x, &w);
    assert_close(&name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(&name, "ours", &go, &gh, RTOL_EXACT);
    assert_close(&name, "value (exact at kinks)", &[ye], &[yh], RTOL_EXACT);
    assert_close(&name, "exact at kinks", &ge, &gh, RTOL_EXACT);
    let (x1, w1) = (x.clone(), w.clone());
    let (x2, w2) = (x.clone(), w.clone());
    let (x3, w3) = (x.clone(), w.clone());
    let (x4, w4) = (x.clone(), w.clone());
    Case {
        name,
        params: n,
        fd_scale: 1.0,
        ops: None,
        runners: vec![
            (
                Method::Function,
                runner(move || relu_identity(black_box(&x1), black_box(&w1))),
            ),
            (
                Method::Ours,
                runner(move || relu_identity_grad(black_box(&x2), black_box(&w2))),
            ),
            (
                Method::Hand,
                runner(move || relu_identity_hand(black_box(&x3), black_box(&w3))),
            ),
            (
                Method::Exact,
                runner(move || relu_identity_exact_grad(black_box(&x4), black_box(&w4))),
            ),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| relu_identity_vjp(&x, &w));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }
}

fn softplus_case() -> Case {
    let name = "lecture 10·ln(1+e^-2x)";
    let x = 0.3;
    let list = WengertList::new();
    let (yh, gh) = softplus_hand(x);
    let (yo, go) = softplus_grad(x);
    let (yt, gt) = softplus_tape(&list, x);
    let (yf, gf) = central_fd(|p| softplus(p[0]), [x]);
    assert_close(name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(name, "value (tape)", &[yt], &[yh], RTOL_EXACT);
    assert_close(name, "value (function)", &[yf], &[yh], RTOL_EXACT);
    assert_close(name, "ours", &[go], &[gh], RTOL_EXACT);
    assert_close(name, "tape", &[gt], &[gh], RTOL_EXACT);
    assert_close(name, "finite differences", &gf, &[gh], RTOL_FD);
    let (ye, ge) = softplus_exact_grad(x);
    assert_close(name, "exact at kinks", &[ye, ge], &[yh, gh], RTOL_EXACT);
    let dx = random_direction(&x, 1);
    let (yj, tj) = softplus_jvp(x, dx);
    assert_close(name, "value (jvp)", &[yj], &[yh], RTOL_EXACT);
    check_tangent(name, tj, &[gh], &[dx]);
    Case {
        name: name.into(),
        params: 1,
        fd_scale: 1.0,
        ops: Some(5),
        runners: vec![
            (Method::Function, runner(move || softplus(black_box(x)))),
            (Method::Ours, runner(move || softplus_grad(black_box(x)))),
            (Method::Hand, runner(move || softplus_hand(black_box(x)))),
            (
                Method::FiniteDiff,
                runner(move || central_fd(|p| softplus(p[0]), [black_box(x)])),
            ),
            (
                Method::Tape,
                runner(move || softplus_tape(&list, black_box(x))),
            ),
            (
                Method::Jvp,
                runner(move || softplus_jvp(black_box(x), black_box(dx))),
            ),
            (
                Method::Exact,
                runner(move || softplus_exact_grad(black_box(x))),
            ),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| softplus_vjp(x));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }
}

fn sin_mul_case() -> Case {
    let name = "lecture sin(x1)+x1·x2";
    let (x1, x2) = (1.1, -0.7);
    let list = WengertList::new();
    let (yh, (h1, h2)) = sin_mul_hand(x1, x2);
    let (yo, (o1, o2)) = sin_mul_grad(x1, x2);
    let (yt, (t1, t2)) = sin_mul_tape(&list, x1, x2);
    let (_, gf) = central_fd(|p| sin_mul(p[0], p[1]), [x1, x2]);
    assert_close(name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(name, "value (tape)", &[yt], &[yh], RTOL_EXACT);
    assert_close(name, "ours", &[o1, o2], &[h1, h2], RTOL_EXACT);
    assert_close(name, "tape", &[t1, t2], &[h1, h2], RTOL_EXACT);
    assert_close(name, "finite differences", &gf, &[h1, h2], RTOL_FD);
    let (ye, (e1, e2)) = sin_mul_exact_grad(x1, x2);
    assert_close(
        name,
        "exact at kinks",
        &[ye, e1, e2],
        &[yh, h1, h2],
        RTOL_EXACT,
    );
    let (d1, d2) = random_direction(&(x1, x2), 1);
    let (yj, tj) = sin_mul_jvp(x1, x2, d1, d2);
    assert_close(name, "value (jvp)", &[yj], &[yh], RTOL_EXACT);
    check_tangent(name, tj, &[h1, h2], &[d1, d2]);
    Case {
        name: name.into(),
        params: 2,
        fd_scale: 1.0,
        ops: Some(3),
        runners: vec![
            (
                Method::Function,
                runner(move || sin_mul(black_box(x1), black_box(x2))),
            ),
            (
                Method::Ours,
                runner(move || sin_mul_grad(black_box(x1), black_box(x2))),
            ),
            (
                Method::Hand,
                runner(move || sin_mul_hand(black_box(x1), black_box(x2))),
            ),
            (
                Method::FiniteDiff,
                runner(move || central_fd(|p| sin_mul(p[0], p[1]), [black_box(x1), black_box(x2)])),
            ),
            (
                Method::Tape,
                runner(move || sin_mul_tape(&list, black_box(x1), black_box(x2))),
            ),
            (
                Method::Jvp,
                runner(move || sin_mul_jvp(black_box(x1), black_box(x2), d1, d2)),
            ),
            (
                Method::Exact,
                runner(move || sin_mul_exact_grad(black_box(x1), black_box(x2))),
            ),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| sin_mul_vjp(x1, x2));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }
}
