//! Iterator chains over slices, `Vec`s, arrays, ranges and windows, written as people write
//! them: `iter`, `zip`, `map`, `enumerate`, `rev`, `skip`, `take`, `step_by`, `filter`,
//! `copied`, and the consumers `sum`, `product`, `fold`, `count`, `for_each`, `collect`,
//! `max_by`, `min_by`, `max_by_key`, `for` loops.
//!
//! Each gradient is checked against the analytic derivative (stated beside the function) and
//! against central finite differences through `autodiff::check`.

// The functions are written as people write them (`into_iter` on a slice, index loops in the
// checks, `while let Some(..) = it.next()`): that is what they test.
#![allow(
    clippy::into_iter_on_ref,
    clippy::needless_range_loop,
    clippy::while_let_on_iterator
)]

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// Checks `d` against central differences of `f` at `x`.
#[track_caller]
fn fd_vec(f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{r}");
}

#[track_caller]
fn fd_pair(f: impl Fn(&[f64], &[f64]) -> f64, x: &[f64], y: &[f64], dx: &[f64], dy: &[f64]) {
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>)| f(&p.0, &p.1),
        &(x.to_vec(), y.to_vec()),
        &(dx.to_vec(), dy.to_vec()),
    );
    assert!(r.passed(), "{r}");
}

const X: [f64; 5] = [0.5, -1.25, 2.0, 0.75, -0.3];
const Y: [f64; 5] = [1.5, 0.25, -0.5, 2.0, 1.1];

/// Σ xᵢ·yᵢ: ∂/∂xᵢ = yᵢ, ∂/∂yᵢ = xᵢ.
#[differentiate]
fn dot_zip(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// Σ (xᵢ − yᵢ)² with `zip(y.iter())` and a `for` loop over the pairs:
/// ∂/∂xᵢ = 2(xᵢ − yᵢ), ∂/∂yᵢ = −2(xᵢ − yᵢ).
#[differentiate]
fn sq_dist(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(y.iter()) {
        let d = a - b;
        s += d * d;
    }
    s
}

#[test]
fn zip_map_sum_and_zip_in_a_for_loop() {
    let (v, (dx, dy)) = dot_zip_grad(&X, &Y);
    close("value", v, (0..5).map(|i| X[i] * Y[i]).sum(), TOL);
    for i in 0..5 {
        close("∂x", dx[i], Y[i], TOL);
        close("∂y", dy[i], X[i], TOL);
    }
    fd_pair(dot_zip, &X, &Y, &dx, &dy);
    let (_, (dx, dy)) = sq_dist_grad(&X, &Y);
    for i in 0..5 {
        close("∂x", dx[i], 2.0 * (X[i] - Y[i]), TOL);
        close("∂y", dy[i], -2.0 * (X[i] - Y[i]), TOL);
    }
    fd_pair(sq_dist, &X, &Y, &dx, &dy);
}

/// Σ i·xᵢ² over `enumerate`, with `into_iter` on a slice: ∂/∂xᵢ = 2i·xᵢ.
#[differentiate]
fn weighted(x: &[f64]) -> f64 {
    x.into_iter()
        .enumerate()
        .map(|(i, v)| i as f64 * v * v)
        .sum::<f64>()
}

#[test]
fn enumerate_and_turbofish_sum() {
    let (_, d) = weighted_grad(&X);
    for i in 0..5 {
        close("∂x", d[i], 2.0 * i as f64 * X[i], TOL);
    }
    fd_vec(weighted, &X, &d);
}

/// rev, skip, take: the items x₃, x₂ (reversed, the first skipped, two taken), so
/// p = x₃·x₂·c with c = Σ of x₁..x₃ by `skip(1).take(3)`; ∂p/∂x₃ = x₂·c + x₃x₂, …
#[differentiate]
fn moved_around(x: &[f64]) -> f64 {
    let p: f64 = x.iter().rev().skip(1).take(2).product();
    let c: f64 = x.iter().skip(1).take(3).sum();
    p * c
}

#[test]
fn rev_skip_take_product() {
    let (v, d) = moved_around_grad(&X);
    let p = X[3] * X[2];
    let c = X[1] + X[2] + X[3];
    close("value", v, p * c, TOL);
    let expected = [0.0, p, X[3] * c + p, X[2] * c + p, 0.0];
    for i in 0..5 {
        close("∂x", d[i], expected[i], TOL);
    }
    fd_vec(moved_around, &X, &d);
}

/// Σ over every other element (`step_by(2)`) of xᵢ³: ∂/∂xᵢ = 3xᵢ² for even i.
#[differentiate]
fn every_other(x: &[f64]) -> f64 {
    x.iter().step_by(2).map(|v| v.powi(3)).sum()
}

#[test]
fn step_by() {
    let (_, d) = every_other_grad(&X);
    for i in 0..5 {
        let e = if i % 2 == 0 { 3.0 * X[i] * X[i] } else { 0.0 };
        close("∂x", d[i], e, TOL);
    }
    fd_vec(every_other, &X, &d);
}

/// Ranges mapped and summed: Σ_{i<n} xᵢ·sin(xᵢ₊₁) over `(0..n).map(..)`, with the closure
/// reading the slice by index: ∂/∂xᵢ = sin xᵢ₊₁ + xᵢ₋₁·cos xᵢ.
#[differentiate]
fn range_map(x: &[f64]) -> f64 {
    let n = x.len() - 1;
    (0..n).map(|i| x[i] * x[i + 1].sin()).sum()
}

#[test]
fn range_map_sum() {
    let (_, d) = range_map_grad(&X);
    for i in 0..5 {
        let mut e = 0.0;
        if i < 4 {
            e += X[i + 1].sin();
        }
        if i > 0 {
            e += X[i - 1] * X[i].cos();
        }
        close("∂x", d[i], e, TOL);
    }
    fd_vec(range_map, &X, &d);
}

/// fold with a closure and with a function path: Π (1 + xᵢ²) and max xᵢ.
/// ∂/∂xᵢ of the product = 2xᵢ·Π/(1 + xᵢ²); of the max, 1 at the maximum.
#[differentiate]
fn folds(x: &[f64]) -> f64 {
    let p = x.iter().fold(1.0, |acc, v| acc * (1.0 + v * v));
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    p + m
}

#[test]
fn fold_closure_and_path() {
    let (_, d) = folds_grad(&X);
    let p: f64 = X.iter().map(|v| 1.0 + v * v).product();
    for i in 0..5 {
        let mut e = 2.0 * X[i] * p / (1.0 + X[i] * X[i]);
        if i == 2 {
            e += 1.0;
        }
        close("∂x", d[i], e, TOL);
    }
    fd_vec(folds, &X, &d);
}

/// `filter` with a predicate on the values: Σ of the positive xᵢ², ∂/∂xᵢ = 2xᵢ where xᵢ > 0.
/// Then `filter` on the index (`enumerate` first): Σ of xᵢ at odd i.
#[differentiate]
fn filtered(x: &[f64]) -> f64 {
    let pos: f64 = x.iter().filter(|v| **v > 0.0).map(|v| v * v).sum();
    let odd: f64 = x
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, &v)| v)
        .sum();
    pos + odd
}

