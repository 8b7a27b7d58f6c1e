//! Containers of containers as differentiated values: parameters `&[[f64; N]]`,
//! `&Vec<[f64; N]>`, `[[f64; N]; M]`, `&[Vec<f64>]`, `&Vec<Vec<f64>>` (f32 and generic floats
//! too), `&mut` ones written element by element, and local grids (`vec![[0.0; 3]; n]`,
//! `vec![vec![0.0; m]; n]`, rows pushed whole). The gradient has the parameter's nested type,
//! shaped like it (ragged rows and empty rows included), with zeros where nothing flowed. Each
//! function is checked against its analytic gradient (stated beside it) and against central
//! differences.

// Written as users write it: index loops, and `&Vec<..>` parameters for the `Vec` forms.
#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

mod common;

use autodiff::check::{gradcheck, hessian_symmetry, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};
use common::{TOL, close};
use num_traits::Float;

/// Every float of a nested gradient, row by row.
fn flat<P: Differentiable<Scalar = f64>>(x: &P) -> Vec<f64> {
    let mut out = Vec::new();
    x.visit_leaves(&mut |leaf| out.extend_from_slice(leaf));
    out
}

/// A gradient equals the analytic one, entry by entry to [`TOL`], and has its shape.
#[track_caller]
fn same<P: Differentiable<Scalar = f64> + core::fmt::Debug>(what: &str, got: &P, want: &P) {
    let (g, w) = (flat(got), flat(want));
    assert_eq!(g.len(), w.len(), "{what}: {got:?} against {want:?}");
    for (k, (a, e)) in g.iter().zip(&w).enumerate() {
        close(&format!("{what}[{k}]"), *a, *e, TOL);
    }
}

/// `gradient` against central differences of `f` at `x`.
#[track_caller]
fn fd<P: Differentiable<Scalar = f64>>(what: &str, f: impl Fn(&P) -> f64, x: &P, gradient: &P) {
    let r = gradcheck(|p: &P| f(p), x, gradient);
    assert!(r.passed(), "{what}: {r}");
}

/// Rows of the given lengths with deterministic entries in [−1, 1].
fn ragged(lens: &[usize], seed: f64) -> Vec<Vec<f64>> {
    lens.iter()
        .enumerate()
        .map(|(i, &n)| common::data(n, seed + 10.0 * i as f64))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Parameters read by index, by row and by iteration
// ---------------------------------------------------------------------------------------------

/// The Coulomb energy of particles at `p`: E = Σ_{i<j} 1/|pᵢ − pⱼ|.
#[differentiate(hessian)]
fn coulomb(p: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        for j in (i + 1)..p.len() {
            let dx = p[i][0] - p[j][0];
            let dy = p[i][1] - p[j][1];
            let dz = p[i][2] - p[j][2];
            s += 1.0 / (dx * dx + dy * dy + dz * dz).sqrt();
        }
    }
    s
}

/// ∂E/∂pᵢ = −Σ_{j≠i} (pᵢ − pⱼ)/|pᵢ − pⱼ|³.
fn coulomb_analytic(p: &[[f64; 3]]) -> Vec<[f64; 3]> {
    (0..p.len())
        .map(|i| {
            let mut g = [0.0; 3];
            for j in (0..p.len()).filter(|&j| j != i) {
                let d: Vec<f64> = (0..3).map(|k| p[i][k] - p[j][k]).collect();
                let r3 = d.iter().map(|v| v * v).sum::<f64>().powf(1.5);
                for k in 0..3 {
                    g[k] -= d[k] / r3;
                }
            }
            g
        })
        .collect()
}

fn particles() -> Vec<[f64; 3]> {
    vec![
        [0.0, 0.0, 0.0],
        [1.0, 0.5, 0.2],
        [0.3, 2.0, 1.0],
        [-1.2, 0.4, 0.9],
    ]
}

#[test]
fn coulomb_energy() {
    let p = particles();
    let (e, g) = coulomb_grad(&p);
    assert_eq!(e, coulomb(&p));
    same("∇E", &g, &coulomb_analytic(&p));
    fd("∇E", |p: &Vec<[f64; 3]>| coulomb(p), &p, &g);
    // Translation invariance: the forces sum to zero.
    for k in 0..3 {
        close("Σᵢ ∂E/∂pᵢ", g.iter().map(|r| r[k]).sum(), 0.0, TOL);
    }
    // One particle or none: no pair, E = 0 and a gradient of zeros of the input's shape.
    assert_eq!(coulomb_grad(&[[0.5, 0.1, 0.2]]), (0.0, vec![[0.0; 3]]));
    assert_eq!(coulomb_grad(&[]), (0.0, vec![]));
}

#[test]
fn coulomb_forward_and_second_order() {
    let p = particles();
    let (u, v): (Vec<[f64; 3]>, Vec<[f64; 3]>) = (
        (0..4).map(|i| [0.3 * i as f64, -0.2, 0.1]).collect(),
        (0..4).map(|i| [0.1, 0.4 - 0.1 * i as f64, -0.3]).collect(),
    );
    // The tangent is ⟨∇E, v⟩.
    let (e, t) = coulomb_jvp(&p, &v);
    assert_eq!(e, coulomb(&p));
    let g = coulomb_analytic(&p);
    let dot: f64 = g
        .iter()
        .zip(&v)
        .map(|(a, b)| (0..3).map(|k| a[k] * b[k]).sum::<f64>())
        .sum();
    close("⟨∇E, v⟩", t, dot, TOL);
    let r = jvpcheck(|p: &Vec<[f64; 3]>| coulomb(p), &p, &v, &t);
    assert!(r.passed(), "jvp: {r}");
    // H·v against differences of the gradient along v, and ⟨u, H·v⟩ = ⟨v, H·u⟩.
    let (_, gv, hv) = coulomb_hvp(&p, &v);
    same("hvp gradient", &gv, &g);
    let r = hvpcheck(|p: &Vec<[f64; 3]>| coulomb_grad(p).1, &p, &v, &hv);
    assert!(r.passed(), "hvp: {r}");
    let (_, _, hu) = coulomb_hvp(&p, &u);
    let r = hessian_symmetry(&u, &hu, &v, &hv);
    assert!(r.passed(), "symmetry: {r}");
}

