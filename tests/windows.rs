//! Loops that read `a[base + l]` or add to `ā[base + l]` in every iteration borrow that part
//! of the array once, before the loop (see the macro's `codegen/windows.rs`). These tests check
//! that the gradients stay right where the window applies (start other than zero, reversed
//! loops, empty ranges, both operand orders), where it must not (a loop that leaves early, a
//! read in one arm of an `if`, an adjoint added to at two bases), and that an index out of
//! bounds still panics. Each gradient is checked against an analytic formula stated beside the
//! function and against central finite differences.

#![allow(clippy::needless_range_loop, clippy::explicit_counter_loop)] // written as users write them

use autodiff::differentiate;

mod common;
use common::{close_all as close, data, fd_vec};

/// The Gaussian mixture's triangle: `t_j = Σ_{l<j} L[r_j + l]·(x_l − μ_l)` with
/// `r_j = j(j−1)/2`, `f = Σ_j t_j²`. `∂f/∂L[r_j + l] = 2·t_j·(x_l − μ_l)`,
/// `∂f/∂μ_l = −Σ_{j>l} 2·t_j·L[r_j + l]`.
#[differentiate(wrt(ls, mu), hessian)]
fn triangle(ls: &[f64], mu: &[f64], x: &[f64], d: usize) -> f64 {
    let mut f = 0.0;
    for j in 0..d {
        let row = (j * j - j) / 2;
        let mut t = 0.0;
        for l in 0..j {
            t += ls[row + l] * (x[l] - mu[l]);
        }
        f += t * t;
    }
    f
}

#[test]
fn the_triangle_of_a_lower_triangular_product() {
    for d in [0usize, 1, 2, 3, 7] {
        let ls = data(d * d.saturating_sub(1) / 2, 0.4);
        let mu = data(d, 1.1);
        let x = data(d, 2.3);
        let (v, (gl, gm)) = triangle_grad(&ls, &mu, &x, d);
        assert_eq!(v, triangle(&ls, &mu, &x, d));
        let t: Vec<f64> = (0..d)
            .map(|j| {
                let row = (j * j - j) / 2;
                (0..j).map(|l| ls[row + l] * (x[l] - mu[l])).sum()
            })
            .collect();
        let mut want_l = vec![0.0; ls.len()];
        let mut want_m = vec![0.0; d];
        for j in 0..d {
            let row = (j * j - j) / 2;
            for l in 0..j {
                want_l[row + l] = 2.0 * t[j] * (x[l] - mu[l]);
                want_m[l] -= 2.0 * t[j] * ls[row + l];
            }
        }
        close("L", &gl, &want_l);
        close("mu", &gm, &want_m);
        fd_vec("L", |p| triangle(p, &mu, &x, d), &ls, &gl);
        fd_vec("mu", |p| triangle(&ls, p, &x, d), &mu, &gm);
    }
}

/// `Σ_{l ∈ [s, e)} w_l·x_{l + off}²` walked backwards, the offset written first:
/// `∂/∂w_l = x_{l+off}²`, `∂/∂x_{l+off} = 2·w_l·x_{l+off}`, zero elsewhere; nothing for an
/// empty range.
#[differentiate(wrt(w, x))]
fn shifted(w: &[f64], x: &[f64], s: usize, e: usize, off: usize) -> f64 {
    let mut acc = 0.0;
    for l in (s..e).rev() {
        let v = x[off + l];
        acc += w[l] * v * v;
    }
    acc
}

#[test]
fn a_reversed_range_that_starts_above_zero_and_an_offset_written_first() {
    let w = data(8, 0.2);
    let x = data(12, 0.9);
    for (s, e, off) in [(2, 7, 3), (0, 8, 4), (5, 6, 0), (3, 3, 1), (6, 2, 0)] {
        let (v, (gw, gx)) = shifted_grad(&w, &x, s, e, off);
        assert_eq!(v, shifted(&w, &x, s, e, off));
        let mut want_w = vec![0.0; 8];
        let mut want_x = vec![0.0; 12];
        for l in s..e {
            want_w[l] = x[l + off] * x[l + off];
            want_x[l + off] = 2.0 * w[l] * x[l + off];
        }
        close("w", &gw, &want_w);
        close("x", &gx, &want_x);
        fd_vec("w", |p| shifted(p, &x, s, e, off), &w, &gw);
        fd_vec("x", |p| shifted(&w, p, s, e, off), &x, &gx);
    }
}

