//! Simulations and filters written the way their state is laid out: fields of a state struct
//! stepped together, a filter's coefficients and delay line side by side.
//!
//! A loop that writes two fields of one state through their items zipped together, `for (x,
//! v) in self.x.iter_mut().zip(self.v.iter_mut())` (a symplectic step), was rejected with
//! "iterating by mutable reference is followed over a variable .. bind the container to a
//! variable first": a field was followed as the loop's own `iter_mut()`, not as the argument
//! of its `zip`. Each field iterated by mutable reference in the chain is now taken into a
//! local and written back after the loop, in `for` loops and in `for_each` statements, also
//! `zip(&mut s.v)` and a local zipped with a field.
//!
//! A loop that takes the arrays of a `Vec<[f64; 2]>` apart by mutable reference, `for [x, v]
//! in s.iter_mut() { *v -= k * *x; *x += h * *v; }` (a step over phase-space points), was
//! rejected with "this pattern is not supported here; use .. an array of them (`[a, b]`)",
//! which asked for what was written, followed by an error at each `*x`. Where the body reads
//! the names as `*x` or as a method's receiver, the loop is now the one over the items with
//! their elements written by position (`p[1] -= k * p[0]`); elsewhere one error says to write
//! that loop. The same holds for `s.iter_mut().for_each(|[x, v]| { .. })`, the loop it stands
//! for.
//!
//! A slice pattern on a range of a signal, `if let [a, b, c] = x[i..i + 3]` (a second
//! difference), was rejected with "this slice pattern takes elements out of a differentiated
//! value in a form the derivative does not follow", whose list of followed forms had the whole
//! variable only. The range is now bound first, `let part = &x[i..i + 3];`, and its elements
//! read by index, as for a variable.
//!
//! ndarray's `azip!((o in &mut out, &a in &u, &l in &lap) *o = a + d * l);`, an explicit
//! update over a grid, was "`azip!` reads a differentiated value, and what a macro does with it
//! cannot be differentiated": the macro was run as written. It is now the `Zip` it expands to,
//! `Zip::from(&mut out).and(&u).and(&lap).for_each(|o, &a, &l| *o = a + d * l)`, which is
//! followed (also `ndarray::azip!`).
//!
//! Block processing over `for (b, c) in y.chunks_mut(4).enumerate()` that wrote the block's
//! samples through `for s in c.iter_mut()` was rejected ("with the chunk used as `c[j]` and
//! `c.len()`"), and the form that error asked for, `let s = &mut c[j];`, was rustc's "cannot
//! find value `c`" inside the generated code: the bounds check that form stands for named the
//! chunk in a macro's tokens, which the rewrite of the chunk into the container did not reach.
//! Both are now followed, `for s in c.iter_mut()` as the index loop over the chunk.
//!
//! An element borrowed to be written, `let e = &mut y[i]; *e += s;`, followed by a check of
//! it, `assert!(e.is_finite(), "{}", *e);`, was "`&mut` is not supported here": a macro naming
//! the reference stopped the rewrite of `*e` into the element `y[i]`, since a macro's tokens
//! were not rewritten. A macro whose arguments are expressions is now rewritten with them
//! (one that names `e` inside a format string, `"{e}"`, is not).
//!
//! A loop over what a helper returns, `for (i, j) in neighbour_pairs(x.len()) { .. }` (a
//! neighbour list of index pairs), was rejected with "`for` loops here iterate over ranges,
//! slices, `Vec`s, arrays and iterator chains over them", although the helper returns a
//! `Vec`. The call is now bound first, `let items = neighbour_pairs(..); for (i, j) in items`,
//! as a loop over a local `Vec`.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, azip};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Fields zipped together by mutable reference.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Phase {
    x: Vec<f64>,
    v: Vec<f64>,
}

#[differentiate]
impl Phase {
    /// `x ← x + k·v`, then `v ← 2·v`, through the two fields zipped.
    fn shear(&mut self, k: f64) {
        for (x, v) in self.x.iter_mut().zip(self.v.iter_mut()) {
            *x += k * *v;
            *v *= 2.0;
        }
    }

    /// The same step through `zip(&mut self.v)` and `enumerate`, the weight `i + 1` on the
    /// shear: `x_i ← x_i + (i + 1)·k·v_i`, `v_i ← 2·v_i`.
    fn shear_weighted(&mut self, k: f64) {
        for (i, (x, v)) in self.x.iter_mut().zip(&mut self.v).enumerate() {
            *x += (i + 1) as f64 * k * *v;
            *v *= 2.0;
        }
    }

