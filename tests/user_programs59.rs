//! Image, signal and PDE code written with ndarray: the windows and chunks of a matrix or a
//! 3-D array iterated by a `for` loop (`for w in u.windows((3, 3))`, `u.windows(k.dim())`,
//! `exact_chunks((2, 2))` for pooling, `windows_with_stride((3, 2), (2, 3))` with `break` and
//! `continue`, the windows of a volume), followed as the loop over the windows' positions with
//! each window the region `u.slice(s![i..i + 3, j..j + 3])`, and as a `Zip` producer beside
//! the array they fill (`Zip::from(&mut out).and(u.windows((3, 3)))`, `Zip::indexed(&mut
//! inner).and(old.windows((3, 3))).and(w)` of a heat step, `exact_chunks((2, 2))` of a max
//! pooling), as the index loops of the other producers. They were rustc's "expected
//! `usize`, found `({integer}, {integer})`" in the generated code (taken for a vector's
//! windows), and `exact_chunks` an error that named no form to write.
//!
//! With them, an array made by a constructor that leaves its element type to rustc assigned
//! over a variable (`m = Array2::ones((2, 3));`, `let frame = std::mem::replace(&mut acc,
//! Array1::zeros(hop));` of an accumulator flushed once per frame), which takes the variable's
//! type: it was rustc's "type annotations needed" at the attribute, the generated code having
//! no declaration beside the new value.
//!
//! Each gradient is checked against its closed form (stated beside the test, computed here by
//! plain loops) and against central finite differences through `autodiff::check`; each value
//! against the plain function's, and some `_jvp` against the gradient along a direction.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::check::gradcheck;
use autodiff::differentiate;
use common::*;
use ndarray::{Array1, Array2, Array3, Zip, s};

/// An image of `h × w` deterministic values in [−1, 1].
fn image(h: usize, w: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_fn((h, w), |(i, j)| {
        ((i as f64 * 1.3 + j as f64 * 0.7 + seed) * 0.911).sin()
    })
}

#[track_caller]
fn fd_image(what: &str, f: impl Fn(&Array2<f64>) -> f64, x: &Array2<f64>, g: &Array2<f64>) {
    let r = gradcheck(|p: &Array2<f64>| f(p), x, g);
    assert!(r.passed(), "{what}: {r}");
}

#[track_caller]
fn close_image(what: &str, g: &Array2<f64>, expect: &Array2<f64>) {
    assert_eq!(g.dim(), expect.dim(), "{what}: shape");
    for ((ij, &a), &e) in g.indexed_iter().zip(expect.iter()) {
        close(&format!("{what}{ij:?}"), a, e, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// 3×3 windows: a local contrast, `Σ_w (w[1,1] − mean w)²`.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn local_contrast(u: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for w in u.windows((3, 3)) {
        s += (w[[1, 1]] - w.sum() / 9.0).powi(2);
    }
    s
}

/// `∂/∂u[p] = Σ_w 2 (c_w − m_w) ([p is w's centre] − [p in w]/9)`.
fn local_contrast_gradient(u: &Array2<f64>) -> Array2<f64> {
    let (h, w) = u.dim();
    let mut g = Array2::zeros((h, w));
    for i in 0..h.saturating_sub(2) {
        for j in 0..w.saturating_sub(2) {
            let mut m = 0.0;
            for a in 0..3 {
                for b in 0..3 {
                    m += u[[i + a, j + b]] / 9.0;
                }
            }
            let r = 2.0 * (u[[i + 1, j + 1]] - m);
            for a in 0..3 {
                for b in 0..3 {
                    g[[i + a, j + b]] -= r / 9.0;
                }
            }
            g[[i + 1, j + 1]] += r;
        }
    }
    g
}

#[test]
fn windows_of_a_matrix() {
    let u = image(5, 6, 0.3);
    let (v, g) = local_contrast_grad(&u);
    close("value", v, local_contrast(&u), TOL);
    close_image("gradient", &g, &local_contrast_gradient(&u));
    fd_image("gradient", local_contrast, &u, &g);
    // A window larger than the image: no windows, a zero gradient.
    let small = image(2, 4, 0.1);
    let (v, g) = local_contrast_grad(&small);
    assert_eq!(v, local_contrast(&small));
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|&x| x == 0.0));
    // Forward mode: the tangent is ⟨∇f, du⟩.
    let du = image(5, 6, 2.3);
    let (v, t) = local_contrast_jvp(&u, &du);
    assert_eq!(v, local_contrast(&u));
    let g = local_contrast_gradient(&u);
    close("tangent", t, (&g * &du).sum(), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// A correlation with a kernel, its shape read from the kernel or written as an array.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn correlate_tanh(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    let mut out = Vec::new();
    for w in u.windows(k.dim()) {
        out.push((&w * k).sum().tanh());
    }
    out.iter().sum()
}