#[test]
fn filter_on_values_and_on_indices() {
    let (_, d) = filtered_grad(&X);
    for i in 0..5 {
        let mut e = if X[i] > 0.0 { 2.0 * X[i] } else { 0.0 };
        if i % 2 == 1 {
            e += 1.0;
        }
        close("∂x", d[i], e, TOL);
    }
    fd_vec(filtered, &X, &d);
}

/// `for w in x.windows(2)`: Σ (w₁ − w₀)², the discrete roughness;
/// ∂/∂xᵢ = 2(xᵢ − xᵢ₋₁) − 2(xᵢ₊₁ − xᵢ).
#[differentiate]
fn roughness(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += (w[1] - w[0]).powi(2);
    }
    s
}

/// The same through `map` over the windows, plus the sum of each chunk of two squared.
#[differentiate]
fn roughness_map(x: &[f64]) -> f64 {
    let r: f64 = x.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).sum();
    let mut c = 0.0;
    for ch in x.chunks(2) {
        let s: f64 = ch.iter().sum();
        c += s * s;
    }
    r + c
}

#[test]
fn windows_and_chunks() {
    let (v, d) = roughness_grad(&X);
    close(
        "value",
        v,
        (1..5).map(|i| (X[i] - X[i - 1]).powi(2)).sum(),
        TOL,
    );
    for i in 0..5 {
        let mut e = 0.0;
        if i > 0 {
            e += 2.0 * (X[i] - X[i - 1]);
        }
        if i < 4 {
            e -= 2.0 * (X[i + 1] - X[i]);
        }
        close("∂x", d[i], e, TOL);
    }
    fd_vec(roughness, &X, &d);
    // Chunks [x0 x1] [x2 x3] [x4]: ∂/∂xᵢ of Σ (chunk sum)² = 2·(its chunk's sum).
    let (_, d2) = roughness_map_grad(&X);
    let sums = [X[0] + X[1], X[2] + X[3], X[4]];
    for i in 0..5 {
        close("∂x", d2[i], d[i] + 2.0 * sums[i / 2], TOL);
    }
    fd_vec(roughness_map, &X, &d2);
}

/// `collect` into a `Vec` (annotated, and by turbofish), read back by index:
/// s = Σ i·sin(xᵢ) + v₀·w₁ with w = x mapped by 2·x: ∂/∂xᵢ = i·cos xᵢ (+ 2·sin x₀ … at 0, 1).
#[differentiate]
fn collected(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|a| a.sin()).collect();
    let w = x.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
    let mut s = 0.0;
    for (i, e) in v.iter().enumerate() {
        s += i as f64 * e;
    }
    s + v[0] * w[1]
}

#[test]
fn collect_into_a_vec() {
    let (_, d) = collected_grad(&X);
    for i in 0..5 {
        let mut e = i as f64 * X[i].cos();
        if i == 0 {
            e += X[0].cos() * 2.0 * X[1];
        }
        if i == 1 {
            e += X[0].sin() * 2.0;
        }
        close("∂x", d[i], e, TOL);
    }
    fd_vec(collected, &X, &d);
}

/// `max_by` and `min_by` with `total_cmp`, `max_by_key` over indices, and the index of the
/// maximum by `enumerate().max_by(..)`: the derivative goes to the selected element.
#[differentiate]
fn extremes(x: &[f64]) -> f64 {
    let hi = x.iter().copied().max_by(|a, b| a.total_cmp(b)).unwrap();
    let lo = *x.iter().min_by(|a, b| a.partial_cmp(b).unwrap()).unwrap();
    let (k, _) = x
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let far = (0..x.len()).max_by_key(|i| (*i as i64 - 2).abs()).unwrap();
    hi * lo + x[k] + x[far]
}

#[test]
fn max_by_min_by_and_keys() {
    let (v, d) = extremes_grad(&X);
    // max is x₂ = 2, min is x₁ = −1.25, argmax 2, the index farthest from 2 is 4 (the last
    // of the ties 0 and 4, as `max_by_key` keeps the last).
    close("value", v, 2.0 * -1.25 + 2.0 + X[4], TOL);
    let expected = [0.0, X[2], X[1] + 1.0, 0.0, 1.0];
    for i in 0..5 {
        close("∂x", d[i], expected[i], TOL);
    }
    fd_vec(extremes, &X, &d);
}

/// `count` (discrete), `for_each` with a closure that adds to a captured sum.
#[differentiate]
fn counted(x: &[f64], w: f64) -> f64 {
    let n = x.iter().filter(|v| **v > 0.0).count();
    let mut s = 0.0;
    x.iter().for_each(|v| s += v * w);
    s * n as f64
}

#[test]
fn count_and_for_each() {
    let (v, (dx, dw)) = counted_grad(&X, 0.5);
    let n = X.iter().filter(|v| **v > 0.0).count() as f64;
    let sx: f64 = X.iter().sum();
    close("value", v, sx * 0.5 * n, TOL);
    for i in 0..5 {
        close("∂x", dx[i], 0.5 * n, TOL);
    }
    close("∂w", dw, sx * n, TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| counted(&p.0, p.1),
        &(X.to_vec(), 0.5),
        &(dx, dw),
    );
    assert!(r.passed(), "{r}");
}

/// Arrays and `Vec`s by value, `&v` in `for`, a `Vec` built locally and iterated:
/// Σ aᵢ·vᵢ with v = [2x₀, 3x₁, 4x₂]: ∂/∂aᵢ = vᵢ, ∂/∂xᵢ = aᵢ·(i + 2).
#[differentiate]
fn by_value(a: [f64; 3], x: Vec<f64>) -> f64 {
    let v: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, e)| (i + 2) as f64 * e)
        .collect();
    let mut s = 0.0;
    for (p, q) in a.iter().zip(&v) {
        s += p * q;
    }
    s
}

#[test]
fn arrays_and_vecs_by_value() {
    let a = [0.5, -2.0, 1.5];
    let x = vec![1.0, 0.25, -0.75];
    let (_, (da, dx)) = by_value_grad(a, x.clone());
    for i in 0..3 {
        close("∂a", da[i], (i + 2) as f64 * x[i], TOL);
        close("∂x", dx[i], a[i] * (i + 2) as f64, TOL);
    }
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>)| by_value([p.0[0], p.0[1], p.0[2]], p.1.clone()),
        &(a.to_vec(), x),
        &(da.to_vec(), dx),
    );
    assert!(r.passed(), "{r}");
}

