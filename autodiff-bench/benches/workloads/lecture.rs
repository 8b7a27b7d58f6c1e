//! Workload 1: the lecture's two scalar examples, `10·log(1 + exp(−2x))` and
//! `sin(x₁) + x₁·x₂`. Tiny functions: what is measured here is mostly per-call overhead, which
//! generated code must not add.

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
    vec![softplus_case(), sin_mul_case()]
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
