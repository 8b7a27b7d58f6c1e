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
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![deny(warnings)]

use autodiff::differentiate;
use std::borrow::Cow;
use std::collections::BTreeSet;

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
