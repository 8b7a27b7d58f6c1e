//! Rules of the scalar arithmetic: the operators `+ - * /` and negation on `f32` and `f64`, the
//! shapes rules save in place of values ([`HasShape`], [`ShapeOf`]), and the derivative helpers
//! [`d`] that the primitive table's forms call.
//!
//! The rules are written from the primitive table of `autodiff-macro`: the trait declarations
//! (documented with each rule's math and the expression it computes) and the `f32`/`f64` impls
//! are expansions of its hidden `__rules!` macro, so a rule is stated once, as its entry's forms.
//! The [module docs](super) give the argument order and the conventions at kinks and domain
//! edges.

/// Rules of the binary operators `a + b`, `a - b`, `a * b`, `a / b`, and the operators
/// themselves (the forward pass evaluates active arithmetic through them, by reference, so
/// tensors are never moved).
///
/// A rule takes exactly what it reads. Where it needs only an operand's *shape* (to reduce a
/// broadcast cotangent back to it) it takes a [`ShapeOf`], which is zero-sized for scalars.
/// `Rhs` and `Output` follow `core::ops`, so tensor–scalar operators implement it too.
#[diagnostic::on_unimplemented(
    message = "`{Self}` and `{Rhs}` cannot be combined by an arithmetic operator in a differentiated function",
    label = "followed as float or array arithmetic: floats of one type (`f64` or `f32`) or arrays of them; a struct of yours on the left must be known to the macro (see the last note)",
    note = "convert one operand with `as f64` (or `as f32`); an integer literal needs a `.0`",
    note = "a float that a pattern binds through a reference is a `&f64` (`Mode::Damp(c) => x * c` of `match m` with `m: &Mode`, or of an item of `.iter()`): match on `*m` so that the pattern binds the value",
    note = "an operator of your own struct is followed where its left operand is known to be the struct (a parameter of its type, an element of a slice of them, a variable first bound to one, a variable declared with its type where a function returns it: `let k: V2 = rate(s);`, `let p: C2 = C2::from_polar(r, a);`, and the elements of a `Vec` so declared, `let f: Vec<V2> = forces(&ps);` for `f[i] * dt`) and its impl has `#[differentiate]` (`#[differentiate] impl Add for V2`); elsewhere (a field, `self.p - q.p`) call it through its type, `V2::sub(self.p, q.p)`, or a `#[differentiate]` method, or, for fields of a struct type (`b.pos + b.vel * dt`), put the structs and the function in a module marked `#[differentiate]` (`#[differentiate] mod sim {{ .. }}`), where the macro sees the fields' types"
)]
pub trait ArithRules<Rhs: HasShape = Self>: Sized + HasShape {
    /// The type of `a op b`.
    type Output;

    autodiff_macro::__rules!(declare ArithRules);
}

/// Rule of unary minus `-x`.
#[diagnostic::on_unimplemented(
    message = "`-` of `{Self}` cannot be differentiated",
    label = "the operand must be a float (`f64` or `f32`) or an array of floats",
    note = "unary `-` of your own struct is followed where its operand is known to be the struct (a parameter of its type, a variable first bound to one or declared with its type, what its `+` or `-` returned) and its impl has `#[differentiate]` (`#[differentiate] impl Neg for V2`); elsewhere (what a method returned, `-d.scale(t)`, a field, `-self.v`) bind the operand to a local declared with its type, `let e: V2 = d.scale(t);`, and negate that, or call it through its type, `V2::neg(d.scale(t))`; on a field of a struct type, a module marked `#[differentiate]` around the structs and the function lets the macro see the field's type"
)]
pub trait NegRule: Sized {
    autodiff_macro::__rules!(declare NegRule);
}

/// What a rule needs to know of an operand it does not read: its shape.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value a differentiated function can compute with",
    label = "expected a float (`f64` or `f32`), an array of floats or a parameter struct",
    note = "integers and `bool`s are used for control flow and indexing, not in arithmetic with floats; convert with `as f64`"
)]
pub trait HasShape {
    /// The shape: `()` for scalars, the dimension for arrays.
    type Dims: Clone + core::fmt::Debug;
    /// The shape of `self`.
    fn dims(&self) -> Self::Dims;
}

