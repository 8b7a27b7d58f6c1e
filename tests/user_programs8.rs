//! Programs as Rust engineers write them without thinking about the differentiator: iterator
//! chains in their many forms (`zip` of three, `windows`, `chunks_exact`, `rev().enumerate()`,
//! `step_by`, tuple patterns, `fold`, `max_by` with `partial_cmp`, `min_by_key` on an index,
//! `position`, `any`/`all` on data, `product`, `collect` then index, `last`); closures stored in
//! locals, capturing parameters, passed to generic helpers, nested; `let else`, `if let`,
//! `match` with guards and ranges, `matches!`, shadowing, blocks as expressions, `const` tables
//! and `static` arrays; the float methods (`mul_add`, `hypot`, `atan2`, `exp_m1`, `ln_1p`,
//! `clamp`, `signum`, `cbrt`, …); structs with derives, generic structs over `T: Float`, trait
//! default methods, associated consts, builders returning `Self`, modules; helpers that write
//! into their caller's buffers, called in loops and twice in a row; `f32`, generic floats and
//! const generics.
//!
//! Each gradient is checked against its analytic form (stated beside the function) where it is
//! short, and against central finite differences through `autodiff::check`; each value against
//! the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::manual_clamp,
    clippy::op_ref,
    clippy::manual_unwrap_or,
    clippy::too_many_arguments,
    clippy::redundant_guards,
    clippy::single_match,
    clippy::double_ended_iterator_last,
    clippy::while_let_loop
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use num_traits::{Float, FloatConst};
use std::f64::consts::PI;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Iterator chains.
// ---------------------------------------------------------------------------------------------

/// Σ aᵢ·bᵢ·cᵢ over a zip of three slices, with a tuple pattern in the closure.
#[differentiate]
fn triple_dot(a: &[f64], b: &[f64], c: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(c)
        .map(|((x, y), z)| x * y * z)
        .sum::<f64>()
}

#[test]
fn zip_of_three_with_nested_tuple_pattern() {
    let (a, b, c) = (data(5, 0.1), data(5, 1.3), data(5, 2.7));
    let (v, (ga, gb, gc)) = triple_dot_grad(&a, &b, &c);
    close("value", v, triple_dot(&a, &b, &c), TOL);
    // ∂aᵢ = bᵢcᵢ, ∂bᵢ = aᵢcᵢ, ∂cᵢ = aᵢbᵢ
    for i in 0..5 {
        close("∂a", ga[i], b[i] * c[i], TOL);
        close("∂b", gb[i], a[i] * c[i], TOL);
        close("∂c", gc[i], a[i] * b[i], TOL);
    }
    fd_vec("∂a", |a| triple_dot(a, &b, &c), &a, &ga);
}

/// Σ (x_{i+1} − x_i)² over `windows(2)` with the window destructured by index.
#[differentiate]
fn roughness(xs: &[f64]) -> f64 {
    xs.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
}

#[test]
fn windows_squared_differences() {
    let x = data(7, 0.4);
    let (v, g) = roughness_grad(&x);
    close("value", v, roughness(&x), TOL);
    // ∂xᵢ = 2(xᵢ − xᵢ₋₁) − 2(xᵢ₊₁ − xᵢ)
    for i in 0..x.len() {
        let mut e = 0.0;
        if i > 0 {
            e += 2.0 * (x[i] - x[i - 1]);
        }
        if i + 1 < x.len() {
            e -= 2.0 * (x[i + 1] - x[i]);
        }
        close("∂x", g[i], e, TOL);
    }
    fd_vec("roughness", roughness, &x, &g);
}

/// The norm of each point of a flat `[x0, y0, z0, x1, ..]` buffer, summed: `chunks_exact(3)`.
#[differentiate]
fn flat_point_norms(flat: &[f64]) -> f64 {
    flat.chunks_exact(3)
        .map(|p| (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt())
        .sum()
}

#[test]
fn chunks_exact_of_a_flat_buffer() {
    let x = data(9, 0.9);
    let (v, g) = flat_point_norms_grad(&x);
    close("value", v, flat_point_norms(&x), TOL);
    // ∂p = p/|p| per point
    for k in 0..3 {
        let n = (x[3 * k].powi(2) + x[3 * k + 1].powi(2) + x[3 * k + 2].powi(2)).sqrt();
        for j in 0..3 {
            close("∂p", g[3 * k + j], x[3 * k + j] / n, TOL);
        }
    }
    fd_vec("flat_point_norms", flat_point_norms, &x, &g);
}

/// Horner from the back: `coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)`.
#[differentiate]
fn poly_eval(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

#[test]
fn horner_through_rev_fold_with_ref_pattern() {
    let c = vec![0.5, -1.0, 2.0, 0.25];
    let x = 1.3;
    let (v, (gc, gx)) = poly_eval_grad(&c, x);
    close("value", v, poly_eval(&c, x), TOL);
    // ∂cₖ = xᵏ; ∂x = Σ k cₖ xᵏ⁻¹
    for k in 0..4 {
        close("∂c", gc[k], x.powi(k as i32), TOL);
    }
    close("∂x", gx, -1.0 + 4.0 * x + 0.75 * x * x, TOL);
    fd("∂x", |x| poly_eval(&c, x), x, gx);
}

/// Weights that decay from the end: `iter().rev().enumerate()` with `powi` of the index.
#[differentiate]
fn discounted_from_end(r: &[f64], gamma: f64) -> f64 {
    r.iter()
        .rev()
        .enumerate()
        .map(|(k, &x)| gamma.powi(k as i32) * x)
        .sum()
}

#[test]
fn rev_enumerate_discounting() {
    let r = data(6, 0.2);
    let (v, (gr, gg)) = discounted_from_end_grad(&r, 0.9);
    close("value", v, discounted_from_end(&r, 0.9), TOL);
    // ∂rᵢ = γ^(n−1−i); ∂γ = Σ k γ^(k−1) r_{n−1−k}
    let n = r.len();
    let mut e = 0.0;
    for k in 0..n {
        close("∂r", gr[n - 1 - k], 0.9f64.powi(k as i32), TOL);
        if k > 0 {
            e += k as f64 * 0.9f64.powi(k as i32 - 1) * r[n - 1 - k];
        }
    }
    close("∂γ", gg, e, TOL);
    fd("∂γ", |g| discounted_from_end(&r, g), 0.9, gg);
}

/// Every other sample after a warm-up of two, at most four of them.
#[differentiate]
fn strided_energy(x: &[f64]) -> f64 {
    x.iter()
        .skip(2)
        .step_by(2)
        .take(4)
        .map(|v| v * v)
        .sum::<f64>()
}

#[test]
fn skip_step_by_take() {
    let x = data(13, 1.1);
    let (v, g) = strided_energy_grad(&x);
    close("value", v, strided_energy(&x), TOL);
    // ∂xᵢ = 2xᵢ for i in {2, 4, 6, 8}
    for i in 0..x.len() {
        let e = if (2..=8).contains(&i) && i % 2 == 0 {
            2.0 * x[i]
        } else {
            0.0
        };
        close("∂x", g[i], e, TOL);
    }
    fd_vec("strided_energy", strided_energy, &x, &g);
}

/// The largest of the squares, through `max_by(|a, b| a.partial_cmp(b).unwrap())`.
#[differentiate]
fn max_square(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| v * v)
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap()
}

#[test]
fn max_by_partial_cmp_of_a_mapped_chain() {
    let x = vec![0.3, -1.2, 0.8, 1.1];
    let (v, g) = max_square_grad(&x);
    close("value", v, max_square(&x), TOL);
    // the largest square is x₁² = 1.44: ∂x₁ = 2x₁, others 0
    close_all("∂x", &g, &[0.0, -2.4, 0.0, 0.0]);
    fd_vec("max_square", max_square, &x, &g);
}

/// The value at the index nearest a target, found by `min_by_key` over indices.
#[differentiate]
fn nearest_sample(grid: &[f64], vals: &[f64], t: f64) -> f64 {
    let k = (0..grid.len())
        .min_by_key(|&i| ((grid[i] - t).abs() * 1e6) as i64)
        .unwrap();
    vals[k] * t
}

#[test]
fn min_by_key_on_an_index() {
    let grid = vec![0.0, 0.5, 1.0, 1.5];
    let vals = vec![2.0, 3.0, 5.0, 7.0];
    let (v, (gg, gv, gt)) = nearest_sample_grad(&grid, &vals, 0.9);
    close("value", v, nearest_sample(&grid, &vals, 0.9), TOL);
    // nearest is index 2: ∂v₂ = t, ∂t = v₂, grid none
    close_all("∂grid", &gg, &[0.0; 4]);
    close_all("∂vals", &gv, &[0.0, 0.0, 0.9, 0.0]);
    close("∂t", gt, 5.0, TOL);
    fd("∂t", |t| nearest_sample(&grid, &vals, t), 0.9, gt);
}

/// Scale by the first negative's position: `position` on data, then an indexed read.
#[differentiate]
fn after_first_negative(x: &[f64]) -> f64 {
    let start = x.iter().position(|&v| v < 0.0).unwrap_or(x.len());
    x[start..].iter().map(|v| v.exp()).sum::<f64>()
}

#[test]
fn position_then_a_range_from_it() {
    let x = vec![0.4, 0.2, -0.3, 0.7, -0.1];
    let (v, g) = after_first_negative_grad(&x);
    close("value", v, after_first_negative(&x), TOL);
    // ∂xᵢ = exp(xᵢ) from index 2 on
    for i in 0..5 {
        close("∂x", g[i], if i >= 2 { x[i].exp() } else { 0.0 }, TOL);
    }
    fd_vec("after_first_negative", after_first_negative, &x, &g);
}

/// `any` / `all` tests on data decide the formula.
#[differentiate]
fn guarded_mean(x: &[f64], w: f64) -> f64 {
    let n = x.len() as f64;
    if x.iter().all(|&v| v > 0.0) {
        x.iter().map(|v| v.ln()).sum::<f64>() * w / n
    } else if x.iter().any(|v| v.abs() > 10.0) {
        w
    } else {
        x.iter().sum::<f64>() * w * w / n
    }
}

#[test]
fn any_and_all_on_the_data() {
    let pos = vec![0.5, 1.5, 2.0];
    let (v, (gx, gw)) = guarded_mean_grad(&pos, 0.7);
    close("value", v, guarded_mean(&pos, 0.7), TOL);
    // all positive: ∂xᵢ = w/(n xᵢ), ∂w = Σ ln xᵢ / n
    for i in 0..3 {
        close("∂x", gx[i], 0.7 / (3.0 * pos[i]), TOL);
    }
    close("∂w", gw, pos.iter().map(|v| v.ln()).sum::<f64>() / 3.0, TOL);
    let mixed = vec![0.5, -1.5, 2.0];
    let (v, (gx, gw)) = guarded_mean_grad(&mixed, 0.7);
    close("value", v, guarded_mean(&mixed, 0.7), TOL);
    // ∂xᵢ = w²/n, ∂w = 2w Σx / n
    close_all("∂x", &gx, &[0.49 / 3.0; 3]);
    close("∂w", gw, 1.4 * 1.0 / 3.0, TOL);
    fd_vec("guarded_mean", |x| guarded_mean(x, 0.7), &mixed, &gx);
}

/// Π (1 + rᵢ) − 1: compound growth through `product()`.
#[differentiate]
fn compound_return(r: &[f64]) -> f64 {
    r.iter().map(|x| 1.0 + x).product::<f64>() - 1.0
}

#[test]
fn product_of_a_mapped_chain() {
    let r = vec![0.05, -0.02, 0.1, 0.03];
    let (v, g) = compound_return_grad(&r);
    close("value", v, compound_return(&r), TOL);
    // ∂rᵢ = Π_{j≠i} (1 + rⱼ)
    let p: f64 = r.iter().map(|x| 1.0 + x).product();
    for i in 0..4 {
        close("∂r", g[i], p / (1.0 + r[i]), TOL);
    }
    fd_vec("compound_return", compound_return, &r, &g);
}

/// Collect the prefix sums, then read the middle and the last ones by index.
#[differentiate]
fn prefix_pick(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    let sums: Vec<f64> = x
        .iter()
        .map(|v| {
            acc += v;
            acc
        })
        .collect::<Vec<_>>();
    sums[sums.len() / 2] * sums[sums.len() - 1]
}

#[test]
fn collect_prefix_sums_then_index() {
    let x = data(5, 0.6);
    let (v, g) = prefix_pick_grad(&x);
    close("value", v, prefix_pick(&x), TOL);
    // S₂ = x₀+x₁+x₂, S₄ = Σx: ∂xᵢ = S₄·[i≤2] + S₂
    let s2: f64 = x[..3].iter().sum();
    let s4: f64 = x.iter().sum();
    for i in 0..5 {
        close("∂x", g[i], if i <= 2 { s4 } else { 0.0 } + s2, TOL);
    }
    fd_vec("prefix_pick", prefix_pick, &x, &g);
}

/// The last kept element of a filtered chain.
#[differentiate]
fn last_small(x: &[f64], limit: f64) -> f64 {
    let v = x.iter().filter(|&&v| v.abs() < limit).last().unwrap();
    v * limit
}

#[test]
fn last_of_a_filter() {
    let x = vec![0.1, 2.0, -0.4, 3.0];
    let (v, (gx, gl)) = last_small_grad(&x, 1.0);
    close("value", v, last_small(&x, 1.0), TOL);
    // the last with |v| < 1 is x₂: ∂x₂ = limit, ∂limit = x₂
    close_all("∂x", &gx, &[0.0, 0.0, 1.0, 0.0]);
    close("∂limit", gl, -0.4, TOL);
}

/// `enumerate().filter(..)` on the index, with a tuple pattern and `copied()`.
#[differentiate]
fn even_weighted(x: &[f64], w: f64) -> f64 {
    x.iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(i, v)| (i as f64 + w) * v)
        .sum()
}

#[test]
fn enumerate_filter_on_index() {
    let x = data(6, 0.3);
    let (v, (gx, gw)) = even_weighted_grad(&x, 0.5);
    close("value", v, even_weighted(&x, 0.5), TOL);
    // ∂xᵢ = i + w for even i; ∂w = Σ_{even} xᵢ
    for i in 0..6 {
        close(
            "∂x",
            gx[i],
            if i % 2 == 0 { i as f64 + 0.5 } else { 0.0 },
            TOL,
        );
    }
    close("∂w", gw, x[0] + x[2] + x[4], TOL);
    fd("∂w", |w| even_weighted(&x, w), 0.5, gw);
}

/// A `Vec` taken by value and consumed with `into_iter()`.
#[differentiate]
fn owned_softplus_sum(x: Vec<f64>, beta: f64) -> f64 {
    x.into_iter()
        .map(|v| (1.0 + (beta * v).exp()).ln() / beta)
        .sum()
}

#[test]
fn into_iter_of_an_owned_vec() {
    let x = data(4, 2.0);
    let (v, (gx, gb)) = owned_softplus_sum_grad(x.clone(), 1.5);
    close("value", v, owned_softplus_sum(x.clone(), 1.5), TOL);
    // ∂xᵢ = σ(βxᵢ)
    for i in 0..4 {
        close("∂x", gx[i], 1.0 / (1.0 + (-1.5 * x[i]).exp()), TOL);
    }
    fd("∂β", |b| owned_softplus_sum(x.clone(), b), 1.5, gb);
}

