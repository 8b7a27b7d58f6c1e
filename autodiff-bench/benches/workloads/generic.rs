//! Workload 2c: a generic function instantiated at `f64` against the same function written for
//! `f64`. `#[differentiate]` writes a generic function's arithmetic through the runtime's rule
//! traits (rustc picks the `f64` impls), a concrete one's as plain `f64` code; monomorphised and
//! inlined they should be the same machine code. The case is the logistic loss of [`loops`]
//! written over `T: num_traits::Float`: its "ours" runner is the generic `_grad` at `f64`, its
//! "hand" runner the concrete function's generated `_grad` ([`loops::logistic_grad`]), so the
//! report's ours/hand column is the generic code's time over the concrete code's (target 1).
//!
//! [`loops`]: super::loops
//! [`loops::logistic_grad`]: super::loops::logistic_grad

use std::mem::size_of_val;

use autodiff::differentiate;
use num_traits::Float;

use super::alloc::heap_kept_by;
use super::loops::{logistic, logistic_data, logistic_grad, logistic_tape, two_param_case};
use super::{Case, Stored};

/// [`loops::logistic`](super::loops::logistic) over any float type.
#[differentiate(wrt(a, b))]
pub fn logistic_t<T: Float>(a: T, b: T, xs: &[T], ys: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        s = s + (T::one() + (-ys[i] * z).exp()).ln();
    }
    s
}

pub fn cases() -> Vec<Case> {
    [1_000, 100_000]
        .into_iter()
        .map(|n| {
            // `two_param_case` checks the generic gradient against the concrete one first.
            two_param_case(
                format!("logistic n={n}, generic at f64 (hand = f64 code)"),
                (0.5, -0.3),
                logistic_data(n),
                8,
                logistic_t::<f64>,
                logistic_t_grad::<f64>,
                logistic_t_jvp::<f64>,
                logistic_grad,
                logistic_tape,
                Box::new(|a, b, xs, ys| {
                    let ((_, pb), heap) = heap_kept_by(|| logistic_t_vjp(a, b, xs, ys));
                    Stored {
                        closure: size_of_val(&pb),
                        heap,
                    }
                }),
            )
        })
        .collect()
}