/// The shape of a value of type `T`, typed by `T` so that rules can dispatch on it. Zero-sized
/// for scalars, so saving it costs nothing.
pub struct ShapeOf<T: HasShape + ?Sized> {
    /// The shape.
    pub dims: T::Dims,
    _of: core::marker::PhantomData<fn(&T)>,
}

impl<T: HasShape + ?Sized> ShapeOf<T> {
    /// The shape of `x`.
    #[inline(always)]
    pub fn of(x: &T) -> Self {
        ShapeOf {
            dims: x.dims(),
            _of: core::marker::PhantomData,
        }
    }

    /// The same shape, typed by `U`, which has `T`'s shapes (`T` is a reference to `U`).
    #[inline(always)]
    pub(crate) fn of_referent<U: HasShape<Dims = T::Dims> + ?Sized>(&self) -> ShapeOf<U> {
        ShapeOf {
            dims: self.dims.clone(),
            _of: core::marker::PhantomData,
        }
    }
}

impl<T: HasShape + ?Sized> Clone for ShapeOf<T> {
    fn clone(&self) -> Self {
        ShapeOf {
            dims: self.dims.clone(),
            _of: core::marker::PhantomData,
        }
    }
}

impl<T: HasShape + ?Sized> core::fmt::Debug for ShapeOf<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ShapeOf({:?})", self.dims)
    }
}

impl HasShape for f32 {
    type Dims = ();
    #[inline(always)]
    fn dims(&self) {}
}

impl HasShape for f64 {
    type Dims = ();
    #[inline(always)]
    fn dims(&self) {}
}

/// A scalar carried through a loop beside a container the loop changes: its zero is `0`.
impl crate::differentiable::ZerosOfShape for f32 {
    type Tangent = f32;
    #[inline(always)]
    fn zeros(_: &()) -> f32 {
        0.0
    }
}

/// A scalar carried through a loop beside a container the loop changes: its zero is `0`.
impl crate::differentiable::ZerosOfShape for f64 {
    type Tangent = f64;
    #[inline(always)]
    fn zeros(_: &()) -> f64 {
        0.0
    }
}

impl<T: HasShape + ?Sized> HasShape for &T {
    type Dims = T::Dims;
    #[inline(always)]
    fn dims(&self) -> T::Dims {
        (**self).dims()
    }
}

impl<T: HasShape + ?Sized> HasShape for &mut T {
    type Dims = T::Dims;
    #[inline(always)]
    fn dims(&self) -> T::Dims {
        (**self).dims()
    }
}

impl ArithRules for f32 {
    type Output = f32;
    autodiff_macro::__rules!(forms ArithRules);
}

impl ArithRules for f64 {
    type Output = f64;
    autodiff_macro::__rules!(forms ArithRules);
}

impl NegRule for f32 {
    autodiff_macro::__rules!(forms NegRule);
}

impl NegRule for f64 {
    autodiff_macro::__rules!(forms NegRule);
}

/// The float operations the derivative helpers need, for `f32` and `f64`.
pub trait Float: crate::Real {
    /// `xⁿ`.
    fn powi(self, n: i32) -> Self;
    /// `xᵖ`.
    fn powf(self, p: Self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `√(x² + a²)`.
    fn hypot(self, a: Self) -> Self;
    /// `1` with the sign bit of `x` (`−1` for `−0.0`), NaN for NaN.
    fn signum(self) -> Self;
    /// `|x|` with the sign bit of `s`.
    fn copysign(self, s: Self) -> Self;
    /// The quotient `q` of `x = m·q + x.rem_euclid(m)`.
    fn div_euclid(self, m: Self) -> Self;
    /// `x % m`, the remainder with the sign of `x`.
    fn remainder(self, m: Self) -> Self;
    /// The nearest integer, half away from zero.
    fn round(self) -> Self;
}

macro_rules! impl_float {
    ($($t:ident)*) => {$(
        impl Float for $t {
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                <$t>::powf(self, p)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn hypot(self, a: Self) -> Self {
                <$t>::hypot(self, a)
            }
            #[inline(always)]
            fn signum(self) -> Self {
                <$t>::signum(self)
            }
            #[inline(always)]
            fn copysign(self, s: Self) -> Self {
                <$t>::copysign(self, s)
            }
            #[inline(always)]
            fn div_euclid(self, m: Self) -> Self {
                <$t>::div_euclid(self, m)
            }
            #[inline(always)]
            fn remainder(self, m: Self) -> Self {
                self % m
            }
            #[inline(always)]
            fn round(self) -> Self {
                <$t>::round(self)
            }
        }
    )*};
}
impl_float!(f32 f64);

/// Derivative helpers that the primitive table's forms call as `d::name(..)`: in the rules
/// written here and in the code `#[differentiate]` writes inline on plain floats. Each is the
/// partial derivative a form multiplies the cotangent by, with the conventions of the
/// [rules module](super) at kinks, jumps and removable singularities.
pub mod d {
    use super::Float;
    use crate::differentiable::{Differentiable, Real};

