//! Rules whose derivative is infinite at a point — `asin` and `acos` at ±1, `acosh` at 1,
//! `powf` with an exponent below 1 at 0 — applied to a constant sitting at that point beside
//! differentiated values (`[1.0, x / 2]` mapped through `asin`). The constant's tangent is 0,
//! and so is the tangent of its image: `_jvp` and `_hvp` are finite (they were 0·∞ = NaN). At
//! the point itself a non-zero tangent keeps the true infinite derivative.

use autodiff::differentiate;

mod common;
use common::*;

/// asin 1 + asin(x/2): f' = ½/√(1 − x²/4).
#[differentiate(hessian)]
fn asin_with_constant(x: f64) -> f64 {
    let ys = [1.0, x * 0.5];
    ys.iter().map(|y| y.asin()).sum::<f64>()
}

/// acos 1 + acos(−1) + acos(x/2): f' = −½/√(1 − x²/4).
#[differentiate(hessian)]
fn acos_with_constants(x: f64) -> f64 {
    let ys = [1.0, -1.0, x * 0.5];
    ys.iter().map(|y| y.acos()).sum::<f64>()
}

/// acosh 1 + acosh(1 + x²): f' = 2x/√((1 + x²)² − 1).
#[differentiate(hessian)]
fn acosh_with_constant(x: f64) -> f64 {
    let ys = [1.0, 1.0 + x * x];
    ys.iter().map(|y| y.acosh()).sum::<f64>()
}

/// 0^0.3 + (x²)^0.3: f' = 0.6·x^(−0.4)·sign… for x > 0, 0.6·x^(−0.4).
#[differentiate(hessian)]
fn powf_with_constant(x: f64) -> f64 {
    let ys = vec![0.0, x * x];
    ys.iter().map(|y| y.powf(0.3)).sum::<f64>()
}

/// asin x itself, at x = 1.
#[differentiate(hessian)]
fn arcsine(x: f64) -> f64 {
    x.asin()
}

fn check(
    what: &str,
    x: f64,
    f: fn(f64) -> f64,
    grad: fn(f64) -> (f64, f64),
    jvp: fn(f64, f64) -> (f64, f64),
    hvp: fn(f64, f64) -> (f64, f64, f64),
    d1: f64,
) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x), "{what}: value");
    close(&format!("{what}: f'"), g, d1, 1e-12);
    fd(&format!("{what}: f'"), f, x, g);
    let (_, t) = jvp(x, 0.7);
    close(&format!("{what}: jvp"), t, 0.7 * d1, 1e-12);
    let (_, gh, hv) = hvp(x, 0.7);
    close(&format!("{what}: hvp's gradient"), gh, d1, 1e-12);
    // The second derivative by central differences of the gradient.
    let h = 1e-5;
    let d2 = (grad(x + h).1 - grad(x - h).1) / (2.0 * h);
    close(&format!("{what}: hvp"), hv, 0.7 * d2, 1e-6);
}

#[test]
fn a_constant_at_an_infinite_slope_has_a_zero_tangent() {
    let x: f64 = 0.6;
    let s = (1.0 - x * x / 4.0).sqrt();
    check(
        "asin",
        x,
        asin_with_constant,
        asin_with_constant_grad,
        asin_with_constant_jvp,
        asin_with_constant_hvp,
        0.5 / s,
    );
    check(
        "acos",
        x,
        acos_with_constants,
        acos_with_constants_grad,
        acos_with_constants_jvp,
        acos_with_constants_hvp,
        -0.5 / s,
    );
    let u = 1.0 + x * x;
    check(
        "acosh",
        x,
        acosh_with_constant,
        acosh_with_constant_grad,
        acosh_with_constant_jvp,
        acosh_with_constant_hvp,
        2.0 * x / (u * u - 1.0).sqrt(),
    );
    check(
        "powf",
        x,
        powf_with_constant,
        powf_with_constant_grad,
        powf_with_constant_jvp,
        powf_with_constant_hvp,
        0.6 * x.powf(-0.4),
    );
}

