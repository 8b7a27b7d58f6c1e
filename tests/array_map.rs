//! `a.map(f)` of Rust's fixed-size arrays of floats (not ndarray's `map`): the array copied and
//! written element by element, as `std::array::from_fn` is. Each function is checked against
//! its analytic gradient and central finite differences, and against `_jvp` and `_hvp` where
//! the map is in a loop or nested.

use autodiff::check::{finite_difference, gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;

// f = Σ xᵢ², ∂f/∂xᵢ = 2xᵢ: the map of a local array built from a slice's elements.
#[differentiate]
fn squares(x: &[f64]) -> f64 {
    let xs: [f64; 3] = [x[0], x[1], x[2]];
    let sq = xs.map(|v| v * v);
    sq.iter().sum()
}

#[test]
fn map_of_a_local_array() {
    let x = [0.3, -1.2, 0.7];
    let (v, g) = squares_grad(&x);
    assert_eq!(v, squares(&x));
    for i in 0..3 {
        assert!((g[i] - 2.0 * x[i]).abs() < 1e-12, "{g:?}");
    }
}

// f = Σₖ (p₀ₖ − p₁ₖ)², ∂f/∂p₀ₖ = 2(p₀ₖ − p₁ₖ) = −∂f/∂p₁ₖ: the map of an array `from_fn` made
// (a `mut` local in the form the macro writes it).
#[differentiate(wrt(pos))]
fn centred_square(pos: &[[f64; 3]]) -> f64 {
    let d: [f64; 3] = std::array::from_fn(|k| pos[0][k] - pos[1][k]);
    let sq = d.map(|v| v * v);
    sq.iter().sum::<f64>()
}

// f = s₀ + s₂·s₁ with s = 2·p₁: ∂f/∂p₁ = (2, 4p₁₂, 4p₁₁): the map of a row of a parameter.
#[differentiate(wrt(pos))]
fn scaled_row(pos: &[[f64; 3]]) -> f64 {
    let s = pos[1].map(|c| c * 2.0);
    s[0] + s[2] * s[1]
}

#[test]
fn map_of_from_fn_and_of_a_row() {
    let p = [[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]];
    let (_, g) = centred_square_grad(&p);
    for k in 0..3 {
        assert!((g[0][k] - 2.0 * (p[0][k] - p[1][k])).abs() < 1e-12, "{g:?}");
        assert!((g[1][k] + 2.0 * (p[0][k] - p[1][k])).abs() < 1e-12, "{g:?}");
    }
    let (_, g) = scaled_row_grad(&p);
    let exact = [2.0, 4.0 * p[1][2], 4.0 * p[1][1]];
    assert_eq!(g[0], [0.0; 3]);
    for k in 0..3 {
        assert!((g[1][k] - exact[k]).abs() < 1e-12, "{g:?}");
    }
}

// A parameter's map chained with a function's path, and a literal's map whose closure has
// statements: f = Σ exp(sin(k·aᵢ)) + Σ (uᵢ² + k) over u = (a₀, k, a₂).
#[differentiate]
fn chained(a: [f64; 3], k: f64) -> f64 {
    let t = a.map(|v: f64| (k * v).sin()).map(f64::exp);
    let u = [a[0], k, a[2]].map(|v| {
        let w = v * v;
        w + k
    });
    t.iter().sum::<f64>() + u.iter().sum::<f64>()
}

#[test]
fn chained_maps_and_paths() {
    let (a, k) = ([0.4, -0.3, 0.9], 0.7);
    let (v, (ga, gk)) = chained_grad(a, k);
    assert_eq!(v, chained(a, k));
    // ∂f/∂aᵢ = exp(sin(k aᵢ))·cos(k aᵢ)·k + 2aᵢ (i ≠ 1); ∂f/∂k = Σ exp(sin(k aᵢ))·cos(k aᵢ)·aᵢ
    // + 2k + 3.
    let d = |x: f64| (k * x).sin().exp() * (k * x).cos();
    let exact_a = [
        d(a[0]) * k + 2.0 * a[0],
        d(a[1]) * k,
        d(a[2]) * k + 2.0 * a[2],
    ];
    for i in 0..3 {
        assert!((ga[i] - exact_a[i]).abs() < 1e-12, "{ga:?} {exact_a:?}");
    }
    let exact_k = a.iter().map(|&x| d(x) * x).sum::<f64>() + 2.0 * k + 3.0;
    assert!((gk - exact_k).abs() < 1e-12, "{gk} {exact_k}");
}

// Arrays of arrays mapped with a map inside the closure, in a loop over rows of a parameter,
// under `hessian`.
#[differentiate(hessian)]
fn nested(a: [f64; 2], k: f64) -> f64 {
    let m = [[a[0], a[1]], [k, a[0] * k]];
    let s = m.map(|r| r.map(|v| v * k + 1.0));
    s[0][0] * s[1][1] + s[0][1] - s[1][0]
}

#[differentiate(hessian)]
fn rows_in_loop(xs: &[[f64; 2]], w: f64) -> f64 {
    let mut acc = 0.0;
    for x in xs {
        let y = x.map(|v| v * w);
        acc += y[0] * y[1] + y[0].sin();
    }
    acc
}

#[test]
fn nested_maps_and_maps_in_a_loop() {
    let x = vec![0.4, -0.3, 0.7];
    let f = |p: &Vec<f64>| nested([p[0], p[1]], p[2]);
    let grad = |p: &Vec<f64>| {
        let (_, (ga, gk)) = nested_grad([p[0], p[1]], p[2]);
        vec![ga[0], ga[1], gk]
    };
    gradcheck(f, &x, &grad(&x)).assert_ok();
    let fd = finite_difference(f, &x, 1e-6);
    let (_, dv) = nested_jvp([x[0], x[1]], x[2], [1.0, -0.5], 0.25);
    let dd = fd[0] - 0.5 * fd[1] + 0.25 * fd[2];
    assert!((dv - dd).abs() < 1e-6, "{dv} {dd}");
    let (_, _, (ha, hk)) = nested_hvp([x[0], x[1]], x[2], [1.0, -0.5], 0.25);
    hvpcheck(grad, &x, &vec![1.0, -0.5, 0.25], &vec![ha[0], ha[1], hk]).assert_ok();

    let xs = [[1.0, 2.0], [0.5, -1.0]];
    let w = 0.7;
    let (_, (gx, gw)) = rows_in_loop_grad(&xs, w);
    // acc = Σ w²·x₀x₁ + sin(w·x₀): ∂/∂w = Σ 2w·x₀x₁ + x₀ cos(w x₀), ∂/∂x₀ = w²x₁ + w cos(w x₀).
    let exact_w: f64 = xs
        .iter()
        .map(|x| 2.0 * w * x[0] * x[1] + x[0] * (w * x[0]).cos())
        .sum();
    assert!((gw - exact_w).abs() < 1e-12, "{gw} {exact_w}");
    for (g, x) in gx.iter().zip(&xs) {
        assert!((g[0] - (w * w * x[1] + w * (w * x[0]).cos())).abs() < 1e-12);
        assert!((g[1] - w * w * x[0]).abs() < 1e-12);
    }
    let pack = |p: &Vec<f64>| ([[p[0], p[1]], [p[2], p[3]]], p[4]);
    let flat = vec![1.0, 2.0, 0.5, -1.0, w];
    let f = |p: &Vec<f64>| {
        let (xs, w) = pack(p);
        rows_in_loop(&xs, w)
    };
    let jv = |p: &Vec<f64>| {
        let (xs, w) = pack(p);
        rows_in_loop_jvp(&xs, w, &vec![[0.3, -0.2], [0.1, 0.5]], -0.4).1
    };
    jvpcheck(f, &flat, &vec![0.3, -0.2, 0.1, 0.5, -0.4], &jv(&flat)).assert_ok();
}

// An `f32` array mapped: f = w·a₀² − w·a₁², ∂f/∂a = (2w a₀, −2w a₁), ∂f/∂w = a₀² − a₁².
#[differentiate]
fn single(a: [f32; 2], w: f32) -> f32 {
    let b = a.map(|v| w * v * v);
    b[0] - b[1]
}

#[test]
fn map_of_an_f32_array() {
    let (_, (ga, gw)) = single_grad([1.0, 2.0], 3.0);
    assert_eq!((ga, gw), ([6.0, -12.0], -3.0));
}

// The map of an array literal of differentiated values and of an array parameter:
// f = x² + y² + x²y², ∂f/∂x = 2x + 2xy², ∂f/∂y = 2y + 2x²y; g = sin a₀·sin a₂.
#[differentiate]
fn literal(x: f64, y: f64) -> f64 {
    let a = [x, y, x * y];
    let b = a.map(|v| v * v);
    b[0] + b[1] + b[2]
}

#[differentiate]
fn parameter(a: [f64; 3]) -> f64 {
    let b = a.map(|v| v.sin());
    b[0] * b[2]
}

#[test]
fn map_of_a_literal_and_of_a_parameter() {
    let (x, y) = (0.6, -1.3);
    let (_, (gx, gy)) = literal_grad(x, y);
    assert!((gx - (2.0 * x + 2.0 * x * y * y)).abs() < 1e-12);
    assert!((gy - (2.0 * y + 2.0 * x * x * y)).abs() < 1e-12);
    let a = [0.4, 2.0, -0.8];
    let (_, g) = parameter_grad(a);
    let exact = [a[0].cos() * a[2].sin(), 0.0, a[0].sin() * a[2].cos()];
    for i in 0..3 {
        assert!((g[i] - exact[i]).abs() < 1e-12, "{g:?}");
    }
}
