//! Log-densities and energies written the way a statistician or a simulation scientist writes
//! them, each checked against its analytic gradient (stated beside the function) and central
//! finite differences.
//!
//! Data of a generic row type, `data: &[D]` with `D: AsRef<[f64]>` (a design matrix passed as
//! `Vec<Vec<f64>>` or as `[[f64; 2]; n]` alike), left out by `wrt(..)` as the contract allows, was
//! rustc's "the trait bound `D: Clone` is not satisfied" inside the generated code for `for row
//! in data { let r = row.as_ref(); .. }`: the loop's item was copied out of the slice, where Rust
//! lends it. A row of data read only through `as_ref` (also `as_slice`, `as_str`, `as_bytes`,
//! `borrow`) is now lent. Read by index, `data[i].as_ref()`, it was taken for a `Vec` and made
//! `&data[i][..]`, rustc's "cannot index into a value of type `&D`": an element of a data
//! parameter runs `as_ref` as written, as the loop's item does.
//!
//! Observations as a slice of the user's structs that are not `Clone` (`obs: &[Obs]` with a
//! field `kind: Kind` of an enum deriving only `PartialEq`), matched on by `match o.kind {
//! Kind::Count => .., Kind::Gauss => .. }` or compared by `o.kind == Kind::Gauss`, were rustc's
//! "the trait bound `Kind: Clone` is not satisfied" inside the generated code: the field was
//! copied out to be matched. A field of data read only by a `match` or a comparison is now read
//! in place, as Rust reads it. So is one taken apart by `if let Tag::B(k) = r.tag` (an index in
//! the variant), which was rustc's "cannot move out of a shared reference".

use autodiff::differentiate;

mod common;
use common::*;

/// Σ_rows tanh(w·r): ∂/∂w_k = Σ_rows (1 − tanh²(w·r)) r_k.
#[differentiate(wrt(w))]
fn tanh_features<D>(w: &[f64], data: &[D]) -> f64
where
    D: AsRef<[f64]>,
{
    let mut s = 0.0;
    for row in data {
        let r = row.as_ref();
        let z: f64 = w.iter().zip(r).map(|(a, b)| a * b).sum();
        s += z.tanh();
    }
    s
}

/// The same sum as an iterator chain, with a Hessian: ∂²/∂w_j∂w_k = Σ −2 tanh(z)(1 − tanh²(z)) r_j r_k.
#[differentiate(hessian, wrt(w))]
fn tanh_features_chain<D: AsRef<[f64]>>(w: &[f64], data: &[D]) -> f64 {
    data.iter()
        .map(|row| {
            let r = row.as_ref();
            let z: f64 = w.iter().zip(r.iter()).map(|(a, b)| a * b).sum();
            z.tanh()
        })
        .sum()
}

/// Σ_i sin(w₀ r_i0 + w₁ r_i1) by index: ∂/∂w_k = Σ_i cos(..) r_ik.
#[differentiate(wrt(w))]
fn sin_features_indexed<D: AsRef<[f64]>>(w: &[f64], data: &[D]) -> f64 {
    let mut s = 0.0;
    for i in 0..data.len() {
        let r = data[i].as_ref();
        s += (w[0] * r[0] + w[1] * r[1]).sin();
    }
    s
}

fn tanh_features_analytic(w: &[f64], data: &[Vec<f64>]) -> Vec<f64> {
    let mut g = vec![0.0; w.len()];
    for r in data {
        let z: f64 = w.iter().zip(r).map(|(a, b)| a * b).sum();
        let t = z.tanh();
        for k in 0..w.len() {
            g[k] += (1.0 - t * t) * r[k];
        }
    }
    g
}

#[test]
fn generic_rows_of_data_are_lent() {
    let rows = vec![vec![1.0, 0.5], vec![-0.3, 0.8], vec![0.7, -1.2]];
    let arrays = [[1.0, 0.5], [-0.3, 0.8], [0.7, -1.2]];
    let w = [0.4, -0.6];
    let expected = tanh_features_analytic(&w, &rows);

    let (_, g) = tanh_features_grad(&w, &rows);
    close_all("loop over Vec rows", &g, &expected);
    fd_vec("loop over Vec rows", |q| tanh_features(q, &rows), &w, &g);
    let (_, g) = tanh_features_grad(&w, &arrays);
    close_all("loop over array rows", &g, &expected);

    let (_, g) = tanh_features_chain_grad(&w, &rows);
    close_all("chain", &g, &expected);
    let (_, g) = tanh_features_chain_grad(&w, &arrays);
    close_all("chain over arrays", &g, &expected);
    let v = [0.3, -0.7];
    let (_, g, hv) = tanh_features_chain_hvp(&w, &rows, &v.to_vec());
    close_all("chain's gradient with the Hessian", &g, &expected);
    hvp_against_fd(
        "chain",
        |q| tanh_features_chain_grad(q, &rows).1,
        &w,
        &v,
        &hv,
    );

    let (_, g) = sin_features_indexed_grad(&w, &rows);
    let expected: Vec<f64> = (0..2)
        .map(|k| {
            rows.iter()
                .map(|r| (w[0] * r[0] + w[1] * r[1]).cos() * r[k])
                .sum()
        })
        .collect();
    close_all("indexed", &g, &expected);
    fd_vec("indexed", |q| sin_features_indexed(q, &arrays), &w, &g);
}

