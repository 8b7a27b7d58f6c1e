//! Scratch arrays that a loop fills and loops after it read (`xc[id] = x[id] − μ[id]` for every
//! point, then `.. xc[i] ..` in a loop over the same range): the reads are rewritten as the
//! values written (`autodiff-macro/src/fills.rs`), so that the pullback recomputes them instead
//! of keeping a copy of the array per iteration. Each function is checked against its analytic
//! gradient, central finite differences, `_jvp` and `_hvp`; the cases the rewrite must leave
//! alone (reads at other indices, a range that may go past the fill, arrays changed after the
//! fill) are checked the same way.

#![allow(clippy::needless_range_loop)]

use autodiff::check::hvpcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// Σᵢ Σₖ (Σ_j L_kj·(xᵢⱼ − μⱼ))², the centred point kept in a scratch vector overwritten for
/// every point, read in a triangle of loops (the ADBench mixture's shape).
#[differentiate(wrt(mu, l), hessian)]
fn centred_quadratic(mu: &[f64], l: &[f64], x: &[f64], d: usize) -> f64 {
    let n = x.len() / d;
    let mut xc = vec![0.0; d];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..d {
            xc[j] = x[i * d + j] - mu[j];
        }
        for k in 0..d {
            let mut t = 0.0;
            for j in 0..k + 1 {
                t += l[k * d + j] * xc[j];
            }
            total += t * t;
        }
    }
    total
}

/// The same with the triangle read at `j` from a loop over `0..d` and `xc` read twice.
fn centred_quadratic_grad_by_hand(mu: &[f64], l: &[f64], x: &[f64], d: usize) -> Vec<f64> {
    // ∂/∂μ_j = Σᵢ Σₖ 2 tᵢₖ·(−L_kj) for j ≤ k; ∂/∂L_kj = Σᵢ 2 tᵢₖ·xcᵢⱼ.
    let n = x.len() / d;
    let mut g = vec![0.0; d + d * d];
    for i in 0..n {
        for k in 0..d {
            let t: f64 = (0..=k).map(|j| l[k * d + j] * (x[i * d + j] - mu[j])).sum();
            for j in 0..=k {
                g[j] -= 2.0 * t * l[k * d + j];
                g[d + k * d + j] += 2.0 * t * (x[i * d + j] - mu[j]);
            }
        }
    }
    g
}

#[test]
fn a_scratch_vector_filled_per_point_and_read_in_a_triangle() {
    let d = 3;
    let x = data(4 * d, 1.0);
    let p = [data(d, 2.0), data(d * d, 3.0)].concat();
    let f = |p: &[f64]| centred_quadratic(&p[..d], &p[d..], &x, d);
    let (v, (gm, gl)) = centred_quadratic_grad(&p[..d], &p[d..], &x, d);
    assert_eq!(v, f(&p));
    let g = [gm, gl].concat();
    close_all(
        "centred quadratic",
        &g,
        &centred_quadratic_grad_by_hand(&p[..d], &p[d..], &x, d),
    );
    fd_vec("centred quadratic", f, &p, &g);
    forward("centred quadratic").check(
        &p,
        |p| f(p),
        |p, v| centred_quadratic_jvp(&p[..d], &p[d..], &x, d, &v[..d].to_vec(), &v[d..].to_vec()),
        |p, w| {
            let (y, back) = centred_quadratic_vjp(&p[..d], &p[d..], &x, d);
            let (a, b) = back(w);
            (y, [a, b].concat())
        },
    );
    let dir = data(d + d * d, 4.0);
    let (_, _, (hm, hl)) = centred_quadratic_hvp(
        &p[..d],
        &p[d..],
        &x,
        d,
        &dir[..d].to_vec(),
        &dir[d..].to_vec(),
    );
    let grad = |p: &Vec<f64>| {
        let (_, (a, b)) = centred_quadratic_grad(&p[..d], &p[d..], &x, d);
        [a, b].concat()
    };
    let r = hvpcheck(grad, &p, &dir, &[hm, hl].concat());
    assert!(r.passed(), "centred quadratic hvp: {r}");
}

/// Filled with a value that is not linear in the parameters (`w_j·sin(x_j)`), read in reverse
/// order and from a loop starting past 0: Σ_{j=1}^{n−1} s_j² + s_{n−1−j}·s_j where
/// s_j = w_j·sin(x_j).
#[differentiate(hessian)]
fn filled_then_read_reversed(w: &[f64], x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = vec![0.0; n];
    let mut total = 0.0;
    for _round in 0..2 {
        for j in 0..n {
            s[j] = w[j] * x[j].sin();
        }
        for j in (1..n).rev() {
            total += s[j] * s[j] + s[n - 1 - j] * s[j];
        }
    }
    total
}