/// A layer with its matrix as rows: f = Σᵢ tanh(rᵢ), rᵢ = Σⱼ w[i][j]·xⱼ (j < x.len()).
/// ∂f/∂w[i][j] = (1 − tanh² rᵢ)·xⱼ for j < x.len() and 0 past it; ∂f/∂xⱼ = Σᵢ (1 − tanh² rᵢ)·w[i][j].
#[differentiate]
fn layer(w: &[Vec<f64>], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        let mut r = 0.0;
        for j in 0..x.len() {
            r += w[i][j] * x[j];
        }
        s += r.tanh();
    }
    s
}

#[test]
fn layer_of_rows() {
    // Ragged rows, each at least as long as x: the entries past x.len() get zeros.
    let w = ragged(&[3, 4, 5, 3], 0.5);
    let x = common::data(3, 7.0);
    let (s, (gw, gx)) = layer_grad(&w, &x);
    assert_eq!(s, layer(&w, &x));
    let d: Vec<f64> = w
        .iter()
        .map(|row| 1.0 - (0..3).map(|j| row[j] * x[j]).sum::<f64>().tanh().powi(2))
        .collect();
    let want_w: Vec<Vec<f64>> = w
        .iter()
        .zip(&d)
        .map(|(row, di)| {
            (0..row.len())
                .map(|j| if j < 3 { di * x[j] } else { 0.0 })
                .collect()
        })
        .collect();
    let want_x: Vec<f64> = (0..3)
        .map(|j| w.iter().zip(&d).map(|(row, di)| di * row[j]).sum())
        .collect();
    same("∂f/∂w", &gw, &want_w);
    same("∂f/∂x", &gx, &want_x);
    fd("∂f/∂w", |w: &Vec<Vec<f64>>| layer(w, &x), &w, &gw);
    fd("∂f/∂x", |x: &Vec<f64>| layer(&w, x), &x, &gx);
    // No rows: a gradient with no rows.
    assert_eq!(layer_grad(&[], &x), (0.0, (vec![], vec![0.0; 3])));
}

/// f = Σᵢ Σⱼ w[i][j]³ through iterator chains over the rows: ∂f/∂w[i][j] = 3·w[i][j]², and
/// the Hessian is diagonal, 6·w[i][j].
#[differentiate(hessian)]
fn cubes(w: &Vec<Vec<f64>>) -> f64 {
    w.iter()
        .map(|r| r.iter().map(|v| v * v * v).sum::<f64>())
        .sum()
}

#[test]
fn rows_through_chains() {
    let w = ragged(&[3, 1, 0, 4], 1.5);
    let (s, g) = cubes_grad(&w);
    assert_eq!(s, cubes(&w));
    let want: Vec<Vec<f64>> = w
        .iter()
        .map(|r| r.iter().map(|v| 3.0 * v * v).collect())
        .collect();
    same("∂f/∂w", &g, &want);
    fd("∂f/∂w", cubes, &w, &g);
    let v = ragged(&[3, 1, 0, 4], 4.0);
    let (_, _, hv) = cubes_hvp(&w, &v);
    let want: Vec<Vec<f64>> = w
        .iter()
        .zip(&v)
        .map(|(r, d)| r.iter().zip(d).map(|(a, b)| 6.0 * a * b).collect())
        .collect();
    same("H·v", &hv, &want);
    let r = hvpcheck(|w: &Vec<Vec<f64>>| cubes_grad(w).1, &w, &v, &hv);
    assert!(r.passed(), "hvp: {r}");
    // Empty outer and empty inner containers.
    assert_eq!(cubes_grad(&vec![]), (0.0, vec![]));
    assert_eq!(
        cubes_grad(&vec![vec![], vec![]]),
        (0.0, vec![vec![], vec![]])
    );
}

/// A two-layer net with its first layer as rows of a `Vec<Vec<f64>>`:
/// hᵢ = tanh(Σⱼ w1[i][j]·xⱼ), y = Σᵢ w2ᵢ·hᵢ, loss = ½(y − t)².
/// With e = y − t: ∂/∂w2ᵢ = e·hᵢ, ∂/∂w1[i][j] = e·w2ᵢ·(1 − hᵢ²)·xⱼ.
#[differentiate(wrt(w1, w2))]
fn two_layer(w1: &Vec<Vec<f64>>, w2: &[f64], x: &[f64], t: f64) -> f64 {
    let mut y = 0.0;
    for (i, row) in w1.iter().enumerate() {
        let mut a = 0.0;
        for j in 0..row.len() {
            a += row[j] * x[j];
        }
        y += w2[i] * a.tanh();
    }
    0.5 * (y - t) * (y - t)
}

#[test]
fn two_layer_net() {
    let w1 = ragged(&[4, 4, 4], 2.0);
    let w2 = common::data(3, 3.0);
    let x = common::data(4, 5.0);
    let t = 0.25;
    let (loss, (g1, g2)) = two_layer_grad(&w1, &w2, &x, t);
    assert_eq!(loss, two_layer(&w1, &w2, &x, t));
    let h: Vec<f64> = w1
        .iter()
        .map(|r| r.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>().tanh())
        .collect();
    let e = h.iter().zip(&w2).map(|(a, b)| a * b).sum::<f64>() - t;
    let want1: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            (0..4)
                .map(|j| e * w2[i] * (1.0 - h[i] * h[i]) * x[j])
                .collect()
        })
        .collect();
    let want2: Vec<f64> = h.iter().map(|hi| e * hi).collect();
    same("∂/∂w1", &g1, &want1);
    same("∂/∂w2", &g2, &want2);
    fd(
        "∂/∂w1",
        |w: &Vec<Vec<f64>>| two_layer(w, &w2, &x, t),
        &w1,
        &g1,
    );
    fd("∂/∂w2", |w: &Vec<f64>| two_layer(&w1, w, &x, t), &w2, &g2);
}

/// An array of arrays by value, its rows taken apart: f = Σᵢ aᵢ²·bᵢ for rows [aᵢ, bᵢ];
/// ∂f/∂aᵢ = 2aᵢbᵢ, ∂f/∂bᵢ = aᵢ².
#[differentiate]
fn pairs(p: [[f64; 2]; 3]) -> f64 {
    let mut s = 0.0;
    for row in p {
        let [a, b] = row;
        s += a * a * b;
    }
    s
}

/// The same sum, read as `p[i][0]` through `p.iter()`.
#[differentiate]
fn pairs_iter(p: [[f64; 2]; 3]) -> f64 {
    p.iter().map(|r| r[0] * r[0] * r[1]).sum::<f64>()
}