    /// The same step as a `for_each` statement.
    fn shear_each(&mut self, k: f64) {
        self.x.iter_mut().zip(self.v.iter_mut()).for_each(|(x, v)| {
            *x += k * *v;
            *v *= 2.0;
        });
    }
}

/// `L = Σ x'ᵢ² + Σ v'ᵢ` after one `shear`: `x' = x + k·v`, `v' = 2v`, so `∂L/∂xᵢ = 2x'ᵢ`,
/// `∂L/∂vᵢ = 2k·x'ᵢ + 2`, `∂L/∂k = Σ 2x'ᵢ·vᵢ`.
#[differentiate]
fn sheared(s0: &Phase, k: f64) -> f64 {
    let mut s = s0.clone();
    s.shear(k);
    s.x.iter().map(|a| a * a).sum::<f64>() + s.v.iter().sum::<f64>()
}

/// As [`sheared`] through `shear_weighted`: `x'ᵢ = xᵢ + (i + 1)·k·vᵢ`, `∂L/∂vᵢ = 2(i + 1)k·x'ᵢ
/// + 2`, `∂L/∂k = Σ 2(i + 1)·x'ᵢ·vᵢ`.
#[differentiate]
fn sheared_weighted(s0: &Phase, k: f64) -> f64 {
    let mut s = s0.clone();
    s.shear_weighted(k);
    s.x.iter().map(|a| a * a).sum::<f64>() + s.v.iter().sum::<f64>()
}

/// As [`sheared`] through `shear_each`.
#[differentiate]
fn sheared_each(s0: &Phase, k: f64) -> f64 {
    let mut s = s0.clone();
    s.shear_each(k);
    s.x.iter().map(|a| a * a).sum::<f64>() + s.v.iter().sum::<f64>()
}

/// A local zipped with a field of a local state: `x' = x + k·w`, `w` the copy of `v` the
/// local holds, `v` unchanged; `L = Σ x'ᵢ²`, `∂L/∂xᵢ = 2x'ᵢ`, `∂L/∂vᵢ = 2k·x'ᵢ`,
/// `∂L/∂k = Σ 2x'ᵢ·vᵢ`.
#[differentiate]
fn drift_into_field(s0: &Phase, k: f64) -> f64 {
    let mut s = s0.clone();
    let w = s0.v.clone();
    for (x, &u) in s.x.iter_mut().zip(w.iter()) {
        *x += k * u;
    }
    let mut acc = vec![0.0; w.len()];
    for (a, x) in acc.iter_mut().zip(s.x.iter_mut()) {
        *a = *x * *x;
        *x = 0.0;
    }
    acc.iter().sum::<f64>() + s.x.iter().sum::<f64>()
}

fn phase() -> Phase {
    Phase {
        x: vec![0.3, -0.5, 0.8],
        v: vec![0.2, 0.7, -0.4],
    }
}

#[test]
fn fields_zipped_by_mutable_reference() {
    let s = phase();
    let k = 0.6;
    for (what, weighted, f, grad) in [
        (
            "for",
            false,
            sheared as fn(&Phase, f64) -> f64,
            sheared_grad as fn(&Phase, f64) -> (f64, (Phase, f64)),
        ),
        ("weighted", true, sheared_weighted, sheared_weighted_grad),
        ("for_each", false, sheared_each, sheared_each_grad),
    ] {
        let (y, (gs, gk)) = grad(&s, k);
        close(&format!("{what}: value"), y, f(&s, k), TOL);
        let w = |i: usize| if weighted { (i + 1) as f64 } else { 1.0 };
        let xp: Vec<f64> = (0..3).map(|i| s.x[i] + w(i) * k * s.v[i]).collect();
        let want_x: Vec<f64> = xp.iter().map(|a| 2.0 * a).collect();
        let want_v: Vec<f64> = (0..3).map(|i| 2.0 * w(i) * k * xp[i] + 2.0).collect();
        let want_k: f64 = (0..3).map(|i| 2.0 * w(i) * xp[i] * s.v[i]).sum();
        close_all(&format!("{what}: ∂x"), &gs.x, &want_x);
        close_all(&format!("{what}: ∂v"), &gs.v, &want_v);
        close(&format!("{what}: ∂k"), gk, want_k, TOL);
        fd_any(what, |p: &Phase| f(p, k), &s, &gs);
        fd(what, |k| f(&s, k), k, gk);
    }

    let (y, (gs, gk)) = drift_into_field_grad(&s, k);
    close("local zipped: value", y, drift_into_field(&s, k), TOL);
    let xp: Vec<f64> = (0..3).map(|i| s.x[i] + k * s.v[i]).collect();
    close_all(
        "local zipped: ∂x",
        &gs.x,
        &xp.iter().map(|a| 2.0 * a).collect::<Vec<_>>(),
    );
    close_all(
        "local zipped: ∂v",
        &gs.v,
        &xp.iter().map(|a| 2.0 * k * a).collect::<Vec<_>>(),
    );
    close(
        "local zipped: ∂k",
        gk,
        (0..3).map(|i| 2.0 * xp[i] * s.v[i]).sum(),
        TOL,
    );
    fd_any("local zipped", |p: &Phase| drift_into_field(p, k), &s, &gs);
}

