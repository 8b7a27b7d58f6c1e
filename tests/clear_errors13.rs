//! Programs that failed with rustc errors inside the generated code and now work: the best item
//! of `min_by(..).unwrap()` and its kin named inside a macro (`assert!(d2(closest) > 0.0)` of
//! `let closest = pts.iter().min_by(..).unwrap();`, an `&[f64; 2]` in Rust, was given to the
//! macro's copy of the closure as the array itself), and maps and queues that hold data only
//! (counts, positions) beside differentiated values, which run as written.
//!
//! The same containers given a differentiated value, and cells (`RefCell`, `Mutex`, `Cell`),
//! are compile errors that say what to write instead (`tests/ui/errors13_*.rs`).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; each value against the plain
//! function's; the functions under `hessian` also have their `_hvp` checked against
//! differences of the gradient.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::redundant_closure
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use num_traits::Float;
use std::collections::{BTreeMap, HashMap, VecDeque};

mod common;
use common::*;

const PTS: [[f64; 2]; 4] = [[1.0, 2.0], [0.5, -0.3], [2.0, 0.1], [-1.5, 0.9]];

// ---------------------------------------------------------------------------------------------
// The best item of a chain of references, named in a macro
// ---------------------------------------------------------------------------------------------

/// The squared norm of the point nearest the origin: `p*₀² + p*₁²`, whose gradient is
/// `2·p*` at the nearest point and zero elsewhere.
#[differentiate]
fn nearest(pts: &[[f64; 2]]) -> f64 {
    let d2 = |p: &[f64; 2]| p[0] * p[0] + p[1] * p[1];
    let closest = pts
        .iter()
        .min_by(|a, b| d2(a).partial_cmp(&d2(b)).unwrap())
        .unwrap();
    assert!(d2(closest) > 0.0, "a point at the origin");
    d2(closest)
}

fn flat(pts: &[[f64; 2]]) -> Vec<f64> {
    pts.iter().flatten().copied().collect()
}

fn unflat(v: &[f64]) -> Vec<[f64; 2]> {
    v.chunks(2).map(|c| [c[0], c[1]]).collect()
}

#[test]
fn the_nearest_point_named_in_an_assert() {
    let (v, g) = nearest_grad(&PTS);
    assert_eq!(v, nearest(&PTS));
    // Nearest: [0.5, −0.3] (0.34): ∂ = 2·p there.
    let mut e = vec![[0.0; 2]; 4];
    e[1] = [1.0, -0.6];
    close_all("nearest", &flat(&g), &flat(&e));
    fd_vec("nearest", |x| nearest(&unflat(x)), &flat(&PTS), &flat(&g));
}

/// The farthest point by `max_by`, in `f32`, with its norm printed by `debug_assert!` and
/// `format!`: `|p*|` with gradient `p*/|p*|` at the farthest point.
#[differentiate]
fn farthest32(pts: &[[f32; 2]]) -> f32 {
    let norm = |p: &[f32; 2]| (p[0] * p[0] + p[1] * p[1]).sqrt();
    let far = pts
        .iter()
        .max_by(|a, b| norm(a).partial_cmp(&norm(b)).unwrap())
        .unwrap();
    debug_assert!(norm(far) >= norm(&pts[0]), "{}", format!("{:?}", far));
    norm(far)
}

#[test]
fn the_farthest_point_in_f32() {
    let pts: Vec<[f32; 2]> = PTS.iter().map(|p| [p[0] as f32, p[1] as f32]).collect();
    let (v, g) = farthest32_grad(&pts);
    assert_eq!(v, farthest32(&pts));
    // Farthest: [1.0, 2.0] (|p| = √5, against 2.002 for [2.0, 0.1]); ∂ = p/|p| there.
    let n = 5.0f32.sqrt();
    for (k, gk) in g.iter().enumerate() {
        let e = if k == 0 { [1.0 / n, 2.0 / n] } else { [0.0; 2] };
        close(
            &format!("farthest32[{k}].0"),
            gk[0] as f64,
            e[0] as f64,
            1e-6,
        );
        close(
            &format!("farthest32[{k}].1"),
            gk[1] as f64,
            e[1] as f64,
            1e-6,
        );
    }
    let r = gradcheck(
        |x: &Vec<f32>| farthest32(&x.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<_>>()),
        &pts.iter().flatten().copied().collect::<Vec<f32>>(),
        &g.iter().flatten().copied().collect::<Vec<f32>>(),
    );
    assert!(r.passed(), "farthest32: {r}");
}