    /// Element `index` of a container's adjoint, to be taken leaving a zero of `shape`: the
    /// shape the element had before a write replaced it (a row of a grid replaced by one of
    /// another length, `rows[i] = vec![x; n]`). See `AtShape`.
    #[inline(always)]
    pub fn at_shape<I, S: super::HasShape + ?Sized>(
        index: I,
        shape: super::ShapeOf<S>,
    ) -> crate::differentiable::AtShape<I, S> {
        crate::differentiable::AtShape {
            index,
            dims: shape.dims,
            of: core::marker::PhantomData,
        }
    }

    /// The value in iteration `index` of a loop over `start..` of an integer counter that
    /// starts at `init` and changes by `step` (`up`: added, else subtracted) in every
    /// iteration: `init ± step·(index − start)`. The pullback computes a counter again from
    /// this instead of keeping its value from every iteration. The counter took that value in
    /// the forward pass, so the conversion of the iteration count to its type succeeds.
    #[inline(always)]
    pub fn counter_at<C, I>(init: C, step: C, up: bool, index: I, start: I) -> C
    where
        C: Copy
            + TryFrom<I>
            + core::ops::Add<Output = C>
            + core::ops::Sub<Output = C>
            + core::ops::Mul<Output = C>,
        I: core::ops::Sub<Output = I>,
    {
        let n = C::try_from(index - start)
            .unwrap_or_else(|_| unreachable!("a counter's iteration count fits its type"));
        if up { init + step * n } else { init - step * n }
    }

    /// `1` of `x`'s type: the adjoint a reduction loop's accumulator starts its iterations'
    /// in-place pullbacks at, where only rustc knows the accumulator's float type.
    #[inline(always)]
    pub fn one_like<T: Real>(_x: T) -> T {
        T::ONE
    }

    /// `x·s`: what the in-place pullbacks of a reduction loop's iterations summed with the
    /// accumulator's adjoint at one (`x = Σᵢ ∂eᵢ/∂w` for `s += eᵢ(w)`), scaled by the
    /// accumulator's real adjoint `s`. The scale goes through `f64`, exact between `f32` and
    /// `f64`; a scale of one leaves `x` as it is.
    #[inline(always)]
    pub fn scaled<T: Differentiable, S: Real>(mut x: T, s: S) -> T {
        let s = s.as_f64();
        if s != 1.0 {
            x.scale(T::Scalar::of_f64(s));
        }
        x
    }

    /// `d/dx |x|`: the sign of `x`, `0` at `±0` (the minimum-norm element of the Clarke gradient
    /// `[−1, 1]`), NaN for NaN.
    #[inline(always)]
    pub fn abs_d<T: Float>(x: T) -> T {
        // Selects, not branches: the sign of the data is as good as random to a predictor.
        let s = select(x > T::ZERO, T::ONE, T::ZERO);
        let s = select(x < T::ZERO, -T::ONE, s);
        #[allow(clippy::eq_op)] // false for NaN alone
        let not_nan = x == x;
        select(not_nan, s, x)
    }

    /// `d/dx xⁿ = n·xⁿ⁻¹`, exactly `0` for `n = 0` (also at `x = 0`). For `n = i32::MIN`, where
    /// `n − 1` overflows, `xⁿ⁻¹ = y/x`.
    #[inline(always)]
    pub fn powi_d<T: Float>(x: T, n: i32, y: T) -> T {
        if n == 0 {
            return T::ZERO;
        }
        let x_n_minus_1 = match n.checked_sub(1) {
            Some(m) => x.powi(m),
            None => y / x,
        };
        T::of_f64(f64::from(n)) * x_n_minus_1
    }

