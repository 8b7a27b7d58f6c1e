//! ndarray arrays carried by a loop and replaced by arrays of another shape: a layer that
//! widens a state, a pairwise tree reduction that halves it, a first iteration that maps it
//! through a non-square matrix. The pullback took the carried adjoint at each backward
//! iteration leaving zeros of the shape the iteration ended with; the adjoint of what the
//! iteration started with then had that shape: a gradient of the wrong length (`grow` gave
//! `[1, 1, 0, 0]` for a length-2 parameter, silently), or a shape-mismatch panic in the
//! pullback. It now leaves zeros of the shape the iteration started with. The same for `Vec`s
//! of floats (layers of other widths) written from values of a type the macro does not see,
//! and for structs replaced by literals given such `Vec`s. Each gradient is checked against a
//! hand-derived one and central differences.

#![allow(clippy::needless_range_loop)] // the layers written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, array, s};

/// Doubles the length, the old entries at the even positions: Σh = Σx, ∂ = 1.
#[differentiate]
fn grow(x: &Array1<f64>) -> f64 {
    let mut h = x.clone();
    for _ in 0..2 {
        let mut nh = Array1::<f64>::zeros(2 * h.len());
        for i in 0..h.len() {
            nh[2 * i] = h[i] * 1.5;
        }
        h = nh;
    }
    h.sum()
}

/// Multiplies the halves, twice: from [a, b, c, d], [ac, bd], then ac·bd.
#[differentiate]
fn halve(x: &Array1<f64>) -> f64 {
    let mut h = x.clone();
    for _ in 0..2 {
        let n = h.len() / 2;
        let a = h.slice(s![..n]).to_owned();
        let b = h.slice(s![n..]).to_owned();
        h = &a * &b;
    }
    h[0]
}

/// The first iteration maps x (length 2) through W (3×2), the second doubles: Σ 2·W·x.
#[differentiate]
fn widen_then_scale(w: &Array2<f64>, x: &Array1<f64>) -> f64 {
    let mut h = x.clone();
    for i in 0..2 {
        if i == 0 {
            h = w.dot(x);
        } else {
            h = &h * 2.0;
        }
    }
    h.sum()
}

fn zeros_of(n: usize) -> Array1<f64> {
    Array1::zeros(n)
}

/// `grow` on a slice, the replacement made by a plain helper: seen as an array by its declared
/// type.
#[differentiate]
fn grow_declared(x: &[f64]) -> f64 {
    let mut h: Array1<f64> = Array1::from(x.to_vec());
    for _ in 0..2 {
        let mut nh: Array1<f64> = zeros_of(2 * h.len());
        for i in 0..h.len() {
            nh[2 * i] = h[i] * 1.5;
        }
        h = nh;
    }
    h.sum()
}

#[test]
fn arrays_replaced_by_arrays_of_another_shape() {
    let (v, g) = grow_declared_grad(&[0.5, 1.5]);
    assert_eq!(v, grow_declared(&[0.5, 1.5]));
    assert_eq!(g, vec![2.25, 2.25]);
    let x = array![0.5, 1.5];
    let (v, g) = grow_grad(&x);
    assert_eq!(v, grow(&x));
    assert_eq!(g, array![2.25, 2.25]);

    let x = array![0.5, 1.5, -0.7, 2.0];
    let (v, g) = halve_grad(&x);
    assert_eq!(v, halve(&x));
    let (a, b, c, d) = (x[0], x[1], x[2], x[3]);
    let want = array![c * b * d, a * c * d, a * b * d, a * c * b];
    assert!(
        (&g - &want).iter().all(|e| e.abs() < 1e-12),
        "{g} vs {want}"
    );
    gradcheck(|x: &Array1<f64>| halve(x), &x, &g).assert_ok();

    let w = Array2::from_shape_fn((3, 2), |(i, j)| (i + j) as f64 * 0.1 + 0.2);
    let x = array![0.5, 1.5];
    let (v, (gw, gx)) = widen_then_scale_grad(&w, &x);
    assert_eq!(v, widen_then_scale(&w, &x));
    // ∂W = 2·1·xᵀ, ∂x = 2·Wᵀ·1.
    assert_eq!(gw, Array2::from_shape_fn((3, 2), |(_, j)| 2.0 * x[j]));
    assert_eq!(gx, w.t().dot(&Array1::from_elem(3, 2.0)));
    let (_, g2) = grow_grad(&array![0.5, 1.5, 2.0]);
    assert_eq!(g2.len(), 3);
}