#[test]
fn at_the_point_itself_a_non_zero_tangent_is_infinite() {
    assert_eq!(arcsine_grad(1.0).1, f64::INFINITY, "d/dx asin x at 1");
    assert_eq!(arcsine_jvp(1.0, 1.0).1, f64::INFINITY, "along 1");
    assert_eq!(arcsine_jvp(1.0, 0.0).1, 0.0, "along 0");
    assert_eq!(
        arcsine_grad(0.5).1,
        1.0 / 0.75f64.sqrt(),
        "d/dx asin x at ½"
    );
}

// A zero cotangent or tangent times an infinite slope is 0, not NaN: a value computed before a
// branch and read only by the branch not taken (cosh overflowing, ln at 0), a clamped log (the
// `max(-100.0)` of binary cross-entropy at p = 0), and `max`/`min`/`clamp` whose losing argument
// gets nothing even where the cotangent is infinite (√ at 0 after the clamp).

/// Log-cosh with an overflow guard, `cosh x` computed before the branch.
#[differentiate]
fn logcosh_guarded(x: f64) -> f64 {
    let c = x.cosh();
    if c.is_finite() {
        c.ln()
    } else {
        x.abs() - 2f64.ln()
    }
}

/// `x·ln x` with the log computed before its guard.
#[differentiate]
fn x_log_x(x: f64) -> f64 {
    let l = x.ln();
    if x > 0.0 { x * l } else { 0.0 }
}

/// Binary cross-entropy with the log clamped at −100, as PyTorch's.
#[differentiate]
fn bce_clamped(p: f64, t: f64) -> f64 {
    -(t * p.ln().max(-100.0) + (1.0 - t) * (1.0 - p).ln().max(-100.0))
}

/// A clipped variance under a square root.
#[differentiate]
fn clipped_std(m1: f64, m2: f64) -> f64 {
    (m2 - m1 * m1).max(0.0).sqrt() + m1
}

#[differentiate]
fn clamped_then_cbrt(x: f64) -> f64 {
    (x - 1.0).clamp(0.0, 5.0).cbrt() + x
}

#[differentiate]
fn square_by_powf(x: f64) -> f64 {
    x.powf(2.0)
}

#[test]
fn zero_times_an_infinite_slope_is_zero() {
    assert_eq!(logcosh_guarded_grad(800.0).1, 1.0);
    assert_eq!(logcosh_guarded_jvp(800.0, 1.0).1, 1.0);
    assert_eq!(x_log_x_grad(0.0), (0.0, 0.0));
    // At p = 0, t = 0: −ln(1 − p), whose derivative is 1/(1 − p) = 1; ln p = −∞ is clamped.
    let (y, (gp, gt)) = bce_clamped_grad(0.0, 0.0);
    assert_eq!((y, gp), (0.0, 1.0));
    assert_eq!(gt, 100.0);
    assert_eq!(bce_clamped_jvp(0.0, 0.0, 1.0, 0.0), (0.0, 1.0));
    // A negative variance clipped to 0: the root's slope is +∞, the clip passes nothing.
    assert_eq!(clipped_std_grad(1.0, 0.5), (1.0, (1.0, 0.0)));
    assert_eq!(clipped_std_jvp(1.0, 0.5, 1.0, 1.0), (1.0, 1.0));
    assert_eq!(clamped_then_cbrt_grad(0.5), (0.5, 1.0));
    // The exponent is a constant: its zero tangent times ln(x) (NaN for x < 0) is 0.
    assert_eq!(square_by_powf_jvp(-1.5, 1.0), (2.25, -3.0));
    assert_eq!(square_by_powf_grad(-1.5), (2.25, -3.0));
}

// Products and quotients computed before a branch and read only by the branch not taken, with
// an infinite or NaN factor there: their zero cotangent times that factor is 0, as `_jvp` has it.

