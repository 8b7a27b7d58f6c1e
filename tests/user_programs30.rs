//! Small losses written with the breadth of Rust an engineer reaches for: borrowed and shared
//! data (`Cow`, `Box<[f64]>`, `Rc`), float methods of `std`, and the items around them.
//!
//! A data parameter held in a `Cow` (`x: Cow<'_, [f64]>`, a sample that is borrowed or owned
//! as the caller has it) was taken for a struct of the user's, so `x.len()` and `x.iter()` were
//! called through its type, `Cow::len(&x)`: rustc's "the variant or associated item `len`
//! exists for enum `Cow<'_, _>`, but its trait bounds were not satisfied" at the call. `Cow`
//! (and std's other containers and locks, `BTreeSet`, `BinaryHeap`, `LinkedList`, `Mutex`,
//! `RwLock`) are library types whose methods run as written.
//!
//! A field of data held in an `Rc`, an `Arc` or a `Cow` (`x: Rc<Vec<f64>>`, `y: Arc<[f64]>`,
//! `w: Cow<'a, [f64]>` of a struct of samples shared between fits) iterated in a chain,
//! `ctx.x.iter().zip(ctx.y.iter())`, was rustc's "the elements of `Rc<Vec<f64>>` are iterated
//! here as a vector's" inside the generated code, though a `Box` of the same was followed: each
//! of them is a vector where what it holds is one.
//!
//! A parameter struct with data shared between models, a graph's adjacency in an `Rc`
//! (`adj: Rc<Vec<Vec<usize>>>` beside `w: Vec<f64>`), was taken for a differentiated field:
//! rustc's "`Rc<Vec<Vec<usize>>>` is not differentiable" at the derive. An `Rc`, an `Arc` or a
//! `Cow` of data is data, as a `Box` of it is, and the gradient holds a copy of it.
//!
//! Data with an elided lifetime beside a borrowed parameter, `fn fit(x: &[f64], reg:
//! Option<f64>, target: Cow<'_, [f64]>)`, was rustc's "explicit lifetime required in the type
//! of `target`" at the attribute: the pullback `fit_vjp` returns may keep what it was given, and
//! lives as long as the borrow of `x`, which the elided lifetime was not named to outlive. An
//! elided lifetime in a parameter's type (`Cow<'_, [f64]>`, `&Batch<'_>`) is named as a
//! reference's is.
//!
//! `x.div_euclid(m)` on a differentiated value was an error that it had no derivative rule,
//! though `x.rem_euclid(m)` beside it had one: the quotient is piecewise constant, with
//! derivative zero in both operands (its jumps ignored, as `floor`'s are).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![deny(warnings)]

use autodiff::{Differentiable, differentiate};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

mod common;
use common::*;

// The negative log-likelihood of a Gaussian with mean `mu` and log-sd `s`:
// ½ Σ (x − μ)² e^{−2s} + n s; ∂/∂μ = −Σ (x − μ) e^{−2s}, ∂/∂s = −Σ (x − μ)² e^{−2s} + n.
#[differentiate(wrt(mu, s))]
fn gaussian_nll(mu: f64, s: f64, x: Cow<'_, [f64]>) -> f64 {
    let var = (2.0 * s).exp();
    let n = x.len() as f64;
    let ss: f64 = x.iter().map(|&v| (v - mu) * (v - mu)).sum();
    0.5 * ss / var + n * s
}

// Σ sin(w_i x_i) over a borrowed `Cow`: ∂/∂w_i = x_i cos(w_i x_i).
#[differentiate(wrt(w))]
fn sin_features(w: &[f64], x: &Cow<[f64]>) -> f64 {
    let mut acc = 0.0;
    for (a, b) in w.iter().zip(x.iter()) {
        acc += (a * b).sin();
    }
    acc
}

// Σ_{i ∈ keep} w_i² + |keep|·w_0: ∂/∂w_i = 2 w_i [i ∈ keep] + |keep| [i = 0].
#[differentiate(wrt(w))]
fn kept_squares(w: &[f64], keep: &BTreeSet<usize>) -> f64 {
    let mut s = keep.len() as f64 * w[0];
    for i in 0..w.len() {
        if keep.contains(&i) {
            s += w[i] * w[i];
        }
    }
    s
}

