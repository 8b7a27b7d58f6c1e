//! Graph-structured models: a parameter struct holding the graph as data fields next to its
//! weights (`edges: Vec<(usize, usize)>`, `idx: Vec<usize>`, `n_nodes: usize`), read by the
//! loops of message passing, degree normalisation and gathers.
//!
//! A loop over a field of integers of a differentiated struct, `for &i in &l.idx` (also
//! `.iter()`, `.iter().enumerate()`, zipped with a float field, and `for &(u, v) in &g.edges`
//! of a `Vec<(usize, usize)>`), was rustc's "`usize` is not differentiable" inside the
//! generated code, while `for t in 0..l.idx.len() { let i = l.idx[t]; .. }` worked: the
//! integers read out of the field were data, but the field itself was given an adjoint, which
//! its type does not have. An integer read out of a value (an element used as an index, a
//! position of an edge, a length) now carries nothing back to it.
//!
//! A field of integers used as a length, `vec![0.0; g.n_nodes]` (or `let n = g.n_nodes;` and
//! `vec![0.0; n]`), was "this expression reads a differentiated value and its result is used,
//! but it cannot be differentiated", and `Array1::zeros(p.n_nodes)` rustc's "no function
//! `zeros_vjp`": the length was taken for a float that might carry a derivative. The length of
//! `vec![x; n]` and the shape of ndarray's constructors (`zeros`, `ones`, `eye`, `from_elem`)
//! are now integers, and a field read for one is data.
//!
//! A field of integers lent to a differentiated helper, `gather_sum(&s.w, &s.idx)` or
//! `edge_energy(&self.x, &self.edges, self.n)`, was rustc's "mismatched types" at the call:
//! the helper's gradient has no entry for the data argument, which the field's adjoint could
//! not take. It now takes none.
//!
//! A row of such a field lent to one, `self.nbr_sum(i, &self.adj[i])` of `adj: Vec<Vec<usize>>`
//! (a node's neighbours), was rustc's "`Vec<usize>` is not differentiable": the row's adjoint,
//! the `()` the call gives for it, was added into the field's. It now adds nothing.
//!
//! A field of a local copy of the struct iterated while the body writes another field of it,
//! `for &(u, v) in &m.edges { m.w[v] += k * m.w[u]; }` (which plain Rust allows, borrowing the
//! two fields apart), was rustc's "cannot move out of value because it is borrowed" in the
//! generated code: each write makes a new version of the struct, which the loop's borrow of the
//! old one's field outlived. The field is now copied before the loop.
//!
//! An `Option<usize>` field of data taken apart for its index, `if let Some(r) = g.root` (also
//! `match`, `let .. else`), was "this pattern takes a differentiated value out of an `Option`
//! .. a local `Option` of a float is followed where ..", which spoke of floats the struct does
//! not hold. An integer bound by such a pattern carries no derivative, as one read out of a
//! value does, and the pattern is followed.
//!
//! Element reads of fields in the loop over a graph's edges (`l.pts[u][0]`, `l.m[[u, v % 2]]`,
//! `l.w[u]`) add each element's adjoint into the struct's gradient; the gradient, the tangent
//! and the Hessian-vector product of such a function are checked together.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Loops over fields of integers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Lookup {
    w: Vec<f64>,
    idx: Vec<usize>,
}

/// `L = Σ_t sin(s·w[idx_t])`: `∂L/∂w_i = Σ_{t: idx_t = i} s·cos(s·w_i)`, `∂L/∂s = Σ_t
/// w[idx_t]·cos(s·w[idx_t])`.
#[differentiate]
fn gather_for(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for &i in &l.idx {
        acc += (l.w[i] * s).sin();
    }
    acc
}

/// As [`gather_for`] through `l.idx.iter()`.
#[differentiate]
fn gather_iter(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for &i in l.idx.iter() {
        acc += (l.w[i] * s).sin();
    }
    acc
}

/// `L = Σ_t (t + 1)·sin(s·w[idx_t])` through `enumerate`.
#[differentiate]
fn gather_enumerate(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for (t, &i) in l.idx.iter().enumerate() {
        acc += (t + 1) as f64 * (l.w[i] * s).sin();
    }
    acc
}