/// A log-likelihood term rejected when it is not finite: `x.ln()` is −∞ at `x = 0`.
#[differentiate(wrt(shape))]
fn guarded_term(shape: f64, x: f64) -> f64 {
    let t = shape * x.ln();
    if t.is_finite() { t } else { -1e300 }
}

/// The same inside a likelihood's loop, the product passed on through a difference, the
/// rejection an early return.
#[differentiate(wrt(shape))]
fn gamma_like(shape: f64, xs: &[f64]) -> f64 {
    let mut ll = 0.0;
    for &x in xs {
        let term = (shape - 1.0) * x.ln() - x;
        if !term.is_finite() {
            return f64::NEG_INFINITY;
        }
        ll += term;
    }
    ll
}

/// A ratio guarded by its denominator.
#[differentiate]
fn ratio_guard(num: f64, den: f64) -> f64 {
    let q = num / den;
    if den != 0.0 { q } else { 0.0 }
}

/// A ray–sphere hit distance that computes the near root before testing the discriminant: a
/// miss takes the root of a negative number, NaN.
#[differentiate]
fn ray_hit(a: f64, half_b: f64, c: f64) -> f64 {
    let disc = half_b * half_b - a * c;
    let sq = disc.sqrt();
    let t_near = (-half_b - sq) / a;
    if disc < 0.0 {
        return 1e3;
    }
    t_near
}

#[test]
fn a_product_read_only_by_the_branch_not_taken() {
    assert_eq!(guarded_term_grad(2.0, 0.0), (-1e300, 0.0));
    assert_eq!(guarded_term_jvp(2.0, 0.0, 1.0), (-1e300, 0.0));
    assert_eq!(
        guarded_term_grad(2.0, 1.5),
        (2.0 * 1.5f64.ln(), 1.5f64.ln())
    );
    assert_eq!(
        gamma_like_grad(3.0, &[1.5, 0.0, 2.0]),
        (f64::NEG_INFINITY, 0.0)
    );
    let (y, g) = gamma_like_grad(3.0, &[1.5, 2.0]);
    assert_eq!(y, gamma_like(3.0, &[1.5, 2.0]));
    assert!((g - (1.5f64.ln() + 2f64.ln())).abs() < 1e-15);
    assert_eq!(ratio_guard_grad(2.0, 0.0), (0.0, (0.0, 0.0)));
    assert_eq!(ratio_guard_grad(2.0, 4.0), (0.5, (0.25, -0.125)));
    assert_eq!(ray_hit_grad(1.0, 1.0, 2.0), (1e3, (0.0, 0.0, 0.0)));
    assert_eq!(ray_hit_jvp(1.0, 1.0, 2.0, 1.0, 1.0, 1.0), (1e3, 0.0));
    // A hit: t = −b − √(b² − ac) with a = 1, b = 2, c = 3: ∂t/∂c = a/(2√disc) = 0.5.
    let (t, (_, _, gc)) = ray_hit_grad(1.0, 2.0, 3.0);
    assert_eq!((t, gc), (-3.0, 0.5));
}

/// A ray–box slab test: an axis-parallel ray's slab distances are ±∞ (`1.0 / 0.0`), which
/// `max` and `min` drop; their zero cotangents times `1/d` stay 0.
#[differentiate]
fn ray_aabb(o: [f64; 3], d: [f64; 3], lo: [f64; 3], hi: [f64; 3]) -> f64 {
    let mut t_near = f64::NEG_INFINITY;
    let mut t_far = f64::INFINITY;
    for k in 0..3 {
        let inv = 1.0 / d[k];
        let t1 = (lo[k] - o[k]) * inv;
        let t2 = (hi[k] - o[k]) * inv;
        t_near = t_near.max(t1.min(t2));
        t_far = t_far.min(t1.max(t2));
    }
    if t_near <= t_far && t_far > 0.0 {
        t_near
    } else {
        -1.0
    }
}

