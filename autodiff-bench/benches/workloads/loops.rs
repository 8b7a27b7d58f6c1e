//! Workload 2b: loop-heavy scalar objectives over data: two active scalars `a`, `b` and the data
//! as inactive `&[f64]` parameters, indexed `xs[i]` in a `for i in 0..xs.len()` loop.
//!
//! - `logistic`: the logistic loss `Σᵢ ln(1 + exp(−yᵢ·(a·xᵢ + b)))`, labels `yᵢ = ±1`;
//! - `expfit`: the least-squares fit of an exponential decay, `Σᵢ (yᵢ − a·exp(−b·xᵢ))²`;
//! - `rosen`: a Rosenbrock-like sum, `Σᵢ (1 − uᵢ)² + 100·(b·yᵢ − uᵢ²)²` with `uᵢ = a·xᵢ`:
//!   arithmetic only, so the per-operation overhead of a tape is not hidden behind `exp`/`ln`.
//!
//! The hand-written gradients are what a careful person writes for two parameters: one forward
//! loop that accumulates value and gradient together and stores nothing. They keep the source's
//! loop shape (`for i in 0..xs.len()`, `xs[i]`), so bounds checks are the same as in the function.

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::check::random_direction;
use autodiff::differentiate;
use easy_ml::differentiation::record_operations::SwappedOperations;
use easy_ml::differentiation::{Record, WengertList};
use easy_ml::numeric::extra::{Exp, Ln};

use super::alloc::heap_kept_by;
use super::{
    Case, Method, RTOL_EXACT, RTOL_FD, Rng, Stored, assert_close, central_fd, check_tangent, runner,
};

#[differentiate(wrt(a, b))]
pub fn logistic(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        s += (1.0 + (-ys[i] * z).exp()).ln();
    }
    s
}

/// `∂/∂z ln(1 + e^{−yz}) = −y·e^{−yz} / (1 + e^{−yz})`, then `∂z/∂a = x`, `∂z/∂b = 1`.
#[inline]
pub fn logistic_hand(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (f64, (f64, f64)) {
    let mut s = 0.0;
    let (mut ga, mut gb) = (0.0, 0.0);
    for i in 0..xs.len() {
        let y = ys[i];
        let e = (-y * (a * xs[i] + b)).exp();
        let u = 1.0 + e;
        s += u.ln();
        let dz = -y * e / u;
        ga += dz * xs[i];
        gb += dz;
    }
    (s, (ga, gb))
}

pub fn logistic_tape(
    list: &WengertList<f64>,
    a: f64,
    b: f64,
    xs: &[f64],
    ys: &[f64],
) -> (f64, (f64, f64)) {
    list.clear();
    let ar = Record::variable(a, list);
    let br = Record::variable(b, list);
    let mut s = Record::constant(0.0);
    for i in 0..xs.len() {
        let z = ar * xs[i] + br;
        s = s + ((z * -ys[i]).exp() + 1.0).ln();
    }
    let d = s.derivatives();
    (s.number, (d[&ar], d[&br]))
}

#[differentiate(wrt(a, b))]
pub fn expfit(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = ys[i] - a * (-b * xs[i]).exp();
        s += r * r;
    }
    s
}

/// With `e = exp(−b·x)` and `r = y − a·e`: `∂r²/∂a = −2r·e`, `∂r²/∂b = 2r·a·e·x`.
#[inline]
pub fn expfit_hand(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (f64, (f64, f64)) {
    let mut s = 0.0;
    let (mut ga, mut gb) = (0.0, 0.0);
    for i in 0..xs.len() {
        let e = (-b * xs[i]).exp();
        let r = ys[i] - a * e;
        s += r * r;
        let t = 2.0 * r * e;
        ga -= t;
        gb += t * a * xs[i];
    }
    (s, (ga, gb))
}

pub fn expfit_tape(
    list: &WengertList<f64>,
    a: f64,
    b: f64,
    xs: &[f64],
    ys: &[f64],
) -> (f64, (f64, f64)) {
    list.clear();
    let ar = Record::variable(a, list);
    let br = Record::variable(b, list);
    let mut s = Record::constant(0.0);
    for i in 0..xs.len() {
        let r = (ar * (br * -xs[i]).exp()).sub_swapped(ys[i]);
        s = s + r * r;
    }
    let d = s.derivatives();
    (s.number, (d[&ar], d[&br]))
}

#[differentiate(wrt(a, b))]
pub fn rosen(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let u = a * xs[i];
        let p = 1.0 - u;
        let q = b * ys[i] - u * u;
        s += p * p + 100.0 * (q * q);
    }
    s
}