#[derive(Debug, PartialEq)]
enum Kind {
    Count,
    Gauss,
}

struct Obs {
    x: f64,
    y: f64,
    kind: Kind,
}

/// Σ_o w_o ℓ_o(θ₀ + θ₁ x_o) with ℓ = y η − e^η (counts) or −(y − η)²/2 (Gaussian), less
/// 0.01 θ₀ x_o for each Gaussian observation:
/// ∂/∂θ₀ = Σ_count (y − e^η) + Σ_gauss ((y − η) − 0.01 x), ∂/∂θ₁ = Σ_count (y − e^η) x + Σ_gauss (y − η) x.
#[differentiate(wrt(theta))]
fn mixed_likelihood(theta: &[f64], obs: &[Obs]) -> f64 {
    let mut ll = 0.0;
    for o in obs {
        let eta = theta[0] + theta[1] * o.x;
        ll += match o.kind {
            Kind::Count => o.y * eta - eta.exp(),
            Kind::Gauss => -0.5 * (o.y - eta).powi(2),
        };
    }
    for i in 0..obs.len() {
        let o = &obs[i];
        if o.kind == Kind::Gauss {
            ll -= 0.01 * theta[0] * o.x;
        }
    }
    ll
}

#[test]
fn fields_of_data_without_clone_are_matched_in_place() {
    let obs = vec![
        Obs {
            x: 0.5,
            y: 2.0,
            kind: Kind::Count,
        },
        Obs {
            x: -1.0,
            y: 0.2,
            kind: Kind::Gauss,
        },
        Obs {
            x: 1.5,
            y: 0.7,
            kind: Kind::Gauss,
        },
    ];
    let theta = [0.1, -0.3];
    let (_, g) = mixed_likelihood_grad(&theta, &obs);
    let mut expected = [0.0, 0.0];
    for o in &obs {
        let eta = theta[0] + theta[1] * o.x;
        let r = match o.kind {
            Kind::Count => o.y - eta.exp(),
            Kind::Gauss => o.y - eta,
        };
        expected[0] += r;
        expected[1] += r * o.x;
        if o.kind == Kind::Gauss {
            expected[0] -= 0.01 * o.x;
        }
    }
    close_all("match and comparison on a field of data", &g, &expected);
    fd_vec(
        "mixed likelihood",
        |q| mixed_likelihood(q, &obs),
        &theta,
        &g,
    );
    let (_, t) = mixed_likelihood_jvp(&theta, &obs, &vec![1.0, 0.0]);
    close("tangent along θ₀", t, expected[0], 1e-12);
}

#[derive(Debug, PartialEq)]
enum Tag {
    A,
    B(usize),
}

struct Rec {
    x: f64,
    tag: Tag,
}

/// Σ_{B(k)} θ_{k mod 2} x + Σ_A sin θ₀ x + Σ_{not A} θ₁²:
/// ∂/∂θ₀ = Σ_{B(k), k even} x + Σ_A cos θ₀ x, ∂/∂θ₁ = Σ_{B(k), k odd} x + Σ_{not A} 2θ₁.
#[differentiate(wrt(theta))]
fn tagged(theta: &[f64], recs: &[Rec]) -> f64 {
    let mut s = 0.0;
    for r in recs {
        if let Tag::B(k) = r.tag {
            s += theta[k % 2] * r.x;
        }
        if matches!(r.tag, Tag::A) {
            s += theta[0].sin() * r.x;
        }
        if r.tag != Tag::A {
            s += theta[1] * theta[1];
        }
    }
    s
}

#[test]
fn variants_of_data_without_clone_are_taken_apart_in_place() {
    let recs = vec![
        Rec {
            x: 0.5,
            tag: Tag::A,
        },
        Rec {
            x: -1.0,
            tag: Tag::B(3),
        },
        Rec {
            x: 2.0,
            tag: Tag::B(0),
        },
    ];
    let theta = [0.3, -0.7];
    let (_, g) = tagged_grad(&theta, &recs);
    let expected = [2.0 + theta[0].cos() * 0.5, -1.0 + 2.0 * 2.0 * theta[1]];
    close_all("if let, matches! and != on a field of data", &g, &expected);
    fd_vec("tagged", |q| tagged(q, &recs), &theta, &g);
}