#[test]
fn array_of_arrays() {
    let p = [[0.3, -0.7], [1.1, 0.4], [-0.5, 0.9]];
    let want = p.map(|[a, b]| [2.0 * a * b, a * a]);
    for (what, (v, g)) in [
        ("for row in p", pairs_grad(p)),
        ("p.iter()", pairs_iter_grad(p)),
    ] {
        close(what, v, pairs(p), TOL);
        same(what, &g, &want);
        fd(what, |p: &[[f64; 2]; 3]| pairs(*p), &p, &g);
    }
}

/// The ways of reading rows of a `&Vec<[f64; 2]>`, each a term of
/// f = Σᵢ Σⱼ (j + 1)·p[i][j]² (variable j up to `p[i].len()`)
///   + Σᵢ q₀·q₁ (`let q = p[i];`)
///   + Σᵢ row₀ (`let row = &p[i];`)
///   + Σᵢ i·r₁ (`for (i, r) in p.iter().enumerate()`),
/// so ∂f/∂p[i][0] = 2·p[i][0] + p[i][1] + 1 and ∂f/∂p[i][1] = 4·p[i][1] + p[i][0] + i.
#[differentiate]
fn row_reads(p: &Vec<[f64; 2]>) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        for j in 0..p[i].len() {
            s += (j as f64 + 1.0) * p[i][j] * p[i][j];
        }
        let q = p[i];
        s += q[0] * q[1];
        let row = &p[i];
        s += row[0];
    }
    for (i, r) in p.iter().enumerate() {
        s += i as f64 * r[1];
    }
    s
}

#[test]
fn ways_of_reading_rows() {
    let p = vec![[0.2, -0.4], [0.9, 0.3], [-0.6, 0.5]];
    let (v, g) = row_reads_grad(&p);
    assert_eq!(v, row_reads(&p));
    let want: Vec<[f64; 2]> = p
        .iter()
        .enumerate()
        .map(|(i, [a, b])| [2.0 * a + b + 1.0, 4.0 * b + a + i as f64])
        .collect();
    same("∇f", &g, &want);
    fd("∇f", row_reads, &p, &g);
}

/// The row with the largest first entry: f = r₀·r₁ of that row r; its entries get r₁ and r₀,
/// every other row zero. Over rows of different lengths the best row so far changes length
/// from one item to the next.
#[differentiate]
fn best_row(p: &[Vec<f64>]) -> f64 {
    let r = p
        .iter()
        .max_by(|a, b| a[0].partial_cmp(&b[0]).unwrap())
        .unwrap();
    r[0] * r[1]
}

#[test]
fn best_row_by_max_by() {
    let p = vec![
        vec![0.3, 0.2, 0.1],
        vec![0.9, -0.3, 0.5],
        vec![-0.4, 0.7, 0.2],
    ];
    let (v, g) = best_row_grad(&p);
    assert_eq!(v, best_row(&p));
    let want = vec![vec![0.0; 3], vec![-0.3, 0.9, 0.0], vec![0.0; 3]];
    same("∇f", &g, &want);
    fd("∇f", |p: &Vec<Vec<f64>>| best_row(p), &p, &g);
    let ragged = vec![
        vec![0.3, 0.2, 0.1],
        vec![0.9, -0.3],
        vec![-0.4, 0.7, 0.2, 0.5],
    ];
    let (v, g) = best_row_grad(&ragged);
    assert_eq!(v, best_row(&ragged));
    let want = vec![vec![0.0; 3], vec![-0.3, 0.9], vec![0.0; 4]];
    same("ragged ∇f", &g, &want);
    fd("ragged ∇f", |p: &Vec<Vec<f64>>| best_row(p), &ragged, &g);
}

// ---------------------------------------------------------------------------------------------
// f32 and generic floats
// ---------------------------------------------------------------------------------------------

/// f = Σᵢⱼ sin w[i][j] in f32: ∂f/∂w[i][j] = cos w[i][j].
#[differentiate]
fn sines32(w: &[Vec<f32>]) -> f32 {
    w.iter()
        .map(|r| r.iter().map(|v| v.sin()).sum::<f32>())
        .sum()
}

#[test]
fn rows_of_f32() {
    let w: Vec<Vec<f32>> = vec![vec![0.1, 0.2, -0.3], vec![], vec![1.2]];
    let (_, g) = sines32_grad(&w);
    for (gr, wr) in g.iter().zip(&w) {
        assert_eq!(gr.len(), wr.len());
        for (a, v) in gr.iter().zip(wr) {
            close("cos w", f64::from(*a), f64::from(v.cos()), 1e-6);
        }
    }
    let r = gradcheck(|w: &Vec<Vec<f32>>| sines32(w), &w, &g);
    assert!(r.passed(), "f32: {r}");
}

/// f = Σᵢ p[i][0]·p[i][1] for a generic float: ∂f/∂p[i] = [p[i][1], p[i][0]].
#[differentiate]
fn products<T: Float>(p: &[[T; 2]]) -> T {
    let mut s = T::zero();
    for i in 0..p.len() {
        s = s + p[i][0] * p[i][1];
    }
    s
}

/// f = Σᵢⱼ w[i][j]² for a generic float: ∂f/∂w[i][j] = 2·w[i][j].
#[differentiate]
fn squares<T: Float>(w: &[Vec<T>]) -> T {
    let mut s = T::zero();
    for r in w {
        for &v in r {
            s = s + v * v;
        }
    }
    s
}

