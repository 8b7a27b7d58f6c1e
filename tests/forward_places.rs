//! Forward mode (`f_jvp`) through slices, arrays and containers that change: `&[f64]`, `Vec<f64>`,
//! `&Vec<f64>` and `[f64; N]` parameters (their tangents are `&Vec<f64>`, `Vec<f64>` and
//! `[f64; N]`), element reads, the iteration forms, local arrays written element by element,
//! copies, every mutation of a local `Vec` the derivative follows (`push`, `pop`, `insert`,
//! `remove`, `swap_remove`, `swap`, `reverse`, `fill`, `clear`, `truncate`, `resize`,
//! `extend_from_slice`, `copy_from_slice`), and `&mut` buffers (their tangent is that of their
//! contents on entry, `&Vec<f64>`). The forward mode of the other mutations (rotations,
//! `split_off`, writes through `iter_mut` items, ndarray's `assign` and axes) is checked beside
//! their gradients in `places.rs`.
//!
//! Each function is checked along seeded random directions (see `common::forward`): the tangent
//! against central differences along the direction, against `f_vjp` by the dot-product test, the
//! value against the function's, bit for bit, and against the analytic directional derivative
//! where it is stated in a comment. Functions with a `&mut` buffer are checked as functions of
//! the buffer's initial contents, on a fresh copy each call; `f_jvp` must leave the buffer as the
//! function does.

// The functions index slices inside range loops on purpose: that is what they test.
#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Parameters: slices, arrays, Vecs; reads and iteration
// ---------------------------------------------------------------------------------------------

/// Σ xᵢ²·yᵢ − sin yᵢ: ∂xᵢ = 2xᵢyᵢ, ∂yᵢ = xᵢ² − cos yᵢ.
#[differentiate]
fn weighted(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * y[i] - y[i].sin();
    }
    s
}

/// e^{a₀}·a₂ − a₁², with an array parameter: ∇ = (e^{a₀}a₂, −2a₁, e^{a₀}).
#[differentiate]
fn fixed(a: [f64; 3]) -> f64 {
    a[0].exp() * a[2] - a[1] * a[1]
}

/// Every iteration form over a slice: s = Σ w·xᵢ + Σ xᵢ³ + Σ i·xᵢ², times t = Σ xᵢ.
#[differentiate]
fn iterate(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += w * *v;
    }
    for &v in x.iter() {
        s += v * v * v;
    }
    for (i, v) in x.iter().enumerate() {
        s += (i as f64) * v * v;
    }
    let t: f64 = x.iter().sum();
    s * t
}

/// Σ ownedᵢ·borrowedᵢ³: a `Vec<f64>` and a `&Vec<f64>` parameter.
#[differentiate]
fn vec_params(owned: Vec<f64>, borrowed: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..owned.len() {
        s += owned[i] * borrowed[i] * borrowed[i] * borrowed[i];
    }
    s
}

