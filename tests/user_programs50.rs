//! Simulation and mesh code that scatters forces into buffers by index lists: an energy that
//! also writes each element's forces into a buffer its caller lends, `fn energy(x: &[f64],
//! tris: &[[usize; 3]], f: &mut [f64]) -> f64` under `wrt(x)` (`f[tri[a]] += d;`).
//!
//! Such a buffer left out of `wrt`, read and written by the body, is followed as a local copy
//! written back where the function returns; a slice (`&mut [f64]`, `&mut [[f64; 2]]`) was
//! written back by `*f = copy`, rustc's "expected `[f64]`, found `Vec<f64>`" inside the
//! generated code for every such function. It is now written back by
//! `f.clone_from_slice(&copy)`, and the caller sees the forces the plain function writes.
//!
//! A `&mut` parameter named `out` (left out of `wrt`, read and written: `*out += x;` then
//! `*out * x`) was given the function's result instead of its own new value after `_grad`,
//! `_vjp` and `_jvp`, silently: its local copy is `__ad_copy_out`, the very name the value was
//! kept under before the copies were written back. The value now has a name no copy has.
//!
//! A helper printing a buffer it is lent through its dereference, `println!("{:?}", *state)`
//! of `state: &mut [f64; 2]`, did not compile once differentiated: its copy taking the buffer
//! by value (which a differentiated caller calls) read `*out` as `out` everywhere but inside
//! macros, rustc's "type `[f64; 2]` cannot be dereferenced" at the `println!`. Inside macros it
//! is now read so too.
//!
//! Each gradient is checked against its closed form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value, and each buffer written,
//! against the plain function's.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A `&mut` slice left out of `wrt`, read and written: forces scattered beside an energy.
// ---------------------------------------------------------------------------------------------

/// `E = Σ_tri Σ_edges (x_b − x_a)²/2` over each triangle's three edges `(a, b)`, with the
/// force `f_a += x_b − x_a`, `f_b −= x_b − x_a` scattered into `f` (repeated indices too):
/// `∂E/∂x_v = Σ_edges (x_v − x_w)` over the edges `(v, w)` listed, i.e. `−f_v` added.
#[differentiate(wrt(x))]
fn edge_energy_forces(x: &[f64], tris: &[[usize; 3]], f: &mut [f64]) -> f64 {
    let mut e = 0.0;
    for tri in tris {
        for a in 0..3 {
            let b = (a + 1) % 3;
            let d = x[tri[b]] - x[tri[a]];
            e += 0.5 * d * d;
            f[tri[a]] += d;
            f[tri[b]] -= d;
        }
    }
    e
}

/// The same with positions and forces as rows, `&mut [[f64; 2]]`.
#[differentiate(wrt(x))]
fn edge_energy_forces2(x: &[[f64; 2]], tris: &[[usize; 3]], f: &mut [[f64; 2]]) -> f64 {
    let mut e = 0.0;
    for tri in tris {
        for a in 0..3 {
            let (i, j) = (tri[a], tri[(a + 1) % 3]);
            for k in 0..2 {
                let d = x[j][k] - x[i][k];
                e += 0.5 * d * d;
                f[i][k] += d;
                f[j][k] -= d;
            }
        }
    }
    e
}

/// `E = x₀² + f₀'` with `f₀' = f₀ + x₀` read back after the write: `∂E/∂x₀ = 2x₀ + 1`.
#[differentiate(wrt(x))]
fn read_after_scatter(x: &[f64], f: &mut [f64]) -> f64 {
    f[0] += x[0];
    x[0] * x[0] + f[0]
}

fn tris() -> Vec<[usize; 3]> {
    vec![[0, 1, 2], [1, 3, 2], [0, 0, 3]]
}

/// The forces and energy gradient written out: each edge `(a, b)` of each triangle.
fn edge_forces(x: &[f64], tris: &[[usize; 3]]) -> (Vec<f64>, Vec<f64>) {
    let (mut f, mut g) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    for tri in tris {
        for a in 0..3 {
            let (i, j) = (tri[a], tri[(a + 1) % 3]);
            let d = x[j] - x[i];
            f[i] += d;
            f[j] -= d;
            g[i] -= d;
            g[j] += d;
        }
    }
    (f, g)
}