/// The cloned elements of a `Vec` parameter, reduced with `reduce`.
#[differentiate]
fn smooth_max_reduce(x: &Vec<f64>, t: f64) -> f64 {
    x.iter()
        .cloned()
        .reduce(|a, b| t * ((a / t).exp() + (b / t).exp()).ln())
        .unwrap()
}

#[test]
fn reduce_of_cloned_pairs() {
    let x = vec![0.3, 1.0, -0.5, 0.8];
    let (v, (gx, gt)) = smooth_max_reduce_grad(&x, 0.4);
    close("value", v, smooth_max_reduce(&x, 0.4), TOL);
    // the fold equals t·ln Σ exp(xᵢ/t): ∂xᵢ = softmax(x/t)ᵢ
    let z: f64 = x.iter().map(|v| (v / 0.4).exp()).sum();
    for i in 0..4 {
        close("∂x", gx[i], (x[i] / 0.4).exp() / z, 1e-10);
    }
    fd("∂t", |t| smooth_max_reduce(&x, t), 0.4, gt);
    let r = gradcheck(|p: &Vec<f64>| smooth_max_reduce(p, 0.4), &x, &gx);
    assert!(r.passed(), "{r}");
}

/// A `for` loop over `zip` with `&` patterns on both sides and an early `break` on data.
#[differentiate]
fn until_sentinel(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (&a, &b) in x.iter().zip(y.iter()) {
        if b < 0.0 {
            break;
        }
        s += a.mul_add(b, a * a);
    }
    s
}

#[test]
fn zip_for_loop_with_break_on_data() {
    let x = vec![0.5, 1.5, -0.7, 2.0];
    let y = vec![1.0, 0.2, -1.0, 3.0];
    let (v, (gx, gy)) = until_sentinel_grad(&x, &y);
    close("value", v, until_sentinel(&x, &y), TOL);
    // first two terms aᵢbᵢ + aᵢ²: ∂aᵢ = bᵢ + 2aᵢ, ∂bᵢ = aᵢ
    close_all("∂x", &gx, &[2.0, 3.2, 0.0, 0.0]);
    close_all("∂y", &gy, &[0.5, 1.5, 0.0, 0.0]);
    fd_vec2("until_sentinel", until_sentinel, &x, &y, &gx, &gy);
}

/// A map over `(0..n).rev()` reading two slices by index.
#[differentiate]
fn backward_recurrence(a: &[f64], b: &[f64]) -> f64 {
    let mut v = 1.0;
    for i in (0..a.len()).rev() {
        v = a[i] * v + b[i];
    }
    v
}

#[test]
fn reverse_range_recurrence() {
    let (a, b) = (data(4, 0.5), data(4, 3.5));
    let (v, (ga, gb)) = backward_recurrence_grad(&a, &b);
    close("value", v, backward_recurrence(&a, &b), TOL);
    fd_vec2("backward_recurrence", backward_recurrence, &a, &b, &ga, &gb);
    // ∂b₀ = 1, ∂b₁ = a₀
    close("∂b₀", gb[0], 1.0, TOL);
    close("∂b₁", gb[1], a[0], TOL);
}

/// Pairwise distances of points given as two coordinate slices: nested `map` with `sum`.
#[differentiate]
fn pair_energy(xs: &[f64], ys: &[f64]) -> f64 {
    (0..xs.len())
        .map(|i| {
            (i + 1..xs.len())
                .map(|j| 1.0 / (xs[i] - xs[j]).hypot(ys[i] - ys[j]))
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn nested_range_maps_with_hypot() {
    let xs = vec![0.0, 1.0, 0.3, 2.0];
    let ys = vec![0.0, 0.5, 1.4, -0.6];
    let (v, (gx, gy)) = pair_energy_grad(&xs, &ys);
    close("value", v, pair_energy(&xs, &ys), TOL);
    // ∂xᵢ = −Σⱼ (xᵢ − xⱼ)/rᵢⱼ³
    for i in 0..4 {
        let mut e = 0.0;
        for j in 0..4 {
            if i != j {
                let r = (xs[i] - xs[j]).hypot(ys[i] - ys[j]);
                e -= (xs[i] - xs[j]) / r.powi(3);
            }
        }
        close("∂x", gx[i], e, 1e-10);
    }
    fd_vec2("pair_energy", pair_energy, &xs, &ys, &gx, &gy);
}

// ---------------------------------------------------------------------------------------------
// Closures.
// ---------------------------------------------------------------------------------------------

/// A closure stored in a local and called many times, capturing two parameters.
#[differentiate]
fn gaussian_bumps(centers: &[f64], width: f64, amp: f64) -> f64 {
    let bump = |x: f64| amp * (-(x * x) / (2.0 * width * width)).exp();
    let mut s = 0.0;
    for &c in centers {
        s += bump(c) + bump(c - 1.0);
    }
    s
}

#[test]
fn a_stored_closure_called_in_a_loop() {
    let c = vec![0.2, -0.5, 1.3];
    let (v, (gc, gw, ga)) = gaussian_bumps_grad(&c, 0.8, 1.7);
    close("value", v, gaussian_bumps(&c, 0.8, 1.7), TOL);
    // ∂amp = Σ exp(..)
    let e: f64 = c
        .iter()
        .map(|&x: &f64| (-(x * x) / 1.28).exp() + (-((x - 1.0) * (x - 1.0)) / 1.28).exp())
        .sum();
    close("∂amp", ga, e, TOL);
    fd("∂width", |w| gaussian_bumps(&c, w, 1.7), 0.8, gw);
    fd_vec("∂c", |c| gaussian_bumps(c, 0.8, 1.7), &c, &gc);
}

fn apply<F: Fn(f64) -> f64>(f: F, x: f64) -> f64 {
    f(x)
}

/// A closure passed to a generic helper — the helper is the user's, not differentiated.
#[differentiate]
fn through_apply(x: f64, k: f64) -> f64 {
    let sq = |v: f64| v * v * k;
    sq(x) + sq(x + 1.0)
}

#[test]
fn closure_called_directly_instead_of_through_a_generic_helper() {
    let (v, (gx, gk)) = through_apply_grad(0.7, 1.3);
    close("value", v, through_apply(0.7, 1.3), TOL);
    close(
        "value via apply",
        v,
        apply(|v| v * v * 1.3, 0.7) + apply(|v| v * v * 1.3, 1.7),
        TOL,
    );
    // ∂x = 2k(x + x + 1); ∂k = x² + (x + 1)²
    close("∂x", gx, 2.0 * 1.3 * (0.7 + 1.7), TOL);
    close("∂k", gk, 0.49 + 2.89, TOL);
}

/// Nested closures: one closure calls another that captures a parameter.
#[differentiate]
fn nested_closures(x: f64, a: f64) -> f64 {
    let inner = |t: f64| (a * t).sin();
    let outer = |t: f64| inner(t) * inner(2.0 * t);
    outer(x) + outer(x * x)
}

#[test]
fn a_closure_calling_a_closure() {
    let (v, (gx, ga)) = nested_closures_grad(0.6, 1.1);
    close("value", v, nested_closures(0.6, 1.1), TOL);
    fd2("nested_closures", nested_closures, (0.6, 1.1), (gx, ga));
    // ∂x of sin(ax)sin(2ax) + sin(ax²)sin(2ax²)
    let (x, a) = (0.6f64, 1.1f64);
    let d1 =
        a * (a * x).cos() * (2.0 * a * x).sin() + 2.0 * a * (a * x).sin() * (2.0 * a * x).cos();
    let x2 = x * x;
    let d2 = (a * (a * x2).cos() * (2.0 * a * x2).sin()
        + 2.0 * a * (a * x2).sin() * (2.0 * a * x2).cos())
        * 2.0
        * x;
    close("∂x", gx, d1 + d2, TOL);
}

/// A closure that changes a captured accumulator, called on each element.
#[differentiate]
fn accumulate_by_closure(x: &[f64], decay: f64) -> f64 {
    let mut state = 0.0;
    let mut feed = |v: f64| {
        state = decay * state + (1.0 - decay) * v;
    };
    for &v in x {
        feed(v);
    }
    state
}

#[test]
fn a_closure_mutating_a_capture() {
    let x = data(5, 0.8);
    let (v, (gx, gd)) = accumulate_by_closure_grad(&x, 0.6);
    close("value", v, accumulate_by_closure(&x, 0.6), TOL);
    // ∂xᵢ = (1 − d) d^(n−1−i)
    for i in 0..5 {
        close("∂x", gx[i], 0.4 * 0.6f64.powi(4 - i as i32), TOL);
    }
    fd("∂decay", |d| accumulate_by_closure(&x, d), 0.6, gd);
}

// ---------------------------------------------------------------------------------------------
// `let else`, `if let`, `match` with guards and ranges, `matches!`, consts and statics.
// ---------------------------------------------------------------------------------------------

/// The square of the first element, or nothing for an empty slice: `let Some(&v) = .. else`.
#[differentiate]
fn first_squared(x: &[f64]) -> f64 {
    let Some(&first) = x.first() else {
        return 0.0;
    };
    first * first
}

#[test]
fn let_else_on_first() {
    let x = vec![0.7, 2.0, 3.0];
    let (v, g) = first_squared_grad(&x);
    close("value", v, first_squared(&x), TOL);
    // ∂x₀ = 2x₀
    close_all("∂x", &g, &[1.4, 0.0, 0.0]);
    let (v, g) = first_squared_grad(&[]);
    close("empty", v, 0.0, TOL);
    assert!(g.is_empty());
}

/// The product of the first two, with a slice pattern in `let else` and a `mut` binding.
#[differentiate]
fn head_pair(x: &[f64]) -> f64 {
    let [a, mut b, ..] = x[..] else {
        return 0.0;
    };
    b += a * a;
    a * b
}

#[test]
fn let_else_with_a_slice_pattern() {
    let x = vec![0.5, 2.0, 3.0];
    let (v, g) = head_pair_grad(&x);
    close("value", v, head_pair(&x), TOL);
    // a(b + a²): ∂a = b + 3a², ∂b = a
    close_all("∂x", &g, &[2.75, 0.5, 0.0]);
    fd_vec("head_pair", head_pair, &x, &g);
    let (v, g) = head_pair_grad(&x[..1]);
    close("short", v, 0.0, TOL);
    close_all("∂short", &g, &[0.0]);
}

/// Gather by indices that may be out of range: `let Some(&v) = x.get(i) else { continue };`.
#[differentiate]
fn gather_sq(x: &[f64], idx: &[usize]) -> f64 {
    let mut s = 0.0;
    for &i in idx {
        let Some(&v) = x.get(i) else { continue };
        s += v * v;
    }
    s
}

#[test]
fn let_else_continue_in_a_loop() {
    let x = vec![0.5, 2.0, 3.0];
    let idx = [0, 7, 2, 2];
    let (v, g) = gather_sq_grad(&x, &idx);
    close("value", v, gather_sq(&x, &idx), TOL);
    // ∂xᵢ = 2xᵢ · (times i appears)
    close_all("∂x", &g, &[1.0, 0.0, 12.0]);
    fd_vec("gather_sq", |x| gather_sq(x, &idx), &x, &g);
}

/// Walk until the end with `loop` and `let .. else { break }`.
#[differentiate]
fn walk_scaled(x: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    loop {
        let Some(&v) = x.get(i) else { break };
        s += v * t.powi(i as i32);
        i += 1;
    }
    s
}

#[test]
fn let_else_break_in_loop() {
    let x = data(4, 0.9);
    let (v, (gx, gt)) = walk_scaled_grad(&x, 1.2);
    close("value", v, walk_scaled(&x, 1.2), TOL);
    // ∂xᵢ = tⁱ; ∂t = Σ i xᵢ tⁱ⁻¹
    let mut e = 0.0;
    for i in 0..4 {
        close("∂x", gx[i], 1.2f64.powi(i as i32), TOL);
        if i > 0 {
            e += i as f64 * x[i] * 1.2f64.powi(i as i32 - 1);
        }
    }
    close("∂t", gt, e, TOL);
}

/// The peak found with `max_by` and taken apart by `let else`; the index after the first large
/// one from `position` with a `mut` binding.
#[differentiate]
fn peak_and_next(x: &[f64]) -> f64 {
    let Some(m) = x.iter().copied().max_by(|a, b| a.partial_cmp(b).unwrap()) else {
        return 0.0;
    };
    let Some(mut k) = x.iter().position(|&v| v > 1.0) else {
        return m * m;
    };
    k = (k + 1).min(x.len() - 1);
    m * m + x[k]
}

#[test]
fn let_else_on_max_by_and_position() {
    let x = vec![0.2, 1.5, 0.7, 3.0];
    let (v, g) = peak_and_next_grad(&x);
    close("value", v, peak_and_next(&x), TOL);
    // max is x₃ = 3 → 2·3; first > 1 is index 1, next is 2 → 1
    close_all("∂x", &g, &[0.0, 0.0, 1.0, 6.0]);
    let y = vec![0.2, 0.5];
    let (v, g) = peak_and_next_grad(&y);
    close("value, none large", v, 0.25, TOL);
    close_all("∂y", &g, &[0.0, 1.0]);
}

/// Kinds given as bytes pick the terms: `matches!` with alternatives.
#[differentiate]
fn kind_weighted(x: &[f64], kinds: &[u8], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if matches!(kinds[i], b'a' | b'c') {
            s += w * x[i];
        } else if matches!(kinds[i], b'x'..=b'z') {
            s -= x[i] * x[i];
        }
    }
    s
}

#[test]
fn matches_macro_on_data() {
    let x = vec![0.5, 1.5, -0.3, 2.0];
    let kinds = b"axcb";
    let (v, (gx, gw)) = kind_weighted_grad(&x, kinds, 2.0);
    close("value", v, kind_weighted(&x, kinds, 2.0), TOL);
    // a, c: ∂ = w; x: ∂ = −2x; b: 0; ∂w = x₀ + x₂
    close_all("∂x", &gx, &[2.0, -3.0, 2.0, 0.0]);
    close("∂w", gw, 0.2, TOL);
}

/// A degree chosen by a `match` with ranges and a guard.
#[differentiate]
fn by_order(x: f64, n: usize) -> f64 {
    match n {
        0 => x,
        1..=3 => x.powi(n as i32 + 1),
        k if k % 2 == 0 => (x * k as f64).sin(),
        _ => x.cos(),
    }
}

#[test]
fn match_with_ranges_and_guards() {
    let x = 0.8;
    for n in 0..7 {
        let (v, g) = by_order_grad(x, n);
        close("value", v, by_order(x, n), TOL);
        // x, x^(n+1), sin(nx), cos(x)
        let e = match n {
            0 => 1.0,
            1..=3 => (n as f64 + 1.0) * x.powi(n as i32),
            k if k % 2 == 0 => k as f64 * (x * k as f64).cos(),
            _ => -x.sin(),
        };
        close("∂x", g, e, TOL);
    }
}

static WEIGHTS: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
const COEF: [f64; 3] = [1.0, -0.5, 0.25];

/// A `static` weight table and a `const` coefficient table.
#[differentiate]
fn tabled(x: &[f64]) -> f64 {
    let lin = x
        .iter()
        .zip(WEIGHTS.iter())
        .map(|(a, w)| a * w)
        .sum::<f64>();
    let poly = COEF
        .iter()
        .enumerate()
        .map(|(k, c)| c * x[0].powi(k as i32))
        .sum::<f64>();
    lin * poly
}

#[test]
fn static_and_const_tables() {
    let x = vec![0.9, -0.4, 0.3, 1.2];
    let (v, g) = tabled_grad(&x);
    close("value", v, tabled(&x), TOL);
    // L = Σwx, P = 1 − x₀/2 + x₀²/4: ∂xᵢ = wᵢP + [i = 0] L(−1/2 + x₀/2)
    let l: f64 = x.iter().zip(WEIGHTS).map(|(a, w)| a * w).sum();
    let p = 1.0 - 0.45 + 0.81 / 4.0;
    for i in 0..4 {
        let e = WEIGHTS[i] * p + if i == 0 { l * (-0.5 + 0.45) } else { 0.0 };
        close("∂x", g[i], e, TOL);
    }
    fd_vec("tabled", tabled, &x, &g);
}

/// A smoothed absolute value with `f64::EPSILON`, and a blocks-as-expressions chain of
/// `exp_m1`, `ln_1p`, shadowing and `clamp`/`signum`/`cbrt`.
#[differentiate]
fn blocks_and_consts(x: f64) -> f64 {
    let y = {
        let t = x * 2.0;
        t.exp_m1()
    };
    let x = y.ln_1p();
    let smooth = (x * x + f64::EPSILON).sqrt();
    smooth + x.clamp(-1.0, 1.0) + x.signum() * x.cbrt() + PI * x
}

#[test]
fn blocks_shadowing_and_float_methods() {
    for &x in &[0.3, -0.2, 0.9] {
        let (v, g) = blocks_and_consts_grad(x);
        close("value", v, blocks_and_consts(x), TOL);
        // ln_1p(exp_m1(2x)) = 2x = t, sign(t)·∛t = |t|^(1/3):
        // ∂ = 2(sign t + [|t| < 1] + sign(t)|t|^(−2/3)/3 + π)
        let t: f64 = 2.0 * x;
        let e = 2.0
            * (t / (t * t + f64::EPSILON).sqrt()
                + if t.abs() < 1.0 { 1.0 } else { 0.0 }
                + t.signum() * t.abs().powf(-2.0 / 3.0) / 3.0
                + PI);
        close("∂x", g, e, 1e-9);
        fd("blocks_and_consts", blocks_and_consts, x, g);
    }
}

// ---------------------------------------------------------------------------------------------
// Structs, generics, traits, modules.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Model<T: Float> {
    w: Vec<T>,
    b: T,
}

impl<T: Float> Model<T> {
    /// b + w·x by a fold with a tuple pattern.
    #[differentiate]
    fn predict(&self, x: &[T]) -> T
    where
        T: Float,
    {
        self.w
            .iter()
            .zip(x)
            .fold(self.b, |acc, (&w, &xi)| acc + w * xi)
    }
}

/// Mean squared error of a generic model instantiated at `f64`.
#[differentiate]
fn model_mse(m: &Model<f64>, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let mut l = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let r = m.predict(x) - y;
        l += r * r;
    }
    l / ys.len() as f64
}