#[test]
fn slice_array_and_vec_parameters() {
    let (x, y) = (vec![0.5, -1.5, 2.0], vec![1.0, 0.3, -0.7]);
    let pairs = forward("weighted").check(
        &(x.clone(), y.clone()),
        |p| weighted(&p.0, &p.1),
        |p, v| weighted_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (value, pullback) = weighted_vjp(&p.0, &p.1);
            (value, pullback(w))
        },
    );
    for ((vx, vy), t) in pairs {
        let expected: f64 = (0..3)
            .map(|i| 2.0 * x[i] * y[i] * vx[i] + (x[i] * x[i] - y[i].cos()) * vy[i])
            .sum();
        close("weighted", t, expected, TOL);
    }

    let a = [0.3, -1.2, 2.5];
    let pairs = forward("fixed").check(
        &a,
        |a| fixed(*a),
        |a, v| fixed_jvp(*a, *v),
        |a, w| {
            let (value, pullback) = fixed_vjp(*a);
            (value, pullback(w))
        },
    );
    for (v, t) in pairs {
        let e = a[0].exp();
        close(
            "fixed",
            t,
            e * a[2] * v[0] - 2.0 * a[1] * v[1] + e * v[2],
            TOL,
        );
    }

    for w in [0.5, -2.0] {
        forward("iterate").check(
            &(x.clone(), w),
            |p| iterate(&p.0, p.1),
            |p, v| iterate_jvp(&p.0, p.1, &v.0, v.1),
            |p, g| {
                let (value, pullback) = iterate_vjp(&p.0, p.1);
                (value, pullback(g))
            },
        );
    }

    let pairs = forward("vec params").check(
        &(x.clone(), y.clone()),
        |p| vec_params(p.0.clone(), &p.1),
        |p, v| vec_params_jvp(p.0.clone(), &p.1, v.0.clone(), &v.1),
        |p, w| {
            let (value, pullback) = vec_params_vjp(p.0.clone(), &p.1);
            (value, pullback(w))
        },
    );
    for ((vo, vb), t) in pairs {
        // ∂ownedᵢ = bᵢ³, ∂borrowedᵢ = 3·ownedᵢ·bᵢ²
        let expected: f64 = (0..3)
            .map(|i| y[i].powi(3) * vo[i] + 3.0 * x[i] * y[i] * y[i] * vb[i])
            .sum();
        close("vec params", t, expected, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Local arrays written element by element, copies
// ---------------------------------------------------------------------------------------------

/// A recurrence written into a local vector, an element scaled in place, read back, then
/// overwritten after the last read.
#[differentiate]
fn recurrence(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    h[0] = x[0];
    for i in 1..n {
        h[i] = h[i - 1] * w + x[i];
    }
    h[n - 1] *= 2.0;
    let mut s = 0.0;
    for i in 0..n {
        s += h[i] * h[i];
    }
    h[0] = s;
    h[0] - h[1]
}

/// Copies by `to_vec`, `clone` and `to_owned`: a write into a copy leaves the original alone.
#[differentiate]
fn copies(x: &[f64]) -> f64 {
    let a = x.to_vec();
    let mut b = a.clone();
    b[1] = b[0] * 3.0;
    let c = b.to_owned();
    a[1] * c[1] + c[0]
}

/// A local array written, swapped and reversed.
#[differentiate]
fn shuffled(x: f64, y: f64) -> f64 {
    let mut h = [0.0; 4];
    h[0] = x;
    h[1] = x * y;
    h[2] = y.exp();
    h[3] = 1.0;
    h.swap(1, 3);
    h.reverse();
    h[0] * 4.0 + h[1] * 3.0 + h[2] * 2.0 + h[3]
}

#[test]
fn local_arrays_and_copies() {
    for w in [0.7, -1.3] {
        forward("recurrence").check(
            &(vec![0.5, -1.0, 2.0, 0.3], w),
            |p| recurrence(&p.0, p.1),
            |p, v| recurrence_jvp(&p.0, p.1, &v.0, v.1),
            |p, g| {
                let (value, pullback) = recurrence_vjp(&p.0, p.1);
                (value, pullback(g))
            },
        );
    }
    let x = vec![1.5, -2.0];
    let pairs = forward("copies").check(
        &x,
        |x| copies(x),
        |x, v| copies_jvp(x, v),
        |x, w| {
            let (value, pullback) = copies_vjp(x);
            (value, pullback(w))
        },
    );
    for (v, t) in pairs {
        // x₁·3x₀ + x₀: ∇ = (3x₁ + 1, 3x₀)
        close(
            "copies",
            t,
            (3.0 * x[1] + 1.0) * v[0] + 3.0 * x[0] * v[1],
            TOL,
        );
    }
    for (x, y) in [(0.5f64, 2.0f64), (-1.5, -0.25)] {
        // [x, xy, eʸ, 1] → swap(1, 3): [x, 1, eʸ, xy] → reverse: [xy, eʸ, 1, x]:
        // f = 4xy + 3eʸ + 2 + x, ∇ = (4y + 1, 4x + 3eʸ).
        let pairs = forward("shuffled").two((x, y), shuffled, shuffled_jvp, shuffled_vjp);
        tangents_are2(
            "shuffled",
            &pairs,
            (4.0 * y + 1.0, 4.0 * x + 3.0 * y.exp()),
            TOL,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Every mutation of a local vector
// ---------------------------------------------------------------------------------------------

/// `Vec::new`, `push`, `insert`, `swap`, `pop`, `reverse`, `remove`, read back with position
/// weights so that a misplaced tangent changes the result.
#[differentiate]
fn moves(a: f64, b: f64, c: f64) -> f64 {
    let mut v = Vec::new();
    v.push(a * b);
    v.push(c);
    v.insert(0, b.sin());
    v.push(a);
    v.swap(1, 3);
    let last = v.pop().unwrap();
    v.reverse();
    let first = v.remove(0);
    v.insert(1, first * last);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * (i + 2) as f64;
    }
    s
}

/// `vec![..; n]`, `fill`, `resize`, `truncate`, `extend_from_slice`, `swap_remove`.
#[differentiate]
fn resizes(a: f64, b: f64, x: &[f64]) -> f64 {
    let mut v = vec![1.0; 2];
    v.fill(a * a);
    v.resize(4, b);
    v.extend_from_slice(x);
    v.truncate(5);
    let out = v.swap_remove(1);
    v.push(out * b);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * (i * i + 1) as f64;
    }
    s
}

#[test]
fn every_mutation_of_a_local_vec() {
    for (a, b, c) in [(0.5f64, 1.5f64, -2.0f64), (-1.0, 0.3, 0.7)] {
        // [ab, c] → insert: [sin b, ab, c] → push: [sin b, ab, c, a] → swap(1, 3):
        // [sin b, a, c, ab] → pop ab: [sin b, a, c] → reverse: [c, a, sin b] → remove c:
        // [a, sin b] → insert(1, c·ab): [a, abc, sin b]; weights 2, 3, 4:
        // f = 2a + 3abc + 4 sin b, ∇ = (2 + 3bc, 3ac + 4 cos b, 3ab).
        let g = (2.0 + 3.0 * b * c, 3.0 * a * c + 4.0 * b.cos(), 3.0 * a * b);
        let pairs = forward("moves").three((a, b, c), moves, moves_jvp, moves_vjp);
        for ((da, db, dc), t) in pairs {
            close("moves", t, g.0 * da + g.1 * db + g.2 * dc, TOL);
        }
    }
    let x = vec![0.5, -2.0];
    for (a, b) in [(0.5, 1.5), (-1.0, 0.3)] {
        // [1, 1] → fill: [a², a²] → resize: [a², a², b, b] → extend: [a², a², b, b, x₀, x₁]
        // → truncate: [a², a², b, b, x₀] → swap_remove(1) = a²: [a², x₀, b, b] → push a²b:
        // [a², x₀, b, b, a²b]; weights 1, 2, 5, 10, 17: f = a² + 2x₀ + 15b + 17a²b,
        // ∇ = (2a + 34ab, 15 + 17a², (2, 0)).
        let pairs = forward("resizes").check(
            &(a, b, x.clone()),
            |p| resizes(p.0, p.1, &p.2),
            |p, v| resizes_jvp(p.0, p.1, &p.2, v.0, v.1, &v.2),
            |p, w| {
                let (value, pullback) = resizes_vjp(p.0, p.1, &p.2);
                (value, pullback(w))
            },
        );
        for ((da, db, dx), t) in pairs {
            let expected = (2.0 * a + 34.0 * a * b) * da + (15.0 + 17.0 * a * a) * db + 2.0 * dx[0];
            close("resizes", t, expected, TOL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `&mut` buffers
// ---------------------------------------------------------------------------------------------

/// Values pushed into a caller's buffer (with contents of its own) and read back.
#[differentiate]
fn log_into(x: f64, y: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * y);
    out.push(y.exp());
    let n = out.len();
    out[0] * out[n - 2] - out[n - 1]
}

/// A workspace updated in place from its own contents: bufᵢ ← bufᵢ·w + xᵢ, then Σ sin bufᵢ.
#[differentiate]
fn accumulate(x: &[f64], w: f64, buf: &mut [f64]) -> f64 {
    for i in 0..x.len() {
        buf[i] = buf[i] * w + x[i];
    }
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i].sin();
    }
    s
}

/// `clear` and `copy_from_slice`: what the buffer held is overwritten.
#[differentiate]
fn overwrite(c: f64, x: &[f64], out: &mut [f64]) -> f64 {
    let mut v = Vec::new();
    v.push(c);
    v.push(c * c);
    v.clear();
    v.push(c.exp());
    out.copy_from_slice(x);
    out[1] *= c;
    let mut s = v[0];
    for i in 0..out.len() {
        s += out[i] * out[i];
    }
    s
}

#[test]
fn mut_buffers() {
    for (x, y) in [(1.5f64, 0.5f64), (-0.5, -1.0)] {
        for start in [vec![], vec![2.0], vec![-1.0, 3.0]] {
            // With the buffer's initial contents b: out = [b.., xy, eʸ], and
            // f = out₀·xy − eʸ with out₀ = b₀ (or xy when b is empty).
            let p = (x, y, start.clone());
            let what = format!("log into {start:?}");
            let pairs = forward(&what).check(
                &p,
                |p| log_into(p.0, p.1, &mut p.2.clone()),
                |p, v| {
                    let mut out = p.2.clone();
                    let r = log_into_jvp(p.0, p.1, &mut out, v.0, v.1, &v.2);
                    // Forward mode changes the buffer as the function does.
                    let mut expected = p.2.clone();
                    log_into(p.0, p.1, &mut expected);
                    assert_eq!(bits(&out), bits(&expected), "{what}: the buffer");
                    r
                },
                |p, w| {
                    let (value, pullback) = log_into_vjp(p.0, p.1, &mut p.2.clone());
                    (value, pullback(w))
                },
            );
            for ((dx, dy, db), t) in pairs {
                let dxy = dx * y + x * dy;
                let expected = match start.first() {
                    None => 2.0 * x * y * dxy - y.exp() * dy,
                    Some(&b0) => db[0] * x * y + b0 * dxy - y.exp() * dy,
                };
                close(&what, t, expected, TOL);
            }
        }
    }

    let x = vec![0.5, -1.0, 2.0];
    for w in [0.7, -0.4] {
        let p = (x.clone(), w, vec![0.1, 0.2, -0.3]);
        forward("accumulate").check(
            &p,
            |p| accumulate(&p.0, p.1, &mut p.2.clone()),
            |p, v| {
                let mut buf = p.2.clone();
                let r = accumulate_jvp(&p.0, p.1, &mut buf, &v.0, v.1, &v.2);
                let mut expected = p.2.clone();
                accumulate(&p.0, p.1, &mut expected);
                assert_eq!(bits(&buf), bits(&expected), "accumulate: the buffer");
                r
            },
            |p, g| {
                let (value, pullback) = accumulate_vjp(&p.0, p.1, &mut p.2.clone());
                (value, pullback(g))
            },
        );
    }

    for c in [0.8f64, -1.2] {
        let p = (c, x.clone(), vec![9.0, 9.0, 9.0]);
        let pairs = forward("overwrite").check(
            &p,
            |p| overwrite(p.0, &p.1, &mut p.2.clone()),
            |p, v| overwrite_jvp(p.0, &p.1, &mut p.2.clone(), v.0, &v.1, &v.2),
            |p, g| {
                let (value, pullback) = overwrite_vjp(p.0, &p.1, &mut p.2.clone());
                (value, pullback(g))
            },
        );
        for ((dc, dx, dout), t) in pairs {
            // f = e^c + x₀² + c²x₁² + x₂²; the buffer's initial contents do not matter.
            let expected = (c.exp() + 2.0 * c * x[1] * x[1]) * dc
                + 2.0 * x[0] * dx[0]
                + 2.0 * c * c * x[1] * dx[1]
                + 2.0 * x[2] * dx[2]
                + 0.0 * dout[0];
            close("overwrite", t, expected, TOL);
        }
    }
}