/// Chains inside the closures of chains: y = Σᵢ Σⱼ a[i·m + j]·bⱼ (a matrix-vector product
/// summed), ∂y/∂a[i·m + j] = bⱼ, ∂y/∂bⱼ = Σᵢ a[i·m + j]; and consecutive pairs by
/// `skip(1).zip(..)`: Σ |xᵢ₊₁ − xᵢ|.
#[differentiate]
fn nested_chains(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() / b.len(), b.len());
    let y: f64 = (0..n)
        .map(|i| (0..m).map(|j| a[i * m + j] * b[j]).sum::<f64>())
        .sum();
    y + a
        .iter()
        .skip(1)
        .zip(a.iter())
        .map(|(p, q)| (p - q).abs())
        .sum::<f64>()
}

#[test]
fn chains_inside_closures() {
    let a = [1.0, 2.5, -3.0, 4.0, 0.5, 1.5];
    let b = [1.0, -1.0];
    let (_, (da, db)) = nested_chains_grad(&a, &b);
    for k in 0..6 {
        let mut e = b[k % 2];
        if k > 0 {
            e += (a[k] - a[k - 1]).signum();
        }
        if k < 5 {
            e -= (a[k + 1] - a[k]).signum();
        }
        close("∂a", da[k], e, TOL);
    }
    close("∂b₀", db[0], 1.0 - 3.0 + 0.5, TOL);
    close("∂b₁", db[1], 2.5 + 4.0 + 1.5, TOL);
    fd_pair(nested_chains, &a, &b, &da, &db);
}

/// `zip` with a mapped range, and a reversed range folded: Σ 2i·xᵢ (∂/∂xᵢ = 2i), and
/// r = ½(x₂ − x₁) + (x₁ − x₀) for three elements (a fold visiting i = 2 then 1).
#[differentiate]
fn ranges_in_chains(x: &[f64]) -> f64 {
    let s: f64 = x
        .iter()
        .zip((0..x.len()).map(|i| (i * 2) as f64))
        .map(|(v, k)| v * k)
        .sum();
    let r = (1..x.len())
        .rev()
        .map(|i| x[i] - x[i - 1])
        .fold(0.0, |a, d| a * 0.5 + d);
    s + r
}

#[test]
fn ranges_zipped_and_reversed() {
    let x = [1.0, 2.0, 4.0];
    let (v, d) = ranges_in_chains_grad(&x);
    close("value", v, (2.0 * 2.0 + 4.0 * 4.0) + 2.0, TOL);
    let expected = [0.0 - 1.0, 2.0 + 0.5, 4.0 + 0.5];
    for i in 0..3 {
        close("∂x", d[i], expected[i], TOL);
    }
    fd_vec(ranges_in_chains, &x, &d);
}

/// `reduce` with a function path and with a closure, `max`/`min` of discrete items selecting
/// elements: r = max xᵢ + Π 2xᵢ + x[max k] + x[min k]; ∂/∂xᵢ = Π/xᵢ (+1 at the maximum and
/// at the selected indices).
#[differentiate]
fn reduced(x: &[f64], k: &[usize]) -> f64 {
    let m = x.iter().copied().reduce(f64::max).unwrap();
    let p = x.iter().map(|v| v * 2.0).reduce(|a, b| a * b).unwrap();
    let big = k.iter().copied().max().unwrap();
    let small = *k.iter().min().unwrap();
    m + p + x[big] + x[small]
}

#[test]
fn reduce_and_discrete_max_min() {
    let x = [1.5, 3.0, -2.0];
    let k = [2, 0, 1];
    let (v, d) = reduced_grad(&x, &k);
    let p = 8.0 * 1.5 * 3.0 * -2.0;
    close("value", v, 3.0 + p + -2.0 + 1.5, TOL);
    let expected = [p / 1.5 + 1.0, p / 3.0 + 1.0, p / -2.0 + 1.0];
    for i in 0..3 {
        close("∂x", d[i], expected[i], TOL);
    }
    fd_vec(|x| reduced(x, &k), &x, &d);
}

/// Forward mode on chains, closures and built vectors: the tangent `f_jvp` returns for a
/// direction v is the directional derivative ∇f·v, computed here from the gradient (itself
/// checked against finite differences above).
#[test]
fn forward_mode_agrees_with_the_gradient() {
    let y = [0.5, -1.0, 2.0, 0.75, -0.3];
    let v = [0.3, -0.7, 0.2, 0.1, -0.4];
    let w = [-0.1, 0.4, 0.9, 0.3, 0.2];
    let (_, (gx, gy)) = dot_zip_grad(&X, &y);
    let (_, t) = dot_zip_jvp(&X, &y, &v.to_vec(), &w.to_vec());
    let dir: f64 = (0..5).map(|i| gx[i] * v[i] + gy[i] * w[i]).sum();
    close("zip", t, dir, TOL);
    for (name, f, fj) in [
        (
            "filtered",
            filtered_grad as fn(&[f64]) -> (f64, Vec<f64>),
            filtered_jvp as fn(&[f64], &Vec<f64>) -> (f64, f64),
        ),
        ("roughness_map", roughness_map_grad, roughness_map_jvp),
        ("extremes", extremes_grad, extremes_jvp),
        ("folds", folds_grad, folds_jvp),
        ("collected", collected_grad, collected_jvp),
    ] {
        let (_, g) = f(&X);
        let (_, t) = fj(&X, &v.to_vec());
        let dir: f64 = (0..5).map(|i| g[i] * v[i]).sum();
        close(name, t, dir, TOL);
    }
}

/// Sums start where the standard library's do: a sum of nothing is `-0.0` for floats (found by
/// the random-program test: `_grad`'s value was `0.0` where the function's was `-0.0`), and an
/// integer sum starts at 0. f = Σxᵢ + n·Σ(x·xᵢ): ∂x = n·Σxᵢ, ∂xᵢ = 1 + n·x.
#[differentiate]
fn sums_of_all_kinds(x: f64, xs: &[f64]) -> f64 {
    let t: f64 = xs.iter().sum();
    let u: f64 = xs.iter().map(|v| v * x).sum();
    let n: usize = xs.iter().map(|_| 1usize).sum();
    t + u * (n as f64)
}

/// The same in a generic function, whose sum's type is a type parameter.
#[differentiate]
fn generic_sum<T: num_traits::Float + std::iter::Sum>(xs: &[T]) -> T {
    xs.iter().map(|&v| v * v).sum()
}

