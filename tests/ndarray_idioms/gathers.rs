//! ndarray's `select(axis, &indices)` of a differentiated array: an embedding lookup, a
//! minibatch of a parameter's rows, columns picked by index. Its pullback adds each subview of
//! the cotangent back at its index (a repeated index gets each), its tangent is the tangent
//! selected.

use autodiff::check::{gradcheck, hvpcheck, random_direction};
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis};

/// Σ e² + Σ_j tanh(Σ_k e_kj) over the rows e = T[ids]: ∂/∂T_ij = Σ_{k: ids_k = i}
/// (2 T_ij + 1 − tanh²(s_j)), s_j = Σ_k T_{ids_k j}; rows not looked up get zero.
#[differentiate(hessian, wrt(table))]
fn embedding_loss(table: &Array2<f64>, ids: &[usize]) -> f64 {
    let e = table.select(Axis(0), ids);
    e.mapv(|v| v * v).sum() + e.sum_axis(Axis(0)).mapv(f64::tanh).sum()
}

/// A minibatch of rows of a differentiated design matrix and its targets, with the
/// indices in a local `Vec`: ½ Σ_k (x_{b_k}·w − y_{b_k})² over b = the even rows.
#[differentiate]
fn minibatch(x: &Array2<f64>, w: &Array1<f64>, y: &Array1<f64>) -> f64 {
    let batch: Vec<usize> = (0..x.nrows()).step_by(2).collect();
    let xb = x.select(Axis(0), &batch);
    let yb = y.select(Axis(0), &batch);
    let r = xb.dot(w) - &yb;
    0.5 * r.dot(&r)
}

/// Columns picked by a fixed-size array of indices, one of them twice: Σ_m e^{t_m} with
/// t_m = A[:, c_m]·v and c = [2, 0, 2], so column 2's gradient has both picks' shares.
#[differentiate]
fn picked_columns(a: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let picked = a.select(Axis(1), &[2, 0, 2]);
    picked.t().dot(v).mapv(|t| t.exp()).sum()
}

fn table() -> Array2<f64> {
    Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin())
}

#[test]
fn an_embedding_lookup_adds_the_cotangent_back_at_each_id() {
    let t = table();
    let ids = [3usize, 1, 3, 0];
    let (v, g) = embedding_loss_grad(&t, &ids);
    assert_eq!(v, embedding_loss(&t, &ids));
    // The analytic gradient, row by row.
    let s: Vec<f64> = (0..3)
        .map(|j| ids.iter().map(|&i| t[[i, j]]).sum())
        .collect();
    for i in 0..5 {
        let hits = ids.iter().filter(|&&k| k == i).count() as f64;
        for j in 0..3 {
            let want = hits * (2.0 * t[[i, j]] + 1.0 - s[j].tanh().powi(2));
            assert!(
                (g[[i, j]] - want).abs() < 1e-12,
                "({i}, {j}): {} against {want}",
                g[[i, j]]
            );
        }
    }
    // Rows 2 and 4 are never looked up.
    assert!(g.row(2).iter().chain(g.row(4).iter()).all(|&d| d == 0.0));
    gradcheck(|t: &Array2<f64>| embedding_loss(t, &ids), &t, &g).assert_ok();
    let d = random_direction(&t, 7);
    let (_, g2, hd) = embedding_loss_hvp(&t, &ids, &d);
    assert_eq!(g2, g);
    hvpcheck(
        |t: &Array2<f64>| embedding_loss_grad(t, &ids).1,
        &t,
        &d,
        &hd,
    )
    .assert_ok();
}

#[test]
fn a_minibatch_of_rows_and_targets_by_a_local_index_vector() {
    let x = table();
    let w = Array1::from(vec![0.4, -0.7, 1.1]);
    let y = Array1::from_shape_fn(5, |i| i as f64 * 0.3 - 0.5);
    let (v, (gx, gw, gy)) = minibatch_grad(&x, &w, &y);
    assert_eq!(v, minibatch(&x, &w, &y));
    // r_k = x_{b_k}·w − y_{b_k} for b = 0, 2, 4: ∂/∂x_{b_k} = r_k w, ∂/∂w = Σ r_k x_{b_k},
    // ∂/∂y_{b_k} = −r_k; the odd rows get zero.
    let mut want_w = Array1::<f64>::zeros(3);
    for i in [0usize, 2, 4] {
        let r = x.row(i).dot(&w) - y[i];
        want_w = want_w + &x.row(i) * r;
        assert!((gy[i] + r).abs() < 1e-12);
        for j in 0..3 {
            assert!((gx[[i, j]] - r * w[j]).abs() < 1e-12);
        }
    }
    for i in [1usize, 3] {
        assert_eq!(gy[i], 0.0);
        assert!(gx.row(i).iter().all(|&d| d == 0.0));
    }
    for j in 0..3 {
        assert!((gw[j] - want_w[j]).abs() < 1e-12);
    }
    let (_, dv) = minibatch_jvp(
        &x,
        &w,
        &y,
        &Array2::ones((5, 3)),
        &Array1::zeros(3),
        &Array1::zeros(5),
    );
    // Along dX = ones: Σ_k r_k (Σ_j w_j).
    let want: f64 = [0usize, 2, 4]
        .iter()
        .map(|&i| (x.row(i).dot(&w) - y[i]) * w.sum())
        .sum();
    assert!((dv - want).abs() < 1e-12, "{dv} against {want}");
}