/// Squared differences of neighbours, `Σ_l (x_{l+1} − x_l)²`: the adjoint of `x` is added to
/// at two bases in one loop (`l` and `l + 1`). `∂/∂x_k = 2(x_k − x_{k−1}) − 2(x_{k+1} − x_k)`
/// with the terms that fall outside left out.
#[differentiate]
fn roughness(x: &[f64]) -> f64 {
    let mut r = 0.0;
    for l in 0..x.len() - 1 {
        let dx = x[l + 1] - x[l];
        r += dx * dx;
    }
    r
}

#[test]
fn an_adjoint_added_to_at_two_bases_in_one_loop() {
    for n in [1, 2, 6] {
        let x = data(n, 0.5);
        let (v, gx) = roughness_grad(&x);
        assert_eq!(v, roughness(&x));
        let want: Vec<f64> = (0..n)
            .map(|k| {
                let left = if k > 0 { 2.0 * (x[k] - x[k - 1]) } else { 0.0 };
                let right = if k + 1 < n {
                    2.0 * (x[k + 1] - x[k])
                } else {
                    0.0
                };
                left - right
            })
            .collect();
        close("x", &gx, &want);
        fd_vec("x", roughness, &x, &gx);
    }
}

/// A loop over more indices than the array has, left by `break` before it reads past the end:
/// `Σ_{l < len} x_l²`, so `∂/∂x_l = 2·x_l`. Borrowing `x[0..100]` before the loop would panic.
#[differentiate]
fn until_the_end(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for l in 0..100 {
        if l >= x.len() {
            break;
        }
        s += x[l] * x[l];
    }
    s
}

/// The same with the read in one arm of an `if`: `Σ_{l < min(n, len)} 3·x_l`.
#[differentiate(wrt(x))]
fn guarded(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for l in 0..n {
        if l < x.len() {
            s += 3.0 * x[l];
        }
    }
    s
}

#[test]
fn loops_that_do_not_read_every_index_of_their_range_do_not_panic() {
    let x = data(5, 0.8);
    let (v, g) = until_the_end_grad(&x);
    assert_eq!(v, until_the_end(&x));
    let want: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    close("break", &g, &want);
    fd_vec("break", until_the_end, &x, &g);

    for n in [0, 3, 5, 40] {
        let (v, g) = guarded_grad(&x, n);
        assert_eq!(v, guarded(&x, n));
        let want: Vec<f64> = (0..5).map(|l| if l < n { 3.0 } else { 0.0 }).collect();
        close("if", &g, &want);
        fd_vec("if", |p| guarded(p, n), &x, &g);
    }
}

#[test]
#[should_panic]
fn an_index_past_the_end_still_panics() {
    // `x[off + l]` reaches index 8 of a 6-element array.
    let w = data(8, 0.2);
    let x = data(6, 0.9);
    let _ = shifted_grad(&w, &x, 0, 5, 4);
}

