//! A loop's accumulator started from an untyped literal (`let mut acc = 0.0;`) and updated by
//! `acc = acc * 0.5 + s`, where `s` is of a type only rustc knows: a tuple's or a struct's
//! field, a helper's result, a constant named in lower case, `sin_cos`'s values in `f32` code.
//! The literal has the float type the signature names, so a float method on the accumulator
//! after the loop compiles (it was E0689, "ambiguous numeric type `{float}`", or a mix of `f32`
//! and `f64` in code without an `f64`).
//!
//! Each gradient is checked against central finite differences through `autodiff::check`.

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
fn acc_of_tuple_field(u: (f64, f64)) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        acc = acc * 0.5 + u.0;
    }
    acc.ln_1p()
}

#[differentiate]
fn acc_of_struct_field(p: &V2) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        acc = acc * 0.5 + p.x * p.y;
    }
    acc.ln_1p()
}

/// A `loop` whose value is carried out by `break s`.
#[differentiate]
fn loop_value_of_tuple(x: (f64, f64)) -> f64 {
    let mut s = 1.5;
    let mut k = 0;
    let r = loop {
        s = 0.5 * s + x.1;
        k += 1;
        if k >= 4 {
            break s;
        }
    };
    r.sin()
}

#[differentiate]
fn h(a: f64) -> f64 {
    a.sin() * a
}

#[differentiate]
fn acc_of_helper(x: f64) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        acc = acc * 0.5 + h(x);
    }
    acc.sin()
}

#[allow(non_upper_case_globals)]
const k_decay: f64 = 0.37;

#[differentiate]
fn acc_of_lowercase_const(x: f64) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        acc = acc * 0.5 + k_decay * x;
    }
    acc.sin()
}

#[differentiate]
fn acc_of_sin_cos_f32(x: f32, y: f32) -> f32 {
    let (s, _c) = x.sin_cos();
    let mut acc = 1.0;
    for _ in 0..3 {
        acc = acc * 0.5 + y * s;
    }
    2.0 * acc
}

#[test]
fn accumulators_started_from_literals_have_the_signatures_float_type() {
    let u = (0.4, 9.0);
    let (y, g) = acc_of_tuple_field_grad(u);
    assert_eq!(y, acc_of_tuple_field(u));
    assert!(
        (g.0 - 1.75 / (1.0 + 0.7)).abs() < 1e-15 && g.1 == 0.0,
        "{g:?}"
    );
    let p = V2 { x: 0.5, y: 0.8 };
    let (y, g) = acc_of_struct_field_grad(&p);
    assert_eq!(y, acc_of_struct_field(&p));
    let r = gradcheck(|p: &V2| acc_of_struct_field(p), &p, &g);
    assert!(r.passed(), "{r}");
    let (y, g) = loop_value_of_tuple_grad((0.1, 0.3));
    assert_eq!(y, loop_value_of_tuple((0.1, 0.3)));
    let r = gradcheck(|x: &(f64, f64)| loop_value_of_tuple(*x), &(0.1, 0.3), &g);
    assert!(r.passed(), "{r}");
    let (y, g) = acc_of_helper_grad(0.7);
    assert_eq!(y, acc_of_helper(0.7));
    let r = gradcheck(|x: &f64| acc_of_helper(*x), &0.7, &g);
    assert!(r.passed(), "{r}");
    let (y, g) = acc_of_lowercase_const_grad(1.3);
    assert_eq!(y, acc_of_lowercase_const(1.3));
    assert!((g - 1.75 * k_decay * (1.75 * k_decay * 1.3f64).cos()).abs() < 1e-15);
    let (y, (gx, gy)) = acc_of_sin_cos_f32_grad(0.6, 0.8);
    assert_eq!(y, acc_of_sin_cos_f32(0.6, 0.8));
    assert!((gx - 3.5 * 0.8 * 0.6f32.cos()).abs() < 1e-6);
    assert!((gy - 3.5 * 0.6f32.sin()).abs() < 1e-6);
}

#[differentiate]
fn half<T: num_traits::Float>(u: T) -> T {
    u * T::from(0.5).unwrap()
}

/// A function that computes in both float types leaves such a literal to rustc: the fold over
/// `f32` values starts from an `f32` zero in an `f64` function.
#[differentiate]
fn mixed_precision_fold(x: f64) -> f64 {
    let ys: Vec<f32> = vec![(x as f32).tanh(), 2.0];
    let s = ys.iter().map(|&e| half(e)).fold(0.0, |s, e| s + e) as f64;
    x * s
}

#[test]
fn a_function_in_both_float_types_leaves_literals_to_rustc() {
    let (y, g) = mixed_precision_fold_grad(0.5);
    assert_eq!(y, mixed_precision_fold(0.5));
    // x·s with s = (tanh x + 2) / 2 computed in f32: s + x·sech²(x)/2.
    let s = ((0.5f32.tanh() + 2.0) * 0.5) as f64;
    let expected = s + 0.5 * (1.0 - 0.5f64.tanh().powi(2)) * 0.5;
    assert!((g - expected).abs() < 1e-6, "{g} {expected}");
}
