//! Generic differentiated functions: float type parameters (`T: num_traits::Float`,
//! `T: num_traits::real::Real`, `T: autodiff::Real`, in the parameter list or a `where` clause)
//! instantiated at `f64` and `f32`, ndarray code generic over the dimension (and the element
//! type), const generics, lifetimes, and calls between generic and concrete functions. Each
//! gradient is compared with its analytic value (the math is beside each function) and with
//! central finite differences; the forward mode of each is checked along seeded directions.

// The functions index slices inside range loops on purpose: that is what they test.
#![allow(clippy::needless_range_loop)]

mod common;

use autodiff::check::gradcheck;
use autodiff::{Differentiable, Real, differentiate};
use common::{close, forward, tangents_are2};
use ndarray::{Array, Array2, Dimension, Ix1, Ix2, array};
use num_traits::Float;

/// Relative tolerance of analytic comparisons at `f32`.
const TOL32: f64 = 1e-5;

/// Asserts that `gradient` passes a central finite-difference check of `f` at `x`.
#[track_caller]
fn fd<P: Differentiable>(what: &str, f: impl Fn(&P) -> P::Scalar, x: &P, gradient: &P) {
    let r = gradcheck(f, x, gradient);
    assert!(r.passed(), "{what}: {r}");
}

/// The value and the pullback of `w`, from what a `_vjp` returns.
fn pull<Y, G>((y, pullback): (Y, impl FnOnce(Y) -> G), w: Y) -> (Y, G) {
    (y, pullback(w))
}

/// Every scalar of `a` against the same one of `b`, to a relative tolerance.
#[track_caller]
fn close_all<P: Differentiable>(what: &str, a: &P, b: &P, tol: f64) {
    let (a, b) = (autodiff::to_flat(a), autodiff::to_flat(b));
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        close(&format!("{what}[{k}]"), x.as_f64(), y.as_f64(), tol);
    }
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

/// f(x, y) = x²·y + sin x − √y
/// ∂f/∂x = 2xy + cos x, ∂f/∂y = x² − 1/(2√y)
/// H = [[2y − sin x, 2x], [2x, 1/(4·y^{3/2})]]
#[differentiate(hessian)]
fn poly<T: Float>(x: T, y: T) -> T {
    x * x * y + x.sin() - y.sqrt()
}

fn poly_grad_exact(x: f64, y: f64) -> (f64, f64) {
    (2.0 * x * y + x.cos(), x * x - 0.5 / y.sqrt())
}

/// f(x, y) = x³ + max(x, y) + (x·y + x) + ln(e^{xy}) + |x|, at points without ties and x ≠ 0:
/// ∂f/∂x = 3x² + [x > y] + (y + 1) + y + sign x, ∂f/∂y = [y > x] + x + x
#[differentiate]
fn methods<T>(x: T, y: T) -> T
where
    T: Float,
{
    x.powi(3) + x.max(y) + x.mul_add(y, x) + (x * y).exp().ln() + x.abs()
}

fn methods_grad_exact(x: f64, y: f64) -> (f64, f64) {
    let (xm, ym) = if x > y { (1.0, 0.0) } else { (0.0, 1.0) };
    (3.0 * x * x + xm + (y + 1.0) + y + x.signum(), ym + 2.0 * x)
}

/// f(x) = ±xⁿ (the sign of x), by a loop and a branch: f'(x) = ±n·xⁿ⁻¹
#[differentiate]
fn power<T: Float + Copy>(x: T, n: usize) -> T {
    let mut acc = T::one();
    for _ in 0..n {
        acc = acc * x;
    }
    if x > T::zero() { acc } else { -acc }
}

/// f(x, y) = √(x·y) (num-traits' `Real`, bounded in a `where` clause):
/// ∂f/∂x = y/(2√(xy)), ∂f/∂y = x/(2√(xy))
#[differentiate]
fn geometric_mean<T>(x: T, y: T) -> T
where
    T: num_traits::real::Real,
{
    (x * y).sqrt()
}