#[test]
fn generic_model_struct_at_f64() {
    let m = Model {
        w: vec![0.3, -0.2],
        b: 0.1,
    };
    let xs = vec![vec![1.0, 2.0], vec![0.5, -1.0], vec![-0.3, 0.8]];
    let ys = vec![0.2, 0.4, -0.1];
    let (v, (gm, _gx, gy)) = model_mse_grad(&m, &xs, &ys);
    close("value", v, model_mse(&m, &xs, &ys), TOL);
    // ∂b = 2/n Σ r, ∂w = 2/n Σ r x, ∂y = −2r/n
    let (mut eb, mut ew) = (0.0, [0.0; 2]);
    for (x, &y) in xs.iter().zip(&ys) {
        let r = 0.1 + 0.3 * x[0] - 0.2 * x[1] - y;
        eb += 2.0 * r / 3.0;
        ew[0] += 2.0 * r * x[0] / 3.0;
        ew[1] += 2.0 * r * x[1] / 3.0;
    }
    close("∂b", gm.b, eb, TOL);
    close_all("∂w", &gm.w, &ew);
    let r0 = 0.1 + 0.3 - 0.4 - 0.2;
    close("∂y₀", gy[0], -2.0 * r0 / 3.0, TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| {
            model_mse(
                &Model {
                    w: p.0.clone(),
                    b: p.1,
                },
                &xs,
                &ys,
            )
        },
        &(m.w.clone(), m.b),
        &(gm.w.clone(), gm.b),
    );
    assert!(r.passed(), "{r}");
}

#[derive(Clone, Differentiable)]
struct Oscillator {
    k: f64,
    c: f64,
}

impl Oscillator {
    const DT: f64 = 0.01;
    const STEPS: usize = 100;

    #[differentiate]
    fn new(k: f64) -> Self {
        Self { k, c: 0.0 }
    }

    fn with_damping(mut self, c: f64) -> Self {
        self.c = c;
        self
    }

    /// Semi-implicit Euler with associated consts for the step and the count.
    #[differentiate]
    fn final_x(&self, x0: f64) -> f64 {
        let (mut x, mut v) = (x0, 0.0);
        for _ in 0..Self::STEPS {
            let a = -self.k * x - self.c * v;
            v += a * Self::DT;
            x += v * Self::DT;
        }
        x
    }
}

#[differentiate]
fn osc_literal(k: f64, c: f64, x0: f64) -> f64 {
    let o = Oscillator { k, c };
    o.final_x(x0)
}

#[differentiate]
fn osc_new(k: f64, x0: f64) -> f64 {
    let o = Oscillator::new(k);
    o.final_x(x0)
}

#[test]
fn associated_consts_new_and_builders() {
    let built = Oscillator::new(2.0).with_damping(0.3);
    let (v, (go, gx)) = built.final_x_grad(1.0);
    close("value", v, built.final_x(1.0), TOL);
    // linear in x0: ∂x0 = x(T)/x0
    close("∂x0", gx, v, TOL);
    let (v2, (gk, gc, gx2)) = osc_literal_grad(2.0, 0.3, 1.0);
    close("literal value", v2, v, TOL);
    close("∂k", gk, go.k, TOL);
    close("∂c", gc, go.c, TOL);
    close("∂x0", gx2, gx, TOL);
    fd3("osc_literal", osc_literal, (2.0, 0.3, 1.0), (gk, gc, gx2));
    let (v3, (gk3, gx3)) = osc_new_grad(2.0, 1.0);
    close("new value", v3, osc_new(2.0, 1.0), TOL);
    fd2("osc_new", osc_new, (2.0, 1.0), (gk3, gx3));
}

trait Shape {
    fn area(&self) -> f64;
    fn perimeter(&self) -> f64;
    fn compactness(&self) -> f64 {
        4.0 * PI * self.area() / (self.perimeter() * self.perimeter())
    }
}

#[derive(Clone, Differentiable)]
struct Rect {
    w: f64,
    h: f64,
}

// A default method called from a differentiated function is written in the impl block: the
// trait's own default body is not differentiated.
#[differentiate]
impl Shape for Rect {
    fn area(&self) -> f64 {
        self.w * self.h
    }
    fn perimeter(&self) -> f64 {
        2.0 * (self.w + self.h)
    }
    fn compactness(&self) -> f64 {
        4.0 * PI * self.area() / (self.perimeter() * self.perimeter())
    }
}

#[differentiate]
fn rect_objective(r: &Rect, target: f64) -> f64 {
    (r.compactness() - target).powi(2) + 0.1 * r.area()
}

#[test]
fn trait_methods_with_a_default_written_in_the_impl() {
    let r = Rect { w: 1.5, h: 0.6 };
    let (v, (gr, gt)) = rect_objective_grad(&r, 0.5);
    close("value", v, rect_objective(&r, 0.5), TOL);
    // C = πwh/(w + h)²: ∂C/∂w = π h (h − w)/(w + h)³
    let s: f64 = 2.1;
    let c = PI * 0.9 / (s * s);
    let dcw = PI * 0.6 * (0.6 - 1.5) / s.powi(3);
    let dch = PI * 1.5 * (1.5 - 0.6) / s.powi(3);
    close("∂w", gr.w, 2.0 * (c - 0.5) * dcw + 0.06, TOL);
    close("∂h", gr.h, 2.0 * (c - 0.5) * dch + 0.15, TOL);
    close("∂target", gt, -2.0 * (c - 0.5), TOL);
    fd2(
        "rect_objective",
        |w, h| rect_objective(&Rect { w, h }, 0.5),
        (1.5, 0.6),
        (gr.w, gr.h),
    );
}

mod physics {
    use autodiff::differentiate;
    pub const G: f64 = 9.81;

    /// v² sin 2θ / g
    #[differentiate]
    pub fn range(v: f64, angle: f64) -> f64 {
        v * v * (2.0 * angle).sin() / G
    }

    /// (v sin θ)² / 2g
    #[differentiate]
    pub(crate) fn height(v: f64, angle: f64) -> f64 {
        (v * angle.sin()).powi(2) / (2.0 * G)
    }
}

#[differentiate]
fn trajectory_score(v: f64, angle: f64) -> f64 {
    physics::range(v, angle) + 2.0 * physics::height(v, angle)
}

#[test]
fn module_functions_by_path() {
    let (v, (gv, ga)) = trajectory_score_grad(12.0, 0.6);
    close("value", v, trajectory_score(12.0, 0.6), TOL);
    // ∂v = 2v(sin 2θ + sin²θ)/g; ∂θ = v²(2 cos 2θ + sin 2θ)/g
    let g = physics::G;
    close(
        "∂v",
        gv,
        24.0 * ((1.2f64).sin() + 0.6f64.sin().powi(2)) / g,
        TOL,
    );
    close(
        "∂θ",
        ga,
        144.0 * (2.0 * 1.2f64.cos() + 1.2f64.sin()) / g,
        TOL,
    );
    fd2("trajectory_score", trajectory_score, (12.0, 0.6), (gv, ga));
}

// ---------------------------------------------------------------------------------------------
// Helpers that write into their caller's buffers.
// ---------------------------------------------------------------------------------------------

/// One explicit diffusion step on a ring into `out`.
#[differentiate]
fn step_into(x: &[f64], k: f64, out: &mut [f64]) {
    let n = x.len();
    for i in 0..n {
        let l = x[(i + n - 1) % n];
        let r = x[(i + 1) % n];
        out[i] = x[i] + k * (l - 2.0 * x[i] + r);
    }
}

/// Ping-pong between two `Vec` locals, the helper called twice per iteration.
#[differentiate]
fn diffuse(x0: &[f64], k: f64) -> f64 {
    let mut a = x0.to_vec();
    let mut b = vec![0.0; x0.len()];
    for _ in 0..5 {
        step_into(&a, k, &mut b);
        step_into(&b, k, &mut a);
    }
    a.iter().zip(x0).map(|(u, v)| u * v).sum()
}

#[test]
fn buffer_helper_ping_pong_in_a_loop() {
    let x = data(6, 0.4);
    let (v, (gx, gk)) = diffuse_grad(&x, 0.2);
    close("value", v, diffuse(&x, 0.2), TOL);
    // a = M¹⁰x with M symmetric: f = xᵀM¹⁰x, ∂x = 2M¹⁰x = 2a
    let mut a = x.clone();
    let mut b = vec![0.0; 6];
    for _ in 0..10 {
        step_into(&a, 0.2, &mut b);
        std::mem::swap(&mut a, &mut b);
    }
    for i in 0..6 {
        close("∂x", gx[i], 2.0 * a[i], 1e-10);
    }
    fd("∂k", |k| diffuse(&x, k), 0.2, gk);
}

/// The same buffer written twice in a row: only the second write counts.
#[differentiate]
fn overwritten_twice(x0: &[f64], k: f64) -> f64 {
    let mut b = vec![0.0; x0.len()];
    step_into(x0, k, &mut b);
    step_into(x0, 2.0 * k, &mut b);
    b.iter().map(|v| v * v).sum()
}