/// `L = Σ_t w_t·s·w[idx_t]`, the index field zipped with the float field: `∂L/∂w_i = s·w[idx_i]
/// + Σ_{t: idx_t = i} s·w_t` (the first term for `i < idx.len()`), `∂L/∂s = Σ_t w_t·w[idx_t]`.
#[differentiate]
fn gather_zip(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for (&i, &wt) in l.idx.iter().zip(l.w.iter()) {
        acc += wt * s * l.w[i];
    }
    acc
}

fn lookup() -> Lookup {
    Lookup {
        w: vec![0.3, -0.7, 1.1, 0.2],
        idx: vec![2, 0, 2, 3],
    }
}

#[test]
fn loops_over_a_field_of_indices() {
    let l = lookup();
    let s = 1.3;
    type Grad = fn(&Lookup, f64) -> (f64, (Lookup, f64));
    for (what, weighted, f, grad) in [
        (
            "for",
            false,
            gather_for as fn(&Lookup, f64) -> f64,
            gather_for_grad as Grad,
        ),
        ("iter", false, gather_iter, gather_iter_grad),
        ("enumerate", true, gather_enumerate, gather_enumerate_grad),
    ] {
        let (y, (gl, gs)) = grad(&l, s);
        close(&format!("{what}: value"), y, f(&l, s), TOL);
        let mut want_w = vec![0.0; 4];
        let mut want_s = 0.0;
        for (t, &i) in l.idx.iter().enumerate() {
            let c = if weighted { (t + 1) as f64 } else { 1.0 };
            want_w[i] += c * s * (s * l.w[i]).cos();
            want_s += c * l.w[i] * (s * l.w[i]).cos();
        }
        close_all(&format!("{what}: ∂w"), &gl.w, &want_w);
        close(&format!("{what}: ∂s"), gs, want_s, TOL);
        assert_eq!(
            gl.idx, l.idx,
            "{what}: the gradient holds the data field's copy"
        );
        let r = gradcheck(|p: &(Lookup, f64)| f(&p.0, p.1), &(l.clone(), s), &(gl, gs));
        assert!(r.passed(), "{what}: {r}");
        let dir = Lookup {
            w: vec![0.5, -1.0, 0.25, 2.0],
            idx: l.idx.clone(),
        };
        let (_, t) = match what {
            "for" => gather_for_jvp(&l, s, &dir, 0.5),
            "iter" => gather_iter_jvp(&l, s, &dir, 0.5),
            _ => gather_enumerate_jvp(&l, s, &dir, 0.5),
        };
        let r = jvpcheck(
            |p: &(Lookup, f64)| f(&p.0, p.1),
            &(l.clone(), s),
            &(dir, 0.5),
            &t,
        );
        assert!(r.passed(), "{what}: jvp {r}");
    }

    let (y, (gl, gs)) = gather_zip_grad(&l, s);
    close("zip: value", y, gather_zip(&l, s), TOL);
    let mut want_w = vec![0.0; 4];
    let mut want_s = 0.0;
    for (t, &i) in l.idx.iter().enumerate() {
        want_w[t] += s * l.w[i];
        want_w[i] += s * l.w[t];
        want_s += l.w[t] * l.w[i];
    }
    close_all("zip: ∂w", &gl.w, &want_w);
    close("zip: ∂s", gs, want_s, TOL);
}

// ---------------------------------------------------------------------------------------------
// 2. A graph of edges and node counts beside the weights.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Gnn {
    w: Vec<f64>,
    edges: Vec<(usize, usize)>,
    idx: Vec<usize>,
    n_nodes: usize,
}