/// A floored log-density term whose log is NaN below the shift: `max` drops the NaN.
#[differentiate(wrt(shape, floor))]
fn floored_term(shape: f64, floor: f64, x: f64, shift: f64) -> f64 {
    let t = shape * (x - shift).ln();
    t.max(floor)
}

#[test]
fn a_product_that_max_or_min_drops() {
    let (o, d) = ([0.0, 0.2, -0.3], [1.0, 0.0, 0.0]);
    let (lo, hi) = ([1.0, -1.0, -1.0], [2.0, 1.0, 1.0]);
    let (t, (go, gd, glo, ghi)) = ray_aabb_grad(o, d, lo, hi);
    // t = (lo.x − o.x) / d.x.
    assert_eq!(t, 1.0);
    assert_eq!((go, gd), ([-1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]));
    assert_eq!((glo, ghi), ([1.0, 0.0, 0.0], [0.0; 3]));
    assert_eq!(floored_term_grad(2.0, -7.0, 0.5, 1.0), (-7.0, (0.0, 1.0)));
    assert_eq!(floored_term_jvp(2.0, -7.0, 0.5, 1.0, 0.0, 1.0), (-7.0, 1.0));
}

#[derive(Clone, Copy, Debug, autodiff::Differentiable)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

/// `powf` with a constant exponent at a negative base, read through a field (the rules' trait
/// path): its second derivative in the exponent's direction is `ln x`, NaN, times the
/// exponent's zero tangent, which is 0.
#[differentiate(hessian)]
fn square_of_field(p: &Pt) -> f64 {
    p.x.powf(2.0) + p.y
}

#[differentiate(hessian)]
fn cube_of_tuple(t: (f64, f64)) -> f64 {
    t.0.powf(3.0) + t.1
}

#[test]
fn powf_of_a_negative_base_has_a_finite_second_derivative() {
    let (y, g, hv) = square_of_field_hvp(&Pt { x: -0.9, y: 0.0 }, &Pt { x: 1.0, y: 0.0 });
    assert_eq!((y, g.x, hv.x, hv.y), (0.81, -1.8, 2.0, 0.0));
    let (_, g, hv) = cube_of_tuple_hvp((-0.5, 1.0), (1.0, 0.0));
    assert_eq!((g.0, hv.0, hv.1), (0.75, -3.0, 0.0));
}

/// A float method's value read only by the branch not taken, where a partial is infinite: the
/// fused `a·ln x + 1` and `hypot(a, ln x)` at `x = 0`, `atan2` of `ln 0`, and `eᵃˣ` that
/// overflows. Their zero cotangents give 0, in every mode.
#[differentiate(hessian)]
fn fused_guard(a: f64, x: f64) -> f64 {
    let t = a.mul_add(x.ln(), 1.0);
    if x > 0.0 { t } else { 0.0 }
}

#[differentiate(hessian)]
fn hypot_guard(a: f64, x: f64) -> f64 {
    let t = a.hypot(x.ln());
    if x > 0.0 { t } else { 0.0 }
}

#[differentiate(hessian)]
fn atan2_guard(a: f64, x: f64) -> f64 {
    let t = a.atan2(x.ln());
    if x > 0.0 { t * a } else { a }
}

#[differentiate(hessian)]
fn exp_overflow_guard(a: f64, x: f64) -> f64 {
    let e = (a * x).exp();
    if x < 100.0 { e } else { a }
}