#[test]
fn buffer_helper_called_twice_in_a_row() {
    let x = data(5, 1.7);
    let (v, (gx, gk)) = overwritten_twice_grad(&x, 0.3);
    close("value", v, overwritten_twice(&x, 0.3), TOL);
    // b = x + 2k Lx: ∂k = Σ 2bᵢ · 2(Lx)ᵢ
    let n = 5;
    let lx: Vec<f64> = (0..n)
        .map(|i| x[(i + n - 1) % n] - 2.0 * x[i] + x[(i + 1) % n])
        .collect();
    let b: Vec<f64> = (0..n).map(|i| x[i] + 0.6 * lx[i]).collect();
    let e: f64 = (0..n).map(|i| 4.0 * b[i] * lx[i]).sum();
    close("∂k", gk, e, TOL);
    fd_vec("∂x", |x| overwritten_twice(x, 0.3), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// Const generics, f32, generic floats.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn norm_n<const N: usize>(x: [f64; N]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Two instantiations of a const-generic helper.
#[differentiate]
fn norm_product(a: [f64; 3], b: [f64; 2]) -> f64 {
    norm_n(a) * norm_n(b)
}

#[test]
fn const_generic_helper_at_two_sizes() {
    let (a, b) = ([1.0, 2.0, 2.0], [3.0, 4.0]);
    let (v, (ga, gb)) = norm_product_grad(a, b);
    close("value", v, 15.0, TOL);
    // ∂a = |b| a/|a|, ∂b = |a| b/|b|
    close_all("∂a", &ga, &[5.0 / 3.0, 10.0 / 3.0, 10.0 / 3.0]);
    close_all("∂b", &gb, &[1.8, 2.4]);
}

/// Logistic loss in `f32`.
#[differentiate]
fn logistic_f32(w: &[f32], x: &[f32], y: f32) -> f32 {
    let z: f32 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    let p = 1.0 / (1.0 + (-z).exp());
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

#[test]
fn logistic_loss_in_f32() {
    let w = vec![0.3f32, -0.7, 0.2];
    let x = vec![1.0f32, 0.5, -2.0];
    let (v, (gw, _, _)) = logistic_f32_grad(&w, &x, 1.0);
    assert!((v - logistic_f32(&w, &x, 1.0)).abs() < 1e-6);
    // ∂w = (p − y) x
    let z: f32 = 0.3 - 0.35 - 0.4;
    let p = 1.0 / (1.0 + (-z).exp());
    for i in 0..3 {
        assert!(
            (gw[i] - (p - 1.0) * x[i]).abs() < 1e-6,
            "∂w[{i}] = {}",
            gw[i]
        );
    }
    fd32(
        "∂w₀",
        |a| logistic_f32(&[a, -0.7, 0.2], &x, 1.0),
        0.3,
        gw[0],
    );
}

/// The ℓp norm, generic over the float, called from `f64` code.
#[differentiate]
fn lp_norm<T: Float>(x: &[T], p: T) -> T {
    x.iter()
        .map(|&v| v.abs().powf(p))
        .fold(T::zero(), |a, b| a + b)
        .powf(T::one() / p)
}

#[differentiate]
fn l3(x: &[f64]) -> f64 {
    lp_norm(x, 3.0)
}

#[test]
fn generic_lp_norm_from_concrete_code() {
    let x = vec![0.5, -1.2, 2.0];
    let (v, g) = l3_grad(&x);
    close("value", v, l3(&x), TOL);
    // ∂xᵢ = sign(xᵢ)|xᵢ|²/‖x‖₃²
    for i in 0..3 {
        close("∂x", g[i], x[i].signum() * x[i].powi(2) / v.powi(2), TOL);
    }
    let (v32, (g32, _)) = lp_norm_grad(&[0.5f32, -1.2, 2.0], 3.0f32);
    assert!((v32 as f64 - v).abs() < 1e-5);
    assert!((g32[1] as f64 - g[1]).abs() < 1e-5);
}

// ---------------------------------------------------------------------------------------------
// More iterator idioms: folds with function paths, `total_cmp`, tuple accumulators, pairs.
// ---------------------------------------------------------------------------------------------

/// The largest element by `fold(f64::NEG_INFINITY, f64::max)`.
#[differentiate]
fn fold_max(x: &[f64]) -> f64 {
    x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The smallest magnitude by `map(abs).fold(f64::INFINITY, f64::min)`.
#[differentiate]
fn fold_min_abs(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).fold(f64::INFINITY, f64::min)
}

#[test]
fn folds_with_float_method_paths() {
    let x = vec![0.4, -2.5, 1.9, -0.3];
    let (v, g) = fold_max_grad(&x);
    close("max", v, 1.9, TOL);
    // ∂ = e₂
    close_all("∂max", &g, &[0.0, 0.0, 1.0, 0.0]);
    let (v, g) = fold_min_abs_grad(&x);
    close("min |x|", v, 0.3, TOL);
    // ∂ = sign(x₃) e₃
    close_all("∂min", &g, &[0.0, 0.0, 0.0, -1.0]);
    fd_vec("fold_min_abs", fold_min_abs, &x, &g);
}

/// `max_by(|a, b| a.total_cmp(b))` on references and `min_by(f64::total_cmp)` on copies.
#[differentiate]
fn spread_total_cmp(x: &[f64]) -> f64 {
    let hi = *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap();
    let lo = x.iter().copied().min_by(f64::total_cmp).unwrap();
    (hi - lo) * hi
}

#[test]
fn total_cmp_comparators() {
    let x = vec![0.4, -2.5, 1.9, -0.3];
    let (v, g) = spread_total_cmp_grad(&x);
    close("value", v, spread_total_cmp(&x), TOL);
    // (h − l)h: ∂h = 2h − l, ∂l = −h
    close_all("∂x", &g, &[0.0, -1.9, 3.8 + 2.5, 0.0]);
}

/// log Σ exp with `map(f64::exp)` and a stored closure given to `map` by name.
#[differentiate]
fn path_and_named_closure(x: &[f64], a: f64) -> f64 {
    let f = |v: f64| (a * v).tanh();
    x.iter().copied().map(f64::exp).sum::<f64>().ln() + x.iter().copied().map(f).sum::<f64>()
}

#[test]
fn map_with_a_function_path_and_a_named_closure() {
    let x = data(4, 0.7);
    let (v, (gx, ga)) = path_and_named_closure_grad(&x, 0.8);
    close("value", v, path_and_named_closure(&x, 0.8), TOL);
    // ∂xᵢ = softmaxᵢ + a(1 − tanh²(a xᵢ)); ∂a = Σ xᵢ(1 − tanh²)
    let z: f64 = x.iter().map(|v| v.exp()).sum();
    let mut ea = 0.0;
    for i in 0..4 {
        let t = (0.8 * x[i]).tanh();
        close("∂x", gx[i], x[i].exp() / z + 0.8 * (1.0 - t * t), TOL);
        ea += x[i] * (1.0 - t * t);
    }
    close("∂a", ga, ea, TOL);
}

/// The variance from one pass with a tuple accumulator in `fold`.
#[differentiate]
fn one_pass_variance(x: &[f64]) -> f64 {
    let (s, s2) = x.iter().fold((0.0, 0.0), |(s, s2), &v| (s + v, s2 + v * v));
    let n = x.len() as f64;
    s2 / n - (s / n).powi(2)
}

#[test]
fn fold_with_a_tuple_accumulator() {
    let x = data(6, 2.2);
    let (v, g) = one_pass_variance_grad(&x);
    close("value", v, one_pass_variance(&x), TOL);
    // ∂xᵢ = 2(xᵢ − x̄)/n
    let m = x.iter().sum::<f64>() / 6.0;
    for i in 0..6 {
        close("∂x", g[i], 2.0 * (x[i] - m) / 6.0, TOL);
    }
}

/// Total variation by zipping a slice with itself shifted: `zip(x.iter().skip(1))`.
#[differentiate]
fn tv_zip_skip(x: &[f64]) -> f64 {
    x.iter()
        .zip(x.iter().skip(1))
        .map(|(a, b)| (b - a).abs())
        .sum()
}

#[test]
fn zip_with_the_skipped_self() {
    let x = vec![0.1, 0.5, 0.2, 0.9];
    let (v, g) = tv_zip_skip_grad(&x);
    close("value", v, tv_zip_skip(&x), TOL);
    // signs of the steps: +, −, +: ∂x = [−1, 1+1, −1−1, 1]
    close_all("∂x", &g, &[-1.0, 2.0, -2.0, 1.0]);
    fd_vec("tv_zip_skip", tv_zip_skip, &x, &g);
}

/// The mean of the positive entries, with the count from a `filter().count()`.
#[differentiate]
fn positive_mean(x: &[f64]) -> f64 {
    let n = x.iter().filter(|v| **v > 0.0).count();
    x.iter().filter(|v| **v > 0.0).sum::<f64>() / n as f64
}

#[test]
fn filter_count_as_a_divisor() {
    let x = vec![0.5, -1.0, 2.0, 0.25];
    let (v, g) = positive_mean_grad(&x);
    close("value", v, 2.75 / 3.0, TOL);
    close_all("∂x", &g, &[1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0]);
}

/// Complex magnitudes from interleaved `[re, im, re, im, ..]`: two `step_by(2)` chains zipped.
#[differentiate]
fn interleaved_magnitudes(x: &[f64]) -> f64 {
    x.iter()
        .step_by(2)
        .zip(x.iter().skip(1).step_by(2))
        .map(|(re, im)| re.hypot(*im))
        .sum()
}

#[test]
fn interleaved_pairs_by_step_by() {
    let x = vec![3.0, 4.0, 0.6, -0.8, 1.0, 0.0];
    let (v, g) = interleaved_magnitudes_grad(&x);
    close("value", v, 7.0, TOL);
    // ∂(re, im) = (re, im)/|z|
    close_all("∂x", &g, &[0.6, 0.8, 0.6, -0.8, 1.0, 0.0]);
}

/// Pairwise products through `chunks(2)` (the last chunk shorter) and an inner `product`.
#[differentiate]
fn chunk_products(x: &[f64]) -> f64 {
    x.chunks(2).map(|c| c.iter().product::<f64>()).sum()
}

#[test]
fn chunks_with_a_ragged_tail() {
    let x = vec![0.5, 2.0, -1.0, 3.0, 4.0];
    let (v, g) = chunk_products_grad(&x);
    close("value", v, 1.0 - 3.0 + 4.0, TOL);
    close_all("∂x", &g, &[2.0, 0.5, 3.0, -1.0, 1.0]);
}

/// Weighted curvature over `windows(3).enumerate()` in a `for` loop.
#[differentiate]
fn weighted_curvature(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, w) in x.windows(3).enumerate() {
        s += (i as f64 + 1.0) * (w[0] - 2.0 * w[1] + w[2]).powi(2);
    }
    s
}

#[test]
fn enumerated_windows_of_three() {
    let x = data(6, 0.1);
    let (v, g) = weighted_curvature_grad(&x);
    close("value", v, weighted_curvature(&x), TOL);
    // ∂x_j = Σᵢ 2(i + 1) cᵢ · (1, −2, 1)[j − i]
    let mut e = vec![0.0; 6];
    for i in 0..4 {
        let c = x[i] - 2.0 * x[i + 1] + x[i + 2];
        let k = 2.0 * (i as f64 + 1.0) * c;
        e[i] += k;
        e[i + 1] -= 2.0 * k;
        e[i + 2] += k;
    }
    close_all("∂x", &g, &e);
}

/// A closure returning a tuple, destructured at each of two calls; `atan2`.
#[differentiate]
fn polar_pair(r: f64, t: f64) -> f64 {
    let polar = |r: f64, t: f64| (r * t.cos(), r * t.sin());
    let (x, y) = polar(r, t);
    let (u, v) = polar(2.0 * r, t + 0.5);
    x * u + y.atan2(v)
}

#[test]
fn a_closure_returning_a_tuple() {
    let (v, (gr, gt)) = polar_pair_grad(1.3, 0.4);
    close("value", v, polar_pair(1.3, 0.4), TOL);
    fd2("polar_pair", polar_pair, (1.3, 0.4), (gr, gt));
    // x·u = 2r² cos t cos(t + ½): ∂r of it = 4r cos t cos(t + ½); atan2(r sin t, 2r sin(t + ½))
    // does not depend on r
    close("∂r", gr, 4.0 * 1.3 * 0.4f64.cos() * 0.9f64.cos(), TOL);
}

/// `max`/`min` chains, methods and paths.
#[differentiate]
fn minmax_chain(a: f64, b: f64, c: f64) -> f64 {
    a.max(b).min(c).max(0.1 * a) + f64::max(a, c) * f64::min(b, 1.0)
}

#[test]
fn min_max_chains() {
    let p = (0.5, 0.8, 2.0);
    let (v, (ga, gb, gc)) = minmax_chain_grad(p.0, p.1, p.2);
    close("value", v, minmax_chain(p.0, p.1, p.2), TOL);
    // max(a,b) = b, min(b, c) = b, max(b, .05) = b; max(a, c) = c, min(b, 1) = b: b + cb
    close("∂a", ga, 0.0, TOL);
    close("∂b", gb, 1.0 + 2.0, TOL);
    close("∂c", gc, 0.8, TOL);
    fd3("minmax_chain", minmax_chain, p, (ga, gb, gc));
}

// ---------------------------------------------------------------------------------------------
// Struct update syntax, builders on differentiated values, `&mut` accumulators.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Params {
    k: f64,
    c: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { k: 1.0, c: 0.5 }
    }
}

impl Params {
    #[differentiate]
    fn with_c(self, c: f64) -> Self {
        Params { k: self.k, c }
    }

    /// ½kx² + cx
    #[differentiate]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x + self.c * x
    }
}

/// `Params { k, ..Default::default() }`: the rest of the fields from `Default`.
#[differentiate]
fn from_defaults(k: f64, x: f64) -> f64 {
    let p = Params {
        k,
        ..Default::default()
    };
    p.energy(x)
}

/// `..p.clone()` with a field computed from the base, and `..p` of a parameter by value.
#[differentiate]
fn updated_copy(p: &Params, k: f64) -> f64 {
    let q = Params {
        k: p.c * k,
        ..p.clone()
    };
    q.k * q.c
}

#[differentiate]
fn updated_moved(p: Params, k: f64) -> f64 {
    let q = Params { k: p.c * k, ..p };
    q.k * q.c
}

#[derive(Clone, Differentiable)]
struct Pair<T: Float> {
    a: T,
    b: T,
}

impl<T: Float> Default for Pair<T> {
    fn default() -> Self {
        Pair {
            a: T::one(),
            b: T::one() + T::one(),
        }
    }
}

/// A generic struct completed from `Default` inside a generic function.
#[differentiate]
fn generic_update<T: Float>(x: T) -> T {
    let g = Pair {
        a: x,
        ..Default::default()
    };
    g.a * g.b + g.a * g.a
}

#[test]
fn struct_update_syntax() {
    let (v, (gk, gx)) = from_defaults_grad(3.0, 0.8);
    close("value", v, from_defaults(3.0, 0.8), TOL);
    // ½kx² + ½x: ∂k = x²/2, ∂x = kx + ½
    close("∂k", gk, 0.32, TOL);
    close("∂x", gx, 2.9, TOL);
    let p = Params { k: 2.0, c: 3.0 };
    // c² k: ∂c = 2ck, ∂k = c², p.k unused
    let (v, (gp, gk)) = updated_copy_grad(&p, 0.5);
    close("value", v, 4.5, TOL);
    close("∂p.k", gp.k, 0.0, TOL);
    close("∂p.c", gp.c, 3.0, TOL);
    close("∂k", gk, 9.0, TOL);
    let (v, (gp, gk)) = updated_moved_grad(p.clone(), 0.5);
    close("value", v, updated_moved(p.clone(), 0.5), TOL);
    close("∂p.c", gp.c, 3.0, TOL);
    close("∂k", gk, 9.0, TOL);
    // 2x + x²: ∂ = 2 + 2x
    let (v, g) = generic_update_grad(1.5f64);
    close("value", v, 5.25, TOL);
    close("∂x", g, 5.0, TOL);
    let (_, g32) = generic_update_grad(1.5f32);
    assert!((g32 - 5.0).abs() < 1e-6);
}

/// A literal turned into another by a `self`-taking builder, then a method on the result.
#[differentiate]
fn built_energy(k: f64, c: f64, x: f64) -> f64 {
    let p = Params { k, c: 0.0 }.with_c(c);
    p.energy(x)
}

#[test]
fn builder_method_on_a_literal() {
    let p = (2.0, 0.7, 1.1);
    let (v, (gk, gc, gx)) = built_energy_grad(p.0, p.1, p.2);
    close("value", v, built_energy(p.0, p.1, p.2), TOL);
    // ∂k = x²/2, ∂c = x, ∂x = kx + c
    close("∂k", gk, 0.605, TOL);
    close("∂c", gc, 1.1, TOL);
    close("∂x", gx, 2.9, TOL);
}

/// A helper adding into a `&mut f64` accumulator, called in a loop.
#[differentiate]
fn add_square(x: f64, acc: &mut f64) {
    *acc += x * x;
}

#[differentiate]
fn sum_squares_by_helper(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    for &v in x {
        add_square(v, &mut acc);
    }
    acc
}

#[test]
fn mut_float_accumulator_helper_in_a_loop() {
    let x = data(5, 0.5);
    let (v, g) = sum_squares_by_helper_grad(&x);
    close("value", v, x.iter().map(|v| v * v).sum::<f64>(), TOL);
    let e: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    close_all("∂x", &g, &e);
}

/// Rotate a point in place twice with a `&mut [f64; 2]` helper.
#[differentiate]
fn rotate_into(theta: f64, p: &mut [f64; 2]) {
    let (c, s) = (theta.cos(), theta.sin());
    let (x, y) = (p[0], p[1]);
    p[0] = c * x - s * y;
    p[1] = s * x + c * y;
}

#[differentiate]
fn rotated_twice_y(theta: f64, x: f64) -> f64 {
    let mut p = [x, 0.0];
    rotate_into(theta, &mut p);
    rotate_into(theta, &mut p);
    p[1]
}

#[test]
fn array_buffer_helper_twice() {
    let (v, (gt, gx)) = rotated_twice_y_grad(0.3, 2.0);
    // x sin 2θ: ∂θ = 2x cos 2θ, ∂x = sin 2θ
    close("value", v, 2.0 * 0.6f64.sin(), TOL);
    close("∂θ", gt, 4.0 * 0.6f64.cos(), TOL);
    close("∂x", gx, 0.6f64.sin(), TOL);
}

