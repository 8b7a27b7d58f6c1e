//! Integer state carried beside the floats: bit masks walked by rotation. Each function is
//! checked against its analytic derivative (stated beside it) and central finite differences.
//!
//! `w = w.rotate_left(1) & 15` of an integer `w` was taken for a slice's rotation in place
//! (which returns `()`): the gradient's value and derivative read a mask rotated in place and
//! then replaced by `Default::default()`, silently wrong. A change that returns nothing has no
//! value to use, so a `rotate_left` or `rotate_right` whose value is used is the integer types'
//! method, run as written; `v.rotate_left(1);` of a `Vec` is followed as before.

use autodiff::check::hvpcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// `s(a) = a² · Σ_t (w_t & 3)` over four steps of `w_{t+1} = rotl(w_t, 1) & 15`, `w_0 = m`:
/// with `c = Σ_t (w_t & 3)`, `∂s/∂a = 2ac` and `∂²s/∂a² = 2c`.
#[differentiate(hessian)]
fn rotating_mask(a: f64, m: u32) -> f64 {
    let mut acc = 0.0;
    let mut w = m;
    for _ in 0..4 {
        acc += a * a * ((w & 3) as f64);
        w = w.rotate_left(1) & 15;
    }
    acc
}

/// The count `c` of `rotating_mask`, by hand.
fn mask_count(m: u32) -> f64 {
    let mut w = m;
    let mut c = 0;
    for _ in 0..4 {
        c += w & 3;
        w = ((w << 1) | (w >> 31)) & 15;
    }
    c as f64
}

#[test]
fn an_integer_rotated_in_a_loop_is_its_value() {
    for m in [0u32, 1, 3, 5, 6, 9] {
        let a = 0.7;
        let c = mask_count(m);
        let (v, g) = rotating_mask_grad(a, m);
        assert_eq!(v, rotating_mask(a, m), "value at m = {m}");
        close("∂s/∂a", g, 2.0 * a * c, TOL);
        fd("∂s/∂a", |a| rotating_mask(a, m), a, g);
        let (jv, t) = rotating_mask_jvp(a, m, 1.0);
        assert_eq!(jv, v);
        close("jvp", t, 2.0 * a * c, TOL);
        let (_, _, hv) = rotating_mask_hvp(a, m, 1.0);
        close("∂²s/∂a²", hv, 2.0 * c, TOL);
        let r = hvpcheck(|a: &f64| rotating_mask_grad(*a, m).1, &a, &1.0, &hv);
        assert!(r.passed(), "{r}");
    }
}

/// A rotation bound by `let` and given as an operand, the mask changed after:
/// `s(x) = x · w' + x² · (rotr(m, 1) mod 7)` with `w' = m ^ 2`, so
/// `∂s/∂x = w' + 2x · (rotr(m, 1) mod 7)`. Beside it, a `Vec` rotated in place in a branch's
/// tail, followed as a permutation: `v = rotl(x)` or `rotr(x)`, `t = 2v₀ + v₁v₂`.
#[differentiate]
fn rotated_operand(x: f64, m: u32) -> f64 {
    let mut w: u32 = m;
    let r = w.rotate_right(1);
    w ^= 2;
    x * (w as f64) + x * x * ((r % 7) as f64)
}

#[differentiate]
fn rotated_vec(x: &[f64], k: usize) -> f64 {
    let mut v = x.to_vec();
    if k > 1 {
        v.rotate_left(1)
    } else {
        v.rotate_right(1)
    }
    v[0] * 2.0 + v[1] * v[2]
}

#[test]
fn a_rotation_whose_value_is_used_is_the_integers() {
    for m in [0u32, 1, 3, 12] {
        let x = -0.4;
        let (wp, r) = ((m ^ 2) as f64, (m.rotate_right(1) % 7) as f64);
        let (v, g) = rotated_operand_grad(x, m);
        assert_eq!(v, rotated_operand(x, m));
        close("∂s/∂x", g, wp + 2.0 * x * r, TOL);
        fd("∂s/∂x", |x| rotated_operand(x, m), x, g);
    }
    let x = [0.3, -1.2, 0.8];
    for k in [0usize, 3] {
        let (v, g) = rotated_vec_grad(&x, k);
        assert_eq!(v, rotated_vec(&x, k));
        // rotl: v = (x₁, x₂, x₀), t = 2x₁ + x₂x₀; rotr: v = (x₂, x₀, x₁), t = 2x₂ + x₀x₁.
        let expected = if k > 1 {
            [x[2], 2.0, x[0]]
        } else {
            [x[1], x[0], 2.0]
        };
        close_all("∂t/∂x", &g, &expected);
        fd_vec("∂t/∂x", |x| rotated_vec(x, k), &x, &g);
    }
}
