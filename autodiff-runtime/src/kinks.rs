//! Exact derivatives at kinks: the runtime side of `#[differentiate(kinks = exact)]`.
//!
//! By default a rule at a kink returns one fixed element of the Clarke gradient (see
//! [`crate::rules`], "Nonsmooth points"). No fixed choice is right for every composition: with
//! `relu(x) = max(x, 0)`, the functions `x`, `relu(x) − relu(−x)` and `relu(relu(x)) − relu(−x)`
//! are all the identity, yet the tie rule `relu'(0) = ½` gives the derivatives 1, 1 and ¾ at 0.
//!
//! The exact mode follows Kakade and Lee ("Provably correct automatic subdifferentiation for
//! qualified programs", NeurIPS 2018): it fixes a direction `v`, carries the directional
//! derivative along `v` beside every value (forward mode), and at every nonsmooth point takes
//! the smooth piece that the program enters when its input moves from `x` along `v` — decided by
//! the sign of the tangent of the kink's argument. Reverse mode then runs through the chosen
//! pieces. The gradient `g` it returns satisfies `⟨g, v⟩ = f′(x; v)`, the one-sided directional
//! derivative, and is an element of the Clarke subdifferential for the programs the paper
//! qualifies (compositions of analytic pieces selected by such branches).
//!
//! This module holds what the generated code calls:
//!
//! - [`direction`]: the fixed direction of `_grad` and `_vjp`, one seeded pseudo-random
//!   component per scalar of each differentiated parameter;
//! - the decisions at the kinks of scalars ([`gt`], [`max_takes_second`], [`abs_nonneg`], …):
//!   the plain comparison, and where its operands tie, the comparison of their tangents;
//! - [`unit`] and [`norm`]: the gradient and directional derivative of the Euclidean norm at the
//!   origin (`hypot`, `sqrt` of a sum of squares), along the tangents.
//!
//! The rules of the `nn` and `conv` functions in exact mode are their `*_vjp_along` functions
//! ([`crate::nn::relu_vjp_along`], [`crate::conv::max_pool2d_vjp_along`], …).
//!
//! # Where the tangent ties too
//!
//! When the tangents of a kink's arguments are equal as well, the direction does not decide.
//! Every choice then gives the same directional derivative along `v`, and for a generic `v` (as
//! the seeded one is) such a tie means that the kink's argument does not change to first order
//! along `v`, which for piecewise-linear programs means it is locally constant on the piece `v`
//! enters, so every choice gives the same gradient too. The choice is deterministic and fixed:
//! a comparison keeps its plain result (`x > 0.0` stays false at `x = 0`), `nn::relu` takes its
//! zero piece (its rule is `x > 0`), `max`/`min` take their first argument, `abs` and `copysign`
//! the piece `x ≥ 0`, and `clamp` keeps `x`. Further directions, tried in turn where the first
//! ties (the lexicographic rule), would settle such ties for programs built against the seeded
//! direction, at the cost of one more tangent per direction everywhere; a single generic
//! direction is what the guarantee above needs.

use crate::differentiable::{Differentiable, Primal, Real};

