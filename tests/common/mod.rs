//! Assertions shared by the numerical tests: analytic values to a relative tolerance, and
//! gradients against central finite differences through `autodiff::check`.

#![allow(dead_code)] // each test file uses the helpers it needs

use autodiff::check::gradcheck;
use ndarray::{Array, Array1, Array2, Dimension};

/// The tolerance for derivatives that are exact up to rounding (f64).
pub const TOL: f64 = 1e-12;

/// A gradient with respect to two scalars.
pub type Grad2 = (f64, f64);

/// `|actual − expected| <= tol·max(1, |expected|)`, with context in the message.
#[track_caller]
pub fn close(what: &str, actual: f64, expected: f64, tol: f64) {
    let ok = actual == expected || (actual - expected).abs() <= tol * expected.abs().max(1.0);
    assert!(
        ok,
        "{what}: got {actual:e}, expected {expected:e}, difference {:e} (tol {tol:e})",
        (actual - expected).abs()
    );
}

/// Both entries of a two-scalar gradient, to [`TOL`].
#[track_caller]
pub fn close2(what: &str, actual: Grad2, expected: Grad2) {
    close(&format!("{what}, ∂0"), actual.0, expected.0, TOL);
    close(&format!("{what}, ∂1"), actual.1, expected.1, TOL);
}

/// Each entry of `actual` is the one of `expected`, to [`TOL`] (see [`close`]).
#[track_caller]
pub fn close_all(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        close(&format!("{what}[{k}]"), a, e, TOL);
    }
}

/// Finite-difference check of a gradient of a function of one f64.
#[track_caller]
pub fn fd(what: &str, f: impl Fn(f64) -> f64, x: f64, d: f64) {
    let r = gradcheck(|x: &f64| f(*x), &x, &d);
    assert!(r.passed(), "{what} at {x}: {r}");
}

/// A gradient with respect to a slice against central finite differences of `f` at `x`.
#[track_caller]
pub fn fd_vec(what: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{what}: {r}");
}

/// `n` deterministic values in [−1, 1], different for each `seed`.
pub fn data(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|i| ((i as f64 + seed) * 0.731).sin()).collect()
}

#[track_caller]
pub fn fd2(what: &str, f: impl Fn(f64, f64) -> f64, x: Grad2, d: Grad2) {
    let r = gradcheck(|p: &Grad2| f(p.0, p.1), &x, &d);
    assert!(r.passed(), "{what} at {x:?}: {r}");
}

/// A gradient with respect to three scalars against central finite differences.
#[track_caller]
pub fn fd3(what: &str, f: impl Fn(f64, f64, f64) -> f64, p: (f64, f64, f64), g: (f64, f64, f64)) {
    let r = gradcheck(|q: &(f64, f64, f64)| f(q.0, q.1, q.2), &p, &g);
    assert!(r.passed(), "{what} at {p:?}: {r}");
}

/// A gradient with respect to two slices against central finite differences.
#[track_caller]
pub fn fd_vec2(
    what: &str,
    f: impl Fn(&[f64], &[f64]) -> f64,
    a: &[f64],
    b: &[f64],
    ga: &[f64],
    gb: &[f64],
) {
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>)| f(&p.0, &p.1),
        &(a.to_vec(), b.to_vec()),
        &(ga.to_vec(), gb.to_vec()),
    );
    assert!(r.passed(), "{what}: {r}");
}

/// Finite-difference check of a gradient of a function of one f32.
#[track_caller]
pub fn fd32(what: &str, f: impl Fn(f32) -> f32, x: f32, d: f32) {
    let r = gradcheck(|x: &f32| f(*x), &x, &d);
    assert!(r.passed(), "{what} at {x}: {r}");
}

// ---------------------------------------------------------------------------------------------
// Forward mode: `f_jvp` against directional finite differences and against `f_vjp` (the
// dot-product test), and its value against the function's.
// ---------------------------------------------------------------------------------------------

use autodiff::check::{
    DotReport, Tolerance, dot_product_test_with, jvpcheck_with, random_direction,
};
use autodiff::{Differentiable, Real};

/// Random directions per point in the forward-mode checks.
pub const DIRECTIONS: u64 = 3;

/// Every scalar of `y` as bits, in leaf order: for exact comparisons of values.
pub fn bits<Y: Differentiable>(y: &Y) -> Vec<u64> {
    let mut out = Vec::new();
    y.visit_leaves(&mut |leaf| out.extend(leaf.iter().map(|s| s.as_f64().to_bits())));
    out
}

/// Forward-mode checks of a function, named `what` in messages: [`Forward::check`] and its forms
/// for functions of one, two and three scalars.
pub fn forward(what: impl Into<String>) -> Forward {
    Forward {
        what: what.into(),
        differences: true,
        tolerances: None,
    }
}