/// f(x, y) = x·y + √x, with `autodiff::Real` as the bound: ∂f/∂x = y + 1/(2√x), ∂f/∂y = x
#[differentiate]
fn with_runtime_bound<T: Real>(x: T, y: T) -> T {
    x * y + x.sqrt()
}

#[test]
fn scalar_functions_at_f64_and_f32() {
    for &(x, y) in &[(0.7, 2.0), (-1.3, 0.5), (2.5, 3.0)] {
        let (v, g) = poly_grad(x, y);
        close("poly value", v, poly(x, y), 0.0);
        common::close2("poly", g, poly_grad_exact(x, y));
        fd("poly", |p: &(f64, f64)| poly(p.0, p.1), &(x, y), &g);
        let pairs = forward("poly").two((x, y), poly, poly_jvp, poly_vjp);
        tangents_are2("poly jvp", &pairs, poly_grad_exact(x, y), common::TOL);

        let (xf, yf) = (x as f32, y as f32);
        let (v32, g32) = poly_grad(xf, yf);
        close("poly value f32", v32.into(), poly(xf, yf).into(), 0.0);
        let exact = poly_grad_exact(xf.into(), yf.into());
        close("poly f32 ∂x", g32.0.into(), exact.0, TOL32);
        close("poly f32 ∂y", g32.1.into(), exact.1, TOL32);
        fd("poly f32", |p: &(f32, f32)| poly(p.0, p.1), &(xf, yf), &g32);
        forward("poly f32").two((xf, yf), poly, poly_jvp, poly_vjp);

        // The Hessian-vector product along each axis is a column of H.
        let h = [[2.0 * y - x.sin(), 2.0 * x], [2.0 * x, 0.25 / y.powf(1.5)]];
        for (k, v) in [(1.0, 0.0), (0.0, 1.0)].into_iter().enumerate() {
            let (_, grad, hv) = poly_hvp(x, y, v.0, v.1);
            common::close2("poly hvp gradient", grad, poly_grad_exact(x, y));
            common::close2("poly hvp", hv, (h[0][k], h[1][k]));
        }
    }
    for &(x, y) in &[(0.7, 2.0), (-1.3, -2.5), (2.5, 0.5)] {
        let (_, g) = methods_grad(x, y);
        common::close2("methods", g, methods_grad_exact(x, y));
        fd("methods", |p: &(f64, f64)| methods(p.0, p.1), &(x, y), &g);
        forward("methods").two((x, y), methods, methods_jvp, methods_vjp);
        let (xf, yf) = (x as f32, y as f32);
        let (_, g32) = methods_grad(xf, yf);
        let exact = methods_grad_exact(x, y);
        close("methods f32 ∂x", g32.0.into(), exact.0, TOL32);
        close("methods f32 ∂y", g32.1.into(), exact.1, TOL32);
        fd(
            "methods f32",
            |p: &(f32, f32)| methods(p.0, p.1),
            &(xf, yf),
            &g32,
        );
    }
    for &(x, n) in &[(1.3, 3usize), (-0.8, 4), (2.0, 1)] {
        let (v, d) = power_grad(x, n);
        close("power value", v, power(x, n), 0.0);
        let exact = x.signum() * n as f64 * x.powi(n as i32 - 1);
        close("power", d, exact, common::TOL);
        common::fd("power", |x| power(x, n), x, d);
        let pairs = forward("power").one(
            x,
            |x| power(x, n),
            |x, dx| power_jvp(x, n, dx),
            |x| power_vjp(x, n),
        );
        common::tangents_are("power jvp", &pairs, exact, common::TOL);
        let (_, d32) = power_grad(x as f32, n);
        close("power f32", d32.into(), exact, TOL32);
        common::fd32("power f32", |x| power(x, n), x as f32, d32);
    }
    for &(x, y) in &[(0.5, 2.0), (3.0, 1.5)] {
        let (_, g) = geometric_mean_grad(x, y);
        let r = (x * y).sqrt();
        common::close2("geometric_mean", g, (y / (2.0 * r), x / (2.0 * r)));
        let pairs = forward("geometric_mean").two(
            (x, y),
            geometric_mean,
            geometric_mean_jvp,
            geometric_mean_vjp,
        );
        tangents_are2("geometric_mean jvp", &pairs, g, common::TOL);
        let (_, g32) = geometric_mean_grad(x as f32, y as f32);
        close("geometric_mean f32", g32.0.into(), y / (2.0 * r), TOL32);

        let (_, g) = with_runtime_bound_grad(x, y);
        common::close2("with_runtime_bound", g, (y + 0.5 / x.sqrt(), x));
        let (_, g32) = with_runtime_bound_grad(x as f32, y as f32);
        fd(
            "with_runtime_bound f32",
            |p: &(f32, f32)| with_runtime_bound(p.0, p.1),
            &(x as f32, y as f32),
            &g32,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Slices, `Vec`s, iterator chains and closures
// ---------------------------------------------------------------------------------------------

/// f(x, w) = Σᵢ w·xᵢ²: ∂f/∂xᵢ = 2w·xᵢ, ∂f/∂w = Σᵢ xᵢ²
#[differentiate]
fn weighted<T: Float>(xs: &[T], w: T) -> T {
    let mut s = T::zero();
    for i in 0..xs.len() {
        s = s + w * xs[i] * xs[i];
    }
    s
}

/// The same sum through a `Vec` built by `push`, a closure that captures `c` and an iterator
/// chain: f(x, c) = Σᵢ c·xᵢ², ∂f/∂xᵢ = 2c·xᵢ, ∂f/∂c = Σᵢ xᵢ²
#[differentiate]
fn squares<T: Float>(xs: &[T], c: T) -> T {
    let mut v = Vec::new();
    for &x in xs {
        v.push(x * x);
    }
    let scale = |a: T| a * c;
    v.iter().map(|&a| scale(a)).fold(T::zero(), |s, a| s + a)
}

/// f(x, y) = Σᵢ xᵢ·yᵢ by `zip`: ∂f/∂x = y, ∂f/∂y = x
#[differentiate]
fn dot<T: Float>(xs: &[T], ys: Vec<T>) -> T {
    xs.iter()
        .zip(ys.iter())
        .map(|(a, b)| *a * *b)
        .fold(T::zero(), |acc, p| acc + p)
}

/// f(x) = x₀·x₁ through a slice whose lifetime is named: ∂f/∂x = (x₁, x₀, 0, …)
#[differentiate]
fn first_two<'a, T: Float + 'a>(x: &'a [T]) -> T {
    x[0] * x[1]
}

#[test]
fn slices_vecs_iterators_and_closures() {
    let xs = vec![0.5, -1.5, 2.0];
    let w = 1.25;
    let sum_sq: f64 = xs.iter().map(|x| x * x).sum();
    let twice: Vec<f64> = xs.iter().map(|x| 2.0 * w * x).collect();

    let (v, (dx, dw)) = weighted_grad(&xs, w);
    close("weighted value", v, w * sum_sq, common::TOL);
    close_all("weighted ∂x", &dx, &twice, common::TOL);
    close("weighted ∂w", dw, sum_sq, common::TOL);
    fd(
        "weighted",
        |p: &(Vec<f64>, f64)| weighted(&p.0, p.1),
        &(xs.clone(), w),
        &(dx, dw),
    );
    forward("weighted").check(
        &(xs.clone(), w),
        |p| weighted(&p.0, p.1),
        |p, v| weighted_jvp(&p.0, p.1, &v.0, v.1),
        |p, g| pull(weighted_vjp(&p.0, p.1), g),
    );

    let (_, (dx, dc)) = squares_grad(&xs, w);
    close_all("squares ∂x", &dx, &twice, common::TOL);
    close("squares ∂c", dc, sum_sq, common::TOL);
    forward("squares").check(
        &(xs.clone(), w),
        |p| squares(&p.0, p.1),
        |p, v| squares_jvp(&p.0, p.1, &v.0, v.1),
        |p, g| pull(squares_vjp(&p.0, p.1), g),
    );
    let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let (_, (dx32, dc32)) = squares_grad(&xs32, w as f32);
    let dx32: Vec<f64> = dx32.into_iter().map(f64::from).collect();
    close_all("squares f32 ∂x", &dx32, &twice, TOL32);
    close("squares f32 ∂c", dc32.into(), sum_sq, TOL32);
    fd(
        "squares f32",
        |p: &(Vec<f32>, f32)| squares(&p.0, p.1),
        &(xs32.clone(), w as f32),
        &squares_grad(&xs32, w as f32).1,
    );

    let ys = vec![3.0, 0.25, -1.0];
    let (v, (dx, dy)) = dot_grad(&xs, ys.clone());
    close("dot value", v, dot(&xs, ys.clone()), 0.0);
    assert_eq!((dx, dy), (ys.clone(), xs.clone()));
    forward("dot").check(
        &(xs.clone(), ys.clone()),
        |p| dot(&p.0, p.1.clone()),
        |p, v| dot_jvp(&p.0, p.1.clone(), &v.0, v.1.clone()),
        |p, g| pull(dot_vjp(&p.0, p.1.clone()), g),
    );
    let ys32: Vec<f32> = ys.iter().map(|&y| y as f32).collect();
    let (_, (dx32, dy32)) = dot_grad(&xs32, ys32.clone());
    assert_eq!((dx32, dy32), (ys32, xs32.clone()));

    let (_, d) = first_two_grad(&xs);
    assert_eq!(d, vec![xs[1], xs[0], 0.0]);
    let (_, d32) = first_two_grad(&xs32);
    assert_eq!(d32, vec![xs32[1], xs32[0], 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Const generics
// ---------------------------------------------------------------------------------------------

/// f(x) = Σᵢ xᵢ² + x₀·x_{N−1} over an array of any length N ≥ 1:
/// ∂f/∂xᵢ = 2xᵢ, plus x_{N−1} at i = 0 and x₀ at i = N − 1
#[differentiate]
fn norm_sq<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += x[i] * x[i];
    }
    s + x[0] * x[N - 1]
}

/// The same, generic over the element type too.
#[differentiate]
fn norm_sq_t<T: Real, const N: usize>(x: [T; N]) -> T {
    let mut s = T::ZERO;
    for i in 0..N {
        s += x[i] * x[i];
    }
    s + x[0] * x[N - 1]
}

fn norm_sq_exact<const N: usize>(x: [f64; N]) -> [f64; N] {
    let mut g = x.map(|v| 2.0 * v);
    g[0] += x[N - 1];
    g[N - 1] += x[0];
    g
}

#[test]
fn const_generic_arrays() {
    let x3 = [1.0, -2.0, 0.5];
    let (_, g3) = norm_sq_grad(x3);
    assert_eq!(g3, norm_sq_exact(x3));
    fd("norm_sq N=3", |x: &[f64; 3]| norm_sq(*x), &x3, &g3);
    let x5 = [0.3, 1.0, -2.0, 4.0, 0.5];
    let (_, g5) = norm_sq_grad(x5);
    assert_eq!(g5, norm_sq_exact(x5));
    forward("norm_sq N=5").check(
        &x5,
        |x| norm_sq(*x),
        |x, v| norm_sq_jvp(*x, *v),
        |x, g| pull(norm_sq_vjp(*x), g),
    );
    let (_, g) = norm_sq_t_grad(x5);
    assert_eq!(g, norm_sq_exact(x5));
    let (_, g32) = norm_sq_t_grad(x3.map(|v| v as f32));
    assert_eq!(g32, norm_sq_exact(x3).map(|v| v as f32));
    // A one-element array: x₀·x_{N−1} is x₀².
    assert_eq!(norm_sq_grad([3.0]).1, [12.0]);
}

// ---------------------------------------------------------------------------------------------
// ndarray, generic over the dimension
// ---------------------------------------------------------------------------------------------

/// f(a) = Σ aᵢ² + Σ sin aᵢ over an array of any dimension: ∂f/∂a = 2a + cos a
#[differentiate]
fn energy<D: Dimension>(a: &Array<f64, D>) -> f64 {
    (a * a).sum() + a.sin().sum()
}

/// f(a, s) = s·Σ aᵢ² + Σ aᵢ/s, generic over the element type (ndarray's `NdFloat`) and the
/// dimension:
/// ∂f/∂a = 2s·a + 1/s, ∂f/∂s = Σ aᵢ² − Σ aᵢ/s²
#[differentiate]
fn scaled_energy<T: ndarray::NdFloat, D: Dimension>(a: &Array<T, D>, s: T) -> T {
    (a * a).sum() * s + (a / s).sum()
}

fn check_energy<D: Dimension>(a: Array<f64, D>) {
    let (v, g) = energy_grad(&a);
    close("energy value", v, energy(&a), 0.0);
    close_all("energy", &g, &(&a * 2.0 + a.cos()), common::TOL);
    fd("energy", |a: &Array<f64, D>| energy(a), &a, &g);
    forward("energy").check(
        &a,
        |a| energy(a),
        |a, v| energy_jvp(a, v),
        |a, g| pull(energy_vjp(a), g),
    );

    let s = 1.5;
    let (_, (da, ds)) = scaled_energy_grad(&a, s);
    close_all(
        "scaled_energy ∂a",
        &da,
        &(&a * (2.0 * s) + 1.0 / s),
        common::TOL,
    );
    let exact_ds = (&a * &a).sum() - a.sum() / (s * s);
    close("scaled_energy ∂s", ds, exact_ds, common::TOL);
    let a32 = a.mapv(|v| v as f32);
    let (_, (da32, ds32)) = scaled_energy_grad(&a32, s as f32);
    close_all(
        "scaled_energy f32 ∂a",
        &da32.mapv(f64::from),
        &(&a * (2.0 * s) + 1.0 / s),
        TOL32,
    );
    close("scaled_energy f32 ∂s", ds32.into(), exact_ds, TOL32);
    fd(
        "scaled_energy f32",
        |p: &(Array<f32, D>, f32)| scaled_energy(&p.0, p.1),
        &(a32.clone(), s as f32),
        &(da32, ds32),
    );
}

#[test]
fn generic_dimension() {
    let a1: Array<f64, Ix1> = array![0.5, -1.0, 2.0];
    check_energy(a1);
    let a2: Array<f64, Ix2> = common::seeded(3, 4, 7);
    check_energy(a2);
    // The dynamic dimension too.
    let ad: Array2<f64> = common::seeded(2, 2, 3);
    check_energy(ad.into_dyn());
}

// ---------------------------------------------------------------------------------------------
// Calls between generic and concrete functions
// ---------------------------------------------------------------------------------------------

/// f(x, y) = p(x, y)·p(y, x) with p = [`poly`], called once inferred and once with a turbofish:
/// ∂f/∂x = ∂₀p(x, y)·p(y, x) + p(x, y)·∂₁p(y, x), and symmetrically for y
#[differentiate]
fn generic_calls<T: Float>(x: T, y: T) -> T {
    poly(x, y) * poly::<T>(y, x)
}

/// A concrete function calling generic ones: f(x) = p(x, 2) + m(x, 3) with m = [`methods`]:
/// f'(x) = ∂₀p(x, 2) + ∂₀m(x, 3)
#[differentiate]
fn concrete_caller(x: f64) -> f64 {
    poly(x, 2.0) + methods::<f64>(x, 3.0)
}

/// f(x) = x² + 1/x, a concrete function that generic ones call: f'(x) = 2x − 1/x²
#[differentiate]
fn concrete(x: f64) -> f64 {
    x * x + 1.0 / x
}

/// A generic function calling a concrete one on its `f64` parameter (the generic one is
/// inactive here): f(x, c) = c·g(c) with g = [`concrete`], ∂f/∂c = g(c) + c·g'(c)
#[differentiate(wrt(c))]
fn generic_caller<T: Float>(_x: T, c: f64) -> f64 {
    c * concrete(c)
}

/// A generic caller of the generated items, naming the bound they need.
fn slope<T: Float + Real>(x: T, y: T) -> (T, T) {
    generic_calls_grad(x, y).1
}

#[test]
fn calls_between_generic_and_concrete() {
    let (x, y) = (0.7, 1.3);
    let (p, q) = (poly(x, y), poly(y, x));
    let (dp, dq) = (poly_grad_exact(x, y), poly_grad_exact(y, x));
    let exact = (dp.0 * q + p * dq.1, dp.1 * q + p * dq.0);
    let (v, g) = generic_calls_grad(x, y);
    close("generic_calls value", v, p * q, 0.0);
    common::close2("generic_calls", g, exact);
    common::close2("generic caller of _grad", slope(x, y), exact);
    let g32 = slope(x as f32, y as f32);
    close("generic_calls f32 ∂x", g32.0.into(), exact.0, TOL32);
    close("generic_calls f32 ∂y", g32.1.into(), exact.1, TOL32);
    let pairs =
        forward("generic_calls").two((x, y), generic_calls, generic_calls_jvp, generic_calls_vjp);
    tangents_are2("generic_calls jvp", &pairs, exact, common::TOL);

    let (_, d) = concrete_caller_grad(x);
    close(
        "concrete_caller",
        d,
        poly_grad_exact(x, 2.0).0 + methods_grad_exact(x, 3.0).0,
        common::TOL,
    );
    common::fd("concrete_caller", concrete_caller, x, d);

    let c = 1.7;
    let (v, d) = generic_caller_grad(0.0_f32, c);
    close("generic_caller value", v, c * concrete(c), 0.0);
    close(
        "generic_caller",
        d,
        concrete(c) + c * (2.0 * c - 1.0 / (c * c)),
        common::TOL,
    );
    let (_, dt) = generic_caller_jvp(0.0_f32, c, 1.0);
    close("generic_caller jvp", dt, d, common::TOL);
}

// ---------------------------------------------------------------------------------------------
// Parameter structs with a float type parameter
// ---------------------------------------------------------------------------------------------

#[derive(autodiff::Differentiable, Clone, Debug, PartialEq)]
struct Line<T> {
    w: T,
    b: T,
}

/// f(p, x) = r² with r = w·x + b: ∂f/∂w = 2r·x, ∂f/∂b = 2r, ∂f/∂x = 2r·w
#[differentiate]
fn line_loss<T: Float>(p: &Line<T>, x: T) -> T {
    let r = p.w * x + p.b;
    r * r
}

#[test]
fn generic_parameter_structs() {
    let (p, x) = (Line { w: 0.5, b: -1.25 }, 2.0);
    let r = p.w * x + p.b;
    let (_, (dp, dx)) = line_loss_grad(&p, x);
    assert_eq!(
        dp,
        Line {
            w: 2.0 * r * x,
            b: 2.0 * r
        }
    );
    close("line_loss ∂x", dx, 2.0 * r * p.w, common::TOL);
    fd(
        "line_loss",
        |q: &(Line<f64>, f64)| line_loss(&q.0, q.1),
        &(p.clone(), x),
        &(dp, dx),
    );
    let p32 = Line {
        w: 0.5_f32,
        b: -1.25,
    };
    let (_, (dp32, _)) = line_loss_grad(&p32, 2.0);
    assert_eq!(
        dp32,
        Line {
            w: (2.0 * r * x) as f32,
            b: (2.0 * r) as f32
        }
    );
}

/// Methods of a generic `impl` block carrying the attribute, written without repeating the
/// block's bound (`where T: Float`) on each: the macro reads the block's bounds, `impl<T: Float>`
/// and a `where` clause alike. (They were the error "the macro sees only the function, not the
/// bounds of the `impl` around it", which told to repeat a bound it was shown.)
/// `loss(p, x) = (w·x + b)² + (w·x)²` through `Self::` and `self.` calls:
/// ∂w = 2r·x + 2w·x², ∂b = 2r, ∂x = 2r·w + 2w²·x with r = w·x + b.
#[differentiate(hessian)]
impl<T: Float> Line<T> {
    fn square(v: T) -> T {
        v * v
    }
    fn at(&self, x: T) -> T {
        self.w * x + self.b
    }
    fn loss(&self, x: T) -> T {
        Self::square(self.at(x)) + Self::square(self.w * x)
    }
}

trait Energy<T> {
    fn energy(&self, x: T) -> T;
}

/// A trait's method, the bound in the block's `where` clause: `b·x + w` (∂w = 1, ∂b = x, ∂x = b).
#[differentiate]
impl<T> Energy<T> for Line<T>
where
    T: Float,
{
    fn energy(&self, x: T) -> T {
        self.b * x + self.w
    }
}

#[test]
fn methods_of_a_generic_block_read_its_bounds() {
    let (p, x) = (Line { w: 0.5, b: -1.25 }, 2.0);
    let r = p.w * x + p.b;
    let (v, (dp, dx)) = p.loss_grad(x);
    assert_eq!(v, p.loss(x));
    let want = Line {
        w: 2.0 * r * x + 2.0 * p.w * x * x,
        b: 2.0 * r,
    };
    close_all("loss ∂p", &dp, &want, common::TOL);
    close(
        "loss ∂x",
        dx,
        2.0 * r * p.w + 2.0 * p.w * p.w * x,
        common::TOL,
    );
    fd(
        "loss",
        |q: &(Line<f64>, f64)| q.0.loss(q.1),
        &(p.clone(), x),
        &(dp.clone(), dx),
    );
    let (_, (dp2, dx2)) = pull(p.loss_vjp(x), -3.0);
    close_all(
        "seed −3: ∂p",
        &dp2,
        &Line {
            w: -3.0 * want.w,
            b: -3.0 * want.b,
        },
        common::TOL,
    );
    close("seed −3: ∂x", dx2, -3.0 * dx, common::TOL);
    // H·e_x: ∂²/∂x∂w = 2(r + w·x) + 4w·x, ∂²/∂x∂b = 2w, ∂²/∂x² = 4w².
    let (_, _, (hp, hx)) = p.loss_hvp(x, &Line { w: 0.0, b: 0.0 }, 1.0);
    let h_want = Line {
        w: 2.0 * (r + p.w * x) + 4.0 * p.w * x,
        b: 2.0 * p.w,
    };
    close_all("H·e_x: p", &hp, &h_want, common::TOL);
    close("H·e_x: x", hx, 4.0 * p.w * p.w, common::TOL);
    let p32 = Line {
        w: 0.5_f32,
        b: -1.25,
    };
    let (v32, _) = p32.loss_grad(2.0);
    close("loss at f32", f64::from(v32), v, TOL32);
    let (e, (de, dxe)) = p.energy_grad(x);
    assert_eq!(e, p.energy(x));
    close_all("energy ∂p", &de, &Line { w: 1.0, b: x }, common::TOL);
    close("energy ∂x", dxe, p.b, common::TOL);
}

/// x², generic over `Real`: the example of `Real`'s documentation in the runtime, which cannot
/// run there (the runtime does not depend on this crate).
#[differentiate]
fn square_real<T: autodiff::Real>(x: T) -> T {
    x * x
}

/// A generic caller of `square_real_grad` names the same bound: d/dx x² = 2x.
fn slope_at<T: autodiff::Real>(x: T) -> T {
    square_real_grad(x).1
}

#[test]
fn generic_caller_names_the_real_bound() {
    assert_eq!(slope_at(3.0_f32), 6.0);
    assert_eq!(slope_at(-1.5_f64), -3.0);
}

/// num-traits' conversions in a generic differentiated function: `T::from_f64(0.5).unwrap()`
/// (`FromPrimitive`) and `x.to_f64().unwrap()` (`ToPrimitive`) on values that are not
/// differentiated. The generated items bound `T` by the runtime's `Real` too, whose
/// conversions had the same names: rustc's E0034 ("multiple applicable items") inside them.
/// `Real`'s are `of_f64` and `as_f64`.
#[differentiate]
fn half_square_from_primitive<T: num_traits::Float + num_traits::FromPrimitive>(x: T) -> T {
    let half = T::from_f64(0.5).unwrap();
    let n = half.to_f64().unwrap();
    let two = T::from_f64(4.0 * n).unwrap();
    half * x * x * two / (T::one() + T::one())
}

#[test]
fn num_traits_conversions_of_constants() {
    assert_eq!(half_square_from_primitive_grad(3.0f64), (4.5, 3.0));
    assert_eq!(half_square_from_primitive_grad(3.0f32), (4.5, 3.0));
}
