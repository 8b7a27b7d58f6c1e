//! Dense solvers written in place as ported code writes them, with the pivot's row found by a
//! plain helper (`let p = pivot_row(&m, k);`, no `#[differentiate]`) and then swapped into
//! place: `m.swap(k, p)`, `let row = m.remove(p); m.insert(k, row);`, ndarray's `m.swap((k,
//! j), (p, j))` and `m.row(p)`. The helper's result, used only as a position given to a
//! container's method, is an integer, so the call runs as written (it was taken for a float
//! function, and rustc could not find `pivot_row_vjp` in the generated code). And a value
//! carried along a row by `carry = mem::replace(&mut r[i], carry)`, whose new value reads the
//! variable the statement assigns (it was read after the assignment: a wrong value and
//! gradient, silently).
//!
//! Each gradient is checked against its closed form, with `x = A⁻¹b` and `λ = A⁻ᵀc` for the
//! loss `cᵀx`: `∂/∂b = λ`, `∂/∂A = −λxᵀ`, and `∂ log|det A| / ∂A = A⁻ᵀ`, the inverse computed
//! here by an independent Gauss–Jordan elimination; and against central finite differences
//! through `autodiff::check`.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, jvpcheck};
use autodiff::differentiate;
use ndarray::{Array1, Array2};

mod common;
use common::*;

/// The row at or below `k` with the largest entry in column `k` (data: no derivative).
fn pivot_row(m: &[Vec<f64>], k: usize) -> usize {
    let mut p = k;
    for i in k + 1..m.len() {
        if m[i][k].abs() > m[p][k].abs() {
            p = i;
        }
    }
    p
}

/// The same for an ndarray matrix.
fn pivot_row_nd(m: &Array2<f64>, k: usize) -> usize {
    let mut p = k;
    for i in k + 1..m.nrows() {
        if m[[i, k]].abs() > m[[p, k]].abs() {
            p = i;
        }
    }
    p
}

/// `x[0] + 2·x[n−1]` of `x = A⁻¹b`, by elimination with the rows swapped (`swap`).
#[differentiate]
fn solve_swapped(a: &[Vec<f64>], b: &[f64]) -> f64 {
    let n = b.len();
    let mut m = a.to_vec();
    let mut r = b.to_vec();
    for k in 0..n {
        let p = pivot_row(&m, k);
        m.swap(k, p);
        r.swap(k, p);
        for i in k + 1..n {
            let f = m[i][k] / m[k][k];
            for j in k..n {
                m[i][j] -= f * m[k][j];
            }
            r[i] -= f * r[k];
        }
    }
    for i in (0..n).rev() {
        for j in i + 1..n {
            r[i] -= m[i][j] * r[j];
        }
        r[i] /= m[i][i];
    }
    r[0] + 2.0 * r[n - 1]
}

/// The same with the pivot's row moved up (`remove` then `insert`) instead of swapped.
#[differentiate]
fn solve_moved(a: &[Vec<f64>], b: &[f64]) -> f64 {
    let n = b.len();
    let mut m = a.to_vec();
    let mut r = b.to_vec();
    for k in 0..n {
        let p = pivot_row(&m, k);
        let row = m.remove(p);
        m.insert(k, row);
        let v = r.remove(p);
        r.insert(k, v);
        for i in k + 1..n {
            let f = m[i][k] / m[k][k];
            for j in k..n {
                m[i][j] -= f * m[k][j];
            }
            r[i] -= f * r[k];
        }
    }
    for i in (0..n).rev() {
        for j in i + 1..n {
            r[i] -= m[i][j] * r[j];
        }
        r[i] /= m[i][i];
    }
    r[0] + 2.0 * r[n - 1]
}

/// The same on ndarray arrays, swapping element by element (`m.swap((k, j), (p, j))`).
#[differentiate]
fn solve_nd(a: &Array2<f64>, b: &Array1<f64>) -> f64 {
    let n = b.len();
    let mut m = a.clone();
    let mut r = b.clone();
    for k in 0..n {
        let p = pivot_row_nd(&m, k);
        for j in 0..n {
            m.swap((k, j), (p, j));
        }
        r.swap(k, p);
        for i in k + 1..n {
            let f = m[[i, k]] / m[[k, k]];
            for j in k..n {
                m[[i, j]] -= f * m[[k, j]];
            }
            r[i] -= f * r[k];
        }
    }
    for i in (0..n).rev() {
        for j in i + 1..n {
            r[i] -= m[[i, j]] * r[j];
        }
        r[i] /= m[[i, i]];
    }
    r[0] + 2.0 * r[n - 1]
}