#[test]
fn forces_scattered_into_a_slice_left_out_of_wrt() {
    let x = data(4, 0.2);
    let t = tris();
    let (f_expected, g_expected) = edge_forces(&x, &t);
    let mut f = vec![1.0; 4];
    let (v, g) = edge_energy_forces_grad(&x, &t, &mut f);
    let mut f_plain = vec![1.0; 4];
    close("E", v, edge_energy_forces(&x, &t, &mut f_plain), TOL);
    close_all("∂E/∂x", &g, &g_expected);
    let shifted: Vec<f64> = f_expected.iter().map(|v| v + 1.0).collect();
    close_all("forces after _grad", &f, &shifted);
    close_all("forces of the plain function", &f_plain, &shifted);
    // Translation invariance: the gradient of an internal energy sums to zero.
    close("Σ ∂E/∂x", g.iter().sum(), 0.0, TOL);
    fd_vec(
        "∂E/∂x",
        |q| edge_energy_forces(q, &t, &mut vec![0.0; 4]),
        &x,
        &g,
    );
    // The forward mode writes the same forces.
    let mut f_jvp = vec![1.0; 4];
    let dir = data(4, 5.0);
    let (vj, tj) = edge_energy_forces_jvp(&x, &t, &mut f_jvp, &dir);
    close("E (jvp)", vj, v, TOL);
    close(
        "tangent",
        tj,
        g.iter().zip(&dir).map(|(a, b)| a * b).sum(),
        TOL,
    );
    close_all("forces after _jvp", &f_jvp, &shifted);
}

#[test]
fn forces_scattered_into_rows_left_out_of_wrt() {
    let x = vec![[0.0, 0.1], [1.0, 0.3], [0.2, 0.9], [1.0, 1.0]];
    let t = tris();
    let mut f = vec![[0.5, 0.0]; 4];
    let (v, g) = edge_energy_forces2_grad(&x, &t, &mut f);
    let mut f_plain = vec![[0.5, 0.0]; 4];
    close("E", v, edge_energy_forces2(&x, &t, &mut f_plain), TOL);
    assert_eq!(f, f_plain, "forces after _grad");
    for k in 0..2 {
        let xk: Vec<f64> = x.iter().map(|p| p[k]).collect();
        let (fk, gk) = edge_forces(&xk, &t);
        let got: Vec<f64> = g.iter().map(|p| p[k]).collect();
        close_all(&format!("∂E/∂x[..][{k}]"), &got, &gk);
        let fk_got: Vec<f64> = f
            .iter()
            .map(|p| p[k] - if k == 0 { 0.5 } else { 0.0 })
            .collect();
        close_all(&format!("f[..][{k}]"), &fk_got, &fk);
    }
    let flat: Vec<f64> = x.iter().flatten().copied().collect();
    let gflat: Vec<f64> = g.iter().flatten().copied().collect();
    fd_vec(
        "∂E/∂x",
        |q| {
            let rows: Vec<[f64; 2]> = q.chunks(2).map(|c| [c[0], c[1]]).collect();
            edge_energy_forces2(&rows, &t, &mut vec![[0.0; 2]; 4])
        },
        &flat,
        &gflat,
    );
}