#[differentiate]
fn correlate_tanh_2x3(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for w in u.windows([2, 3]) {
        s += (&w * k).sum().tanh();
    }
    s
}

/// With `z_w = Σ w ⊙ k`: `∂/∂u[p] = Σ_w sech²(z_w) k[p − start_w]`, `∂/∂k[q] = Σ_w sech²(z_w)
/// u[start_w + q]`.
fn correlate_gradient(u: &Array2<f64>, k: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let ((h, w), (kh, kw)) = (u.dim(), k.dim());
    let (mut gu, mut gk) = (Array2::zeros((h, w)), Array2::zeros((kh, kw)));
    for i in 0..=h - kh {
        for j in 0..=w - kw {
            let mut z = 0.0;
            for a in 0..kh {
                for b in 0..kw {
                    z += u[[i + a, j + b]] * k[[a, b]];
                }
            }
            let d = 1.0 - z.tanh().powi(2);
            for a in 0..kh {
                for b in 0..kw {
                    gu[[i + a, j + b]] += d * k[[a, b]];
                    gk[[a, b]] += d * u[[i + a, j + b]];
                }
            }
        }
    }
    (gu, gk)
}

#[test]
fn windows_shaped_like_a_kernel() {
    let u = image(5, 6, 0.3);
    let k = image(2, 3, 1.1);
    let (eu, ek) = correlate_gradient(&u, &k);
    for (name, f, grad) in [
        (
            "k.dim()",
            correlate_tanh as fn(&Array2<f64>, &Array2<f64>) -> f64,
            correlate_tanh_grad as fn(&Array2<f64>, &Array2<f64>) -> _,
        ),
        ("[2, 3]", correlate_tanh_2x3, correlate_tanh_2x3_grad),
    ] {
        let (v, (gu, gk)) = grad(&u, &k);
        close(name, v, f(&u, &k), TOL);
        close_image(name, &gu, &eu);
        close_image(name, &gk, &ek);
        fd_image(name, |p| f(p, &k), &u, &gu);
        fd_image(name, |p| f(&u, p), &k, &gk);
    }
}

// ---------------------------------------------------------------------------------------------
// Pooling by `exact_chunks`: the chunks that fit whole, the last row and column left out.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn pooled(u: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for c in u.exact_chunks((2, 2)) {
        let m = c.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        s += m * m + c.mean().unwrap();
    }
    s
}

/// `∂/∂u[p] = 2·max_c [p is c's largest] + 1/4` for `p` in a whole chunk `c`, `0` outside.
fn pooled_gradient(u: &Array2<f64>) -> Array2<f64> {
    let (h, w) = u.dim();
    let mut g = Array2::zeros((h, w));
    for i in (0..h - 1).step_by(2) {
        for j in (0..w - 1).step_by(2) {
            let mut best = (i, j);
            for (a, b) in [(i, j + 1), (i + 1, j), (i + 1, j + 1)] {
                if u[[a, b]] > u[best] {
                    best = (a, b);
                }
            }
            for (a, b) in [(i, j), (i, j + 1), (i + 1, j), (i + 1, j + 1)] {
                g[[a, b]] += 0.25;
            }
            g[best] += 2.0 * u[best];
        }
    }
    g
}

#[test]
fn pooling_by_exact_chunks() {
    let u = image(5, 7, 0.3);
    let (v, g) = pooled_grad(&u);
    close("value", v, pooled(&u), TOL);
    close_image("gradient", &g, &pooled_gradient(&u));
    fd_image("gradient", pooled, &u, &g);
}

// ---------------------------------------------------------------------------------------------
// Strided windows left early: the first, third and fourth of the row-major order.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn strided_probe(u: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for w in u.windows_with_stride((3, 2), (2, 3)) {
        k += 1;
        if k == 2 {
            continue;
        }
        if k > 4 {
            break;
        }
        s += (w[[2, 1]] * w[[0, 0]]).sin();
    }
    s
}