/// `∂/∂u = −2p − 400·q·u`, `∂/∂(b·y) = 200·q`; then `∂u/∂a = x`, `∂(b·y)/∂b = y`.
#[inline]
pub fn rosen_hand(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (f64, (f64, f64)) {
    let mut s = 0.0;
    let (mut ga, mut gb) = (0.0, 0.0);
    for i in 0..xs.len() {
        let u = a * xs[i];
        let p = 1.0 - u;
        let q = b * ys[i] - u * u;
        s += p * p + 100.0 * (q * q);
        ga += (-2.0 * p - 400.0 * q * u) * xs[i];
        gb += 200.0 * q * ys[i];
    }
    (s, (ga, gb))
}

pub fn rosen_tape(
    list: &WengertList<f64>,
    a: f64,
    b: f64,
    xs: &[f64],
    ys: &[f64],
) -> (f64, (f64, f64)) {
    list.clear();
    let ar = Record::variable(a, list);
    let br = Record::variable(b, list);
    let mut s = Record::constant(0.0);
    for i in 0..xs.len() {
        let u = ar * xs[i];
        let p = u.sub_swapped(1.0);
        let q = br * ys[i] - u * u;
        s = s + (p * p + (q * q) * 100.0);
    }
    let d = s.derivatives();
    (s.number, (d[&ar], d[&br]))
}

pub fn cases() -> Vec<Case> {
    vec![
        logistic_case(1_000),
        logistic_case(100_000),
        expfit_case(1_000),
        rosen_case(1_000),
        rosen_case(100_000),
    ]
}

/// Separable-ish data with label noise, evaluated away from the optimum.
pub(super) fn logistic_data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(7);
    let xs: Vec<f64> = (0..n).map(|_| 2.0 * rng.normal()).collect();
    let ys = xs
        .iter()
        .map(|&x| {
            if 1.5 * x - 0.4 + rng.normal() > 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    (xs, ys)
}

fn rosen_data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(13);
    let xs = (0..n).map(|_| rng.range(0.5, 1.5)).collect();
    let ys = (0..n).map(|_| rng.range(0.5, 1.5)).collect();
    (xs, ys)
}

fn expfit_data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(11);
    let xs: Vec<f64> = (0..n).map(|_| rng.range(0.0, 4.0)).collect();
    let ys = xs
        .iter()
        .map(|&x| 2.0 * (-0.7 * x).exp() + 0.05 * rng.normal())
        .collect();
    (xs, ys)
}

/// Measures what `<f>_vjp` stores at `(a, b, xs, ys)`.
pub(super) type StoredProbe = Box<dyn Fn(f64, f64, &[f64], &[f64]) -> Stored>;

