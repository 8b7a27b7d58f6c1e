//! Containers that hold differentiated values and change: local `Vec`s and arrays declared
//! `mut`, `&mut` buffers the function fills and reads back, and every mutation the derivative
//! follows (`push`, `pop`, `insert`, `remove`, `swap_remove`, `swap`, `reverse`, `fill`,
//! `clear`, `truncate`, `resize`, `extend_from_slice`, `copy_from_slice`, element writes).
//!
//! Each gradient is checked against the analytic derivative (in a comment) and against central
//! finite differences through `autodiff::check`.

#![allow(clippy::needless_range_loop)]

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// The value pushed into a `&mut` buffer and read back (its derivative was once silently 0).
// ---------------------------------------------------------------------------------------------

/// r = 3·x² via the buffer: dr/dx = 6x.
#[differentiate]
fn r(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    out[0] * 3.0
}

#[test]
fn pushed_into_a_mut_buffer_and_read_back() {
    let mut v = Vec::new();
    let (y, (dx, dout)) = r_grad(1.5, &mut v);
    assert_eq!(y, 6.75);
    close("d/dx", dx, 9.0, TOL);
    // The buffer started empty: its gradient is empty; the function's effect on it happened.
    assert!(dout.is_empty());
    assert_eq!(v, [2.25]);
    // The pullback does not hold on to the caller's buffer.
    let mut w = Vec::new();
    let (_, pb) = r_vjp(1.5, &mut w);
    w.push(0.0);
    close("vjp d/dx", pb(1.0).0, 9.0, TOL);
}

// ---------------------------------------------------------------------------------------------
// Workspace buffers: written element by element, read back, with initial contents that matter.
// ---------------------------------------------------------------------------------------------

/// buf[i] ← x[i]·w + buf[i] (its initial contents), then Σ buf[i]²:
/// ∂/∂x[i] = 2·buf'[i]·w, ∂/∂w = Σ 2·buf'[i]·x[i], ∂/∂buf₀[i] = 2·buf'[i].
#[differentiate]
fn workspace(x: &[f64], w: f64, buf: &mut [f64]) -> f64 {
    for i in 0..x.len() {
        buf[i] += x[i] * w;
    }
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * buf[i];
    }
    s
}

#[test]
fn workspace_buffer_written_and_read() {
    let x = [0.5, -1.0, 2.0];
    let w = 0.7;
    let init = [0.1, 0.2, -0.3];
    let mut buf = init;
    let (s, (dx, dw, dbuf)) = workspace_grad(&x, w, &mut buf);
    let after: Vec<f64> = (0..3).map(|i| x[i] * w + init[i]).collect();
    assert_eq!(buf.to_vec(), after);
    close("value", s, after.iter().map(|b| b * b).sum(), TOL);
    for i in 0..3 {
        close("∂x", dx[i], 2.0 * after[i] * w, TOL);
        close("∂buf", dbuf[i], 2.0 * after[i], TOL);
    }
    close("∂w", dw, (0..3).map(|i| 2.0 * after[i] * x[i]).sum(), TOL);
    let f = |p: &(Vec<f64>, f64, Vec<f64>)| {
        let mut b = p.2.clone();
        workspace(&p.0, p.1, &mut b)
    };
    let r = gradcheck(f, &(x.to_vec(), w, init.to_vec()), &(dx, dw, dbuf));
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Building a vector: `Vec::new()`, `push` in a loop, reading it back.
// ---------------------------------------------------------------------------------------------

/// v = [w·x₀², w·x₁², …] built by push, then Σ v[i]·(i+1): ∂/∂x[i] = 2w·x[i]·(i+1),
/// ∂/∂w = Σ x[i]²·(i+1).
#[differentiate]
fn built(x: &[f64], w: f64) -> f64 {
    let mut v = Vec::new();
    for i in 0..x.len() {
        v.push(w * x[i] * x[i]);
    }
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * (i + 1) as f64;
    }
    s
}