/// The seed of [`direction`]: the SplitMix64 stream of component `k` of parameter `p` starts
/// from `SEED ^ (p·2³² + k)`.
pub const SEED: u64 = 0x4b61_6b61_6465_4c65;

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): a bijective mix of 64 bits.
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Component `index` of the direction of the differentiated parameter number `param` (counted
/// among the differentiated parameters, from 0): `±(1 + u)` with `u ∈ [0, 1)` and the sign from
/// SplitMix64 of [`SEED`]` ^ (param·2³² + index)`. Never zero and never small, so that a
/// function of one scalar always sees a nonzero tangent.
///
/// ```
/// use autodiff_runtime::kinks::component;
///
/// let v = component(0, 0);
/// assert!((1.0..2.0).contains(&v.abs()));
/// assert_eq!(v, component(0, 0)); // reproducible
/// assert_ne!(v, component(0, 1));
/// ```
#[inline]
pub fn component(param: usize, index: usize) -> f64 {
    let h = splitmix64(SEED ^ (((param as u64) << 32) ^ index as u64));
    // 53 bits, converted as a signed integer (one instruction; the value is the same).
    let u = ((h >> 11) as i64) as f64 / (1u64 << 53) as f64;
    // `1 + u`, negated where the low bit is set: the sign bit set without a branch, which the
    // pseudo-random bits would mispredict half the time.
    f64::from_bits((1.0 + u).to_bits() | ((h & 1) << 63))
}

/// The direction that `_grad` and `_vjp` of an exact-mode function take for its differentiated
/// parameter number `param` (counted from 0 among the differentiated parameters): a tangent
/// shaped like `x` whose `k`-th scalar (in the order of [`Differentiable::visit_leaves`]) is
/// [`component`]`(param, k)`.
///
/// A test or a caller can rebuild the direction `_grad` used and check `⟨g, v⟩ = f′(x; v)`:
///
/// ```
/// use autodiff_runtime::kinks::{component, direction};
///
/// let v = direction(&[0.0, 1.0, 2.0][..], 1);
/// assert_eq!(v, vec![component(1, 0), component(1, 1), component(1, 2)]);
/// assert_eq!(direction(&0.5_f64, 0), component(0, 0));
/// ```
pub fn direction<P: Primal + ?Sized>(x: &P, param: usize) -> P::Tangent {
    let mut d = x.zero_tangent();
    let shape = d.clone();
    let mut k = 0;
    d.zip_leaves_mut(&shape, &mut |leaf, _| {
        for e in leaf {
            *e = <<P::Tangent as Differentiable>::Scalar as Real>::of_f64(component(param, k));
            k += 1;
        }
    });
    d
}

/// The scalars whose kinks the exact mode decides: `f32` and `f64`.
#[diagnostic::on_unimplemented(
    message = "`kinks = exact` decides the kinks of scalars; `{Self}` is not `f32` or `f64`",
    label = "a kink of this value",
    note = "for arrays, `nn::relu` and `conv::max_pool2d` are exact at their kinks; apply \
            `max`, `abs`, comparisons … to scalars (elements)"
)]
pub trait Scalar: Real {
    /// Whether the value is NaN.
    fn nan(self) -> bool;
    /// `−1`, `1` or NaN, as the inherent `signum`.
    fn sign(self) -> Self;
    /// The inherent `floor`, `ceil`, `trunc` and `round`.
    fn rounded(self, how: Rounding) -> Self;
}

/// Which of the float roundings: the integer below, above, toward zero, nearest.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rounding {
    Floor,
    Ceil,
    Trunc,
    Round,
}

macro_rules! impl_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            #[inline(always)]
            fn nan(self) -> bool {
                self.is_nan()
            }
            #[inline(always)]
            fn sign(self) -> Self {
                self.signum()
            }
            #[inline(always)]
            fn rounded(self, how: Rounding) -> Self {
                match how {
                    Rounding::Floor => self.floor(),
                    Rounding::Ceil => self.ceil(),
                    Rounding::Trunc => self.trunc(),
                    Rounding::Round => self.round(),
                }
            }
        }
    )*};
}
impl_scalar!(f32, f64);

std::thread_local! {
    /// Whether a comparison's operands tied and the direction took the other branch than the
    /// plain comparison does, since the outermost generated item on this thread started.
    static DEPARTED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// A tie decided against the plain comparison (or `signum` of a zero moved off its sign): the
/// program went on along the piece the direction enters, whose value at the tie is the plain
/// function's only where the function is continuous there. Recorded, so that the generated
/// item returns the plain function's value ([`leave`]).
#[cold]
#[inline(never)]
fn depart() {
    DEPARTED.with(|d| d.set(true));
}

/// Called by a generated item of exact mode as it starts: clears the record of departures and
/// gives back the caller's, for [`leave`].
#[doc(hidden)]
#[inline]
pub fn enter() -> bool {
    DEPARTED.with(|d| d.replace(false))
}

/// Called by a generated item of exact mode as it ends, with what [`enter`] gave: whether a tie
/// was decided against the plain comparison since then (the item then returns the value of the
/// function as written, which a discontinuity at the tie makes differ from the piece's). The
/// caller's record keeps the departure too, since the value it computed went through it.
#[doc(hidden)]
#[inline]
pub fn leave(outer: bool) -> bool {
    DEPARTED.with(|d| {
        let inner = d.get();
        d.set(outer || inner);
        inner
    })
}

/// `a > b` along the tangents: `a > b`, or `a == b` and `ȧ > ḃ` (after moving along the
/// direction, `a` is the larger). At equal tangents, `a > b`'s plain result (`false`).
#[inline(always)]
pub fn gt<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    if a == b && da > db {
        depart();
        return true;
    }
    a > b
}

