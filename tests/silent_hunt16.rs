//! Programs that compile and must give the derivatives central differences give: ndarray
//! reshapes in column-major order (`into_shape_with_order((shape, Order::ColumnMajor))`) and
//! reshaped views in arithmetic, through every generated item (`_grad`, `_vjp` with cotangents
//! that are not ones, `_jvp`, `_hvp`).
//!
//! `x.clone().into_shape_with_order(((2, 3), Order::ColumnMajor))` lists the elements of `x` in
//! column-major order; the reverse rule put the cotangent back in row-major order whatever the
//! order the reshape was given, so the gradient of every element but the first and the last
//! belonged to another one (a quietly wrong gradient, also of `x.t().into_shape_with_order((6,
//! Order::ColumnMajor))`, which reads a standard matrix in row-major order). The rule now puts
//! the cotangent back in the order of the reshape.
//!
//! `x.view().into_shape_with_order((2, 3)).unwrap()` is a view; in arithmetic (`&y * 2.0`) it was
//! passed to the rules of owned arrays as it was, rustc's E0277 inside the generated code. A
//! reshape (or `insert_axis`) of a view is now known to be a view, and copied as `.to_owned()`
//! would, as the view methods' results already were.
//!
//! `Array2::from_shape_vec((2, 3).f(), v).unwrap()` (and a shape with strides,
//! `Array1::from_shape_vec(3.strides(2), v)`) was followed as a row-major fill, `a[[i, j]] =
//! v[i * 3 + j]`: the array, its value and its gradient were another array's. The fill now reads
//! the positions ndarray's `from_shape_vec` gives the same shape.
//!
//! Checked as well (correct): a checkpointed loop whose function returns a tuple of a float and
//! an array, through `_vjp` with a cotangent that is not ones and `_jvp`, for trip counts below,
//! at and above the number of snapshots.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's; each `_jvp` against the analytic directional derivative and central differences;
//! each `_hvp` against its analytic form and differences of gradients.

use autodiff::check::{gradcheck, hvpcheck, jvpcheck, random_direction};
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, Order, ShapeBuilder, array};

mod common;
use common::*;

/// The weights of [`column_major`], row-major: `w[i][j]`.
const W: [[f64; 3]; 2] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];

/// `y = x` reshaped to 2×3 in column-major order, `y[i, j] = x[i + 2j]`;
/// `f = Σᵢⱼ w[i][j]·y[i, j]² + y[1, 0]·y[0, 2] = Σₖ cₖ·xₖ² + x₁·x₄` with `c = (1, 4, 2, 5, 3, 6)`.
#[differentiate(hessian)]
fn column_major(x: &Array1<f64>) -> f64 {
    let y = x
        .clone()
        .into_shape_with_order(((2, 3), Order::ColumnMajor))
        .unwrap();
    let mut s = y[[1, 0]] * y[[0, 2]];
    for i in 0..2 {
        for j in 0..3 {
            s += W[i][j] * y[[i, j]] * y[[i, j]];
        }
    }
    s
}

/// The weight `cₖ` of `xₖ²` in [`column_major`].
const C: [f64; 6] = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];

/// `x.t()` read in column-major order is `x` in row-major order: `yₖ = x[k / 3, k % 3]`;
/// `f = Σₖ (k + 1)·yₖ³`, `∂f/∂x[i, j] = 3·(3i + j + 1)·x[i, j]²`.
#[differentiate(hessian)]
fn transposed_column_major(x: &Array2<f64>) -> f64 {
    let y = x
        .t()
        .into_shape_with_order((6, Order::ColumnMajor))
        .unwrap();
    let k = Array1::from_shape_fn(6, |i| i as f64 + 1.0);
    y.mapv(|v| v * v * v).dot(&k)
}

/// The reshaped array itself, times `x₀`: `y[i, j] = x₀·x[i + 2j]`.
#[differentiate]
fn column_major_result(x: &Array1<f64>) -> Array2<f64> {
    let y = x
        .clone()
        .into_shape_with_order(((2, 3), Order::ColumnMajor))
        .unwrap();
    y * x[0]
}