/// Generic over the float: the largest element by `max_by`, named in `assert!`, squared and
/// scaled by `w`: `w·m²`, with `∂x = 2w·m` at the largest element and `∂w = m²`.
#[differentiate]
fn largest_sq<F: Float>(x: &[F], w: F) -> F {
    let m = x.iter().max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap();
    assert!(*m >= x[0]);
    w * *m * *m
}

#[test]
fn the_largest_element_generic() {
    let x = [0.3, -1.2, 0.9, 0.4];
    let w = 1.5;
    let (v, (gx, gw)) = largest_sq_grad(&x[..], w);
    assert_eq!(v, largest_sq(&x[..], w));
    close_all("largest, ∂x", &gx, &[0.0, 0.0, 2.0 * w * 0.9, 0.0]);
    close("largest, ∂w", gw, 0.81, TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| largest_sq(&p.0, p.1),
        &(x.to_vec(), w),
        &(gx.clone(), gw),
    );
    assert!(r.passed(), "largest_sq: {r}");
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (_, (gx32, gw32)) = largest_sq_grad(&x32[..], 1.5f32);
    close("largest f32, ∂x2", gx32[2] as f64, 2.0 * w * 0.9, 1e-6);
    close("largest f32, ∂w", gw32 as f64, 0.81, 1e-6);
}

/// In a loop: for each query point, the nearest of `pts` (by `min_by`), checked in an
/// `assert!` and summed: `Σ_q |p*(q) − q|²`, whose gradient in `pts` is `2·(p − q)` summed over
/// the queries whose nearest point is `p`.
#[differentiate]
fn nearest_to_queries(pts: &[[f64; 2]], queries: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for q in queries {
        let d2 = |p: &[f64; 2]| (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]);
        let best = pts
            .iter()
            .min_by(|a, b| d2(a).partial_cmp(&d2(b)).unwrap())
            .unwrap();
        assert!(d2(best) >= 0.0);
        s += d2(best);
    }
    s
}