#[test]
fn generic_rows() {
    let p = [[0.5, -1.5], [2.0, 0.25]];
    assert_eq!(products_grad(&p[..]).1, vec![[-1.5, 0.5], [0.25, 2.0]]);
    let p32: [[f32; 2]; 2] = [[0.5, -1.5], [2.0, 0.25]];
    assert_eq!(products_grad(&p32[..]).1, vec![[-1.5, 0.5], [0.25, 2.0]]);
    let w = ragged(&[2, 0, 3], 6.0);
    let (_, g) = squares_grad(&w);
    let want: Vec<Vec<f64>> = w
        .iter()
        .map(|r| r.iter().map(|v| 2.0 * v).collect())
        .collect();
    same("∂f/∂w", &g, &want);
    fd("∂f/∂w", |w: &Vec<Vec<f64>>| squares(w), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// `&mut` parameters written element by element
// ---------------------------------------------------------------------------------------------

/// out[i][0] = xᵢ², out[i][1] += xᵢ, then f = Σᵢ out[i][0]·out[i][1]. With o the old
/// out[i][1]: f = Σᵢ xᵢ²(o + xᵢ), so ∂f/∂xᵢ = 2xᵢ(o + xᵢ) + xᵢ², ∂f/∂out[i][0] = 0 (overwritten)
/// and ∂f/∂out[i][1] = xᵢ².
#[differentiate]
fn fill_rows(out: &mut [[f64; 2]], x: &[f64]) -> f64 {
    for i in 0..x.len() {
        out[i][0] = x[i] * x[i];
        out[i][1] += x[i];
    }
    let mut s = 0.0;
    for i in 0..out.len() {
        s += out[i][0] * out[i][1];
    }
    s
}

#[test]
fn mut_rows_written_by_element() {
    let x = vec![0.3, -0.5, 0.8];
    let start = vec![[0.1, 1.0], [0.2, -0.4], [0.3, 0.6]];
    let (mut plain, mut ours) = (start.clone(), start.clone());
    let want_v = fill_rows(&mut plain, &x);
    let (v, (g_out, g_x)) = fill_rows_grad(&mut ours, &x);
    assert_eq!(v, want_v);
    assert_eq!(
        ours, plain,
        "the caller's rows change as the function changes them"
    );
    let want_out: Vec<[f64; 2]> = x.iter().map(|xi| [0.0, xi * xi]).collect();
    let want_x: Vec<f64> = x
        .iter()
        .zip(&start)
        .map(|(xi, o)| 2.0 * xi * (o[1] + xi) + xi * xi)
        .collect();
    same("∂f/∂out", &g_out, &want_out);
    same("∂f/∂x", &g_x, &want_x);
    fd(
        "∂f/∂out",
        |o: &Vec<[f64; 2]>| fill_rows(&mut o.clone(), &x),
        &start,
        &g_out,
    );
    fd(
        "∂f/∂x",
        |x: &Vec<f64>| fill_rows(&mut start.clone(), x),
        &x,
        &g_x,
    );
}

/// out[i][0] = xᵢ² in rows of a `&mut Vec<Vec<f64>>`, f = Σᵢ out[i][0]·out[i][1]:
/// ∂f/∂xᵢ = 2xᵢ·out[i][1], ∂f/∂out[i] = [0, xᵢ², 0, ..].
#[differentiate]
fn fill_vec_rows(out: &mut Vec<Vec<f64>>, x: &[f64]) -> f64 {
    for i in 0..x.len() {
        out[i][0] = x[i] * x[i];
    }
    let mut s = 0.0;
    for r in out.iter() {
        s += r[0] * r[1];
    }
    s
}

#[test]
fn mut_vec_rows_written_by_element() {
    let x = vec![0.3, -0.5];
    let start = vec![vec![0.0, 1.5, 9.0], vec![0.0, -0.5]];
    let mut ours = start.clone();
    let (_, (g_out, g_x)) = fill_vec_rows_grad(&mut ours, &x);
    assert_eq!(ours, vec![vec![0.09, 1.5, 9.0], vec![0.25, -0.5]]);
    same(
        "∂f/∂out",
        &g_out,
        &vec![vec![0.0, 0.09, 0.0], vec![0.0, 0.25]],
    );
    same("∂f/∂x", &g_x, &vec![2.0 * 0.3 * 1.5, 2.0 * -0.5 * -0.5]);
    fd(
        "∂f/∂x",
        |x: &Vec<f64>| fill_vec_rows(&mut start.clone(), x),
        &x,
        &g_x,
    );
}

// ---------------------------------------------------------------------------------------------
// Local grids
// ---------------------------------------------------------------------------------------------

/// v[i] = [xᵢ, 2xᵢ, 3xᵢ] written element by element, f = Σᵢ v[i][0]·v[i][2] + sin v[i][1]
/// = Σᵢ 3xᵢ² + sin 2xᵢ: ∂f/∂xᵢ = 6xᵢ + 2cos 2xᵢ.
#[differentiate]
fn grid_of_arrays(x: &[f64]) -> f64 {
    let n = x.len();
    let mut v = vec![[0.0; 3]; n];
    for i in 0..n {
        for k in 0..3 {
            v[i][k] = x[i] * (k as f64 + 1.0);
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += v[i][0] * v[i][2] + v[i][1].sin();
    }
    s
}

/// m[i][j] = xᵢxⱼ, then m[i][i] += 1, f = Σᵢⱼ m[i][j]·m[j][i] = Σᵢⱼ xᵢ²xⱼ² + 2Σᵢ xᵢ² + n:
/// ∂f/∂xₖ = 4xₖ·Σⱼ xⱼ² + 4xₖ.
#[differentiate(hessian)]
fn grid_of_vecs(x: &[f64]) -> f64 {
    let n = x.len();
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            m[i][j] = x[i] * x[j];
        }
    }
    for i in 0..n {
        m[i][i] += 1.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            s += m[i][j] * m[j][i];
        }
    }
    s
}

#[test]
fn local_grids_written_by_element() {
    let x = vec![0.3, -0.5, 0.8];
    let (v, g) = grid_of_arrays_grad(&x);
    assert_eq!(v, grid_of_arrays(&x));
    let want: Vec<f64> = x.iter().map(|a| 6.0 * a + 2.0 * (2.0 * a).cos()).collect();
    same("arrays", &g, &want);
    fd("arrays", |x: &Vec<f64>| grid_of_arrays(x), &x, &g);

    let (v, g) = grid_of_vecs_grad(&x);
    assert_eq!(v, grid_of_vecs(&x));
    let q: f64 = x.iter().map(|a| a * a).sum();
    let want: Vec<f64> = x.iter().map(|a| 4.0 * a * q + 4.0 * a).collect();
    same("vecs", &g, &want);
    fd("vecs", |x: &Vec<f64>| grid_of_vecs(x), &x, &g);
    // H = 8xxᵀ + (4Σx² + 4)I, so H·v = 8x⟨x, v⟩ + (4Σx² + 4)v.
    let d = vec![0.2, 0.1, -0.4];
    let (_, _, hv) = grid_of_vecs_hvp(&x, &d);
    let xv: f64 = x.iter().zip(&d).map(|(a, b)| a * b).sum();
    let want: Vec<f64> = x
        .iter()
        .zip(&d)
        .map(|(a, b)| 8.0 * a * xv + (4.0 * q + 4.0) * b)
        .collect();
    same("H·v", &hv, &want);
}

/// Rows built in a variable and pushed whole (a Gram matrix), f = Σᵢⱼ rows[i][j]·(j + 1)
/// = Σᵢⱼ xᵢxⱼ(j + 1): ∂f/∂xₖ = (k + 1)·Σᵢ xᵢ + Σⱼ xⱼ(j + 1).
#[differentiate]
fn gram_pushed(x: &[f64]) -> f64 {
    let mut rows = Vec::new();
    for i in 0..x.len() {
        let mut row = Vec::new();
        for j in 0..x.len() {
            row.push(x[i] * x[j]);
        }
        rows.push(row);
    }
    let mut s = 0.0;
    for i in 0..rows.len() {
        for j in 0..rows[i].len() {
            s += rows[i][j] * (j as f64 + 1.0);
        }
    }
    s
}