// ---------------------------------------------------------------------------------------------
// 2. Arrays taken apart by mutable reference.
// ---------------------------------------------------------------------------------------------

/// One kick-drift step over phase-space points, `v' = v − k·x`, `x' = x + h·v'` (`h = 0.5`),
/// `L = Σ x'² + v'`: `∂L/∂x = 2x'(1 − hk) − k`, `∂L/∂v = 2h·x' + 1`, `∂L/∂k = Σ −2h·x'·x − x`.
#[differentiate]
fn kick_drift_points(s0: &[[f64; 2]], k: f64) -> f64 {
    let h = 0.5;
    let mut s = s0.to_vec();
    for [x, v] in s.iter_mut() {
        *v -= k * *x;
        *x += h * *v;
    }
    s.iter().map(|p| p[0] * p[0] + p[1]).sum()
}

/// `z'ᵢ = k·sin xᵢ + i·zᵢ` through `for (i, [x, _, z]) in s.iter_mut().enumerate()`, `x.sin()`
/// a method of the element; `L = Σ z'ᵢ`: `∂L/∂xᵢ = k·cos xᵢ`, `∂L/∂yᵢ = 0`, `∂L/∂zᵢ = i`,
/// `∂L/∂k = Σ sin xᵢ`.
#[differentiate]
fn enumerated_points(s0: &[[f64; 3]], k: f64) -> f64 {
    let mut s = s0.to_vec();
    for (i, [x, _, z]) in s.iter_mut().enumerate() {
        *z = x.sin() * k + i as f64 * *z;
    }
    s.iter().map(|p| p[2]).sum()
}

/// [`kick_drift_points`] as a `for_each` statement, `s.iter_mut().for_each(|[x, v]| ..)`.
#[differentiate]
fn kick_drift_each(s0: &[[f64; 2]], k: f64) -> f64 {
    let h = 0.5;
    let mut s = s0.to_vec();
    s.iter_mut().for_each(|[x, v]| {
        *v -= k * *x;
        *x += h * *v;
    });
    s.iter().map(|p| p[0] * p[0] + p[1]).sum()
}

/// Points zipped after a slice of masses, `for (&m, [x, v]) in ms.iter().zip(s.iter_mut())`:
/// `v' = v − k·x/m`, `x' = x + v'`, `L = Σ x'² + v'`: with `c = 1 − k/m`, `x' = c·x + v`, so
/// `∂L/∂x = 2x'·c − k/m`, `∂L/∂v = 2x' + 1`, `∂L/∂m = (2x' + 1)·k·x/m²`,
/// `∂L/∂k = Σ −(2x' + 1)·x/m`.
#[differentiate]
fn kick_drift_masses(ms: &[f64], s0: &[[f64; 2]], k: f64) -> f64 {
    let mut s = s0.to_vec();
    for (&m, [x, v]) in ms.iter().zip(s.iter_mut()) {
        *v -= k * *x / m;
        *x += *v;
    }
    s.iter().map(|p| p[0] * p[0] + p[1]).sum()
}

