//! Losses and probabilistic models of machine learning written by hand: attention split into
//! heads by index arithmetic on a layer's sizes (`x.ncols() / self.heads` of a data field), a
//! weighted Huber loss summed by `Zip::fold` (and ndarray's `fold`) whose closure computes the
//! residual in a `let` before adding its term, embedding lookups `emb.select(Axis(0), doc)`
//! of the token ids of each document of `docs: &[Vec<usize>]` (a loop's item and an element
//! read, and the groups of a prototypical network's support set built in the function by
//! `push`), a normalising flow's layers (a module marked `#[differentiate]` whose layer declares
//! `wrt(self)`) called on the items of `for l in &self.layers` with data, a CRF's gold path
//! scored over the windows of its tags bound whole (`for w in tags.windows(2).enumerate() {
//! let (t, pair) = w; .. }`), attention over padded keys whose masked weights are skipped by
//! comparing an item with a reference written to match it (`if w > &0.0`, `.filter(|v| v >
//! &&t)`), a struct's loss whose filters read its own fields (`.filter(|(w, _)| **w >
//! self.thr)`, `if v > &self.thr`), and the other programs of that kind whose reproducers are
//! kept here.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip, s};

mod common;
use common::*;

fn matrix(r: usize, c: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_vec((r, c), data(r * c, seed)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A head's width from the layer's sizes and a data field: `x.ncols() / self.heads` divides
// integers (it was taken for arithmetic on the struct's arrays, rustc's errors in the
// generated code), and so do `x.len_of(Axis(1))`, `x.shape()[1]` and the parts of `x.dim()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
pub struct Heads {
    pub w: Array1<f64>,
    #[differentiable(data)]
    pub heads: usize,
}

#[differentiate(wrt(self))]
impl Heads {
    /// `Σ_h Σ_i (Σ_{c ∈ h} x[i, c]·w[c])² / √dh`, `dh = d / heads`.
    fn pooled(&self, x: &Array2<f64>) -> f64 {
        let d = x.ncols();
        let dh = d / self.heads;
        let mut total = 0.0;
        for h in 0..self.heads {
            let lo = h * dh;
            let part = x
                .slice(s![.., lo..lo + dh])
                .dot(&self.w.slice(s![lo..lo + dh]));
            total += part.mapv(|v| v * v).sum() / (dh as f64).sqrt();
        }
        total
    }

    /// The same with the width from `len_of` and the rows from `nrows`.
    fn pooled_rows(&self, x: &Array2<f64>) -> f64 {
        let dh = x.len_of(Axis(1)) / self.heads;
        let n = x.nrows();
        self.pooled_from(x, n, dh)
    }

    /// The same with the sizes from `x.dim()` taken apart.
    fn pooled_dim(&self, x: &Array2<f64>) -> f64 {
        let (n, d) = x.dim();
        let dh = d / self.heads;
        self.pooled_from(x, n, dh)
    }

    /// The same with the width from `x.shape()[1]`.
    fn pooled_shape(&self, x: &Array2<f64>) -> f64 {
        let dh = x.shape()[1] / self.heads;
        let n = x.shape()[0];
        self.pooled_from(x, n, dh)
    }

    fn pooled_from(&self, x: &Array2<f64>, n: usize, dh: usize) -> f64 {
        let mut total = 0.0;
        for i in 0..n {
            for h in 0..self.heads {
                let s: f64 = (0..dh)
                    .map(|c| x[[i, h * dh + c]] * self.w[h * dh + c])
                    .sum();
                total += s * s / (dh as f64).sqrt();
            }
        }
        total
    }
}

fn pooled_plain(w: &[f64], heads: usize, x: &Array2<f64>) -> f64 {
    let (n, d) = x.dim();
    let dh = d / heads;
    let mut total = 0.0;
    for i in 0..n {
        for h in 0..heads {
            let s: f64 = (h * dh..(h + 1) * dh).map(|c| x[[i, c]] * w[c]).sum();
            total += s * s / (dh as f64).sqrt();
        }
    }
    total
}

/// ∂/∂w[c] = 2/√dh · Σ_i s_{i, h(c)} · x[i, c], where `s_{i,h}` is row `i`'s dot product over
/// head `h` and `h(c) = c / dh`.
#[test]
fn head_width_from_ncols_and_a_data_field() {
    let x = matrix(3, 6, 0.4);
    for heads in [2, 3] {
        let m = Heads {
            w: Array1::from(data(6, 1.7)),
            heads,
        };
        let dh = 6 / heads;
        let w = m.w.to_vec();
        let mut expected = vec![0.0; 6];
        for i in 0..3 {
            for c in 0..6 {
                let h = c / dh;
                let s: f64 = (h * dh..(h + 1) * dh).map(|k| x[[i, k]] * w[k]).sum();
                expected[c] += 2.0 * s * x[[i, c]] / (dh as f64).sqrt();
            }
        }
        for (v, g) in [
            m.pooled_grad(&x),
            m.pooled_rows_grad(&x),
            m.pooled_dim_grad(&x),
            m.pooled_shape_grad(&x),
        ] {
            close("value", v, pooled_plain(&w, heads, &x), 1e-13);
            close("value", v, m.pooled(&x), 1e-13);
            close_all("∂w", g.w.as_slice().unwrap(), &expected);
            let r = autodiff::check::gradcheck(
                |p: &Vec<f64>| pooled_plain(p, heads, &x),
                &w,
                &g.w.to_vec(),
            );
            assert!(r.passed(), "{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A sum by `Zip::fold` or ndarray's `fold` whose closure binds each element's residual first,
// `|acc, &p, &t, &w| { let r = (p - t).abs(); acc + w * huber(r) }`: the result does not depend
// on the order of the elements (it was an error that said it might).
// ---------------------------------------------------------------------------------------------

/// `Σ w·h(p − t) / Σ w`, `h(r) = r²/2` for `|r| < δ`, `δ(|r| − δ/2)` beyond.
#[differentiate(wrt(pred))]
fn weighted_huber(
    pred: ArrayView2<f64>,
    y: ArrayView2<f64>,
    w: ArrayView2<f64>,
    delta: f64,
) -> f64 {
    let tot = Zip::from(&pred)
        .and(&y)
        .and(&w)
        .fold(0.0, |acc, &p, &t, &wi| {
            let r = (p - t).abs();
            let h = if r < delta {
                0.5 * r * r
            } else {
                delta * (r - 0.5 * delta)
            };
            acc + wi * h
        });
    tot / w.sum()
}

/// `Σ log(1 + (p − c)²)` by ndarray's `fold` with the residual bound first.
#[differentiate]
fn cauchy_fold(pred: &Array2<f64>, c: f64) -> f64 {
    pred.fold(0.0, |acc, &p| {
        let r = p - c;
        acc + (r * r).ln_1p()
    })
}

/// ∂/∂p = w·clip(p − t, −δ, δ) / Σ w, on arrays in standard layout and on transposed views
/// (which `Zip` visits in memory order).
#[test]
fn huber_by_zip_fold_with_a_let() {
    let p = matrix(3, 4, 0.3) * 2.0;
    let y = matrix(3, 4, 1.3);
    let w = matrix(3, 4, 2.3).mapv(|v| v.abs() + 0.5);
    for transposed in [false, true] {
        let (pv, yv, wv) = match transposed {
            false => (p.view(), y.view(), w.view()),
            true => (p.t(), y.t(), w.t()),
        };
        let (v, g) = weighted_huber_grad(pv, yv, wv, 0.5);
        let plain = |p: &Array2<f64>| {
            let mut s = 0.0;
            for ((i, j), &q) in p.indexed_iter() {
                let r = (q - yv[[i, j]]).abs();
                s += wv[[i, j]]
                    * if r < 0.5 {
                        0.5 * r * r
                    } else {
                        0.5 * (r - 0.25)
                    };
            }
            s / wv.sum()
        };
        close("value", v, plain(&pv.to_owned()), 1e-13);
        close("value", v, weighted_huber(pv, yv, wv, 0.5), 1e-13);
        let ws = wv.sum();
        for ((i, j), &gij) in g.indexed_iter() {
            let r = pv[[i, j]] - yv[[i, j]];
            close("∂p", gij, wv[[i, j]] * r.clamp(-0.5, 0.5) / ws, 1e-13);
        }
        let r = autodiff::check::gradcheck(plain, &pv.to_owned(), &g);
        assert!(r.passed(), "{r}");
    }
}

/// ∂/∂p = 2(p − c)/(1 + (p − c)²), ∂/∂c = −Σ of those.
#[test]
fn cauchy_by_fold_with_a_let() {
    let p = matrix(2, 3, 0.8);
    let (v, (gp, gc)) = cauchy_fold_grad(&p, 0.2);
    let plain =
        |p: &Array2<f64>, c: f64| p.iter().map(|&q| ((q - c) * (q - c)).ln_1p()).sum::<f64>();
    close("value", v, plain(&p, 0.2), 1e-13);
    let e = p.mapv(|q| 2.0 * (q - 0.2) / (1.0 + (q - 0.2) * (q - 0.2)));
    close_all("∂p", gp.as_slice().unwrap(), e.as_slice().unwrap());
    close("∂c", gc, -e.sum(), 1e-13);
    let r = autodiff::check::gradcheck(
        |q: &(Array2<f64>, f64)| plain(&q.0, q.1),
        &(p.clone(), 0.2),
        &(gp, gc),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Embedding lookups by the token ids of each document: the item of a loop over `docs:
// &[Vec<usize>]` is a reference to the row, lent to `select` as Rust lends it (it was moved out
// of the slice, and `select` was given a `Vec`: rustc's errors in the generated code), and an
// element read `&docs[k]` kept for the pullback's `select` rule is borrowed there too.
// ---------------------------------------------------------------------------------------------

/// `Σ_d Σ_{i ∈ d} ‖emb_i‖²`.
#[differentiate(wrt(emb))]
fn bag_energy(emb: &Array2<f64>, docs: &[Vec<usize>]) -> f64 {
    let mut t = 0.0;
    for doc in docs {
        t += emb.select(Axis(0), doc).mapv(|v| v * v).sum();
    }
    t
}

/// The same with the ids read as `&docs[k]`.
#[differentiate(wrt(emb))]
fn bag_energy_indexed(emb: &Array2<f64>, docs: &[Vec<usize>]) -> f64 {
    let mut t = 0.0;
    for k in 0..docs.len() {
        let e: Array2<f64> = emb.select(Axis(0), &docs[k]);
        t += e.mapv(|v| v * v).sum();
    }
    t
}

/// `Σ_d (s_d − y_d)²`, `s_d` the sum of the embeddings of document `d`'s tokens.
#[differentiate(wrt(emb))]
fn bag_regression(emb: &Array2<f64>, docs: &Vec<Vec<usize>>, y: &[f64]) -> f64 {
    docs.iter()
        .zip(y)
        .map(|(doc, &t)| (emb.select(Axis(0), doc).sum() - t).powi(2))
        .sum()
}

/// ∂/∂emb_r = 2·c_r·emb_r, `c_r` the number of times token `r` occurs; for the regression,
/// ∂/∂emb_{r,j} = Σ_d 2(s_d − y_d)·c_{d,r}, `c_{d,r}` its count in document `d`.
#[test]
fn embedding_lookup_by_the_ids_of_each_document() {
    let emb = matrix(4, 2, 0.3);
    let docs = vec![vec![0usize, 2, 2], vec![1], vec![3, 0]];
    let y = vec![0.5, -0.2, 1.0];
    let plain = |e: &Array2<f64>| -> f64 {
        docs.iter()
            .map(|d| {
                d.iter()
                    .map(|&i| e.row(i).iter().map(|v| v * v).sum::<f64>())
                    .sum::<f64>()
            })
            .sum()
    };
    let count = |d: &[usize], r: usize| d.iter().filter(|&&i| i == r).count() as f64;
    let mut expected = Array2::<f64>::zeros((4, 2));
    for r in 0..4 {
        let c: f64 = docs.iter().map(|d| count(d, r)).sum();
        for j in 0..2 {
            expected[[r, j]] = 2.0 * c * emb[[r, j]];
        }
    }
    for (v, g) in [
        bag_energy_grad(&emb, &docs),
        bag_energy_indexed_grad(&emb, &docs),
    ] {
        close("value", v, plain(&emb), 1e-13);
        close("value", v, bag_energy(&emb, &docs), 1e-13);
        close_all("∂emb", g.as_slice().unwrap(), expected.as_slice().unwrap());
        let r = autodiff::check::gradcheck(plain, &emb, &g);
        assert!(r.passed(), "{r}");
    }
    let (v, g) = bag_regression_grad(&emb, &docs, &y);
    let sums: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|&i| emb.row(i).sum()).sum())
        .collect();
    let plain_reg = |e: &Array2<f64>| -> f64 {
        docs.iter()
            .zip(&y)
            .map(|(d, t)| (d.iter().map(|&i| e.row(i).sum()).sum::<f64>() - t).powi(2))
            .sum()
    };
    close("value", v, plain_reg(&emb), 1e-13);
    for r in 0..4 {
        let e: f64 = (0..3)
            .map(|d| 2.0 * (sums[d] - y[d]) * count(&docs[d], r))
            .sum();
        close("∂emb", g[[r, 0]], e, 1e-13);
        close("∂emb", g[[r, 1]], e, 1e-13);
    }
    let r = autodiff::check::gradcheck(plain_reg, &emb, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A method declared `wrt(self)` in a module marked `#[differentiate]`, called on the items of a
// loop or a chain over a field holding its structs (`for l in &self.layers { l.forward(x) }`)
// with data: the call's gradient has the entries the list keeps (it was taken to have one per
// argument of a differentiable type, rustc's "the gradient of this call does not match" in the
// generated code), and a differentiated value passed there is the macro's error that names the
// parameter to add (`tests/ui/module_loop_item_wrt.rs`).
// ---------------------------------------------------------------------------------------------

#[differentiate]
mod stacked {
    use autodiff::{Differentiable, differentiate};

    #[derive(Clone, Differentiable)]
    pub struct Scale {
        pub log_s: Vec<f64>,
    }

    #[differentiate(wrt(self))]
    impl Scale {
        /// `Σ_i x_i·exp(log_s_i)`: the layer's output summed, `x` data.
        pub fn forward(&self, x: &[f64]) -> f64 {
            x.iter().zip(&self.log_s).map(|(a, l)| a * l.exp()).sum()
        }
    }

    #[derive(Clone, Differentiable)]
    pub struct Stack {
        pub layers: Vec<Scale>,
    }

    #[differentiate(wrt(self))]
    impl Stack {
        /// `Σ_l forward_l(x)`, by a loop over the layers.
        pub fn total(&self, x: &[f64]) -> f64 {
            let mut t = 0.0;
            for l in &self.layers {
                t += l.forward(x);
            }
            t
        }

        /// `Σ_l forward_l(x)²`, by a chain over them.
        pub fn energy(&self, x: &[f64]) -> f64 {
            self.layers.iter().map(|l| l.forward(x).powi(2)).sum()
        }
    }
}

/// ∂total/∂log_s_{l,i} = x_i·exp(log_s_{l,i}); ∂energy/∂log_s_{l,i} = 2·f_l·x_i·exp(log_s_{l,i}),
/// `f_l` layer `l`'s output.
#[test]
fn layers_declared_wrt_self_called_on_the_items_of_a_loop() {
    use stacked::{Scale, Stack};
    let m = Stack {
        layers: vec![
            Scale {
                log_s: data(3, 0.2),
            },
            Scale {
                log_s: data(3, 1.9),
            },
        ],
    };
    let x = data(3, 4.1);
    let out = |l: &Scale| -> f64 { x.iter().zip(&l.log_s).map(|(a, s)| a * s.exp()).sum() };
    let (v, g) = m.total_grad(&x);
    close("value", v, m.layers.iter().map(out).sum(), 1e-13);
    let (e, ge) = m.energy_grad(&x);
    close(
        "value",
        e,
        m.layers.iter().map(|l| out(l).powi(2)).sum(),
        1e-13,
    );
    for (k, l) in m.layers.iter().enumerate() {
        let d: Vec<f64> = x.iter().zip(&l.log_s).map(|(a, s)| a * s.exp()).collect();
        close_all("∂total", &g.layers[k].log_s, &d);
        let de: Vec<f64> = d.iter().map(|v| 2.0 * out(l) * v).collect();
        close_all("∂energy", &ge.layers[k].log_s, &de);
    }
    let flat = |s: &Stack| -> Vec<Vec<f64>> { s.layers.iter().map(|l| l.log_s.clone()).collect() };
    let rebuild = |p: &Vec<Vec<f64>>| Stack {
        layers: p.iter().map(|r| Scale { log_s: r.clone() }).collect(),
    };
    let r = autodiff::check::gradcheck(
        |p: &Vec<Vec<f64>>| rebuild(p).total(&x),
        &flat(&m),
        &flat(&g),
    );
    assert!(r.passed(), "{r}");
    let r = autodiff::check::gradcheck(
        |p: &Vec<Vec<f64>>| rebuild(p).energy(&x),
        &flat(&m),
        &flat(&ge),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// The windows of a slice of data bound whole, `for w in tags.windows(2).enumerate() { let (t,
// pair) = w; .. }` (also collected, `let pairs: Vec<&[usize]> = tags.windows(2).collect();`):
// each is the borrowed range it is in Rust (it was an error that said a window cannot be a
// value, meant for windows of differentiated values).
// ---------------------------------------------------------------------------------------------

/// A linear-chain CRF's score of the gold path, each transition weighted by its position
/// (`Σ_t em[t][y_t] + Σ_t (t + 1)·tr[y_t][y_{t+1}]`).
#[differentiate]
fn gold_path_score(em: &[Vec<f64>], tr: &[Vec<f64>], tags: &[usize]) -> f64 {
    let mut s: f64 = tags.iter().enumerate().map(|(t, &y)| em[t][y]).sum();
    for w in tags.windows(2).enumerate() {
        let (t, pair) = w;
        s += (t + 1) as f64 * tr[pair[0]][pair[1]];
    }
    s
}

/// The transitions of the gold path counted from its collected windows (`Σ_t tr[y_t][y_{t+1}]`).
#[differentiate]
fn gold_transitions(tr: &[Vec<f64>], tags: &[usize]) -> f64 {
    let pairs: Vec<&[usize]> = tags.windows(2).collect();
    let mut s = 0.0;
    for p in &pairs {
        s += tr[p[0]][p[1]];
    }
    s
}

/// ∂/∂em[t][j] = [y_t = j]; ∂/∂tr[i][j] = Σ_t (t + 1)·[y_t = i, y_{t+1} = j] (the unweighted
/// count for `gold_transitions`).
#[test]
fn gold_path_over_windows_of_the_tags_bound_whole() {
    let em: Vec<Vec<f64>> = (0..5).map(|t| data(3, 0.5 + t as f64)).collect();
    let tr: Vec<Vec<f64>> = (0..3).map(|i| data(3, 7.0 + i as f64)).collect();
    let tags = [0usize, 2, 2, 1, 0];
    let (v, (ge, gt)) = gold_path_score_grad(&em, &tr, &tags);
    let plain = |em: &Vec<Vec<f64>>, tr: &Vec<Vec<f64>>| -> f64 {
        (0..5).map(|t| em[t][tags[t]]).sum::<f64>()
            + (0..4)
                .map(|t| (t + 1) as f64 * tr[tags[t]][tags[t + 1]])
                .sum::<f64>()
    };
    close("value", v, plain(&em, &tr), 1e-13);
    close("value", v, gold_path_score(&em, &tr, &tags), 1e-13);
    let (mut eem, mut etr, mut cnt) = (
        vec![vec![0.0; 3]; 5],
        vec![vec![0.0; 3]; 3],
        vec![vec![0.0; 3]; 3],
    );
    for t in 0..5 {
        eem[t][tags[t]] = 1.0;
    }
    for t in 0..4 {
        etr[tags[t]][tags[t + 1]] += (t + 1) as f64;
        cnt[tags[t]][tags[t + 1]] += 1.0;
    }
    for t in 0..5 {
        close_all("∂em", &ge[t], &eem[t]);
    }
    for i in 0..3 {
        close_all("∂tr", &gt[i], &etr[i]);
    }
    let r = autodiff::check::gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<Vec<f64>>)| plain(&p.0, &p.1),
        &(em.clone(), tr.clone()),
        &(ge, gt),
    );
    assert!(r.passed(), "{r}");
    let (v, g) = gold_transitions_grad(&tr, &tags);
    let plain_t = |tr: &Vec<Vec<f64>>| (0..4).map(|t| tr[tags[t]][tags[t + 1]]).sum::<f64>();
    close("value", v, plain_t(&tr), 1e-13);
    for i in 0..3 {
        close_all("∂tr", &g[i], &cnt[i]);
    }
    let r = autodiff::check::gradcheck(plain_t, &tr, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A prototypical network: the support set's positions grouped by label in the function
// (`groups[l].push(i)` of a local `Vec<Vec<usize>>`), each class's prototype the mean of
// `emb.select(Axis(0), g)`, then a softmax over negative squared distances for each query.
// The group was moved out of its `Vec` for `select`, which takes `&[usize]` (rustc's errors in
// the generated code): `select` lends its indices, whatever holds them.
// ---------------------------------------------------------------------------------------------

/// `Σ_q [lse_c(−‖x_q − p_c‖²) + ‖x_q − p_{y_q}‖²]`, `p_c` the mean of the support rows of class
/// `c`.
#[differentiate(wrt(emb))]
fn proto_loss(emb: &Array2<f64>, support: &[usize], queries: &Array2<f64>, qy: &[usize]) -> f64 {
    let k = qy.iter().chain(support).copied().max().unwrap() + 1;
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in support.iter().enumerate() {
        groups[l].push(i);
    }
    let mut protos = Vec::new();
    for g in groups.iter() {
        protos.push(emb.select(Axis(0), g).mean_axis(Axis(0)).unwrap());
    }
    let mut loss = 0.0;
    for (q, &y) in queries.outer_iter().zip(qy) {
        let d: Vec<f64> = protos
            .iter()
            .map(|p| -(&q - p).mapv(|v| v * v).sum())
            .collect();
        let m = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        loss += m + d.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - d[y];
    }
    loss
}

/// With `r_{qc} = softmax_c(−‖x_q − p_c‖²)` and `n_c` the size of class `c`'s group,
/// ∂/∂emb_i = Σ_q 2(r_{q,c_i} − [y_q = c_i])·(x_q − p_{c_i}) / n_{c_i}, `c_i` row `i`'s class.
#[test]
fn prototypes_from_groups_built_in_the_function() {
    let emb = matrix(6, 2, 0.7);
    let support = [0usize, 1, 2, 0, 1, 2];
    let queries = matrix(3, 2, 3.1);
    let qy = [2usize, 0, 1];
    let protos = |e: &Array2<f64>| -> Vec<Vec<f64>> {
        (0..3)
            .map(|c| {
                let rows: Vec<usize> = (0..6).filter(|&i| support[i] == c).collect();
                (0..2)
                    .map(|j| rows.iter().map(|&i| e[[i, j]]).sum::<f64>() / rows.len() as f64)
                    .collect()
            })
            .collect()
    };
    let plain = |e: &Array2<f64>| -> f64 {
        let p = protos(e);
        (0..3)
            .map(|q| {
                let d: Vec<f64> = (0..3)
                    .map(|c| {
                        -(0..2)
                            .map(|j| (queries[[q, j]] - p[c][j]).powi(2))
                            .sum::<f64>()
                    })
                    .collect();
                d.iter().map(|v| v.exp()).sum::<f64>().ln() - d[qy[q]]
            })
            .sum()
    };
    let (v, g) = proto_loss_grad(&emb, &support, &queries, &qy);
    close("value", v, plain(&emb), 1e-13);
    close("value", v, proto_loss(&emb, &support, &queries, &qy), 1e-13);
    let p = protos(&emb);
    let mut expected = Array2::<f64>::zeros((6, 2));
    for q in 0..3 {
        let d: Vec<f64> = (0..3)
            .map(|c| {
                -(0..2)
                    .map(|j| (queries[[q, j]] - p[c][j]).powi(2))
                    .sum::<f64>()
            })
            .collect();
        let z: f64 = d.iter().map(|v| v.exp()).sum();
        for i in 0..6 {
            let c = support[i];
            let r = d[c].exp() / z - if qy[q] == c { 1.0 } else { 0.0 };
            for j in 0..2 {
                expected[[i, j]] += 2.0 * r * (queries[[q, j]] - p[c][j]) / 2.0;
            }
        }
    }
    close_all("∂emb", g.as_slice().unwrap(), expected.as_slice().unwrap());
    let r = autodiff::check::gradcheck(plain, &emb, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// An item of a chain over references compared with a reference written to match it: `w > &0.0`
// of `e.iter().zip(&scores).map(|(w, s)| ..)`, `.filter(|v| v > &&t)`, `v >= t` of a parameter
// `t: &f64`. The item is read as the element, and the comparison was of an `f64` with an
// `&f64` (rustc's "expected `f64`, found `&f64`" in the generated code): the reference on the
// other side is read through too.
// ---------------------------------------------------------------------------------------------

/// Attention over padded keys, each query's keys masked to `−∞` where `mask[i][j]` is false and
/// the masked weights (exactly 0) skipped: `Σ_i Σ_{j kept} p_ij·s_ij`, `p_i = softmax(s_i)` over
/// the kept keys, `s_ij = q_i·k_j`.
#[differentiate(hessian)]
fn padded_expected_score(q: &[Vec<f64>], k: &[Vec<f64>], mask: &[Vec<bool>]) -> f64 {
    let mut out = 0.0;
    for i in 0..q.len() {
        let mut scores: Vec<f64> = k
            .iter()
            .map(|kj| q[i].iter().zip(kj).map(|(a, b)| a * b).sum())
            .collect();
        for (s, &m) in scores.iter_mut().zip(&mask[i]) {
            if !m {
                *s = f64::NEG_INFINITY;
            }
        }
        let mx = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = scores.iter().map(|s| (s - mx).exp()).collect();
        let z: f64 = e.iter().sum();
        out += e
            .iter()
            .zip(&scores)
            .map(|(w, s)| if w > &0.0 { w / z * s } else { 0.0 })
            .sum::<f64>();
    }
    out
}

/// `Σ_{v > t} v·t`, by a filter comparing references.
#[differentiate]
fn above_threshold(x: &[f64], t: f64) -> f64 {
    x.iter().filter(|v| v > &&t).map(|v| v * t).sum::<f64>()
}

/// `Σ_{v ≥ t} v²`, `t` taken by reference.
#[differentiate]
fn above_ref_threshold(x: &[f64], t: &f64) -> f64 {
    let mut s = 0.0;
    for v in x.iter() {
        if v >= t {
            s += v * v;
        }
    }
    s
}

/// With `p_ij` the softmax over the kept keys and `E_i = Σ_j p_ij·s_ij`: ∂E_i/∂s_ij =
/// p_ij·(1 + s_ij − E_i), so ∂/∂q_i = Σ_j p_ij(1 + s_ij − E_i)·k_j and ∂/∂k_j = Σ_i (same)·q_i.
/// For the thresholds: ∂/∂x_i = t·[x_i > t], ∂/∂t = Σ_{x_i > t} x_i; ∂/∂x_i = 2x_i·[x_i ≥ t].
#[test]
fn masked_weights_skipped_by_comparing_references() {
    let q: Vec<Vec<f64>> = (0..3).map(|i| data(2, 0.3 + 3.0 * i as f64)).collect();
    let k: Vec<Vec<f64>> = (0..4).map(|j| data(2, 1.1 + 2.0 * j as f64)).collect();
    let mask = vec![
        vec![true, true, false, false],
        vec![true, false, true, true],
        vec![false, true, true, false],
    ];
    type P = (Vec<Vec<f64>>, Vec<Vec<f64>>);
    let plain = |p: &P| -> f64 {
        let (q, k) = p;
        let mut out = 0.0;
        for i in 0..3 {
            let s: Vec<(usize, f64)> = (0..4)
                .filter(|&j| mask[i][j])
                .map(|j| (j, q[i][0] * k[j][0] + q[i][1] * k[j][1]))
                .collect();
            let z: f64 = s.iter().map(|(_, v)| v.exp()).sum();
            out += s.iter().map(|(_, v)| v.exp() / z * v).sum::<f64>();
        }
        out
    };
    let (v, (gq, gk)) = padded_expected_score_grad(&q, &k, &mask);
    close("value", v, plain(&(q.clone(), k.clone())), 1e-13);
    let (mut eq, mut ek) = (vec![vec![0.0; 2]; 3], vec![vec![0.0; 2]; 4]);
    for i in 0..3 {
        let s: Vec<f64> = (0..4)
            .map(|j| q[i][0] * k[j][0] + q[i][1] * k[j][1])
            .collect();
        let z: f64 = (0..4).filter(|&j| mask[i][j]).map(|j| s[j].exp()).sum();
        let e: f64 = (0..4)
            .filter(|&j| mask[i][j])
            .map(|j| s[j].exp() / z * s[j])
            .sum();
        for j in (0..4).filter(|&j| mask[i][j]) {
            let d = s[j].exp() / z * (1.0 + s[j] - e);
            for c in 0..2 {
                eq[i][c] += d * k[j][c];
                ek[j][c] += d * q[i][c];
            }
        }
    }
    for i in 0..3 {
        close_all("∂q", &gq[i], &eq[i]);
    }
    for j in 0..4 {
        close_all("∂k", &gk[j], &ek[j]);
    }
    let x0 = (q.clone(), k.clone());
    let r = autodiff::check::gradcheck(plain, &x0, &(gq, gk));
    assert!(r.passed(), "{r}");
    let d: P = (
        (0..3).map(|i| data(2, 5.0 + i as f64)).collect(),
        (0..4).map(|j| data(2, 9.0 + j as f64)).collect(),
    );
    let (_, t) = padded_expected_score_jvp(&q, &k, &mask, &d.0, &d.1);
    let r = autodiff::check::jvpcheck(plain, &x0, &d, &t);
    assert!(r.passed(), "{r}");
    let (_, _, hv) = padded_expected_score_hvp(&q, &k, &mask, &d.0, &d.1);
    let grad = |p: &P| padded_expected_score_grad(&p.0, &p.1, &mask).1;
    let r = autodiff::check::hvpcheck(grad, &x0, &d, &hv);
    assert!(r.passed(), "{r}");

    let x = vec![0.3, -1.2, 2.0, 0.5, 0.7];
    let (v, (gx, gt)) = above_threshold_grad(&x, 0.4);
    close(
        "value",
        v,
        x.iter().filter(|&&v| v > 0.4).map(|v| v * 0.4).sum(),
        1e-14,
    );
    let ex: Vec<f64> = x.iter().map(|&v| if v > 0.4 { 0.4 } else { 0.0 }).collect();
    close_all("∂x", &gx, &ex);
    close("∂t", gt, x.iter().filter(|&&v| v > 0.4).sum(), 1e-14);
    let r = autodiff::check::gradcheck(
        |p: &(Vec<f64>, f64)| above_threshold(&p.0, p.1),
        &(x.clone(), 0.4),
        &(gx, gt),
    );
    assert!(r.passed(), "{r}");
    let (v, (gx, _)) = above_ref_threshold_grad(&x, &0.4);
    close("value", v, above_ref_threshold(&x, &0.4), 1e-14);
    let ex: Vec<f64> = x
        .iter()
        .map(|&v| if v >= 0.4 { 2.0 * v } else { 0.0 })
        .collect();
    close_all("∂x", &gx, &ex);
    fd_vec("∂x", |p| above_ref_threshold(p, &0.4), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// A method whose filter predicate, run as written, reads the receiver's fields (`.filter(|(w,
// _)| **w > self.thr)`): the predicate was given `self` by a `let`, rustc's "expected unit
// struct, unit variant or constant, found local variable `self`" in the generated code; and a
// field lent to a comparison with an item (`if v > &self.thr`), rustc's "expected `f64`, found
// `&f64`"; and a `match` guard reading the receiver (`c if c as f64 > self.thr * 10.0`), the
// same error as the predicate's.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
pub struct Gate {
    pub w: Vec<f64>,
    pub thr: f64,
}

#[differentiate(wrt(self))]
impl Gate {
    /// `Σ_{w_i > thr} w_i·x_i` by a filtered chain.
    fn kept(&self, x: &[f64]) -> f64 {
        self.w
            .iter()
            .zip(x)
            .filter(|(w, _)| **w > self.thr)
            .map(|(w, x)| w * x)
            .sum()
    }

    /// `s·Σ w_i·x_i`, `s = 2` where more than `10·thr` inputs are positive (a `match` guard
    /// reading the field), else 1.
    fn tiered(&self, x: &[f64]) -> f64 {
        let n = x.iter().filter(|&&v| v > 0.0).count();
        let scale = match n {
            c if c as f64 > self.thr * 10.0 => 2.0,
            _ => 1.0,
        };
        scale * self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
    }

    /// `Σ_{w_i > thr} (w_i − thr)²` by a loop comparing with the field lent.
    fn excess(&self) -> f64 {
        let mut s = 0.0;
        for v in self.w.iter() {
            if v > &self.thr {
                s += (v - self.thr).powi(2);
            }
        }
        s
    }
}

/// ∂kept/∂w_i = x_i·[w_i > thr], ∂kept/∂thr = 0; ∂excess/∂w_i = 2(w_i − thr)·[w_i > thr],
/// ∂excess/∂thr = −Σ of those; ∂tiered/∂w_i = 2x_i here (5 positive inputs > 4), ∂/∂thr = 0.
#[test]
fn filters_reading_the_receivers_fields() {
    let g = Gate {
        w: vec![0.3, -1.2, 2.0, 0.5, 0.7],
        thr: 0.4,
    };
    let x = vec![1.0, 2.0, 3.0, 4.0, 5.0];
    let above: Vec<bool> = g.w.iter().map(|&w| w > 0.4).collect();
    let (v, d) = g.kept_grad(&x);
    close("value", v, g.kept(&x), 1e-14);
    let e: Vec<f64> = (0..5).map(|i| if above[i] { x[i] } else { 0.0 }).collect();
    close_all("∂w", &d.w, &e);
    close("∂thr", d.thr, 0.0, 1e-14);
    let flat = |p: &(Vec<f64>, f64)| Gate {
        w: p.0.clone(),
        thr: p.1,
    };
    let r = autodiff::check::gradcheck(
        |p: &(Vec<f64>, f64)| flat(p).kept(&x),
        &(g.w.clone(), 0.4),
        &(d.w, d.thr),
    );
    assert!(r.passed(), "{r}");
    let (v, d) = g.tiered_grad(&x);
    close(
        "value",
        v,
        2.0 * g.w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>(),
        1e-14,
    );
    let e: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    close_all("∂w", &d.w, &e);
    close("∂thr", d.thr, 0.0, 1e-14);
    let r = autodiff::check::gradcheck(
        |p: &(Vec<f64>, f64)| flat(p).tiered(&x),
        &(g.w.clone(), 0.4),
        &(d.w, d.thr),
    );
    assert!(r.passed(), "{r}");
    let (v, d) = g.excess_grad();
    let plain: f64 =
        g.w.iter()
            .filter(|&&w| w > 0.4)
            .map(|w| (w - 0.4).powi(2))
            .sum();
    close("value", v, plain, 1e-14);
    let e: Vec<f64> = (0..5)
        .map(|i| if above[i] { 2.0 * (g.w[i] - 0.4) } else { 0.0 })
        .collect();
    close_all("∂w", &d.w, &e);
    close("∂thr", d.thr, -e.iter().sum::<f64>(), 1e-14);
    let r = autodiff::check::gradcheck(
        |p: &(Vec<f64>, f64)| flat(p).excess(),
        &(g.w.clone(), 0.4),
        &(d.w, d.thr),
    );
    assert!(r.passed(), "{r}");
}
