//! Many supported constructs in one crate that must compile without a single warning.
#![deny(warnings)]

use autodiff::differentiate;
use std::f64::consts::PI;

const SCALE: f64 = 0.5;

#[differentiate]
fn lecture(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

#[differentiate]
fn straight(mut x: f64, y: f64, n: i32) -> f64 {
    let a: f64 = x.sin() * y.cos() + f64::exp(x) / (1.0 + y * y);
    x = x * 2.0 + a;
    let a = a.powi(n) + x.powf(1.5) + x.hypot(y) + x.atan2(y) + x.mul_add(y, a);
    let mut b = a.sqrt().ln_1p() - (-x).tanh();
    b += a;
    b -= 0.25 * y;
    b *= SCALE;
    b /= 1.0 + PI;
    let m = (n as f64) * b.max(a).min(10.0).clamp(-5.0, 5.0) + b.abs();
    m + x.cbrt() * y.recip()
}

#[differentiate]
fn control(x: f64, k: usize) -> f64 {
    let mut acc = 0.0;
    for i in 0..k {
        if i % 2 == 0 {
            acc += x * i as f64;
        } else if x > 1.0 {
            acc -= x.sqrt();
        } else {
            acc += x * x;
        }
    }
    for _ in (1..=2).rev() {
        acc = acc * 0.5 + x;
    }
    let mut t = x;
    while t < 10.0 {
        t = t * 2.0 + 0.1;
    }
    let mut steps = 0;
    loop {
        steps += 1;
        if steps == 2 {
            continue;
        }
        acc += t * 0.01;
        if steps > 3 {
            break;
        }
    }
    let w = match k {
        0 => 1.0,
        1 | 2 => x,
        _ => x * x,
    };
    if acc > 1e6 {
        return acc;
    }
    let y = {
        let z = acc + w;
        z * z
    };
    assert!(y.is_finite(), "y = {y}");
    y
}

#[differentiate]
fn pair(x: f64, y: f64) -> (f64, f64) {
    let p = (x * y, x + y);
    let (s, t) = p;
    (s.exp(), t * p.0)
}

#[differentiate(wrt(y))]
fn only_y(x: f64, y: f64) -> f64 {
    lecture(x * y) + straight(y, x, 2)
}

#[differentiate]
fn single(x: f32) -> f32 {
    (x * 3.0).sin() + x.exp2()
}

fn finite_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * (1.0 + a.abs().max(b.abs()))
}

fn main() {
    let (y, d) = lecture_grad(0.5);
    assert!(close(y, lecture(0.5)));
    assert!(close(d, finite_difference(lecture, 0.5)));

    let (y, (dx, dy)) = straight_grad(0.7, 0.3, 3);
    assert!(close(y, straight(0.7, 0.3, 3)));
    assert!(close(dx, finite_difference(|x| straight(x, 0.3, 3), 0.7)));
    assert!(close(dy, finite_difference(|y| straight(0.7, y, 3), 0.3)));

    for k in [0, 1, 2, 5] {
        for x in [0.5, 1.5] {
            let (y, d) = control_grad(x, k);
            assert!(close(y, control(x, k)));
            assert!(
                close(d, finite_difference(|x| control(x, k), x)),
                "k = {k}, x = {x}"
            );
        }
    }

    let (v, pullback) = pair_vjp(0.4, 0.6);
    assert_eq!(v, pair(0.4, 0.6));
    let (gx, gy) = pullback((1.0, 0.0));
    assert!(close(gx, finite_difference(|x| pair(x, 0.6).0, 0.4)));
    assert!(close(gy, finite_difference(|y| pair(0.4, y).0, 0.6)));

    let (_, d) = only_y_grad(0.2, 0.9);
    assert!(close(d, finite_difference(|y| only_y(0.2, y), 0.9)));

    let (y, d) = single_grad(0.25);
    assert_eq!(y, single(0.25));
    assert!((d - (3.0 * 0.75f32.cos() + 0.25f32.exp2() * std::f32::consts::LN_2)).abs() < 1e-5);
}
