//! `%` of plain floats: `x % m = x − m·q` with `q = (x/m).trunc()`, the remainder with the sign
//! of `x`. Between the jumps (where `x` crosses a multiple of `m`), `∂/∂x = 1` and `∂/∂m = −q`.
//! The value is the operator's own, bit for bit.

use autodiff::differentiate;
use std::f64::consts::PI;

fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// An angle wrapped to `[−π, π)` for `θ·w + π ≥ 0` (the remainder keeps the sign of the
/// dividend), a remainder of a parameter by a literal, and `%=`.
#[differentiate]
pub fn wrapped(theta: f64, w: f64) -> f64 {
    let a = (theta * w + PI) % (2.0 * PI) - PI;
    let b = theta % 0.7;
    let mut c = w * 3.1;
    c %= 1.3;
    a * a + b * w + c
}

#[test]
fn gradient_of_remainders() {
    for &(t, w) in &[(1.3, 2.1), (-4.1, 0.7), (7.9, -1.6), (-0.35, 5.5)] {
        let (y, (gt, gw)) = wrapped_grad(t, w);
        assert_eq!(y.to_bits(), wrapped(t, w).to_bits());
        // ∂/∂θ: 2a·w (through θ·w) + w (through θ % 0.7); ∂/∂w: 2a·θ + b + 3.1.
        let a = (t * w + PI) % (2.0 * PI) - PI;
        let b = t % 0.7;
        assert!((gt - (2.0 * a * w + w)).abs() < 1e-12, "{gt}");
        assert!((gw - (2.0 * a * t + b + 3.1)).abs() < 1e-12, "{gw}");
        assert!((gt - central(|s| wrapped(s, w), t)).abs() < 1e-6);
        assert!((gw - central(|s| wrapped(t, s), w)).abs() < 1e-6);
    }
}

/// The divisor differentiated: `∂(x % m)/∂m = −(x/m).trunc()`, also with a literal dividend.
#[differentiate]
pub fn by_divisor(x: f64, m: f64) -> f64 {
    x % m + 10.0 % m
}

#[test]
fn derivative_in_the_divisor() {
    for &(x, m) in &[(5.3, 2.3), (-1.3, 0.45), (7.5, -2.3), (-3.7, -1.5)] {
        let (_, (gx, gm)) = by_divisor_grad(x, m);
        assert_eq!(gx, 1.0);
        let want = -(x / m).trunc() - (10.0 / m).trunc();
        assert!((gm - want).abs() < 1e-12, "{gm} {want}");
        assert!((gm - central(|s| by_divisor(x, s), m)).abs() < 1e-6);
    }
}

/// A dividend close to a multiple: `0.5 % 0.1` is `0.0999…` (four tenths fit, as `0.1` is a
/// little more than a tenth in binary), while `0.5 / 0.1` rounds to `5.0`. The generated value
/// is the operator's, and the quotient read for the derivative is the one the operator used (4,
/// not `(0.5 / 0.1).trunc() = 5`).
#[test]
fn value_and_quotient_at_a_near_multiple() {
    let (y, (gx, gm)) = by_divisor_grad(0.5, 0.1);
    assert_eq!(y.to_bits(), by_divisor(0.5, 0.1).to_bits());
    assert!(0.5f64 % 0.1 > 0.09);
    assert_eq!(gx, 1.0);
    let q10 = ((10.0 - 10.0f64 % 0.1) / 0.1).round();
    assert_eq!(gm, -4.0 - q10);
}

/// An oscillator's phase kept in `[0, 1)` by `%` in a loop, with an integer `%` beside it.
#[differentiate(wrt(freq))]
pub fn oscillator(freq: f64, dt: f64, n: usize) -> f64 {
    let mut phase = 0.0;
    let mut out = 0.0;
    for i in 0..n {
        phase = (phase + freq * dt) % 1.0;
        let sign = if i % 3 == 0 { 1.0 } else { -0.5 };
        out += sign * (2.0 * PI * phase).sin();
    }
    out
}

#[test]
fn phase_accumulation() {
    let (_, g) = oscillator_grad(3.7, 0.013, 40);
    let fd = central(|f| oscillator(f, 0.013, 40), 3.7);
    assert!((g - fd).abs() < 1e-5 * (1.0 + fd.abs()), "{g} {fd}");
    let (_, t) = oscillator_jvp(3.7, 0.013, 40, 1.0);
    assert!((t - g).abs() < 1e-12 * (1.0 + g.abs()), "{t} {g}");
}

/// `f32`, and forward over reverse.
#[differentiate(hessian)]
pub fn second_order(x: f64, m: f64) -> f64 {
    let r = (x * x) % m;
    r * r + (x % 0.9) * m
}