/// `log|det A|` by elimination, the rows exchanged through copies of `m.row(k)`, `m.row(p)`.
#[differentiate]
fn log_det_nd(a: &Array2<f64>) -> f64 {
    let n = a.nrows();
    let mut m = a.clone();
    let mut ld = 0.0;
    for k in 0..n {
        let p = pivot_row_nd(&m, k);
        let rk = m.row(k).to_owned();
        let rp = m.row(p).to_owned();
        m.row_mut(k).assign(&rp);
        m.row_mut(p).assign(&rk);
        ld += m[[k, k]].abs().ln();
        for i in k + 1..n {
            let f = m[[i, k]] / m[[k, k]];
            for j in k..n {
                m[[i, j]] -= f * m[[k, j]];
            }
        }
    }
    ld
}

/// A 4×4 matrix whose first column needs pivoting (`a₀₀ = 0.1`), and a right-hand side.
fn system() -> (Vec<Vec<f64>>, Vec<f64>) {
    let n = 4;
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| ((i * n + j) as f64 * 0.917 + 0.3).sin())
                .collect()
        })
        .collect();
    for i in 0..n {
        a[i][i] += 3.0;
    }
    a[0][0] = 0.1;
    let b = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
    (a, b)
}

/// `A⁻¹` by Gauss–Jordan elimination with partial pivoting (not differentiated).
fn inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[i][k].abs().partial_cmp(&m[j][k].abs()).unwrap())
            .unwrap();
        m.swap(k, p);
        let d = m[k][k];
        for v in m[k].iter_mut() {
            *v /= d;
        }
        for i in 0..n {
            if i != k {
                let f = m[i][k];
                for j in 0..2 * n {
                    m[i][j] -= f * m[k][j];
                }
            }
        }
    }
    m.into_iter().map(|r| r[n..].to_vec()).collect()
}

/// `x = A⁻¹b`, `λ = A⁻ᵀc` with `c = e₀ + 2e₃`, and the loss `cᵀx`.
fn closed_form(a: &[Vec<f64>], b: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    let n = b.len();
    let inv = inverse(a);
    let x: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| inv[i][j] * b[j]).sum())
        .collect();
    let c: Vec<f64> = (0..n)
        .map(|i| match i {
            0 => 1.0,
            3 => 2.0,
            _ => 0.0,
        })
        .collect();
    let lam: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| inv[i][j] * c[i]).sum())
        .collect();
    let v = x[0] + 2.0 * x[n - 1];
    (x, lam, v)
}

#[track_caller]
fn check_solve(
    what: &str,
    a: &[Vec<f64>],
    b: &[f64],
    (v, ga, gb): (f64, Vec<Vec<f64>>, Vec<f64>),
    f: impl Fn(&[Vec<f64>], &[f64]) -> f64,
) {
    let n = b.len();
    let (x, lam, want) = closed_form(a, b);
    close(&format!("{what}: value"), v, want, 1e-12);
    for i in 0..n {
        close(&format!("{what}: ∂b[{i}]"), gb[i], lam[i], 1e-12);
        for j in 0..n {
            close(
                &format!("{what}: ∂A[{i}][{j}]"),
                ga[i][j],
                -lam[i] * x[j],
                1e-12,
            );
        }
    }
    gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<f64>)| f(&p.0, &p.1),
        &(a.to_vec(), b.to_vec()),
        &(ga, gb),
    )
    .assert_ok();
}

#[test]
fn a_pivot_row_from_a_plain_helper_swapped_into_place() {
    let (a, b) = system();
    let (v, (ga, gb)) = solve_swapped_grad(&a, &b);
    assert_eq!(v, solve_swapped(&a, &b));
    check_solve("swap", &a, &b, (v, ga, gb), solve_swapped);
    // Forward mode along a direction of both.
    let da: Vec<Vec<f64>> = (0..4)
        .map(|i| (0..4).map(|j| ((i * 4 + j) as f64 * 0.61).cos()).collect())
        .collect();
    let db = vec![0.3, -0.2, 0.5, 0.1];
    let (_, t) = solve_swapped_jvp(&a, &b, &da, &db);
    jvpcheck(
        |p: &(Vec<Vec<f64>>, Vec<f64>)| solve_swapped(&p.0, &p.1),
        &(a.clone(), b.clone()),
        &(da, db),
        &t,
    )
    .assert_ok();
}