/// Rows of different lengths made by `vec![..]` and `collect`: row i is [xᵢ; i + 1], the last
/// popped and read; f = last[0] + Σ over the other rows of their sums
/// = x_{n−1} + Σ_{i<n−1} (i + 1)·xᵢ: ∂f/∂xᵢ = i + 1 for i < n − 1, 1 for the last.
#[differentiate]
fn ragged_local(x: &[f64]) -> f64 {
    let mut rows: Vec<Vec<f64>> = (0..x.len()).map(|i| vec![x[i]; i + 1]).collect();
    let last = rows.pop().unwrap();
    let mut s = last[0];
    for r in &rows {
        s += r.iter().sum::<f64>();
    }
    s
}

/// Pairs [xᵢ, 2xᵢ] pushed, swapped, reversed, then f = Σₖ rows[k][0]·rows[k][1]·(k + 1).
#[differentiate]
fn pushed_pairs(x: &[f64]) -> f64 {
    let mut rows: Vec<[f64; 2]> = Vec::new();
    for i in 0..x.len() {
        rows.push([x[i], 2.0 * x[i]]);
    }
    rows.swap(0, 1);
    rows.reverse();
    let mut s = 0.0;
    for (k, r) in rows.iter().enumerate() {
        s += r[0] * r[1] * (k as f64 + 1.0);
    }
    s
}

#[test]
fn local_rows_pushed() {
    let x = vec![0.3, -0.5, 0.8];
    let (v, g) = gram_pushed_grad(&x);
    assert_eq!(v, gram_pushed(&x));
    let sx: f64 = x.iter().sum();
    let sw: f64 = x
        .iter()
        .enumerate()
        .map(|(j, a)| a * (j as f64 + 1.0))
        .sum();
    let want: Vec<f64> = (0..3).map(|k| (k as f64 + 1.0) * sx + sw).collect();
    same("gram", &g, &want);
    fd("gram", |x: &Vec<f64>| gram_pushed(x), &x, &g);

    let (v, g) = ragged_local_grad(&x);
    assert_eq!(v, ragged_local(&x));
    same("ragged", &g, &vec![1.0, 2.0, 1.0]);
    fd("ragged", |x: &Vec<f64>| ragged_local(x), &x, &g);

    // After the swap and the reverse, rows are [x₂, x₀, x₁]: f = 2x₂² + 4x₀² + 6x₁², so
    // ∇f = (8x₀, 12x₁, 4x₂).
    let (v, g) = pushed_pairs_grad(&x);
    assert_eq!(v, pushed_pairs(&x));
    same("pairs", &g, &vec![8.0 * x[0], 12.0 * x[1], 4.0 * x[2]]);
    fd("pairs", |x: &Vec<f64>| pushed_pairs(x), &x, &g);
}

/// Rows changed in place: `m[i].swap(0, 1)` and writes through the rows of `iter_mut`.
/// m[i] = [1, xᵢ] swapped to [xᵢ, 1], then row[1] = 3·row[0]·x₀ for each row:
/// f = Σᵢ m[i][0]·m[i][1] = Σᵢ 3xᵢ²x₀: ∂f/∂xₖ = 6xₖx₀ + [k = 0]·3Σᵢ xᵢ².
#[differentiate]
fn rows_changed_in_place(x: &[f64]) -> f64 {
    let mut m = vec![vec![1.0; 2]; x.len()];
    for i in 0..x.len() {
        m[i][1] = x[i];
    }
    for i in 0..m.len() {
        m[i].swap(0, 1);
    }
    for row in m.iter_mut() {
        row[1] = 3.0 * row[0] * x[0];
    }
    let mut s = 0.0;
    for r in &m {
        s += r[0] * r[1];
    }
    s
}

#[test]
fn local_rows_changed_in_place() {
    let x = vec![0.3, -0.5, 0.8];
    let (v, g) = rows_changed_in_place_grad(&x);
    assert_eq!(v, rows_changed_in_place(&x));
    let q: f64 = x.iter().map(|a| a * a).sum();
    let want: Vec<f64> = (0..3)
        .map(|k| 6.0 * x[k] * x[0] + if k == 0 { 3.0 * q } else { 0.0 })
        .collect();
    same("∇f", &g, &want);
    fd("∇f", |x: &Vec<f64>| rows_changed_in_place(x), &x, &g);
}

/// A row of a local grid read, then replaced whole: t = 2·rows[0][0] = 2x₀, rows[0] = [x₁, x₁],
/// f = rows[0][1]·t + rows[0][0] = 2x₀x₁ + x₁: ∂f/∂x₀ = 2x₁, ∂f/∂x₁ = 2x₀ + 1. The pullback
/// reads the old row's element after the grid has moved on to its next version.
#[differentiate]
fn row_replaced(x: &[f64]) -> f64 {
    let mut rows = vec![vec![0.0; 2]; 2];
    rows[0][0] = x[0];
    let t = rows[0][0] * 2.0;
    rows[0] = vec![x[1]; 2];
    rows[0][1] * t + rows[0][0]
}

#[test]
fn local_row_read_then_replaced() {
    let x = vec![0.7, -0.4];
    let (v, g) = row_replaced_grad(&x);
    assert_eq!(v, row_replaced(&x));
    same("∇f", &g, &vec![2.0 * x[1], 2.0 * x[0] + 1.0]);
    fd("∇f", |x: &Vec<f64>| row_replaced(x), &x, &g);
}

/// A `Vec` carried by a loop and replaced there by one of another length: f = Σ best = Σ y
/// once `best = y.to_vec()` has run, so ∇ₓf = 0 (of x's length) and ∇ᵧf = 1. The adjoint of
/// `best` is taken each iteration leaving zeros of that iteration's length: the gradient of `x`
/// once had `y`'s length.
#[differentiate]
fn replaced_in_loop(x: &[f64], y: &[f64]) -> f64 {
    let mut best = x.to_vec();
    for k in 0..3 {
        if k == 1 {
            best = y.to_vec();
        }
    }
    best.iter().sum::<f64>()
}