/// A differentiated helper's result, which the macro cannot see to be an array, halved by
/// `slice` and multiplied, and mapped through a non-square matrix: the shape-changing
/// operations (`slice`, `dot`) show that the carried value is an array. Both panicked on a
/// shape mismatch in the pullback.
#[differentiate]
fn doubled(x: &Array1<f64>) -> Array1<f64> {
    x * 2.0
}

#[differentiate]
fn halve_helper(x: &Array1<f64>) -> f64 {
    let mut h = doubled(x);
    for _ in 0..2 {
        let n = h.len() / 2;
        let a = h.slice(s![..n]).to_owned();
        let b = h.slice(s![n..]).to_owned();
        h = &a * &b;
    }
    h[0]
}

#[differentiate]
fn widen_helper(w: &Array2<f64>, x: &Array1<f64>) -> f64 {
    let mut h = doubled(x);
    for _ in 0..3 {
        h = w.dot(&h).mapv(f64::tanh);
        h = h.slice(s![..2]).to_owned();
    }
    h.sum()
}

#[test]
fn helper_results_replaced_by_arrays_of_another_shape() {
    let x = array![0.5, 1.5, -0.7, 2.0];
    let (v, g) = halve_helper_grad(&x);
    assert_eq!(v, halve_helper(&x));
    // 16·a·b·c·d: each entry's derivative is the product of the others, times 16.
    let (a, b, c, d) = (x[0], x[1], x[2], x[3]);
    let want = array![c * b * d, a * c * d, a * b * d, a * c * b] * 16.0;
    assert!(
        (&g - &want).iter().all(|e| e.abs() < 1e-10),
        "{g} vs {want}"
    );
    let w = Array2::from_shape_fn((3, 2), |(i, j)| (i as f64 - j as f64) * 0.3 + 0.2);
    let x = array![0.5, -1.5];
    let (v, (gw, gx)) = widen_helper_grad(&w, &x);
    assert_eq!(v, widen_helper(&w, &x));
    assert_eq!((gw.dim(), gx.len()), ((3, 2), 2));
    gradcheck(|x: &Array1<f64>| widen_helper(&w, x), &x, &gx).assert_ok();
    gradcheck(|w: &Array2<f64>| widen_helper(w, &x), &w, &gw).assert_ok();
}

/// `insert_axis` of an owned array, which it consumes: the pullback computed it again from the
/// moved array to get its shape (rustc's E0382 inside the generated code). Σ 3a.
#[differentiate]
fn column_sum(a: &Array1<f64>) -> f64 {
    (a * 3.0).insert_axis(Axis(1)).sum()
}

/// Rows centred by their mean, `insert_axis` of the mean inside a summing loop: Σ (x − x̄)²
/// per row, twice.
#[differentiate]
fn centred_in_a_loop(x: &Array2<f64>) -> f64 {
    let mut t = 0.0;
    for _ in 0..2 {
        let mu = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
        t += (x - &mu).mapv(|v| v * v).sum();
    }
    t
}

#[test]
fn insert_axis_of_owned_arrays() {
    let a = array![0.5, -1.5, 2.0];
    assert_eq!(column_sum_grad(&a), (column_sum(&a), array![3.0, 3.0, 3.0]));
    let x = Array2::from_shape_fn((2, 3), |(i, j)| ((i * 3 + j) as f64 * 0.9).sin());
    let (v, g) = centred_in_a_loop_grad(&x);
    assert_eq!(v, centred_in_a_loop(&x));
    // ∂ = 2·2·(x − x̄) per row (the mean's own derivative sums to zero against it).
    let mu = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    let want = (&x - &mu) * 4.0;
    assert!(
        (&g - &want).iter().all(|e| e.abs() < 1e-12),
        "{g} vs {want}"
    );
    gradcheck(|x: &Array2<f64>| centred_in_a_loop(x), &x, &g).assert_ok();
}