#[test]
fn a_cow_of_data_is_read_through_its_slice() {
    let x = data(6, 0.5);
    let (mu, s) = (0.1, 0.2);
    let (v, (gm, gs)) = gaussian_nll_grad(mu, s, Cow::Borrowed(&x));
    close("value", v, gaussian_nll(mu, s, Cow::Borrowed(&x)), TOL);
    let e2s = (-2.0 * s).exp();
    let dmu = -x.iter().map(|v| v - mu).sum::<f64>() * e2s;
    let ds = -x.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() * e2s + x.len() as f64;
    close2("nll", (gm, gs), (dmu, ds));
    fd2(
        "nll",
        |m, s| gaussian_nll(m, s, Cow::Borrowed(&x)),
        (mu, s),
        (gm, gs),
    );
    // An owned `Cow` gives the same gradient.
    let (_, owned) = gaussian_nll_grad(mu, s, Cow::Owned(x.clone()));
    close2("owned", owned, (gm, gs));

    let c: Cow<[f64]> = Cow::Owned(x.clone());
    let w = data(6, 3.0);
    let (_, g) = sin_features_grad(&w, &c);
    let expected: Vec<f64> = w.iter().zip(&x).map(|(a, b)| b * (a * b).cos()).collect();
    close_all("sin_features", &g, &expected);
    fd_vec("sin_features", |w| sin_features(w, &c), &w, &g);

    let keep: BTreeSet<usize> = [1, 3, 4].into_iter().collect();
    let (_, g) = kept_squares_grad(&w, &keep);
    let mut expected = vec![0.0; w.len()];
    expected[0] = 3.0;
    for &i in &keep {
        expected[i] += 2.0 * w[i];
    }
    close_all("kept_squares", &g, &expected);
    fd_vec("kept_squares", |w| kept_squares(w, &keep), &w, &g);
}

/// Samples shared between fits: the inputs in an `Rc`, the targets in an `Arc`, the weights
/// borrowed or owned.
struct Samples<'a> {
    x: Rc<Vec<f64>>,
    y: Arc<[f64]>,
    w: Cow<'a, [f64]>,
}

// Weighted least squares Σ w_i (a x_i + b − y_i)²: ∂/∂a = Σ 2 w_i r_i x_i, ∂/∂b = Σ 2 w_i r_i.
#[differentiate(wrt(p))]
fn weighted_fit(p: &[f64], s: &Samples) -> f64 {
    s.x.iter()
        .zip(s.y.iter())
        .zip(s.w.iter())
        .map(|((x, y), w)| w * (p[0] * x + p[1] - y).powi(2))
        .sum()
}

// The same written as a loop over the fields, each also iterated alone.
#[differentiate(wrt(p))]
fn weighted_fit_loop(p: &[f64], s: &Samples<'_>) -> f64 {
    let mut total = 0.0;
    for (i, (&x, &y)) in s.x.iter().zip(s.y.iter()).enumerate() {
        total += s.w[i] * (p[0] * x + p[1] - y).powi(2);
    }
    let wsum: f64 = s.w.iter().sum();
    total / wsum
}

#[test]
fn shared_fields_of_data_are_iterated_as_vectors() {
    let x = data(5, 0.0);
    let y = data(5, 1.0);
    let w = [1.0, 0.5, 2.0, 1.0, 0.25];
    let s = Samples {
        x: Rc::new(x.clone()),
        y: y.clone().into(),
        w: Cow::Borrowed(&w),
    };
    let p = [0.4, -0.2];
    let (_, g) = weighted_fit_grad(&p, &s);
    let r: Vec<f64> = x.iter().zip(&y).map(|(x, y)| p[0] * x + p[1] - y).collect();
    let da: f64 = (0..5).map(|i| 2.0 * w[i] * r[i] * x[i]).sum();
    let db: f64 = (0..5).map(|i| 2.0 * w[i] * r[i]).sum();
    close_all("weighted_fit", &g, &[da, db]);
    fd_vec("weighted_fit", |p| weighted_fit(p, &s), &p, &g);
    let (_, g) = weighted_fit_loop_grad(&p, &s);
    let wsum: f64 = w.iter().sum();
    close_all("weighted_fit_loop", &g, &[da / wsum, db / wsum]);
    fd_vec("weighted_fit_loop", |p| weighted_fit_loop(p, &s), &p, &g);
}