/// What [`forward`] checks, and with which tolerances.
pub struct Forward {
    what: String,
    differences: bool,
    tolerances: Option<(Tolerance, f64)>,
}

impl Forward {
    /// An explicit finite-difference step and tolerances, and relative tolerance of the
    /// dot-product test: for functions computed (partly) in a coarser type than their parameters
    /// and result.
    pub fn with(mut self, tolerance: Tolerance, dot_rtol: f64) -> Self {
        self.tolerances = Some((tolerance, dot_rtol));
        self
    }

    /// No finite differences (values and the dot-product test only): at points where the
    /// function is not differentiable (kinks), where the tangent follows the rules' convention
    /// rather than a difference quotient but must still be the transpose of the pullback.
    pub fn at_kink(mut self) -> Self {
        self.differences = false;
        self
    }

    /// Forward mode of `f` at `x`, along [`DIRECTIONS`] seeded random directions `v` (and
    /// cotangents `w` shaped like the result):
    /// - the value `jvp` returns is `f(x)`, bit for bit, and so is the one `vjp` returns;
    /// - the tangent `J·v` passes [`jvpcheck`](autodiff::check::jvpcheck): central differences
    ///   of `f` along `v`, by default with the step and tolerances of the coarser scalar type;
    /// - the tangent and the pullback pass the dot-product test `⟨J v, w⟩ = ⟨v, Jᵀ w⟩`.
    ///
    /// `jvp(x, v)` returns value and tangent; `vjp(x, w)` returns value and the pullback of
    /// `w`. Returns the pairs (direction, tangent), for analytic comparisons by the caller.
    #[track_caller]
    pub fn check<P, Y>(
        &self,
        x: &P,
        f: impl Fn(&P) -> Y,
        jvp: impl Fn(&P, &P) -> (Y, Y),
        vjp: impl Fn(&P, Y) -> (Y, P),
    ) -> Vec<(P, Y)>
    where
        P: Differentiable,
        Y: Differentiable,
    {
        let what = &self.what;
        let (tolerance, dot_rtol) = self.tolerances.unwrap_or_else(|| {
            (
                Tolerance::default_for::<P::Scalar>()
                    .coarser(Tolerance::default_for::<Y::Scalar>()),
                DotReport::default_rtol::<P::Scalar>().max(DotReport::default_rtol::<Y::Scalar>()),
            )
        });
        let y = f(x);
        let mut tangents = Vec::new();
        for seed in 0..DIRECTIONS {
            let v = random_direction(x, seed);
            let (value, jv) = jvp(x, &v);
            assert_eq!(
                bits(&value),
                bits(&y),
                "{what}: the value of _jvp is not f(..)"
            );
            if self.differences {
                let r = jvpcheck_with(&f, x, &v, &jv, tolerance);
                assert!(r.passed(), "{what}, direction {seed}: {r}");
            }
            let w = random_direction(&y, 1000 + seed);
            let (value, vjp_w) = vjp(x, w.clone());
            assert_eq!(
                bits(&value),
                bits(&y),
                "{what}: the value of _vjp is not f(..)"
            );
            let d = dot_product_test_with(&v, &jv, &w, &vjp_w, dot_rtol);
            assert!(d.passed(), "{what}, direction {seed}: {d}");
            tangents.push((v, jv));
        }
        tangents
    }

    /// [`Forward::check`] for a function of one scalar, given as `f`, `f_jvp` and `f_vjp` (or
    /// closures that pass inactive arguments along).
    #[track_caller]
    pub fn one<S, Y, B>(
        &self,
        x: S,
        f: impl Fn(S) -> Y,
        jvp: impl Fn(S, S) -> (Y, Y),
        vjp: impl Fn(S) -> (Y, B),
    ) -> Vec<(S, Y)>
    where
        S: Real,
        Y: Differentiable,
        B: FnOnce(Y) -> S,
    {
        self.check(
            &x,
            |x| f(*x),
            |x, v| jvp(*x, *v),
            |x, w| {
                let (y, pullback) = vjp(*x);
                (y, pullback(w))
            },
        )
    }

    /// [`Forward::check`] for a function of two scalars of one type.
    #[track_caller]
    pub fn two<S, Y, B>(
        &self,
        x: (S, S),
        f: impl Fn(S, S) -> Y,
        jvp: impl Fn(S, S, S, S) -> (Y, Y),
        vjp: impl Fn(S, S) -> (Y, B),
    ) -> Vec<((S, S), Y)>
    where
        S: Real,
        Y: Differentiable,
        B: FnOnce(Y) -> (S, S),
    {
        self.check(
            &x,
            |x| f(x.0, x.1),
            |x, v| jvp(x.0, x.1, v.0, v.1),
            |x, w| {
                let (y, pullback) = vjp(x.0, x.1);
                (y, pullback(w))
            },
        )
    }

