//! Struct update syntax (`S { n: 2, ..base }`) on data structs that a differentiated call
//! borrowed before: Rust's update copies the `Copy` fields and moves only the others, so `base`
//! stays usable, and the backward pass still holds the borrow the call took; the generated code
//! copies `base` (`base.clone()`) there. Also the update of a differentiated parameter struct,
//! and of data with a field that is not `Copy`, read once (moved, as written). Each gradient is checked against its analytic form (stated beside the function)
//! and central finite differences.

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone)]
struct Cfg {
    scale: f64,
    n: usize,
}

/// Σ_{i<n} sin(s·xᵢ): ∂/∂xᵢ = s·cos(s·xᵢ) for i < n.
#[differentiate(wrt(x))]
fn partial(x: &[f64], c: &Cfg) -> f64 {
    x.iter().take(c.n).map(|v| (v * c.scale).sin()).sum()
}

/// A = partial(x, c) with c = (1.5, 3) and B = partial(x[1..], c2) with c2 = (1.5, 2), built by
/// `Cfg { n: 2, ..c }` after `c` was lent to the first call; f = A·B + partial(x, c) again (`c`
/// still usable), so ∂f/∂x = (B + 1)·∂A + A·∂B.
#[differentiate]
fn update_after_borrow(x: &[f64]) -> f64 {
    let c = Cfg { scale: 1.5, n: 3 };
    let a = partial(x, &c);
    let c2 = Cfg { n: 2, ..c };
    a * partial(&x[1..], &c2) + partial(x, &c)
}

fn update_after_borrow_analytic(x: &[f64]) -> Vec<f64> {
    let s = 1.5;
    let a: f64 = x[..3].iter().map(|v| (s * v).sin()).sum();
    let b: f64 = x[1..3].iter().map(|v| (s * v).sin()).sum();
    let mut g = vec![0.0; x.len()];
    for i in 0..3 {
        g[i] += (b + 1.0) * s * (s * x[i]).cos();
    }
    for i in 1..3 {
        g[i] += a * s * (s * x[i]).cos();
    }
    g
}

#[test]
fn data_struct_updated_after_a_call_borrowed_it() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (y, g) = update_after_borrow_grad(&x);
    assert!((y - update_after_borrow(&x)).abs() < 1e-12);
    let want = update_after_borrow_analytic(&x);
    for i in 0..x.len() {
        assert!(
            (g[i] - want[i]).abs() < 1e-12,
            "∂/∂x{i} = {} against {}",
            g[i],
            want[i]
        );
    }
    let r = gradcheck(|p: &Vec<f64>| update_after_borrow(p), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
}

/// The same in a loop: each iteration lends `c` to a call, then replaces it by an update of
/// itself with a larger scale (sᵢ = 1 + i/2): f = Σᵢ Σ_{j<2} sin(sᵢ·xⱼ), ∂/∂xⱼ = Σᵢ sᵢ·cos(sᵢ·xⱼ)
/// for j < 2.
#[differentiate]
fn update_in_loop(x: &[f64]) -> f64 {
    let mut c = Cfg { scale: 1.0, n: 2 };
    let mut total = 0.0;
    for _ in 0..3 {
        total += partial(x, &c);
        c = Cfg {
            scale: c.scale + 0.5,
            ..c
        };
    }
    total
}

#[test]
fn data_struct_updated_in_a_loop() {
    let x = [0.3, -0.8, 1.1];
    let (_, g) = update_in_loop_grad(&x);
    for j in 0..x.len() {
        let want: f64 = if j < 2 {
            (0..3)
                .map(|i| {
                    let s = 1.0 + 0.5 * i as f64;
                    s * (s * x[j]).cos()
                })
                .sum()
        } else {
            0.0
        };
        assert!(
            (g[j] - want).abs() < 1e-12,
            "∂/∂x{j} = {} against {want}",
            g[j]
        );
    }
    let r = gradcheck(|p: &Vec<f64>| update_in_loop(p), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
}

/// Data with a field that is not `Copy`, updated where no call borrowed it: moved, as written.
struct Named {
    label: String,
    weight: f64,
}

/// w·Σxᵢ² with w = 2 after the update: ∂/∂xᵢ = 4xᵢ.
#[differentiate]
fn update_moves_the_rest(x: &[f64]) -> f64 {
    let base = Named {
        label: String::from("l2"),
        weight: 1.0,
    };
    let cfg = Named {
        weight: 2.0,
        ..base
    };
    assert_eq!(cfg.label, "l2");
    cfg.weight * x.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn data_struct_with_a_string_moved_by_the_update() {
    let x = [0.5, -1.5];
    let (y, g) = update_moves_the_rest_grad(&x);
    assert!((y - 5.0).abs() < 1e-12);
    assert!(
        (g[0] - 2.0).abs() < 1e-12 && (g[1] + 6.0).abs() < 1e-12,
        "{g:?}"
    );
}

#[derive(Clone, Differentiable)]
struct P {
    a: f64,
    b: f64,
}

/// q = P { a: 3·p.a, ..p }: f = q.a·q.b + p.b = 3·a·b + b, ∂/∂a = 3b, ∂/∂b = 3a + 1.
#[differentiate]
fn update_of_parameters(p: &P) -> f64 {
    let q = P {
        a: 3.0 * p.a,
        ..p.clone()
    };
    q.a * q.b + p.b
}

#[test]
fn differentiated_struct_updated() {
    let p = P { a: 0.4, b: -1.2 };
    let (_, g) = update_of_parameters_grad(&p);
    assert!((g.a - 3.0 * p.b).abs() < 1e-12 && (g.b - (3.0 * p.a + 1.0)).abs() < 1e-12);
    let r = gradcheck(update_of_parameters, &p, &g);
    assert!(r.passed(), "{r}");
}

/// Data with `Clone`, updated after a call borrowed it, and not read after.
#[derive(Clone)]
struct Opts {
    gain: f64,
    len: usize,
}

/// Σ_{i<len} g·xᵢ² for `o` = (g, len) = (0.5, 2), then `o2 = Opts { gain: 2.0, ..o }`:
/// f = P(o)·P(o2), ∂/∂xᵢ = (P(o2)·0.5 + P(o)·2)·2xᵢ for i < 2.
#[differentiate(wrt(x))]
fn weighted(x: &[f64], o: &Opts) -> f64 {
    x.iter().take(o.len).map(|v| o.gain * v * v).sum()
}

#[differentiate]
fn update_of_clone_data(x: &[f64]) -> f64 {
    let o = Opts { gain: 0.5, len: 2 };
    let p = weighted(x, &o);
    let o2 = Opts { gain: 2.0, ..o };
    p * weighted(x, &o2)
}

#[test]
fn clone_data_struct_updated_after_a_call_borrowed_it() {
    let x = [0.9, -0.4, 3.0];
    let (_, g) = update_of_clone_data_grad(&x);
    let q: f64 = x[..2].iter().map(|v| v * v).sum();
    let (p1, p2) = (0.5 * q, 2.0 * q);
    for i in 0..3 {
        let want = if i < 2 {
            (p2 * 0.5 + p1 * 2.0) * 2.0 * x[i]
        } else {
            0.0
        };
        assert!(
            (g[i] - want).abs() < 1e-12,
            "∂/∂x{i} = {} against {want}",
            g[i]
        );
    }
    let r = gradcheck(|p: &Vec<f64>| update_of_clone_data(p), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
}
