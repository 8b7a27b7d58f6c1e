//! Workload 2: a long straight-line scalar function (128 operations over 10 inputs), generated
//! by `gen_straight.py` into `straight_gen.rs`. Our forward pass keeps its intermediates in
//! locals captured by the pullback closure, so `size_of_val(&pullback)` is all it stores.

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::check::random_direction;
use easy_ml::differentiation::WengertList;

use super::alloc::heap_kept_by;
use super::straight_gen::{
    OPS, POINT, straight, straight_grad, straight_hand, straight_jvp, straight_tape, straight_vjp,
};
use super::{
    Case, Method, RTOL_EXACT, RTOL_FD, Stored, assert_close, central_fd, check_tangent, runner,
};

type Grad10 = (f64, f64, f64, f64, f64, f64, f64, f64, f64, f64);

fn to_array(g: Grad10) -> [f64; 10] {
    [g.0, g.1, g.2, g.3, g.4, g.5, g.6, g.7, g.8, g.9]
}

#[inline(always)]
fn call(x: [f64; 10]) -> f64 {
    straight(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9])
}

#[inline(always)]
fn call_grad(x: [f64; 10]) -> (f64, Grad10) {
    straight_grad(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9])
}

#[inline(always)]
fn call_jvp(x: [f64; 10], v: [f64; 10]) -> (f64, f64) {
    straight_jvp(
        x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], v[0], v[1], v[2], v[3], v[4],
        v[5], v[6], v[7], v[8], v[9],
    )
}

#[inline(always)]
fn call_hand(x: [f64; 10]) -> (f64, Grad10) {
    straight_hand(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9])
}

pub fn cases() -> Vec<Case> {
    let name = format!("straight-line {OPS} ops, 10 inputs");
    let x = POINT;
    let list = WengertList::new();
    let (yh, gh) = call_hand(x);
    let gh = to_array(gh);
    let (yo, go) = call_grad(x);
    let (yt, gt) = straight_tape(&list, x);
    let (yf, gf) = central_fd(call, x);
    assert_close(&name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(&name, "value (tape)", &[yt], &[yh], RTOL_EXACT);
    assert_close(&name, "value (function)", &[yf], &[yh], RTOL_EXACT);
    assert_close(&name, "ours", &to_array(go), &gh, RTOL_EXACT);
    assert_close(&name, "tape", &gt, &gh, RTOL_EXACT);
    assert_close(&name, "finite differences", &gf, &gh, RTOL_FD);
    let v = random_direction(&x, 1);
    let (yj, tj) = call_jvp(x, v);
    assert_close(&name, "value (jvp)", &[yj], &[yh], RTOL_EXACT);
    check_tangent(&name, tj, &gh, &v);
    vec![Case {
        name,
        params: 10,
        fd_scale: 1.0,
        ops: Some(OPS),
        runners: vec![
            (Method::Function, runner(move || call(black_box(x)))),
            (Method::Ours, runner(move || call_grad(black_box(x)))),
            (Method::Hand, runner(move || call_hand(black_box(x)))),
            (
                Method::FiniteDiff,
                runner(move || central_fd(call, black_box(x))),
            ),
            (
                Method::Tape,
                runner(move || straight_tape(&list, black_box(x))),
            ),
            (Method::Jvp, runner(move || call_jvp(black_box(x), v))),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| {
                straight_vjp(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9])
            });
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }]
}