    /// [`Forward::check`] for a function of three scalars of one type.
    #[track_caller]
    pub fn three<S, Y, B>(
        &self,
        x: (S, S, S),
        f: impl Fn(S, S, S) -> Y,
        jvp: impl Fn(S, S, S, S, S, S) -> (Y, Y),
        vjp: impl Fn(S, S, S) -> (Y, B),
    ) -> Vec<((S, S, S), Y)>
    where
        S: Real,
        Y: Differentiable,
        B: FnOnce(Y) -> (S, S, S),
    {
        self.check(
            &x,
            |x| f(x.0, x.1, x.2),
            |x, v| jvp(x.0, x.1, x.2, v.0, v.1, v.2),
            |x, w| {
                let (y, pullback) = vjp(x.0, x.1, x.2);
                (y, pullback(w))
            },
        )
    }
}

/// Each tangent of a function of one scalar is `df·v` (`df` its analytic derivative), to `tol`.
#[track_caller]
pub fn tangents_are(what: &str, pairs: &[(f64, f64)], df: f64, tol: f64) {
    for &(v, jv) in pairs {
        close(&format!("{what}, v = {v}"), jv, df * v, tol);
    }
}

/// Each tangent of a function of two scalars is `⟨∇f, v⟩` (`grad` its analytic gradient), to
/// `tol`.
#[track_caller]
pub fn tangents_are2(what: &str, pairs: &[(Grad2, f64)], grad: Grad2, tol: f64) {
    for &(v, jv) in pairs {
        close(
            &format!("{what}, v = {v:?}"),
            jv,
            grad.0 * v.0 + grad.1 * v.1,
            tol,
        );
    }
}