#[test]
fn sums_start_at_negative_zero_like_the_standard_library() {
    let (v, (dx, dxs)) = sums_of_all_kinds_grad(2.0, &[]);
    assert_eq!(v.to_bits(), sums_of_all_kinds(2.0, &[]).to_bits());
    assert_eq!(v.to_bits(), (-0.0f64).to_bits());
    assert_eq!((dx, dxs.len()), (0.0, 0));
    let (v, _) = generic_sum_grad::<f32>(&[]);
    assert_eq!(v.to_bits(), (-0.0f32).to_bits());

    let xs = [0.5, -1.5, 2.0];
    let (v, (dx, dxs)) = sums_of_all_kinds_grad(2.0, &xs);
    assert_eq!(v, sums_of_all_kinds(2.0, &xs));
    close("∂x", dx, 3.0 * (0.5 - 1.5 + 2.0), TOL);
    for d in dxs {
        close("∂xᵢ", d, 1.0 + 3.0 * 2.0, TOL);
    }
    let (v, g) = generic_sum_grad(&[1.0f32, 2.0]);
    assert_eq!((v, g), (5.0, vec![2.0, 4.0]));
}

/// `v.retain(p)` of a local `Vec`, then a push: of y = 2x the positive yᵢ are kept, and
/// f = Σ kept yᵢ³ + x₂³ + len: ∂/∂xᵢ = 2·3yᵢ² where yᵢ > 0 (plus 3x₂² at i = 2).
#[differentiate]
fn retained(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|a| a * 2.0).collect();
    v.retain(|&a| a > 0.0);
    v.push(x[2]);
    v.iter().map(|a| a * a * a).sum::<f64>() + v.len() as f64
}

#[test]
fn retain_keeps_the_elements_a_filter_keeps() {
    let x = [0.7, -1.3, 2.1, 0.4, -0.2];
    let mut expected: Vec<f64> = x
        .iter()
        .map(|&a| {
            if a > 0.0 {
                6.0 * (2.0 * a) * (2.0 * a)
            } else {
                0.0
            }
        })
        .collect();
    expected[2] += 3.0 * x[2] * x[2];
    let (v, d) = retained_grad(&x);
    assert_eq!(v, retained(&x));
    close_all("retain", &d, &expected);
    fd_vec(retained, &x, &d);
}

/// `while let Some(c) = it.next()` over an iterator kept in a `let mut`: the loop takes every
/// item, as `for c in it` does. `Σ_k Π c_k` over pairs: ∂/∂x_{2k} = x_{2k+1}, ∂/∂x_{2k+1} =
/// x_{2k}.
#[differentiate(hessian)]
fn pair_products(x: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut it = x.chunks(2);
    while let Some(c) = it.next() {
        total += c.iter().product::<f64>();
    }
    total
}

/// A labeled loop over an adapted chain, left at the third item: `Σ_{i<3} (2x_i)² `, so
/// ∂/∂x_i = 8x_i for i < 3 and 0 after.
#[differentiate]
fn first_three_doubled(x: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut it = x.iter().map(|v| v * 2.0).enumerate();
    'items: while let Some((i, v)) = it.next() {
        if i > 2 {
            break 'items;
        }
        total += v * v;
    }
    total
}

#[test]
fn while_let_over_next_is_a_loop_over_the_items() {
    let x = [0.7, -1.3, 2.1, 0.4, 1.5];
    let (y, g) = pair_products_grad(&x);
    close("value", y, pair_products(&x), TOL);
    close_all("gradient", &g, &[-1.3, 0.7, 0.4, 2.1, 1.0]);
    fd_vec(pair_products, &x, &g);
    // The Hessian couples the two items of each pair: H·e_0 = e_1.
    let (_, _, hv) = pair_products_hvp(&x, &vec![1.0, 0.0, 0.0, 0.0, 0.0]);
    close_all("hvp", &hv, &[0.0, 1.0, 0.0, 0.0, 0.0]);

    let (y, g) = first_three_doubled_grad(&x);
    close("value", y, first_three_doubled(&x), TOL);
    close_all("gradient", &g, &[5.6, -10.4, 16.8, 0.0, 0.0]);
    fd_vec(first_three_doubled, &x, &g);
}

/// `split_first` and `split_last` taken apart by `unwrap`/`expect`: `a·b + Σ sin(mid)` with
/// `a = x₀`, `b = x_{n−1}`: ∂/∂x₀ = b, ∂/∂x_{n−1} = a, ∂/∂x_i = cos x_i between.
#[differentiate(hessian)]
fn ends_and_middle(x: &[f64]) -> f64 {
    let (a, rest) = x.split_first().unwrap();
    let (b, mid) = rest.split_last().expect("at least two");
    a * b + mid.iter().map(|v| v.sin()).sum::<f64>()
}

/// Rows: the first row's dot product with each later row, `Σ_{k≥1} r₀·r_k`.
#[differentiate]
fn first_row_against_rest(rows: &[[f64; 2]]) -> f64 {
    let (first, rest) = rows.split_first().unwrap();
    rest.iter().map(|r| first[0] * r[0] + first[1] * r[1]).sum()
}

#[test]
fn split_first_and_split_last_are_the_element_and_the_rest() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (y, g) = ends_and_middle_grad(&x);
    close("value", y, ends_and_middle(&x), TOL);
    close_all("gradient", &g, &[0.4, (-1.3f64).cos(), 2.1f64.cos(), 0.7]);
    fd_vec(ends_and_middle, &x, &g);
    // ∂²/∂x₀∂x₃ = 1, ∂²/∂x₁² = −sin x₁.
    let (_, _, hv) = ends_and_middle_hvp(&x, &vec![1.0, 1.0, 0.0, 0.0]);
    close_all("hvp", &hv, &[0.0, 1.3f64.sin(), 0.0, 1.0]);

    let rows = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]];
    let (y, g) = first_row_against_rest_grad(&rows);
    close("value", y, first_row_against_rest(&rows), TOL);
    // ∂/∂r₀ = Σ_{k≥1} r_k, ∂/∂r_k = r₀.
    assert_eq!(g, vec![[3.5, -0.75], [1.0, 2.0], [1.0, 2.0]]);
    let flat = |p: &[f64]| {
        let rows: Vec<[f64; 2]> = p.chunks(2).map(|c| [c[0], c[1]]).collect();
        first_row_against_rest(&rows)
    };
    let gf: Vec<f64> = g.iter().flatten().copied().collect();
    fd_vec(flat, &[1.0, 2.0, 0.5, -1.0, 3.0, 0.25], &gf);
}

/// A `&name` pattern binds the element's value, as it does in the source: the first of
/// `split_first` in a `let .. else` seeding a variable a loop assigns (`q ← q·s + rest₀`, three
/// times), the last of `split_last` under `if let` joined with a float by an `if`, a tuple of
/// an element reference and a float, and `let &m = &t;`. Each name was bound to the reference,
/// a `&f64` where a branch or a loop met an `f64`: rustc's "`if` and `else` have incompatible
/// types" at the attribute.
#[differentiate(hessian)]
fn first_carried_by_a_loop(x: &[f64], s: f64) -> f64 {
    let Some((&first, rest)) = x.split_first() else {
        return 0.0;
    };
    let mut q = first;
    for _ in 0..3 {
        q = q * s + rest[0];
    }
    q
}