#[test]
fn arrays_taken_apart_by_mutable_reference() {
    let s0 = vec![[0.3, -0.2], [0.7, 0.4], [-0.5, 0.1]];
    let k = 1.3;
    let h = 0.5;
    for (what, f, grad) in [
        (
            "for",
            kick_drift_points as fn(&[[f64; 2]], f64) -> f64,
            kick_drift_points_grad as fn(&[[f64; 2]], f64) -> (f64, (Vec<[f64; 2]>, f64)),
        ),
        ("for_each", kick_drift_each, kick_drift_each_grad),
    ] {
        let (y, (g, gk)) = grad(&s0, k);
        close(&format!("{what}: value"), y, f(&s0, k), TOL);
        let mut want_k = 0.0;
        for (p, gp) in s0.iter().zip(&g) {
            let (x, v) = (p[0], p[1]);
            let xp = x + h * (v - k * x);
            close(
                &format!("{what}: ∂x"),
                gp[0],
                2.0 * xp * (1.0 - h * k) - k,
                TOL,
            );
            close(&format!("{what}: ∂v"), gp[1], 2.0 * h * xp + 1.0, TOL);
            want_k += -2.0 * h * xp * x - x;
        }
        close(&format!("{what}: ∂k"), gk, want_k, TOL);
        fd_any(what, |p: &Vec<[f64; 2]>| f(p, k), &s0, &g);
        fd(what, |k| f(&s0, k), k, gk);
    }

    let ms = vec![1.5, 0.8, 2.0];
    let (y, (gm, g, gk)) = kick_drift_masses_grad(&ms, &s0, k);
    close("masses: value", y, kick_drift_masses(&ms, &s0, k), TOL);
    let mut want_k = 0.0;
    for ((p, gp), (&m, &gmi)) in s0.iter().zip(&g).zip(ms.iter().zip(&gm)) {
        let (x, v) = (p[0], p[1]);
        let xp = (1.0 - k / m) * x + v;
        close("masses: ∂x", gp[0], 2.0 * xp * (1.0 - k / m) - k / m, TOL);
        close("masses: ∂v", gp[1], 2.0 * xp + 1.0, TOL);
        close("masses: ∂m", gmi, (2.0 * xp + 1.0) * k * x / (m * m), TOL);
        want_k -= (2.0 * xp + 1.0) * x / m;
    }
    close("masses: ∂k", gk, want_k, TOL);
    fd_any(
        "masses",
        |p: &Vec<[f64; 2]>| kick_drift_masses(&ms, p, k),
        &s0,
        &g,
    );
    fd_vec("masses: m", |m| kick_drift_masses(m, &s0, k), &ms, &gm);

    let s1 = vec![[0.3, -0.2, 0.9], [0.7, 0.4, -0.6], [-0.5, 0.1, 0.2]];
    let (y, (g, gk)) = enumerated_points_grad(&s1, k);
    close("enumerated: value", y, enumerated_points(&s1, k), TOL);
    for (i, (p, gp)) in s1.iter().zip(&g).enumerate() {
        close("enumerated: ∂x", gp[0], k * p[0].cos(), TOL);
        close("enumerated: ∂y", gp[1], 0.0, TOL);
        close("enumerated: ∂z", gp[2], i as f64, TOL);
    }
    close(
        "enumerated: ∂k",
        gk,
        s1.iter().map(|p| p[0].sin()).sum(),
        TOL,
    );
    fd_any(
        "enumerated",
        |p: &Vec<[f64; 3]>| enumerated_points(p, k),
        &s1,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Slice patterns on a range of a signal.
// ---------------------------------------------------------------------------------------------

/// `L = Σᵢ (x[i] − 2x[i+1] + x[i+2])² + x[1]·x[n−1]` through `if let [a, b, c] = x[i..i + 3]`
/// and `match &x[1..] { [first, .., last] => .. }`: `∂L/∂x[j] = Σᵢ 2dᵢ·cᵢⱼ` with `cᵢⱼ` the
/// weight (1, −2, 1) of `x[j]` in `dᵢ`, plus `x[n−1]` at `j = 1` and `x[1]` at `j = n − 1`.
#[differentiate]
fn second_differences(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 2 {
        if let [a, b, c] = x[i..i + 3] {
            s += (a - 2.0 * b + c).powi(2);
        }
    }
    match &x[1..] {
        [first, .., last] => s + first * last,
        _ => s,
    }
}

#[test]
fn slice_patterns_on_a_range() {
    let x = data(7, 0.4);
    let n = x.len();
    let (y, g) = second_differences_grad(&x);
    close("value", y, second_differences(&x), TOL);
    let mut want = vec![0.0; n];
    for i in 0..n - 2 {
        let d = x[i] - 2.0 * x[i + 1] + x[i + 2];
        for (k, c) in [1.0, -2.0, 1.0].into_iter().enumerate() {
            want[i + k] += 2.0 * d * c;
        }
    }
    want[1] += x[n - 1];
    want[n - 1] += x[1];
    close_all("∂x", &g, &want);
    fd_vec("second differences", second_differences, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 4. ndarray's `azip!`.
// ---------------------------------------------------------------------------------------------

/// One explicit relaxation step written with `azip!`, `out = u + d·lap`, `L = Σ outᵢ²`:
/// `∂L/∂u = 2·out`, `∂L/∂lap = 2d·out`, `∂L/∂d = Σ 2·outᵢ·lapᵢ`.
#[differentiate]
fn relax(u: &Array1<f64>, lap: &Array1<f64>, d: f64) -> f64 {
    let mut out = Array1::zeros(u.len());
    azip!((o in &mut out, &a in u, &l in lap) *o = a + d * l);
    out.mapv(|v| v * v).sum()
}

/// `z = x + y²` by `ndarray::azip!` on a copy, `L = Σ sin zᵢ`: `∂L/∂xᵢ = cos zᵢ`,
/// `∂L/∂yᵢ = 2yᵢ·cos zᵢ`.
#[differentiate]
fn add_squares(x: &Array1<f64>, y: &Array1<f64>) -> f64 {
    let mut z = x.clone();
    ndarray::azip!((a in &mut z, &b in y) *a += b * b);
    z.mapv(|v| v.sin()).sum()
}

#[test]
fn azip_is_its_zip() {
    let u = Array1::from_vec(data(6, 0.3));
    let lap = Array1::from_vec(data(6, 2.1));
    let d = 0.4;
    let (y, (gu, gl, gd)) = relax_grad(&u, &lap, d);
    close("relax: value", y, relax(&u, &lap, d), TOL);
    let out: Vec<f64> = (0..6).map(|i| u[i] + d * lap[i]).collect();
    close_all(
        "relax: ∂u",
        gu.as_slice().unwrap(),
        &out.iter().map(|o| 2.0 * o).collect::<Vec<_>>(),
    );
    close_all(
        "relax: ∂lap",
        gl.as_slice().unwrap(),
        &out.iter().map(|o| 2.0 * d * o).collect::<Vec<_>>(),
    );
    close(
        "relax: ∂d",
        gd,
        (0..6).map(|i| 2.0 * out[i] * lap[i]).sum(),
        TOL,
    );
    fd_any("relax: u", |p: &Array1<f64>| relax(p, &lap, d), &u, &gu);
    fd("relax: d", |d| relax(&u, &lap, d), d, gd);

    let (y, (gx, gy)) = add_squares_grad(&u, &lap);
    close("add_squares: value", y, add_squares(&u, &lap), TOL);
    for i in 0..6 {
        let c = (u[i] + lap[i] * lap[i]).cos();
        close("add_squares: ∂x", gx[i], c, TOL);
        close("add_squares: ∂y", gy[i], 2.0 * lap[i] * c, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Blocks of a signal written through `chunks_mut`.
// ---------------------------------------------------------------------------------------------

/// Each block of 4 scaled by its gain through the chunk's items, then `zᵢ = tanh(yᵢ·g_b) +
/// 0.1·j` (`j` the position in the block), `L = Σ zᵢ²`: with `tᵢ = tanh(yᵢ·g_b)`,
/// `∂L/∂yᵢ = 2zᵢ·(1 − tᵢ²)·g_b`, `∂L/∂g_b = Σ_{i in b} 2zᵢ·(1 − tᵢ²)·yᵢ`.
#[differentiate]
fn block_gains(y0: &[f64], gains: &[f64]) -> f64 {
    let mut y = y0.to_vec();
    for (b, c) in y.chunks_mut(4).enumerate() {
        for s in c.iter_mut() {
            *s *= gains[b];
        }
        for (j, s) in c.iter_mut().enumerate() {
            *s = s.tanh() + j as f64 * 0.1;
        }
    }
    y.iter().map(|v| v * v).sum()
}

/// [`block_gains`] through `let s = &mut c[j];`.
#[differentiate]
fn block_gains_by_element(y0: &[f64], gains: &[f64]) -> f64 {
    let mut y = y0.to_vec();
    for (b, c) in y.chunks_mut(4).enumerate() {
        for j in 0..c.len() {
            let s = &mut c[j];
            *s = (*s * gains[b]).tanh() + j as f64 * 0.1;
        }
    }
    y.iter().map(|v| v * v).sum()
}

#[test]
fn blocks_written_through_chunks_mut() {
    let y = data(10, 0.2);
    let gains = vec![0.5, 2.0, 1.5];
    let mut want_y = vec![0.0; 10];
    let mut want_g = vec![0.0; 3];
    for i in 0..10 {
        let (b, j) = (i / 4, i % 4);
        let t = (y[i] * gains[b]).tanh();
        let z = t + j as f64 * 0.1;
        want_y[i] = 2.0 * z * (1.0 - t * t) * gains[b];
        want_g[b] += 2.0 * z * (1.0 - t * t) * y[i];
    }
    for (what, f, grad) in [
        (
            "iter_mut",
            block_gains as fn(&[f64], &[f64]) -> f64,
            block_gains_grad as fn(&[f64], &[f64]) -> (f64, (Vec<f64>, Vec<f64>)),
        ),
        (
            "&mut c[j]",
            block_gains_by_element,
            block_gains_by_element_grad,
        ),
    ] {
        let (v, (gy, gg)) = grad(&y, &gains);
        close(&format!("{what}: value"), v, f(&y, &gains), TOL);
        close_all(&format!("{what}: ∂y"), &gy, &want_y);
        close_all(&format!("{what}: ∂gains"), &gg, &want_g);
        fd_vec(what, |y| f(y, &gains), &y, &gy);
        fd_vec(what, |g| f(&y, g), &gains, &gg);
    }
}

// ---------------------------------------------------------------------------------------------
// 6. An element borrowed to be written, checked in a macro.
// ---------------------------------------------------------------------------------------------

/// `y = x` with `y[i] += s`, checked finite, `L = Σ yⱼ²`: `∂L/∂xⱼ = 2yⱼ`, `∂L/∂s = 2yᵢ`.
#[differentiate]
fn bumped_checked(x: &[f64], s: f64, i: usize) -> f64 {
    let mut y = x.to_vec();
    let e = &mut y[i];
    *e += s;
    assert!(e.is_finite(), "the bumped element is {}", *e);
    debug_assert!(*e > -1e9);
    y.iter().map(|v| v * v).sum()
}

#[test]
fn element_reference_checked_in_a_macro() {
    let x = data(5, 0.6);
    let (s, i) = (0.7, 2);
    let (v, (gx, gs)) = bumped_checked_grad(&x, s, i);
    close("value", v, bumped_checked(&x, s, i), TOL);
    let mut y = x.clone();
    y[i] += s;
    close_all("∂x", &gx, &y.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    close("∂s", gs, 2.0 * y[i], TOL);
    fd_vec("bumped", |x| bumped_checked(x, s, i), &x, &gx);
    fd("bumped: s", |s| bumped_checked(&x, s, i), s, gs);
}

// ---------------------------------------------------------------------------------------------
// 7. A loop over the `Vec` a helper returns.
// ---------------------------------------------------------------------------------------------

/// The pairs `(i, j)`, `i < j`, of `n` particles: data.
fn neighbour_pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect()
}

/// `E = Σ_{i<j} exp(−(xᵢ − xⱼ)²)`: with `d = xᵢ − xⱼ` and `t = exp(−d²)`, the pair adds
/// `−2d·t` to `∂E/∂xᵢ` and `2d·t` to `∂E/∂xⱼ`.
#[differentiate]
fn gaussian_pairs(x: &[f64]) -> f64 {
    let mut e = 0.0;
    for (i, j) in neighbour_pairs(x.len()) {
        e += (-(x[i] - x[j]).powi(2)).exp();
    }
    e
}

#[test]
fn loop_over_a_returned_vec() {
    let x = data(5, 0.3);
    let (v, g) = gaussian_pairs_grad(&x);
    close("value", v, gaussian_pairs(&x), TOL);
    let mut want = vec![0.0; 5];
    for (i, j) in neighbour_pairs(5) {
        let d = x[i] - x[j];
        let t = (-d * d).exp();
        want[i] -= 2.0 * d * t;
        want[j] += 2.0 * d * t;
    }
    close_all("∂x", &g, &want);
    fd_vec("gaussian pairs", gaussian_pairs, &x, &g);
}