#[test]
fn a_float_method_read_only_by_the_branch_not_taken() {
    let zero = (0.0, 0.0);
    assert_eq!(fused_guard_grad(2.0, 0.0), (0.0, zero));
    assert_eq!(fused_guard_jvp(2.0, 0.0, 1.0, 1.0), zero);
    assert_eq!(fused_guard_hvp(2.0, 0.0, 1.0, 1.0), (0.0, zero, zero));
    assert_eq!(hypot_guard_grad(2.0, 0.0), (0.0, zero));
    assert_eq!(hypot_guard_hvp(2.0, 0.0, 1.0, 1.0), (0.0, zero, zero));
    assert_eq!(atan2_guard_grad(2.0, 0.0), (2.0, (1.0, 0.0)));
    assert_eq!(atan2_guard_hvp(2.0, 0.0, 1.0, 1.0), (2.0, (1.0, 0.0), zero));
    assert_eq!(exp_overflow_guard_grad(20.0, 1000.0), (20.0, (1.0, 0.0)));
    assert_eq!(
        exp_overflow_guard_hvp(20.0, 1000.0, 1.0, 1.0),
        (20.0, (1.0, 0.0), zero)
    );
    // Where the branch is taken, the rules are the usual ones.
    let (y, (ga, gx)) = fused_guard_grad(2.0, 1.5);
    assert_eq!(y, 2.0f64.mul_add(1.5f64.ln(), 1.0));
    assert_eq!((ga, gx), (1.5f64.ln(), 2.0 / 1.5));
    let (y, (ga, gx)) = exp_overflow_guard_grad(0.5, 2.0);
    assert_eq!(y, 1f64.exp());
    assert_eq!((ga, gx), (2.0 * 1f64.exp(), 0.5 * 1f64.exp()));
    let (y, (ga, gx)) = hypot_guard_grad(3.0, 4f64.exp());
    assert!((y - 5.0).abs() < 1e-14);
    assert!((ga - 0.6).abs() < 1e-14 && (gx - 0.8 / 4f64.exp()).abs() < 1e-14);
}

// A dynamic-programming table with an infinite boundary (soft-DTW's `f64::INFINITY`, an
// alignment's `f64::NEG_INFINITY`) whose entries are divided by a temperature and read by `exp`:
// where an entry is infinite the quotient is too, `exp` gives exactly 0 and so does its
// cotangent, and the divisor's partial `−y/b` times that 0 was NaN (the temperature's gradient);
// in forward mode a temperature given as data has the tangent 0, and `0·∞` made every `_jvp`
// and `_hvp` through the table NaN.

/// Soft-DTW between two series, the table in a `Vec<Vec<f64>>` with an infinite boundary.
#[differentiate(hessian)]
fn soft_dtw(x: &[f64], y: &[f64], gamma: f64) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut r = vec![vec![f64::INFINITY; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let d = (x[i - 1] - y[j - 1]).powi(2);
            let (a, b, c) = (r[i - 1][j], r[i][j - 1], r[i - 1][j - 1]);
            let mn = a.min(b).min(c);
            let s =
                (-(a - mn) / gamma).exp() + (-(b - mn) / gamma).exp() + (-(c - mn) / gamma).exp();
            r[i][j] = d + mn - gamma * s.ln();
        }
    }
    r[n][m]
}

/// The same with the temperature as data.
#[differentiate(hessian, wrt(x))]
fn soft_dtw_in_x(x: &[f64], y: &[f64], gamma: f64) -> f64 {
    soft_dtw(x, y, gamma)
}

/// A smooth Needleman–Wunsch score: `NEG_INFINITY` boundary, the temperature differentiated.
#[differentiate]
fn smooth_alignment(sub: &[f64], tau: f64) -> f64 {
    let (n, m) = (3, 4);
    let mut h = vec![vec![f64::NEG_INFINITY; m + 1]; n + 1];
    h[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let c = [
                h[i - 1][j - 1] + sub[(i - 1) * m + j - 1],
                h[i - 1][j] - 1.0,
                h[i][j - 1] - 1.0,
            ];
            let mx = c[0].max(c[1]).max(c[2]);
            let s: f64 = c.iter().map(|&v| ((v - mx) / tau).exp()).sum();
            h[i][j] = mx + tau * s.ln();
        }
    }
    h[n][m]
}