#[differentiate(hessian)]
fn last_or_scale(x: &[f64], s: f64) -> f64 {
    let y = if let Some((&last, init)) = x.split_last() {
        if s > 0.0 { last * init[0] } else { last }
    } else {
        s
    };
    y * s
}

#[differentiate(hessian)]
fn element_and_float(x: &[f64], s: f64) -> f64 {
    let (&a, w) = (&x[2], 2.0 * s);
    let t = a * w;
    let &m = &t;
    let mut r = a;
    if m > 0.0 {
        r = r * m + w;
    }
    r + m
}

#[test]
fn reference_patterns_bind_the_value() {
    let x = [0.7, -1.3, 2.1];
    let s = 1.5;
    // q = ((x₀s + x₁)s + x₁)s + x₁ = x₀s³ + x₁(s² + s + 1).
    let (y, (gx, gs)) = first_carried_by_a_loop_grad(&x, s);
    close("value", y, first_carried_by_a_loop(&x, s), TOL);
    close(
        "value, analytic",
        y,
        0.7 * s * s * s - 1.3 * (s * s + s + 1.0),
        TOL,
    );
    close_all("gradient", &gx, &[s * s * s, s * s + s + 1.0, 0.0]);
    close("∂/∂s", gs, 3.0 * 0.7 * s * s - 1.3 * (2.0 * s + 1.0), TOL);
    let (_, pullback) = first_carried_by_a_loop_vjp(&x, s);
    let (g2, gs2) = pullback(-2.0);
    close_all(
        "seeded pullback",
        &g2,
        &[-2.0 * s * s * s, -2.0 * (s * s + s + 1.0), 0.0],
    );
    close("seeded pullback, s", gs2, -2.0 * gs, TOL);
    let v = vec![0.3, -0.5, 0.9];
    let (y2, t) = first_carried_by_a_loop_jvp(&x, s, &v, 0.4);
    close("jvp value", y2, y, TOL);
    close("tangent", t, gx[0] * 0.3 - gx[1] * 0.5 + gs * 0.4, TOL);
    // ∂²/∂x₀∂s = 3s², ∂²/∂x₁∂s = 2s + 1, ∂²/∂s² = 6x₀s + 2x₁.
    let (_, _, (hx, hs)) = first_carried_by_a_loop_hvp(&x, s, &vec![0.0; 3], 1.0);
    close_all("H·e_s, x", &hx, &[3.0 * s * s, 2.0 * s + 1.0, 0.0]);
    close("H·e_s, s", hs, 6.0 * 0.7 * s + 2.0 * -1.3, TOL);

    for s in [1.5, -0.5] {
        let (y, (gx, gs)) = last_or_scale_grad(&x, s);
        close("value", y, last_or_scale(&x, s), TOL);
        fd_vec(|p: &[f64]| last_or_scale(p, s), &x, &gx);
        fd("last_or_scale, s", |s: f64| last_or_scale(&x, s), s, gs);
        let (_, gh, _) = last_or_scale_hvp(&x, s, &vec![1.0, 0.0, 0.0], 0.0);
        close_all("hvp's gradient", &gh.0, &gx);
    }
    // y = x₂x₀·s for s > 0: ∂/∂x₀ = x₂s, ∂/∂x₂ = x₀s; and x₂·s for s ≤ 0.
    let (_, (gx, _)) = last_or_scale_grad(&x, s);
    close_all("last_or_scale gradient", &gx, &[2.1 * s, 0.0, 0.7 * s]);
    let (_, (gx, _)) = last_or_scale_grad(&x, -0.5);
    close_all("last_or_scale gradient, s < 0", &gx, &[0.0, 0.0, -0.5]);

    for s in [1.5, -0.8] {
        let (y, (gx, gs)) = element_and_float_grad(&x, s);
        close("value", y, element_and_float(&x, s), TOL);
        fd_vec(|p: &[f64]| element_and_float(p, s), &x, &gx);
        fd(
            "element_and_float, s",
            |s: f64| element_and_float(&x, s),
            s,
            gs,
        );
        let (_, _, (hx, hs)) = element_and_float_hvp(&x, s, &vec![0.0, 0.0, 1.0], 0.3);
        hvp_against_fd(
            "element_and_float",
            |p: &[f64]| {
                let (g, gs) = element_and_float_grad(&p[..3], p[3]).1;
                let mut g = g;
                g.push(gs);
                g
            },
            &[0.7, -1.3, 2.1, s],
            &[0.0, 0.0, 1.0, 0.3],
            &[hx[0], hx[1], hx[2], hs],
        );
    }
}

/// `retain` and `into_iter().filter(..)` on a local `Vec` of rows or of non-`Copy` structs:
/// the predicate borrows each element, which the kept ones are then moved on from (trimmed
/// least squares: the rows whose residual is large are dropped).
#[differentiate]
fn trimmed_by_retain(rows: &[Vec<f64>], slope: f64) -> f64 {
    let mut kept: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| vec![r[0], r[1] - slope * r[0]])
        .collect();
    kept.retain(|r| r[1].abs() < 1.0);
    kept.iter().map(|r| r[1] * r[1]).sum()
}

#[differentiate]
fn trimmed_by_filter(rows: &[Vec<f64>], slope: f64) -> f64 {
    let made: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| vec![r[0], r[1] - slope * r[0]])
        .collect();
    let kept: Vec<Vec<f64>> = made.into_iter().filter(|r| r[1].abs() < 1.0).collect();
    kept.iter().map(|r| r[1] * r[1]).sum()
}

#[derive(Clone, Debug, autodiff::Differentiable)]
pub struct Weighted {
    pub v: Vec<f64>,
    pub w: f64,
}

#[differentiate(wrt(s))]
fn light_ones(obs: &[Weighted], s: f64) -> f64 {
    let mut v: Vec<Weighted> = Vec::new();
    for o in obs {
        v.push(Weighted {
            v: vec![o.v[0] * s, o.v[1]],
            w: o.w * s,
        });
    }
    v.retain(|o| o.w < 2.0);
    let mut t = 0.0;
    for o in &v {
        t += o.v[0] * o.w;
    }
    t
}