/// `a ≥ b` along the tangents: `a > b`, or `a == b` and `ȧ ≥ ḃ`. At equal tangents, `a ≥ b`'s
/// plain result (`true`).
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub fn ge<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    // Not `da < db`: a NaN tangent does not take the plain `a ≥ b` either.
    if a == b && !(da >= db) {
        depart();
        return false;
    }
    a >= b
}

/// `a < b` along the tangents: [`gt`]`(b, a, ḃ, ȧ)`.
#[inline(always)]
pub fn lt<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    gt(b, a, db, da)
}

/// `a ≤ b` along the tangents: [`ge`]`(b, a, ḃ, ȧ)`.
#[inline(always)]
pub fn le<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    ge(b, a, db, da)
}

/// Whether `a.max(b)` takes the piece `b`: `b > a`, or `b == a` and `ḃ > ȧ`, or `a` is NaN (as
/// `max` returns the other argument). At a tie of the tangents too, the first argument `a`.
#[inline(always)]
pub fn max_takes_second<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    above(b, a, db, da) || a.nan()
}

/// `a > b` along the tangents, as [`gt`], for the kinks where the function is continuous
/// (`max`, `min`): either piece gives the function's value at the tie, so a departure from the
/// plain comparison is not recorded, and the decision stays free of branches.
#[inline(always)]
fn above<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    a > b || (a == b && da > db)
}

/// Whether `a.min(b)` takes the piece `b`: `b < a`, or `b == a` and `ḃ < ȧ`, or `a` is NaN. At
/// a tie of the tangents too, the first argument `a`.
#[inline(always)]
pub fn min_takes_second<T: Scalar>(a: T, b: T, da: T, db: T) -> bool {
    above(a, b, da, db) || a.nan()
}

/// Whether `|x|` takes the piece `x` (rather than `−x`): `x > 0`, or `x == 0` and `ẋ ≥ 0`.
#[inline(always)]
pub fn abs_nonneg<T: Scalar>(x: T, dx: T) -> bool {
    x > T::ZERO || (x == T::ZERO && dx >= T::ZERO)
}

/// `1` or `−1`, the sign bit of `s` (also of a zero or a NaN): the factor of `x.copysign(s)`
/// that does not depend on `x`.
#[inline(always)]
pub fn sign_bit<T: Scalar>(s: T) -> T {
    if s.as_f64().is_sign_negative() {
        -T::ONE
    } else {
        T::ONE
    }
}

/// The factor of `x.copysign(s)` that does not depend on `x`, along the tangent: at `s = ±0`
/// with `ṡ ≠ 0`, the sign `s` takes when it moves, `ṡ.signum()`; elsewhere the sign bit of `s`.
/// Where that differs from the sign bit, the value jumps there (unless `x = 0`): a departure.
#[inline(always)]
pub fn sign_along<T: Scalar>(s: T, ds: T) -> T {
    let bit = sign_bit(s);
    if s == T::ZERO && ds != T::ZERO {
        let moved = ds.sign();
        if moved != bit {
            depart();
        }
        moved
    } else {
        bit
    }
}

/// `x.floor()` (with `how`, `ceil`, `trunc`, `round`, and an `as` cast to an integer, which
/// truncates) along the tangent: the integer of the piece `x + t·ẋ` enters for small `t > 0`.
/// It differs from the plain rounding where `x` sits on a jump of it (an integer for `floor`,
/// `ceil` and `trunc`, a half-integer for `round`) and `ẋ` moves it down past the jump (up for
/// `ceil`, toward zero for `trunc`, …): there the value jumps, a departure. The derivative is 0
/// either way; the choice matters where the integer picks a piece (`ys[x.floor() as usize]`).
#[inline(always)]
pub fn rounded<T: Scalar>(x: T, dx: T, how: Rounding) -> T {
    let r = x.rounded(how);
    if dx == T::ZERO || x.nan() {
        return r;
    }
    let one = T::ONE;
    let half = one / (one + one);
    let (down, up) = (dx < T::ZERO, dx > T::ZERO);
    let moved = match how {
        Rounding::Floor if x == r && down => r - one,
        Rounding::Ceil if x == r && up => r + one,
        Rounding::Trunc if x == r && x > T::ZERO && down => r - one,
        Rounding::Trunc if x == r && x < T::ZERO && up => r + one,
        // `round` takes halves away from zero: just below `k + ½` (k ≥ 0) it is `k`.
        Rounding::Round if (x - x.rounded(Rounding::Trunc)).abs() == half => {
            if x > T::ZERO && down {
                r - one
            } else if x < T::ZERO && up {
                r + one
            } else {
                r
            }
        }
        _ => r,
    };
    if moved != r {
        depart();
    }
    moved
}