#[test]
fn vector_built_with_push() {
    let x = vec![0.5, -1.5, 2.0, 0.25];
    let w = 1.3;
    let (_, (dx, dw)) = built_grad(&x, w);
    for i in 0..4 {
        close("∂x", dx[i], 2.0 * w * x[i] * (i + 1) as f64, TOL);
    }
    close(
        "∂w",
        dw,
        (0..4).map(|i| x[i] * x[i] * (i + 1) as f64).sum(),
        TOL,
    );
    let r = gradcheck(|p: &(Vec<f64>, f64)| built(&p.0, p.1), &(x, w), &(dx, dw));
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Every mutation, on a local vector: each one moves values around in a way the gradient must
// follow exactly. The functions weight positions differently so that a misplaced cotangent
// changes the result.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn mutations_a(a: f64, b: f64, c: f64) -> f64 {
    let mut v = Vec::new();
    v.push(a);
    v.push(b * b);
    v.push(c);
    v.insert(1, a * c);
    v.swap(0, 3);
    let last = v.pop().unwrap();
    v.reverse();
    let mid = v.remove(1);
    v.push(last * mid);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * ((i + 1) * (i + 1)) as f64;
    }
    s
}

#[test]
fn push_insert_swap_pop_reverse_remove() {
    for (a, b, c) in [(0.5, 1.5, -2.0), (-1.0, 0.3, 0.7)] {
        let (y, (da, db, dc)) = mutations_a_grad(a, b, c);
        assert_eq!(y, mutations_a(a, b, c));
        // [a, b², c] → [a, ac, b², c] → [c, ac, b², a] → pop a: [c, ac, b²] → [b², ac, c]
        // → remove ac: [b², c] → push a·ac: [b², c, a²c]; weights 1, 4, 9:
        // y = b² + 4c + 9a²c: ∂a = 18ac, ∂b = 2b, ∂c = 4 + 9a².
        close("∂a", da, 18.0 * a * c, TOL);
        close("∂b", db, 2.0 * b, TOL);
        close("∂c", dc, 4.0 + 9.0 * a * a, TOL);
        let r = gradcheck(
            |p: &(f64, f64, f64)| mutations_a(p.0, p.1, p.2),
            &(a, b, c),
            &(da, db, dc),
        );
        assert!(r.passed(), "{r}");
    }
}

#[differentiate]
fn mutations_b(a: f64, b: f64, x: &[f64]) -> f64 {
    let mut v = vec![0.0; 3];
    v.fill(a);
    v.resize(5, b);
    v.truncate(4);
    v.extend_from_slice(x);
    let first = v.swap_remove(0);
    v.push(first * b);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * ((i + 1) * (i + 1)) as f64;
    }
    s
}

#[test]
fn fill_resize_truncate_extend_swap_remove() {
    let x = vec![0.5, -2.0];
    for (a, b) in [(0.5, 1.5), (-1.0, 0.3)] {
        let (y, (da, db, dx)) = mutations_b_grad(a, b, &x);
        assert_eq!(y, mutations_b(a, b, &x));
        // [a, a, a] → resize: [a, a, a, b, b] → truncate: [a, a, a, b] → extend: [a, a, a, b,
        // x0, x1] → swap_remove(0) = a: [x1, a, a, b, x0] → push a·b: [x1, a, a, b, x0, ab];
        // weights 1, 4, 9, 16, 25, 36: y = x1 + 13a + 16b + 25x0 + 36ab.
        close("∂a", da, 13.0 + 36.0 * b, TOL);
        close("∂b", db, 16.0 + 36.0 * a, TOL);
        close("∂x0", dx[0], 25.0, TOL);
        close("∂x1", dx[1], 1.0, TOL);
        let r = gradcheck(
            |p: &(f64, f64, Vec<f64>)| mutations_b(p.0, p.1, &p.2),
            &(a, b, x.clone()),
            &(da, db, dx),
        );
        assert!(r.passed(), "{r}");
    }
}

/// `clear` drops what the vector held; `copy_from_slice` overwrites a buffer.
/// y = Σ (final v)[i]·(i+1)² with v = [c·c] after clear and push; out ← x then out[0] *= c:
/// y = c² + out₀·1 + … : ∂c = 2c + x0, ∂x = [c, 4, 9].
#[differentiate]
fn clear_and_copy(c: f64, x: &[f64], out: &mut [f64]) -> f64 {
    let mut v = Vec::new();
    v.push(c);
    v.push(c * 3.0);
    v.clear();
    v.push(c * c);
    out.copy_from_slice(x);
    out[0] *= c;
    let mut s = v[0];
    for i in 0..out.len() {
        s += out[i] * ((i + 1) * (i + 1)) as f64;
    }
    s
}