/// A `Vec` with capacity, sized by `resize`, filled by a helper.
#[differentiate]
fn sin_into(x: &[f64], out: &mut Vec<f64>) {
    for i in 0..x.len() {
        out[i] = x[i].sin();
    }
}

#[differentiate]
fn sin_sum_via_buffer(x: &[f64]) -> f64 {
    let mut out = Vec::with_capacity(x.len());
    out.resize(x.len(), 0.0);
    sin_into(x, &mut out);
    out.iter().sum()
}

#[test]
fn vec_with_capacity_then_resize_as_a_buffer() {
    let x = data(4, 1.9);
    let (v, g) = sin_sum_via_buffer_grad(&x);
    close("value", v, x.iter().map(|v| v.sin()).sum::<f64>(), TOL);
    let e: Vec<f64> = x.iter().map(|v| v.cos()).collect();
    close_all("∂x", &g, &e);
}

trait Decay {
    const RATE: f64;
    fn decay(&self, t: f64) -> f64;
}

#[derive(Clone, Differentiable)]
struct Isotope {
    n0: f64,
}

#[differentiate]
impl Decay for Isotope {
    const RATE: f64 = 0.3;
    /// n₀ e^(−λt)
    fn decay(&self, t: f64) -> f64 {
        self.n0 * (-Self::RATE * t).exp()
    }
}

#[differentiate]
fn remaining_after(iso: &Isotope, times: &[f64]) -> f64 {
    times.iter().map(|&t| iso.decay(t)).sum()
}

#[test]
fn trait_with_an_associated_const() {
    let iso = Isotope { n0: 5.0 };
    let ts = vec![0.0, 1.0, 2.5];
    let (v, (gi, gt)) = remaining_after_grad(&iso, &ts);
    close("value", v, remaining_after(&iso, &ts), TOL);
    // ∂n₀ = Σ e^(−λt), ∂t = −λ n₀ e^(−λt)
    close(
        "∂n0",
        gi.n0,
        ts.iter().map(|t| (-0.3 * t).exp()).sum::<f64>(),
        TOL,
    );
    for i in 0..3 {
        close("∂t", gt[i], -1.5 * (-0.3 * ts[i]).exp(), TOL);
    }
}

/// A const-generic polynomial reading `N` in its body.
#[differentiate]
fn mean_poly<const N: usize>(c: [f64; N], x: f64) -> f64 {
    let mut s = 0.0;
    for (k, ck) in c.iter().enumerate() {
        s += ck * x.powi(k as i32) / N as f64;
    }
    s
}

#[differentiate]
fn mean_cubic(c: [f64; 4], x: f64) -> f64 {
    mean_poly(c, x)
}

#[test]
fn const_generic_length_in_the_body() {
    let c = [1.0, -2.0, 0.5, 0.25];
    let (v, (gc, gx)) = mean_cubic_grad(c, 1.5);
    close("value", v, mean_poly(c, 1.5), TOL);
    // ∂cₖ = xᵏ/4, ∂x = Σ k cₖ xᵏ⁻¹ / 4
    close_all("∂c", &gc, &[0.25, 0.375, 0.5625, 0.84375]);
    close("∂x", gx, (-2.0 + 1.5 + 0.75 * 2.25) / 4.0, TOL);
}

/// `f32` with its own `PI` and `mul_add`.
#[differentiate]
fn wave_f32(t: f32) -> f32 {
    (2.0 * std::f32::consts::PI * t).sin() * t.mul_add(0.5, 1.0)
}

#[test]
fn f32_consts_and_mul_add() {
    let t = 0.2f32;
    let (v, g) = wave_f32_grad(t);
    assert!((v - wave_f32(t)).abs() < 1e-6);
    // 2π cos(2πt)(t/2 + 1) + sin(2πt)/2
    let w = 2.0 * std::f32::consts::PI;
    let e = w * (w * t).cos() * (0.5 * t + 1.0) + 0.5 * (w * t).sin();
    assert!((g - e).abs() < 1e-5, "{g} vs {e}");
    fd32("wave_f32", wave_f32, t, g);
}

/// A stack emptied by `while let Some(top) = stack.pop()`.
#[differentiate]
fn unwind(x: &[f64]) -> f64 {
    let mut stack: Vec<f64> = x.to_vec();
    let mut s = 0.0;
    while let Some(top) = stack.pop() {
        s = s * 0.5 + top;
    }
    s
}

#[test]
fn while_let_pop_of_a_copy() {
    let x = data(5, 0.3);
    let (v, g) = unwind_grad(&x);
    close("value", v, unwind(&x), TOL);
    // popped from the back: xᵢ is weighted by 0.5^i
    for i in 0..5 {
        close("∂x", g[i], 0.5f64.powi(i as i32), TOL);
    }
}

/// Rank-weighted sum of a sorted copy.
#[differentiate]
fn rank_weighted(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.iter()
        .enumerate()
        .map(|(i, a)| (i as f64 + 1.0) * a)
        .sum()
}

#[test]
fn sorted_copy_then_enumerate() {
    let x = vec![0.3, -1.0, 2.0, 0.1];
    let (v, g) = rank_weighted_grad(&x);
    close("value", v, rank_weighted(&x), TOL);
    // ranks: −1 → 1, 0.1 → 2, 0.3 → 3, 2 → 4
    close_all("∂x", &g, &[3.0, 1.0, 4.0, 2.0]);
}

/// Entropy of normalised scaled values: `collect` then two passes over the `Vec`.
#[differentiate]
fn scaled_entropy(x: &[f64], w: f64) -> f64 {
    let scaled: Vec<f64> = x.iter().map(|v| v * w).collect();
    let total: f64 = scaled.iter().sum();
    scaled.iter().map(|v| v / total).map(|p| -p * p.ln()).sum()
}

#[test]
fn collect_then_two_passes() {
    let x = vec![0.5, 1.5, 1.0];
    let (v, (gx, gw)) = scaled_entropy_grad(&x, 2.0);
    close("value", v, scaled_entropy(&x, 2.0), TOL);
    // scale invariant: ∂w = 0; ∂xᵢ = −(ln pᵢ + H)/S with S = Σx
    close("∂w", gw, 0.0, 1e-12);
    let s = 3.0;
    for i in 0..3 {
        let p: f64 = x[i] / s;
        close("∂x", gx[i], -(p.ln() + v) / s, TOL);
    }
}