#[test]
fn columns_picked_twice_get_both_shares() {
    let a = table();
    let v = Array1::from(vec![0.3, -0.2, 0.5, 0.1, -0.4]);
    let (_, (ga, gv)) = picked_columns_grad(&a, &v);
    // t_m = Σ_i A_{i c_m} v_i, f = Σ_m e^{t_m}: ∂/∂A_ij = v_i Σ_{m: c_m = j} e^{t_m}.
    let c = [2usize, 0, 2];
    let t: Vec<f64> = c
        .iter()
        .map(|&j| (0..5).map(|i| a[[i, j]] * v[i]).sum())
        .collect();
    for i in 0..5 {
        for j in 0..3 {
            let want: f64 = (0..3)
                .filter(|&m| c[m] == j)
                .map(|m| v[i] * t[m].exp())
                .sum();
            assert!((ga[[i, j]] - want).abs() < 1e-12, "({i}, {j})");
        }
    }
    gradcheck(|a: &Array2<f64>| picked_columns(a, &v), &a, &ga).assert_ok();
    gradcheck(|v: &Array1<f64>| picked_columns(&a, v), &v, &gv).assert_ok();
}

/// The free rows and columns of a stiffness matrix assembled in place, gathered by `select`
/// twice: K is diagonal here, K_ee += k_e and K_{e+1,e+1} += k_e, and the sum of its free
/// block (rows and columns 1..n) is Σ_{e ≥ 1} k_e + Σ_e k_e, so ∂/∂k_0 = 1 and ∂/∂k_e = 2 for
/// e ≥ 1.
#[differentiate]
fn reduced_sum(k_el: &[f64]) -> f64 {
    let n = k_el.len() + 1;
    let mut k = Array2::<f64>::zeros((n, n));
    for e in 0..n - 1 {
        k[[e, e]] += k_el[e];
        k[[e + 1, e + 1]] += k_el[e];
    }
    let free: Vec<usize> = (1..n).collect();
    k.select(Axis(0), &free).select(Axis(1), &free).sum()
}

#[test]
fn a_matrix_assembled_in_place_then_gathered() {
    let (v, g) = reduced_sum_grad(&[1.0, 2.0, 3.0]);
    assert_eq!(v, reduced_sum(&[1.0, 2.0, 3.0]));
    assert_eq!(g, vec![1.0, 2.0, 2.0]);
}

/// An embedding layer whose table is a field: the mean of the looked-up rows, scored by a
/// vector field, f = σ(u·mean_k T[ids_k]); ∂/∂T_i = Σ_{k: ids_k = i} f(1 − f) u / n,
/// ∂/∂u = f(1 − f) mean_k T[ids_k].
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Bag {
    table: Array2<f64>,
    u: Array1<f64>,
}

#[differentiate]
impl Bag {
    fn score(&self, ids: &[usize]) -> f64 {
        let rows = self.table.select(Axis(0), ids);
        let mean = rows.mean_axis(Axis(0)).unwrap();
        let z = self.u.dot(&mean);
        1.0 / (1.0 + (-z).exp())
    }
}

#[test]
fn an_embedding_table_in_a_field() {
    let bag = Bag {
        table: table(),
        u: Array1::from(vec![0.5, -1.0, 0.25]),
    };
    let ids = [4usize, 4, 1];
    let (f, g) = bag.score_grad(&ids);
    let mean = bag.table.select(Axis(0), &ids).mean_axis(Axis(0)).unwrap();
    let s = f * (1.0 - f);
    for j in 0..3 {
        assert!((g.u[j] - s * mean[j]).abs() < 1e-12);
        assert!((g.table[[4, j]] - 2.0 * s * bag.u[j] / 3.0).abs() < 1e-12);
        assert!((g.table[[1, j]] - s * bag.u[j] / 3.0).abs() < 1e-12);
        assert_eq!(g.table[[0, j]], 0.0);
    }
}