const X6: [[f64; 6]; 3] = [
    [0.3, -0.7, 1.1, 0.5, 0.2, -0.4],
    [1.2, 0.4, -0.9, 0.8, -1.3, 0.6],
    [-0.5, 1.5, 0.25, -1.1, 0.9, 0.35],
];

/// `H·v` of `grad` at `x` by central differences of the gradient along `v`.
#[track_caller]
fn hv_passes<D: ndarray::Dimension>(
    what: &str,
    grad: impl Fn(&ndarray::Array<f64, D>) -> ndarray::Array<f64, D>,
    x: &ndarray::Array<f64, D>,
    v: &ndarray::Array<f64, D>,
    hv: &ndarray::Array<f64, D>,
) {
    let r = hvpcheck(grad, x, v, hv);
    assert!(r.passed(), "{what}: {r}");
}

#[test]
fn column_major_reshapes_put_the_cotangent_back_in_their_order() {
    for (n, xs) in X6.iter().enumerate() {
        let x = Array1::from(xs.to_vec());
        // ∂f/∂xₖ = 2cₖ·xₖ + [k = 1]·x₄ + [k = 4]·x₁
        let (v, g) = column_major_grad(&x);
        assert_eq!(v, column_major(&x));
        let e = Array1::from_shape_fn(6, |k| {
            2.0 * C[k] * x[k] + [0.0, x[4], 0.0, 0.0, x[1], 0.0][k]
        });
        same("column major", &g, &e, TOL);
        fd_array("column major", column_major, &x, &g);

        // A cotangent that is not one: the pullback is that multiple of the gradient.
        let (v2, pullback) = column_major_vjp(&x);
        assert_eq!(v2, v);
        same("column major, vjp(2.5)", &pullback(2.5), &(&e * 2.5), TOL);

        for seed in 0..3 {
            let d = random_direction(&x, 10 * n as u64 + seed);
            // J·d = ⟨∇f, d⟩; H·d = 2cₖ·dₖ + [k = 1]·d₄ + [k = 4]·d₁
            let (v3, jd) = column_major_jvp(&x, &d);
            assert_eq!(v3, v);
            close("column major, J·d", jd, e.dot(&d), TOL);
            let r = jvpcheck(|p: &Array1<f64>| column_major(p), &x, &d, &jd);
            assert!(r.passed(), "column major, J·d: {r}");
            let (v4, g4, hd) = column_major_hvp(&x, &d);
            assert_eq!(v4, v);
            same("column major, gradient of hvp", &g4, &e, TOL);
            let eh = Array1::from_shape_fn(6, |k| {
                2.0 * C[k] * d[k] + [0.0, d[4], 0.0, 0.0, d[1], 0.0][k]
            });
            same("column major, H·d", &hd, &eh, TOL);
            hv_passes("column major, H·d", |p| column_major_grad(p).1, &x, &d, &hd);
        }

        // ∂f/∂x[i, j] = 3·(3i + j + 1)·x[i, j]², H·d = 6·(3i + j + 1)·x[i, j]·d[i, j]
        let m = Array2::from_shape_vec((2, 3), xs.to_vec()).unwrap();
        let (v, g) = transposed_column_major_grad(&m);
        assert_eq!(v, transposed_column_major(&m));
        let e = Array2::from_shape_fn((2, 3), |(i, j)| {
            3.0 * (3 * i + j + 1) as f64 * m[[i, j]] * m[[i, j]]
        });
        same("transposed, column major", &g, &e, TOL);
        fd_array("transposed, column major", transposed_column_major, &m, &g);
        let d = random_direction(&m, 7 + n as u64);
        let (_, jd) = transposed_column_major_jvp(&m, &d);
        close("transposed, column major, J·d", jd, (&e * &d).sum(), TOL);
        let (_, g4, hd) = transposed_column_major_hvp(&m, &d);
        same("transposed, column major, gradient of hvp", &g4, &e, TOL);
        let eh = Array2::from_shape_fn((2, 3), |(i, j)| {
            6.0 * (3 * i + j + 1) as f64 * m[[i, j]] * d[[i, j]]
        });
        same("transposed, column major, H·d", &hd, &eh, TOL);
        hv_passes(
            "transposed, column major, H·d",
            |p| transposed_column_major_grad(p).1,
            &m,
            &d,
            &hd,
        );

        // The pullback of the reshaped array: ȳ read back in column-major order,
        // x̄ₖ = x₀·ȳ[k % 2, k / 2] + [k = 0]·Σᵢⱼ ȳ[i, j]·x[i + 2j]
        let wbar = array![[0.5, -1.5, 2.0], [1.25, -0.75, 3.0]];
        let (y, pullback) = column_major_result_vjp(&x);
        assert_eq!(y, column_major_result(&x));
        let gx = pullback(wbar.clone());
        let mut e = Array1::from_shape_fn(6, |k| x[0] * wbar[[k % 2, k / 2]]);
        e[0] += (0..6).map(|k| wbar[[k % 2, k / 2]] * x[k]).sum::<f64>();
        same("column-major result, pullback", &gx, &e, TOL);
        let r = gradcheck(
            |p: &Array1<f64>| (column_major_result(p) * &wbar).sum(),
            &x,
            &gx,
        );
        assert!(r.passed(), "column-major result, pullback: {r}");
        let (_, jd) = column_major_result_jvp(&x, &x);
        let ej = Array2::from_shape_fn((2, 3), |(i, j)| 2.0 * x[0] * x[i + 2 * j]);
        same("column-major result, J·x", &jd, &ej, TOL);
    }
}