#[test]
fn vec_replaced_by_another_length_in_a_loop() {
    for (x, y) in [
        (vec![1.0, 2.0], vec![3.0, 4.0, 5.0]),
        (vec![1.0, 2.0, 7.0], vec![3.0, 4.0]),
    ] {
        let (v, (gx, gy)) = replaced_in_loop_grad(&x, &y);
        assert_eq!(v, replaced_in_loop(&x, &y));
        assert_eq!(gx, vec![0.0; x.len()]);
        assert_eq!(gy, vec![1.0; y.len()]);
        fd("∂f/∂y", |y: &Vec<f64>| replaced_in_loop(&x, y), &y, &gy);
    }
}

/// A row read, then replaced by a shorter one: t = 2·rows[0][2] = 2x₀, rows[0] = [x₁, x₁],
/// f = rows[0][1]·t = 2x₀x₁: ∇f = (2x₁, 2x₀). The adjoint of the old row has its own length.
#[differentiate]
fn row_shrunk(x: &[f64]) -> f64 {
    let mut rows: Vec<Vec<f64>> = vec![vec![0.0; 3]; 2];
    rows[0][2] = x[0];
    let t = rows[0][2] * 2.0;
    rows[0] = vec![x[1]; 2];
    rows[0][1] * t
}

/// The rows of a `&mut` grid replaced by rows of other lengths in a loop: t = rows[0][2]·x₀,
/// then rows[i] = [x₁; i + 1], f = rows[1][1]·t = x₁·r·x₀ with r the old rows[0][2]:
/// ∂f/∂r = x₀x₁, ∂f/∂x₀ = x₁r, ∂f/∂x₁ = x₀r, and zeros for the other old entries.
#[differentiate]
fn rows_regrown(rows: &mut Vec<Vec<f64>>, x: &[f64]) -> f64 {
    let t = rows[0][2] * x[0];
    for i in 0..rows.len() {
        rows[i] = vec![x[1]; i + 1];
    }
    rows[1][1] * t
}

/// The same on a local grid made by `vec![vec![..]; n]`: t = rows[0][2] + x₀ = x₀, f = x₁·x₀.
#[differentiate]
fn local_rows_regrown(x: &[f64]) -> f64 {
    let mut rows = vec![vec![0.0; 3]; 2];
    let t = rows[0][2] + x[0];
    for i in 0..rows.len() {
        rows[i] = vec![x[1]; i + 1];
    }
    rows[1][1] * t
}

#[test]
fn rows_replaced_by_rows_of_other_lengths() {
    let x = vec![0.6, -1.3];
    let (v, g) = row_shrunk_grad(&x);
    assert_eq!(v, row_shrunk(&x));
    same("shrunk", &g, &vec![2.0 * x[1], 2.0 * x[0]]);
    fd("shrunk", |x: &Vec<f64>| row_shrunk(x), &x, &g);

    let start = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
    let (mut plain, mut ours) = (start.clone(), start.clone());
    let want_v = rows_regrown(&mut plain, &x);
    let (v, (g_rows, g_x)) = rows_regrown_grad(&mut ours, &x);
    assert_eq!(v, want_v);
    assert_eq!(ours, plain);
    let r = start[0][2];
    same(
        "∂f/∂rows",
        &g_rows,
        &vec![vec![0.0, 0.0, x[0] * x[1]], vec![0.0; 3]],
    );
    same("∂f/∂x", &g_x, &vec![x[1] * r, x[0] * r]);
    fd(
        "∂f/∂rows",
        |s: &Vec<Vec<f64>>| rows_regrown(&mut s.clone(), &x),
        &start,
        &g_rows,
    );
    fd(
        "∂f/∂x",
        |x: &Vec<f64>| rows_regrown(&mut start.clone(), x),
        &x,
        &g_x,
    );

    let (v, g) = local_rows_regrown_grad(&x);
    assert_eq!(v, local_rows_regrown(&x));
    same("local", &g, &vec![x[1], x[0]]);
}

/// A `Copy` row copied out of a local grid (`let prev = rows[i - 1];`), then the grid written
/// while the copy is still read: the copy keeps the old values. Each step sets
/// rows[i][0] = prev[0]·rows[i][1] + prev[1] and rows[i][1] += prev[1]², and
/// f = Σᵢ rows[i][0]·rows[i][1]. The row was borrowed from the grid where nothing but element
/// reads used it, so the grid's next version could not be made while it lived: rustc's "cannot
/// move out of value because it is borrowed" at the attribute, in `_jvp` always and in `_grad`
/// where the pullback does not keep the row.
#[differentiate]
fn copied_rows_then_written(x: &[f64]) -> f64 {
    let mut rows = vec![[x[0], x[1]], [x[2], x[3]], [x[4], x[5]]];
    for i in 1..rows.len() {
        let prev = rows[i - 1];
        rows[i][0] = prev[0] * rows[i][1] + prev[1];
        rows[i][1] += prev[1] * prev[1];
    }
    rows.iter().map(|r| r[0] * r[1]).sum::<f64>()
}

/// The copy read only by a test (a sign), which the pullback does not keep: the row was
/// borrowed in `_grad` too. f = s·rows[0][0] + rows[1][0], rows[1][0] = w·x₂ after the copy,
/// s = ±1 as the copy's x₂ says: ∂x₀ = s, ∂x₂ = w, ∂w = x₂, through a `&mut` parameter too.
#[differentiate]
fn copied_row_tested(rows: &mut Vec<[f64; 2]>, w: f64) -> f64 {
    let q = rows[1];
    rows[1][0] *= w;
    let s = if q[0] > 0.0 { 1.0 } else { -1.0 };
    s * rows[0][0] + rows[1][0]
}

#[test]
fn rows_copied_out_then_written() {
    let x = vec![0.3, -0.7, 1.1, 0.4, -0.2, 0.9];
    let (v, g) = copied_rows_then_written_grad(&x);
    assert_eq!(v, copied_rows_then_written(&x));
    fd("∇f", |x: &Vec<f64>| copied_rows_then_written(x), &x, &g);
    let (_, pullback) = copied_rows_then_written_vjp(&x);
    same(
        "seed 2.5",
        &pullback(2.5),
        &g.iter().map(|d| 2.5 * d).collect::<Vec<_>>(),
    );
    let t = vec![0.5, -1.0, 0.25, 2.0, -0.75, 1.5];
    let (y, dy) = copied_rows_then_written_jvp(&x, &t);
    assert_eq!(y, v);
    close("jvp", dy, g.iter().zip(&t).map(|(a, b)| a * b).sum(), TOL);

    for (r0, w) in [([0.6, -0.3], 1.7), ([-0.4, 0.8], -0.6)] {
        let rows0 = vec![[0.9, 0.1], r0];
        let mut rows = rows0.clone();
        let (v, (gr, gw)) = copied_row_tested_grad(&mut rows, w);
        let mut after = rows0.clone();
        assert_eq!(v, copied_row_tested(&mut after, w));
        assert_eq!(rows, after);
        let s = if r0[0] > 0.0 { 1.0 } else { -1.0 };
        same("∂rows", &gr, &vec![[s, 0.0], [w, 0.0]]);
        close("∂w", gw, r0[0], TOL);
    }
}