#[test]
fn the_nearest_point_to_each_query_in_a_loop() {
    let queries = [[0.0, 0.0], [2.2, 0.0], [-1.0, 1.0], [0.6, -0.2]];
    let (v, (g, _)) = nearest_to_queries_grad(&PTS, &queries);
    assert_eq!(v, nearest_to_queries(&PTS, &queries));
    let mut e = vec![[0.0; 2]; 4];
    for q in &queries {
        let d = |p: &[f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        let k = (0..4)
            .min_by(|&a, &b| d(&PTS[a]).partial_cmp(&d(&PTS[b])).unwrap())
            .unwrap();
        e[k][0] += 2.0 * (PTS[k][0] - q[0]);
        e[k][1] += 2.0 * (PTS[k][1] - q[1]);
    }
    close_all("nearest to queries", &flat(&g), &flat(&e));
    fd_vec(
        "nearest to queries",
        |x| nearest_to_queries(&unflat(x), &queries),
        &flat(&PTS),
        &flat(&g),
    );
}

/// Under `hessian`: the cube of the smallest element by `min_by`, named in `assert!`:
/// `m³`, with `∂ = 3m²` and `H·d = 6m·d` at the smallest element.
#[differentiate(hessian)]
fn smallest_cubed(x: &[f64]) -> f64 {
    let m = x.iter().min_by(|a, b| a.partial_cmp(b).unwrap()).unwrap();
    assert!(*m <= x[0], "{m}");
    m * m * m
}

#[test]
fn the_smallest_element_under_hessian() {
    let x = vec![0.7, -1.3, 0.2];
    let dir = vec![0.4, -0.9, 0.6];
    let (v, g) = smallest_cubed_grad(&x);
    assert_eq!(v, smallest_cubed(&x));
    let m = -1.3;
    close_all("smallest, gradient", &g, &[0.0, 3.0 * m * m, 0.0]);
    fd_vec("smallest", smallest_cubed, &x, &g);
    let (v2, g2, hv) = smallest_cubed_hvp(&x, &dir);
    assert_eq!(v2, v);
    close_all("smallest, gradient of hvp", &g2, &g);
    close_all("smallest, H·d", &hv, &[0.0, 6.0 * m * dir[1], 0.0]);
    let h = 1e-5;
    let xp: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a - h * b).collect();
    let (gp, gm) = (smallest_cubed_grad(&xp).1, smallest_cubed_grad(&xm).1);
    for k in 0..3 {
        close(
            &format!("smallest, (H·d)[{k}] against differences"),
            hv[k],
            (gp[k] - gm[k]) / (2.0 * h),
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Maps and queues of data beside differentiated values
// ---------------------------------------------------------------------------------------------

/// Each squared value divided by the size of its class, the sizes counted in a `HashMap`
/// (read by `get`, changed by `insert`, looked up by index): `Σ xᵢ²/n(ℓᵢ)`, with
/// `∂xᵢ = 2xᵢ/n(ℓᵢ)`.
#[differentiate]
fn class_weighted(x: &[f64], labels: &[usize]) -> f64 {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for &l in labels {
        let c = counts.get(&l).copied().unwrap_or(0);
        counts.insert(l, c + 1);
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] / counts[&labels[i]] as f64;
    }
    s
}

#[test]
fn a_hashmap_of_counts_runs_as_written() {
    let x = [0.5, -1.0, 2.0, 0.25, 1.5];
    let labels = [7, 3, 7, 7, 3];
    let (v, g) = class_weighted_grad(&x, &labels);
    assert_eq!(v, class_weighted(&x, &labels));
    let n = |l: usize| labels.iter().filter(|&&m| m == l).count() as f64;
    let e: Vec<f64> = (0..5).map(|i| 2.0 * x[i] / n(labels[i])).collect();
    close_all("class weighted", &g, &e);
    fd_vec("class weighted", |x| class_weighted(x, &labels), &x, &g);
}

/// Positions by name in a `BTreeMap` built from the keys, looked up in a loop in `f32`: the
/// weights `w[pos(k)]` of the keys asked for, squared and summed: `∂w_j = 2w_j·(times j is
/// asked for)`.
#[differentiate]
fn by_key32(w: &[f32], keys: &[u32], asked: &[u32]) -> f32 {
    let mut pos = BTreeMap::new();
    for (j, &k) in keys.iter().enumerate() {
        pos.insert(k, j);
    }
    let mut s = 0.0;
    for &a in asked {
        let j = pos[&a];
        s += w[j] * w[j];
    }
    s
}

#[test]
fn a_btreemap_of_positions_runs_as_written() {
    let w = [0.5f32, -1.25, 2.0];
    let keys = [40, 10, 30];
    let asked = [10, 30, 10];
    let (v, g) = by_key32_grad(&w, &keys, &asked);
    assert_eq!(v, by_key32(&w, &keys, &asked));
    let e = [0.0, 2.0 * 2.0 * -1.25, 2.0 * 2.0];
    for k in 0..3 {
        close(&format!("by key ∂w{k}"), g[k] as f64, e[k], 1e-6);
    }
    let r = gradcheck(|p: &Vec<f32>| by_key32(p, &keys, &asked), &w.to_vec(), &g);
    assert!(r.passed(), "by_key32: {r}");
}

/// A breadth-first order of a small tree kept in a `VecDeque` of indices, generic over the
/// float: `Σ_k (k + 1)·x[order_k]`, whose gradient is the position in the order plus one.
#[differentiate]
fn bfs_weighted<F: Float>(x: &[F], children: &[Vec<usize>]) -> F {
    let mut q = VecDeque::new();
    q.push_back(0usize);
    let mut order = Vec::new();
    while let Some(n) = q.pop_front() {
        order.push(n);
        for &c in &children[n] {
            q.push_back(c);
        }
    }
    let mut s = F::zero();
    for (k, &n) in order.iter().enumerate() {
        s = s + F::from(k + 1).unwrap() * x[n];
    }
    s
}

#[test]
fn a_vecdeque_of_indices_runs_as_written() {
    // 0 → {2, 1}, 2 → {3}: the order 0, 2, 1, 3.
    let children = vec![vec![2, 1], vec![], vec![3], vec![]];
    let x = [0.5, -1.0, 2.0, 0.25];
    let (v, g) = bfs_weighted_grad(&x[..], &children);
    assert_eq!(v, bfs_weighted(&x[..], &children));
    close_all("bfs", &g, &[1.0, 3.0, 2.0, 4.0]);
    fd_vec("bfs", |x| bfs_weighted(x, &children), &x, &g);
}