#[test]
fn hessian_of_remainders() {
    let (x, m) = (1.7, 1.1);
    let (_, (gx, gm)) = second_order_grad(x, m);
    let h = 1e-5;
    for (k, d) in [(1.0, 0.0), (0.0, 1.0), (0.6, -0.8)]
        .into_iter()
        .enumerate()
    {
        let (_, _, (hx, hm)) = second_order_hvp(x, m, d.0, d.1);
        let (_, (px, pm)) = second_order_grad(x + h * d.0, m + h * d.1);
        let (_, (qx, qm)) = second_order_grad(x - h * d.0, m - h * d.1);
        let (fx, fm) = ((px - qx) / (2.0 * h), (pm - qm) / (2.0 * h));
        assert!((hx - fx).abs() < 1e-5 * (1.0 + fx.abs()), "{k}: {hx} {fx}");
        assert!((hm - fm).abs() < 1e-5 * (1.0 + fm.abs()), "{k}: {hm} {fm}");
    }
    // The gradient: r = x² % m, ∂/∂x = 2r·2x + m, ∂/∂m = 2r·(−q) + x % 0.9.
    let r = (x * x) % m;
    let q = ((x * x) / m).trunc();
    assert!((gx - (4.0 * r * x + m)).abs() < 1e-12);
    assert!((gm - (-2.0 * r * q + x % 0.9)).abs() < 1e-12);
}

#[differentiate]
pub fn single(x: f32, p: f32) -> f32 {
    (x * 3.0) % p + x
}

#[test]
fn remainder_of_f32() {
    let (y, (gx, gp)) = single_grad(1.9, 0.8);
    assert_eq!(y.to_bits(), single(1.9, 0.8).to_bits());
    assert_eq!(gx, 4.0);
    assert_eq!(gp, -((1.9f32 * 3.0) / 0.8).trunc());
}

/// Exact mode at kinks: the remainder's rule beside a kink that exact mode decides.
#[differentiate(kinks = exact)]
pub fn beside_a_kink(x: f64, m: f64) -> f64 {
    let r = (x * 2.0) % m;
    r.max(0.3) * m
}

#[test]
fn remainder_in_exact_mode() {
    let (x, m) = (1.3, 0.9);
    let (_, (gx, gm)) = beside_a_kink_grad(x, m);
    // r = 2x % m = 0.8 > 0.3: ∂/∂x = 2m, ∂/∂m = −q·m + r with q = (2x/m).trunc().
    let r = (2.0 * x) % m;
    assert!(r > 0.3);
    assert!((gx - 2.0 * m).abs() < 1e-12, "{gx}");
    assert!(
        (gm - (-((2.0 * x) / m).trunc() * m + r)).abs() < 1e-12,
        "{gm}"
    );
}

/// A field of a parameter struct (its type unseen, a float by its arithmetic with `t`).
#[derive(Clone, Debug, autodiff::Differentiable)]
pub struct Osc {
    pub phase: f64,
    pub freq: f64,
}

#[differentiate]
impl Osc {
    pub fn value(&self, t: f64) -> f64 {
        let p = (self.phase + self.freq * t) % 1.0;
        (2.0 * PI * p).sin()
    }
}

#[test]
fn remainder_of_fields() {
    let o = Osc {
        phase: 0.3,
        freq: 2.7,
    };
    let t = 1.3;
    // p = (φ + f·t) % 1, value = sin 2πp: ∂/∂φ = 2π cos 2πp, ∂/∂f = 2π t cos 2πp.
    let p = (o.phase + o.freq * t) % 1.0;
    let c = 2.0 * PI * (2.0 * PI * p).cos();
    let (_, (g, _)) = o.value_grad(t);
    assert!((g.phase - c).abs() < 1e-12, "{}", g.phase);
    assert!((g.freq - c * t).abs() < 1e-12, "{}", g.freq);
}

#[differentiate]
fn period(x: f64) -> f64 {
    1.5 + x * x
}

/// Operands of a type the macro does not see: a call's result beside a literal, and beside a
/// float; a field alone beside a literal.
#[differentiate]
pub fn of_calls(x: f64, m: f64) -> f64 {
    (period(x) % 1.0) + (period(x) % m) + x % period(0.5 * x)
}

#[test]
fn remainder_of_calls() {
    for &(x, m) in &[(0.7, 0.9), (1.9, 1.3), (-1.1, 0.8)] {
        let (y, (gx, gm)) = of_calls_grad(x, m);
        assert_eq!(y.to_bits(), of_calls(x, m).to_bits());
        let p = period(x);
        let p2 = period(0.5 * x);
        // ∂/∂x: 2x (through the first), 2x (the second), 1 − (x/p2).trunc()·x/2 (the third);
        // ∂/∂m: −(p/m).trunc().
        let q2 = ((x - x % p2) / p2).round();
        let want_x = 2.0 * x + 2.0 * x + 1.0 - q2 * 0.5 * x;
        let want_m = -((p - p % m) / m).round();
        assert!((gx - want_x).abs() < 1e-12, "{gx} {want_x}");
        assert!((gm - want_m).abs() < 1e-12, "{gm} {want_m}");
        assert!((gx - central(|s| of_calls(s, m), x)).abs() < 1e-5);
        assert!((gm - central(|s| of_calls(x, s), m)).abs() < 1e-5);
    }
}

