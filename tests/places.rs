//! Containers that hold differentiated values and change: local `Vec`s, arrays and ndarray
//! arrays declared `mut`, `&mut` buffers the function fills and reads back, and every mutation
//! the derivative follows (`push`, `pop`, `insert`, `remove`, `swap_remove`, `split_off`,
//! `swap`, `reverse`, `rotate_left`, `rotate_right`, `fill`, `clear`, `truncate`, `resize`,
//! `extend_from_slice`, `copy_from_slice`, `clone_from_slice`, ndarray's `assign`,
//! `invert_axis`, `swap_axes`, `reverse_axes` and compound assignment, element writes, writes
//! through `iter_mut` items and `first_mut`/`last_mut`/`get_mut`), and element reads through
//! `first`, `last` and `get`.
//!
//! Each gradient is checked against the analytic derivative (in a comment) and against central
//! finite differences through `autodiff::check`; the functions of the newer operations are also
//! checked in forward mode (`_jvp` against directional differences, against `_vjp` by the
//! dot-product test, and against the analytic gradient), and some in second order.

#![allow(clippy::needless_range_loop)]

use autodiff::check::{gradcheck, hvpcheck};
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, array};

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
#[differentiate(hessian)]
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

// ---------------------------------------------------------------------------------------------
// `split_off(at)`: the returned tail is a new differentiated `Vec`; the adjoint concatenates.
// ---------------------------------------------------------------------------------------------

/// v = [x0, x1, x2·w, x3]; t = v.split_off(2) = [x2·w, x3], then t.push(w²):
/// y = v0·t0 + 2·v1 + 3·t1·t2 + |v| = x0·x2·w + 2·x1 + 3·x3·w² + 2:
/// ∂x = [x2·w, 2, x0·w, 3w²], ∂w = x0·x2 + 6·x3·w.
#[differentiate(hessian)]
fn split(x: &[f64], w: f64) -> f64 {
    let mut v = x.to_vec();
    v[2] *= w;
    let mut t = v.split_off(2);
    t.push(w * w);
    v[0] * t[0] + 2.0 * v[1] + 3.0 * t[1] * t[2] + v.len() as f64
}

#[test]
fn split_off_a_vec() {
    for (x, w) in [([0.5, -1.5, 2.0, 0.25], 1.3), ([-1.0, 3.0, 0.5, 2.0], -0.4)] {
        let ex = vec![x[2] * w, 2.0, x[0] * w, 3.0 * w * w];
        let ey = x[0] * x[2] + 6.0 * x[3] * w;
        check_slice_scalar!(split, split_grad, split_jvp, split_vjp, x, w, (ex, ey));
    }
}

/// The caller's buffer gets `w` pushed, then, when it is longer than 2, its tail split off and
/// dropped (an unused tail: its cotangent is zero): y = Σ (i+1)·out'[i]² over what is left.
/// With out = [b0] (too short): y = b0² + 2w², ∂b = [2b0], ∂w = 4w; with out = [b0, b1, ..]:
/// y = b0² + 2b1², ∂b = [2b0, 4b1, 0, ..], ∂w = 0.
#[differentiate]
fn split_buffer(out: &mut Vec<f64>, w: f64) -> f64 {
    out.push(w);
    if out.len() > 2 {
        let _tail = out.split_off(2);
    }
    let mut s = 0.0;
    for i in 0..out.len() {
        s += out[i] * out[i] * (i + 1) as f64;
    }
    s
}