#[test]
fn retain_and_filter_of_rows_and_structs() {
    let rows = vec![
        vec![1.0, 2.1],
        vec![2.0, 3.9],
        vec![3.0, 9.0],
        vec![4.0, 8.2],
    ];
    // At slope 2 the residuals are 0.1, −0.1, 3 (dropped) and 0.2: Σr² = 0.06, and
    // ∂/∂slope = Σ 2r·(−x) = −1.4.
    for f in [trimmed_by_retain_grad, trimmed_by_filter_grad] {
        let (v, (g_rows, g_slope)) = f(&rows, 2.0);
        assert!((v - 0.06).abs() < 1e-12, "{v}");
        assert!((g_slope + 1.4).abs() < 1e-12, "{g_slope}");
        assert_eq!(g_rows[2], vec![0.0, 0.0]);
        assert!((g_rows[0][1] - 0.2).abs() < 1e-12 && (g_rows[0][0] + 0.4).abs() < 1e-12);
    }
    assert_eq!(
        trimmed_by_retain(&rows, 2.0),
        trimmed_by_retain_grad(&rows, 2.0).0
    );
    let obs = vec![
        Weighted {
            v: vec![1.0, 0.0],
            w: 1.0,
        },
        Weighted {
            v: vec![2.0, 0.0],
            w: 3.0,
        },
        Weighted {
            v: vec![3.0, 0.0],
            w: 0.5,
        },
    ];
    // At s = 1.5 the weights are 1.5, 4.5 (dropped) and 0.75: t = s²·(1·1 + 3·0.5) = 2.5 s².
    let (v, g) = light_ones_grad(&obs, 1.5);
    assert!(
        (v - 2.5 * 2.25).abs() < 1e-12 && (g - 5.0 * 1.5).abs() < 1e-12,
        "{v} {g}"
    );
}

