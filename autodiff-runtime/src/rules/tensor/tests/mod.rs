//! Every rule against central finite differences of `x ↦ ⟨f(x), w⟩` for fixed random weights
//! `w` (whose gradient is the vjp with cotangent `w`), on random shapes; every jvp against its
//! vjp through `⟨jvp(dx), w⟩ = ⟨dx, vjp(w)⟩`; `unbroadcast` against a brute-force sum.

use ndarray::{Array, Dimension};

use crate::differentiable::{Differentiable, Real};

mod arith;
mod float;
mod linear;

/// `⟨jvp(dx), w⟩` vs `⟨dx, vjp(w)⟩`: equal up to rounding.
const ADJOINT: f64 = 1e-12;

/// A small seeded linear congruential generator (Knuth's MMIX constants).
pub(super) struct Lcg(u64);

impl Lcg {
    pub(super) fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[lo, hi)`.
    pub(super) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    /// A length in `lo..=hi`.
    pub(super) fn len(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() * (hi - lo + 1) as f64) as usize
    }
    /// An array of shape `shape`, entries uniform in `[lo, hi)`.
    pub(super) fn array<D: Dimension>(&mut self, shape: D, lo: f64, hi: f64) -> Array<f64, D> {
        Array::from_shape_simple_fn(shape, || self.uniform(lo, hi))
    }
    /// A random value shaped like `x`, entries uniform in `[-1, 1)`.
    pub(super) fn like<P: Differentiable>(&mut self, x: &P) -> P {
        let mut out = x.zero_like();
        out.zip_leaves_mut(x, &mut |leaf, _| {
            for v in leaf {
                *v = P::Scalar::from_f64(self.uniform(-1.0, 1.0));
            }
        });
        out
    }
}

/// `⟨y, w⟩`.
pub(super) fn wsum<T: Real, D: Dimension>(y: &Array<T, D>, w: &Array<T, D>) -> T {
    y.inner(w)
}