#[test]
fn slice_left_out_of_wrt_read_after_its_write() {
    let mut f = vec![1.0];
    let (v, g) = read_after_scatter_grad(&[3.0], &mut f);
    // x² + (1 + x) at x = 3: 13; 2x + 1 = 7.
    close("E", v, 13.0, TOL);
    close_all("∂E/∂x", &g, &[7.0]);
    close_all("f", &f, &[4.0]);
    fd_vec(
        "∂E/∂x",
        |q| read_after_scatter(q, &mut vec![1.0]),
        &[3.0],
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A `&mut` parameter named `out`, left out of `wrt`, read and written.
// ---------------------------------------------------------------------------------------------

/// `out ← out + x`, then `E = out·x = (out₀ + x)·x`: `∂E/∂x = out₀ + 2x`.
#[differentiate(wrt(x))]
fn accumulate_out(x: f64, out: &mut f64) -> f64 {
    *out += x;
    *out * x
}

/// Forces written into `out` (`out[i] = 2·x_i`, then `+= x_i²`), `E = Σ out_i` read back:
/// `∂E/∂x_i = 2 + 2x_i`.
#[differentiate(wrt(x))]
fn forces_out(x: &[f64], out: &mut [f64]) -> f64 {
    for i in 0..x.len() {
        out[i] = 2.0 * x[i];
        out[i] += x[i] * x[i];
    }
    out.iter().sum()
}

#[test]
fn parameter_named_out_gets_its_own_value() {
    let (x, out0) = (2.0, 1.0);
    let mut out_plain = out0;
    let v_plain = accumulate_out(x, &mut out_plain);
    let mut out = out0;
    let (v, g) = accumulate_out_grad(x, &mut out);
    close("E", v, v_plain, TOL);
    close("out after _grad", out, out0 + x, TOL);
    close("out of the plain function", out_plain, out0 + x, TOL);
    close("∂E/∂x", g, out0 + 2.0 * x, TOL);
    fd("∂E/∂x", |x| accumulate_out(x, &mut out0.clone()), x, g);
    let mut out = out0;
    let (vj, tj) = accumulate_out_jvp(x, &mut out, 1.0);
    close("E (jvp)", vj, v_plain, TOL);
    close("tangent", tj, out0 + 2.0 * x, TOL);
    close("out after _jvp", out, out0 + x, TOL);
    let mut out = out0;
    let (vv, pb) = accumulate_out_vjp(x, &mut out);
    close("E (vjp)", vv, v_plain, TOL);
    close("out after _vjp", out, out0 + x, TOL);
    close("pullback", pb(1.0), out0 + 2.0 * x, TOL);
}

#[test]
fn forces_written_into_a_slice_named_out() {
    let x = data(3, 0.7);
    let mut out = vec![0.0; 3];
    let (v, g) = forces_out_grad(&x, &mut out);
    let mut out_plain = vec![0.0; 3];
    close("E", v, forces_out(&x, &mut out_plain), TOL);
    let expected: Vec<f64> = x.iter().map(|a| 2.0 * a + a * a).collect();
    close_all("out after _grad", &out, &expected);
    close_all("out of the plain function", &out_plain, &expected);
    close_all(
        "∂E/∂x",
        &g,
        &x.iter().map(|a| 2.0 + 2.0 * a).collect::<Vec<_>>(),
    );
    fd_vec("∂E/∂x", |q| forces_out(q, &mut vec![0.0; 3]), &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 3. A buffer printed through its dereference inside a helper a differentiated caller calls.
// ---------------------------------------------------------------------------------------------

/// One explicit step of a damped spring written into `state = [x, v]`: `v ← v − dt·(k·x + c·v)`,
/// `x ← x + dt·v`; the state printed after the step, and the step's kinetic energy returned.
#[differentiate]
fn spring_step(state: &mut [f64; 2], k: f64, c: f64, dt: f64) -> f64 {
    state[1] -= dt * (k * state[0] + c * state[1]);
    state[0] += dt * state[1];
    println!("state {:?}, speed {}", *state, (*state)[1]);
    0.5 * state[1] * state[1]
}

/// Two steps from `[x0, 0]`, the final position squared plus the kinetic energies.
#[differentiate(wrt(x0, k))]
fn two_steps(x0: f64, k: f64) -> f64 {
    let mut s = [x0, 0.0];
    let e1 = spring_step(&mut s, k, 0.1, 0.1);
    let e2 = spring_step(&mut s, k, 0.1, 0.1);
    s[0] * s[0] + e1 + e2
}

/// `two_steps` written out in closed form: with `a = 0.1` the step maps `(x, v)` to
/// `(x + a·v', v')`, `v' = v − a·(k·x + 0.1·v)`.
fn two_steps_by_hand(x0: f64, k: f64) -> f64 {
    let (a, c) = (0.1, 0.1);
    let v1 = -a * k * x0;
    let x1 = x0 + a * v1;
    let v2 = v1 - a * (k * x1 + c * v1);
    let x2 = x1 + a * v2;
    x2 * x2 + 0.5 * v1 * v1 + 0.5 * v2 * v2
}

#[test]
fn a_buffer_printed_through_its_dereference_in_a_followed_helper() {
    let (x0, k) = (0.8, 3.0);
    let (v, (gx, gk)) = two_steps_grad(x0, k);
    close("E", v, two_steps_by_hand(x0, k), TOL);
    close("E (plain)", two_steps(x0, k), v, TOL);
    // The closed form is a polynomial in x0 of degree 2: E = x0²·q(k), ∂E/∂x0 = 2E/x0.
    close("∂E/∂x0", gx, 2.0 * v / x0, 1e-10);
    fd2("∂E/∂(x0, k)", two_steps_by_hand, (x0, k), (gx, gk));
}