/// A reshaped view in arithmetic and as a float method's receiver: `f = Σ 2yᵢⱼ² + Σ e^{yᵢⱼ}`,
/// `∂f/∂xₖ = 4xₖ + e^{xₖ}`, `H·d = (4 + e^{xₖ})·dₖ`.
#[differentiate(hessian)]
fn reshaped_view(x: &Array1<f64>) -> f64 {
    let y = x.view().into_shape_with_order((2, 3)).unwrap();
    (&y * &y * 2.0).sum() + y.exp().sum()
}

/// A reshaped view of a slice and an axis inserted into a view, in arithmetic:
/// `f = Σₖ≥₁ xₖ² + Σₖ 3xₖ + Σₖ xₖ·x₀`, `∂f/∂xₖ = [k ≥ 1]·2xₖ + 3 + x₀ + [k = 0]·Σⱼ xⱼ`.
#[differentiate(hessian)]
fn reshaped_views(x: &Array1<f64>) -> f64 {
    let tail = x
        .slice(ndarray::s![1..])
        .into_shape_with_order((1, 5))
        .unwrap();
    let row = x.view().insert_axis(Axis(0));
    (&tail * &tail).sum() + (&row * 3.0).sum() + (&row * x[0]).sum()
}

#[test]
fn reshaped_views_in_arithmetic_are_copied() {
    for (n, xs) in X6.iter().enumerate() {
        let x = Array1::from(xs.to_vec());
        let (v, g) = reshaped_view_grad(&x);
        assert_eq!(v, reshaped_view(&x));
        let e = x.mapv(|t| 4.0 * t + t.exp());
        same("reshaped view", &g, &e, TOL);
        fd_array("reshaped view", reshaped_view, &x, &g);
        let d = random_direction(&x, 20 + n as u64);
        let (_, jd) = reshaped_view_jvp(&x, &d);
        close("reshaped view, J·d", jd, e.dot(&d), TOL);
        let (_, _, hd) = reshaped_view_hvp(&x, &d);
        let eh = Array1::from_shape_fn(6, |k| (4.0 + x[k].exp()) * d[k]);
        same("reshaped view, H·d", &hd, &eh, TOL);
        hv_passes(
            "reshaped view, H·d",
            |p| reshaped_view_grad(p).1,
            &x,
            &d,
            &hd,
        );

        let (v, g) = reshaped_views_grad(&x);
        assert_eq!(v, reshaped_views(&x));
        let s = x.sum();
        let e = Array1::from_shape_fn(6, |k| {
            let own = if k >= 1 { 2.0 * x[k] } else { s };
            own + 3.0 + x[0]
        });
        same("reshaped views", &g, &e, TOL);
        fd_array("reshaped views", reshaped_views, &x, &g);
        let (_, jd) = reshaped_views_jvp(&x, &d);
        close("reshaped views, J·d", jd, e.dot(&d), TOL);
        let (_, _, hd) = reshaped_views_hvp(&x, &d);
        // H = diag(0, 2, 2, 2, 2, 2) + e₀·1ᵀ + 1·e₀ᵀ
        let ds = d.sum();
        let eh = Array1::from_shape_fn(6, |k| {
            let diag = if k >= 1 { 2.0 * d[k] } else { 0.0 };
            diag + d[0] + if k == 0 { ds } else { 0.0 }
        });
        same("reshaped views, H·d", &hd, &eh, TOL);
        hv_passes(
            "reshaped views, H·d",
            |p| reshaped_views_grad(p).1,
            &x,
            &d,
            &hd,
        );
    }
}