#[test]
fn clear_and_copy_from_slice() {
    let x = vec![0.5, -2.0, 1.25];
    let c = 0.8;
    let mut out = [9.0, 9.0, 9.0];
    let (_, (dc, dx, dout)) = clear_and_copy_grad(c, &x, &mut out);
    close("∂c", dc, 2.0 * c + x[0], TOL);
    close("∂x0", dx[0], c, TOL);
    close("∂x1", dx[1], 4.0, TOL);
    close("∂x2", dx[2], 9.0, TOL);
    // The buffer's initial contents are overwritten: their gradient is zero.
    assert_eq!(dout, vec![0.0; 3]);
    assert_eq!(out, [0.5 * c, -2.0, 1.25]);
}

/// A local array written, swapped and reversed: y = Σ h[i]·(i+1) with h = reverse(swap(..)).
/// h = [x, 2x, x²] → swap(0, 2) → [x², 2x, x] → reverse → [x, 2x, x²]: y = x + 4x + 3x²,
/// dy/dx = 5 + 6x.
#[differentiate]
fn array_moves(x: f64) -> f64 {
    let mut h = [0.0; 3];
    h[0] = x;
    h[1] = 2.0 * x;
    h[2] = x * x;
    h.swap(0, 2);
    h.reverse();
    h[0] + 2.0 * h[1] + 3.0 * h[2]
}

#[test]
fn array_swap_and_reverse() {
    for x in [0.5, -1.25] {
        let (_, d) = array_moves_grad(x);
        close("d/dx", d, 5.0 + 6.0 * x, TOL);
        fd("array moves", array_moves, x, d);
    }
}

// ---------------------------------------------------------------------------------------------
// The three checks of a function of a slice and a scalar, for the operations below: `_grad`
// against the analytic gradient, against central differences, and forward mode (`_jvp` against
// directional differences, against `_vjp` by the dot-product test, and against the analytic
// gradient along each direction).
// ---------------------------------------------------------------------------------------------

macro_rules! check_slice_scalar {
    ($f:ident, $grad:ident, $jvp:ident, $vjp:ident, $x:expr, $y:expr, $expected:expr) => {{
        let (x, y): (Vec<f64>, f64) = ($x.to_vec(), $y);
        let (ex, ey): (Vec<f64>, f64) = $expected;
        let what = format!("{} at {x:?}, {y}", stringify!($f));
        let (value, (dx, dy)) = $grad(&x, y);
        assert_eq!(value, $f(&x, y), "{what}: the value");
        assert_eq!(dx.len(), x.len(), "{what}");
        for i in 0..x.len() {
            close(&format!("{what}: ∂x[{i}]"), dx[i], ex[i], TOL);
        }
        close(&format!("{what}: ∂y"), dy, ey, TOL);
        let r = gradcheck(
            |p: &(Vec<f64>, f64)| $f(&p.0, p.1),
            &(x.clone(), y),
            &(dx, dy),
        );
        assert!(r.passed(), "{what}: {r}");
        let pairs = forward(&what).check(
            &(x.clone(), y),
            |p| $f(&p.0, p.1),
            |p, v| $jvp(&p.0, p.1, &v.0, v.1),
            |p, w| {
                let (value, pullback) = $vjp(&p.0, p.1);
                (value, pullback(w))
            },
        );
        for ((vx, vy), t) in pairs {
            let expected: f64 = (0..x.len()).map(|i| ex[i] * vx[i]).sum::<f64>() + ey * vy;
            close(&format!("{what}: tangent"), t, expected, TOL);
        }
    }};
}

/// `Σ (i+1)·v[i]`: position weights, so that a misplaced element changes the value.
fn weighted(v: &[f64]) -> f64 {
    v.iter().enumerate().map(|(i, e)| (i + 1) as f64 * e).sum()
}

// ---------------------------------------------------------------------------------------------
// Rotations: `rotate_left(k)`, `rotate_right(k)`; the adjoint is the inverse rotation.
// ---------------------------------------------------------------------------------------------