/// One round of mean aggregation, `h_v = tanh(w₀·Σ_{(u,v)} x_u / deg_v + w₁·x_v)`, read out as
/// `L = Σ_k (k + 1)·h[idx_k]²`. The degrees are counted over the edges into a `vec![0.0;
/// g.n_nodes]`.
#[differentiate]
fn message_passing(g: &Gnn, x: &[f64]) -> f64 {
    let mut deg = vec![0.0; g.n_nodes];
    for &(_, v) in &g.edges {
        deg[v] += 1.0;
    }
    let n = g.n_nodes;
    let mut h = vec![0.0; n];
    for &(u, v) in &g.edges {
        h[v] += g.w[0] * x[u] / deg[v];
    }
    for i in 0..n {
        h[i] = (h[i] + g.w[1] * x[i]).tanh();
    }
    let mut s = 0.0;
    for (k, &i) in g.idx.iter().enumerate() {
        s += (k + 1) as f64 * h[i] * h[i];
    }
    s
}

/// The same aggregation without the readout, by hand: the gradient below is its chain rule.
fn aggregate(g: &Gnn, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut deg = vec![0.0; g.n_nodes];
    for &(_, v) in &g.edges {
        deg[v] += 1.0;
    }
    let mut pre = vec![0.0; g.n_nodes];
    for &(u, v) in &g.edges {
        pre[v] += g.w[0] * x[u] / deg[v];
    }
    for i in 0..g.n_nodes {
        pre[i] += g.w[1] * x[i];
    }
    (pre, deg)
}

/// PageRank by power iteration over the edges of a parameter struct, the damping `d`
/// differentiated; the scores in an `Array1::zeros(p.n_nodes)` each step. `L = r·c`.
#[derive(Clone, Debug, Differentiable)]
struct PageRank {
    d: f64,
    edges: Vec<(usize, usize)>,
    out_deg: Vec<usize>,
    n_nodes: usize,
}

#[differentiate]
fn pagerank(p: &PageRank, c: &Array1<f64>) -> f64 {
    let n = c.len() as f64;
    let mut r = Array1::from_elem(p.n_nodes, 1.0 / n);
    for _ in 0..30 {
        let mut next = Array1::zeros(p.n_nodes) + (1.0 - p.d) / n;
        for &(u, v) in p.edges.iter() {
            let k: usize = p.out_deg[u];
            next[v] += p.d * r[u] / k as f64;
        }
        r = next;
    }
    let m: Array2<f64> = Array2::zeros((p.n_nodes, p.n_nodes));
    r.dot(c) + m.sum()
}

fn gnn() -> Gnn {
    Gnn {
        w: vec![0.7, -0.4],
        edges: vec![(0, 1), (1, 2), (2, 0), (2, 3), (3, 1), (0, 3)],
        idx: vec![1, 3, 0],
        n_nodes: 4,
    }
}

#[test]
fn message_passing_over_an_edge_list() {
    let g = gnn();
    let x = vec![0.5, -1.2, 0.8, 0.3];
    let (y, (gg, gx)) = message_passing_grad(&g, &x);
    close("value", y, message_passing(&g, &x), TOL);
    // ∂L/∂pre_i = Σ_{k: idx_k = i} 2(k + 1)·h_i·(1 − h_i²); pre_v = w₀·Σ x_u/deg_v + w₁·x_v.
    let (pre, deg) = aggregate(&g, &x);
    let mut dpre = vec![0.0; 4];
    for (k, &i) in g.idx.iter().enumerate() {
        let h = pre[i].tanh();
        dpre[i] += 2.0 * (k + 1) as f64 * h * (1.0 - h * h);
    }
    let mut want_w = [0.0; 2];
    let mut want_x = vec![0.0; 4];
    for &(u, v) in &g.edges {
        want_w[0] += dpre[v] * x[u] / deg[v];
        want_x[u] += dpre[v] * g.w[0] / deg[v];
    }
    for i in 0..4 {
        want_w[1] += dpre[i] * x[i];
        want_x[i] += dpre[i] * g.w[1];
    }
    close_all("∂w", &gg.w, &want_w);
    close_all("∂x", &gx, &want_x);
    assert_eq!((gg.edges, gg.idx, gg.n_nodes), (g.edges, g.idx, g.n_nodes));
    let r = gradcheck(
        |p: &(Gnn, Vec<f64>)| message_passing(&p.0, &p.1),
        &(gnn(), x.clone()),
        &(message_passing_grad(&gnn(), &x).1),
    );
    assert!(r.passed(), "{r}");
}