/// Whether `x.clamp(lo, hi)` takes the piece `lo`: `x < lo`, or `x == lo` and `ẋ < l̇o`. At a
/// tie of the tangents too, `x` (as `clamp` returns `x` at its bounds).
///
/// # Panics
///
/// As `clamp`, if `lo > hi` or either is NaN.
#[inline(always)]
pub fn clamp_below<T: Scalar>(x: T, lo: T, hi: T, dx: T, dlo: T) -> bool {
    assert!(
        lo <= hi,
        "min > max, or either was NaN. min = {lo:?}, max = {hi:?}"
    );
    above(lo, x, dlo, dx)
}

/// Whether `x.clamp(lo, hi)` takes the piece `hi` (where it does not take `lo`): `x > hi`, or
/// `x == hi` and `ẋ > ḣi`.
#[inline(always)]
pub fn clamp_above<T: Scalar>(x: T, hi: T, dx: T, dhi: T) -> bool {
    above(x, hi, dx, dhi)
}

/// `x.signum()` along the tangent: at `x = ±0` with `ẋ ≠ 0`, the sign the value takes when it
/// moves, `ẋ.signum()`; elsewhere `x.signum()`. signum is piecewise constant (its derivative is
/// `0`); this choice of its value at the jump makes forms such as `x·signum(x) = |x|` take the
/// piece the direction enters.
#[inline(always)]
pub fn signum<T: Scalar>(x: T, dx: T) -> T {
    if x == T::ZERO && dx != T::ZERO {
        let s = dx.sign();
        if s != x.sign() {
            depart();
        }
        s
    } else {
        x.sign()
    }
}

/// Whether every component is zero: the origin, where the Euclidean norm has its kink.
#[inline(always)]
pub fn origin<T: Scalar, const N: usize>(xs: [T; N]) -> bool {
    xs.iter().all(|&x| x == T::ZERO)
}

/// `‖ẋ‖`, the directional derivative of the Euclidean norm `‖x‖` at the origin along `ẋ`,
/// computed without overflow or underflow of the squares.
#[inline]
pub fn norm<T: Scalar, const N: usize>(ds: [T; N]) -> T {
    let m = ds.iter().fold(T::ZERO, |m, &d| {
        let a = d.abs();
        if a > m { a } else { m }
    });
    if m == T::ZERO || !m.is_finite() {
        return m;
    }
    let s = ds.iter().fold(T::ZERO, |s, &d| s + (d / m) * (d / m));
    m * s.sqrt()
}

/// Component `k` of `ẋ/‖ẋ‖`: the gradient of the Euclidean norm at the points `t·ẋ`, `t > 0`,
/// which the program enters from the origin along `ẋ` (its limit there, an element of the
/// Clarke gradient, the unit disc). `0` where `ẋ = 0`.
#[inline]
pub fn unit<T: Scalar, const N: usize>(ds: [T; N], k: usize) -> T {
    let n = norm(ds);
    if n == T::ZERO { T::ZERO } else { ds[k] / n }
}