/// `m[i, j] = 2·x[i + 2j]` (a column-major shape); `f = Σᵢⱼ (3i + j + 1)·m[i, j]² = Σₖ 4cₖ·xₖ²`
/// with the `c` of [`column_major`]: `∂f/∂xₖ = 8cₖ·xₖ`, `H = diag(8cₖ)`.
#[differentiate(hessian)]
fn from_column_major_vec(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|t| t * 2.0).collect();
    let m = Array2::from_shape_vec((2, 3).f(), v).unwrap();
    let mut s = 0.0;
    for i in 0..2 {
        for j in 0..3 {
            s += (3 * i + j + 1) as f64 * m[[i, j]] * m[[i, j]];
        }
    }
    s
}

/// `m = (2x₀, 2x₂, 2x₄)` (every other element); `f = 3·m₀·m₁ + m₂² = 12·x₀·x₂ + 4x₄²`.
#[differentiate(hessian)]
fn from_strided_vec(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|t| t * 2.0).collect();
    let m = Array1::from_shape_vec(3.strides(2), v).expect("five elements");
    m[0] * m[1] * 3.0 + m[2] * m[2]
}

/// A 5×7 column-major array of `1.37·x` summed: `f = 1.37·Σx`, `∂f/∂xₖ = 1.37`. Its `sum`
/// adds in memory order, so the value is the plain function's only if the array has the plain
/// one's layout.
#[differentiate]
fn column_major_vec_sum(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|t| t * 1.37).collect();
    let m = Array2::from_shape_vec((5, 7).f(), v).unwrap();
    m.sum()
}

#[test]
fn arrays_from_a_vec_keep_the_layout_their_shape_names() {
    for seed in 0..20 {
        let x = data(35, seed as f64);
        let (v, g) = column_major_vec_sum_grad(&x);
        assert_eq!(v, column_major_vec_sum(&x), "seed {seed}");
        close_all("column-major sum", &g, &[1.37; 35]);
        fd_vec("column-major sum", column_major_vec_sum, &x, &g);
    }
}