/// Calls `$rule!(name, |x| derivative, [points])` for every float method of one float input in
/// `#[differentiate]`'s primitive table, with its analytic derivative and points farther than
/// any finite-difference step from its kinks and domain boundaries: one list that every test
/// of the unary rules can share.
#[allow(unused_macros)] // used by the test files that check every unary rule
macro_rules! unary_methods {
    ($rule:ident) => {
        // d/dx eˣ = eˣ
        $rule!(exp, |x| x.exp(), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx 2ˣ = 2ˣ·ln 2
        $rule!(
            exp2,
            |x| x.exp2() * std::f64::consts::LN_2,
            [-2.0, 0.0, 0.7, 3.0]
        );
        // d/dx (eˣ − 1) = eˣ
        $rule!(exp_m1, |x| x.exp(), [-1.0, -1e-3, 0.0, 1e-3, 2.0]);
        // d/dx ln x = 1/x
        $rule!(ln, |x| 1.0 / x, [0.1, 1.0, 2.5, 100.0]);
        // d/dx log₂ x = 1/(x·ln 2)
        $rule!(
            log2,
            |x| 1.0 / (x * std::f64::consts::LN_2),
            [0.1, 1.0, 2.5, 100.0]
        );
        // d/dx log₁₀ x = 1/(x·ln 10)
        $rule!(
            log10,
            |x| 1.0 / (x * std::f64::consts::LN_10),
            [0.1, 1.0, 2.5, 100.0]
        );
        // d/dx ln(1 + x) = 1/(1 + x)
        $rule!(ln_1p, |x| 1.0 / (1.0 + x), [-0.5, 0.0, 1e-3, 3.0]);
        // d/dx √x = 1/(2√x)
        $rule!(sqrt, |x| 0.5 / x.sqrt(), [0.04, 1.0, 2.0, 100.0]);
        // d/dx ∛x = 1/(3·∛x²)
        $rule!(
            cbrt,
            |x| 1.0 / (3.0 * x.cbrt() * x.cbrt()),
            [-8.0, -0.5, 0.3, 27.0]
        );
        // d/dx 1/x = −1/x²
        $rule!(recip, |x| -1.0 / (x * x), [-2.0, 0.5, 3.0]);
        // d/dx sin x = cos x
        $rule!(sin, |x| x.cos(), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx cos x = −sin x
        $rule!(cos, |x| -x.sin(), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx tan x = 1/cos² x
        $rule!(tan, |x| 1.0 / (x.cos() * x.cos()), [-1.0, 0.0, 0.7, 1.2]);
        // d/dx asin x = 1/√(1 − x²)
        $rule!(asin, |x| 1.0 / (1.0 - x * x).sqrt(), [-0.9, 0.0, 0.3, 0.8]);
        // d/dx acos x = −1/√(1 − x²)
        $rule!(acos, |x| -1.0 / (1.0 - x * x).sqrt(), [-0.9, 0.0, 0.3, 0.8]);
        // d/dx atan x = 1/(1 + x²)
        $rule!(atan, |x| 1.0 / (1.0 + x * x), [-5.0, 0.0, 0.7, 3.0]);
        // d/dx sinh x = cosh x
        $rule!(sinh, |x| x.cosh(), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx cosh x = sinh x
        $rule!(cosh, |x| x.sinh(), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx tanh x = 1/cosh² x
        $rule!(tanh, |x| 1.0 / (x.cosh() * x.cosh()), [-2.0, 0.0, 0.7, 3.0]);
        // d/dx asinh x = 1/√(x² + 1)
        $rule!(
            asinh,
            |x| 1.0 / (x * x + 1.0).sqrt(),
            [-3.0, 0.0, 0.5, 10.0]
        );
        // d/dx acosh x = 1/√(x² − 1)
        $rule!(acosh, |x| 1.0 / (x * x - 1.0).sqrt(), [1.1, 2.0, 10.0]);
        // d/dx atanh x = 1/(1 − x²)
        $rule!(atanh, |x| 1.0 / (1.0 - x * x), [-0.9, 0.0, 0.5]);
        // d/dx |x| = sign x (x ≠ 0; the kink has its own tests)
        $rule!(abs, |x| x.signum(), [-2.0, -0.1, 0.1, 3.0]);
        // d/dx signum x = 0 (piecewise constant)
        $rule!(signum, |x| 0.0 * x, [-2.0, -0.1, 0.1, 3.0]);
        // floor, ceil, round, trunc: piecewise constant, derivative 0 (points away from jumps)
        $rule!(floor, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
        $rule!(ceil, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
        $rule!(round, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
        $rule!(trunc, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
        // d/dx fract x = d/dx (x − trunc x) = 1
        $rule!(fract, |x| 1.0 + 0.0 * x, [-1.3, 0.4, 2.7]);
        // d/dx (x·180/π) = 180/π
        $rule!(
            to_degrees,
            |x| 180.0 / std::f64::consts::PI + 0.0 * x,
            [-1.3, 0.4, 2.7]
        );
        // d/dx (x·π/180) = π/180
        $rule!(
            to_radians,
            |x| std::f64::consts::PI / 180.0 + 0.0 * x,
            [-100.0, 0.4, 270.0]
        );
    };
}
#[allow(unused_imports)] // used by the test files that check every unary rule
pub(crate) use unary_methods;

/// A deterministic matrix with entries in [−1, 1) (a linear congruential generator).
pub fn seeded(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut s = seed;
    Array2::from_shape_fn((rows, cols), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// A gradient with respect to an array against central finite differences of `f` at `x`.
#[track_caller]
pub fn fd_array<D: Dimension>(
    what: &str,
    f: impl Fn(&Array<f64, D>) -> f64,
    x: &Array<f64, D>,
    gradient: &Array<f64, D>,
) {
    let r = gradcheck(f, x, gradient);
    assert!(r.passed(), "{what}: {r}");
}

/// A `rows × cols` matrix of [`data`].
pub fn matrix(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), data(rows * cols, seed)).unwrap()
}

/// A vector of [`data`].
pub fn vector(n: usize, seed: f64) -> Array1<f64> {
    Array1::from(data(n, seed))
}

/// Each entry of `a` is the one of `b` to `tol` (absolute below 1, relative above).
#[track_caller]
pub fn same<D: Dimension>(what: &str, a: &Array<f64, D>, b: &Array<f64, D>, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (k, (&x, &y)) in a.iter().zip(b.iter()).enumerate() {
        close(&format!("{what}[{k}]"), x, y, tol);
    }
}

/// `H·v` of a function of a `Vec<f64>` against central differences of its gradient along `v`:
/// `(∇f(x + hv) − ∇f(x − hv)) / 2h`, each entry to a relative tolerance of `1e-6`.
#[track_caller]
pub fn hvp_against_fd(
    what: &str,
    grad: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    v: &[f64],
    hv: &[f64],
) {
    let h = 1e-5;
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (gp, gm) = (grad(&xp), grad(&xm));
    for i in 0..x.len() {
        let e = (gp[i] - gm[i]) / (2.0 * h);
        close(&format!("{what}: (H·v)[{i}]"), hv[i], e, 1e-6);
    }
}

/// A gradient of any differentiable value against central finite differences.
#[track_caller]
pub fn fd_any<P: autodiff::Differentiable<Scalar = f64>>(
    what: &str,
    f: impl Fn(&P) -> f64,
    p: &P,
    g: &P,
) {
    let r = gradcheck(|q: &P| f(q), p, g);
    assert!(r.passed(), "{what}: {r}");
}