/// Node values on a graph whose adjacency several models share.
#[derive(Clone, Debug, Differentiable)]
struct Graph {
    w: Vec<f64>,
    adj: Rc<Vec<Vec<usize>>>,
}

// Σ_i Σ_{j ∈ adj(i)} (w_i − w_j)²: ∂/∂w_k = Σ_{j ∈ adj(k)} 2(w_k − w_j) − Σ_{i: k ∈ adj(i)}
// 2(w_i − w_k).
#[differentiate]
fn roughness(g: &Graph) -> f64 {
    let mut s = 0.0;
    for i in 0..g.w.len() {
        for &j in &g.adj[i] {
            s += (g.w[i] - g.w[j]).powi(2);
        }
    }
    s
}

#[test]
fn an_rc_of_data_in_a_parameter_struct_is_data() {
    let adj = Rc::new(vec![vec![1, 2], vec![0], vec![3], vec![0, 1]]);
    let g = Graph {
        w: data(4, 0.0),
        adj: adj.clone(),
    };
    let (_, grad) = roughness_grad(&g);
    let mut expected = vec![0.0; 4];
    for i in 0..4 {
        for &j in &adj[i] {
            let d = 2.0 * (g.w[i] - g.w[j]);
            expected[i] += d;
            expected[j] -= d;
        }
    }
    close_all("roughness", &grad.w, &expected);
    assert!(Rc::ptr_eq(&grad.adj, &adj) || *grad.adj == *adj);
    let f = |w: &[f64]| {
        roughness(&Graph {
            w: w.to_vec(),
            adj: adj.clone(),
        })
    };
    fd_vec("roughness", f, &g.w, &grad.w);
}

/// A batch of borrowed samples.
struct Batch<'a> {
    x: &'a [f64],
    y: &'a [f64],
}

// ½ Σ (x_i − t_i)² λ + x_0² + e^{x_{n−1}} with λ = reg or 0.1:
// ∂/∂x_i = λ (x_i − t_i) + 2 x_0 [i = 0] + e^{x_{n−1}} [i = n − 1]; the Hessian is λ I plus
// 2 at (0, 0) and e^{x_{n−1}} at (n − 1, n − 1).
#[differentiate(hessian, wrt(x))]
fn pulled_to(x: &[f64], reg: Option<f64>, target: Cow<'_, [f64]>) -> f64 {
    let lam = reg.unwrap_or(0.1);
    let pen: f64 = x
        .iter()
        .zip(target.iter())
        .map(|(v, t)| (v - t) * (v - t))
        .sum::<f64>();
    0.5 * lam * pen + x[0] * x[0] + x[x.len() - 1].exp()
}

// Least squares of a line through a batch borrowed as `&Batch<'_>`, with the slope's prior
// mean a slice: Σ (a x_i + b − y_i)²/n + (a − m_0)²; ∂/∂a = Σ 2 r_i x_i/n + 2(a − m_0),
// ∂/∂b = Σ 2 r_i/n.
#[differentiate(wrt(p))]
fn line_fit(p: &[f64], prior: &[f64], batch: &Batch<'_>) -> f64 {
    let n = batch.x.len() as f64;
    let sse: f64 = batch
        .x
        .iter()
        .zip(batch.y)
        .map(|(x, y)| (p[0] * x + p[1] - y).powi(2))
        .sum();
    sse / n + (p[0] - prior[0]).powi(2)
}