#[test]
fn split_off_a_mut_buffer_in_a_branch() {
    let w = 0.75;
    for b in [vec![1.5], vec![1.5, -2.0], vec![1.5, -2.0, 0.5]] {
        let mut out = b.clone();
        let (y, (db, dw)) = split_buffer_grad(&mut out, w);
        let mut expected = b.clone();
        assert_eq!(y, split_buffer(&mut expected, w));
        assert_eq!(out, expected, "the buffer as the function leaves it");
        let (eb, ew): (Vec<f64>, f64) = if b.len() == 1 {
            (vec![2.0 * b[0]], 4.0 * w)
        } else {
            let mut eb = vec![0.0; b.len()];
            eb[0] = 2.0 * b[0];
            eb[1] = 4.0 * b[1];
            (eb, 0.0)
        };
        assert_eq!(db.len(), b.len());
        for i in 0..b.len() {
            close("∂b", db[i], eb[i], TOL);
        }
        close("∂w", dw, ew, TOL);
        let f = |p: &(Vec<f64>, f64)| split_buffer(&mut p.0.clone(), p.1);
        let r = gradcheck(f, &(b.clone(), w), &(db, dw));
        assert!(r.passed(), "{r}");
        forward("split buffer").check(
            &(b.clone(), w),
            f,
            |p, v| split_buffer_jvp(&mut p.0.clone(), p.1, &v.0, v.1),
            |p, g| {
                let (value, pullback) = split_buffer_vjp(&mut p.0.clone(), p.1);
                (value, pullback(g))
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `first()`, `last()`, `get(i)`: element reads; the adjoint adds into that element.
// ---------------------------------------------------------------------------------------------

/// v = x followed by w²; y = *v.first()·v.last() + v.get(1).copied()·w + *x.last() + Σ_{k<2}
/// k·v.first().copied() = x0·w² + x1·w + x_{n−1} + x0:
/// ∂x = [w² + 1, w, .., 1] (the last one adding 1 to whatever it is), ∂w = 2·x0·w + x1.
#[differentiate]
fn ends(x: &[f64], w: f64) -> f64 {
    let mut v = x.to_vec();
    v.push(w * w);
    let last = v.last().unwrap();
    let first = *v.first().unwrap();
    let mut s = first * last + v.get(1).copied().unwrap() * w + *x.last().unwrap();
    for k in 0..2 {
        s += v.first().copied().expect("not empty") * k as f64;
    }
    s + *last * 0.0
}

#[test]
fn first_last_and_get_read_elements() {
    for (x, w) in [(vec![0.5, -1.5, 2.0], 1.3), (vec![-1.0, 3.0], 0.4)] {
        let n = x.len();
        let mut ex = vec![0.0; n];
        ex[0] += w * w + 1.0;
        ex[1] += w;
        ex[n - 1] += 1.0;
        let ey = 2.0 * x[0] * w + x[1];
        check_slice_scalar!(ends, ends_grad, ends_jvp, ends_vjp, x, w, (ex, ey));
    }
}

/// The ends of each window of two: y = Σ_k *w.first()·w.last() + w.get(1) = Σ_k x_k·x_{k+1}
/// + x_{k+1}: ∂x_j = x_{j−1} + x_{j+1} + [j ≥ 1] (terms that exist).
#[differentiate]
fn window_ends(x: &[f64], w0: f64) -> f64 {
    let mut s = w0;
    for w in x.windows(2) {
        s += *w.first().unwrap() * w.last().unwrap() + w.get(1).copied().unwrap();
    }
    s
}

#[test]
fn first_last_and_get_of_windows() {
    let x = [0.5, -1.5, 2.0, 0.25];
    let n = x.len();
    let ex = (0..n)
        .map(|j| {
            let left = if j >= 1 { x[j - 1] + 1.0 } else { 0.0 };
            let right = if j + 1 < n { x[j + 1] } else { 0.0 };
            left + right
        })
        .collect();
    check_slice_scalar!(
        window_ends,
        window_ends_grad,
        window_ends_jvp,
        window_ends_vjp,
        x,
        0.3,
        (ex, 1.0)
    );
}

// ---------------------------------------------------------------------------------------------
// Loops that write through their items: `for e in v.iter_mut()`, `for e in &mut v`,
// `.enumerate()`, `.rev()`, `.zip(..)`, `for_each`; lowered to index loops with element writes.
// ---------------------------------------------------------------------------------------------

/// v ← 3x, then v ← sin v, then v[i] += w·i, then v[i] += x[i]·w (through a zip), doubled by
/// `for_each`: v[i] = 2·(sin 3x[i] + w·i + w·x[i]); y = Σ v[i]²:
/// ∂x[i] = 2v[i]·2·(3 cos 3x[i] + w), ∂w = Σ 2v[i]·2·(i + x[i]).
#[differentiate(hessian)]
fn through_items(x: &[f64], w: f64) -> f64 {
    let mut v = x.to_vec();
    for e in v.iter_mut() {
        *e *= 3.0;
    }
    for e in &mut v {
        *e = e.sin();
    }
    for (i, e) in v.iter_mut().enumerate() {
        *e += w * i as f64;
    }
    for (e, xi) in v.iter_mut().zip(x) {
        *e += xi * w;
    }
    v.iter_mut().for_each(|e| *e *= 2.0);
    let mut s = 0.0;
    for e in v.iter() {
        s += e * e;
    }
    s
}

#[test]
fn write_through_the_items_of_a_vec() {
    for (x, w) in [(vec![0.5f64, -1.5, 2.0], 1.3f64), (vec![0.25], -0.6)] {
        let v: Vec<f64> = (0..x.len())
            .map(|i| 2.0 * ((3.0 * x[i]).sin() + w * i as f64 + w * x[i]))
            .collect();
        let ex = (0..x.len())
            .map(|i| 4.0 * v[i] * (3.0 * (3.0 * x[i]).cos() + w))
            .collect();
        let ey = (0..x.len()).map(|i| 4.0 * v[i] * (i as f64 + x[i])).sum();
        check_slice_scalar!(
            through_items,
            through_items_grad,
            through_items_jvp,
            through_items_vjp,
            x,
            w,
            (ex, ey)
        );
    }
}

/// A local array written through its items with a branch on each element and a nested loop:
/// h = [1, −2, 3]·x, then the positive ones times y and the others minus i·y. With x > 0:
/// h = [xy, −2x − y, 3xy], f = h0 + 2h1 + 3h2 = 10xy − 4x − 2y: ∇ = (10y − 4, 10x − 2).
#[differentiate]
fn array_items(x: f64, y: f64) -> f64 {
    let mut h = [1.0, -2.0, 3.0];
    for (i, e) in h.iter_mut().enumerate() {
        *e *= x;
        if *e > 0.0 {
            *e *= y;
        } else {
            for _ in 0..i {
                *e -= y;
            }
        }
    }
    h[0] + 2.0 * h[1] + 3.0 * h[2]
}

#[test]
fn write_through_the_items_of_a_local_array() {
    for (x, y) in [(0.5, 1.5), (2.0, -0.25)] {
        let (value, d) = array_items_grad(x, y);
        assert_eq!(value, array_items(x, y));
        close2("array items", d, (10.0 * y - 4.0, 10.0 * x - 2.0));
        fd2("array items", array_items, (x, y), d);
        let pairs =
            forward("array items").two((x, y), array_items, array_items_jvp, array_items_vjp);
        tangents_are2("array items", &pairs, (10.0 * y - 4.0, 10.0 * x - 2.0), TOL);
    }
}

/// `&mut` parameters written through their items: buf ← buf·w (`iter_mut`), out ← out + w²
/// (`iter_mut().rev()`), then out[i] ← out[i]·buf[i] (zipped with `buf`), then doubled (`for o
/// in &mut *out`), read back: y = Σ out'[i] = 2·Σ (o_i + w²)·b_i·w: ∂b_i = 2(o_i + w²)·w,
/// ∂o_i = 2b_i·w, ∂w = 2·Σ b_i·(o_i + 3w²).
#[differentiate]
fn through_buffers(buf: &mut [f64], out: &mut Vec<f64>, w: f64) -> f64 {
    for e in buf.iter_mut() {
        *e *= w;
    }
    for e in out.iter_mut().rev() {
        *e += w * w;
    }
    for (o, b) in out.iter_mut().zip(buf.iter()) {
        *o *= b;
    }
    for o in &mut *out {
        *o *= 2.0;
    }
    let mut s = 0.0;
    for o in out.iter() {
        s += o;
    }
    s
}

#[test]
fn write_through_the_items_of_mut_parameters() {
    let (b, o) = (vec![0.5, -1.5, 2.0], vec![1.0, 0.25, -3.0]);
    for w in [1.3, -0.7] {
        let (mut buf, mut out) = (b.clone(), o.clone());
        let (y, (db, dout, dw)) = through_buffers_grad(&mut buf, &mut out, w);
        let (mut eb, mut eo) = (b.clone(), o.clone());
        assert_eq!(y, through_buffers(&mut eb, &mut eo, w));
        assert_eq!(
            (buf, out),
            (eb, eo),
            "the buffers as the function leaves them"
        );
        for i in 0..3 {
            close("∂buf", db[i], 2.0 * (o[i] + w * w) * w, TOL);
            close("∂out", dout[i], 2.0 * b[i] * w, TOL);
        }
        let ew: f64 = (0..3).map(|i| 2.0 * b[i] * (o[i] + 3.0 * w * w)).sum();
        close("∂w", dw, ew, TOL);
        let f = |p: &(Vec<f64>, Vec<f64>, f64)| {
            through_buffers(&mut p.0.clone(), &mut p.1.clone(), p.2)
        };
        let p = (b.clone(), o.clone(), w);
        let r = gradcheck(f, &p, &(db, dout, dw));
        assert!(r.passed(), "{r}");
        forward("through buffers").check(
            &p,
            f,
            |p, v| through_buffers_jvp(&mut p.0.clone(), &mut p.1.clone(), p.2, &v.0, &v.1, v.2),
            |p, g| {
                let (value, pullback) =
                    through_buffers_vjp(&mut p.0.clone(), &mut p.1.clone(), p.2);
                (value, pullback(g))
            },
        );
    }
}

/// An array parameter and a `&mut` slice written through their items, the slice iterated as
/// itself (`for e in buf`, its last use): a ← a·w (`for e in &mut a`), buf ← buf + a; then
/// y = Σ (i+1)·a'[i] = w·Σ (i+1)·a_i (the caller sees buf's new contents, y does not read them):
/// ∂a_i = (i+1)·w, ∂b = 0, ∂w = Σ (i+1)·a_i.
#[allow(clippy::explicit_counter_loop)] // `for e in buf` itself is what is tested
#[differentiate]
fn array_param_items(mut a: [f64; 3], buf: &mut [f64], w: f64) -> f64 {
    for e in &mut a {
        *e *= w;
    }
    let mut k = 0;
    for e in buf {
        *e += a[k];
        k += 1;
    }
    let mut s = 0.0;
    for (i, e) in a.iter().enumerate() {
        s += (i + 1) as f64 * e;
    }
    s
}

#[test]
fn write_through_the_items_of_an_array_parameter_and_a_slice() {
    let (a, b) = ([0.5, -1.5, 2.0], vec![1.0, 0.25, -3.0]);
    for w in [1.3, -0.7] {
        let mut buf = b.clone();
        let (y, (da, db, dw)) = array_param_items_grad(a, &mut buf, w);
        assert_eq!(y, array_param_items(a, &mut b.clone(), w));
        for i in 0..3 {
            assert_eq!(
                buf[i],
                b[i] + a[i] * w,
                "the buffer as the function leaves it"
            );
            close("∂a", da[i], (i + 1) as f64 * w, TOL);
            // The buffer is written but only `a` is read back.
            close("∂buf", db[i], 0.0, TOL);
        }
        close("∂w", dw, (0..3).map(|i| (i + 1) as f64 * a[i]).sum(), TOL);
        let p = (a, b.clone(), w);
        let f = |p: &([f64; 3], Vec<f64>, f64)| array_param_items(p.0, &mut p.1.clone(), p.2);
        let r = gradcheck(f, &p, &(da, db, dw));
        assert!(r.passed(), "{r}");
        forward("array param items").check(
            &p,
            f,
            |p, v| array_param_items_jvp(p.0, &mut p.1.clone(), p.2, v.0, &v.1, v.2),
            |p, g| {
                let (value, pullback) = array_param_items_vjp(p.0, &mut p.1.clone(), p.2);
                (value, pullback(g))
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `first_mut`, `last_mut`, `get_mut`: element writes.
// ---------------------------------------------------------------------------------------------

/// v = x; *first_mut ← w·v0; *last_mut += w; *get_mut(1) *= v0 (the new one):
/// v = [w·x0, x1·w·x0, x2 + w]; y = Σ (i+1)·v[i] = w·x0 + 2·w·x0·x1 + 3·(x2 + w):
/// ∂x = [w + 2w·x1, 2w·x0, 3], ∂w = x0 + 2·x0·x1 + 3.
#[differentiate]
fn through_accessors(x: &[f64], w: f64) -> f64 {
    let mut v = x.to_vec();
    *v.first_mut().unwrap() = w * v[0];
    *v.last_mut().unwrap() += w;
    let v0 = v[0];
    *v.get_mut(1).expect("three elements") *= v0;
    let mut s = 0.0;
    for i in 0..v.len() {
        s += (i + 1) as f64 * v[i];
    }
    s
}

#[test]
fn write_through_first_last_and_get_mut() {
    for (x, w) in [([0.5, -1.5, 2.0], 1.3), ([-1.0, 3.0, 0.25], -0.4)] {
        let ex = vec![w + 2.0 * w * x[1], 2.0 * w * x[0], 3.0];
        let ey = x[0] + 2.0 * x[0] * x[1] + 3.0;
        check_slice_scalar!(
            through_accessors,
            through_accessors_grad,
            through_accessors_jvp,
            through_accessors_vjp,
            x,
            w,
            (ex, ey)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays `[f64; N]`: `reverse`, `rotate_*`, `fill`, `swap`, `copy_from_slice`,
// `clone_from_slice` on local arrays and array parameters, in branches and loops.
// ---------------------------------------------------------------------------------------------

/// h ← x (`copy_from_slice`), a reversed, h swapped, then when c > 0 a rotated left, otherwise
/// filled with c; h rotated right twice (in a loop); y = Σ (i+1)·a[i]·h[i] + c·h[0].
/// c > 0: a = [a1, a0, a2], h = [x1, x0, x2]: y = a1x1 + 2a0x0 + 3a2x2 + c·x1:
/// ∂a = [2x0, x1, 3x2], ∂x = [2a0, a1 + c, 3a2], ∂c = x1.
/// c ≤ 0: a = [c, c, c]: y = c·(x1 + 2x0 + 3x2) + c·x1: ∂a = 0, ∂x = [2c, 2c, 3c],
/// ∂c = 2x0 + 2x1 + 3x2.
#[differentiate]
fn array_moves_all(mut a: [f64; 3], x: &[f64], c: f64) -> f64 {
    let mut h = [0.0; 3];
    h.copy_from_slice(x);
    a.reverse();
    h.swap(0, 2);
    if c > 0.0 {
        a.rotate_left(1);
    } else {
        a.fill(c);
    }
    for _ in 0..2 {
        h.rotate_right(1);
    }
    let mut s = c * h[0];
    for i in 0..3 {
        s += (i + 1) as f64 * a[i] * h[i];
    }
    s
}

#[test]
fn every_mutation_of_arrays() {
    let (a, x) = ([0.5, -1.5, 2.0], vec![1.0, 0.25, -3.0]);
    for c in [0.8, -1.2] {
        let (y, (da, dx, dc)) = array_moves_all_grad(a, &x, c);
        assert_eq!(y, array_moves_all(a, &x, c));
        let (ea, ex, ec) = if c > 0.0 {
            (
                [2.0 * x[0], x[1], 3.0 * x[2]],
                [2.0 * a[0], a[1] + c, 3.0 * a[2]],
                x[1],
            )
        } else {
            (
                [0.0; 3],
                [2.0 * c, 2.0 * c, 3.0 * c],
                2.0 * x[0] + 2.0 * x[1] + 3.0 * x[2],
            )
        };
        for i in 0..3 {
            close("∂a", da[i], ea[i], TOL);
            close("∂x", dx[i], ex[i], TOL);
        }
        close("∂c", dc, ec, TOL);
        let p = (a, x.clone(), c);
        let f = |p: &([f64; 3], Vec<f64>, f64)| array_moves_all(p.0, &p.1, p.2);
        let r = gradcheck(f, &p, &(da, dx, dc));
        assert!(r.passed(), "{r}");
        let pairs = forward("array moves").check(
            &p,
            f,
            |p, v| array_moves_all_jvp(p.0, &p.1, p.2, v.0, &v.1, v.2),
            |p, g| {
                let (value, pullback) = array_moves_all_vjp(p.0, &p.1, p.2);
                (value, pullback(g))
            },
        );
        for ((va, vx, vc), t) in pairs {
            let expected: f64 =
                (0..3).map(|i| ea[i] * va[i] + ex[i] * vx[i]).sum::<f64>() + ec * vc;
            close("array moves, tangent", t, expected, TOL);
        }
    }
}

/// A `&mut [f64; 2]` parameter swapped and overwritten from a local array by
/// `clone_from_slice`, a local array reversed in a loop (an odd number of times):
/// g = [2x, x²] reversed thrice = [x², 2x]; b ← g; y = b0·w + 3·b1 = x²·w + 6x, and b's initial
/// contents are overwritten: ∂b = 0, ∂x = 2xw + 6, ∂w = x².
#[differentiate]
fn array_buffer(b: &mut [f64; 2], x: f64, w: f64) -> f64 {
    let mut g = [2.0 * x, x * x];
    for _ in 0..3 {
        g.reverse();
    }
    b.swap(0, 1);
    b.clone_from_slice(&g);
    b[0] * w + 3.0 * b[1]
}

#[test]
fn array_buffer_swapped_and_overwritten() {
    for (x, w) in [(0.5, 1.5), (-2.0, 0.25)] {
        let start = [7.0, -8.0];
        let mut b = start;
        let (y, (db, dx, dw)) = array_buffer_grad(&mut b, x, w);
        assert_eq!(b, [x * x, 2.0 * x], "the buffer as the function leaves it");
        assert_eq!(y, array_buffer(&mut start.clone(), x, w));
        assert_eq!(db, [0.0; 2]);
        close("∂x", dx, 2.0 * x * w + 6.0, TOL);
        close("∂w", dw, x * x, TOL);
        let f = |p: &([f64; 2], f64, f64)| array_buffer(&mut p.0.clone(), p.1, p.2);
        let r = gradcheck(f, &(start, x, w), &(db, dx, dw));
        assert!(r.passed(), "{r}");
        forward("array buffer").check(
            &(start, x, w),
            f,
            |p, v| array_buffer_jvp(&mut p.0.clone(), p.1, p.2, &v.0, v.1, v.2),
            |p, g| {
                let (value, pullback) = array_buffer_vjp(&mut p.0.clone(), p.1, p.2);
                (value, pullback(g))
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The gradient runs wherever the function runs: lengths read after mutations that shrink.
// ---------------------------------------------------------------------------------------------

/// v = x truncated to 2, popped when longer than 1 (the popped element unused), rotated by 0,
/// doubled through its items, its length read: v = [2x0] for a non-empty x, so
/// y = |v| + Σ v[i]² = 1 + 4x0²: ∂x = [8x0, 0, ..]; an empty x gives y = 0 and an empty
/// gradient.
#[differentiate]
fn shrink_then_len(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.truncate(2);
    if v.len() > 1 {
        let _ = v.pop();
    }
    v.rotate_left(0);
    let mut s = v.len() as f64;
    for e in v.iter_mut() {
        *e *= 2.0;
    }
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    s
}

#[test]
fn shrinking_mutations_never_panic_in_the_gradient() {
    for x in [
        vec![],
        vec![1.5],
        vec![1.5, -2.0],
        vec![1.5, -2.0, 0.5, 3.0],
    ] {
        let (y, dx) = shrink_then_len_grad(&x);
        assert_eq!(y, shrink_then_len(&x));
        assert_eq!(dx.len(), x.len());
        for i in 0..x.len() {
            // y = 4·x0² + 1 when x is not empty.
            let e = if i == 0 { 8.0 * x[0] } else { 0.0 };
            close("∂x", dx[i], e, TOL);
        }
        if !x.is_empty() {
            let r = gradcheck(|x: &Vec<f64>| shrink_then_len(x), &x, &dx);
            assert!(r.passed(), "{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ndarray arrays: compound assignment with arrays and scalars (broadcasting a row), `assign`,
// `fill`, `invert_axis`, `swap_axes`, `reverse_axes`, on local arrays and `&mut` parameters.
// ---------------------------------------------------------------------------------------------

/// c ← a, then += b, −= b/2, *= b, /= (b² + 1), += row (broadcast over the rows), += x, *= x:
/// c = x·(u + r + x) with u = (a + b/2)·b/(b² + 1) elementwise; y = Σ c²:
/// ∂a = 2c·x·b/(b² + 1), ∂b = 2c·x·((a + b)(b² + 1) − (ab + b²/2)·2b)/(b² + 1)²,
/// ∂r_j = Σ_i 2c_ij·x, ∂x = Σ 2c·(u + r + 2x).
#[differentiate]
fn nd_compound(a: &Array2<f64>, b: &Array2<f64>, row: &Array1<f64>, x: f64) -> f64 {
    let mut c = a.clone();
    c += b;
    c -= &(b * 0.5);
    c *= b;
    c /= &(b * b + 1.0);
    c += row;
    c += x;
    c *= x;
    (&c * &c).sum()
}

type NdArgs = (Array2<f64>, Array2<f64>, Array1<f64>, f64);

#[test]
fn compound_assignment_on_ndarray() {
    let a = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let b = array![[1.0, 0.5, -2.0], [-0.5, 1.25, 0.75]];
    let row = array![0.3, -0.2, 0.1];
    for x in [0.7, -1.1] {
        let (y, (da, db, dr, dx)) = nd_compound_grad(&a, &b, &row, x);
        assert_eq!(y, nd_compound(&a, &b, &row, x));
        let d = &b * &b + 1.0;
        let u = (&a + &(&b * 0.5)) * &b / &d;
        let c = (&u + &row + x) * x;
        let ea = &c * 2.0 * x * &b / &d;
        let du = ((&a + &b) * &d - (&a * &b + &b * &b * 0.5) * &b * 2.0) / (&d * &d);
        let eb = &c * 2.0 * x * &du;
        let er = (&c * 2.0 * x).sum_axis(Axis(0));
        let ex = (&c * 2.0 * (&u + &row + 2.0 * x)).sum();
        for (got, want) in [(&da, &ea), (&db, &eb)] {
            for (g, e) in got.iter().zip(want.iter()) {
                close("∂a, ∂b", *g, *e, TOL);
            }
        }
        for (g, e) in dr.iter().zip(er.iter()) {
            close("∂row", *g, *e, TOL);
        }
        close("∂x", dx, ex, TOL);
        let p: NdArgs = (a.clone(), b.clone(), row.clone(), x);
        let f = |p: &NdArgs| nd_compound(&p.0, &p.1, &p.2, p.3);
        let r = gradcheck(f, &p, &(da, db, dr, dx));
        assert!(r.passed(), "{r}");
        forward("nd compound").check(
            &p,
            f,
            |p, v| nd_compound_jvp(&p.0, &p.1, &p.2, p.3, &v.0, &v.1, &v.2, v.3),
            |p, g| {
                let (value, pullback) = nd_compound_vjp(&p.0, &p.1, &p.2, p.3);
                (value, pullback(g))
            },
        );
    }
}

/// c ← row broadcast over a's rows (`assign`), its columns reversed (`invert_axis`); d ← x
/// everywhere (`fill`), transposed (`swap_axes`); e ← aᵀ (`reverse_axes`) with its rows
/// reversed, then its elements [0, 1] and [2, 0] swapped (`swap`). With n columns:
/// c_ij = r_{n−1−j}, d = x, e_ji = a_{i,n−1−j} before the swap, and
/// y = Σ c⊙a + x·Σ d⊙e + e[0, 1] = Σ_ij r_{n−1−j}·a_ij + x²·Σ a + a_{0,0} (the old e[2, 0]):
/// ∂a_ij = r_{n−1−j} + x² + [i = 0, j = 0], ∂r_k = Σ_i a_{i,n−1−k}, ∂x = 2x·Σ a.
#[differentiate]
fn nd_moves(a: &Array2<f64>, row: &Array1<f64>, x: f64) -> f64 {
    let mut c = a.clone();
    c.assign(row);
    c.invert_axis(Axis(1));
    let mut d = a.clone();
    d.fill(x);
    d.swap_axes(0, 1);
    let mut e = a.clone();
    e.reverse_axes();
    e.invert_axis(Axis(0));
    e.swap([0, 1], [2, 0]);
    (&c * a).sum() + (&d * &e).sum() * x + e[[0, 1]]
}

#[test]
fn assign_fill_and_axes_on_ndarray() {
    let a = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let row = array![0.3, -0.2, 0.1];
    for x in [0.7, -1.1] {
        let (y, (da, dr, dx)) = nd_moves_grad(&a, &row, x);
        assert_eq!(y, nd_moves(&a, &row, x));
        for ((i, j), g) in da.indexed_iter() {
            let e = row[2 - j] + x * x + if (i, j) == (0, 0) { 1.0 } else { 0.0 };
            close("∂a", *g, e, TOL);
        }
        for k in 0..3 {
            close("∂row", dr[k], a[[0, 2 - k]] + a[[1, 2 - k]], TOL);
        }
        close("∂x", dx, 2.0 * x * a.sum(), TOL);
        let p = (a.clone(), row.clone(), x);
        let f = |p: &(Array2<f64>, Array1<f64>, f64)| nd_moves(&p.0, &p.1, p.2);
        let r = gradcheck(f, &p, &(da, dr, dx));
        assert!(r.passed(), "{r}");
        forward("nd moves").check(
            &p,
            f,
            |p, v| nd_moves_jvp(&p.0, &p.1, p.2, &v.0, &v.1, v.2),
            |p, g| {
                let (value, pullback) = nd_moves_vjp(&p.0, &p.1, p.2);
                (value, pullback(g))
            },
        );
    }
}

/// A `&mut` array parameter changed in place: c ← x·(c + r) (`*c += row; *c *= x`), its rows
/// reversed; y = c'[0, 1]·S with S = Σ c' = x·(Σ c + m·Σ r), m rows, and
/// c'[0, 1] = x·(c[m−1, 1] + r1): ∂c_ij = x·S·[i = m−1, j = 1] + c'01·x,
/// ∂r_j = x·S·[j = 1] + c'01·x·m, ∂x = (c[m−1, 1] + r1)·S + c'01·(Σ c + m·Σ r).
#[differentiate]
fn nd_mut_param(c: &mut Array2<f64>, row: &Array1<f64>, x: f64) -> f64 {
    *c += row;
    *c *= x;
    c.invert_axis(Axis(0));
    c[[0, 1]] * c.sum()
}

#[test]
fn ndarray_mut_parameter_changed_in_place() {
    let c0 = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let row = array![0.3, -0.2, 0.1];
    let m = 2.0;
    for x in [0.7, -1.1] {
        let mut c = c0.clone();
        let (y, (dc, dr, dx)) = nd_mut_param_grad(&mut c, &row, x);
        let mut expected = c0.clone();
        assert_eq!(y, nd_mut_param(&mut expected, &row, x));
        assert_eq!(c, expected, "the array as the function leaves it");
        let s = x * (c0.sum() + m * row.sum());
        let c01 = x * (c0[[1, 1]] + row[1]);
        for ((i, j), g) in dc.indexed_iter() {
            let e = if (i, j) == (1, 1) { x * s } else { 0.0 } + c01 * x;
            close("∂c", *g, e, TOL);
        }
        for j in 0..3 {
            let e = if j == 1 { x * s } else { 0.0 } + c01 * x * m;
            close("∂row", dr[j], e, TOL);
        }
        close(
            "∂x",
            dx,
            (c0[[1, 1]] + row[1]) * s + c01 * (c0.sum() + m * row.sum()),
            TOL,
        );
        let p = (c0.clone(), row.clone(), x);
        let f = |p: &(Array2<f64>, Array1<f64>, f64)| nd_mut_param(&mut p.0.clone(), &p.1, p.2);
        let r = gradcheck(f, &p, &(dc, dr, dx));
        assert!(r.passed(), "{r}");
        forward("nd mut param").check(
            &p,
            f,
            |p, v| {
                let mut c = p.0.clone();
                let out = nd_mut_param_jvp(&mut c, &p.1, p.2, &v.0, &v.1, v.2);
                assert_eq!(c, expected, "_jvp changes the array as the function does");
                out
            },
            |p, g| {
                let (value, pullback) = nd_mut_param_vjp(&mut p.0.clone(), &p.1, p.2);
                (value, pullback(g))
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reads of a `&mut` buffer through accessors, and second order through the new mutations.
// ---------------------------------------------------------------------------------------------

/// The caller's buffer gets x·w pushed; y = *out.first().unwrap()·out.last().copied().unwrap().
/// With b non-empty: y = b0·x·w: ∂b = [x·w, 0, ..], ∂x = b0·w, ∂w = b0·x; with b empty:
/// y = (x·w)²: ∂x = 2x·w², ∂w = 2x²·w.
#[differentiate]
fn buffer_ends(out: &mut Vec<f64>, x: f64, w: f64) -> f64 {
    out.push(x * w);
    *out.first().unwrap() * out.last().copied().unwrap()
}

#[test]
fn first_and_last_of_a_mut_buffer() {
    let (x, w) = (0.5, -1.5);
    for b in [vec![], vec![2.0], vec![2.0, 3.0]] {
        let (y, (db, dx, dw)) = buffer_ends_grad(&mut b.clone(), x, w);
        assert_eq!(y, buffer_ends(&mut b.clone(), x, w));
        let (eb, ex, ew) = match b.first() {
            Some(&b0) => {
                let mut eb = vec![0.0; b.len()];
                eb[0] = x * w;
                (eb, b0 * w, b0 * x)
            }
            None => (vec![], 2.0 * x * w * w, 2.0 * x * x * w),
        };
        assert_eq!(db, eb);
        close("∂x", dx, ex, TOL);
        close("∂w", dw, ew, TOL);
        let f = |p: &(Vec<f64>, f64, f64)| buffer_ends(&mut p.0.clone(), p.1, p.2);
        let p = (b.clone(), x, w);
        let r = gradcheck(f, &p, &(db, dx, dw));
        assert!(r.passed(), "{r}");
        forward("buffer ends").check(
            &p,
            f,
            |p, v| buffer_ends_jvp(&mut p.0.clone(), p.1, p.2, &v.0, v.1, v.2),
            |p, g| {
                let (value, pullback) = buffer_ends_vjp(&mut p.0.clone(), p.1, p.2);
                (value, pullback(g))
            },
        );
    }
}

/// Hessian-vector products through loops that write through their items, `split_off` and
/// rotations (forward mode over the reverse pass, whose adjoints of the mutations are linear),
/// against central differences of the gradient.
#[test]
fn second_order_through_the_mutations() {
    let x = vec![0.5, -1.5, 2.0, 0.25];
    let v = (vec![0.3, -0.7, 1.1, 0.4], 0.9);
    for w in [1.3, -0.6] {
        let p = (x.clone(), w);
        let (value, _, hv) = through_items_hvp(&x, w, &v.0, v.1);
        assert_eq!(value, through_items(&x, w));
        let r = hvpcheck(
            |p: &(Vec<f64>, f64)| through_items_grad(&p.0, p.1).1,
            &p,
            &v,
            &hv,
        );
        assert!(r.passed(), "through items: {r}");
        let (_, _, hv) = split_hvp(&x, w, &v.0, v.1);
        let r = hvpcheck(|p: &(Vec<f64>, f64)| split_grad(&p.0, p.1).1, &p, &v, &hv);
        assert!(r.passed(), "split: {r}");
        let (_, _, hv) = rotated_hvp(&x, w, &v.0, v.1);
        let r = hvpcheck(|p: &(Vec<f64>, f64)| rotated_grad(&p.0, p.1).1, &p, &v, &hv);
        assert!(r.passed(), "rotated: {r}");
    }
}