/// A Hessian-vector product `hv` at `x` along `dx` against the central difference of the
/// gradient along `dx`.
#[track_caller]
fn hvp_by_differences(
    what: &str,
    grad: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    dx: &[f64],
    hv: &[f64],
) {
    let h = 1e-5;
    let at = |s: f64| -> Vec<f64> {
        let p: Vec<f64> = x.iter().zip(dx).map(|(a, d)| a + s * d).collect();
        grad(&p)
    };
    let (gp, gm) = (at(h), at(-h));
    for k in 0..x.len() {
        close(
            &format!("{what}[{k}]"),
            hv[k],
            (gp[k] - gm[k]) / (2.0 * h),
            1e-6,
        );
    }
}

#[test]
fn a_table_with_an_infinite_boundary_has_finite_derivatives() {
    let (x, y) = (data(3, 1.0), data(4, 2.0));
    let gamma = 0.5;
    let (v, (gx, gy, gg)) = soft_dtw_grad(&x, &y, gamma);
    assert_eq!(v, soft_dtw(&x, &y, gamma));
    let mut all = x.clone();
    all.extend(&y);
    all.push(gamma);
    let mut g = gx.clone();
    g.extend(&gy);
    g.push(gg);
    assert!(gg.is_finite(), "the temperature's gradient: {gg}");
    fd_vec("soft-DTW", |p| soft_dtw(&p[..3], &p[3..7], p[7]), &all, &g);
    // Forward mode with the temperature as data, and its Hessian-vector product.
    let dx = data(3, 3.0);
    let (vj, t) = soft_dtw_in_x_jvp(&x, &y, gamma, &dx);
    assert_eq!(vj, v);
    let along: f64 = gx.iter().zip(&dx).map(|(a, b)| a * b).sum();
    close("soft-DTW's jvp", t, along, 1e-12);
    let (_, gh, hv) = soft_dtw_in_x_hvp(&x, &y, gamma, &dx);
    close_all("soft-DTW's hvp gradient", &gh, &gx);
    hvp_by_differences(
        "soft-DTW's hvp",
        |p| soft_dtw_in_x_grad(p, &y, gamma).1,
        &x,
        &dx,
        &hv,
    );
    // Along a direction that also moves the temperature, by the gradient.
    let (_, t) = soft_dtw_jvp(&x, &y, gamma, &dx, &vec![0.0; 4], 0.0);
    close("soft-DTW's jvp in x only", t, along, 1e-12);

    let sub = data(12, 4.0);
    let (v, (gs, gt)) = smooth_alignment_grad(&sub, 0.5);
    assert_eq!(v, smooth_alignment(&sub, 0.5));
    assert!(gt.is_finite(), "the alignment's temperature gradient: {gt}");
    let mut all = sub.clone();
    all.push(0.5);
    let mut g = gs.clone();
    g.push(gt);
    fd_vec("alignment", |p| smooth_alignment(&p[..12], p[12]), &all, &g);
    let ds = data(12, 5.0);
    let (_, t) = smooth_alignment_jvp(&sub, 0.5, &ds, 0.0);
    let along: f64 = gs.iter().zip(&ds).map(|(a, b)| a * b).sum();
    close("alignment's jvp", t, along, 1e-12);
}

// The same table read through a product by an inverse temperature, `((v - mx) * inv_tau).exp()`:
// where an entry is −∞ the product is too, `exp` gives exactly 0 and so do its cotangent and,
// along a finite tangent, its tangent. The product's partial in `inv_tau` is the infinite entry:
// times that 0 it was NaN in `inv_tau`'s gradient, in `_jvp` and `_hvp` where `inv_tau` is
// data (its tangent 0), and, along a direction that moves `inv_tau`, `exp`'s `0·∞` was NaN.

