//! Programs that users wrote and that failed inside generated code, and now work or are an
//! error that says what to write: a `#[differentiate(hessian)]` function calling a helper
//! differentiated without `hessian` (an error at the call that says to add `hessian`, in
//! `tests/ui/gaps12_hessian_calls_plain.rs`; here the same programs with `hessian` added, and
//! programs without `hessian` unaffected); a `Vec` pushed into a container and then replaced in
//! the loop that carries it (`rows.push(row); row = next;`); an array literal of an enum's
//! variants without `Default` (`[Mode::Keep, Mode::Damp(0.5)]`) matched in a loop.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use num_traits::Float;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A `hessian` function calling helpers: with `hessian` on each helper (what the error at a
//    helper without it says to add), over f64, f32, a generic float, a method and in a loop.
// ---------------------------------------------------------------------------------------------

/// x·sin x.
#[differentiate(hessian)]
fn bump(x: f64) -> f64 {
    x * x.sin()
}

/// x·sin x over any float.
#[differentiate(hessian)]
fn bump_generic<F: Float>(x: F) -> F {
    x * x.sin()
}

/// x·eˣ over f32.
#[differentiate(hessian)]
fn bump32(x: f32) -> f32 {
    x.exp() * x
}

struct Spring {
    k: f64,
}