/// A `Vec` of floats carried by a loop and replaced by one of another length, its elements
/// written from values whose type the macro does not see: a differentiated helper's result
/// (`next[o] = sigmoid(z)`), a float field of a struct of data (`cfg.slope * z`), a field of
/// a parameter struct (`net.b[l][o]`). The element writes made the new `Vec`'s type unknown,
/// so it was not seen to be a `Vec` of floats: its adjoint was taken at the length the
/// iteration ended with, and the pullback panicked ("index out of bounds") where the layers
/// narrow, and gave a gradient of the wrong length (`[a, b, 0.0]` for `x` of length 2) where
/// they widen.
#[differentiate]
fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Layers of widths `sizes`, the weights of layer `l` read row by row from `theta`.
#[differentiate]
fn layers_by_helper(theta: &[f64], x: &[f64], sizes: &[usize]) -> f64 {
    let mut h = x.to_vec();
    let mut off = 0;
    for &n_out in sizes {
        let mut next = vec![0.0; n_out];
        for o in 0..n_out {
            let mut z = 0.0;
            for i in 0..h.len() {
                z += theta[off + o * h.len() + i] * h[i];
            }
            next[o] = sigmoid(z);
        }
        off += n_out * h.len();
        h = next;
    }
    h.iter().sum()
}

pub struct Leak {
    pub slope: f64,
}

#[differentiate(wrt(theta, x))]
fn layers_by_field(theta: &[f64], x: &[f64], sizes: &[usize], cfg: &Leak) -> f64 {
    let mut h = x.to_vec();
    let mut off = 0;
    for &n_out in sizes {
        let mut next = vec![0.0; n_out];
        for o in 0..n_out {
            let mut z = 0.0;
            for i in 0..h.len() {
                z += theta[off + o * h.len() + i] * h[i];
            }
            next[o] = if z > 0.0 { z } else { cfg.slope * z };
        }
        off += n_out * h.len();
        h = next;
    }
    h.iter().sum()
}

#[derive(Clone, Debug, autodiff::Differentiable)]
pub struct Net {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
}

#[differentiate(wrt(net))]
fn layers_of_net(net: &Net, x: &[f64]) -> f64 {
    let mut h = x.to_vec();
    for l in 0..net.b.len() {
        let (n_out, n_in) = (net.b[l].len(), h.len());
        let mut next = vec![0.0; n_out];
        for o in 0..n_out {
            let mut z = net.b[l][o];
            for i in 0..n_in {
                z += net.w[l][o * n_in + i] * h[i];
            }
            next[o] = z.tanh();
        }
        h = next;
    }
    h.iter().sum()
}

/// The same `Vec` passed on as a copy (`h = next.clone()`): the copy of a `Vec` of floats
/// whose type was still open was not seen to be one.
#[differentiate]
fn layers_by_copy(theta: &[f64], x: &[f64], sizes: &[usize]) -> f64 {
    let mut h = x.to_vec();
    let mut off = 0;
    for &n_out in sizes {
        let mut next = vec![0.0; n_out];
        for o in 0..n_out {
            for i in 0..h.len() {
                next[o] += sigmoid(theta[off + o * h.len() + i] * h[i]);
            }
        }
        off += n_out * h.len();
        h = next.clone();
    }
    h.iter().sum()
}

/// Checks the value and gradient `vg` of `f` at `(theta, x)`: the plain value, one entry per
/// element, and central differences of each argument. Returns `vg`.
#[track_caller]
fn check_layers(
    f: impl Fn(&[f64], &[f64]) -> f64,
    vg: (f64, (Vec<f64>, Vec<f64>)),
    theta: &[f64],
    x: &[f64],
) -> (f64, (Vec<f64>, Vec<f64>)) {
    let (v, (gt, gx)) = &vg;
    assert_eq!(*v, f(theta, x));
    assert_eq!((gt.len(), gx.len()), (theta.len(), x.len()));
    gradcheck(|t: &Vec<f64>| f(t, x), &theta.to_vec(), gt).assert_ok();
    gradcheck(|y: &Vec<f64>| f(theta, y), &x.to_vec(), gx).assert_ok();
    vg
}