/// Writes the exact-mode rule `f_vjp_along` of a function `f` that is smooth everywhere: the
/// direction has no kink to decide inside it, so its value and tangent are those of its forward
/// rule `f_jvp` and its pullback that of its reverse rule `f_vjp`.
macro_rules! smooth_along {
    ($(
        $name:ident = $jvp:ident + $vjp:ident of $f:literal;
        <$($gen:ident $(: $bound:path)?),*>
        ($($a:ident: $at:ty),*) ($($d:ident: $dt:ty),*) -> $y:ty,
        |$cot:ty| -> $grad:ty, use<$($cap:ident),*>
        $(where $($wt:ident: $wb:path),*)?;
    )*) => {$(
        #[doc = concat!(
            "[`", $f, "`] in exact mode at kinks (`#[differentiate(kinks = exact)]`, see ",
            "[`crate::kinks`]): the value, its tangent along the tangents given after the ",
            "arguments, and the pullback. `", $f, "` is smooth, so the tangent is [`",
            stringify!($jvp), "`]'s and the pullback [`", stringify!($vjp), "`]'s, whatever the ",
            "direction; the forward work is done twice.\n\n# Panics\n\nAs [`", stringify!($jvp),
            "`]; the pullback as [`", stringify!($vjp), "`]'s."
        )]
        #[allow(clippy::type_complexity, clippy::too_many_arguments)]
        pub fn $name<$($gen $(: $bound)?),*>(
            $($a: $at,)* $($d: $dt),*
        ) -> ($y, $y, impl FnOnce($cot) -> $grad + use<$($cap),*>)
        $(where $($wt: $wb),*)?
        {
            let (y, dy) = $jvp($($a,)* $($d),*);
            let (_, pullback) = $vjp($($a),*);
            (y, dy, pullback)
        }
    )*};
}
pub(crate) use smooth_along;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_covers_every_scalar_reproducibly() {
        let x = [0.0; 5];
        let v = direction(&x[..], 2);
        assert_eq!(v.len(), 5);
        for (k, &c) in v.iter().enumerate() {
            assert_eq!(c, component(2, k));
            assert!((1.0..2.0).contains(&c.abs()));
        }
        // Both signs occur among the first components.
        let signs: Vec<bool> = (0..64).map(|k| component(0, k) > 0.0).collect();
        assert!(signs.iter().any(|&s| s) && signs.iter().any(|&s| !s));
        let a = ndarray::Array2::<f32>::zeros((2, 3));
        let d = direction(&a, 0);
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), {
            (0..6).map(|k| component(0, k) as f32).collect::<Vec<_>>()
        });
    }

    #[test]
    fn comparisons_break_ties_by_the_tangents() {
        assert!(gt(1.0, 0.0, -5.0, 0.0));
        assert!(!gt(0.0, 1.0, 5.0, 0.0));
        assert!(gt(0.0, 0.0, 1.0, 0.0));
        assert!(!gt(0.0, 0.0, 0.0, 0.0));
        assert!(ge(0.0, 0.0, 0.0, 0.0));
        assert!(!ge(0.0, 0.0, -1.0, 0.0));
        assert!(lt(0.0, 0.0, -1.0, 0.0));
        assert!(le(0.0, 0.0, 0.0, 0.0));
        assert!(!gt(f64::NAN, 0.0, 1.0, 0.0));
    }

    #[test]
    fn kinks_of_max_min_abs_clamp() {
        assert!(max_takes_second(0.0, 0.0, 1.0, 2.0));
        assert!(!max_takes_second(0.0, 0.0, 2.0, 2.0));
        assert!(max_takes_second(f64::NAN, 1.0, 0.0, 0.0));
        assert!(!max_takes_second(1.0, f64::NAN, 0.0, 0.0));
        assert!(min_takes_second(0.0, 0.0, 2.0, 1.0));
        assert!(abs_nonneg(0.0, 0.0) && abs_nonneg(-0.0, 1.0) && !abs_nonneg(0.0, -1.0));
        assert!(clamp_below(0.0, 0.0, 1.0, -1.0, 0.0));
        assert!(!clamp_below(0.0, 0.0, 1.0, 1.0, 0.0));
        assert!(clamp_above(1.0, 1.0, 1.0, 0.0));
        assert_eq!(sign_bit(-0.0_f64), -1.0);
        assert_eq!(sign_bit(0.0_f64), 1.0);
        assert_eq!(sign_bit(-3.0_f32), -1.0);
        assert_eq!(signum(0.0, -2.0), -1.0);
        assert_eq!(signum(-0.0, 0.0), -1.0);
        assert_eq!(signum(3.0, -2.0), 1.0);
    }

    #[test]
    #[should_panic(expected = "min > max")]
    fn clamp_with_crossed_bounds_panics_as_clamp_does() {
        clamp_below(0.0, 1.0, 0.0, 0.0, 0.0);
    }

    #[test]
    fn norm_and_unit_vector_of_the_tangents() {
        // ‖(3, 4)‖ = 5, the unit vector (0.6, 0.8).
        assert_eq!(norm([3.0, 4.0]), 5.0);
        assert_eq!(unit([3.0, 4.0], 0), 0.6);
        assert_eq!(unit([3.0, 4.0], 1), 0.8);
        assert_eq!(unit([0.0, 0.0], 1), 0.0);
        // No overflow of the squares.
        assert_eq!(norm([3e300, 4e300]), 5e300);
        assert!(origin([0.0, -0.0]) && !origin([0.0, 1e-300]));
    }
}