#[test]
fn a_fill_read_backwards_and_at_a_computed_index() {
    let n = 5;
    let (w, x) = (data(n, 5.0), data(n, 6.0));
    let (v, (gw, gx)) = filled_then_read_reversed_grad(&w, &x);
    assert_eq!(v, filled_then_read_reversed(&w, &x));
    // With s = w∘sin x: total = 2·Σ_{j≥1} (s_j² + s_{n−1−j}·s_j); ∂total/∂s_m = 2·(2 s_m [m ≥ 1]
    // + s_{n−1−m} [m ≥ 1] + s_{n−1−m} [n−1−m ≥ 1]).
    let s: Vec<f64> = (0..n).map(|j| w[j] * x[j].sin()).collect();
    let ds: Vec<f64> = (0..n)
        .map(|m| {
            let o = s[n - 1 - m];
            let a = if m >= 1 { 2.0 * s[m] + o } else { 0.0 };
            let b = if n - 1 - m >= 1 { o } else { 0.0 };
            2.0 * (a + b)
        })
        .collect();
    let ew: Vec<f64> = (0..n).map(|j| ds[j] * x[j].sin()).collect();
    let ex: Vec<f64> = (0..n).map(|j| ds[j] * w[j] * x[j].cos()).collect();
    close_all("reversed, ∂w", &gw, &ew);
    close_all("reversed, ∂x", &gx, &ex);
    fd_vec(
        "reversed, ∂w",
        |w| filled_then_read_reversed(w, &x),
        &w,
        &gw,
    );
    fd_vec(
        "reversed, ∂x",
        |x| filled_then_read_reversed(&w, x),
        &x,
        &gx,
    );
    let (dw, dx) = (data(n, 7.0), data(n, 8.0));
    let (_, _, (hw, hx)) = filled_then_read_reversed_hvp(&w, &x, &dw, &dx);
    let p = [w.clone(), x.clone()].concat();
    let grad = |p: &Vec<f64>| {
        let (_, (a, b)) = filled_then_read_reversed_grad(&p[..n], &p[n..]);
        [a, b].concat()
    };
    let r = hvpcheck(grad, &p, &[dw, dx].concat(), &[hw, hx].concat());
    assert!(r.passed(), "reversed hvp: {r}");
}

/// Reads the rewrite must leave alone: `s[j + 1]` (not the loop's index), an inclusive range
/// `0..=m` with `m < n`, a loop over another bound, and a fill of only part of the array, whose
/// other elements keep the previous round's values.
#[differentiate]
fn reads_outside_the_fill(x: &[f64]) -> f64 {
    let n = x.len();
    let m = n - 1;
    let mut s = vec![1.0; n];
    let mut total = 0.0;
    for round in 0..3 {
        let r = round as f64 + 1.0;
        for j in 0..m {
            s[j] = x[j] * r;
        }
        for j in 0..m {
            total += s[j + 1] * x[j];
        }
        for j in 0..=m {
            total += s[j] * s[j];
        }
        for j in 0..n {
            total += s[j] * 0.5;
        }
    }
    total
}

#[test]
fn reads_at_other_indices_see_the_elements_the_fill_left() {
    let x = data(4, 9.0);
    let n = x.len();
    let (v, g) = reads_outside_the_fill_grad(&x);
    assert_eq!(v, reads_outside_the_fill(&x));
    // s_j = r·x_j for j < n−1, s_{n−1} = 1. Per round r:
    //   Σ_{j<n−1} s_{j+1}·x_j + Σ_j s_j² + ½Σ_j s_j.
    let mut e = vec![0.0; n];
    for round in 0..3 {
        let r = round as f64 + 1.0;
        for j in 0..n - 1 {
            // s_{j+1}·x_j: ∂/∂x_j = s_{j+1}; ∂/∂x_{j+1} = r·x_j if j + 1 < n − 1.
            e[j] += if j + 1 < n - 1 { r * x[j + 1] } else { 1.0 };
            if j + 1 < n - 1 {
                e[j + 1] += r * x[j];
            }
            e[j] += 2.0 * r * r * x[j] + 0.5 * r;
        }
    }
    close_all("reads outside the fill", &g, &e);
    fd_vec("reads outside the fill", reads_outside_the_fill, &x, &g);
}

/// A fill whose value reads an array that is changed in place after the fill: the read below
/// must see the value written, not one computed again from the changed array.
#[differentiate]
fn source_changed_after_the_fill(x: &[f64]) -> f64 {
    let n = x.len();
    let mut y = x.to_vec();
    let mut s = vec![0.0; n];
    let mut total = 0.0;
    for _round in 0..2 {
        for j in 0..n {
            s[j] = y[j] * y[j];
        }
        for j in 0..n {
            y[j] = y[j] * 0.5 + 1.0;
        }
        for j in 0..n {
            total += s[j] * x[j];
        }
    }
    total
}

#[test]
fn a_fill_from_an_array_changed_later_keeps_its_values() {
    let x = data(4, 10.0);
    let (v, g) = source_changed_after_the_fill_grad(&x);
    assert_eq!(v, source_changed_after_the_fill(&x));
    // Round 1: y = x, s = x², adds Σ x³. Round 2: y = x/2 + 1, s = y², adds Σ (x/2 + 1)²·x.
    let e: Vec<f64> = x
        .iter()
        .map(|&x| 3.0 * x * x + (x / 2.0 + 1.0) * x + (x / 2.0 + 1.0).powi(2))
        .collect();
    close_all("source changed after the fill", &g, &e);
    fd_vec(
        "source changed after the fill",
        source_changed_after_the_fill,
        &x,
        &g,
    );
}

/// A fill inside the loop whose index reads it: Σᵢ xc[i] with xc[j] = x_j·2xᵢ filled anew
/// for each i, so f = Σᵢ 2xᵢ², ∂f/∂x_k = 4x_k. Left as written (the value cannot be computed
/// at the top of the loop over `i`, before the fill).
#[differentiate]
fn fill_inside_its_reader(x: &[f64]) -> f64 {
    let d = x.len();
    let mut xc = vec![0.0; d];
    let mut s = 0.0;
    for i in 0..d {
        let w = x[i] * 2.0;
        for j in 0..d {
            xc[j] = x[j] * w;
        }
        s += xc[i];
    }
    s
}

#[test]
fn a_fill_inside_the_loop_that_reads_it() {
    let x = data(5, 11.0);
    let (v, g) = fill_inside_its_reader_grad(&x);
    assert_eq!(v, fill_inside_its_reader(&x));
    let e: Vec<f64> = x.iter().map(|&x| 4.0 * x).collect();
    close_all("fill inside its reader", &g, &e);
    fd_vec("fill inside its reader", fill_inside_its_reader, &x, &g);
}