/// v = x rotated left by k then right by 1, so v[i] = x[(i + k − 1) mod n];
/// y = w·Σ (i+1)·v[i]: ∂x[j] = w·(((j − k + 1) mod n) + 1), ∂w = Σ (i+1)·v[i].
#[differentiate]
fn rotated(x: &[f64], w: f64) -> f64 {
    let mut v = x.to_vec();
    let k = 2;
    v.rotate_left(k);
    v.rotate_right(1);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * w * (i + 1) as f64;
    }
    s
}

#[test]
fn rotate_a_vec() {
    for (x, w) in [
        (vec![0.5, -1.5, 2.0, 0.25, 3.0], 1.3),
        (vec![1.0, 2.0], -0.7),
    ] {
        let n = x.len();
        let mut v = x.clone();
        v.rotate_left(2 % n);
        v.rotate_right(1);
        let ex = (0..n)
            .map(|j| w * (((j + 2 * n - 2 + 1) % n) + 1) as f64)
            .collect();
        check_slice_scalar!(
            rotated,
            rotated_grad,
            rotated_jvp,
            rotated_vjp,
            x,
            w,
            (ex, weighted(&v))
        );
    }
}

/// An array parameter rotated in a loop, left or right as a branch on its contents says, and
/// a `&mut` slice rotated right by 2: y = Σ (i+1)·a'[i]·b'[i] with a' = π(a), b'[i] = b[(i − 2)
/// mod n]. ∂a[j] = (p+1)·b'[p] where p is the final position of a[j]; ∂b[j] = (q+1)·a'[q] with
/// q = (j + 2) mod n.
#[differentiate]
fn rotated_array(mut a: [f64; 4], buf: &mut [f64], steps: usize) -> f64 {
    for _ in 0..steps {
        if a[0] > a[1] {
            a.rotate_left(1);
        } else {
            a.rotate_right(3);
        }
    }
    buf.rotate_right(2);
    let mut s = 0.0;
    for i in 0..4 {
        s += (i + 1) as f64 * a[i] * buf[i];
    }
    s
}

/// Where each element of `a` ends after `rotated_array`'s loop (the same moves on positions).
fn rotated_positions(a: [f64; 4], steps: usize) -> [usize; 4] {
    let mut moved = [(a[0], 0), (a[1], 1), (a[2], 2), (a[3], 3)];
    for _ in 0..steps {
        if moved[0].0 > moved[1].0 {
            moved.rotate_left(1);
        } else {
            moved.rotate_right(3);
        }
    }
    let mut at = [0; 4];
    for (p, &(_, j)) in moved.iter().enumerate() {
        at[j] = p;
    }
    at
}

#[test]
fn rotate_an_array_parameter_and_a_mut_slice() {
    let b = [0.5, -1.0, 2.0, 1.5];
    for (a, steps) in [([3.0, 1.0, -2.0, 0.5], 3), ([-1.0, 2.0, 0.25, 4.0], 5)] {
        let mut buf = b.to_vec();
        let (y, (da, db)) = rotated_array_grad(a, &mut buf, steps);
        // The function rotated the caller's buffer, and so did the gradient's forward pass.
        let mut expected_buf = b;
        expected_buf.rotate_right(2);
        assert_eq!(buf, expected_buf);
        assert_eq!(y, rotated_array(a, &mut b.to_vec(), steps));
        let at = rotated_positions(a, steps);
        let mut moved = [0.0; 4];
        for j in 0..4 {
            moved[at[j]] = a[j];
        }
        for j in 0..4 {
            let p = at[j];
            close("∂a", da[j], (p + 1) as f64 * expected_buf[p], TOL);
            let q = (j + 2) % 4;
            close("∂buf", db[j], (q + 1) as f64 * moved[q], TOL);
        }
        let f = |p: &([f64; 4], Vec<f64>)| rotated_array(p.0, &mut p.1.clone(), steps);
        let r = gradcheck(f, &(a, b.to_vec()), &(da, db));
        assert!(r.passed(), "{r}");
        forward("rotated array").check(
            &(a, b.to_vec()),
            f,
            |p, v| {
                let mut buf = p.1.clone();
                let out = rotated_array_jvp(p.0, &mut buf, steps, v.0, &v.1);
                assert_eq!(buf, expected_buf, "_jvp rotates the buffer");
                out
            },
            |p, g| {
                let (value, pullback) = rotated_array_vjp(p.0, &mut p.1.clone(), steps);
                (value, pullback(g))
            },
        );
    }
}