/// On an 8×9 image the windows start at rows 0, 2, 4 and columns 0, 3, 6; the first, third
/// and fourth start at (0, 0), (0, 6), (2, 0). For `sin(a·b)` with `a = u[i+2, j+1]`, `b = u[i,
/// j]`: `∂/∂a = cos(a·b)·b`, `∂/∂b = cos(a·b)·a`.
fn strided_probe_gradient(u: &Array2<f64>) -> Array2<f64> {
    let mut g = Array2::zeros(u.dim());
    for (i, j) in [(0, 0), (0, 6), (2, 0)] {
        let (a, b) = (u[[i + 2, j + 1]], u[[i, j]]);
        g[[i + 2, j + 1]] += (a * b).cos() * b;
        g[[i, j]] += (a * b).cos() * a;
    }
    g
}

#[test]
fn strided_windows_with_break_and_continue() {
    let u = image(8, 9, 0.3);
    let (v, g) = strided_probe_grad(&u);
    close("value", v, strided_probe(&u), TOL);
    close_image("gradient", &g, &strided_probe_gradient(&u));
    fd_image("gradient", strided_probe, &u, &g);
}

// ---------------------------------------------------------------------------------------------
// The 2×2×2 windows of a volume computed in the loop's head.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn block_energy(x: &Array3<f64>) -> f64 {
    let mut s = 0.0;
    for w in (x * 2.0).windows((2, 2, 2)) {
        s += w.sum().powi(2);
    }
    s
}

/// With `S_w = Σ 2x` over the window: `∂/∂x[p] = Σ_{w ∋ p} 4 S_w`.
fn block_energy_gradient(x: &Array3<f64>) -> Array3<f64> {
    let (a, b, c) = x.dim();
    let mut g = Array3::zeros((a, b, c));
    for i in 0..a - 1 {
        for j in 0..b - 1 {
            for k in 0..c - 1 {
                let mut s = 0.0;
                for (p, q, r) in ndarray::indices((2, 2, 2)) {
                    s += 2.0 * x[[i + p, j + q, k + r]];
                }
                for (p, q, r) in ndarray::indices((2, 2, 2)) {
                    g[[i + p, j + q, k + r]] += 4.0 * s;
                }
            }
        }
    }
    g
}