/// Rows written through the items of their own `iter_mut()`: each row of a local grid, by
/// position (`m[i].iter_mut()`, also under `enumerate` and `skip`) and as the item of an outer
/// `for row in m.iter_mut()` (a softmax of each row in place, then a quadratic term by
/// position). They were the error "iterating by mutable reference is followed over a variable
/// … bind the container to a variable first", though `row` is one; each is now the row taken
/// into a local, iterated and written back, as a field's `iter_mut()` is.
#[differentiate]
fn rows_written_through_iter_mut(x: &[f64]) -> f64 {
    let mut m = vec![vec![x[0], x[1], x[2]], vec![x[3], x[4], x[5]]];
    for i in 0..m.len() {
        for (j, e) in m[i].iter_mut().enumerate() {
            *e *= (j + 1) as f64;
        }
    }
    for row in m.iter_mut() {
        let s: f64 = row.iter().map(|a| a.exp()).sum();
        for e in row.iter_mut() {
            *e = e.exp() / s;
        }
        for (j, e) in row.iter_mut().enumerate().rev() {
            *e += 0.5 * j as f64 * *e * *e;
        }
    }
    for e in m[1].iter_mut().skip(1) {
        *e = e.sin();
    }
    m[0][0] * 2.0 + m[1][2] * m[0][1] + m[1][1] + m[0][2]
}

#[test]
fn rows_written_through_their_iter_mut() {
    for x in [
        vec![0.3, -0.7, 1.1, 0.4, -0.2, 0.9],
        vec![-1.2, 0.5, 0.25, 1.5, -0.8, 0.1],
    ] {
        let (v, g) = rows_written_through_iter_mut_grad(&x);
        assert_eq!(v, rows_written_through_iter_mut(&x));
        fd(
            "∇f",
            |x: &Vec<f64>| rows_written_through_iter_mut(x),
            &x,
            &g,
        );
        let (_, pullback) = rows_written_through_iter_mut_vjp(&x);
        same(
            "seed −0.5",
            &pullback(-0.5),
            &g.iter().map(|d| -0.5 * d).collect::<Vec<_>>(),
        );
        let t = vec![0.5, -1.0, 0.25, 2.0, -0.75, 1.5];
        let (y, dy) = rows_written_through_iter_mut_jvp(&x, &t);
        assert_eq!(y, v);
        close("jvp", dy, g.iter().zip(&t).map(|(a, b)| a * b).sum(), TOL);
    }
}

// An array literal whose elements are not `Copy`: rows built by `vec![..]`, and structs of the
// user's that derive `Default` but not `Copy`. It was rustc's "the trait bound `Vec<f64>: Copy`
// is not satisfied" at the literal, from the generated code: the array the elements are
// written into was `[Default::default(); n]`, which copies one default.

/// rows = [[x0, x1], [x0·x1, 1]]: f = Σ_r r0·r1 + rows[1][0] = 3·x0·x1 (x2 unused):
/// ∂/∂x0 = 3·x1, ∂/∂x1 = 3·x0.
#[differentiate]
fn array_literal_of_rows(x: &[f64]) -> f64 {
    let rows = [vec![x[0], x[1]], vec![x[0] * x[1], 1.0]];
    let mut s = 0.0;
    for r in rows.iter() {
        s += r[0] * r[1];
    }
    s + rows[1][0]
}

#[derive(Clone, Default, Differentiable)]
struct Knot {
    t: f64,
    w: f64,
}

/// knots = [(x0, x1), (x2, x0·x2)], each `w *= t`: f = x0·x1 + x0·x2²:
/// ∂/∂x0 = x1 + x2², ∂/∂x1 = x0, ∂/∂x2 = 2·x0·x2.
#[differentiate]
fn array_literal_of_structs(x: &[f64]) -> f64 {
    let mut knots = [
        Knot { t: x[0], w: x[1] },
        Knot {
            t: x[2],
            w: x[0] * x[2],
        },
    ];
    for k in 0..2 {
        knots[k].w *= knots[k].t;
    }
    knots.iter().map(|k| k.w).sum()
}

#[test]
fn array_literals_of_elements_that_are_not_copy() {
    for x in [vec![0.3, -0.7, 1.1], vec![-1.2, 0.5, 0.25]] {
        let (x0, x1, x2) = (x[0], x[1], x[2]);
        // (what, the function, its gradient at `x`)
        type Case = (&'static str, fn(&[f64]) -> f64, Vec<f64>);
        let cases: [Case; 2] = [
            ("rows", array_literal_of_rows, vec![3.0 * x1, 3.0 * x0, 0.0]),
            (
                "structs",
                array_literal_of_structs,
                vec![x1 + x2 * x2, x0, 2.0 * x0 * x2],
            ),
        ];
        let grads = [
            array_literal_of_rows_grad(&x),
            array_literal_of_structs_grad(&x),
        ];
        let pulled = [
            array_literal_of_rows_vjp(&x).1(-0.5),
            array_literal_of_structs_vjp(&x).1(-0.5),
        ];
        let t = vec![0.5, -1.0, 0.25];
        let tangents = [
            array_literal_of_rows_jvp(&x, &t),
            array_literal_of_structs_jvp(&x, &t),
        ];
        for (((what, f, expected), (v, g)), (p, (y, dy))) in cases
            .into_iter()
            .zip(grads)
            .zip(pulled.into_iter().zip(tangents))
        {
            assert_eq!(v, f(&x), "{what}: value");
            assert_eq!(y, v, "{what}: jvp value");
            same(what, &g, &expected);
            fd(what, |x: &Vec<f64>| f(x), &x, &g);
            same(
                &format!("{what}, seed −0.5"),
                &p,
                &g.iter().map(|d| -0.5 * d).collect::<Vec<_>>(),
            );
            close(what, dy, g.iter().zip(&t).map(|(a, b)| a * b).sum(), TOL);
        }
    }
}

/// A helper taking slices, lent rows of fixed-size arrays: `score(w, x) = tanh(w·x)`, so
/// `∂/∂w = (1 − s²)·x` and `∂/∂x = (1 − s²)·w`, whatever container the row comes from.
#[differentiate(hessian)]
fn score(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>().tanh()
}

/// Σᵢ score(w, xᵢ) over the items of `for x in xs`: ∂/∂w = Σᵢ (1 − sᵢ²)·xᵢ, ∂/∂xᵢ = (1 − sᵢ²)·w.
#[differentiate(hessian)]
fn rows_lent_by_for(w: &[f64], xs: &[[f64; 2]]) -> f64 {
    let mut total = 0.0;
    for x in xs {
        total += score(w, x);
    }
    total
}

/// The same sum, each row lent by index.
#[differentiate]
fn rows_lent_by_index(w: &[f64], xs: &[[f64; 2]]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        total += score(w, &xs[i]);
    }
    total
}