#[test]
fn an_elided_lifetime_of_data_is_named_for_the_pullback() {
    let x = data(4, 2.0);
    let t = data(4, 3.0);
    let d = [1.0, -1.0, 0.5, 0.25];
    let lam = 0.3;
    let (_, g) = pulled_to_grad(&x, Some(lam), Cow::Borrowed(&t));
    let mut expected: Vec<f64> = x.iter().zip(&t).map(|(v, t)| lam * (v - t)).collect();
    expected[0] += 2.0 * x[0];
    expected[3] += x[3].exp();
    close_all("pulled_to", &g, &expected);
    fd_vec(
        "pulled_to",
        |x| pulled_to(x, Some(lam), Cow::Borrowed(&t)),
        &x,
        &g,
    );
    let (_, pullback) = pulled_to_vjp(&x, Some(lam), Cow::Borrowed(&t));
    close_all(
        "pulled_to vjp",
        &pullback(2.0),
        &expected.iter().map(|v| 2.0 * v).collect::<Vec<_>>(),
    );
    let (_, tangent) = pulled_to_jvp(&x, Some(lam), Cow::Borrowed(&t), &d.to_vec());
    let dot: f64 = expected.iter().zip(&d).map(|(a, b)| a * b).sum();
    close("pulled_to jvp", tangent, dot, TOL);
    let (_, _, hv) = pulled_to_hvp(&x, Some(lam), Cow::Borrowed(&t), &d.to_vec());
    let mut h: Vec<f64> = d.iter().map(|v| lam * v).collect();
    h[0] += 2.0 * d[0];
    h[3] += x[3].exp() * d[3];
    close_all("pulled_to hvp", &hv, &h);

    let (xs, ys) = (data(5, 0.0), data(5, 1.0));
    let batch = Batch { x: &xs, y: &ys };
    let (p, prior) = ([0.4, -0.2], [0.1]);
    let (_, g) = line_fit_grad(&p, &prior, &batch);
    let r: Vec<f64> = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| p[0] * x + p[1] - y)
        .collect();
    let da =
        r.iter().zip(&xs).map(|(r, x)| 2.0 * r * x).sum::<f64>() / 5.0 + 2.0 * (p[0] - prior[0]);
    let db = r.iter().map(|r| 2.0 * r).sum::<f64>() / 5.0;
    close_all("line_fit", &g, &[da, db]);
    fd_vec("line_fit", |p| line_fit(p, &prior, &batch), &p, &g);
}

// A phase wrapped into [0, p) and its period index: x.rem_euclid(p) + 0.1·x.div_euclid(p) +
// 2·(x % p); ∂/∂x = 1 + 0 + 2, ∂/∂p = −q − 2·trunc(x/p) with q = x.div_euclid(p).
#[differentiate]
fn wrapped(x: f64, p: f64) -> f64 {
    x.rem_euclid(p) + x.div_euclid(p) * 0.1 + (x % p) * 2.0
}

// A grid cell's index used as a weight: (1 + x.div_euclid(h)) · x²; ∂/∂x = 2x(1 + q), ∂/∂h = 0.
#[differentiate(hessian)]
fn binned(x: f64, h: f64) -> f64 {
    let q = f64::div_euclid(x, h);
    (1.0 + q) * x * x
}

#[test]
fn div_euclid_has_derivative_zero() {
    for &(x, p) in &[(2.3, 0.7), (-2.3, 0.7), (2.3, -0.7), (-2.3, -0.7)] {
        let (_, g) = wrapped_grad(x, p);
        let q = x.div_euclid(p);
        close2("wrapped", g, (3.0, -q - 2.0 * (x / p).trunc()));
        fd2("wrapped", wrapped, (x, p), g);
        let (_, t) = wrapped_jvp(x, p, 0.5, -1.5);
        close("wrapped jvp", t, 0.5 * g.0 - 1.5 * g.1, TOL);

        let (_, g) = binned_grad(x, p);
        close2("binned", g, (2.0 * x * (1.0 + q), 0.0));
        fd2("binned", binned, (x, p), g);
        // ∂²/∂x² = 2(1 + q), the other entries 0.
        let (_, _, hv) = binned_hvp(x, p, 1.0, 1.0);
        close2("binned hvp", hv, (2.0 * (1.0 + q), 0.0));
    }
    let (_, g) = binned_grad(0.3f64, 0.25);
    close2("binned f64", g, (2.0 * 0.3 * 2.0, 0.0));
}