/// Soft-DTW with an inverse temperature: `min_γ` as `mn − ln Σ e^{−(a − mn)·β} / β`.
#[differentiate(hessian)]
fn soft_dtw_beta(x: &[f64], y: &[f64], beta: f64) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut r = vec![vec![f64::INFINITY; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let d = (x[i - 1] - y[j - 1]).powi(2);
            let (a, b, c) = (r[i - 1][j], r[i][j - 1], r[i - 1][j - 1]);
            let mn = a.min(b).min(c);
            let s = ((mn - a) * beta).exp() + ((mn - b) * beta).exp() + (beta * (mn - c)).exp();
            r[i][j] = d + mn - s.ln() / beta;
        }
    }
    r[n][m]
}

/// The same with the inverse temperature as data.
#[differentiate(hessian, wrt(x))]
fn soft_dtw_beta_in_x(x: &[f64], y: &[f64], beta: f64) -> f64 {
    soft_dtw_beta(x, y, beta)
}

/// A ray's distance, `+∞` where it misses, read through saturating functions of a product by
/// a sharpness `k`: `tanh(k·t) + atan(k·t)` is `1 + π/2` at a miss whatever `k` and `b`, so
/// both partials are 0 there.
#[differentiate]
fn soft_hit(b: f64, k: f64) -> f64 {
    let t = if b > 0.0 { b.sqrt() } else { f64::INFINITY };
    (t * k).tanh() + (k * t).atan()
}

#[test]
fn a_product_by_an_inverse_temperature_at_an_infinite_entry() {
    let (x, y) = (data(3, 1.0), data(4, 2.0));
    let beta = 2.0;
    let (v, (gx, gy, gb)) = soft_dtw_beta_grad(&x, &y, beta);
    assert_eq!(v, soft_dtw_beta(&x, &y, beta));
    assert!(gb.is_finite(), "the inverse temperature's gradient: {gb}");
    let mut all = x.clone();
    all.extend(&y);
    all.push(beta);
    let mut g = gx.clone();
    g.extend(&gy);
    g.push(gb);
    fd_vec(
        "soft-DTW (β)",
        |p| soft_dtw_beta(&p[..3], &p[3..7], p[7]),
        &all,
        &g,
    );
    // `_jvp` with β as data, and along a direction that moves β: the gradient's projection.
    let (dx, dy) = (data(3, 3.0), data(4, 6.0));
    let (_, t) = soft_dtw_beta_in_x_jvp(&x, &y, beta, &dx);
    let along_x: f64 = gx.iter().zip(&dx).map(|(a, b)| a * b).sum();
    close("jvp, β as data", t, along_x, 1e-12);
    let (_, t) = soft_dtw_beta_jvp(&x, &y, beta, &dx, &dy, 0.3);
    let along_y: f64 = gy.iter().zip(&dy).map(|(a, b)| a * b).sum();
    close("jvp moving β", t, along_x + along_y + 0.3 * gb, 1e-12);
    // `_hvp` with β as data, against the difference of gradients.
    let (_, gh, hv) = soft_dtw_beta_in_x_hvp(&x, &y, beta, &dx);
    close_all("hvp's gradient", &gh, &gx);
    hvp_by_differences(
        "hvp (β)",
        |p| soft_dtw_beta_in_x_grad(p, &y, beta).1,
        &x,
        &dx,
        &hv,
    );

    let (v, (gb, gk)) = soft_hit_grad(-1.0, 2.0);
    close(
        "a miss's value",
        v,
        1.0 + std::f64::consts::FRAC_PI_2,
        1e-15,
    );
    assert_eq!((gb, gk), (0.0, 0.0));
    let (_, t) = soft_hit_jvp(-1.0, 2.0, 0.0, 1.0);
    assert_eq!(t, 0.0);
    // A hit: the plain rules, ∂/∂k = t·(1 − tanh²(kt) + 1/(1 + k²t²)) with t = √b = 0.7.
    let (_, (_, gk)) = soft_hit_grad(0.49, 2.0);
    let (kt, th) = (1.4f64, 1.4f64.tanh());
    close(
        "∂k at a hit",
        gk,
        0.7 * (1.0 - th * th + 1.0 / (1.0 + kt * kt)),
        1e-12,
    );
}