#[test]
fn pagerank_damping_through_zeros_of_a_field() {
    let edges = vec![(0, 1), (1, 2), (2, 0), (2, 3), (3, 1), (0, 3), (3, 0)];
    let mut out_deg = vec![0; 4];
    for &(u, _) in &edges {
        out_deg[u] += 1;
    }
    let p = PageRank {
        d: 0.85,
        edges,
        out_deg,
        n_nodes: 4,
    };
    let c = Array1::from(vec![1.0, -0.5, 2.0, 0.3]);
    let (y, (gp, gc)) = pagerank_grad(&p, &c);
    close("value", y, pagerank(&p, &c), TOL);
    // ∂L/∂c = r, the scores themselves: L is linear in c.
    let mut r = vec![0.25; 4];
    for _ in 0..30 {
        let mut next = vec![(1.0 - p.d) / 4.0; 4];
        for &(u, v) in &p.edges {
            next[v] += p.d * r[u] / p.out_deg[u] as f64;
        }
        r = next;
    }
    close_all("∂c", gc.as_slice().unwrap(), &r);
    fd(
        "∂d",
        |d| pagerank(&PageRank { d, ..p.clone() }, &c),
        p.d,
        gp.d,
    );
    let (_, t) = pagerank_jvp(
        &p,
        &c,
        &PageRank {
            d: 1.0,
            ..p.clone()
        },
        &Array1::zeros(4),
    );
    close("jvp", t, gp.d, 1e-10);
}

// ---------------------------------------------------------------------------------------------
// 3. Fields of data lent to differentiated helpers.
// ---------------------------------------------------------------------------------------------

/// `Σ_t w[idx_t]²`.
#[differentiate(hessian)]
fn gather_sum(w: &[f64], idx: &[usize]) -> f64 {
    let mut s = 0.0;
    for &i in idx {
        s += w[i] * w[i];
    }
    s
}

/// `Σ_{(u,v)} (x_u − x_v)² / n`.
#[differentiate(hessian)]
fn edge_energy(x: &[f64], edges: &[(usize, usize)], n: usize) -> f64 {
    let mut e = 0.0;
    for &(u, v) in edges {
        e += (x[u] - x[v]).powi(2);
    }
    e / n as f64
}

/// `L = k·Σ_t w[idx_t]²`: `∂L/∂w_i = 2k·w_i·#{t: idx_t = i}`, `∂L/∂k = Σ_t w[idx_t]²`.
#[differentiate]
fn lent_index_field(l: &Lookup, k: f64) -> f64 {
    k * gather_sum(&l.w, &l.idx)
}

#[derive(Clone, Debug, Differentiable)]
struct Mesh {
    x: Vec<f64>,
    edges: Vec<(usize, usize)>,
    n: usize,
}

#[differentiate(hessian)]
impl Mesh {
    /// `E = k·Σ_{(u,v)} (x_u − x_v)² / n + Σ_i x_i²`: `∂E/∂x_i = 2k·Σ_{(u,v) ∋ i} ±(x_u −
    /// x_v) / n + 2x_i`, `∂E/∂k = Σ (x_u − x_v)² / n`.
    fn energy(&self, k: f64) -> f64 {
        k * edge_energy(&self.x, &self.edges, self.n) + gather_sum(&self.x, &[0, 1, 2, 3])
    }
}