#[test]
fn vecs_replaced_by_vecs_of_another_length_written_from_unseen_types() {
    let x = [0.5, -1.0];
    for sizes in [[3usize, 1], [1, 3]] {
        let n = 2 * sizes[0] + sizes[0] * sizes[1];
        let theta: Vec<f64> = (0..n).map(|k| (k as f64 * 0.37).sin()).collect();
        let by_helper = |t: &[f64], x: &[f64]| layers_by_helper(t, x, &sizes);
        let (_, (_, gx)) = check_layers(
            by_helper,
            layers_by_helper_grad(&theta, &x, &sizes),
            &theta,
            &x,
        );
        // One hidden unit, z = θ·x, out = Σₒ σ(θₒ·σ(z)): ∂/∂x = σ'(z)·θ·Σₒ σ'(..)·θₒ.
        if sizes == [1, 3] {
            let sp = |z: f64| sigmoid(z) * (1.0 - sigmoid(z));
            let z = theta[0] * x[0] + theta[1] * x[1];
            let s: f64 = (0..3)
                .map(|o| sp(theta[2 + o] * sigmoid(z)) * theta[2 + o])
                .sum();
            let want = [sp(z) * theta[0] * s, sp(z) * theta[1] * s];
            assert!((gx[0] - want[0]).abs() < 1e-12 && (gx[1] - want[1]).abs() < 1e-12);
        }

        let by_copy = |t: &[f64], x: &[f64]| layers_by_copy(t, x, &sizes);
        check_layers(by_copy, layers_by_copy_grad(&theta, &x, &sizes), &theta, &x);

        let cfg = Leak { slope: 0.1 };
        let by_field = |t: &[f64], x: &[f64]| layers_by_field(t, x, &sizes, &cfg);
        check_layers(
            by_field,
            layers_by_field_grad(&theta, &x, &sizes, &cfg),
            &theta,
            &x,
        );

        let (n1, n2) = (sizes[0], sizes[1]);
        let net = Net {
            w: vec![theta[..2 * n1].to_vec(), theta[2 * n1..].to_vec()],
            b: vec![vec![0.25; n1], vec![-0.5; n2]],
        };
        let (v, g) = layers_of_net_grad(&net, &x);
        assert_eq!(v, layers_of_net(&net, &x));
        assert_eq!(
            (g.w[0].len(), g.w[1].len(), g.b[1].len()),
            (2 * n1, n1 * n2, n2)
        );
        gradcheck(|p: &Net| layers_of_net(p, &x), &net, &g).assert_ok();
    }
}

/// A struct carried by a loop and replaced by a literal given a `Vec` of another length: its
/// adjoint was taken at the shape the iteration ended with, and the pullback panicked on a
/// length mismatch ("Vec add_assign: length mismatch, 1 vs 3 scalars").
#[derive(Clone, Debug, autodiff::Differentiable)]
pub struct Layered {
    pub h: Vec<f64>,
    pub t: f64,
}

#[differentiate]
fn carried_struct_of_widths(x: &[f64], sizes: &[usize]) -> f64 {
    let mut s = Layered {
        h: x.to_vec(),
        t: 0.0,
    };
    for &n in sizes {
        let mut next = vec![0.0; n];
        for o in 0..n {
            for i in 0..s.h.len() {
                next[o] += (s.h[i] * (o + 1) as f64).sin();
            }
        }
        s = Layered {
            h: next,
            t: s.t + s.h[0],
        };
    }
    s.t + s.h.iter().sum::<f64>()
}

#[test]
fn structs_replaced_by_literals_of_vecs_of_another_length() {
    let x = vec![0.5, -1.0];
    for sizes in [[3usize, 1], [1, 3]] {
        let (v, g) = carried_struct_of_widths_grad(&x, &sizes);
        assert_eq!(v, carried_struct_of_widths(&x, &sizes));
        assert_eq!(g.len(), 2);
        gradcheck(|x: &Vec<f64>| carried_struct_of_widths(x, &sizes), &x, &g).assert_ok();
    }
    // One unit, h = sin x₀ + sin x₁, then three: out = x₀ + h + Σₖ₌₁³ sin(k·h).
    let (_, g) = carried_struct_of_widths_grad(&x, &[1, 3]);
    let h: f64 = x.iter().map(|v| v.sin()).sum();
    let inner: f64 = (1..=3)
        .map(|k| k as f64 * (k as f64 * h).cos())
        .sum::<f64>()
        + 1.0;
    let want = [1.0 + x[0].cos() * inner, x[1].cos() * inner];
    assert!(
        (g[0] - want[0]).abs() < 1e-12 && (g[1] - want[1]).abs() < 1e-12,
        "{g:?}"
    );
}