/// One case of a two-parameter objective over `(xs, ys)`. Generic over the functions (each fn
/// item is its own zero-sized type), so the runners call them directly, as user code would.
#[allow(clippy::too_many_arguments)]
pub(super) fn two_param_case(
    name: String,
    (a, b): (f64, f64),
    (xs, ys): (Vec<f64>, Vec<f64>),
    ops: usize,
    f: impl Fn(f64, f64, &[f64], &[f64]) -> f64 + Copy + 'static,
    ours: impl Fn(f64, f64, &[f64], &[f64]) -> (f64, (f64, f64)) + Copy + 'static,
    jvp: impl Fn(f64, f64, &[f64], &[f64], f64, f64) -> (f64, f64) + Copy + 'static,
    hand: impl Fn(f64, f64, &[f64], &[f64]) -> (f64, (f64, f64)) + Copy + 'static,
    tape: impl Fn(&WengertList<f64>, f64, f64, &[f64], &[f64]) -> (f64, (f64, f64)) + Copy + 'static,
    stored: StoredProbe,
) -> Case {
    let list = WengertList::new();
    let (yh, (ha, hb)) = hand(a, b, &xs, &ys);
    let (yo, (oa, ob)) = ours(a, b, &xs, &ys);
    let (yt, (ta, tb)) = tape(&list, a, b, &xs, &ys);
    let (yf, gf) = central_fd(|p| f(p[0], p[1], &xs, &ys), [a, b]);
    assert_close(&name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(&name, "value (tape)", &[yt], &[yh], RTOL_EXACT);
    assert_close(&name, "value (function)", &[yf], &[yh], RTOL_EXACT);
    assert_close(&name, "ours", &[oa, ob], &[ha, hb], RTOL_EXACT);
    assert_close(&name, "tape", &[ta, tb], &[ha, hb], RTOL_EXACT);
    assert_close(&name, "finite differences", &gf, &[ha, hb], RTOL_FD);
    let (da, db) = random_direction(&(a, b), 1);
    let (yj, tj) = jvp(a, b, &xs, &ys, da, db);
    assert_close(&name, "value (jvp)", &[yj], &[yh], RTOL_EXACT);
    check_tangent(&name, tj, &[ha, hb], &[da, db]);
    let n = xs.len();
    let data = || (xs.clone(), ys.clone());
    let runners: Vec<(Method, super::Runner)> = vec![
        (Method::Function, {
            let (xs, ys) = data();
            runner(move || f(black_box(a), black_box(b), &xs, &ys))
        }),
        (Method::Ours, {
            let (xs, ys) = data();
            runner(move || ours(black_box(a), black_box(b), &xs, &ys))
        }),
        (Method::Hand, {
            let (xs, ys) = data();
            runner(move || hand(black_box(a), black_box(b), &xs, &ys))
        }),
        (Method::FiniteDiff, {
            let (xs, ys) = data();
            runner(move || central_fd(|p| f(p[0], p[1], &xs, &ys), [black_box(a), black_box(b)]))
        }),
        (Method::Tape, {
            let (xs, ys) = data();
            runner(move || tape(&list, black_box(a), black_box(b), &xs, &ys))
        }),
        (Method::Jvp, {
            let (xs, ys) = data();
            runner(move || jvp(black_box(a), black_box(b), &xs, &ys, da, db))
        }),
    ];
    Case {
        name,
        params: 2,
        fd_scale: 1.0,
        ops: Some(ops * n),
        runners,
        stored: Some(Box::new(move || stored(a, b, &xs, &ys))),
    }
}

fn logistic_case(n: usize) -> Case {
    two_param_case(
        format!("logistic loss n={n}"),
        (0.5, -0.3),
        logistic_data(n),
        8,
        logistic,
        logistic_grad,
        logistic_jvp,
        logistic_hand,
        logistic_tape,
        Box::new(|a, b, xs, ys| {
            let ((_, pb), heap) = heap_kept_by(|| logistic_vjp(a, b, xs, ys));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        }),
    )
}

fn expfit_case(n: usize) -> Case {
    two_param_case(
        format!("exp-decay least squares n={n}"),
        (1.5, 0.5),
        expfit_data(n),
        7,
        expfit,
        expfit_grad,
        expfit_jvp,
        expfit_hand,
        expfit_tape,
        Box::new(|a, b, xs, ys| {
            let ((_, pb), heap) = heap_kept_by(|| expfit_vjp(a, b, xs, ys));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        }),
    )
}

fn rosen_case(n: usize) -> Case {
    two_param_case(
        format!("rosenbrock-like n={n}"),
        (0.8, 1.2),
        rosen_data(n),
        10,
        rosen,
        rosen_grad,
        rosen_jvp,
        rosen_hand,
        rosen_tape,
        Box::new(|a, b, xs, ys| {
            let ((_, pb), heap) = heap_kept_by(|| rosen_vjp(a, b, xs, ys));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        }),
    )
}