#[test]
fn arrays_from_a_vec_take_the_elements_their_shape_names() {
    for (n, xs) in X6.iter().enumerate() {
        let x = xs.to_vec();
        let (v, g) = from_column_major_vec_grad(&x);
        assert_eq!(v, from_column_major_vec(&x));
        let e: Vec<f64> = (0..6).map(|k| 8.0 * C[k] * x[k]).collect();
        close_all("column-major from_shape_vec", &g, &e);
        fd_vec("column-major from_shape_vec", from_column_major_vec, &x, &g);
        let (_, pullback) = from_column_major_vec_vjp(&x);
        let e25: Vec<f64> = e.iter().map(|t| 2.5 * t).collect();
        close_all(
            "column-major from_shape_vec, vjp(2.5)",
            &pullback(2.5),
            &e25,
        );
        let d = random_direction(&x, 30 + n as u64);
        let (_, jd) = from_column_major_vec_jvp(&x, &d);
        let ej: f64 = (0..6).map(|k| e[k] * d[k]).sum();
        close("column-major from_shape_vec, J·d", jd, ej, TOL);
        let (_, _, hd) = from_column_major_vec_hvp(&x, &d);
        let eh: Vec<f64> = (0..6).map(|k| 8.0 * C[k] * d[k]).collect();
        close_all("column-major from_shape_vec, H·d", &hd, &eh);

        let x = xs[..5].to_vec();
        // ∂f = (12x₂, 0, 12x₀, 0, 8x₄); H·d = (12d₂, 0, 12d₀, 0, 8d₄)
        let (v, g) = from_strided_vec_grad(&x);
        assert_eq!(v, from_strided_vec(&x));
        let e = [12.0 * x[2], 0.0, 12.0 * x[0], 0.0, 8.0 * x[4]];
        close_all("strided from_shape_vec", &g, &e);
        fd_vec("strided from_shape_vec", from_strided_vec, &x, &g);
        let d = random_direction(&x, 40 + n as u64);
        let (_, jd) = from_strided_vec_jvp(&x, &d);
        let ej: f64 = (0..5).map(|k| e[k] * d[k]).sum();
        close("strided from_shape_vec, J·d", jd, ej, TOL);
        let (_, _, hd) = from_strided_vec_hvp(&x, &d);
        close_all(
            "strided from_shape_vec, H·d",
            &hd,
            &[12.0 * d[2], 0.0, 12.0 * d[0], 0.0, 8.0 * d[4]],
        );
    }
}

/// `h ← h/2 + x` for `n` steps from `h = x`, `s = Σ` of each step's `h`, checkpointed with two
/// snapshots: `hₙ = (2 − 2⁻ⁿ)·x`, `s = Sₙ·Σx` with `Sₙ = 2n − 1 + 2⁻ⁿ`; the result is `(s², hₙ)`.
#[differentiate(checkpoint(snapshots = 2))]
fn checkpointed_pair(x: &Array1<f64>, n: usize) -> (f64, Array1<f64>) {
    let mut h = x.clone();
    let mut s = 0.0;
    for _ in 0..n {
        h = &h * 0.5 + x;
        s += h.sum();
    }
    (s * s, h)
}

#[test]
fn a_checkpointed_loop_pulls_back_a_tuple_of_a_float_and_an_array() {
    let x = Array1::from(X6[1].to_vec());
    let w = Array1::from(X6[2].to_vec());
    for n in [0usize, 1, 2, 3, 7, 12] {
        let half = 0.5f64.powi(n as i32);
        let sn = 2.0 * n as f64 - 1.0 + half;
        let s = sn * x.sum();
        let (y, pullback) = checkpointed_pair_vjp(&x, n);
        assert_eq!(y, checkpointed_pair(&x, n));
        // x̄ = 2.5·2s·Sₙ·1 + (2 − 2⁻ⁿ)·w̄
        let g = pullback((2.5, w.clone()));
        let e = w.mapv(|t| 2.5 * 2.0 * s * sn + (2.0 - half) * t);
        same(&format!("checkpointed pair, n = {n}"), &g, &e, TOL);
        let r = gradcheck(
            |p: &Array1<f64>| {
                let (a, h) = checkpointed_pair(p, n);
                2.5 * a + h.dot(&w)
            },
            &x,
            &g,
        );
        assert!(r.passed(), "checkpointed pair, n = {n}: {r}");
        // J·d = (2s·Sₙ·Σd, (2 − 2⁻ⁿ)·d)
        let d = random_direction(&x, 50 + n as u64);
        let ((y0, y1), (t0, t1)) = checkpointed_pair_jvp(&x, n, &d);
        assert_eq!((y0, y1), checkpointed_pair(&x, n));
        close(
            &format!("checkpointed pair, n = {n}, J·d"),
            t0,
            2.0 * s * sn * d.sum(),
            TOL,
        );
        same(
            &format!("checkpointed pair, n = {n}, J·d"),
            &t1,
            &(&d * (2.0 - half)),
            TOL,
        );
    }
}