/// The same sum, through a chain.
#[differentiate]
fn rows_lent_by_chain(w: &[f64], xs: &[[f64; 2]]) -> f64 {
    xs.iter().map(|x| score(w, x)).sum()
}

/// The same sum over an array of rows taken by value.
#[differentiate]
fn rows_of_array_lent(w: &[f64], xs: [[f64; 2]; 3]) -> f64 {
    score(w, &xs[0]) + score(w, &xs[1]) + score(w, &xs[2])
}

/// Rows of a local `Vec` built from `w`: rows = [[w0, 1], [w1, w0]], f = score(w, rows[1]) =
/// tanh(2·w0·w1): ∂/∂w0 = 2·w1·(1 − s²), ∂/∂w1 = 2·w0·(1 − s²). (A `Vec` on purpose: its rows
/// are pushed, which the types of the elements do not follow.)
#[allow(clippy::useless_vec)]
#[differentiate]
fn local_rows_lent(w: &[f64]) -> f64 {
    let rows = vec![[w[0], 1.0], [w[1], w[0]]];
    score(w, &rows[1])
}

#[test]
fn rows_of_arrays_lent_to_a_slice_helper() {
    let w = vec![0.3, -0.7];
    let xs = vec![[0.1, 0.5], [-0.3, 0.8], [1.0, -0.2]];
    let ds: Vec<f64> = xs
        .iter()
        .map(|x| 1.0 - (w[0] * x[0] + w[1] * x[1]).tanh().powi(2))
        .collect();
    let want_w: Vec<f64> = (0..2)
        .map(|k| xs.iter().zip(&ds).map(|(x, d)| d * x[k]).sum())
        .collect();
    let want_xs: Vec<[f64; 2]> = ds.iter().map(|d| [d * w[0], d * w[1]]).collect();
    type Sum = fn(&[f64], &[[f64; 2]]) -> f64;
    type Grad = fn(&[f64], &[[f64; 2]]) -> (f64, (Vec<f64>, Vec<[f64; 2]>));
    let cases: [(&str, Sum, Grad); 3] = [
        ("for", rows_lent_by_for, rows_lent_by_for_grad),
        ("index", rows_lent_by_index, rows_lent_by_index_grad),
        ("chain", rows_lent_by_chain, rows_lent_by_chain_grad),
    ];
    for (what, f, grad) in cases {
        let (v, (gw, gxs)) = grad(&w, &xs);
        assert_eq!(v, f(&w, &xs), "{what}: value");
        same(&format!("{what}: ∂/∂w"), &gw, &want_w);
        same(&format!("{what}: ∂/∂xs"), &gxs, &want_xs);
        fd(what, |w: &Vec<f64>| f(w, &xs), &w, &gw);
        fd(what, |xs: &Vec<[f64; 2]>| f(&w, xs), &xs, &gxs);
    }
    // The pullback, with a seed other than 1, and the tangent.
    let (_, pb) = rows_lent_by_index_vjp(&w, &xs);
    let (pw, pxs) = pb(-0.5);
    same(
        "seed −0.5: ∂/∂w",
        &pw,
        &want_w.iter().map(|g| -0.5 * g).collect::<Vec<_>>(),
    );
    same(
        "seed −0.5: ∂/∂xs",
        &pxs,
        &want_xs
            .iter()
            .map(|r| [-0.5 * r[0], -0.5 * r[1]])
            .collect::<Vec<_>>(),
    );
    let (dw, dxs) = (vec![0.4, -0.1], vec![[0.2, 0.3], [-0.5, 0.1], [0.0, 0.7]]);
    let dot: f64 = want_w.iter().zip(&dw).map(|(a, b)| a * b).sum::<f64>()
        + want_xs
            .iter()
            .zip(&dxs)
            .map(|(a, b)| a[0] * b[0] + a[1] * b[1])
            .sum::<f64>();
    for (what, (y, t)) in [
        ("for", rows_lent_by_for_jvp(&w, &xs, &dw, &dxs)),
        ("index", rows_lent_by_index_jvp(&w, &xs, &dw, &dxs)),
        ("chain", rows_lent_by_chain_jvp(&w, &xs, &dw, &dxs)),
    ] {
        assert_eq!(y, rows_lent_by_for(&w, &xs), "{what}: jvp value");
        close(&format!("{what}: tangent"), t, dot, TOL);
    }
    // Second order: H·v against differences of the gradient.
    let v = (dw.clone(), dxs.clone());
    let (_, g, hv) = rows_lent_by_for_hvp(&w, &xs, &dw, &dxs);
    same("hvp gradient", &g.0, &want_w);
    let x0 = (w.clone(), xs.clone());
    let r = hvpcheck(
        |p: &(Vec<f64>, Vec<[f64; 2]>)| rows_lent_by_for_grad(&p.0, &p.1).1,
        &x0,
        &v,
        &hv,
    );
    assert!(r.passed(), "hvp: {r}");
    // An array of rows taken by value.
    let arr = [xs[0], xs[1], xs[2]];
    let (v, (gw, garr)) = rows_of_array_lent_grad(&w, arr);
    assert_eq!(v, rows_of_array_lent(&w, arr));
    same("array: ∂/∂w", &gw, &want_w);
    same("array: ∂/∂xs", &garr.to_vec(), &want_xs);
    // Rows of a local `Vec`.
    let s = 1.0 - (2.0 * w[0] * w[1]).tanh().powi(2);
    let (v, g) = local_rows_lent_grad(&w);
    assert_eq!(v, local_rows_lent(&w));
    same("local rows", &g, &vec![2.0 * w[1] * s, 2.0 * w[0] * s]);
    fd("local rows", |w: &Vec<f64>| local_rows_lent(w), &w, &g);
}