    /// `d²/dx² xⁿ = n·(n − 1)·xⁿ⁻²`, `0` for `n = 0` and `n = 1` (the second derivative, for
    /// Hessian-vector products).
    #[inline(always)]
    pub fn powi_d2<T: Float>(x: T, n: i32) -> T {
        if n == 0 || n == 1 {
            return T::ZERO;
        }
        T::of_f64(f64::from(n) * (f64::from(n) - 1.0)) * x.powi(n.saturating_sub(2))
    }

    /// `∂/∂x xᵖ = p·xᵖ⁻¹`, exactly `0` for `p = 0`.
    #[inline(always)]
    pub fn powf_dx<T: Float>(x: T, p: T) -> T {
        if p == T::ZERO {
            T::ZERO
        } else {
            p * x.powf(p - T::ONE)
        }
    }

    /// `∂/∂p xᵖ = y·ln x` (`y = xᵖ`), exactly `0` where `y = 0`.
    #[inline(always)]
    pub fn powf_dp<T: Float>(x: T, y: T) -> T {
        if y == T::ZERO { T::ZERO } else { y * x.ln() }
    }

    /// `∂²/∂x∂p xᵖ = xᵖ⁻¹·(1 + p·ln x)` (the second derivative, for Hessian-vector products),
    /// exactly `0` where `xᵖ⁻¹ = 0`: at `x = 0` with `p > 1`, where `p ↦ p·0ᵖ⁻¹ = 0` is constant
    /// and the formula would be `0·(−∞)`, NaN.
    #[inline(always)]
    pub fn powf_dxdp<T: Float>(x: T, p: T) -> T {
        let z = x.powf(p - T::ONE);
        if z == T::ZERO {
            T::ZERO
        } else {
            z * (T::ONE + p * x.ln())
        }
    }

    /// `t·ln x`, exactly `0` where `t = 0`: the tangent of [`powf_dp`]`(x, y) = y·ln x` through
    /// its `y` (for Hessian-vector products). At `x = 0` with `p > 1` the tangent of `y = xᵖ`
    /// is `0` and `0·ln 0` would make the whole product NaN, where the limit is `0`; a non-zero
    /// tangent keeps the infinite factor (`−∞·t` at `x = 0`, `p ≤ 1`, as the true derivative).
    #[inline(always)]
    pub fn ln_along<T: Float>(t: T, x: T) -> T {
        if t == T::ZERO { T::ZERO } else { t * x.ln() }
    }

    /// `∂/∂x atan2(x, a) = a/(x² + a²)`, computed as `(a/h)/h` with `h = hypot(x, a)`; `0` at
    /// the origin.
    #[inline(always)]
    pub fn atan2_d0<T: Float>(x: T, a: T) -> T {
        let h = x.hypot(a);
        if h == T::ZERO { T::ZERO } else { a / h / h }
    }

    /// `∂/∂a atan2(x, a) = −x/(x² + a²)`, computed as `−(x/h)/h`; `0` at the origin.
    #[inline(always)]
    pub fn atan2_d1<T: Float>(x: T, a: T) -> T {
        let h = x.hypot(a);
        if h == T::ZERO { T::ZERO } else { -(x / h / h) }
    }

    /// `t / d`, exactly `0` where `t = 0`: a tangent (or cotangent) through a rule that is
    /// infinite at a point, `√x` at `x = 0`. A zero tangent there is that of a constant (`√0`
    /// of a `0.0` beside differentiated values in a `Vec`), whose derivative along any
    /// direction is `0`, where `0/0` would make it NaN; a non-zero one keeps the infinite
    /// factor (`t/0 = ±∞`, the true derivative).
    #[inline(always)]
    pub fn over_along<T: Float>(t: T, d: T) -> T {
        // The quotient first, then a select: without a branch around the division, which
        // the compiler would keep (it does not speculate a division), on the hot path of `ln`.
        let q = t / d;
        select(t == T::ZERO, T::ZERO, q)
    }

    /// `t·d`, exactly `0` where `t = 0`: as [`over_along`], for a factor `d` that is infinite
    /// at a point (`p·xᵖ⁻¹` of `powf` at `x = 0` for `p < 1`, the quotient `y` in the
    /// divisor's rule of `a / b`). Bounded by `Real` only, as the array operators' rules, which
    /// are generic over it, call it too.
    #[inline(always)]
    pub fn times_along<T: Real>(t: T, d: T) -> T {
        let p = t * d;
        // Only an infinite factor makes `0·d` NaN: the test is on the rare NaN product, which
        // is cheaper on a hot path than a branch or a select on `t` (`powf`, `recip`, `cosh`).
        #[allow(clippy::eq_op)]
        let nan = p != p;
        if nan && t == T::ZERO { T::ZERO } else { p }
    }