/// `into_iter().enumerate()` of an owned `Vec`, `rev().skip(1)`, an array by `into_iter()`.
#[differentiate]
fn owned_and_reversed(x: Vec<f64>, y: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for (i, v) in x.clone().into_iter().enumerate() {
        s += v * (i as f64).sqrt();
    }
    s + x.iter().rev().skip(1).map(|v| v.sin()).sum::<f64>()
        + y.into_iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn owned_reversed_and_array_iterators() {
    let x = vec![0.5, 1.0, -0.4];
    let y = [0.2, 0.3, -0.1];
    let (v, (gx, gy)) = owned_and_reversed_grad(x.clone(), y);
    close("value", v, owned_and_reversed(x.clone(), y), TOL);
    // ∂xᵢ = √i + cos xᵢ for i < n − 1; ∂y = 2y
    close_all(
        "∂x",
        &gx,
        &[0.5f64.cos(), 1.0 + 1.0f64.cos(), 2.0f64.sqrt()],
    );
    close_all("∂y", &gy, &[0.4, 0.6, -0.2]);
}

/// A `match` on a tuple of data with a guard.
#[differentiate]
fn by_mode(x: f64, mode: (u8, bool)) -> f64 {
    match mode {
        (0, _) => x,
        (1, true) => x * x,
        (n, false) if n > 3 => x.exp(),
        _ => -x,
    }
}

#[test]
fn match_on_a_tuple_of_data() {
    let x = 0.6f64;
    let cases = [
        ((0, true), 1.0),
        ((1, true), 1.2),
        ((5, false), x.exp()),
        ((2, false), -1.0),
    ];
    for (mode, e) in cases {
        let (v, g) = by_mode_grad(x, mode);
        close("value", v, by_mode(x, mode), TOL);
        close("∂x", g, e, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Captures, adapter order, buffers in loops.
// ---------------------------------------------------------------------------------------------

/// A `move` closure keeps the value it captured when the variable is assigned afterwards.
#[differentiate]
fn move_capture(x: f64, a: f64) -> f64 {
    let mut s = a;
    let f = move |v: f64| v * s;
    s = s * 3.0;
    f(x) + s
}

/// A closure keeps the variable it captured when a later `let` shadows the name.
#[differentiate]
fn shadowed_capture(x: f64, a: f64) -> f64 {
    let s = a;
    let f = |v: f64| v * s;
    let s = 10.0 * x;
    f(x) + s
}

#[test]
fn captures_keep_their_values() {
    // xa + 3a: ∂x = a, ∂a = x + 3
    let (v, (gx, ga)) = move_capture_grad(0.7, 1.3);
    close("move value", v, move_capture(0.7, 1.3), TOL);
    close2("move", (gx, ga), (1.3, 3.7));
    // xa + 10x: ∂x = a + 10, ∂a = x
    let (v, (gx, ga)) = shadowed_capture_grad(0.7, 1.3);
    close("shadow value", v, shadowed_capture(0.7, 1.3), TOL);
    close2("shadow", (gx, ga), (11.3, 0.7));
}

/// `enumerate().rev()` keeps the original indices while walking from the back.
#[differentiate]
fn enumerate_then_rev(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .rev()
        .fold(0.0, |acc, (i, v)| acc * 0.5 + v * (i as f64 + 1.0))
}

/// `skip(1).enumerate()` counts from the skipped position, `enumerate().skip(1)` does not.
#[differentiate]
fn skip_and_enumerate_orders(x: &[f64]) -> f64 {
    x.iter()
        .skip(1)
        .enumerate()
        .map(|(i, v)| v * i as f64)
        .sum::<f64>()
        + x.iter()
            .enumerate()
            .skip(1)
            .map(|(i, v)| v * v * i as f64)
            .sum::<f64>()
}

/// `rev().step_by(2)` starts at the last element; `skip(2).rev()` and `rev().skip(2)` differ.
#[differentiate]
fn reversed_strides(x: &[f64]) -> f64 {
    x.iter().rev().step_by(2).fold(0.0, |a, v| a * 2.0 + v)
        + x.iter().skip(2).rev().fold(0.0, |a, v| a * 3.0 + v)
        + x.iter().rev().skip(2).fold(0.0, |a, v| a * 5.0 + v)
}

#[test]
fn adapter_order_matters() {
    let x = vec![0.3, -0.8, 1.1, 0.45, -0.2];
    let n = x.len();
    let (v, g) = enumerate_then_rev_grad(&x);
    close("value", v, enumerate_then_rev(&x), TOL);
    // visited i = 4, 3, .., 0: ∂xᵢ = (i + 1)·0.5^i
    for i in 0..n {
        close("∂x", g[i], (i as f64 + 1.0) * 0.5f64.powi(i as i32), TOL);
    }
    let (v, g) = skip_and_enumerate_orders_grad(&x);
    close("value", v, skip_and_enumerate_orders(&x), TOL);
    // ∂xᵢ = (i − 1) + 2i xᵢ for i ≥ 1
    for i in 1..n {
        close("∂x", g[i], (i as f64 - 1.0) + 2.0 * i as f64 * x[i], TOL);
    }
    close("∂x₀", g[0], 0.0, TOL);
    let (v, g) = reversed_strides_grad(&x);
    close("value", v, reversed_strides(&x), TOL);
    // rev.step_by(2) visits x₄, x₂, x₀: weights 4, 2, 1; skip(2).rev() visits x₄, x₃, x₂:
    // weights 9, 3, 1; rev().skip(2) visits x₂, x₁, x₀: weights 25, 5, 1
    close_all(
        "∂x",
        &g,
        &[1.0 + 1.0, 5.0, 2.0 + 1.0 + 25.0, 3.0, 4.0 + 9.0],
    );
    fd_vec("reversed_strides", reversed_strides, &x, &g);
}

/// `zip` stops at the shorter slice; `take(100)` of a shorter one takes all; `windows(10)`
/// of a shorter one is empty; `chunks_exact` drops the remainder.
#[differentiate]
fn short_and_long(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>()
        + x.iter().take(100).map(|v| v * v).sum::<f64>()
        + x.windows(10).map(|w| w[0]).sum::<f64>()
        + x.chunks_exact(2).map(|c| c[0] * c[1]).sum::<f64>()
}

#[test]
fn lengths_at_the_edges_of_adapters() {
    let x = vec![0.3, -0.8, 1.1, 0.45, -0.2];
    let y = vec![0.5, 0.25, -1.0];
    let (v, (gx, gy)) = short_and_long_grad(&x, &y);
    close("value", v, short_and_long(&x, &y), TOL);
    // ∂xᵢ = yᵢ (i < 3) + 2xᵢ + partner in its pair (i < 4)
    let e = [
        0.5 + 0.6 - 0.8,
        0.25 - 1.6 + 0.3,
        -1.0 + 2.2 + 0.45,
        0.9 + 1.1,
        -0.4,
    ];
    close_all("∂x", &gx, &e);
    close_all("∂y", &gy, &x[..3]);
}

/// The last of a reversed mapped chain is the first element's image.
#[differentiate]
fn last_of_reversed_map(x: &[f64]) -> f64 {
    let v = x.iter().rev().map(|v| v * 3.0).last().unwrap();
    v * v
}

/// `max_by_key` with a scaled integer key, a reversed comparator in `min_by`.
#[differentiate]
fn keyed_extremes(x: &[f64]) -> f64 {
    let m = x
        .iter()
        .copied()
        .max_by_key(|v| (v * 1000.0) as i64)
        .unwrap();
    let r = x
        .iter()
        .copied()
        .min_by(|a, b| b.partial_cmp(a).unwrap())
        .unwrap();
    m.exp() + r * r
}

#[test]
fn last_max_by_key_and_reversed_comparators() {
    let x = vec![0.3, -0.8, 1.1, 0.45];
    let (v, g) = last_of_reversed_map_grad(&x);
    // (3x₀)²: ∂x₀ = 18x₀
    close("value", v, 0.81, TOL);
    close_all("∂x", &g, &[5.4, 0.0, 0.0, 0.0]);
    let (v, g) = keyed_extremes_grad(&x);
    close("value", v, keyed_extremes(&x), TOL);
    // both pick x₂ = 1.1 (a reversed min is a max): e^1.1 + 2.2
    close_all("∂x", &g, &[0.0, 0.0, 1.1f64.exp() + 2.2, 0.0]);
}

/// `position` of the first negative, then the element after it.
#[differentiate]
fn after_first_drop(x: &[f64]) -> f64 {
    let i = x.iter().position(|&v| v < 0.0).unwrap();
    x[i] * x[i + 1]
}

/// `map` then `filter` on the mapped value; a `fold` whose closure drops the accumulator in
/// one branch.
#[differentiate]
fn mapped_filter_and_reset(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| v.sin())
        .filter(|s| *s > 0.0)
        .map(|s| s * s)
        .sum::<f64>()
        + x.iter()
            .fold(0.0, |acc, &v| if v > 0.0 { acc + v } else { 0.5 * v })
}

#[test]
fn position_filter_on_mapped_and_resetting_fold() {
    let x = vec![0.3, 0.8, -1.1, 0.45, 0.2];
    let (v, g) = after_first_drop_grad(&x);
    close("value", v, -1.1 * 0.45, TOL);
    close_all("∂x", &g, &[0.0, 0.0, 0.45, -1.1, 0.0]);
    let (v, g) = mapped_filter_and_reset_grad(&x);
    close("value", v, mapped_filter_and_reset(&x), TOL);
    // sin² over sin > 0: 2 sin cos; fold = 0.5x₂ + x₃ + x₄
    let e: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let a = if v.sin() > 0.0 {
                2.0 * v.sin() * v.cos()
            } else {
                0.0
            };
            a + match i {
                2 => 0.5,
                3 | 4 => 1.0,
                _ => 0.0,
            }
        })
        .collect();
    close_all("∂x", &g, &e);
}

/// A closure with a declared result type and a block body, a leaky ReLU.
#[differentiate]
fn leaky_products(x: &[f64]) -> f64 {
    let relu = |v: f64| -> f64 { if v > 0.0 { v } else { 0.01 * v } };
    x.iter().map(|&v| relu(v) * relu(v - 0.5)).sum()
}

#[test]
fn typed_closure_with_a_block_body() {
    let x = vec![0.3, -0.8, 1.1];
    let (v, g) = leaky_products_grad(&x);
    close("value", v, leaky_products(&x), TOL);
    // x=0.3: v·0.01(v − 0.5) → 0.01(2v − 0.5); x=−0.8: 0.0001·v(v − 0.5) → 0.0001(2v − 0.5);
    // x=1.1: v(v − 0.5) → 2v − 0.5
    close_all("∂x", &g, &[0.01 * 0.1, 0.0001 * (-2.1), 1.7]);
}

/// `powf` with both sides differentiated, a negative `powi`, `mul_add` of three values.
#[differentiate]
fn powers_both_ways(x: f64, y: f64) -> f64 {
    x.powf(y) + y.powi(-2) + x.mul_add(y, x * y)
}

#[test]
fn powf_with_a_differentiated_exponent() {
    let (x, y) = (1.3f64, 0.7f64);
    let (v, (gx, gy)) = powers_both_ways_grad(x, y);
    close("value", v, powers_both_ways(x, y), TOL);
    // ∂x = y x^(y−1) + 2y; ∂y = xʸ ln x − 2y⁻³ + 2x
    close("∂x", gx, y * x.powf(y - 1.0) + 2.0 * y, TOL);
    close(
        "∂y",
        gy,
        x.powf(y) * x.ln() - 2.0 / y.powi(3) + 2.0 * x,
        TOL,
    );
}

/// Angles of points in all four quadrants.
#[differentiate]
fn quadrant_angles(p: &[f64]) -> f64 {
    p.chunks(2).map(|c| c[1].atan2(c[0])).sum()
}

#[test]
fn atan2_in_every_quadrant() {
    let p = vec![1.0, 0.5, -1.0, 0.3, -0.4, -0.9, 0.2, -0.7];
    let (v, g) = quadrant_angles_grad(&p);
    close("value", v, quadrant_angles(&p), TOL);
    // ∂x = −y/r², ∂y = x/r²
    for k in 0..4 {
        let (x, y) = (p[2 * k], p[2 * k + 1]);
        let r2 = x * x + y * y;
        close("∂x", g[2 * k], -y / r2, TOL);
        close("∂y", g[2 * k + 1], x / r2, TOL);
    }
}

/// Heron's iteration until two iterates agree.
#[differentiate]
fn heron_until_stable(a: f64) -> f64 {
    let mut x = 1.0;
    let mut prev = 0.0;
    while (x - prev).abs() > 1e-12 {
        prev = x;
        x = 0.5 * (x + a / x);
    }
    x
}

#[test]
fn iterate_until_converged() {
    let (v, g) = heron_until_stable_grad(2.0);
    close("value", v, 2f64.sqrt(), TOL);
    // d√a/da = 1/(2√a), reached by the converged iteration
    close("∂a", g, 0.5 / 2f64.sqrt(), 1e-9);
}

/// Deinterleave into two `Vec` buffers with one helper.
#[differentiate]
fn split_into(x: &[f64], even: &mut Vec<f64>, odd: &mut Vec<f64>) {
    for i in 0..x.len() {
        if i % 2 == 0 {
            even[i / 2] = x[i];
        } else {
            odd[i / 2] = x[i];
        }
    }
}

#[differentiate]
fn even_odd_dot(x: &[f64]) -> f64 {
    let mut e = vec![0.0; x.len().div_ceil(2)];
    let mut o = vec![0.0; x.len() / 2];
    split_into(x, &mut e, &mut o);
    e.iter().zip(&o).map(|(a, b)| a * b).sum()
}

#[test]
fn a_helper_filling_two_buffers() {
    let x = vec![0.3, -0.8, 1.1, 0.45, -0.2];
    let (v, g) = even_odd_dot_grad(&x);
    close("value", v, -0.24 + 0.495, TOL);
    // x₀x₁ + x₂x₃: partners
    close_all("∂x", &g, &[-0.8, 0.3, 0.45, 1.1, 0.0]);
}

/// A helper writing a unit vector into a buffer and returning the norm it divided by.
#[differentiate]
fn normalize_into(x: &[f64], out: &mut Vec<f64>) -> f64 {
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    for i in 0..x.len() {
        out[i] = x[i] / n;
    }
    n
}

#[differentiate]
fn projected_log_norm(x: &[f64], w: &[f64]) -> f64 {
    let mut u = vec![0.0; x.len()];
    let n = normalize_into(x, &mut u);
    let d: f64 = u.iter().zip(w).map(|(a, b)| a * b).sum();
    d * n.ln()
}

/// The same helper in a loop over pairs, the buffer reused.
#[differentiate]
fn pairwise_first_components(x: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut out = vec![0.0; 2];
    for k in 0..x.len() / 2 {
        let n = normalize_into(&x[2 * k..2 * k + 2], &mut out);
        total += out[0] * n;
    }
    total
}

/// The helper with a fresh `Vec` each iteration, its value ignored.
#[differentiate]
fn fresh_buffers(x: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for r in 0..3 {
        let mut out = vec![0.0; x.len()];
        let _n = normalize_into(x, &mut out);
        s += out[r] * k;
    }
    s
}

#[test]
fn buffer_helpers_returning_a_value() {
    let x = vec![0.3, -0.8, 1.1, 0.45];
    let w = vec![0.5, 0.25, -1.0, 0.3];
    let (v, (gx, gw)) = projected_log_norm_grad(&x, &w);
    close("value", v, projected_log_norm(&x, &w), TOL);
    // ∂w = u ln n
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    for i in 0..4 {
        close("∂w", gw[i], x[i] / n * n.ln(), TOL);
    }
    fd_vec2("projected_log_norm", projected_log_norm, &x, &w, &gx, &gw);
    let (v, g) = pairwise_first_components_grad(&x);
    // out[0]·n = x_{2k}: the sum of the even entries
    close("value", v, 0.3 + 1.1, TOL);
    close_all("∂x", &g, &[1.0, 0.0, 1.0, 0.0]);
    let (v, (gx, gk)) = fresh_buffers_grad(&x, 0.7);
    close("value", v, fresh_buffers(&x, 0.7), TOL);
    // k Σ_{r<3} x_r/n: ∂k = that sum / k
    close("∂k", gk, (0.3 - 0.8 + 1.1) / n, TOL);
    fd_vec("fresh_buffers", |x| fresh_buffers(x, 0.7), &x, &gx);
}

/// A three-point smoother in place on a `&mut Vec`, applied twice.
#[differentiate]
fn smooth_in_place(x: &mut Vec<f64>) {
    let n = x.len();
    let old = x.clone();
    for i in 1..n - 1 {
        x[i] = 0.25 * old[i - 1] + 0.5 * old[i] + 0.25 * old[i + 1];
    }
}

#[differentiate]
fn smoothed_energy(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    smooth_in_place(&mut v);
    smooth_in_place(&mut v);
    v.iter().map(|a| a * a).sum()
}

#[test]
fn in_place_helper_twice_on_a_vec_local() {
    let x = vec![0.3, -0.8, 1.1, 0.45, -0.2, 0.9];
    let (v, g) = smoothed_energy_grad(&x);
    close("value", v, smoothed_energy(&x), TOL);
    // v = S²x with S the smoother (ends fixed): ∂x = 2 (S²)ᵀ v
    let s = |y: &[f64]| -> Vec<f64> {
        let mut o = y.to_vec();
        for i in 1..y.len() - 1 {
            o[i] = 0.25 * y[i - 1] + 0.5 * y[i] + 0.25 * y[i + 1];
        }
        o
    };
    let st = |y: &[f64]| -> Vec<f64> {
        let mut o = vec![0.0; y.len()];
        for i in 0..y.len() {
            if i == 0 || i == y.len() - 1 {
                o[i] += y[i];
            } else {
                o[i - 1] += 0.25 * y[i];
                o[i] += 0.5 * y[i];
                o[i + 1] += 0.25 * y[i];
            }
        }
        o
    };
    let vv = s(&s(&x));
    let e: Vec<f64> = st(&st(&vv)).iter().map(|a| 2.0 * a).collect();
    close_all("∂x", &g, &e);
}

#[derive(Clone, Differentiable)]
struct Layer {
    w: Vec<f64>,
    b: f64,
}

impl Layer {
    /// hᵢ = tanh(wᵢxᵢ + b), written into the caller's buffer.
    #[differentiate]
    fn forward_into(&self, x: &[f64], out: &mut Vec<f64>) {
        for i in 0..out.len() {
            out[i] = (self.w[i] * x[i] + self.b).tanh();
        }
    }
}

/// The layer's method writing into one buffer, then reading it into another.
#[differentiate]
fn two_passes(l: &Layer, x: &[f64]) -> f64 {
    let mut h = vec![0.0; x.len()];
    l.forward_into(x, &mut h);
    let mut h2 = vec![0.0; x.len()];
    l.forward_into(&h, &mut h2);
    h2.iter().sum()
}

#[test]
fn a_method_writing_into_buffers_twice() {
    let l = Layer {
        w: vec![0.5, -0.3, 0.8],
        b: 0.1,
    };
    let x = vec![0.2, 0.9, -0.4];
    let (v, (gl, gx)) = two_passes_grad(&l, &x);
    close("value", v, two_passes(&l, &x), TOL);
    // ∂xᵢ = (1 − h2ᵢ²) wᵢ (1 − hᵢ²) wᵢ
    for i in 0..3 {
        let h = (l.w[i] * x[i] + 0.1).tanh();
        let h2 = (l.w[i] * h + 0.1).tanh();
        close(
            "∂x",
            gx[i],
            (1.0 - h2 * h2) * l.w[i] * (1.0 - h * h) * l.w[i],
            TOL,
        );
    }
    fd(
        "∂b",
        |b| two_passes(&Layer { w: l.w.clone(), b }, &x),
        0.1,
        gl.b,
    );
}

#[derive(Clone, Differentiable)]
struct Quad<T: Float> {
    a: T,
    b: T,
}

trait Score<T> {
    fn score(&self, x: T) -> T;
}

#[differentiate]
impl<T: Float> Score<T> for Quad<T> {
    /// ax² + b
    fn score(&self, x: T) -> T
    where
        T: Float,
    {
        self.a * x * x + self.b
    }
}

/// A generic trait impl used at `f32`.
#[differentiate]
fn score_product(m: &Quad<f32>, x: f32) -> f32 {
    m.score(x) * m.score(x + 1.0)
}

#[test]
fn a_generic_trait_impl_at_f32() {
    let m = Quad { a: 0.5f32, b: 0.2 };
    let (v, (gm, gx)) = score_product_grad(&m, 0.3);
    assert!((v - score_product(&m, 0.3)).abs() < 1e-6);
    // s(x)s(x+1): ∂a = x² s(x+1) + (x+1)² s(x)
    let (s0, s1) = (0.5f32 * 0.09 + 0.2, 0.5f32 * 1.69 + 0.2);
    assert!(
        (gm.a - (0.09 * s1 + 1.69 * s0)).abs() < 1e-5,
        "∂a = {}",
        gm.a
    );
    fd32("∂x", |x| score_product(&m, x), 0.3, gx);
}

// ---------------------------------------------------------------------------------------------
// Forms that were not followed before: `Vec::from_iter`, `f64::from`, `split_first`.
// ---------------------------------------------------------------------------------------------

/// `Vec::from_iter(chain)`, then indexed.
#[differentiate]
fn ends_of_exp(x: &[f64]) -> f64 {
    let v: Vec<f64> = Vec::from_iter(x.iter().map(|v| v.exp()));
    v[0] + v[v.len() - 1]
}

#[test]
fn vec_from_iter_of_a_chain() {
    let x = vec![0.3, -0.8, 1.1];
    let (v, g) = ends_of_exp_grad(&x);
    close("value", v, 0.3f64.exp() + 1.1f64.exp(), TOL);
    close_all("∂x", &g, &[0.3f64.exp(), 0.0, 1.1f64.exp()]);
}

/// `f64::from` of a differentiated `f32` (the lossless conversion clippy suggests over `as`),
/// and of integer data.
#[differentiate]
fn widened(x: f32, y: f64, n: u32) -> f64 {
    f64::from(x) * y + f64::from(n) * y * y
}

#[test]
fn f64_from_an_f32() {
    let (v, (gx, gy)) = widened_grad(0.5f32, 3.0, 2);
    close("value", v, 1.5 + 18.0, TOL);
    // ∂x = y, ∂y = x + 2ny
    assert_eq!(gx, 3.0f32);
    close("∂y", gy, 0.5 + 12.0, TOL);
}

/// `if let Some((first, rest)) = x.split_first()`, `let Some((&last, init)) =
/// x.split_last() else { .. }`, and a `match` on `split_first`.
#[differentiate]
fn head_times_tail(x: &[f64]) -> f64 {
    if let Some((first, rest)) = x.split_first() {
        first * rest.iter().sum::<f64>()
    } else {
        0.0
    }
}

#[differentiate]
fn init_times_last(x: &[f64]) -> f64 {
    let Some((&last, init)) = x.split_last() else {
        return 0.0;
    };
    let mut s = 0.0;
    for v in init {
        s += v * last;
    }
    s
}

#[differentiate]
fn split_match(x: &[f64]) -> f64 {
    match x.split_first() {
        Some((&a, rest)) => a * a + rest.len() as f64 * rest[0],
        None => 1.0,
    }
}

#[test]
fn split_first_and_split_last() {
    let x = vec![0.5, 2.0, 3.0];
    // x₀(x₁ + x₂)
    let (v, g) = head_times_tail_grad(&x);
    close("value", v, 2.5, TOL);
    close_all("∂x", &g, &[5.0, 0.5, 0.5]);
    let (v, g) = head_times_tail_grad(&[]);
    close("empty", v, 0.0, TOL);
    assert!(g.is_empty());
    // (x₀ + x₁)x₂
    let (v, g) = init_times_last_grad(&x);
    close("value", v, 7.5, TOL);
    close_all("∂x", &g, &[3.0, 3.0, 2.5]);
    // x₀² + 2x₁
    let (v, g) = split_match_grad(&x);
    close("value", v, 4.25, TOL);
    close_all("∂x", &g, &[1.0, 2.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Small idioms: tuple folds with extremes, array destructuring, literal receivers, newtypes.
// ---------------------------------------------------------------------------------------------

/// A stored closure called twice inside another closure given to `map`.
#[differentiate]
fn closure_in_map(x: &[f64], a: f64) -> f64 {
    let f = |v: f64| v * a;
    x.iter().map(|&v| f(v) + f(2.0 * v).sin()).sum()
}

#[test]
fn a_stored_closure_inside_a_map_closure() {
    let x = vec![0.3, -0.8, 1.1];
    let (v, (gx, ga)) = closure_in_map_grad(&x, 0.7);
    close("value", v, closure_in_map(&x, 0.7), TOL);
    // ∂xᵢ = a + 2a cos(2a xᵢ); ∂a = Σ xᵢ + 2xᵢ cos(2a xᵢ)
    for i in 0..3 {
        close("∂x", gx[i], 0.7 + 1.4 * (1.4 * x[i]).cos(), TOL);
    }
    let e: f64 = x.iter().map(|&v| v + 2.0 * v * (1.4 * v).cos()).sum();
    close("∂a", ga, e, TOL);
}

/// The range from one fold carrying `(lo, hi)` from `(f64::MAX, f64::MIN)`.
#[differentiate]
fn range_by_fold(x: &[f64]) -> f64 {
    let (lo, hi) = x
        .iter()
        .copied()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    hi - lo
}

#[test]
fn min_and_max_in_one_fold() {
    let x = vec![0.3, -0.8, 1.1, 0.45];
    let (v, g) = range_by_fold_grad(&x);
    close("value", v, 1.9, TOL);
    close_all("∂x", &g, &[0.0, -1.0, 1.0, 0.0]);
}

/// `let [a, b, c] = *arr;` of an array reference.
#[differentiate]
fn destructured_array(arr: &[f64; 3]) -> f64 {
    let [a, b, c] = *arr;
    a * b + c
}

#[test]
fn array_destructured_through_a_reference() {
    let (v, g) = destructured_array_grad(&[0.5, 2.0, 3.0]);
    close("value", v, 4.0, TOL);
    close_all("∂", &g, &[2.0, 0.5, 1.0]);
}

/// A `move` closure in `map`, then `.sqrt().max(1e-12)`.
#[differentiate]
fn scaled_root(x: &[f64], k: f64) -> f64 {
    x.iter().map(move |v| v * k).sum::<f64>().sqrt().max(1e-12)
}

#[test]
fn move_closure_in_map() {
    let x = vec![0.3, 0.8, 1.1];
    let (v, (gx, gk)) = scaled_root_grad(&x, 0.7);
    let s = 2.2 * 0.7;
    close("value", v, f64::sqrt(s), TOL);
    // ∂k = Σx/(2√(kΣx)), ∂xᵢ = k/(2√(kΣx))
    close("∂k", gk, 2.2 / (2.0 * s.sqrt()), TOL);
    close_all("∂x", &gx, &[0.7 / (2.0 * s.sqrt()); 3]);
}

/// Rows scored by a nested chain, then squashed: a chain inside a `map` closure.
#[differentiate]
fn squashed_rows(rows: &[Vec<f64>], w: &[f64]) -> f64 {
    rows.iter()
        .map(|r| r.iter().zip(w).map(|(a, b)| a * b).sum::<f64>())
        .map(|z| z.tanh())
        .sum()
}

#[test]
fn a_chain_inside_a_map_closure() {
    let rows = vec![vec![0.3, 0.2], vec![-0.5, 1.0], vec![0.7, 0.1]];
    let w = vec![0.4, -0.6];
    let (v, (gr, gw)) = squashed_rows_grad(&rows, &w);
    close("value", v, squashed_rows(&rows, &w), TOL);
    // ∂w = Σ (1 − tanh² zᵣ) r; ∂r = (1 − tanh² zᵣ) w
    let mut e = [0.0; 2];
    for (k, r) in rows.iter().enumerate() {
        let t = (r[0] * 0.4 - r[1] * 0.6).tanh();
        e[0] += (1.0 - t * t) * r[0];
        e[1] += (1.0 - t * t) * r[1];
        close("∂r", gr[k][1], -(1.0 - t * t) * 0.6, TOL);
    }
    close_all("∂w", &gw, &e);
}

/// `enumerate().min_by(..)` taken whole as `(i, v)`, the value used directly.
#[differentiate]
fn min_with_index(x: &[f64]) -> f64 {
    let (i, v) = x
        .iter()
        .copied()
        .enumerate()
        .min_by(|(_, a), (_, b)| a.total_cmp(b))
        .unwrap();
    v * (i as f64 + 1.0)
}

#[test]
fn an_enumerated_minimum_taken_apart() {
    let x = vec![0.3, -0.8, 1.1, 0.45];
    let (v, g) = min_with_index_grad(&x);
    close("value", v, -1.6, TOL);
    close_all("∂x", &g, &[0.0, 2.0, 0.0, 0.0]);
}

/// The largest absolute difference from a fold starting at `0.0_f64` with `max`.
#[differentiate]
fn max_abs_diff(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f64, |m, d| m.max(d))
}

#[test]
fn suffixed_literal_as_a_fold_seed() {
    let x = vec![0.3, -0.8, 1.1];
    let y = vec![0.1, 0.2, 0.3];
    let (v, (gx, gy)) = max_abs_diff_grad(&x, &y);
    close("value", v, 1.0, TOL);
    // |x₁ − y₁| = 1.0 is the largest, x₁ < y₁
    close_all("∂x", &gx, &[0.0, -1.0, 0.0]);
    close_all("∂y", &gy, &[0.0, 1.0, 0.0]);
}

/// Methods on float literals: `2.0_f64.powf(x)`, `1.5f64.ln()`, `10f64.powf(-x)`; `sin_cos`
/// destructured; `copysign`.
#[differentiate]
fn literal_receivers(x: f64) -> f64 {
    let (s, c) = x.sin_cos();
    2.0_f64.powf(x) + 1.5f64.ln() * x + 10f64.powf(-x) + s * c + x.abs().sqrt().copysign(x)
}

#[test]
fn float_literals_as_receivers() {
    for &x in &[0.7f64, -0.4] {
        let (v, g) = literal_receivers_grad(x);
        close("value", v, literal_receivers(x), TOL);
        // ln2·2ˣ + ln1.5 − ln10·10⁻ˣ + cos 2x + 1/(2√|x|)
        let e = 2f64.ln() * 2f64.powf(x) + 1.5f64.ln() - 10f64.ln() * 10f64.powf(-x)
            + (2.0 * x).cos()
            + 0.5 / x.abs().sqrt();
        close("∂x", g, e, TOL);
    }
}

#[derive(Clone, Differentiable)]
struct Cubic {
    c: [f64; 4],
    k: f64,
}

impl Cubic {
    /// k·p(x), with p by Horner over the reversed coefficients and a closure capturing `self`.
    #[differentiate]
    fn eval(&self, x: f64) -> f64 {
        let f = |v: f64| self.k * v;
        f(self.c.iter().rev().fold(0.0, |acc, &c| acc * x + c))
    }
}

#[differentiate]
fn cubic_fit(p: &Cubic, xs: &[f64]) -> f64 {
    xs.iter().map(|&x| p.eval(x).powi(2)).sum()
}

#[test]
fn a_method_with_a_closure_capturing_self() {
    let c = Cubic {
        c: [0.5, -1.0, 0.2, 0.3],
        k: 1.5,
    };
    let xs = vec![0.2, -0.7, 1.3];
    let (v, (gc, gx)) = cubic_fit_grad(&c, &xs);
    close("value", v, cubic_fit(&c, &xs), TOL);
    // Σ k²p²: ∂k = 2k Σ p², ∂cⱼ = 2k² Σ p xʲ
    let p = |x: f64| 0.5 - x + 0.2 * x * x + 0.3 * x * x * x;
    close(
        "∂k",
        gc.k,
        3.0 * xs.iter().map(|&x| p(x) * p(x)).sum::<f64>(),
        TOL,
    );
    for j in 0..4 {
        let e: f64 = xs.iter().map(|&x| 4.5 * p(x) * x.powi(j as i32)).sum();
        close("∂c", gc.c[j], e, TOL);
    }
    fd_vec("∂x", |x| cubic_fit(&c, x), &xs, &gx);
}

/// Closures with array patterns without `&` over `&[[f64; 2]]`.
#[differentiate]
fn point_terms(pts: &[[f64; 2]]) -> f64 {
    pts.iter().map(|[x, y]| x * y).sum::<f64>() + pts.iter().map(|p| p[0].hypot(p[1])).sum::<f64>()
}

#[test]
fn array_patterns_by_reference() {
    let pts = vec![[0.3, 0.4], [-1.0, 0.5]];
    let (v, g) = point_terms_grad(&pts);
    close("value", v, point_terms(&pts), TOL);
    // ∂x = y + x/r, ∂y = x + y/r
    for (k, p) in pts.iter().enumerate() {
        let r = p[0].hypot(p[1]);
        close("∂x", g[k][0], p[1] + p[0] / r, TOL);
        close("∂y", g[k][1], p[0] + p[1] / r, TOL);
    }
}

/// Array literals of differentiated values iterated in place.
#[differentiate]
fn literal_arrays(a: f64, b: f64, c: f64) -> f64 {
    let s = [a, b, c].iter().sum::<f64>();
    let m = [a, b, c].into_iter().fold(f64::MIN, f64::max);
    let q = [a, b, c].into_iter().map(|v| v * v).sum::<f64>();
    let t = *[a, b * b]
        .iter()
        .max_by(|p, q| p.partial_cmp(q).unwrap())
        .unwrap();
    s * m + q + t
}

#[test]
fn chains_over_array_literals() {
    let (a, b, c) = (0.3, 0.9, -0.2);
    let (v, (ga, gb, gc)) = literal_arrays_grad(a, b, c);
    close("value", v, literal_arrays(a, b, c), TOL);
    // s = a + b + c, m = b, t = max(a, b²) = b²: ∂a = m + 2a, ∂b = m + s + 2b + 2b,
    // ∂c = m + 2c
    let s = a + b + c;
    close("∂a", ga, b + 2.0 * a, TOL);
    close("∂b", gb, b + s + 4.0 * b, TOL);
    close("∂c", gc, b + 2.0 * c, TOL);
}

#[derive(Clone, Copy, Differentiable)]
struct Vec2(f64, f64);

/// A tuple struct read by position.
#[differentiate]
fn newtype_fields(a: Vec2, k: f64) -> f64 {
    a.0 * k + a.1 * a.1
}

#[test]
fn a_tuple_struct_parameter() {
    let (v, (ga, gk)) = newtype_fields_grad(Vec2(0.5, 2.0), 3.0);
    close("value", v, 5.5, TOL);
    close("∂a.0", ga.0, 3.0, TOL);
    close("∂a.1", ga.1, 4.0, TOL);
    close("∂k", gk, 0.5, TOL);
}

/// `enumerate().skip(1).step_by(2)` in a `for` with a `&v` pattern.
#[differentiate]
fn odd_positions(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, &v) in x.iter().enumerate().skip(1).step_by(2) {
        s += v * i as f64;
    }
    s
}

#[test]
fn enumerate_skip_step_by_in_a_for() {
    let x = vec![0.3, -0.8, 1.1, 0.45, -0.2];
    let (v, g) = odd_positions_grad(&x);
    close("value", v, -0.8 + 1.35, TOL);
    close_all("∂x", &g, &[0.0, 1.0, 0.0, 3.0, 0.0]);
}

/// A `while` with `continue` and a shadowed parameter inside the body.
#[differentiate]
fn skip_thirds(x: f64, n: usize) -> f64 {
    let mut acc = 0.0;
    let mut i = 0;
    while i < n {
        i += 1;
        if i % 3 == 0 {
            continue;
        }
        let x = x * i as f64;
        acc += x.sin();
    }
    acc
}

#[test]
fn while_with_continue_and_shadowing() {
    let (v, g) = skip_thirds_grad(0.4, 7);
    close("value", v, skip_thirds(0.4, 7), TOL);
    // Σ_{i ≤ 7, 3 ∤ i} i cos(i x)
    let e: f64 = (1..=7)
        .filter(|i| i % 3 != 0)
        .map(|i| i as f64 * (0.4 * i as f64).cos())
        .sum();
    close("∂x", g, e, TOL);
}

#[derive(Clone, Default)]
struct RunConfig {
    n: usize,
    offset: f64,
}

/// A configuration of data completed from `Default`.
#[differentiate]
fn configured_sum(x: f64) -> f64 {
    let cfg = RunConfig {
        n: 3,
        ..Default::default()
    };
    let mut s = 0.0;
    for i in 0..cfg.n {
        s += x * i as f64 + cfg.offset;
    }
    s
}

#[derive(Clone, Differentiable)]
struct Inner {
    a: f64,
    b: f64,
}

impl Default for Inner {
    fn default() -> Self {
        Inner { a: 1.0, b: 2.0 }
    }
}

#[derive(Clone, Differentiable)]
struct Outer {
    inner: Inner,
    c: f64,
}

impl Default for Outer {
    fn default() -> Self {
        Outer {
            inner: Inner::default(),
            c: 3.0,
        }
    }
}

/// Nested updates, an update of a copy, and a literal as the base.
#[differentiate]
fn nested_updates(x: f64, y: f64) -> f64 {
    let o = Outer {
        inner: Inner {
            a: x,
            ..Default::default()
        },
        ..Default::default()
    };
    let p = Outer { c: y, ..o.clone() };
    let i = Inner {
        b: y * y,
        ..Inner { a: x, b: 0.0 }
    };
    o.inner.a * o.inner.b + p.c * p.inner.a + o.c + i.a * i.b
}

#[test]
fn struct_updates_of_data_nested_and_of_literals() {
    // 3x: ∂x = 3
    let (v, g) = configured_sum_grad(2.0);
    close("value", v, configured_sum(2.0), TOL);
    close("∂x", g, 3.0, TOL);
    // 2x + yx + 3 + xy²: ∂x = 2 + y + y², ∂y = x + 2xy
    let (v, (gx, gy)) = nested_updates_grad(0.5, 1.5);
    close("value", v, nested_updates(0.5, 1.5), TOL);
    close2("∂", (gx, gy), (2.0 + 1.5 + 2.25, 0.5 + 1.5));
}

/// Forward mode of `$f`, a function of one slice, against its `_vjp` and finite differences
/// (see `common::forward`).
macro_rules! forward_on_slice {
    ($x:expr, $f:ident, $jvp:ident, $vjp:ident) => {
        forward(stringify!($f)).check(
            &$x,
            |p| $f(p),
            |p, v| $jvp(p, v),
            |p, w| {
                let (y, pb) = $vjp(p);
                (y, pb(w))
            },
        )
    };
}

#[test]
fn forward_mode_through_let_else_updates_splits_and_casts() {
    let x = vec![0.5, 2.0, 3.0];
    forward_on_slice!(x, head_pair, head_pair_jvp, head_pair_vjp);
    forward_on_slice!(x, init_times_last, init_times_last_jvp, init_times_last_vjp);
    forward_on_slice!(x, ends_of_exp, ends_of_exp_jvp, ends_of_exp_vjp);
    forward("nested_updates").check(
        &(0.5, 1.5),
        |p| nested_updates(p.0, p.1),
        |p, v| nested_updates_jvp(p.0, p.1, v.0, v.1),
        |p, w| {
            let (y, pb) = nested_updates_vjp(p.0, p.1);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Integer products beside float series; `let else` on windows, `find` and `reduce`.
// ---------------------------------------------------------------------------------------------

/// The exponential's series three ways: terms over `(1..=k).product::<usize>()` factorials (an
/// integer product inside a float chain), a `fold` applying `sin` n times, and Horner from the
/// back with `rev().fold`.
#[differentiate]
fn series_three_ways(x: f64, n: usize) -> f64 {
    (1..=n)
        .map(|k| x.powi(k as i32) / (1..=k).product::<usize>() as f64)
        .sum::<f64>()
        + (0..n).fold(x, |acc, _| acc.sin())
        + (1..=n).rev().fold(1.0, |acc, k| 1.0 + x * acc / k as f64)
}

#[test]
fn integer_product_inside_a_float_chain() {
    let (x, n) = (0.6f64, 5);
    let (v, g) = series_three_ways_grad(x, n);
    close("value", v, series_three_ways(x, n), TOL);
    // Σ_{k<n} xᵏ/k! from each series, and the chain rule through n sines
    let taylor_d: f64 = (1..=n)
        .map(|k| x.powi(k as i32 - 1) / (1..k).product::<usize>() as f64)
        .sum();
    let horner_d: f64 = (0..n)
        .map(|k| x.powi(k as i32) / (1..=k).product::<usize>() as f64)
        .sum();
    let mut s = x;
    let mut d = 1.0;
    for _ in 0..n {
        d *= s.cos();
        s = s.sin();
    }
    close("∂x", g, taylor_d + horner_d + d, TOL);
    fd("series_three_ways", |x| series_three_ways(x, n), x, g);
}

/// `let &[a, b] = w else { continue };` on each window.
#[differentiate]
fn window_let_else(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        let &[a, b] = w else { continue };
        s += (b - a).powi(2);
    }
    s
}

/// `let Some(&v) = x.iter().find(..) else { return .. };`
#[differentiate]
fn first_above_or_zero(x: &[f64], t: f64) -> f64 {
    let Some(&v) = x.iter().find(|&&v| v > t) else {
        return 0.0;
    };
    v * t
}

/// `let Some(best) = chain.reduce(f64::max) else { .. }` and `if let` on `reduce(f64::min)`.
#[differentiate]
fn spread_by_reduce(x: &[f64]) -> f64 {
    let Some(best) = x.iter().copied().reduce(f64::max) else {
        return 0.0;
    };
    if let Some(m) = x.iter().cloned().reduce(f64::min) {
        best - m
    } else {
        best
    }
}

#[test]
fn let_else_on_windows_find_and_reduce() {
    let x = vec![0.3, 0.8, 1.1, 0.45, 1.7];
    let (v, g) = window_let_else_grad(&x);
    close("value", v, window_let_else(&x), TOL);
    // ∂xᵢ = 2(xᵢ − xᵢ₋₁) − 2(xᵢ₊₁ − xᵢ)
    for i in 0..5 {
        let l = if i > 0 { 2.0 * (x[i] - x[i - 1]) } else { 0.0 };
        let r = if i < 4 { 2.0 * (x[i + 1] - x[i]) } else { 0.0 };
        close("∂x", g[i], l - r, TOL);
    }
    // first above 1.0 is x₂: ∂x₂ = t, ∂t = x₂
    let (v, (g, gt)) = first_above_or_zero_grad(&x, 1.0);
    close("value", v, 1.1, TOL);
    close_all("∂x", &g, &[0.0, 0.0, 1.0, 0.0, 0.0]);
    close("∂t", gt, 1.1, TOL);
    let (v, _) = first_above_or_zero_grad(&x, 5.0);
    close("none above", v, 0.0, TOL);
    // max x₄ − min x₀
    let (v, g) = spread_by_reduce_grad(&x);
    close("value", v, 1.4, TOL);
    close_all("∂x", &g, &[-1.0, 0.0, 0.0, 0.0, 1.0]);
}

/// Leave one out by `enumerate().filter(..)` on the index; `map(f64::abs)`.
#[differentiate]
fn leave_one_out(x: &[f64], skip: usize) -> f64 {
    x.iter()
        .enumerate()
        .filter(|&(i, _)| i != skip)
        .map(|(_, v)| v * v)
        .sum::<f64>()
        + x.iter().copied().map(f64::abs).sum::<f64>()
}

/// The sum of the k largest, by a descending sort of a copy and `take(k)`.
#[differentiate]
fn top_k_sum(x: &[f64], k: usize) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| b.partial_cmp(a).unwrap());
    v.iter().take(k).sum::<f64>()
}

/// Means of ragged chunks of three, squared.
#[differentiate]
fn chunk_means_sq(x: &[f64]) -> f64 {
    x.chunks(3)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .map(|m| m * m)
        .sum()
}

#[test]
fn leave_one_out_top_k_and_ragged_chunk_means() {
    let x = vec![0.3, -0.8, 1.1, 0.45, 1.7];
    let (v, g) = leave_one_out_grad(&x, 2);
    close("value", v, leave_one_out(&x, 2), TOL);
    // ∂xᵢ = 2xᵢ[i ≠ 2] + sign xᵢ
    let e: Vec<f64> = (0..5)
        .map(|i| if i != 2 { 2.0 * x[i] } else { 0.0 } + x[i].signum())
        .collect();
    close_all("∂x", &g, &e);
    let (v, g) = top_k_sum_grad(&x, 2);
    close("value", v, 2.8, TOL);
    close_all("∂x", &g, &[0.0, 0.0, 1.0, 0.0, 1.0]);
    let (v, g) = chunk_means_sq_grad(&x);
    close("value", v, chunk_means_sq(&x), TOL);
    // 2m/|c| for each member of a chunk with mean m
    let m0 = (0.3 - 0.8 + 1.1) / 3.0;
    let m1 = (0.45 + 1.7) / 2.0;
    close_all(
        "∂x",
        &g,
        &[2.0 * m0 / 3.0, 2.0 * m0 / 3.0, 2.0 * m0 / 3.0, m1, m1],
    );
}

/// Positions from the back (`rposition`, `rev().position`) and an interpolation between
/// the neighbours a `binary_search_by` finds.
#[differentiate]
fn from_the_back(x: &[f64], t: f64) -> f64 {
    let i = x.iter().rposition(|&v| v < t).unwrap_or(0);
    let j = x.iter().rev().position(|&v| v > t).unwrap_or(0);
    x[i] * x[x.len() - 1 - j]
}

#[differentiate]
fn lerp_table(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = match xs.binary_search_by(|v| v.partial_cmp(&t).unwrap()) {
        Ok(i) => i.max(1),
        Err(i) => i.min(xs.len() - 1).max(1),
    };
    let w = (t - xs[i - 1]) / (xs[i] - xs[i - 1]);
    ys[i - 1] * (1.0 - w) + ys[i] * w
}

#[test]
fn positions_from_the_back_and_binary_search() {
    let x = vec![0.3, 0.8, 1.1, 0.45, 1.7];
    // last below 1 is x₃, last above 1 is x₄
    let (v, (g, _)) = from_the_back_grad(&x, 1.0);
    close("value", v, 0.45 * 1.7, TOL);
    close_all("∂x", &g, &[0.0, 0.0, 0.0, 1.7, 0.45]);
    let xs = vec![0.0, 1.0, 2.0, 3.0];
    let ys = vec![0.5, 1.5, 0.7, 2.0];
    let (v, (gx, gy, gt)) = lerp_table_grad(&xs, &ys, 1.3);
    close("value", v, 1.5 * 0.7 + 0.7 * 0.3, TOL);
    // ∂y₁ = 1 − w, ∂y₂ = w, ∂t = (y₂ − y₁)/(x₂ − x₁)
    close_all("∂y", &gy, &[0.0, 0.7, 0.3, 0.0]);
    close("∂t", gt, -0.8, TOL);
    fd_vec("∂xs", |q| lerp_table(q, &ys, 1.3), &xs, &gx);
}

/// `match` on the length with a binding arm; integer `pow`.
#[differentiate]
fn by_length(x: &[f64]) -> f64 {
    match x.len() {
        0 => 0.0,
        1 => x[0],
        n => x[n - 1] * x[0] + (n.pow(2) as f64),
    }
}

#[test]
fn match_on_the_length() {
    let x = vec![0.3, 0.8, 1.7];
    let (v, g) = by_length_grad(&x);
    close("value", v, 0.51 + 9.0, TOL);
    close_all("∂x", &g, &[1.7, 0.0, 0.3]);
    let (v, g) = by_length_grad(&[0.4]);
    close("one", v, 0.4, TOL);
    close_all("∂one", &g, &[1.0]);
}

/// Newton's square-root iteration on a `Vec` until every entry settles, checked with `all`
/// over a `zip`; the loop replaces the `Vec` each round.
#[differentiate]
fn settle_roots(x: &[f64], scale: f64, tol: f64) -> f64 {
    let mut y = x.to_vec();
    let mut iters = 0;
    loop {
        let next: Vec<f64> = y.iter().map(|v| 0.5 * (v + scale / v)).collect();
        let done = next.iter().zip(&y).all(|(a, b)| (a - b).abs() < tol);
        y = next;
        iters += 1;
        if done || iters > 60 {
            break;
        }
    }
    y.iter().sum()
}

#[test]
fn iterate_a_vec_until_all_settle() {
    let x = vec![0.3, 0.8, 1.1, 0.45, 1.7];
    let (v, (g, gs, _)) = settle_roots_grad(&x, 2.0, 1e-13);
    close("value", v, 5.0 * 2f64.sqrt(), 1e-12);
    // the limit √scale does not depend on the start: ∂x = 0, ∂scale = 5/(2√2)
    close_all("∂x", &g, &[0.0; 5]);
    close("∂scale", gs, 5.0 / (2.0 * 2f64.sqrt()), 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Builders taking `mut self`, associated const tables, imports inside the body, generic
// constants.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Damped {
    k: f64,
    c: f64,
}

impl Damped {
    const W: [f64; 3] = [0.2, 0.3, 0.5];

    #[differentiate]
    fn new(k: f64) -> Self {
        Self { k, c: 0.1 }
    }

    /// A builder that takes `mut self`, sets a field and returns it.
    #[differentiate]
    fn with_damping(mut self, c: f64) -> Self {
        self.c = c;
        self
    }

    /// Σᵢ Wᵢ sin(k x i + c) over an associated const table.
    #[differentiate]
    pub(crate) fn weighted(&self, x: f64) -> f64 {
        Self::W
            .iter()
            .enumerate()
            .map(|(i, w)| w * (self.k * x * i as f64 + self.c).sin())
            .sum()
    }
}

#[differentiate]
fn built_and_weighted(k: f64, c: f64, x: f64) -> f64 {
    let o = Damped::new(k).with_damping(c);
    o.weighted(x)
}

#[test]
fn a_mut_self_builder_chained_on_new() {
    let p = (1.3, 0.4, 0.7);
    let (v, (gk, gc, gx)) = built_and_weighted_grad(p.0, p.1, p.2);
    close("value", v, built_and_weighted(p.0, p.1, p.2), TOL);
    // ∂c = Σ Wᵢ cos(kxi + c), ∂k = Σ Wᵢ x i cos(..)
    let w = [0.2, 0.3, 0.5];
    let ec: f64 = (0..3)
        .map(|i| w[i] * (1.3 * 0.7 * i as f64 + 0.4).cos())
        .sum();
    let ek: f64 = (0..3)
        .map(|i| w[i] * 0.7 * i as f64 * (1.3 * 0.7 * i as f64 + 0.4).cos())
        .sum();
    close("∂c", gc, ec, TOL);
    close("∂k", gk, ek, TOL);
    fd3("built_and_weighted", built_and_weighted, p, (gk, gc, gx));
}

mod shapes {
    pub mod area {
        use autodiff::differentiate;

        #[differentiate]
        pub fn square(x: f64) -> f64 {
            x * x
        }
    }
}

/// A function imported by a `use` inside the body, a renamed import beside it, and the same
/// function by its path.
#[differentiate]
fn imported_inside(x: f64) -> f64 {
    use shapes::area::square;
    use shapes::area::square as sq;
    square(x) + shapes::area::square(2.0 * x) + sq(x)
}

/// A closure that shadows the imported name is the closure.
#[differentiate]
fn shadowed_import(x: f64) -> f64 {
    #[allow(unused_imports)] // the closure below shadows it
    use shapes::area::square;
    let square = |v: f64| v * 3.0;
    square(x)
}

#[test]
fn functions_imported_in_the_body() {
    // 6x²: ∂ = 12x
    let (v, g) = imported_inside_grad(0.7);
    close("value", v, imported_inside(0.7), TOL);
    close("∂x", g, 12.0 * 0.7, TOL);
    let (v, g) = shadowed_import_grad(2.0);
    close("value", v, 6.0, TOL);
    close("∂x", g, 3.0, TOL);
}

/// Generic constants: `T::from(0.5).unwrap()` of a literal, `T::epsilon()`, `to_degrees`,
/// and `FloatConst`'s `T::PI()` and `T::E()`.
#[differentiate]
fn generic_constants<T: Float + FloatConst>(x: T) -> T {
    let half = T::from(0.5).unwrap();
    let eps = T::epsilon();
    (x * half + eps).sqrt() + x.to_degrees() + (x * T::PI()).sin() + T::E().ln() * x
}

#[test]
fn generic_constants_from_num_traits() {
    let x = 0.3f64;
    let (v, g) = generic_constants_grad(x);
    close("value", v, generic_constants(x), TOL);
    // 1/(4√(x/2 + ε)) + 180/π + π cos(πx) + 1
    let e = 0.25 / (0.5 * x + f64::EPSILON).sqrt() + 180.0 / PI + PI * (PI * x).cos() + 1.0;
    close("∂x", g, e, TOL);
    let (_, g32) = generic_constants_grad(0.3f32);
    assert!((g32 as f64 - e).abs() < 1e-3 * e, "{g32}");
}

/// `matches!` with a guard on a differentiated value, `clamp` with differentiated bounds, and
/// `if let` with a range pattern on data.
#[differentiate]
fn guarded_clamp(x: f64, lo: f64, hi: f64, n: u32) -> f64 {
    let y = if matches!(x, v if v > 0.0) {
        x.clamp(lo, hi)
    } else {
        -x
    };
    if let 0..=9 = n { y * 2.0 } else { y }
}

#[test]
fn matches_guard_and_clamp_bounds() {
    // clamped at hi, doubled: ∂hi = 2
    let (v, (gx, gl, gh)) = guarded_clamp_grad(2.0, 0.5, 1.5, 3);
    close("value", v, 3.0, TOL);
    close("∂x", gx, 0.0, TOL);
    close("∂lo", gl, 0.0, TOL);
    close("∂hi", gh, 2.0, TOL);
    // inside the bounds, n = 30: y = x
    let (v, (gx, _, _)) = guarded_clamp_grad(0.7, 0.5, 1.5, 30);
    close("value", v, 0.7, TOL);
    close("∂x", gx, 1.0, TOL);
    // negative: −x
    let (_, (gx, _, _)) = guarded_clamp_grad(-0.7, 0.5, 1.5, 30);
    close("∂x", gx, -1.0, TOL);
}