#[test]
fn data_fields_lent_to_helpers() {
    let l = lookup();
    let (y, (gl, gk)) = lent_index_field_grad(&l, 1.5);
    close("gather: value", y, lent_index_field(&l, 1.5), TOL);
    close_all(
        "gather: ∂w",
        &gl.w,
        &[2.0 * 1.5 * 0.3, 0.0, 4.0 * 1.5 * 1.1, 2.0 * 1.5 * 0.2],
    );
    close(
        "gather: ∂k",
        gk,
        0.3 * 0.3 + 2.0 * 1.1 * 1.1 + 0.2 * 0.2,
        TOL,
    );
    let dir = Lookup {
        w: vec![1.0, 2.0, -1.0, 0.5],
        idx: l.idx.clone(),
    };
    let (_, t) = lent_index_field_jvp(&l, 1.5, &dir, 0.0);
    let want: f64 = gl.w.iter().zip(&dir.w).map(|(a, b)| a * b).sum();
    close("gather: jvp", t, want, TOL);

    let m = Mesh {
        x: vec![0.1, 0.5, -0.3, 0.9],
        edges: vec![(0, 1), (1, 2), (2, 3), (0, 3)],
        n: 4,
    };
    let k = 2.0;
    let (y, (gm, gk)) = Mesh::energy_grad(&m, k);
    close("mesh: value", y, m.energy(k), TOL);
    let mut want_x: Vec<f64> = m.x.iter().map(|v| 2.0 * v).collect();
    let mut want_k = 0.0;
    for &(u, v) in &m.edges {
        let d = m.x[u] - m.x[v];
        want_x[u] += 2.0 * k * d / 4.0;
        want_x[v] -= 2.0 * k * d / 4.0;
        want_k += d * d / 4.0;
    }
    close_all("mesh: ∂x", &gm.x, &want_x);
    close("mesh: ∂k", gk, want_k, TOL);
    // The Hessian along `x`: 2k/n·(L v) + 2v, L the graph Laplacian of the edges.
    let v = Mesh {
        x: vec![1.0, 0.0, -1.0, 0.5],
        ..m.clone()
    };
    let (_, _, (hx, _)) = Mesh::energy_hvp(&m, k, &v, 0.0);
    let mut want_h: Vec<f64> = v.x.iter().map(|a| 2.0 * a).collect();
    for &(a, b) in &m.edges {
        let d = v.x[a] - v.x[b];
        want_h[a] += 2.0 * k * d / 4.0;
        want_h[b] -= 2.0 * k * d / 4.0;
    }
    close_all("mesh: hvp", &hx.x, &want_h);
}

// ---------------------------------------------------------------------------------------------
// 4. An `Option` of an index among the data fields.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Rooted {
    w: Vec<f64>,
    root: Option<usize>,
    leaf: Option<usize>,
}

/// `L = 2·w_r·x_r` with `r` the root (`w₀·x₀` without one), plus `w_l²` of the leaf:
/// `∂L/∂w_r = 2x_r`, `∂L/∂x_r = 2w_r`, `∂L/∂w_l += 2w_l`.
#[differentiate]
fn rooted(g: &Rooted, x: &[f64]) -> f64 {
    let mut s = if let Some(r) = g.root {
        2.0 * g.w[r] * x[r]
    } else {
        g.w[0] * x[0]
    };
    match g.leaf {
        Some(l) => s += g.w[l] * g.w[l],
        None => {}
    }
    let Some(r) = g.root else {
        return s;
    };
    s + 0.0 * x[r]
}