#[test]
fn a_pivot_row_from_a_plain_helper_moved_up_by_remove_and_insert() {
    let (a, b) = system();
    let (v, (ga, gb)) = solve_moved_grad(&a, &b);
    assert_eq!(v, solve_moved(&a, &b));
    check_solve("remove/insert", &a, &b, (v, ga, gb), solve_moved);
}

#[test]
fn a_pivot_row_from_a_plain_helper_swapped_in_an_ndarray_matrix() {
    let (a, b) = system();
    let n = b.len();
    let an = Array2::from_shape_vec((n, n), a.concat()).unwrap();
    let bn = Array1::from(b.clone());
    let (v, (ga, gb)) = solve_nd_grad(&an, &bn);
    assert_eq!(v, solve_nd(&an, &bn));
    let ga_rows: Vec<Vec<f64>> = ga.rows().into_iter().map(|r| r.to_vec()).collect();
    check_solve("ndarray swap", &a, &b, (v, ga_rows, gb.to_vec()), |a, b| {
        solve_nd(
            &Array2::from_shape_vec((n, n), a.concat()).unwrap(),
            &Array1::from(b.to_vec()),
        )
    });

    // ∂ log|det A| = A⁻ᵀ
    let (ld, g) = log_det_nd_grad(&an);
    assert_eq!(ld, log_det_nd(&an));
    let inv = inverse(&a);
    for i in 0..n {
        for j in 0..n {
            close(&format!("∂A[{i}][{j}]"), g[[i, j]], inv[j][i], 1e-12);
        }
    }
    gradcheck(|m: &Array2<f64>| log_det_nd(m), &an, &g).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// `mem::replace` whose new value reads the variable the statement assigns.
// ---------------------------------------------------------------------------------------------

/// A right-hand side shifted down one place in place, as a cyclic permutation is applied: the
/// carried value goes in and the element it replaces comes out, `carry = mem::replace(&mut
/// r[i], carry)`. Afterwards `r = (b₃, b₀, b₁, b₂)·w` and `carry = w·b₃`, so with `cᵀr +
/// 5·carry` the gradient is `∂/∂bⱼ = w·c_{j+1}` for `j < 3`, `∂/∂b₃ = w·(c₀ + 5)`, `∂/∂c = r`
/// and `∂/∂w = Σ cᵢ·rᵢ / w + 5·b₃`.
/// (The new value was evaluated after the assignment, `carry = r[i]; r[i] = carry;`, and
/// wrote back what it took out: the value and gradient of no shift at all.)
#[differentiate]
fn shifted_rhs(b: &[f64], c: &[f64], w: f64) -> f64 {
    let n = b.len();
    let mut r: Vec<f64> = b.iter().map(|v| v * w).collect();
    let mut carry = r[n - 1];
    for i in 0..n {
        carry = std::mem::replace(&mut r[i], carry);
    }
    let mut s = 0.0;
    for i in 0..n {
        s += c[i] * r[i];
    }
    s + 5.0 * carry
}

/// The same with a scalar: `a = mem::replace(&mut b, 0.5·a + 1)` five times maps `(a, b)` to
/// `(b, 0.5a + 1)` each time, ending at `a = 0.25y + 1.5`, `b = 0.125x + 1.75`.
#[differentiate]
fn replaced_scalar(x: f64, y: f64) -> f64 {
    let mut a = x;
    let mut b = y;
    for _ in 0..5 {
        a = std::mem::replace(&mut b, 0.5 * a + 1.0);
    }
    a + 0.5 * b
}

/// A `let` that shadows the name its new value reads: `let t = mem::replace(&mut v[0], t *
/// 2.0)` leaves `v[0] = 2·1.5·x₂` and binds `t = x₀`, so `f = 3x₂ + 10x₀`.
#[differentiate]
fn replaced_shadowed(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let t = 1.5 * x[2];
    let t = std::mem::replace(&mut v[0], t * 2.0);
    v[0] + 10.0 * t
}

/// A cycle of a permutation followed through `mem::replace` whose place reads the variable
/// the statement assigns, `j = mem::replace(&mut next[j], 9)`, and the value carried along it:
/// with `next = [2, 0, 3, 1]` from `j = 0`, `j` goes 2, 3, 1, each element is replaced by
/// the carried value plus one, so `v = [x₀, x₃ + 1, 1, x₂ + 1]`, `carry = x₁`, `next = [9,
/// 0, 9, 9]`: `f = Σᵢ (i + 1)vᵢ + 10·carry + Σ next = x₀ + 10x₁ + 4x₂ + 2x₃ + 36`. The place
/// was written after `j` had its new value (rustc's index-out-of-bounds panic here; with
/// another permutation a wrong element written, silently).
#[differentiate]
fn permutation_cycle(x: &[f64]) -> f64 {
    let mut next: Vec<usize> = vec![2, 0, 3, 1];
    let mut v = x.to_vec();
    let mut j = 0usize;
    let mut carry = 0.0;
    for _ in 0..3 {
        j = std::mem::replace(&mut next[j], 9);
        carry = std::mem::replace(&mut v[j], carry + 1.0);
    }
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, t)| (i as f64 + 1.0) * t)
        .sum();
    weighted + 10.0 * carry + next.iter().sum::<usize>() as f64
}