    /// `p`, a rule's contribution `t·∂`, exactly `0` where the cotangent `t` is 0 and the
    /// contribution is NaN (an infinite partial `∂`): as [`times_along`], for a rule whose
    /// form multiplies the cotangent in itself (`mul_add`, `hypot`, `exp`).
    #[inline(always)]
    pub fn zero_along<T: Float>(t: T, p: T) -> T {
        #[allow(clippy::eq_op)]
        let nan = p != p;
        if nan && t == T::ZERO { T::ZERO } else { p }
    }

    /// The cotangent `g` that argument `v` of `max`/`min` gets (`other` is the other argument,
    /// `y` the result): all of it if `v` is the result, half at a tie, none otherwise (the
    /// minimum-norm Clarke gradient). None is exactly `0`, also where `g` is infinite (the
    /// losing argument of `x.max(0.0).sqrt()` for `x < 0`). Selects, not branches or a product:
    /// which argument wins is as good as random to a predictor.
    #[inline(always)]
    pub fn pick2<T: Float>(v: T, other: T, y: T, g: T) -> T {
        let s = select(other == y, g * T::of_f64(0.5), g);
        select(v == y, s, T::ZERO)
    }

    /// The cotangent `g` that argument `v` of `clamp` gets, the other two arguments being `o1`
    /// and `o2`: the arguments equal to the result `y` share it equally, the others get `0`.
    #[inline(always)]
    pub fn pick3<T: Float>(v: T, o1: T, o2: T, y: T, g: T) -> T {
        let one_tie = select(o1 == y, g * T::of_f64(0.5), g);
        let two_ties = select(o1 == y, g / T::of_f64(3.0), g * T::of_f64(0.5));
        let s = select(o2 == y, two_ties, one_tie);
        select(v == y, s, T::ZERO)
    }

    /// `∂/∂x √(x² + a²) = x/y`, `0` at the origin (`y = 0`).
    #[inline(always)]
    pub fn hypot_d<T: Float>(x: T, y: T) -> T {
        if y == T::ZERO { T::ZERO } else { x / y }
    }

    /// `if c { a } else { b }` without a branch where the target has a select: for the choices
    /// of kinks, which follow the data and which a branch predictor cannot learn.
    #[inline(always)]
    fn select<T: Float>(c: bool, a: T, b: T) -> T {
        if c { a } else { b }
    }

    /// `∂/∂x x.copysign(s)`: `1` where `x` and `s` have the same sign bit, `−1` where they
    /// differ, `0` at `x = ±0` (the kink of `|x|`, as for [`abs_d`]), NaN for NaN.
    #[inline(always)]
    pub fn copysign_d<T: Float>(x: T, s: T) -> T {
        if x == T::ZERO {
            T::ZERO
        } else {
            x.signum() * T::ONE.copysign(s)
        }
    }

    /// The tangent of an `as` cast's source of a type the macro does not see, as an `f64`,
    /// which the forward pass casts on to the result's type: the tangent of a float source, zero
    /// for an integer one (see `CastSource`).
    #[inline(always)]
    pub fn cast_tangent<S: crate::private::CastSource>(dx: S) -> f64 {
        S::tangent_f64(&dx)
    }

    /// `∂/∂m x.rem_euclid(m) = −q`, with `q = x.div_euclid(m)` the quotient (`⌊x/m⌋` for
    /// `m > 0`): constant between the jumps, which are ignored.
    #[inline(always)]
    pub fn rem_euclid_dm<T: Float>(x: T, m: T) -> T {
        -x.div_euclid(m)
    }

    /// `∂/∂m (x % m) = −q`, with `q` the integer `(x − x % m) / m` (`(x/m).trunc()`, read from
    /// the remainder, which is exact, rather than rounded again): constant between the jumps,
    /// which are ignored.
    #[inline(always)]
    pub fn rem_dm<T: Float>(x: T, m: T) -> T {
        -((x - x.remainder(m)) / m).round()
    }
}

#[cfg(test)]
mod tests;