#[test]
fn an_optional_index_among_the_data_fields() {
    let x = vec![0.5, -1.2, 0.8];
    for (root, leaf) in [(Some(2), Some(1)), (None, Some(2)), (Some(1), None)] {
        let g = Rooted {
            w: vec![0.3, -0.7, 1.1],
            root,
            leaf,
        };
        let (y, (gg, gx)) = rooted_grad(&g, &x);
        close("value", y, rooted(&g, &x), TOL);
        let (r, c) = match root {
            Some(r) => (r, 2.0),
            None => (0, 1.0),
        };
        let mut want_w = vec![0.0; 3];
        let mut want_x = vec![0.0; 3];
        want_w[r] += c * x[r];
        want_x[r] += c * g.w[r];
        if let Some(l) = leaf {
            want_w[l] += 2.0 * g.w[l];
        }
        close_all("∂w", &gg.w, &want_w);
        close_all("∂x", &gx, &want_x);
        assert_eq!((gg.root, gg.leaf), (root, leaf));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Element reads of fields in a loop, to second order.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Layout {
    w: Vec<f64>,
    pts: Vec<[f64; 2]>,
    m: Array2<f64>,
    edges: Vec<(usize, usize)>,
}

/// A weighted stress of a graph layout: `S = Σ_{(u,v)} w_u·w_v·(d_uv − k)² + m[u, v mod 2]·m[v,
/// u mod 2]`, `d_uv = √(|p_u − p_v|² + 10⁻³)`; each element of the fields read by position in
/// the loop over the edges.
#[differentiate(hessian)]
fn stress(l: &Layout, k: f64) -> f64 {
    let mut s = 0.0;
    for &(u, v) in &l.edges {
        let dx = l.pts[u][0] - l.pts[v][0];
        let dy = l.pts[u][1] - l.pts[v][1];
        let d = (dx * dx + dy * dy + 1e-3).sqrt();
        s += l.w[u] * l.w[v] * (d - k).powi(2) + l.m[[u, v % 2]] * l.m[[v, u % 2]];
    }
    s
}

fn layout(p: &[f64]) -> Layout {
    Layout {
        w: p[..4].to_vec(),
        pts: (0..4).map(|i| [p[4 + 2 * i], p[5 + 2 * i]]).collect(),
        m: Array2::from_shape_vec((4, 2), p[12..20].to_vec()).unwrap(),
        edges: vec![(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)],
    }
}

fn flat(l: &Layout) -> Vec<f64> {
    let mut p = l.w.clone();
    p.extend(l.pts.iter().flatten());
    p.extend(l.m.iter());
    p
}

#[test]
fn element_reads_of_fields_to_second_order() {
    let p: Vec<f64> = [1.0, 0.8, 1.2, 0.5, 0.0, 0.0, 1.0, 0.2, 0.3, 1.1, 1.4, 1.3]
        .into_iter()
        .chain((0..8).map(|i| 0.1 * i as f64 - 0.2))
        .collect();
    let (l, k) = (layout(&p), 0.9);
    let (y, (gl, gk)) = stress_grad(&l, k);
    close("value", y, stress(&l, k), TOL);
    // ∂S/∂m[a, b] = Σ over the edges of the other factor of each product it appears in.
    let mut want_m = Array2::<f64>::zeros((4, 2));
    for &(u, v) in &l.edges {
        want_m[[u, v % 2]] += l.m[[v, u % 2]];
        want_m[[v, u % 2]] += l.m[[u, v % 2]];
    }
    close_all("∂m", gl.m.as_slice().unwrap(), want_m.as_slice().unwrap());
    fd_vec("∂ all", |q| stress(&layout(q), k), &p, &flat(&gl));
    fd("∂k", |k| stress(&l, k), k, gk);
    let dir: Vec<f64> = (0..20).map(|i| (i as f64 * 2.1).sin()).collect();
    let (_, t) = stress_jvp(&l, k, &layout(&dir), 0.3);
    let want: f64 = flat(&gl).iter().zip(&dir).map(|(a, b)| a * b).sum::<f64>() + 0.3 * gk;
    close("jvp", t, want, 1e-10);
    // The Hessian along (dir, 0.3) against central differences of the gradient.
    let (_, _, (hl, hk)) = stress_hvp(&l, k, &layout(&dir), 0.3);
    let h = 1e-5;
    let at = |s: f64| {
        let q: Vec<f64> = p.iter().zip(&dir).map(|(a, b)| a + s * h * b).collect();
        stress_grad(&layout(&q), k + s * h * 0.3).1
    };
    let ((gp, gkp), (gm, gkm)) = (at(1.0), at(-1.0));
    let fdh: Vec<f64> = flat(&gp)
        .iter()
        .zip(flat(&gm))
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect();
    for (j, (a, e)) in flat(&hl).iter().zip(&fdh).enumerate() {
        close(&format!("hvp[{j}]"), *a, *e, 1e-6);
    }
    close("hvp k", hk, (gkp - gkm) / (2.0 * h), 1e-6);
}

// ---------------------------------------------------------------------------------------------
// 6. A row of a field of data lent to a method.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Adjacency {
    x: Vec<f64>,
    adj: Vec<Vec<usize>>,
}

#[differentiate(hessian)]
impl Adjacency {
    /// `x_i·Σ_{j ∈ nbrs} x_j`.
    fn nbr_sum(&self, i: usize, nbrs: &[usize]) -> f64 {
        nbrs.iter().map(|&j| self.x[j] * self.x[i]).sum()
    }

    /// `E = Σ_i x_i·Σ_{j ∈ adj_i} x_j`: `∂E/∂x_k = Σ_{j ∈ adj_k} x_j + Σ_{i: k ∈ adj_i} x_i`,
    /// and the Hessian is `A + Aᵀ`, `A` the adjacency matrix.
    fn energy(&self) -> f64 {
        let mut e = 0.0;
        for i in 0..self.adj.len() {
            e += self.nbr_sum(i, &self.adj[i]);
        }
        e
    }
}

#[test]
fn a_row_of_a_data_field_lent_to_a_method() {
    let m = Adjacency {
        x: vec![0.1, 0.5, -0.3],
        adj: vec![vec![1, 2], vec![0], vec![0, 1]],
    };
    let (y, g) = Adjacency::energy_grad(&m);
    close("value", y, m.energy(), TOL);
    let mut want = vec![0.0; 3];
    let mut a = [[0.0; 3]; 3];
    for (i, nbrs) in m.adj.iter().enumerate() {
        for &j in nbrs {
            want[i] += m.x[j];
            want[j] += m.x[i];
            a[i][j] += 1.0;
        }
    }
    close_all("∂x", &g.x, &want);
    assert_eq!(g.adj, m.adj);
    let v = Adjacency {
        x: vec![1.0, -2.0, 0.5],
        adj: m.adj.clone(),
    };
    let (_, t) = Adjacency::energy_jvp(&m, &v);
    close("jvp", t, (0..3).map(|k| want[k] * v.x[k]).sum(), TOL);
    let (_, _, h) = Adjacency::energy_hvp(&m, &v);
    let want_h: Vec<f64> = (0..3)
        .map(|k| (0..3).map(|j| (a[k][j] + a[j][k]) * v.x[j]).sum())
        .collect();
    close_all("hvp", &h.x, &want_h);
}

// ---------------------------------------------------------------------------------------------
// 7. A field of a local copy iterated while the body writes another field.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Flow {
    w: Vec<f64>,
    b: Vec<f64>,
    edges: Vec<(usize, usize)>,
}