#[test]
fn a_replacement_whose_place_reads_the_variable_it_assigns() {
    let x = vec![0.3, -1.2, 2.1, 0.7];
    let (v, g) = permutation_cycle_grad(&x);
    assert_eq!(v, permutation_cycle(&x));
    close(
        "value",
        v,
        x[0] + 10.0 * x[1] + 4.0 * x[2] + 2.0 * x[3] + 36.0,
        1e-12,
    );
    close_all("∇", &g, &[1.0, 10.0, 4.0, 2.0]);
    fd_vec("∇", permutation_cycle, &x, &g);
}

#[test]
fn a_replacement_reading_the_variable_it_assigns() {
    let b = vec![0.7, -1.2, 0.4, 2.0];
    let c = vec![1.0, 0.5, -0.3, 0.8];
    let w = 1.3;
    let (v, (gb, gc, gw)) = shifted_rhs_grad(&b, &c, w);
    assert_eq!(v, shifted_rhs(&b, &c, w));
    let r = [b[3] * w, b[0] * w, b[1] * w, b[2] * w];
    let want: f64 = c.iter().zip(&r).map(|(c, r)| c * r).sum::<f64>() + 5.0 * w * b[3];
    close("value", v, want, 1e-12);
    close_all("∂b", &gb, &[c[1] * w, c[2] * w, c[3] * w, (c[0] + 5.0) * w]);
    close_all("∂c", &gc, &r);
    close(
        "∂w",
        gw,
        c.iter().zip(&r).map(|(c, r)| c * r).sum::<f64>() / w + 5.0 * b[3],
        1e-12,
    );
    gradcheck(
        |p: &(Vec<f64>, Vec<f64>, f64)| shifted_rhs(&p.0, &p.1, p.2),
        &(b.clone(), c.clone(), w),
        &(gb, gc, gw),
    )
    .assert_ok();
    let (_, t) = shifted_rhs_jvp(&b, &c, w, &c, &b, 0.5);
    jvpcheck(
        |p: &(Vec<f64>, Vec<f64>, f64)| shifted_rhs(&p.0, &p.1, p.2),
        &(b.clone(), c.clone(), w),
        &(c.clone(), b.clone(), 0.5),
        &t,
    )
    .assert_ok();

    let (v, g) = replaced_scalar_grad(1.0, 2.0);
    assert_eq!(v, replaced_scalar(1.0, 2.0));
    close("value", v, 0.25 * 2.0 + 1.5 + 0.5 * (0.125 + 1.75), 1e-12);
    close2("∇", g, (0.0625, 0.25));
    fd2("∇", replaced_scalar, (1.0, 2.0), g);

    let x = vec![0.5, -3.0, 1.0];
    let (v, g) = replaced_shadowed_grad(&x);
    assert_eq!(v, replaced_shadowed(&x));
    close("value", v, 3.0 * x[2] + 10.0 * x[0], 1e-12);
    close_all("∇", &g, &[10.0, 0.0, 3.0]);
    fd_vec("∇", replaced_shadowed, &x, &g);
}