/// [`triangle`]'s Hessian-vector product (forward over reverse: the windows of the backward
/// loop carry tangents too). With `u_l = x_l − μ_l` and a direction `(V, w)` for `(L, μ)`:
/// `dt_j = Σ_{l<j} (V[r_j + l]·u_l − L[r_j + l]·w_l)`, so `H·v` for `L[r_j + l]` is
/// `2·dt_j·u_l − 2·t_j·w_l` and for `μ_l` it is `−Σ_{j>l} 2·(dt_j·L[r_j + l] + t_j·V[r_j + l])`.
#[test]
fn the_triangles_hessian_vector_product() {
    let d = 6usize;
    let (ls, mu, x) = (data(15, 0.4), data(d, 1.1), data(d, 2.3));
    let (vl, vm) = (data(15, 3.7), data(d, 5.2));
    let (value, (gl, gm), (hl, hm)) = triangle_hvp(&ls, &mu, &x, d, &vl, &vm);
    assert_eq!(value, triangle(&ls, &mu, &x, d));
    let (_, (want_gl, want_gm)) = triangle_grad(&ls, &mu, &x, d);
    close("grad L", &gl, &want_gl);
    close("grad mu", &gm, &want_gm);
    let u: Vec<f64> = (0..d).map(|l| x[l] - mu[l]).collect();
    let row = |j: usize| (j * j - j) / 2;
    let t: Vec<f64> = (0..d)
        .map(|j| (0..j).map(|l| ls[row(j) + l] * u[l]).sum())
        .collect();
    let dt: Vec<f64> = (0..d)
        .map(|j| {
            (0..j)
                .map(|l| vl[row(j) + l] * u[l] - ls[row(j) + l] * vm[l])
                .sum()
        })
        .collect();
    let mut want_hl = vec![0.0; 15];
    let mut want_hm = vec![0.0; d];
    for j in 0..d {
        for l in 0..j {
            want_hl[row(j) + l] = 2.0 * dt[j] * u[l] - 2.0 * t[j] * vm[l];
            want_hm[l] -= 2.0 * (dt[j] * ls[row(j) + l] + t[j] * vl[row(j) + l]);
        }
    }
    close("H·v L", &hl, &want_hl);
    close("H·v mu", &hm, &want_hm);
    // Against central differences of the gradient along the direction.
    let eps = 1e-6;
    let shifted = |s: f64| {
        let l: Vec<f64> = ls.iter().zip(&vl).map(|(a, v)| a + s * v).collect();
        let m: Vec<f64> = mu.iter().zip(&vm).map(|(a, v)| a + s * v).collect();
        triangle_grad(&l, &m, &x, d).1
    };
    let (plus, minus) = (shifted(eps), shifted(-eps));
    for (k, h) in hl.iter().enumerate() {
        let fd = (plus.0[k] - minus.0[k]) / (2.0 * eps);
        assert!(
            (h - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "L[{k}]: {h} vs {fd}"
        );
    }
    for (k, h) in hm.iter().enumerate() {
        let fd = (plus.1[k] - minus.1[k]) / (2.0 * eps);
        assert!(
            (h - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "mu[{k}]: {h} vs {fd}"
        );
    }
}

/// ADBench's packed triangle: the lower part's index `idx` is carried through the loops and
/// goes up by one per inner iteration, `q_j = u_j + Σ_{i<j} P[base + idx(i, j)]·u_i` with
/// `u = x − μ`, `f = Σ_j q_j²`. `∂f/∂P[base + idx(i, j)] = 2·q_j·u_i`,
/// `∂f/∂μ_i = −2·q_i − Σ_{j>i} 2·q_j·P[base + idx(i, j)]`. The inner loops read `P` through a
/// window that the counter's first value places.
#[differentiate(wrt(p, mu))]
fn packed(p: &[f64], mu: &[f64], x: &[f64], d: usize, base: usize) -> f64 {
    let mut q = vec![0.0; d];
    for j in 0..d {
        q[j] = x[j] - mu[j];
    }
    let mut idx = 0;
    for i in 0..d {
        for j in i + 1..d {
            q[j] += p[base + idx] * (x[i] - mu[i]);
            idx += 1;
        }
    }
    let mut f = 0.0;
    for j in 0..d {
        f += q[j] * q[j];
    }
    f
}

fn packed_want(p: &[f64], mu: &[f64], x: &[f64], d: usize, base: usize) -> (Vec<f64>, Vec<f64>) {
    let u: Vec<f64> = (0..d).map(|j| x[j] - mu[j]).collect();
    let mut q = u.clone();
    let mut at = vec![vec![0usize; d]; d];
    let mut idx = 0;
    for i in 0..d {
        for j in i + 1..d {
            at[i][j] = base + idx;
            q[j] += p[base + idx] * u[i];
            idx += 1;
        }
    }
    let mut gp = vec![0.0; p.len()];
    let mut gm: Vec<f64> = (0..d).map(|i| -2.0 * q[i]).collect();
    for i in 0..d {
        for j in i + 1..d {
            gp[at[i][j]] = 2.0 * q[j] * u[i];
            gm[i] -= 2.0 * q[j] * p[at[i][j]];
        }
    }
    (gp, gm)
}

#[test]
fn a_packed_triangle_indexed_by_a_carried_counter() {
    for (d, base) in [(0usize, 0usize), (1, 0), (2, 1), (4, 0), (6, 3)] {
        let p = data(base + d * d.saturating_sub(1) / 2 + 2, 0.4);
        let mu = data(d, 1.1);
        let x = data(d, 2.3);
        let (v, (gp, gm)) = packed_grad(&p, &mu, &x, d, base);
        assert_eq!(v, packed(&p, &mu, &x, d, base));
        let (want_p, want_m) = packed_want(&p, &mu, &x, d, base);
        close("P", &gp, &want_p);
        close("mu", &gm, &want_m);
        fd_vec("P", |q| packed(q, &mu, &x, d, base), &p, &gp);
        fd_vec("mu", |q| packed(&p, q, &x, d, base), &mu, &gm);
    }
}

#[test]
#[should_panic]
fn a_counter_past_the_end_still_panics() {
    // The triangle of d = 4 needs six entries after `base`; five are there.
    let (mu, x) = (data(4, 1.1), data(4, 2.3));
    let _ = packed_grad(&data(7, 0.4), &mu, &x, 4, 2);
}

/// Counters a window does not take: one that starts below the loop's start (its first value
/// `init` is smaller than `lo`), one that goes down, one that steps by two, and one beside a
/// loop over `u32`. `f = Σ_{l ∈ [lo, hi)} w[idx_l]·x[l]` for each, so `∂f/∂w[idx_l] = x[l]`
/// (summed where two iterations share an index) and `∂f/∂x[l] = w[idx_l]`.
#[differentiate(wrt(w, x))]
fn counted(w: &[f64], x: &[f64], lo: usize, hi: usize, init: usize, kind: usize) -> f64 {
    let mut f = 0.0;
    if kind == 0 {
        let mut idx = init;
        for l in lo..hi {
            f += w[idx] * x[l];
            idx += 1;
        }
    } else if kind == 1 {
        let mut idx = init;
        for l in lo..hi {
            f += w[idx] * x[l];
            idx -= 1;
        }
    } else if kind == 2 {
        let mut idx = init;
        for l in lo..hi {
            f += w[idx] * x[l];
            idx += 2;
        }
    } else {
        let mut idx = init;
        for l in lo as u32..hi as u32 {
            f += w[idx] * x[l as usize];
            idx += 1;
        }
    }
    f
}

#[test]
fn counters_up_down_by_two_and_over_another_integer_type() {
    let w = data(12, 0.3);
    let x = data(10, 1.7);
    for (lo, hi, init, kind) in [
        (3, 8, 0, 0),
        (3, 8, 6, 0),
        (0, 10, 1, 0),
        (4, 4, 11, 0),
        (7, 2, 11, 0),
        (2, 9, 9, 1),
        (1, 6, 2, 2),
        (3, 8, 1, 3),
        (5, 5, 0, 3),
    ] {
        let (v, (gw, gx)) = counted_grad(&w, &x, lo, hi, init, kind);
        assert_eq!(v, counted(&w, &x, lo, hi, init, kind));
        let mut want_w = vec![0.0; w.len()];
        let mut want_x = vec![0.0; x.len()];
        let mut idx = init as i64;
        let step = match kind {
            1 => -1,
            2 => 2,
            _ => 1,
        };
        for l in lo..hi {
            want_w[idx as usize] += x[l];
            want_x[l] = w[idx as usize];
            idx += step;
        }
        close("w", &gw, &want_w);
        close("x", &gx, &want_x);
        fd_vec("w", |p| counted(p, &x, lo, hi, init, kind), &w, &gw);
        fd_vec("x", |p| counted(&w, p, lo, hi, init, kind), &x, &gx);
    }
}

/// The report's mixture for one component over `n` points: with `u = x_i − μ` (point `i` at
/// `x[i·d ..]`), `t_ij = e_j·u_j + Σ_{l<j} L[r_j + l]·u_l + c·Σ_{1≤l<d} u_l` and
/// `f = Σ_i Σ_j t_ij²`. The loops over `l` read `x` and `μ` and add to `μ̄` inside the ranges
/// the loop over `j` walks, so they go through its windows. By the chain rule,
/// `∂f/∂e_j = Σ_i 2·t_ij·u_j`, `∂f/∂L[r_j + l] = Σ_i 2·t_ij·u_l` and
/// `∂f/∂μ_m = −Σ_i Σ_j 2·t_ij·(e_j·[m = j] + L[r_j + m]·[m < j] + c·[m ≥ 1])`.
#[differentiate(wrt(ls, mu, e), hessian)]
fn mixture_rows(ls: &[f64], mu: &[f64], e: &[f64], x: &[f64], d: usize, c: f64) -> f64 {
    let n = x.len() / d;
    let mut f = 0.0;
    for i in 0..n {
        for j in 0..d {
            let mut t = e[j] * (x[i * d + j] - mu[j]);
            let row = (j * j - j) / 2;
            for l in 0..j {
                t += ls[row + l] * (x[i * d + l] - mu[l]);
            }
            for l in 1..d {
                t += c * (x[i * d + l] - mu[l]);
            }
            f += t * t;
        }
    }
    f
}

#[test]
fn inner_loops_read_and_add_through_the_windows_of_the_loop_around_them() {
    for d in [1usize, 2, 3, 6] {
        let n = 4;
        let tri = d * (d - 1) / 2;
        let (ls, mu, e) = (data(tri, 0.4), data(d, 1.1), data(d, 0.7));
        let x = data(n * d, 2.3);
        let c = 0.3;
        let (v, (gl, gm, ge)) = mixture_rows_grad(&ls, &mu, &e, &x, d, c);
        assert_eq!(v, mixture_rows(&ls, &mu, &e, &x, d, c));
        let (mut want_l, mut want_m, mut want_e) = (vec![0.0; tri], vec![0.0; d], vec![0.0; d]);
        for i in 0..n {
            let u: Vec<f64> = (0..d).map(|l| x[i * d + l] - mu[l]).collect();
            let s: f64 = u[1..].iter().sum();
            for j in 0..d {
                let row = (j * j - j) / 2;
                let t = e[j] * u[j] + (0..j).map(|l| ls[row + l] * u[l]).sum::<f64>() + c * s;
                want_e[j] += 2.0 * t * u[j];
                want_m[j] -= 2.0 * t * e[j];
                for l in 0..j {
                    want_l[row + l] += 2.0 * t * u[l];
                    want_m[l] -= 2.0 * t * ls[row + l];
                }
                for m in 1..d {
                    want_m[m] -= 2.0 * t * c;
                }
            }
        }
        close("L", &gl, &want_l);
        close("mu", &gm, &want_m);
        close("e", &ge, &want_e);
        fd_vec("L", |p| mixture_rows(p, &mu, &e, &x, d, c), &ls, &gl);
        fd_vec("mu", |p| mixture_rows(&ls, p, &e, &x, d, c), &mu, &gm);
        fd_vec("e", |p| mixture_rows(&ls, &mu, p, &x, d, c), &e, &ge);
        // The Hessian-vector product against central differences of the gradient.
        let (vl, vm, ve) = (data(tri, 3.1), data(d, 5.2), data(d, 4.4));
        let (_, _, (hl, hm, he)) = mixture_rows_hvp(&ls, &mu, &e, &x, d, c, &vl, &vm, &ve);
        let eps = 1e-6;
        let at = |s: f64| {
            let step = |a: &[f64], v: &[f64]| -> Vec<f64> {
                a.iter().zip(v).map(|(a, v)| a + s * v).collect()
            };
            mixture_rows_grad(&step(&ls, &vl), &step(&mu, &vm), &step(&e, &ve), &x, d, c).1
        };
        let (plus, minus) = (at(eps), at(-eps));
        for (name, h, p, m) in [
            ("L", &hl, &plus.0, &minus.0),
            ("mu", &hm, &plus.1, &minus.1),
            ("e", &he, &plus.2, &minus.2),
        ] {
            for k in 0..h.len() {
                let fd = (p[k] - m[k]) / (2.0 * eps);
                assert!(
                    (h[k] - fd).abs() <= 1e-5 * (1.0 + fd.abs()),
                    "H·v {name}[{k}]: {} vs {fd}",
                    h[k]
                );
            }
        }
    }
}