/// Windows and chunks lent to a function (`dot(c, w)` of `for c in x.chunks(2)`, `map(|t|
/// curvature(t))` of `x.windows(3)`, a chunk bound to another name first, and a window given
/// to a plain helper that only picks a position): a copy of the window is lent. They were an
/// error that said windows are read by element only.
#[differentiate(hessian)]
fn dot_of(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

#[differentiate(hessian)]
fn curvature(t: &[f64]) -> f64 {
    (t[0] - 2.0 * t[1] + t[2]).powi(2)
}

/// The position of the largest element: data, not differentiated.
fn position_of_max(v: &[f64]) -> usize {
    (1..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[differentiate(hessian)]
fn windows_lent(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in x.chunks(2) {
        s += dot_of(c, w);
    }
    for (i, c) in x.chunks_exact(2).enumerate() {
        s += (i as f64 + 1.0) * dot_of(&c, w) * dot_of(c, w);
    }
    s += x.windows(3).map(|t| curvature(t)).sum::<f64>();
    for t in x.windows(2) {
        let k = position_of_max(t);
        s += t[k] * dot_of(t, w);
    }
    s
}

#[test]
fn windows_and_chunks_lent_to_functions() {
    let x = [0.5, -1.25, 2.0, 0.75, -0.3, 1.1];
    let w = [1.5, -0.5];
    // By hand: chunks (x0,x1), (x2,x3), (x4,x5); windows of three and of two.
    let chunk = |i: usize| x[2 * i] * w[0] + x[2 * i + 1] * w[1];
    let mut want = 0.0;
    let mut gx = [0.0; 6];
    for i in 0..3 {
        let c = chunk(i);
        let k = i as f64 + 1.0;
        want += c + k * c * c;
        for j in 0..2 {
            gx[2 * i + j] += w[j] * (1.0 + 2.0 * k * c);
        }
    }
    let mut gw = [0.0; 2];
    for i in 0..3 {
        let k = i as f64 + 1.0;
        for j in 0..2 {
            gw[j] += x[2 * i + j] * (1.0 + 2.0 * k * chunk(i));
        }
    }
    for i in 0..4 {
        let e = x[i] - 2.0 * x[i + 1] + x[i + 2];
        want += e * e;
        for (j, c) in [1.0, -2.0, 1.0].iter().enumerate() {
            gx[i + j] += 2.0 * e * c;
        }
    }
    for i in 0..5 {
        let k = usize::from(x[i + 1] > x[i]);
        let d = x[i] * w[0] + x[i + 1] * w[1];
        want += x[i + k] * d;
        gx[i + k] += d;
        gx[i] += x[i + k] * w[0];
        gx[i + 1] += x[i + k] * w[1];
        gw[0] += x[i + k] * x[i];
        gw[1] += x[i + k] * x[i + 1];
    }
    let (y, (dx, dw)) = windows_lent_grad(&x, &w);
    close("value", y, want, 1e-12);
    close_all("∂/∂x", &dx, &gx);
    close_all("∂/∂w", &dw, &gw);
    fd_pair(windows_lent, &x, &w, &dx, &dw);
    let (_, pullback) = windows_lent_vjp(&x, &w);
    let (sx, sw) = pullback(-2.0);
    close_all("pullback ∂/∂x at -2", &sx, &gx.map(|g| -2.0 * g));
    close_all("pullback ∂/∂w at -2", &sw, &gw.map(|g| -2.0 * g));
    // The tangent along a direction, and the Hessian's product with it against differences
    // of the gradient.
    let (tx, tw) = (vec![0.3, -0.2, 0.5, 0.1, -0.4, 0.25], vec![0.6, -0.35]);
    let (_, t) = windows_lent_jvp(&x, &w, &tx, &tw);
    let along: f64 = dx
        .iter()
        .zip(&tx)
        .chain(dw.iter().zip(&tw))
        .map(|(a, b)| a * b)
        .sum();
    close("tangent", t, along, 1e-12);
    let (_, _, (hx, hw)) = windows_lent_hvp(&x, &w, &tx, &tw);
    let h = 1e-6;
    let at = |s: f64| {
        let xs: Vec<f64> = x.iter().zip(&tx).map(|(a, b)| a + s * b).collect();
        let ws: Vec<f64> = w.iter().zip(&tw).map(|(a, b)| a + s * b).collect();
        windows_lent_grad(&xs, &ws).1
    };
    let ((px, pw), (mx, mw)) = (at(h), at(-h));
    for (hv, (p, m)) in hx
        .iter()
        .chain(&hw)
        .zip(px.iter().chain(&pw).zip(mx.iter().chain(&mw)))
    {
        let fd = (p - m) / (2.0 * h);
        assert!(
            (hv - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "H·t {hv} against {fd}"
        );
    }
}

// A local `Vec` of references to the parameter's elements, declared or not, filled by `push` or
// by `collect`, read by `*big[i]` and `**v`. With the type declared, this was a cascade of
// rustc errors in the generated code (`&f64` is not differentiable), and `*big[i]` was an
// error saying dereferencing is not supported.

/// f(x, w) = Σ_{xᵢ>0} xᵢ·w + x_{first positive}·w²: ∂xᵢ = w (+ w² at the first positive),
/// ∂w = Σ_{xᵢ>0} xᵢ + 2·w·x_{first positive}.
#[differentiate]
fn refs_pushed(x: &[f64], w: f64) -> f64 {
    let mut big: Vec<&f64> = Vec::new();
    for v in x.iter() {
        if *v > 0.0 {
            big.push(v);
        }
    }
    let mut s = 0.0;
    for v in big.iter() {
        s += **v * w;
    }
    s + *big[0] * w * w
}

/// g(x, w) = Σ_{xᵢ>0} xᵢ²·w + x_{second positive}·w.
#[differentiate]
fn refs_collected(x: &[f64], w: f64) -> f64 {
    let big: Vec<&f64> = x.iter().filter(|v| **v > 0.0).collect();
    big.iter().map(|v| **v * w * **v).sum::<f64>() + *big[1] * w
}

/// The same sum without the declared type, read by index.
#[differentiate]
fn refs_inferred(x: &[f64], w: f64) -> f64 {
    let mut big = Vec::new();
    for v in x {
        if *v > 0.0 {
            big.push(v);
        }
    }
    let mut s = 0.0;
    for i in 0..big.len() {
        s += *big[i] * w;
    }
    s
}

#[test]
fn a_local_vec_of_references_holds_the_values() {
    let x = [1.5, -2.0, 0.75, 3.0];
    let w = 0.6;
    let (v, (dx, dw)) = refs_pushed_grad(&x, w);
    assert_eq!(v, refs_pushed(&x, w));
    close_all("Vec<&f64> pushed ∂x", &dx, &[w + w * w, 0.0, w, w]);
    close(
        "Vec<&f64> pushed ∂w",
        dw,
        1.5 + 0.75 + 3.0 + 2.0 * w * 1.5,
        1e-12,
    );
    fd_vec(|x| refs_pushed(x, w), &x, &dx);

    let (v, (dx, dw)) = refs_collected_grad(&x, w);
    assert_eq!(v, refs_collected(&x, w));
    close_all(
        "Vec<&f64> collected ∂x",
        &dx,
        &[2.0 * 1.5 * w, 0.0, 2.0 * 0.75 * w + w, 6.0 * w],
    );
    close(
        "Vec<&f64> collected ∂w",
        dw,
        1.5 * 1.5 + 0.75 * 0.75 + 9.0 + 0.75,
        1e-12,
    );
    fd_vec(|x| refs_collected(x, w), &x, &dx);
    // The pullback scales with its seed, and the tangent is the gradient's dot product.
    let (_, pb) = refs_collected_vjp(&x, w);
    let (sx, sw) = pb(-0.5);
    close_all(
        "Vec<&f64> collected, seed -0.5",
        &sx,
        &dx.iter().map(|d| -0.5 * d).collect::<Vec<_>>(),
    );
    close("Vec<&f64> collected, seed -0.5, ∂w", sw, -0.5 * dw, 1e-12);
    let t = [0.3, -1.0, 0.2, 0.1];
    let (y, dy) = refs_collected_jvp(&x, w, &t.to_vec(), 0.4);
    assert_eq!(y, refs_collected(&x, w));
    let expected: f64 = dx.iter().zip(&t).map(|(d, t)| d * t).sum::<f64>() + 0.4 * dw;
    close("Vec<&f64> collected tangent", dy, expected, 1e-12);

    let (v, (dx, dw)) = refs_inferred_grad(&x, w);
    assert_eq!(v, refs_inferred(&x, w));
    close_all("Vec of refs inferred ∂x", &dx, &[w, 0.0, w, w]);
    close("Vec of refs inferred ∂w", dw, 1.5 + 0.75 + 3.0, 1e-12);
}

// Loops over the items of a string, which are data driving which parameters are read: a
// character bigram model, a bag of words looked up in a vocabulary built outside, a parsed
// line of indices. Such a loop was an error naming the loop's sources (a string's `chars()` is
// not one); it is collected into a `Vec` first, which is.

/// −log-likelihood of the letters of `text` under p(c | prev) ∝ exp(u[c] + b[prev][c]).
#[differentiate]
fn char_bigram_nll(u: &[f64; 4], b: &[[f64; 4]; 4], text: &str) -> f64 {
    let mut prev: Option<usize> = None;
    let mut nll = 0.0;
    for c in text.chars() {
        let cur = match c {
            'a'..='d' => c as usize - 'a' as usize,
            'A'..='D' => c.to_ascii_lowercase() as usize - 'a' as usize,
            _ => {
                prev = None;
                continue;
            }
        };
        if let Some(p) = prev {
            let mut z = 0.0;
            for k in 0..4 {
                z += (u[k] + b[p][k]).exp();
            }
            nll -= u[cur] + b[p][cur] - z.ln();
        }
        prev = Some(cur);
    }
    nll
}

/// Logistic loss of the mean embedding of each document's known words.
#[differentiate(wrt(emb, w))]
fn bag_of_words(
    emb: &[Vec<f64>],
    w: &[f64],
    vocab: &std::collections::HashMap<String, usize>,
    docs: &[(&str, f64)],
) -> f64 {
    let mut total = 0.0;
    for &(text, label) in docs {
        let mut h = vec![0.0; w.len()];
        let mut n = 0usize;
        for (i, tok) in text.split_whitespace().enumerate() {
            if let Some(&id) = vocab.get(&tok.to_lowercase()) {
                for k in 0..w.len() {
                    h[k] += emb[id][k] * (1.0 + 0.1 * i as f64);
                }
                n += 1;
            }
        }
        let z: f64 = h.iter().zip(w).map(|(a, c)| a * c).sum::<f64>() / n.max(1) as f64;
        total += (1.0 + (-label * z).exp()).ln();
    }
    total
}

/// Squares of the weights whose indices a line lists, `"0, 2\n1"`; a local `Vec<&str>` too.
#[differentiate(wrt(w))]
fn listed_squares(w: &[f64], text: &str) -> f64 {
    let mut s = 0.0;
    for line in text.lines() {
        for tok in line.split(',') {
            let k: usize = tok.trim().parse().unwrap();
            s += w[k] * w[k];
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    s + w[0] * words.len() as f64
}

#[test]
fn loops_over_the_items_of_a_string() {
    let u = [0.1, -0.4, 0.3, 0.2];
    let mut b = [[0.0; 4]; 4];
    for (i, row) in b.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = ((i * 4 + j) as f64 * 0.37).sin();
        }
    }
    let text = "Abc, dab cA";
    let (v, (du, db)) = char_bigram_nll_grad(&u, &b, text);
    assert_eq!(v, char_bigram_nll(&u, &b, text));
    let mut all: Vec<f64> = u.to_vec();
    all.extend(b.iter().flatten());
    let mut g: Vec<f64> = du.to_vec();
    g.extend(db.iter().flatten());
    let unflat = |p: &[f64]| {
        let mut u = [0.0; 4];
        u.copy_from_slice(&p[..4]);
        let mut b = [[0.0; 4]; 4];
        for i in 0..4 {
            b[i].copy_from_slice(&p[4 + 4 * i..8 + 4 * i]);
        }
        (u, b)
    };
    fd_vec(
        |p| {
            let (u, b) = unflat(p);
            char_bigram_nll(&u, &b, text)
        },
        &all,
        &g,
    );
    // The six bigrams in "Abc", "dab" and "cA" (the comma and the spaces start again):
    // each adds 1 to the gradient of u at its letter, less the softmax of its row.
    assert!(du.iter().all(|d| d.is_finite()));
    let (_, pb) = char_bigram_nll_vjp(&u, &b, text);
    let (su, _) = pb(2.0);
    close_all("bigram, seed 2", &su, &du.map(|d| 2.0 * d));

    let vocab: std::collections::HashMap<String, usize> = ["the", "cat", "sat", "dog"]
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), i))
        .collect();
    let docs = [
        ("The cat sat", 1.0),
        ("a dog SAT", -1.0),
        ("none known", 1.0),
    ];
    let emb: Vec<Vec<f64>> = (0..4).map(|i| data(3, i as f64)).collect();
    let w = data(3, 7.0);
    let (v, (de, dw)) = bag_of_words_grad(&emb, &w, &vocab, &docs);
    assert_eq!(v, bag_of_words(&emb, &w, &vocab, &docs));
    let mut all: Vec<f64> = emb.iter().flatten().copied().collect();
    all.extend(&w);
    let mut g: Vec<f64> = de.iter().flatten().copied().collect();
    g.extend(&dw);
    fd_vec(
        |p| {
            let e: Vec<Vec<f64>> = p[..12].chunks(3).map(|c| c.to_vec()).collect();
            bag_of_words(&e, &p[12..], &vocab, &docs)
        },
        &all,
        &g,
    );
    // "cat" is in the first document only, at position 1; "the" at 0, and the unknown words of
    // the third leave every row alone.
    assert!(de[1].iter().all(|d| *d != 0.0) && de[0].iter().all(|d| *d != 0.0));

    let w = [0.5, -1.0, 2.0];
    let (v, dw) = listed_squares_grad(&w, "0, 2\n1,2");
    assert_eq!(v, listed_squares(&w, "0, 2\n1,2"));
    // w0² + w2² + w1² + w2² + 3·w0 (three words: "0,", "2", "1,2").
    close_all("listed squares", &dw, &[2.0 * 0.5 + 3.0, -2.0, 4.0 * 2.0]);
}

/// Used where a word is looked up, as code run as written does: a plain helper on `&str`.
fn position_of(vocab: &[String], w: &str) -> Option<usize> {
    vocab.iter().position(|v| v == w)
}

// The items of a loop over a slice of strings are references, as in Rust: `w == l` compares
// `&String`s, `*w == "the"` a `&str`, and a `String` is never moved out of its slice.
// ∂/∂e[k] = Σ over the words kept with `len % 3 == k` of 2·e[k].
#[differentiate(wrt(e))]
fn kept_word_lengths(e: &[f64], words: &[&str], stop: &[&str]) -> f64 {
    let mut s = 0.0;
    for w in words {
        if *w == "the" || stop.contains(w) {
            continue;
        }
        let k = w.len() % 3;
        s += e[k] * e[k];
    }
    s
}

// ∂/∂e[k] = Σ over the words found at `k` of (i + 1)·(1 − tanh²(e[k])), and 0.1 for each word
// not found at 0; each "stop" takes 1 from ∂/∂e[1]; each pair of equal words and labels adds
// e[1] to ∂/∂e[0] and e[0] to ∂/∂e[1], each other pair 1 to ∂/∂e[1].
#[differentiate(wrt(e))]
fn labelled_words(e: &[f64], words: &[String], vocab: &[String], labels: &Vec<String>) -> f64 {
    let mut s = 0.0;
    for (i, w) in words.iter().enumerate() {
        let scale = (i + 1) as f64;
        match position_of(vocab, w) {
            Some(k) => s += scale * e[k].tanh(),
            None => s += 0.1 * e[0],
        }
        if w.as_str() == "stop" {
            s -= e[1];
        }
    }
    for (w, l) in words.iter().zip(labels) {
        if w == l {
            s += e[0] * e[1];
        } else {
            s += e[1];
        }
    }
    s
}

// Rows of strings: ∂/∂e[0] = cos(e[0]) for each "a" in the documents, ∂/∂e[1] = 2·e[1] for each
// other word of three letters or more.
#[differentiate(wrt(e))]
fn documents(e: &[f64], docs: &[Vec<String>]) -> f64 {
    let mut s = 0.0;
    for doc in docs {
        for w in doc {
            if w.as_str() == "a" {
                s += e[0].sin();
            } else if w.len() > 2 {
                s += e[1] * e[1];
            }
        }
    }
    s
}

#[test]
fn loops_over_slices_of_strings_borrow_their_items() {
    let e = [0.3, -0.7, 1.1];
    let words = ["the", "ab", "cat", "x", "stop"];
    let (v, g) = kept_word_lengths_grad(&e, &words, &["x"]);
    assert_eq!(v, kept_word_lengths(&e, &words, &["x"]));
    // "ab" at 2, "cat" at 0, "stop" at 1.
    close_all("kept words", &g, &[2.0 * e[0], 2.0 * e[1], 2.0 * e[2]]);
    fd_vec(|p| kept_word_lengths(p, &words, &["x"]), &e, &g);

    let words: Vec<String> = ["a", "stop", "zz", "q"].map(String::from).to_vec();
    let vocab: Vec<String> = ["zz", "a", "stop"].map(String::from).to_vec();
    let labels: Vec<String> = ["a", "b", "zz"].map(String::from).to_vec();
    let (v, g) = labelled_words_grad(&e, &words, &vocab, &labels);
    assert_eq!(v, labelled_words(&e, &words, &vocab, &labels));
    let d = |x: f64| 1.0 - x.tanh().powi(2);
    let want = [
        3.0 * d(e[0]) + 0.1 + 2.0 * e[1],
        d(e[1]) - 1.0 + 2.0 * e[0] + 1.0,
        2.0 * d(e[2]),
    ];
    close_all("labelled words", &g, &want);
    fd_vec(|p| labelled_words(p, &words, &vocab, &labels), &e, &g);

    let docs = vec![
        ["a", "bcd", "ef"].map(String::from).to_vec(),
        ["a", "ghij"].map(String::from).to_vec(),
    ];
    let (v, g) = documents_grad(&e, &docs);
    assert_eq!(v, documents(&e, &docs));
    close_all("documents", &g, &[2.0 * e[0].cos(), 2.0 * 2.0 * e[1], 0.0]);
    fd_vec(|p| documents(p, &docs), &e, &g);
}