/// Along the edges in order, `w_v ← w_v + k·w_u`, then `w_0 ← w_0 + Σ_j b_j·w_j` over `b`
/// zipped with the weights, read through a copy; `L = Σ w_i²`.
#[differentiate]
fn flowed(f: &Flow, k: f64) -> f64 {
    let mut m = f.clone();
    for &(u, v) in &m.edges {
        m.w[v] += k * m.w[u];
    }
    for (j, &bj) in m.b.iter().enumerate() {
        m.w[0] += bj * f.w[j];
    }
    m.w.iter().map(|x| x * x).sum()
}

fn flowed_by_hand(f: &Flow, k: f64) -> (f64, Vec<f64>) {
    let mut w = f.w.clone();
    for &(u, v) in &f.edges {
        w[v] += k * w[u];
    }
    for j in 0..f.b.len() {
        w[0] += f.b[j] * f.w[j];
    }
    (w.iter().map(|x| x * x).sum(), w)
}

#[test]
fn a_field_iterated_while_another_is_written() {
    let f = Flow {
        w: vec![0.5, 1.0, -0.3],
        b: vec![0.2, -0.4],
        edges: vec![(0, 1), (1, 2), (2, 0)],
    };
    let k = 0.7;
    let (y, (g, gk)) = flowed_grad(&f, k);
    let (want_y, w) = flowed_by_hand(&f, k);
    close("value", y, want_y, TOL);
    // The last step adds b·w into w₀ only: ∂L/∂b_j = 2w'₀·w_j of the original weights.
    close_all("∂b", &g.b, &[2.0 * w[0] * f.w[0], 2.0 * w[0] * f.w[1]]);
    let r = gradcheck(
        |p: &(Flow, f64)| flowed(&p.0, p.1),
        &(f.clone(), k),
        &(g, gk),
    );
    assert!(r.passed(), "{r}");
}