#[differentiate(hessian, wrt(x))]
impl Spring {
    /// ½·k·x².
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

/// f = x·bump(x) = x²·sin x: f' = 2x·sin x + x²·cos x, f'' = 2·sin x + 4x·cos x − x²·sin x.
#[differentiate(hessian)]
fn uses_bump(x: f64) -> f64 {
    bump(x) * x
}

/// f = bump(x) + x = x·sin x + x: f' = sin x + x·cos x + 1, f'' = 2·cos x − x·sin x.
#[differentiate(hessian)]
fn uses_generic<F: Float>(x: F) -> F {
    bump_generic(x) + x
}

/// f = 2·x·eˣ: f' = 2(1 + x)eˣ, f'' = 2(2 + x)eˣ.
#[differentiate(hessian)]
fn uses_f32(x: f32) -> f32 {
    bump32(x) * 2.0
}

/// f = Σ_{k<3} ½·k_s·(k·x)² = ½·k_s·x²·(0 + 1 + 4): f' = 5·k_s·x, f'' = 5·k_s.
#[differentiate(hessian, wrt(x))]
fn uses_method(s: &Spring, x: f64) -> f64 {
    let mut total = 0.0;
    for k in 0..3 {
        total += s.energy(x * k as f64);
    }
    total
}

/// Without `hessian` anywhere, as before: f = x·bump_plain(x) = x²·sin x.
#[differentiate]
fn bump_plain(x: f64) -> f64 {
    x * x.sin()
}

#[differentiate]
fn uses_plain(x: f64) -> f64 {
    bump_plain(x) * x
}

#[test]
fn hessian_calls_helpers_with_hessian() {
    for &x in &[0.3, -1.2, 2.0] {
        let (d1, d2) = (
            2.0 * x * x.sin() + x * x * x.cos(),
            2.0 * x.sin() + 4.0 * x * x.cos() - x * x * x.sin(),
        );
        let (y, g) = uses_bump_grad(x);
        close("x²·sin x", y, x * x * x.sin(), TOL);
        close("x²·sin x: grad", g, d1, TOL);
        fd("x²·sin x", uses_bump, x, g);
        let (_, g2, hv) = uses_bump_hvp(x, 0.5);
        close("x²·sin x: hvp's gradient", g2, d1, TOL);
        close("x²·sin x: hvp", hv, 0.5 * d2, TOL);
        let (_, t) = uses_bump_jvp(x, 0.5);
        close("x²·sin x: jvp", t, 0.5 * d1, TOL);
        forward("x²·sin x").one(x, uses_bump, uses_bump_jvp, uses_bump_vjp);

        let (d1, d2) = (x.sin() + x * x.cos() + 1.0, 2.0 * x.cos() - x * x.sin());
        let (_, g) = uses_generic_grad(x);
        close("x·sin x + x: grad", g, d1, TOL);
        fd("x·sin x + x", uses_generic, x, g);
        let (_, _, hv) = uses_generic_hvp(x, 1.0);
        close("x·sin x + x: hvp", hv, d2, TOL);
        let (_, t) = uses_generic_jvp(x, 2.0);
        close("x·sin x + x: jvp", t, 2.0 * d1, TOL);

        let s = Spring { k: 1.5 };
        let (y, g) = uses_method_grad(&s, x);
        close("springs", y, 2.5 * 1.5 * x * x, TOL);
        close("springs: grad", g, 5.0 * 1.5 * x, TOL);
        fd("springs", |x| uses_method(&s, x), x, g);
        let (_, _, hv) = uses_method_hvp(&s, x, 0.25);
        close("springs: hvp", hv, 0.25 * 5.0 * 1.5, TOL);
        let (_, t) = uses_method_jvp(&s, x, 0.25);
        close("springs: jvp", t, 0.25 * 5.0 * 1.5 * x, TOL);

        let (_, g) = uses_plain_grad(x);
        close(
            "x²·sin x without hessian: grad",
            g,
            2.0 * x * x.sin() + x * x * x.cos(),
            TOL,
        );
        fd("x²·sin x without hessian", uses_plain, x, g);
    }
    for &x in &[0.3f32, -1.2, 1.0] {
        let (d1, d2) = (2.0 * (1.0 + x) * x.exp(), 2.0 * (2.0 + x) * x.exp());
        let (_, g) = uses_f32_grad(x);
        assert!(
            (g - d1).abs() <= 1e-5 * d1.abs().max(1.0),
            "2x·eˣ: {g} against {d1}"
        );
        fd32("2x·eˣ", uses_f32, x, g);
        let (_, _, hv) = uses_f32_hvp(x, 1.0);
        assert!(
            (hv - d2).abs() <= 1e-5 * d2.abs().max(1.0),
            "2x·eˣ: hvp {hv} against {d2}"
        );
        let (_, t) = uses_generic_jvp(x, 1.0f32);
        let e = x.sin() + x * x.cos() + 1.0;
        assert!(
            (t - e).abs() <= 1e-5,
            "x·sin x + x over f32: jvp {t} against {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A `Vec` pushed into a container and then replaced in the loop that carries it: the pushed
//    row keeps its value.
// ---------------------------------------------------------------------------------------------

/// rows = [x, x², x⁴] (elementwise), the last row x⁸:
/// f = Σᵢ (xᵢ + xᵢ² + xᵢ⁴) + x₀⁸, ∂f/∂xᵢ = 1 + 2xᵢ + 4xᵢ³ + [i = 0]·8x₀⁷.
#[differentiate]
fn squared_rows(x: &[f64]) -> f64 {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut row = x.to_vec();
    for _ in 0..3 {
        let next: Vec<f64> = row.iter().map(|v| v * v).collect();
        rows.push(row);
        row = next;
    }
    rows.iter().map(|r| r.iter().sum::<f64>()).sum::<f64>() + row[0]
}

/// The same over any float, the next row built by `push`.
#[differentiate]
fn squared_rows_generic<F: Float>(x: &[F]) -> F {
    let mut rows: Vec<Vec<F>> = Vec::new();
    let mut row = x.to_vec();
    for _ in 0..3 {
        let mut next = Vec::new();
        for i in 0..row.len() {
            next.push(row[i] * row[i]);
        }
        rows.push(row);
        row = next;
    }
    let mut total = F::zero();
    for r in rows.iter() {
        for &v in r.iter() {
            total = total + v;
        }
    }
    total + row[0]
}

/// Under `hessian`, rows scaled by a weight: rows = [x, w·x, w²·x] and the last row w³·x,
/// f = Σᵢ xᵢ·(1 + w + w²) + w³·x₀:
/// ∂f/∂xᵢ = 1 + w + w² + [i = 0]·w³, ∂f/∂w = Σᵢ xᵢ·(1 + 2w) + 3w²·x₀;
/// H: ∂²f/∂xᵢ∂w = 1 + 2w + [i = 0]·3w², ∂²f/∂w² = 2·Σᵢ xᵢ + 6w·x₀, ∂²f/∂xᵢ∂xⱼ = 0.
#[differentiate(hessian)]
fn scaled_rows(x: &[f64], w: f64) -> f64 {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut row = x.to_vec();
    for _ in 0..3 {
        let next: Vec<f64> = row.iter().map(|v| v * w).collect();
        rows.push(row);
        row = next;
    }
    let mut total = 0.0;
    for r in &rows {
        total += r.iter().sum::<f64>();
    }
    total + row[0]
}

fn squared_rows_expected(x: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = x.iter().map(|v| 1.0 + 2.0 * v + 4.0 * v.powi(3)).collect();
    g[0] += 8.0 * x[0].powi(7);
    g
}

#[test]
fn pushed_row_then_replaced() {
    let x = [0.7, -0.4, 1.1];
    let value: f64 = x.iter().map(|v| v + v * v + v.powi(4)).sum::<f64>() + x[0].powi(8);
    let (y, g) = squared_rows_grad(&x);
    close("rows of powers", y, value, TOL);
    close("rows of powers: plain", squared_rows(&x), value, TOL);
    close_all("rows of powers: grad", &g, &squared_rows_expected(&x));
    fd_vec("rows of powers", squared_rows, &x, &g);

    let (y, g) = squared_rows_generic_grad(&x);
    close("rows of powers, generic", y, value, TOL);
    close_all(
        "rows of powers, generic: grad",
        &g,
        &squared_rows_expected(&x),
    );
    fd_vec("rows of powers, generic", squared_rows_generic, &x, &g);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (_, g32) = squared_rows_generic_grad(&x32);
    for (a, e) in g32.iter().zip(squared_rows_expected(&x)) {
        assert!(
            (*a as f64 - e).abs() <= 1e-4 * e.abs().max(1.0),
            "f32: {a} against {e}"
        );
    }
    let r = gradcheck(|p: &Vec<f32>| squared_rows_generic(p), &x32, &g32);
    assert!(r.passed(), "rows of powers over f32: {r}");
}

#[test]
fn pushed_row_then_replaced_hessian() {
    let (x, w) = (vec![0.7, -0.4, 1.1], 0.8);
    let s: f64 = x.iter().sum();
    let (y, (gx, gw)) = scaled_rows_grad(&x, w);
    close(
        "scaled rows",
        y,
        s * (1.0 + w + w * w) + w.powi(3) * x[0],
        TOL,
    );
    let mut ex = vec![1.0 + w + w * w; 3];
    ex[0] += w.powi(3);
    close_all("scaled rows: ∂x", &gx, &ex);
    let ew = s * (1.0 + 2.0 * w) + 3.0 * w * w * x[0];
    close("scaled rows: ∂w", gw, ew, TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| scaled_rows(&p.0, p.1),
        &(x.clone(), w),
        &(gx, gw),
    );
    assert!(r.passed(), "scaled rows: {r}");
    // H·(vx, vw): x̄ = (1 + 2w + [i = 0]·3w²)·vw, w̄ = Σᵢ (1 + 2w + [i = 0]·3w²)·vxᵢ +
    // (2·Σ x + 6w·x₀)·vw.
    let (vx, vw) = (vec![0.3, -0.2, 0.5], 0.4);
    let (_, (g2x, g2w), (hx, hw)) = scaled_rows_hvp(&x, w, &vx, vw);
    close_all("scaled rows: hvp's ∂x", &g2x, &ex);
    close("scaled rows: hvp's ∂w", g2w, ew, TOL);
    let mix: Vec<f64> = (0..3)
        .map(|i| 1.0 + 2.0 * w + if i == 0 { 3.0 * w * w } else { 0.0 })
        .collect();
    let ehx: Vec<f64> = mix.iter().map(|m| m * vw).collect();
    close_all("scaled rows: H·v, x", &hx, &ehx);
    let ehw = (0..3).map(|i| mix[i] * vx[i]).sum::<f64>() + (2.0 * s + 6.0 * w * x[0]) * vw;
    close("scaled rows: H·v, w", hw, ehw, TOL);
    let (_, t) = scaled_rows_jvp(&x, w, &vx, vw);
    let et = (0..3).map(|i| ex[i] * vx[i]).sum::<f64>() + ew * vw;
    close("scaled rows: jvp", t, et, TOL);
}

// ---------------------------------------------------------------------------------------------
// 3. An array literal of an enum's variants (no `Default` on the enum), matched in a loop.
// ---------------------------------------------------------------------------------------------

/// What a step does: no `Default`, not `Copy`.
#[derive(Clone, Debug)]
enum Mode {
    Keep,
    Damp(f64),
}

/// A step over f32.
#[derive(Clone, Copy)]
enum Gate {
    Square,
    Scale(f32),
}

/// Steps [Keep, Damp(0.5), Keep] of y ↦ y² (Keep) and y ↦ c·y (Damp), from y = x, plus sin x:
/// f = (0.5·x²)² + sin x = 0.25·x⁴ + sin x, f' = x³ + cos x, f'' = 3x² − sin x.
#[differentiate(hessian)]
fn damped_steps(x: f64) -> f64 {
    let modes = [Mode::Keep, Mode::Damp(0.5), Mode::Keep];
    let mut y = x;
    for k in 0..3 {
        y = match modes[k] {
            Mode::Keep => y * y,
            Mode::Damp(c) => y * c,
        };
    }
    y + x.sin()
}

/// The same steps read through `iter()`, as a `Vec` of steps would be.
#[differentiate]
fn damped_steps_iter(x: f64) -> f64 {
    let modes = [Mode::Keep, Mode::Damp(0.5), Mode::Keep];
    let mut y = x;
    for m in modes.iter() {
        y = match *m {
            Mode::Keep => y * y,
            Mode::Damp(c) => y * c,
        };
    }
    y + x.sin()
}

/// Over f32, steps [Scale(3), Square]: f = 9x² + x, f' = 18x + 1.
#[differentiate]
fn gated(x: f32) -> f32 {
    let gates = [Gate::Scale(3.0), Gate::Square];
    let mut y = x;
    for k in 0..gates.len() {
        y = match gates[k] {
            Gate::Square => y * y,
            Gate::Scale(s) => s * y,
        };
    }
    y + x
}

/// Over any float, the enum's payload converted: steps [Damp(2), Keep], f = (2x)² = 4x²,
/// f' = 8x.
#[differentiate]
fn damped_generic<F: Float>(x: F) -> F {
    let modes = [Mode::Damp(2.0), Mode::Keep];
    let mut y = x;
    for k in 0..2 {
        y = match modes[k] {
            Mode::Keep => y * y,
            Mode::Damp(c) => y * F::from(c).unwrap(),
        };
    }
    y
}

#[test]
fn array_of_enum_variants() {
    for &x in &[0.4, -1.3, 2.1] {
        let (d1, d2) = (x * x * x + x.cos(), 3.0 * x * x - x.sin());
        let (y, g) = damped_steps_grad(x);
        close("damped steps", y, 0.25 * x.powi(4) + x.sin(), TOL);
        close("damped steps: grad", g, d1, TOL);
        fd("damped steps", damped_steps, x, g);
        let (_, g2, hv) = damped_steps_hvp(x, 0.5);
        close("damped steps: hvp's gradient", g2, d1, TOL);
        close("damped steps: hvp", hv, 0.5 * d2, TOL);
        let (_, t) = damped_steps_jvp(x, 0.5);
        close("damped steps: jvp", t, 0.5 * d1, TOL);
        forward("damped steps").one(x, damped_steps, damped_steps_jvp, damped_steps_vjp);

        let (_, g) = damped_steps_iter_grad(x);
        close("damped steps through iter: grad", g, d1, TOL);
        fd("damped steps through iter", damped_steps_iter, x, g);

        let (y, g) = damped_generic_grad(x);
        close("damped generic", y, 4.0 * x * x, TOL);
        close("damped generic: grad", g, 8.0 * x, TOL);
        fd("damped generic", damped_generic, x, g);
    }
    for &x in &[0.4f32, -1.3, 2.1] {
        let (y, g) = gated_grad(x);
        assert!(
            (y - (9.0 * x * x + x)).abs() <= 1e-5 * y.abs().max(1.0),
            "gated: {y}"
        );
        let e = 18.0 * x + 1.0;
        assert!(
            (g - e).abs() <= 1e-5 * e.abs().max(1.0),
            "gated: grad {g} against {e}"
        );
        fd32("gated", gated, x, g);
    }
    let _ = format!("{:?}", Mode::Keep);
}

/// Modes with a struct variant, for arrays whose elements read data variables.
#[derive(Clone, Copy)]
enum Schedule {
    Hold,
    Scale(f64),
    Wave { freq: f64 },
}

/// An array of variants whose payloads are data variables, a variant kept in a variable and a
/// struct variant; per element (d = 0.25, w = 1.5):
/// Hold → x, Scale(d) → d·x², Wave{w} → sin(w·x), Wave{2d} → sin(2d·x).
/// ∂/∂x = 1 + 2d·x + w·cos(w·x) + 2d·cos(2d·x).
#[differentiate(hessian)]
fn scheduled(x: f64) -> f64 {
    let d = 0.25;
    let wave = Schedule::Wave { freq: 1.5 };
    let plan = [
        Schedule::Hold,
        Schedule::Scale(d),
        wave,
        Schedule::Wave { freq: d * 2.0 },
    ];
    let mut s = 0.0;
    for step in plan {
        s += match step {
            Schedule::Hold => x,
            Schedule::Scale(c) => c * x * x,
            Schedule::Wave { freq } => (freq * x).sin(),
        };
    }
    s
}

#[test]
fn array_of_enum_variants_reading_data_variables() {
    for &x in &[0.4, -1.3, 2.1] {
        let (d, w) = (0.25, 1.5);
        let (y, g) = scheduled_grad(x);
        close(
            "scheduled",
            y,
            x + d * x * x + (w * x).sin() + (2.0 * d * x).sin(),
            TOL,
        );
        let e = 1.0 + 2.0 * d * x + w * (w * x).cos() + 2.0 * d * (2.0 * d * x).cos();
        close("scheduled: grad", g, e, TOL);
        fd("scheduled", scheduled, x, g);
        let h = 2.0 * d - w * w * (w * x).sin() - 4.0 * d * d * (2.0 * d * x).sin();
        let (_, _, hv) = scheduled_hvp(x, 1.0);
        close("scheduled: hvp", hv, h, TOL);
    }
}
