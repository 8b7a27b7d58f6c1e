//! Checks shared by the tests of the scalar rules: a rule against an independent formula of its
//! derivative, against central finite differences of the primal, and its jvp against its vjp;
//! and the seeded random numbers the tests of the array rules and of the rules' tangents draw.

use ndarray::{Array, Dimension};

use crate::check::{assert_close, gradcheck};
use crate::differentiable::{Differentiable, Real};

/// Rule vs. an independent formula of the same derivative: they differ by rounding only.
pub(crate) const FORMULA: f64 = 1e-12;
/// A cotangent / tangent other than 1, to check linearity.
pub(crate) const G: f64 = -0.7;

pub(crate) type Unary = fn(&f64, &f64, &f64) -> f64;
pub(crate) type Binary = fn(&f64, &f64, &f64, &f64) -> f64;
pub(crate) type BinaryJvp = fn(&f64, &f64, &f64, &f64, &f64) -> f64;
pub(crate) type Ternary = fn(&f64, &f64, &f64, &f64, &f64) -> f64;
pub(crate) type TernaryJvp = fn(&f64, &f64, &f64, &f64, &f64, &f64, &f64) -> f64;
pub(crate) type UnaryF32 = fn(&f32, &f32, &f32) -> f32;

/// The rules of a binary primitive, coerced to function pointers.
pub(crate) fn rules2(vjp_0: Binary, vjp_1: Binary, jvp: BinaryJvp) -> (Binary, Binary, BinaryJvp) {
    (vjp_0, vjp_1, jvp)
}

/// The rules of a ternary primitive, coerced to function pointers.
pub(crate) fn rules3(
    vjp_0: Ternary,
    vjp_1: Ternary,
    vjp_2: Ternary,
    jvp: TernaryJvp,
) -> (Ternary, Ternary, Ternary, TernaryJvp) {
    (vjp_0, vjp_1, vjp_2, jvp)
}

/// The rules of a unary `f32` primitive, coerced to function pointers.
pub(crate) fn rules1_f32(vjp: UnaryF32, jvp: UnaryF32) -> (UnaryF32, UnaryF32) {
    (vjp, jvp)
}

/// Checks a unary rule pair at each point.
#[track_caller]
pub(crate) fn unary(
    primal: fn(f64) -> f64,
    vjp: Unary,
    jvp: Unary,
    formula: fn(f64) -> f64,
    at: &[f64],
) {
    for &x in at {
        let y = primal(x);
        let d = vjp(&x, &y, &1.0);
        assert_close(d, formula(x), FORMULA);
        gradcheck(|x: &f64| primal(*x), &x, &d).assert_ok();
        assert_eq!(jvp(&x, &y, &1.0), d, "jvp(dx = 1) != vjp(g = 1) at x = {x}");
        assert_close(vjp(&x, &y, &G), G * d, FORMULA);
        assert_eq!(jvp(&x, &y, &G), vjp(&x, &y, &G), "jvp != vjp at x = {x}");
    }
}

/// Checks a binary rule triple at each point; `formula` gives both partials.
#[track_caller]
pub(crate) fn binary(
    primal: fn(f64, f64) -> f64,
    (vjp_0, vjp_1, jvp): (Binary, Binary, BinaryJvp),
    formula: fn(f64, f64) -> (f64, f64),
    at: &[(f64, f64)],
) {
    for &(x, a) in at {
        let y = primal(x, a);
        let d = (vjp_0(&x, &a, &y, &1.0), vjp_1(&x, &a, &y, &1.0));
        let (f0, f1) = formula(x, a);
        assert_close(d.0, f0, FORMULA);
        assert_close(d.1, f1, FORMULA);
        gradcheck(|p: &(f64, f64)| primal(p.0, p.1), &(x, a), &d).assert_ok();
        assert_eq!(jvp(&x, &a, &y, &1.0, &0.0), d.0, "∂/∂x at ({x}, {a})");
        assert_eq!(jvp(&x, &a, &y, &0.0, &1.0), d.1, "∂/∂a at ({x}, {a})");
        assert_close(jvp(&x, &a, &y, &G, &0.3), G * d.0 + 0.3 * d.1, FORMULA);
        assert_close(vjp_0(&x, &a, &y, &G), G * d.0, FORMULA);
        assert_close(vjp_1(&x, &a, &y, &G), G * d.1, FORMULA);
    }
}

/// Checks a ternary rule quadruple at each point; `formula` gives the three partials.
#[track_caller]
pub(crate) fn ternary(
    primal: fn(f64, f64, f64) -> f64,
    (vjp_0, vjp_1, vjp_2, jvp): (Ternary, Ternary, Ternary, TernaryJvp),
    formula: fn(f64, f64, f64) -> (f64, f64, f64),
    at: &[(f64, f64, f64)],
) {
    for &(x, a, b) in at {
        let y = primal(x, a, b);
        let d = (
            vjp_0(&x, &a, &b, &y, &1.0),
            vjp_1(&x, &a, &b, &y, &1.0),
            vjp_2(&x, &a, &b, &y, &1.0),
        );
        let f = formula(x, a, b);
        assert_close(d.0, f.0, FORMULA);
        assert_close(d.1, f.1, FORMULA);
        assert_close(d.2, f.2, FORMULA);
        gradcheck(|p: &(f64, f64, f64)| primal(p.0, p.1, p.2), &(x, a, b), &d).assert_ok();
        assert_eq!(jvp(&x, &a, &b, &y, &1.0, &0.0, &0.0), d.0);
        assert_eq!(jvp(&x, &a, &b, &y, &0.0, &1.0, &0.0), d.1);
        assert_eq!(jvp(&x, &a, &b, &y, &0.0, &0.0, &1.0), d.2);
        let (t0, t1, t2) = (G, 0.3, 1.9);
        assert_close(
            jvp(&x, &a, &b, &y, &t0, &t1, &t2),
            t0 * d.0 + t1 * d.1 + t2 * d.2,
            FORMULA,
        );
        assert_close(vjp_1(&x, &a, &b, &y, &G), G * d.1, FORMULA);
    }
}

/// A small seeded linear congruential generator (Knuth's MMIX constants).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    /// A length in `lo..=hi`.
    pub(crate) fn len(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() * (hi - lo + 1) as f64) as usize
    }
    /// An array of shape `shape`, entries uniform in `[lo, hi)`.
    pub(crate) fn array<D: Dimension>(&mut self, shape: D, lo: f64, hi: f64) -> Array<f64, D> {
        Array::from_shape_simple_fn(shape, || self.uniform(lo, hi))
    }
    /// A random value shaped like `x`, entries uniform in `[-1, 1)`.
    pub(crate) fn like<P: Differentiable>(&mut self, x: &P) -> P {
        let mut out = x.zero_like();
        out.zip_leaves_mut(x, &mut |leaf, _| {
            for v in leaf {
                *v = P::Scalar::of_f64(self.uniform(-1.0, 1.0));
            }
        });
        out
    }
}
