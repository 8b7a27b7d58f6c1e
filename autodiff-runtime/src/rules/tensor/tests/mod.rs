//! Every rule against central finite differences of `x ↦ ⟨f(x), w⟩` for fixed random weights
//! `w` (whose gradient is the vjp with cotangent `w`), on random shapes; every jvp against its
//! vjp through `⟨jvp(dx), w⟩ = ⟨dx, vjp(w)⟩`; `unbroadcast` against a brute-force sum.

use ndarray::{Array, Dimension};

use crate::differentiable::{Differentiable, Real};
pub(super) use crate::rules::testing::Lcg;

mod arith;
mod float;
mod join;
mod linear;

/// `⟨jvp(dx), w⟩` vs `⟨dx, vjp(w)⟩`: equal up to rounding.
const ADJOINT: f64 = 1e-12;

/// `⟨y, w⟩`.
pub(super) fn wsum<T: Real, D: Dimension>(y: &Array<T, D>, w: &Array<T, D>) -> T {
    y.inner(w)
}