#[differentiate]
impl Osc {
    pub fn phase_alone(&self) -> f64 {
        self.phase % 1.0
    }
}

#[test]
fn remainder_of_a_field_alone() {
    let o = Osc {
        phase: 2.3,
        freq: 1.0,
    };
    let (v, g) = o.phase_alone_grad();
    assert_eq!(v.to_bits(), (2.3f64 % 1.0).to_bits());
    assert_eq!((g.phase, g.freq), (1.0, 0.0));
}

/// An ndarray array by a float, elementwise: `∂/∂aᵢ = 1`, `∂/∂m = −Σᵢ qᵢ`.
#[differentiate]
pub fn of_an_array(a: &ndarray::Array1<f64>, m: f64) -> f64 {
    let r = a % m;
    (&r * &r).sum() + (a % 2.0).sum()
}

#[test]
fn remainder_of_an_array() {
    let a = ndarray::Array1::from(vec![0.5, 2.5, -3.1, 4.4]);
    let m = 1.3;
    let (y, (ga, gm)) = of_an_array_grad(&a, m);
    assert_eq!(y.to_bits(), of_an_array(&a, m).to_bits());
    for (i, &x) in a.iter().enumerate() {
        let r = x % m;
        assert!((ga[i] - (2.0 * r + 1.0)).abs() < 1e-12, "{i}: {}", ga[i]);
    }
    let want_m: f64 = a
        .iter()
        .map(|&x| -2.0 * (x % m) * ((x - x % m) / m).round())
        .sum();
    assert!((gm - want_m).abs() < 1e-12, "{gm} {want_m}");
    assert!((gm - central(|s| of_an_array(&a, s), m)).abs() < 1e-5);
}

/// In closures (the item by reference, `x % 0.7` of `x: &f64`; by value; in a fold), and in a
/// checkpointed loop, whose iterations run again in the pullback.
#[differentiate]
pub fn in_closures(xs: &[f64], p: f64) -> f64 {
    xs.iter().map(|x| (x * p) % 1.0).sum::<f64>()
        + xs.iter().map(|&x| x % p).sum::<f64>()
        + xs.iter().fold(0.0, |acc, x| acc + x % 0.7)
}

#[differentiate(checkpoint(snapshots = 4))]
pub fn checkpointed_phase(p: f64, n: usize) -> f64 {
    let mut phase = 0.0;
    let mut out = 0.0;
    for _ in 0..n {
        phase = (phase + p) % 1.0;
        out += phase * phase;
    }
    out
}

#[test]
fn remainders_in_closures_and_checkpointed_loops() {
    let xs = [0.3, 1.7, -2.2, 4.1];
    let p = 1.3;
    let (_, (gx, gp)) = in_closures_grad(&xs, p);
    // ∂/∂p = Σ xᵢ − Σ (xᵢ/p).trunc(); ∂/∂xᵢ = p + 1 + 1.
    let want_p: f64 = xs.iter().map(|&x| x - ((x - x % p) / p).round()).sum();
    assert!((gp - want_p).abs() < 1e-12, "{gp} {want_p}");
    assert!(gx.iter().all(|&g| (g - (p + 2.0)).abs() < 1e-12), "{gx:?}");
    assert!((gp - central(|s| in_closures(&xs, s), p)).abs() < 1e-5);
    let (_, g) = checkpointed_phase_grad(0.37, 20);
    let fd = central(|s| checkpointed_phase(s, 20), 0.37);
    assert!((g - fd).abs() < 1e-4 * (1.0 + fd.abs()), "{g} {fd}");
}

/// A remainder of a remainder, and of a field's remainder: the first one's type decides the
/// second's in the same pass.
#[differentiate]
pub fn nested(x: f64, m: f64) -> f64 {
    (x % 2.0) % m + (x * 3.0 % m) % 0.5
}

#[test]
fn nested_remainders() {
    for &(x, m) in &[(3.3, 0.7), (-2.7, 1.1)] {
        let (y, (gx, gm)) = nested_grad(x, m);
        assert_eq!(y.to_bits(), nested(x, m).to_bits());
        assert!((gx - central(|s| nested(s, m), x)).abs() < 1e-5, "{gx}");
        assert!((gm - central(|s| nested(x, s), m)).abs() < 1e-5, "{gm}");
        // ∂/∂x = 1 + 3; ∂/∂m = −q₁ − q₂ of the two remainders by m.
        let (a, b) = (x % 2.0, x * 3.0);
        let want_m = -((a - a % m) / m).round() - ((b - b % m) / m).round();
        assert_eq!((gx, gm), (4.0, want_m));
    }
}