#[test]
fn windows_of_a_volume() {
    let x = Array3::from_shape_fn((3, 4, 3), |(a, b, c)| {
        ((a * 7 + b * 3 + c) as f64 * 0.37).sin()
    });
    let (v, g) = block_energy_grad(&x);
    close("value", v, block_energy(&x), TOL);
    for (&a, &e) in g.iter().zip(block_energy_gradient(&x).iter()) {
        close("gradient", a, e, TOL);
    }
    let r = gradcheck(|p: &Array3<f64>| block_energy(p), &x, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// An array constructor without an element type assigned over a variable.
// ---------------------------------------------------------------------------------------------

/// The samples summed into an accumulator of `hop` slots, taken out and replaced by zeros at
/// each full frame: `Σ_frames |frame|² + Σ acc` after the reset (zero), so `∂/∂x[k] = 2 x[k]`
/// for the samples of full frames, `0` for the rest.
#[differentiate]
fn frame_energy(x: &Array1<f64>, hop: usize) -> f64 {
    let mut acc: Array1<f64> = Array1::zeros(hop);
    let mut e = 0.0;
    for (k, &v) in x.iter().enumerate() {
        acc[k % hop] += v;
        if k % hop == hop - 1 {
            let frame = std::mem::replace(&mut acc, Array1::zeros(hop));
            e += frame.dot(&frame) + acc.sum();
        }
    }
    e
}

/// `(Σ u²)·Σ ones((2, 3))`: `∂/∂u = 12 u`.
#[differentiate]
fn restarted(u: &Array2<f64>) -> f64 {
    let mut m = u.clone();
    let s = m.mapv(|v| v * v).sum();
    m = Array2::ones((2, 3));
    s * m.sum()
}

#[test]
fn array_constructor_assigned_over_a_variable() {
    let x = Array1::from(data(11, 0.4));
    let (v, g) = frame_energy_grad(&x, 3);
    close("value", v, frame_energy(&x, 3), TOL);
    let expect: Vec<f64> = (0..11)
        .map(|k| if k < 9 { 2.0 * x[k] } else { 0.0 })
        .collect();
    close_all("gradient", g.as_slice().unwrap(), &expect);
    let r = gradcheck(|p: &Array1<f64>| frame_energy(p, 3), &x, &g);
    assert!(r.passed(), "{r}");

    let u = image(3, 4, 0.2);
    let (v, g) = restarted_grad(&u);
    close("value", v, restarted(&u), TOL);
    close_image("gradient", &g, &(12.0 * &u));
    fd_image("gradient", restarted, &u, &g);
}

/// Frames of squares pushed into a `Vec` and the frame restarted at zeros (the variable moved
/// before the assignment): `Σ_j (j + 1)·Σ frame_j + Σ cur`, so `∂/∂x[i] = 2 x[i]·(j + 1)` for
/// the samples of frame `j`, `2 x[i]` for those left in `cur`.
#[differentiate]
fn weighted_frames(x: &Array1<f64>, k: usize) -> f64 {
    let mut frames = Vec::new();
    let mut cur = x.slice(ndarray::s![..k]).to_owned();
    for i in 0..x.len() {
        cur[i % k] = x[i] * x[i];
        if i % k == k - 1 {
            frames.push(cur);
            cur = Array1::zeros(k);
        }
    }
    let mut s = 0.0;
    for (j, f) in frames.iter().enumerate() {
        s += (j as f64 + 1.0) * f.sum();
    }
    s + cur.sum()
}

#[test]
fn array_constructor_after_a_move() {
    let x = Array1::from(data(8, 0.3));
    let (v, g) = weighted_frames_grad(&x, 3);
    close("value", v, weighted_frames(&x, 3), TOL);
    let expect: Vec<f64> = (0..8)
        .map(|i| 2.0 * x[i] * if i < 6 { (i / 3 + 1) as f64 } else { 1.0 })
        .collect();
    close_all("gradient", g.as_slice().unwrap(), &expect);
    let r = gradcheck(|p: &Array1<f64>| weighted_frames(p, 3), &x, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Windows and chunks as `Zip` producers.
// ---------------------------------------------------------------------------------------------

/// `Σ tanh(z_w)` with `z_w = Σ w ⊙ k` over the 3×3 windows, written into an output by `Zip`:
/// the gradient of `correlate_tanh` with that kernel (see `correlate_gradient`).
#[differentiate]
fn zip_filtered(u: &Array2<f64>, k: &Array2<f64>) -> f64 {
    let mut out = Array2::<f64>::zeros((u.nrows() - 2, u.ncols() - 2));
    Zip::from(&mut out)
        .and(u.windows((3, 3)))
        .for_each(|o, w| *o = (&w * k).sum());
    out.mapv(|v| v.tanh()).sum()
}

/// `Σ_c (max c)²` over the whole 2×2 chunks: `∂/∂u[p] = 2·max_c` at each chunk's largest
/// element, `0` elsewhere.
#[differentiate]
fn zip_max_pooled(u: &Array2<f64>) -> f64 {
    let mut pooled = Array2::<f64>::zeros((u.nrows() / 2, u.ncols() / 2));
    Zip::from(&mut pooled)
        .and(u.exact_chunks((2, 2)))
        .for_each(|p, c| *p = c.fold(f64::NEG_INFINITY, |m, &v| m.max(v)));
    pooled.mapv(|v| v * v).sum()
}

/// Two explicit heat steps with a conductivity per interior cell, the interior written by a
/// `Zip` of the windows of the old state: `u ← u + k·w ⊙ Δu` on the interior, then `Σ u²`.
#[differentiate(wrt(u0, k))]
fn zip_heat(u0: &Array2<f64>, w: &Array2<f64>, k: f64) -> f64 {
    let mut u = u0.clone();
    for _ in 0..2 {
        let old = u.clone();
        let mut inner = Array2::<f64>::zeros((u.nrows() - 2, u.ncols() - 2));
        Zip::indexed(&mut inner)
            .and(old.windows((3, 3)))
            .and(w)
            .for_each(|(_, _), c, win, &wt| {
                *c = win[[1, 1]]
                    + k * wt
                        * (win[[0, 1]] + win[[2, 1]] + win[[1, 0]] + win[[1, 2]]
                            - 4.0 * win[[1, 1]]);
            });
        u.slice_mut(s![1..-1, 1..-1]).assign(&inner);
    }
    u.mapv(|v| v * v).sum()
}

/// The same steps by index loops, the closed form the `Zip` is checked against.
fn heat_by_index(u0: &Array2<f64>, w: &Array2<f64>, k: f64) -> f64 {
    let mut u = u0.clone();
    let (h, wd) = u.dim();
    for _ in 0..2 {
        let old = u.clone();
        for i in 1..h - 1 {
            for j in 1..wd - 1 {
                u[[i, j]] = old[[i, j]]
                    + k * w[[i - 1, j - 1]]
                        * (old[[i - 1, j]] + old[[i + 1, j]] + old[[i, j - 1]] + old[[i, j + 1]]
                            - 4.0 * old[[i, j]]);
            }
        }
    }
    u.mapv(|v| v * v).sum()
}

/// `∂/∂u` of two linear steps `u ← A u` then `Σ u²`: `2 Aᵀ Aᵀ A A u0`, computed here by the
/// transposed steps applied to `2 A A u0`; `∂/∂k` by the plain function's own finite
/// differences.
fn heat_gradient(u0: &Array2<f64>, w: &Array2<f64>, k: f64) -> Array2<f64> {
    let (h, wd) = u0.dim();
    let step = |u: &Array2<f64>| {
        let mut n = u.clone();
        for i in 1..h - 1 {
            for j in 1..wd - 1 {
                n[[i, j]] = u[[i, j]]
                    + k * w[[i - 1, j - 1]]
                        * (u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]]
                            - 4.0 * u[[i, j]]);
            }
        }
        n
    };
    let step_t = |g: &Array2<f64>| {
        let mut n = g.clone();
        for i in 1..h - 1 {
            for j in 1..wd - 1 {
                let c = k * w[[i - 1, j - 1]] * g[[i, j]];
                n[[i, j]] -= 4.0 * c;
                n[[i - 1, j]] += c;
                n[[i + 1, j]] += c;
                n[[i, j - 1]] += c;
                n[[i, j + 1]] += c;
            }
        }
        n
    };
    step_t(&step_t(&(2.0 * step(&step(u0)))))
}

#[test]
fn windows_as_zip_producers() {
    let u = image(5, 6, 0.3);
    let k = image(3, 3, 1.1);
    let (v, (gu, gk)) = zip_filtered_grad(&u, &k);
    close("value", v, zip_filtered(&u, &k), TOL);
    close("value, as the loop", v, correlate_tanh(&u, &k), TOL);
    let (eu, ek) = correlate_gradient(&u, &k);
    close_image("gradient", &gu, &eu);
    close_image("gradient", &gk, &ek);
    fd_image("gradient", |p| zip_filtered(p, &k), &u, &gu);

    let (v, g) = zip_max_pooled_grad(&u);
    close("value", v, zip_max_pooled(&u), TOL);
    let mut expect = Array2::zeros(u.dim());
    for i in (0..4).step_by(2) {
        for j in (0..6).step_by(2) {
            let mut best = (i, j);
            for (a, b) in [(i, j + 1), (i + 1, j), (i + 1, j + 1)] {
                if u[[a, b]] > u[best] {
                    best = (a, b);
                }
            }
            expect[best] = 2.0 * u[best];
        }
    }
    close_image("gradient", &g, &expect);
    fd_image("gradient", zip_max_pooled, &u, &g);

    let w = image(3, 4, 2.0);
    let (v, (gu, gk)) = zip_heat_grad(&u, &w, 0.2);
    close("value", v, zip_heat(&u, &w, 0.2), TOL);
    close("value, by index", v, heat_by_index(&u, &w, 0.2), TOL);
    close_image("gradient", &gu, &heat_gradient(&u, &w, 0.2));
    fd_image("gradient", |p| zip_heat(p, &w, 0.2), &u, &gu);
    fd("gradient in k", |k| zip_heat(&u, &w, k), 0.2, gk);
}

/// The windows counted by `enumerate`: `Σ_k (k + 1) S_k²` with `S_k` the sum of the `k`-th
/// 2×2 window in row-major order, so `∂/∂u[p] = Σ_{k: p ∈ w_k} 2 (k + 1) S_k`.
#[differentiate]
fn counted_windows(u: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for (k, w) in u.windows((2, 2)).into_iter().enumerate() {
        s += (k as f64 + 1.0) * w.sum().powi(2);
    }
    s
}

#[test]
fn windows_counted_by_enumerate() {
    let u = image(4, 5, 0.3);
    let (v, g) = counted_windows_grad(&u);
    close("value", v, counted_windows(&u), TOL);
    let mut expect = Array2::zeros((4, 5));
    let mut k = 0.0;
    for i in 0..3 {
        for j in 0..4 {
            k += 1.0;
            let sum = u[[i, j]] + u[[i, j + 1]] + u[[i + 1, j]] + u[[i + 1, j + 1]];
            for (a, b) in [(i, j), (i, j + 1), (i + 1, j), (i + 1, j + 1)] {
                expect[[a, b]] += 2.0 * k * sum;
            }
        }
    }
    close_image("gradient", &g, &expect);
    fd_image("gradient", counted_windows, &u, &g);
}

/// Windows of windows, differentiated twice: the 1×2 windows of each 2×2 window are the
/// horizontal pairs `(u[i, j], u[i, j + 1])`, each met by `m_i = [i ≥ 1] + [i ≤ h − 2]` of
/// the 2×2 windows, so `f = Σ m_i sin(u[i, j]·u[i, j + 1])` and `∂/∂u[i, j] = m_i cos(a b)·b`
/// over the pairs `(a, b)` that hold `u[i, j]` as `a` (and `·a` where it is `b`).
#[differentiate(hessian)]
fn nested_windows(u: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for w in u.windows((2, 2)) {
        for c in w.windows((1, 2)) {
            s += (c[[0, 0]] * c[[0, 1]]).sin();
        }
    }
    s
}

#[test]
fn windows_of_windows_second_order() {
    let u = image(3, 4, 0.3);
    let (v, g) = nested_windows_grad(&u);
    close("value", v, nested_windows(&u), TOL);
    let (h, w) = u.dim();
    let mut expect = Array2::zeros((h, w));
    for i in 0..h {
        let m = f64::from(u8::from(i >= 1) + u8::from(i + 2 <= h));
        for j in 0..w - 1 {
            let (a, b) = (u[[i, j]], u[[i, j + 1]]);
            expect[[i, j]] += m * (a * b).cos() * b;
            expect[[i, j + 1]] += m * (a * b).cos() * a;
        }
    }
    close_image("gradient", &g, &expect);
    fd_image("gradient", nested_windows, &u, &g);
    let du = image(3, 4, 1.7);
    let (v, g2, hv) = nested_windows_hvp(&u, &du);
    assert_eq!(v, nested_windows(&u));
    close_image("gradient of _hvp", &g2, &expect);
    let r = autodiff::check::hvpcheck(|p: &Array2<f64>| nested_windows_grad(p).1, &u, &du, &hv);
    assert!(r.passed(), "{r}");
}

/// Windows left by a `return` and by a jump to an outer loop: over two passes `i`, each 2×2
/// window's sum `m` ends the function with `s + m²` where `m > thr`, ends the pass where `m <
/// −thr`, and adds `(i + 1) sin m` otherwise. The gradient is that of the terms reached:
/// `(i + 1) cos m` on each element of a window added, `2m` on those of the window returned at.
#[differentiate]
fn early_exit(u: &Array2<f64>, thr: f64) -> f64 {
    let mut s = 0.0;
    'passes: for i in 0..2 {
        for w in u.windows((2, 2)) {
            let m = w.sum();
            if m > thr {
                return s + m * m;
            }
            if m < -thr {
                continue 'passes;
            }
            s += m.sin() * (i as f64 + 1.0);
        }
    }
    s
}

/// The gradient of [`early_exit`] term by term, as its doc says.
fn early_exit_gradient(u: &Array2<f64>, thr: f64) -> Array2<f64> {
    let (h, w) = u.dim();
    let mut g = Array2::zeros((h, w));
    for i in 0..2 {
        'windows: for a in 0..h - 1 {
            for b in 0..w - 1 {
                let m = u[[a, b]] + u[[a, b + 1]] + u[[a + 1, b]] + u[[a + 1, b + 1]];
                let d = if m > thr {
                    2.0 * m
                } else if m < -thr {
                    break 'windows;
                } else {
                    (i as f64 + 1.0) * m.cos()
                };
                for p in [(a, b), (a, b + 1), (a + 1, b), (a + 1, b + 1)] {
                    g[p] += d;
                }
                if m > thr {
                    return g;
                }
            }
        }
    }
    g
}

#[test]
fn windows_left_by_return_and_outer_continue() {
    // No exit; each pass ended at its fourth window (three added); a return at the third
    // window of the first pass (two added).
    for (seed, thr) in [(0.3, 10.0), (2.0, 2.5), (5.5, 1.5)] {
        let u = image(4, 5, seed);
        let (v, (g, _)) = early_exit_grad(&u, thr);
        close("value", v, early_exit(&u, thr), TOL);
        close_image("gradient", &g, &early_exit_gradient(&u, thr));
        fd_image("gradient", |p| early_exit(p, thr), &u, &g);
    }
}
