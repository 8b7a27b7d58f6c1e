//! Rules of the scalar primitives: the arithmetic operators, negation and the float methods of
//! `f32` and `f64`.
//!
//! The traits are what generated code names; `f32` and `f64` share one `macro_rules!`
//! implementation, so the two types cannot drift apart. The math of every rule is in the doc
//! comment of its trait method; the [module docs](super) give the argument order and the
//! conventions at kinks and domain edges.

/// Rules of the binary operators `a + b`, `a - b`, `a * b`, `a / b`, and the operators
/// themselves (the forward pass evaluates active arithmetic through them, by reference, so
/// tensors are never moved).
///
/// A rule takes exactly what it reads. Where it needs only an operand's *shape* (to reduce a
/// broadcast cotangent back to it) it takes a [`ShapeOf`], which is zero-sized for scalars.
/// `Rhs` and `Output` follow `core::ops`, so tensor–scalar operators implement it too.
pub trait ArithRules<Rhs: HasShape = Self>: Sized + HasShape {
    /// The type of `a op b`.
    type Output;

    /// `a + b`.
    fn add(a: &Self, b: &Rhs) -> Self::Output;
    /// `a − b`.
    fn sub(a: &Self, b: &Rhs) -> Self::Output;
    /// `a · b`.
    fn mul(a: &Self, b: &Rhs) -> Self::Output;
    /// `a / b`.
    fn div(a: &Self, b: &Rhs) -> Self::Output;

    /// `∂(a + b)/∂a = 1`: returns `g` (reduced to `a`'s shape).
    fn add_vjp_0(a: &ShapeOf<Self>, b: &ShapeOf<Rhs>, g: &Self::Output) -> Self;
    /// `∂(a + b)/∂b = 1`: returns `g` (reduced to `b`'s shape).
    fn add_vjp_1(a: &ShapeOf<Self>, b: &ShapeOf<Rhs>, g: &Self::Output) -> Rhs;
    /// Tangent of `a + b`: `da + db`.
    fn add_jvp(a: &Self, b: &Rhs, y: &Self::Output, da: &Self, db: &Rhs) -> Self::Output;

    /// `∂(a − b)/∂a = 1`: returns `g`.
    fn sub_vjp_0(a: &ShapeOf<Self>, b: &ShapeOf<Rhs>, g: &Self::Output) -> Self;
    /// `∂(a − b)/∂b = −1`: returns `−g`.
    fn sub_vjp_1(a: &ShapeOf<Self>, b: &ShapeOf<Rhs>, g: &Self::Output) -> Rhs;
    /// Tangent of `a − b`: `da − db`.
    fn sub_jvp(a: &Self, b: &Rhs, y: &Self::Output, da: &Self, db: &Rhs) -> Self::Output;

    /// `∂(a·b)/∂a = b`: returns `g·b`.
    fn mul_vjp_0(a: &ShapeOf<Self>, b: &Rhs, g: &Self::Output) -> Self;
    /// `∂(a·b)/∂b = a`: returns `g·a`.
    fn mul_vjp_1(a: &Self, b: &ShapeOf<Rhs>, g: &Self::Output) -> Rhs;
    /// Tangent of `a·b`: `da·b + a·db`.
    fn mul_jvp(a: &Self, b: &Rhs, y: &Self::Output, da: &Self, db: &Rhs) -> Self::Output;

    /// `∂(a/b)/∂a = 1/b`: returns `g/b`.
    fn div_vjp_0(a: &ShapeOf<Self>, b: &Rhs, g: &Self::Output) -> Self;
    /// `∂(a/b)/∂b = −a/b² = −y/b`: returns `−g·y/b`.
    fn div_vjp_1(a: &ShapeOf<Self>, b: &Rhs, y: &Self::Output, g: &Self::Output) -> Rhs;
    /// Tangent of `a/b`: `(da − y·db)/b`.
    fn div_jvp(a: &Self, b: &Rhs, y: &Self::Output, da: &Self, db: &Rhs) -> Self::Output;
}

/// Rule of unary minus `-x`.
pub trait NegRule: Sized {
    /// `−x`.
    fn neg(x: &Self) -> Self;
    /// `d(−x)/dx = −1`: returns `−g`.
    fn neg_vjp(g: &Self) -> Self;
    /// Tangent of `−x`: `−dx`.
    fn neg_jvp(x: &Self, y: &Self, dx: &Self) -> Self;
}

/// What a rule needs to know of an operand it does not read: its shape.
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

/// Declares a unary rule pair: `$vjp(x, y, g)` with the given docs, and `$jvp(x, y, dx)`.
macro_rules! unary_decls {
    ($($(#[doc = $doc:literal])* $vjp:ident, $jvp:ident;)*) => {$(
        $(#[doc = $doc])*
        fn $vjp(x: &Self, y: &Self, g: &Self) -> Self;
        #[doc = concat!(
            "Forward rule with the derivative of [`Self::", stringify!($vjp), "`]: returns `f′(x)·dx`."
        )]
        fn $jvp(x: &Self, y: &Self, dx: &Self) -> Self;
    )*};
}

/// Rules of the float methods: `x.exp()`, `x.powf(p)`, `x.mul_add(a, b)`, …
///
/// A method `m` with one float input has `m_vjp(x, y, g)` and `m_jvp(x, y, dx)`; with more float
/// inputs (`x.m(a)`, `x.m(a, b)`), `m_vjp_0`, `m_vjp_1`, … return the cotangent of the receiver,
/// then of each argument, and `m_jvp(x, a, .., y, dx, da, ..)` takes one tangent per input. Each
/// reverse rule documents `f′` and returns `g·f′`.
pub trait FloatRules: Sized {
    unary_decls! {
        /// `d/dx eˣ = eˣ = y`: returns `g·y`.
        exp_vjp, exp_jvp;
        /// `d/dx 2ˣ = 2ˣ·ln 2 = y·ln 2`.
        exp2_vjp, exp2_jvp;
        /// `d/dx (eˣ − 1) = eˣ = y + 1`.
        exp_m1_vjp, exp_m1_jvp;
        /// `d/dx ln x = 1/x`: returns `g/x`.
        ln_vjp, ln_jvp;
        /// `d/dx log₂ x = 1/(x·ln 2)`.
        log2_vjp, log2_jvp;
        /// `d/dx log₁₀ x = 1/(x·ln 10)`.
        log10_vjp, log10_jvp;
        /// `d/dx ln(1 + x) = 1/(1 + x)`.
        ln_1p_vjp, ln_1p_jvp;
        /// `d/dx √x = 1/(2√x) = 1/(2y)`: returns `g/(2y)`; `+∞` at `x = 0`.
        sqrt_vjp, sqrt_jvp;
        /// `d/dx ∛x = 1/(3·x^(2/3)) = 1/(3y²)`; `+∞` at `x = 0`.
        cbrt_vjp, cbrt_jvp;
        /// `d/dx 1/x = −1/x² = −y²`.
        recip_vjp, recip_jvp;
        /// `d/dx sin x = cos x`.
        sin_vjp, sin_jvp;
        /// `d/dx cos x = −sin x`.
        cos_vjp, cos_jvp;
        /// `d/dx tan x = 1 + tan² x = 1 + y²`.
        tan_vjp, tan_jvp;
        /// `d/dx asin x = 1/√(1 − x²)`, computed as `1/√((1 − x)(1 + x))` for accuracy near `±1`.
        asin_vjp, asin_jvp;
        /// `d/dx acos x = −1/√(1 − x²)`, computed as `−1/√((1 − x)(1 + x))`.
        acos_vjp, acos_jvp;
        /// `d/dx atan x = 1/(1 + x²)`.
        atan_vjp, atan_jvp;
        /// `d/dx sinh x = cosh x`.
        sinh_vjp, sinh_jvp;
        /// `d/dx cosh x = sinh x`.
        cosh_vjp, cosh_jvp;
        /// `d/dx tanh x = 1 − tanh² x = 1 − y²`: returns `g·(1 − y²)`.
        tanh_vjp, tanh_jvp;
        /// `d/dx asinh x = 1/√(x² + 1)`, computed as `1/hypot(x, 1)` (no overflow for large `x`).
        asinh_vjp, asinh_jvp;
        /// `d/dx acosh x = 1/√(x² − 1)`, computed as `1/(√(x − 1)·√(x + 1))` (accurate near `1`,
        /// no overflow for large `x`); `+∞` at `x = 1`, NaN below.
        acosh_vjp, acosh_jvp;
        /// `d/dx atanh x = 1/(1 − x²)`, computed as `1/((1 − x)(1 + x))`.
        atanh_vjp, atanh_jvp;
        /// `d/dx |x| = sign x` for `x ≠ 0`, and `0` at the kink `x = 0` (minimum-norm element of
        /// the Clarke gradient `[−1, 1]`).
        abs_vjp, abs_jvp;
        /// `0`: `signum` is piecewise constant; its jump at `0` is not differentiable and is
        /// ignored.
        signum_vjp, signum_jvp;
        /// `0`: `floor` is piecewise constant; its jumps at the integers are not differentiable
        /// and are ignored.
        floor_vjp, floor_jvp;
        /// `0`: `ceil` is piecewise constant; its jumps at the integers are not differentiable
        /// and are ignored.
        ceil_vjp, ceil_jvp;
        /// `0`: `round` is piecewise constant; its jumps at the half-integers are not
        /// differentiable and are ignored.
        round_vjp, round_jvp;
        /// `0`: `trunc` is piecewise constant; its jumps at the non-zero integers are not
        /// differentiable and are ignored.
        trunc_vjp, trunc_jvp;
        /// `d/dx fract x = d/dx (x − trunc x) = 1` (the jumps of `trunc` are ignored).
        fract_vjp, fract_jvp;
        /// `d/dx (180/π)·x = 180/π`: returns `g.to_degrees()`, the same rounding as the primal.
        to_degrees_vjp, to_degrees_jvp;
        /// `d/dx (π/180)·x = π/180`: returns `g.to_radians()`, the same rounding as the primal.
        to_radians_vjp, to_radians_jvp;
    }

    /// `d/dx xⁿ = n·xⁿ⁻¹`, and exactly `0` for `n = 0` (`x⁰ = 1` is constant, also at `x = 0`).
    fn powi_vjp(x: &Self, n: &i32, y: &Self, g: &Self) -> Self;
    /// Forward rule with the derivative of [`Self::powi_vjp`]: returns `n·xⁿ⁻¹·dx`.
    fn powi_jvp(x: &Self, n: &i32, y: &Self, dx: &Self) -> Self;

    /// `x.log(b) = ln x / ln b`; `∂/∂x = 1/(x·ln b)`.
    fn log_vjp_0(x: &Self, b: &Self, y: &Self, g: &Self) -> Self;
    /// `x.log(b) = ln x / ln b`; `∂/∂b = −ln x/(b·ln² b) = −y/(b·ln b)`.
    fn log_vjp_1(x: &Self, b: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.log(b)`: `dx/(x·ln b) − db·y/(b·ln b)`.
    fn log_jvp(x: &Self, b: &Self, y: &Self, dx: &Self, db: &Self) -> Self;

    /// `x.powf(p) = xᵖ`; `∂/∂x = p·xᵖ⁻¹` (as computed: `+∞` at `x = 0` for `p < 1`), and exactly
    /// `0` for `p = 0` (`x⁰ = 1` is constant, also at `x = 0`).
    fn powf_vjp_0(x: &Self, p: &Self, y: &Self, g: &Self) -> Self;
    /// `x.powf(p) = xᵖ`; `∂/∂p = xᵖ·ln x = y·ln x`, and exactly `0` when `y == 0` (at `x = 0`,
    /// where `0·ln 0` would be NaN). NaN for `x < 0`, where `ln x` is.
    fn powf_vjp_1(x: &Self, p: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.powf(p)`: `p·xᵖ⁻¹·dx + y·ln x·dp`, with the conventions of the vjps.
    fn powf_jvp(x: &Self, p: &Self, y: &Self, dx: &Self, dp: &Self) -> Self;

    /// `x.atan2(a)` is the angle of the point `(a, x)` (`x` is the y-coordinate);
    /// `∂/∂x = a/(x² + a²)`, computed as `(a/h)/h` with `h = hypot(x, a)` (no overflow or
    /// underflow of the squares). `0` at the origin, where `atan2` is discontinuous.
    fn atan2_vjp_0(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// `x.atan2(a)`: `∂/∂a = −x/(x² + a²)`, computed as `−(x/h)/h`; `0` at the origin.
    fn atan2_vjp_1(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.atan2(a)`: `(a·dx − x·da)/(x² + a²)`.
    fn atan2_jvp(x: &Self, a: &Self, y: &Self, dx: &Self, da: &Self) -> Self;

    /// `x.hypot(a) = √(x² + a²) = y`; `∂/∂x = x/y`. `0` at the origin (the kink of the Euclidean
    /// norm: minimum-norm element of the unit disc).
    fn hypot_vjp_0(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// `x.hypot(a) = y`; `∂/∂a = a/y`; `0` at the origin.
    fn hypot_vjp_1(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.hypot(a)`: `(x·dx + a·da)/y`; `0` at the origin.
    fn hypot_jvp(x: &Self, a: &Self, y: &Self, dx: &Self, da: &Self) -> Self;

    /// `x.max(a)`: `∂/∂x = 1` if `x` is the maximum, `0` if `a` is, `1/2` at a tie `x == a`.
    /// `x.max(NaN) == x` gets all of `g`.
    fn max_vjp_0(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// `x.max(a)`: `∂/∂a = 1` if `a` is the maximum, `0` if `x` is, `1/2` at a tie.
    fn max_vjp_1(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.max(a)`: `dx`, `da`, or `(dx + da)/2` at a tie.
    fn max_jvp(x: &Self, a: &Self, y: &Self, dx: &Self, da: &Self) -> Self;

    /// `x.min(a)`: `∂/∂x = 1` if `x` is the minimum, `0` if `a` is, `1/2` at a tie `x == a`.
    /// `x.min(NaN) == x` gets all of `g`.
    fn min_vjp_0(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// `x.min(a)`: `∂/∂a = 1` if `a` is the minimum, `0` if `x` is, `1/2` at a tie.
    fn min_vjp_1(x: &Self, a: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.min(a)`: `dx`, `da`, or `(dx + da)/2` at a tie.
    fn min_jvp(x: &Self, a: &Self, y: &Self, dx: &Self, da: &Self) -> Self;

    /// `x.mul_add(a, b) = x·a + b`; `∂/∂x = a`.
    fn mul_add_vjp_0(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self;
    /// `x.mul_add(a, b) = x·a + b`; `∂/∂a = x`.
    fn mul_add_vjp_1(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self;
    /// `x.mul_add(a, b) = x·a + b`; `∂/∂b = 1`.
    fn mul_add_vjp_2(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.mul_add(a, b)`: `dx·a + x·da + db` (unfused: a fused multiply-add is a slow
    /// library call on targets without FMA).
    fn mul_add_jvp(x: &Self, a: &Self, b: &Self, y: &Self, dx: &Self, da: &Self, db: &Self)
    -> Self;

    /// `x.clamp(lo, hi)` is `lo` below `lo`, `hi` above `hi`, `x` between; `∂/∂x = 1` strictly
    /// inside. The arguments equal to the output share `g` equally: exactly at a bound, `x` and
    /// that bound get `g/2` each (`g/3` each when `x == lo == hi`).
    fn clamp_vjp_0(x: &Self, lo: &Self, hi: &Self, y: &Self, g: &Self) -> Self;
    /// `x.clamp(lo, hi)`: `∂/∂lo = 1` when `x < lo`, `0` when `x > lo`, a share of `g` at a tie.
    fn clamp_vjp_1(x: &Self, lo: &Self, hi: &Self, y: &Self, g: &Self) -> Self;
    /// `x.clamp(lo, hi)`: `∂/∂hi = 1` when `x > hi`, `0` when `x < hi`, a share of `g` at a tie.
    fn clamp_vjp_2(x: &Self, lo: &Self, hi: &Self, y: &Self, g: &Self) -> Self;
    /// Tangent of `x.clamp(lo, hi)`: the mean of the tangents of the arguments equal to the
    /// output (`dx` strictly inside).
    fn clamp_jvp(
        x: &Self,
        lo: &Self,
        hi: &Self,
        y: &Self,
        dx: &Self,
        dlo: &Self,
        dhi: &Self,
    ) -> Self;
}

/// Implements a unary rule pair from one body: the derivative times a tangent `t`, which is the
/// cotangent `g` in the vjp and the tangent `dx` in the jvp. One body for both keeps them equal.
macro_rules! unary_impls {
    ($t:ident; $($vjp:ident, $jvp:ident = |$x:ident, $y:ident, $d:ident| $body:expr;)*) => {$(
        #[inline(always)]
        fn $vjp($x: &$t, $y: &$t, $d: &$t) -> $t {
            let ($x, $y, $d) = (*$x, *$y, *$d);
            $body
        }
        #[inline(always)]
        fn $jvp($x: &$t, $y: &$t, $d: &$t) -> $t {
            let ($x, $y, $d) = (*$x, *$y, *$d);
            $body
        }
    )*};
}

macro_rules! scalar_rules {
    ($($t:ident)*) => {$(
        impl ArithRules for $t {
            type Output = $t;

            #[inline(always)]
            fn add(a: &$t, b: &$t) -> $t {
                *a + *b
            }
            #[inline(always)]
            fn sub(a: &$t, b: &$t) -> $t {
                *a - *b
            }
            #[inline(always)]
            fn mul(a: &$t, b: &$t) -> $t {
                *a * *b
            }
            #[inline(always)]
            fn div(a: &$t, b: &$t) -> $t {
                *a / *b
            }

            #[inline(always)]
            fn add_vjp_0(_a: &ShapeOf<$t>, _b: &ShapeOf<$t>, g: &$t) -> $t {
                *g
            }
            #[inline(always)]
            fn add_vjp_1(_a: &ShapeOf<$t>, _b: &ShapeOf<$t>, g: &$t) -> $t {
                *g
            }
            #[inline(always)]
            fn add_jvp(_a: &$t, _b: &$t, _y: &$t, da: &$t, db: &$t) -> $t {
                *da + *db
            }

            #[inline(always)]
            fn sub_vjp_0(_a: &ShapeOf<$t>, _b: &ShapeOf<$t>, g: &$t) -> $t {
                *g
            }
            #[inline(always)]
            fn sub_vjp_1(_a: &ShapeOf<$t>, _b: &ShapeOf<$t>, g: &$t) -> $t {
                -*g
            }
            #[inline(always)]
            fn sub_jvp(_a: &$t, _b: &$t, _y: &$t, da: &$t, db: &$t) -> $t {
                *da - *db
            }

            #[inline(always)]
            fn mul_vjp_0(_a: &ShapeOf<$t>, b: &$t, g: &$t) -> $t {
                *g * *b
            }
            #[inline(always)]
            fn mul_vjp_1(a: &$t, _b: &ShapeOf<$t>, g: &$t) -> $t {
                *g * *a
            }
            #[inline(always)]
            fn mul_jvp(a: &$t, b: &$t, _y: &$t, da: &$t, db: &$t) -> $t {
                *da * *b + *a * *db
            }

            #[inline(always)]
            fn div_vjp_0(_a: &ShapeOf<$t>, b: &$t, g: &$t) -> $t {
                *g / *b
            }
            #[inline(always)]
            fn div_vjp_1(_a: &ShapeOf<$t>, b: &$t, y: &$t, g: &$t) -> $t {
                -*g * *y / *b
            }
            #[inline(always)]
            fn div_jvp(_a: &$t, b: &$t, y: &$t, da: &$t, db: &$t) -> $t {
                (*da - *y * *db) / *b
            }
        }

        impl NegRule for $t {
            #[inline(always)]
            fn neg(x: &$t) -> $t {
                -*x
            }
            #[inline(always)]
            fn neg_vjp(g: &$t) -> $t {
                -*g
            }
            #[inline(always)]
            fn neg_jvp(_x: &$t, _y: &$t, dx: &$t) -> $t {
                -*dx
            }
        }

        impl FloatRules for $t {
            unary_impls! { $t;
                exp_vjp, exp_jvp = |_x, y, t| t * y;
                exp2_vjp, exp2_jvp = |_x, y, t| t * (y * ::core::$t::consts::LN_2);
                exp_m1_vjp, exp_m1_jvp = |_x, y, t| t * (y + 1.0);
                ln_vjp, ln_jvp = |x, _y, t| t / x;
                log2_vjp, log2_jvp = |x, _y, t| t / (x * ::core::$t::consts::LN_2);
                log10_vjp, log10_jvp = |x, _y, t| t / (x * ::core::$t::consts::LN_10);
                ln_1p_vjp, ln_1p_jvp = |x, _y, t| t / (1.0 + x);
                sqrt_vjp, sqrt_jvp = |_x, y, t| t / (2.0 * y);
                cbrt_vjp, cbrt_jvp = |_x, y, t| t / (3.0 * (y * y));
                recip_vjp, recip_jvp = |_x, y, t| t * -(y * y);
                sin_vjp, sin_jvp = |x, _y, t| t * x.cos();
                cos_vjp, cos_jvp = |x, _y, t| t * -x.sin();
                tan_vjp, tan_jvp = |_x, y, t| t * (1.0 + y * y);
                asin_vjp, asin_jvp = |x, _y, t| t / ((1.0 - x) * (1.0 + x)).sqrt();
                acos_vjp, acos_jvp = |x, _y, t| -t / ((1.0 - x) * (1.0 + x)).sqrt();
                atan_vjp, atan_jvp = |x, _y, t| t / (1.0 + x * x);
                sinh_vjp, sinh_jvp = |x, _y, t| t * x.cosh();
                cosh_vjp, cosh_jvp = |x, _y, t| t * x.sinh();
                tanh_vjp, tanh_jvp = |_x, y, t| t * (1.0 - y * y);
                asinh_vjp, asinh_jvp = |x, _y, t| t / x.hypot(1.0);
                acosh_vjp, acosh_jvp = |x, _y, t| t / ((x - 1.0).sqrt() * (x + 1.0).sqrt());
                atanh_vjp, atanh_jvp = |x, _y, t| t / ((1.0 - x) * (1.0 + x));
                abs_vjp, abs_jvp = |x, _y, t| if x == 0.0 { 0.0 } else { t * x.signum() };
                signum_vjp, signum_jvp = |_x, _y, _t| 0.0;
                floor_vjp, floor_jvp = |_x, _y, _t| 0.0;
                ceil_vjp, ceil_jvp = |_x, _y, _t| 0.0;
                round_vjp, round_jvp = |_x, _y, _t| 0.0;
                trunc_vjp, trunc_jvp = |_x, _y, _t| 0.0;
                fract_vjp, fract_jvp = |_x, _y, t| t;
                to_degrees_vjp, to_degrees_jvp = |_x, _y, t| t.to_degrees();
                to_radians_vjp, to_radians_jvp = |_x, _y, t| t.to_radians();
            }

            #[inline(always)]
            fn powi_vjp(x: &$t, n: &i32, y: &$t, g: &$t) -> $t {
                *g * powi_derivative(*x, *n, *y)
            }
            #[inline(always)]
            fn powi_jvp(x: &$t, n: &i32, y: &$t, dx: &$t) -> $t {
                *dx * powi_derivative(*x, *n, *y)
            }

            #[inline(always)]
            fn log_vjp_0(x: &$t, b: &$t, _y: &$t, g: &$t) -> $t {
                *g / (*x * b.ln())
            }
            #[inline(always)]
            fn log_vjp_1(_x: &$t, b: &$t, y: &$t, g: &$t) -> $t {
                -*g * *y / (*b * b.ln())
            }
            #[inline(always)]
            fn log_jvp(x: &$t, b: &$t, y: &$t, dx: &$t, db: &$t) -> $t {
                let ln_b = b.ln();
                *dx / (*x * ln_b) - *db * *y / (*b * ln_b)
            }

            #[inline(always)]
            fn powf_vjp_0(x: &$t, p: &$t, _y: &$t, g: &$t) -> $t {
                *g * powf_base_derivative(*x, *p)
            }
            #[inline(always)]
            fn powf_vjp_1(x: &$t, _p: &$t, y: &$t, g: &$t) -> $t {
                *g * powf_exponent_derivative(*x, *y)
            }
            #[inline(always)]
            fn powf_jvp(x: &$t, p: &$t, y: &$t, dx: &$t, dp: &$t) -> $t {
                *dx * powf_base_derivative(*x, *p) + *dp * powf_exponent_derivative(*x, *y)
            }

            #[inline(always)]
            fn atan2_vjp_0(x: &$t, a: &$t, _y: &$t, g: &$t) -> $t {
                let h = x.hypot(*a);
                if h == 0.0 { 0.0 } else { *g * (*a / h / h) }
            }
            #[inline(always)]
            fn atan2_vjp_1(x: &$t, a: &$t, _y: &$t, g: &$t) -> $t {
                let h = x.hypot(*a);
                if h == 0.0 { 0.0 } else { *g * -(*x / h / h) }
            }
            #[inline(always)]
            fn atan2_jvp(x: &$t, a: &$t, _y: &$t, dx: &$t, da: &$t) -> $t {
                let h = x.hypot(*a);
                if h == 0.0 { 0.0 } else { *dx * (*a / h / h) + *da * -(*x / h / h) }
            }

            #[inline(always)]
            fn hypot_vjp_0(x: &$t, _a: &$t, y: &$t, g: &$t) -> $t {
                if *y == 0.0 { 0.0 } else { *g * (*x / *y) }
            }
            #[inline(always)]
            fn hypot_vjp_1(_x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                if *y == 0.0 { 0.0 } else { *g * (*a / *y) }
            }
            #[inline(always)]
            fn hypot_jvp(x: &$t, a: &$t, y: &$t, dx: &$t, da: &$t) -> $t {
                if *y == 0.0 { 0.0 } else { *dx * (*x / *y) + *da * (*a / *y) }
            }

            #[inline(always)]
            fn max_vjp_0(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                *g * share2(*x, *a, *y)
            }
            #[inline(always)]
            fn max_vjp_1(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                *g * share2(*a, *x, *y)
            }
            #[inline(always)]
            fn max_jvp(x: &$t, a: &$t, y: &$t, dx: &$t, da: &$t) -> $t {
                *dx * share2(*x, *a, *y) + *da * share2(*a, *x, *y)
            }

            #[inline(always)]
            fn min_vjp_0(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                *g * share2(*x, *a, *y)
            }
            #[inline(always)]
            fn min_vjp_1(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                *g * share2(*a, *x, *y)
            }
            #[inline(always)]
            fn min_jvp(x: &$t, a: &$t, y: &$t, dx: &$t, da: &$t) -> $t {
                *dx * share2(*x, *a, *y) + *da * share2(*a, *x, *y)
            }

            #[inline(always)]
            fn mul_add_vjp_0(_x: &$t, a: &$t, _b: &$t, _y: &$t, g: &$t) -> $t {
                *g * *a
            }
            #[inline(always)]
            fn mul_add_vjp_1(x: &$t, _a: &$t, _b: &$t, _y: &$t, g: &$t) -> $t {
                *g * *x
            }
            #[inline(always)]
            fn mul_add_vjp_2(_x: &$t, _a: &$t, _b: &$t, _y: &$t, g: &$t) -> $t {
                *g
            }
            #[inline(always)]
            fn mul_add_jvp(
                x: &$t,
                a: &$t,
                _b: &$t,
                _y: &$t,
                dx: &$t,
                da: &$t,
                db: &$t,
            ) -> $t {
                *dx * *a + *x * *da + *db
            }

            #[inline(always)]
            fn clamp_vjp_0(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                *g * share3(*x, *lo, *hi, *y)
            }
            #[inline(always)]
            fn clamp_vjp_1(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                *g * share3(*lo, *x, *hi, *y)
            }
            #[inline(always)]
            fn clamp_vjp_2(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                *g * share3(*hi, *x, *lo, *y)
            }
            #[inline(always)]
            fn clamp_jvp(
                x: &$t,
                lo: &$t,
                hi: &$t,
                y: &$t,
                dx: &$t,
                dlo: &$t,
                dhi: &$t,
            ) -> $t {
                *dx * share3(*x, *lo, *hi, *y)
                    + *dlo * share3(*lo, *x, *hi, *y)
                    + *dhi * share3(*hi, *x, *lo, *y)
            }
        }
    )*};
}

scalar_rules!(f32 f64);

/// The float operations the shared helpers below need, for `f32` and `f64`.
pub trait Float: crate::Real {
    /// `xⁿ`.
    fn powi(self, n: i32) -> Self;
    /// `xᵖ`.
    fn powf(self, p: Self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `√(x² + a²)`.
    fn hypot(self, a: Self) -> Self;
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
        }
    )*};
}
impl_float!(f32 f64);

/// `d/dx xⁿ = n·xⁿ⁻¹`, `0` for `n = 0`. For `n = i32::MIN`, where `n − 1` overflows,
/// `xⁿ⁻¹ = y/x`.
#[inline(always)]
fn powi_derivative<T: Float>(x: T, n: i32, y: T) -> T {
    if n == 0 {
        return T::ZERO;
    }
    let x_n_minus_1 = match n.checked_sub(1) {
        Some(m) => x.powi(m),
        None => y / x,
    };
    T::from_f64(f64::from(n)) * x_n_minus_1
}

/// `∂/∂x xᵖ = p·xᵖ⁻¹`, `0` for `p = 0`.
#[inline(always)]
fn powf_base_derivative<T: Float>(x: T, p: T) -> T {
    if p == T::ZERO {
        T::ZERO
    } else {
        p * x.powf(p - T::ONE)
    }
}

/// `∂/∂p xᵖ = y·ln x`, `0` when `y == 0`.
#[inline(always)]
fn powf_exponent_derivative<T: Float>(x: T, y: T) -> T {
    if y == T::ZERO { T::ZERO } else { y * x.ln() }
}

/// The share of the cotangent that argument `v` of `max`/`min` gets: the arguments equal to the
/// output `y` share it equally (the minimum-norm Clarke gradient at a tie). `other` is the other
/// argument.
#[inline(always)]
fn share2<T: crate::Real>(v: T, other: T, y: T) -> T {
    if v != y {
        T::ZERO
    } else if other == y {
        T::from_f64(0.5)
    } else {
        T::ONE
    }
}

/// The share of the cotangent that argument `v` of `clamp` gets, the other two arguments being
/// `o1` and `o2`: the arguments equal to the output `y` share it equally.
#[inline(always)]
fn share3<T: crate::Real>(v: T, o1: T, o2: T, y: T) -> T {
    if v != y {
        return T::ZERO;
    }
    match (o1 == y, o2 == y) {
        (false, false) => T::ONE,
        (true, true) => T::ONE / T::from_f64(3.0),
        _ => T::from_f64(0.5),
    }
}

/// Derivative helpers that the primitive table's forms call (as `d::name(..)`) when
/// `#[differentiate]` writes a rule out inline on plain floats. Each is the partial derivative
/// the matching rule above multiplies by, with the same conventions at kinks and singularities.
pub mod d {
    use super::Float;

    /// `d/dx |x|`: the sign of `x`, `0` at `0` (the minimum-norm Clarke gradient).
    #[inline(always)]
    pub fn abs_d<T: Float>(x: T) -> T {
        if x == T::ZERO {
            T::ZERO
        } else if x > T::ZERO {
            T::ONE
        } else {
            -T::ONE
        }
    }

    /// `d/dx xⁿ = n·xⁿ⁻¹`, `0` for `n = 0`.
    #[inline(always)]
    pub fn powi_d<T: Float>(x: T, n: i32, y: T) -> T {
        super::powi_derivative(x, n, y)
    }

    /// `d²/dx² xⁿ = n·(n − 1)·xⁿ⁻²`, `0` for `n = 0` and `n = 1` (the second derivative, for
    /// Hessian-vector products).
    #[inline(always)]
    pub fn powi_d2<T: Float>(x: T, n: i32) -> T {
        if n == 0 || n == 1 {
            return T::ZERO;
        }
        let (nf, m) = (f64::from(n), f64::from(n) - 1.0);
        T::from_f64(nf * m) * x.powi(n.saturating_sub(2))
    }

    /// `∂/∂x xᵖ = p·xᵖ⁻¹`, `0` for `p = 0`.
    #[inline(always)]
    pub fn powf_dx<T: Float>(x: T, p: T) -> T {
        super::powf_base_derivative(x, p)
    }

    /// `∂/∂p xᵖ = y·ln x` (`y = xᵖ`), `0` where `y = 0`.
    #[inline(always)]
    pub fn powf_dp<T: Float>(x: T, y: T) -> T {
        super::powf_exponent_derivative(x, y)
    }

    /// `∂/∂x atan2(x, a) = a/(x² + a²)`, `0` at the origin.
    #[inline(always)]
    pub fn atan2_d0<T: Float>(x: T, a: T) -> T {
        let h = x.hypot(a);
        if h == T::ZERO { T::ZERO } else { a / h / h }
    }

    /// `∂/∂a atan2(x, a) = −x/(x² + a²)`, `0` at the origin.
    #[inline(always)]
    pub fn atan2_d1<T: Float>(x: T, a: T) -> T {
        let h = x.hypot(a);
        if h == T::ZERO { T::ZERO } else { -(x / h / h) }
    }

    /// `∂/∂x √(x² + a²) = x/y`, `0` at the origin (`y = 0`).
    #[inline(always)]
    pub fn hypot_d<T: Float>(x: T, y: T) -> T {
        if y == T::ZERO { T::ZERO } else { x / y }
    }

    /// The share of the cotangent argument `v` of `max`/`min` gets (`other` is the other
    /// argument, `y` the result): `1`, `½` at a tie, `0`.
    #[inline(always)]
    pub fn share2<T: Float>(v: T, other: T, y: T) -> T {
        super::share2(v, other, y)
    }

    /// The share of the cotangent argument `v` of `clamp` gets.
    #[inline(always)]
    pub fn share3<T: Float>(v: T, o1: T, o2: T, y: T) -> T {
        super::share3(v, o1, o2, y)
    }
}

#[cfg(test)]
mod tests {
    //! Every rule of `f64` against an independent formula of its derivative (stated in each
    //! test), against central finite differences of the primal, and jvp against vjp; a few rules
    //! of `f32` the same way in single precision; then the conventions at kinks and domain edges.

    use super::*;
    use crate::check::{Tolerance, assert_close, gradcheck, gradcheck_with};

    /// Rule vs. an independent formula of the same derivative: they differ by rounding only.
    const FORMULA: f64 = 1e-12;
    /// A cotangent / tangent other than 1, to check linearity.
    const G: f64 = -0.7;

    type Unary = fn(&f64, &f64, &f64) -> f64;
    type Binary = fn(&f64, &f64, &f64, &f64) -> f64;
    type BinaryJvp = fn(&f64, &f64, &f64, &f64, &f64) -> f64;
    type Ternary = fn(&f64, &f64, &f64, &f64, &f64) -> f64;
    type TernaryJvp = fn(&f64, &f64, &f64, &f64, &f64, &f64, &f64) -> f64;
    type UnaryF32 = fn(&f32, &f32, &f32) -> f32;

    /// The rules of a binary primitive, coerced to function pointers.
    fn rules2(vjp_0: Binary, vjp_1: Binary, jvp: BinaryJvp) -> (Binary, Binary, BinaryJvp) {
        (vjp_0, vjp_1, jvp)
    }

    /// The rules of a ternary primitive, coerced to function pointers.
    fn rules3(
        vjp_0: Ternary,
        vjp_1: Ternary,
        vjp_2: Ternary,
        jvp: TernaryJvp,
    ) -> (Ternary, Ternary, Ternary, TernaryJvp) {
        (vjp_0, vjp_1, vjp_2, jvp)
    }

    /// The rules of a unary `f32` primitive, coerced to function pointers.
    fn rules1_f32(vjp: UnaryF32, jvp: UnaryF32) -> (UnaryF32, UnaryF32) {
        (vjp, jvp)
    }

    /// Checks a unary rule pair at each point.
    #[track_caller]
    fn unary(primal: fn(f64) -> f64, vjp: Unary, jvp: Unary, formula: fn(f64) -> f64, at: &[f64]) {
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
    fn binary(
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
    fn ternary(
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

    #[test]
    fn called_the_way_generated_code_calls_them() {
        // Through the trait, `Self` inferred from the arguments, even from an untyped literal
        // beside a typed operand.
        let x = 3.0_f64;
        let y = 2.0 * x;
        let _ = y;
        assert_eq!(ArithRules::mul_vjp_1(&2.0, &ShapeOf::of(&x), &1.0), 2.0);
        assert_eq!(
            ArithRules::mul_vjp_0(&ShapeOf::of(&2.0_f32), &3.0, &1.0),
            3.0_f32
        );
        assert_eq!(ArithRules::add(&2.0, &x), 5.0);
        assert_eq!(FloatRules::exp_vjp(&0.0_f32, &1.0, &2.0), 2.0_f32);
        assert_eq!(NegRule::neg_vjp(&1.0_f64), -1.0);
        assert_eq!(NegRule::neg(&x), -3.0);
        assert_eq!(FloatRules::powi_vjp(&x, &2, &9.0, &1.0), 6.0);
    }

    // ---- arithmetic and negation -------------------------------------------------------------

    const ARITH_POINTS: &[(f64, f64)] = &[(1.5, -2.5), (0.3, 4.0), (-3.0, 0.25)];

    #[test]
    fn add() {
        // ∂(a + b) = (1, 1)
        let rules = rules2(
            |a, b, _, g| f64::add_vjp_0(&ShapeOf::of(a), &ShapeOf::of(b), g),
            |a, b, _, g| f64::add_vjp_1(&ShapeOf::of(a), &ShapeOf::of(b), g),
            f64::add_jvp,
        );
        binary(|a, b| a + b, rules, |_, _| (1.0, 1.0), ARITH_POINTS);
    }

    #[test]
    fn sub() {
        // ∂(a − b) = (1, −1)
        let rules = rules2(
            |a, b, _, g| f64::sub_vjp_0(&ShapeOf::of(a), &ShapeOf::of(b), g),
            |a, b, _, g| f64::sub_vjp_1(&ShapeOf::of(a), &ShapeOf::of(b), g),
            f64::sub_jvp,
        );
        binary(|a, b| a - b, rules, |_, _| (1.0, -1.0), ARITH_POINTS);
    }

    #[test]
    fn mul() {
        // ∂(a·b) = (b, a)
        let rules = rules2(
            |a, b, _, g| f64::mul_vjp_0(&ShapeOf::of(a), b, g),
            |a, b, _, g| f64::mul_vjp_1(a, &ShapeOf::of(b), g),
            f64::mul_jvp,
        );
        binary(|a, b| a * b, rules, |a, b| (b, a), ARITH_POINTS);
    }

    #[test]
    fn div() {
        // ∂(a/b) = (1/b, −a/b²)
        let rules = rules2(
            |a, b, _, g| f64::div_vjp_0(&ShapeOf::of(a), b, g),
            |a, b, y, g| f64::div_vjp_1(&ShapeOf::of(a), b, y, g),
            f64::div_jvp,
        );
        binary(
            |a, b| a / b,
            rules,
            |a, b| (1.0 / b, -a / (b * b)),
            ARITH_POINTS,
        );
    }

    #[test]
    fn neg() {
        // d(−x)/dx = −1
        unary(
            |x| -x,
            |_, _, g| f64::neg_vjp(g),
            f64::neg_jvp,
            |_| -1.0,
            &[-1.5, 0.0, 2.0],
        );
    }

    // ---- exponentials and logarithms ---------------------------------------------------------

    #[test]
    fn exp() {
        // d/dx eˣ = eˣ
        unary(
            f64::exp,
            f64::exp_vjp,
            f64::exp_jvp,
            f64::exp,
            &[-1.3, 0.4, 2.1],
        );
    }

    #[test]
    fn exp2() {
        // d/dx 2ˣ = 2ˣ·ln 2
        let f = |x: f64| 2f64.powf(x) * 2f64.ln();
        unary(
            f64::exp2,
            f64::exp2_vjp,
            f64::exp2_jvp,
            f,
            &[-1.3, 0.4, 2.1],
        );
    }

    #[test]
    fn exp_m1() {
        // d/dx (eˣ − 1) = eˣ
        unary(
            f64::exp_m1,
            f64::exp_m1_vjp,
            f64::exp_m1_jvp,
            f64::exp,
            &[-0.7, 1e-3, 1.2],
        );
    }

    #[test]
    fn ln() {
        // d/dx ln x = 1/x
        unary(
            f64::ln,
            f64::ln_vjp,
            f64::ln_jvp,
            |x| 1.0 / x,
            &[0.3, 1.7, 12.0],
        );
    }

    #[test]
    fn log2() {
        // d/dx log₂ x = 1/(x ln 2)
        let f = |x: f64| 1.0 / (x * 2f64.ln());
        unary(
            f64::log2,
            f64::log2_vjp,
            f64::log2_jvp,
            f,
            &[0.3, 1.7, 12.0],
        );
    }

    #[test]
    fn log10() {
        // d/dx log₁₀ x = 1/(x ln 10)
        let f = |x: f64| 1.0 / (x * 10f64.ln());
        unary(
            f64::log10,
            f64::log10_vjp,
            f64::log10_jvp,
            f,
            &[0.3, 1.7, 12.0],
        );
    }

    #[test]
    fn ln_1p() {
        // d/dx ln(1 + x) = 1/(1 + x)
        let f = |x: f64| 1.0 / (1.0 + x);
        unary(
            f64::ln_1p,
            f64::ln_1p_vjp,
            f64::ln_1p_jvp,
            f,
            &[-0.5, 0.2, 3.0],
        );
    }

    // ---- powers and roots --------------------------------------------------------------------

    #[test]
    fn sqrt() {
        // d/dx √x = 1/(2√x) = x^(−1/2)/2
        let f = |x: f64| 0.5 * x.powf(-0.5);
        unary(
            f64::sqrt,
            f64::sqrt_vjp,
            f64::sqrt_jvp,
            f,
            &[0.25, 2.0, 9.0],
        );
    }

    #[test]
    fn cbrt() {
        // d/dx ∛x = |x|^(−2/3)/3 (even in x)
        let f = |x: f64| x.abs().powf(-2.0 / 3.0) / 3.0;
        unary(
            f64::cbrt,
            f64::cbrt_vjp,
            f64::cbrt_jvp,
            f,
            &[-8.0, 0.5, 3.0],
        );
    }

    #[test]
    fn recip() {
        // d/dx 1/x = −1/x²
        let f = |x: f64| -1.0 / (x * x);
        unary(
            f64::recip,
            f64::recip_vjp,
            f64::recip_jvp,
            f,
            &[-2.0, 0.5, 3.0],
        );
    }

    #[test]
    fn powi() {
        // d/dx xⁿ = n·xⁿ⁻¹
        for n in [-3, -1, 1, 2, 3, 5] {
            for x in [-1.5, 0.7, 2.0] {
                let y = x.powi(n);
                let d = f64::powi_vjp(&x, &n, &y, &1.0);
                assert_close(d, f64::from(n) * x.powf(f64::from(n - 1)), FORMULA);
                gradcheck(|x: &f64| x.powi(n), &x, &d).assert_ok();
                assert_eq!(f64::powi_jvp(&x, &n, &y, &1.0), d);
                assert_eq!(f64::powi_jvp(&x, &n, &y, &G), f64::powi_vjp(&x, &n, &y, &G));
                assert_close(f64::powi_vjp(&x, &n, &y, &G), G * d, FORMULA);
            }
        }
    }

    #[test]
    fn powf() {
        // ∂/∂x xᵖ = p·xᵖ⁻¹, ∂/∂p xᵖ = xᵖ·ln x
        let rules = rules2(f64::powf_vjp_0, f64::powf_vjp_1, f64::powf_jvp);
        let f = |x: f64, p: f64| (p * x.powf(p - 1.0), x.powf(p) * x.ln());
        binary(f64::powf, rules, f, &[(0.5, 1.5), (2.0, -0.7), (3.0, 2.2)]);
    }

    #[test]
    fn log() {
        // x.log(b) = ln x / ln b: ∂/∂x = 1/(x ln b), ∂/∂b = −ln x/(b ln² b)
        let rules = rules2(f64::log_vjp_0, f64::log_vjp_1, f64::log_jvp);
        let f = |x: f64, b: f64| (1.0 / (x * b.ln()), -x.ln() / (b * b.ln() * b.ln()));
        binary(f64::log, rules, f, &[(0.5, 2.0), (3.0, 10.0), (3.0, 0.5)]);
    }

    // ---- trigonometric and hyperbolic --------------------------------------------------------

    #[test]
    fn sin() {
        // d/dx sin x = cos x
        unary(
            f64::sin,
            f64::sin_vjp,
            f64::sin_jvp,
            f64::cos,
            &[-1.1, 0.3, 1.2],
        );
    }

    #[test]
    fn cos() {
        // d/dx cos x = −sin x
        unary(
            f64::cos,
            f64::cos_vjp,
            f64::cos_jvp,
            |x| -x.sin(),
            &[-1.1, 0.3, 1.2],
        );
    }

    #[test]
    fn tan() {
        // d/dx tan x = 1/cos² x
        let f = |x: f64| 1.0 / (x.cos() * x.cos());
        unary(f64::tan, f64::tan_vjp, f64::tan_jvp, f, &[-1.1, 0.3, 1.2]);
    }

    #[test]
    fn asin() {
        // d/dx asin x = 1/√(1 − x²)
        let f = |x: f64| 1.0 / (1.0 - x * x).sqrt();
        unary(
            f64::asin,
            f64::asin_vjp,
            f64::asin_jvp,
            f,
            &[-0.6, 0.1, 0.9],
        );
    }

    #[test]
    fn acos() {
        // d/dx acos x = −1/√(1 − x²)
        let f = |x: f64| -1.0 / (1.0 - x * x).sqrt();
        unary(
            f64::acos,
            f64::acos_vjp,
            f64::acos_jvp,
            f,
            &[-0.6, 0.1, 0.9],
        );
    }

    #[test]
    fn atan() {
        // d/dx atan x = 1/(1 + x²)
        let f = |x: f64| 1.0 / (1.0 + x * x);
        unary(
            f64::atan,
            f64::atan_vjp,
            f64::atan_jvp,
            f,
            &[-2.0, 0.5, 3.0],
        );
    }

    #[test]
    fn atan2() {
        // x.atan2(a) = angle of (a, x): ∂/∂x = a/(x² + a²), ∂/∂a = −x/(x² + a²)
        let rules = rules2(f64::atan2_vjp_0, f64::atan2_vjp_1, f64::atan2_jvp);
        let f = |x: f64, a: f64| (a / (x * x + a * a), -x / (x * x + a * a));
        binary(
            f64::atan2,
            rules,
            f,
            &[(0.3, 1.2), (-1.0, -0.5), (2.0, -3.0)],
        );
    }

    #[test]
    fn atan2_does_not_underflow() {
        // At (1e-200, 1e-200), x² + a² underflows to 0; the derivative is a/(x² + a²) = 0.5e200.
        let (x, a) = (1e-200_f64, 1e-200);
        let y = x.atan2(a);
        assert_close(f64::atan2_vjp_0(&x, &a, &y, &1.0), 0.5e200, FORMULA);
        assert_close(f64::atan2_vjp_1(&x, &a, &y, &1.0), -0.5e200, FORMULA);
    }

    #[test]
    fn sinh() {
        // d/dx sinh x = cosh x
        unary(
            f64::sinh,
            f64::sinh_vjp,
            f64::sinh_jvp,
            f64::cosh,
            &[-1.5, 0.2, 2.0],
        );
    }

    #[test]
    fn cosh() {
        // d/dx cosh x = sinh x
        unary(
            f64::cosh,
            f64::cosh_vjp,
            f64::cosh_jvp,
            f64::sinh,
            &[-1.5, 0.2, 2.0],
        );
    }

    #[test]
    fn tanh() {
        // d/dx tanh x = 1/cosh² x
        let f = |x: f64| 1.0 / (x.cosh() * x.cosh());
        unary(
            f64::tanh,
            f64::tanh_vjp,
            f64::tanh_jvp,
            f,
            &[-1.5, 0.2, 2.0],
        );
    }

    #[test]
    fn asinh() {
        // d/dx asinh x = 1/√(x² + 1)
        let f = |x: f64| 1.0 / (x * x + 1.0).sqrt();
        unary(
            f64::asinh,
            f64::asinh_vjp,
            f64::asinh_jvp,
            f,
            &[-3.0, 0.4, 10.0],
        );
    }

    #[test]
    fn acosh() {
        // d/dx acosh x = 1/√(x² − 1)
        let f = |x: f64| 1.0 / (x * x - 1.0).sqrt();
        unary(
            f64::acosh,
            f64::acosh_vjp,
            f64::acosh_jvp,
            f,
            &[1.2, 2.5, 10.0],
        );
    }

    #[test]
    fn atanh() {
        // d/dx atanh x = 1/(1 − x²)
        let f = |x: f64| 1.0 / (1.0 - x * x);
        unary(
            f64::atanh,
            f64::atanh_vjp,
            f64::atanh_jvp,
            f,
            &[-0.7, 0.1, 0.9],
        );
    }

    #[test]
    fn hypot() {
        // √(x² + a²): ∂/∂x = x/√(x² + a²), ∂/∂a = a/√(x² + a²)
        let rules = rules2(f64::hypot_vjp_0, f64::hypot_vjp_1, f64::hypot_jvp);
        let f = |x: f64, a: f64| (x / (x * x + a * a).sqrt(), a / (x * x + a * a).sqrt());
        binary(
            f64::hypot,
            rules,
            f,
            &[(3.0, 4.0), (-1.0, 0.5), (0.2, -2.0)],
        );
    }

    // ---- piecewise functions away from their kinks and jumps ---------------------------------

    #[test]
    fn abs() {
        // d/dx |x| = x/|x| for x ≠ 0
        unary(
            f64::abs,
            f64::abs_vjp,
            f64::abs_jvp,
            |x| x / x.abs(),
            &[-1.5, 2.0],
        );
    }

    #[test]
    fn piecewise_constant() {
        // signum, floor, ceil, round, trunc: derivative 0 between jumps
        let at = &[-1.3, 0.4, 2.7];
        unary(f64::signum, f64::signum_vjp, f64::signum_jvp, |_| 0.0, at);
        unary(f64::floor, f64::floor_vjp, f64::floor_jvp, |_| 0.0, at);
        unary(f64::ceil, f64::ceil_vjp, f64::ceil_jvp, |_| 0.0, at);
        unary(f64::round, f64::round_vjp, f64::round_jvp, |_| 0.0, at);
        unary(f64::trunc, f64::trunc_vjp, f64::trunc_jvp, |_| 0.0, at);
    }

    #[test]
    fn fract() {
        // d/dx (x − trunc x) = 1 between jumps
        unary(
            f64::fract,
            f64::fract_vjp,
            f64::fract_jvp,
            |_| 1.0,
            &[-1.3, 0.4, 2.7],
        );
    }

    #[test]
    fn degrees_and_radians() {
        // d/dx (180/π)x = 180/π, d/dx (π/180)x = π/180
        use core::f64::consts::PI;
        let at = &[-2.0, 0.5, 30.0];
        let (deg, rad) = (f64::to_degrees_vjp, f64::to_radians_vjp);
        unary(
            f64::to_degrees,
            deg,
            f64::to_degrees_jvp,
            |_| 180.0 / PI,
            at,
        );
        unary(
            f64::to_radians,
            rad,
            f64::to_radians_jvp,
            |_| PI / 180.0,
            at,
        );
    }

    #[test]
    fn max_and_min() {
        // ∂ max(x, a) = (1, 0) when x > a, (0, 1) when x < a; min the other way round
        let max = rules2(f64::max_vjp_0, f64::max_vjp_1, f64::max_jvp);
        let min = rules2(f64::min_vjp_0, f64::min_vjp_1, f64::min_jvp);
        let at = &[(1.0, 2.0), (3.0, -1.0)];
        binary(
            f64::max,
            max,
            |x, a| if x > a { (1.0, 0.0) } else { (0.0, 1.0) },
            at,
        );
        binary(
            f64::min,
            min,
            |x, a| if x < a { (1.0, 0.0) } else { (0.0, 1.0) },
            at,
        );
    }

    #[test]
    fn mul_add() {
        // ∂(x·a + b) = (a, x, 1)
        let rules = rules3(
            f64::mul_add_vjp_0,
            f64::mul_add_vjp_1,
            f64::mul_add_vjp_2,
            f64::mul_add_jvp,
        );
        let at = &[(1.5, -2.0, 0.3), (-0.4, 0.9, 5.0)];
        ternary(f64::mul_add, rules, |x, a, _| (a, x, 1.0), at);
    }

    #[test]
    fn clamp() {
        // ∂ clamp(x, lo, hi) = (1, 0, 0) inside, (0, 1, 0) below, (0, 0, 1) above
        let rules = rules3(
            f64::clamp_vjp_0,
            f64::clamp_vjp_1,
            f64::clamp_vjp_2,
            f64::clamp_jvp,
        );
        let f = |x: f64, lo: f64, hi: f64| {
            if x < lo {
                (0.0, 1.0, 0.0)
            } else if x > hi {
                (0.0, 0.0, 1.0)
            } else {
                (1.0, 0.0, 0.0)
            }
        };
        let at = &[(0.5, -1.0, 2.0), (-3.0, -1.0, 2.0), (5.0, -1.0, 2.0)];
        ternary(f64::clamp, rules, f, at);
    }

    // ---- f32 ---------------------------------------------------------------------------------

    /// Checks an f32 unary rule against finite differences in single precision and, in double
    /// precision, against `formula`.
    #[track_caller]
    fn unary_f32(
        primal: fn(f32) -> f32,
        (vjp, jvp): (UnaryF32, UnaryF32),
        formula: fn(f64) -> f64,
        at: &[f32],
    ) {
        for &x in at {
            let y = primal(x);
            let d = vjp(&x, &y, &1.0);
            // Single-precision rounding of x, y and the rule: a few ulps of f32.
            assert_close(f64::from(d), formula(f64::from(x)), 1e-6);
            gradcheck(|x: &f32| primal(*x), &x, &d).assert_ok();
            assert_eq!(jvp(&x, &y, &1.0), d);
        }
    }

    #[test]
    fn f32_rules() {
        let tanh = rules1_f32(f32::tanh_vjp, f32::tanh_jvp);
        unary_f32(
            f32::tanh,
            tanh,
            |x| 1.0 / (x.cosh() * x.cosh()),
            &[-1.5, 0.2, 2.0],
        );
        unary_f32(
            f32::exp,
            rules1_f32(f32::exp_vjp, f32::exp_jvp),
            f64::exp,
            &[-1.3, 0.4, 2.1],
        );
        let sqrt = rules1_f32(f32::sqrt_vjp, f32::sqrt_jvp);
        unary_f32(f32::sqrt, sqrt, |x| 0.5 / x.sqrt(), &[0.25, 2.0, 9.0]);
        let exp2 = rules1_f32(f32::exp2_vjp, f32::exp2_jvp);
        unary_f32(
            f32::exp2,
            exp2,
            |x| 2f64.powf(x) * 2f64.ln(),
            &[-1.3, 0.4, 2.1],
        );

        // Binary: a/b and x.powf(p) on a tuple, in single precision.
        let (a, b) = (1.5_f32, -2.5_f32);
        let y = a / b;
        let d = (
            f32::div_vjp_0(&ShapeOf::of(&a), &b, &1.0),
            f32::div_vjp_1(&ShapeOf::of(&a), &b, &y, &1.0),
        );
        assert_close(f64::from(d.1), -1.5 / 6.25, 1e-6);
        gradcheck(|p: &(f32, f32)| p.0 / p.1, &(a, b), &d).assert_ok();
        assert_eq!(f32::div_jvp(&a, &b, &y, &0.0, &1.0), d.1);

        let (x, p) = (2.0_f32, 1.5_f32);
        let y = x.powf(p);
        let d = (
            f32::powf_vjp_0(&x, &p, &y, &1.0),
            f32::powf_vjp_1(&x, &p, &y, &1.0),
        );
        assert_close(f64::from(d.0), 1.5 * 2f64.sqrt(), 1e-6);
        assert_close(f64::from(d.1), 2f64.powf(1.5) * 2f64.ln(), 1e-6);
        gradcheck(|q: &(f32, f32)| q.0.powf(q.1), &(x, p), &d).assert_ok();
    }

    #[test]
    fn f32_defaults_are_single_precision() {
        // The f32 checks above ran with these: a step suited to single precision.
        assert_eq!(
            Tolerance::default_for::<f32>(),
            Tolerance {
                step: 1e-2,
                rtol: 1e-2,
                atol: 1e-3
            }
        );
    }

    // ---- conventions at kinks, jumps and domain edges ----------------------------------------

    #[test]
    fn abs_at_zero_is_zero() {
        for x in [0.0_f64, -0.0] {
            assert_eq!(f64::abs_vjp(&x, &0.0, &1.0), 0.0);
            assert_eq!(f64::abs_jvp(&x, &0.0, &1.0), 0.0);
        }
        assert_eq!(f32::abs_vjp(&0.0, &0.0, &1.0), 0.0);
    }

    #[test]
    fn max_tie_splits_evenly() {
        let (x, g) = (1.5_f64, 2.0);
        assert_eq!(f64::max_vjp_0(&x, &x, &x, &g), 1.0);
        assert_eq!(f64::max_vjp_1(&x, &x, &x, &g), 1.0);
        assert_eq!(f64::max_jvp(&x, &x, &x, &1.0, &3.0), 2.0);
        // Signed zeros are equal: a tie.
        assert_eq!(f64::max_vjp_0(&-0.0, &0.0, &0.0, &g), 1.0);
        assert_eq!(f32::max_vjp_1(&-2.0, &-2.0, &-2.0, &1.0), 0.5);
    }

    #[test]
    fn min_tie_splits_evenly() {
        let (x, g) = (-0.25_f64, 3.0);
        assert_eq!(f64::min_vjp_0(&x, &x, &x, &g), 1.5);
        assert_eq!(f64::min_vjp_1(&x, &x, &x, &g), 1.5);
        assert_eq!(f64::min_jvp(&x, &x, &x, &1.0, &-3.0), -1.0);
    }

    #[test]
    fn max_and_min_follow_the_nan_the_primal_ignores() {
        let nan = f64::NAN;
        // 2.0.max(NaN) == 2.0: all of g goes to the number.
        assert_eq!(f64::max_vjp_0(&2.0, &nan, &2.0, &1.0), 1.0);
        assert_eq!(f64::max_vjp_1(&2.0, &nan, &2.0, &1.0), 0.0);
        assert_eq!(f64::min_vjp_0(&nan, &2.0, &2.0, &1.0), 0.0);
        assert_eq!(f64::min_vjp_1(&nan, &2.0, &2.0, &1.0), 1.0);
    }

    #[test]
    fn clamp_at_a_bound_splits_evenly() {
        let g = 2.0_f64;
        let vjps = |x: f64, lo: f64, hi: f64| {
            let y = x.clamp(lo, hi);
            (
                f64::clamp_vjp_0(&x, &lo, &hi, &y, &g),
                f64::clamp_vjp_1(&x, &lo, &hi, &y, &g),
                f64::clamp_vjp_2(&x, &lo, &hi, &y, &g),
            )
        };
        assert_eq!(vjps(-1.0, -1.0, 2.0), (1.0, 1.0, 0.0)); // x at lo
        assert_eq!(vjps(2.0, -1.0, 2.0), (1.0, 0.0, 1.0)); // x at hi
        assert_eq!(vjps(-3.0, 0.5, 0.5), (0.0, 1.0, 1.0)); // lo == hi, x below: a min tie
        let third = vjps(0.5, 0.5, 0.5); // all three equal
        assert_close(third.0, g / 3.0, 1e-15);
        assert_eq!(third.0, third.1);
        assert_eq!(third.1, third.2);
        // jvp at lo: the mean of dx and dlo.
        assert_eq!(
            f64::clamp_jvp(&-1.0, &-1.0, &2.0, &-1.0, &1.0, &3.0, &5.0),
            2.0
        );
    }

    #[test]
    fn powi_zero_exponent_is_constant() {
        for x in [0.0_f64, -0.0, 2.0] {
            assert_eq!(f64::powi_vjp(&x, &0, &1.0, &1.0), 0.0);
            assert_eq!(f64::powi_jvp(&x, &0, &1.0, &1.0), 0.0);
        }
        assert_eq!(f32::powi_vjp(&0.0, &0, &1.0, &1.0), 0.0);
        // Other small exponents at 0 follow the formula n·xⁿ⁻¹.
        assert_eq!(f64::powi_vjp(&0.0, &1, &0.0, &1.0), 1.0);
        assert_eq!(f64::powi_vjp(&0.0, &2, &0.0, &1.0), 0.0);
        assert_eq!(
            f64::powi_vjp(&0.0, &-1, &f64::INFINITY, &1.0),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn powi_most_negative_exponent_does_not_overflow() {
        // d/dx x^n at x = 1 is n, also for n = i32::MIN where n − 1 overflows.
        let n = i32::MIN;
        assert_eq!(f64::powi_vjp(&1.0, &n, &1.0, &1.0), f64::from(n));
    }

    #[test]
    fn powf_at_zero() {
        let y = |p: f64| 0.0_f64.powf(p);
        // Exponent: y·ln x is 0, not 0·(−∞) = NaN, wherever y == 0.
        for p in [0.5, 1.0, 2.5] {
            assert_eq!(f64::powf_vjp_1(&0.0, &p, &y(p), &1.0), 0.0);
        }
        // Base: p·xᵖ⁻¹ as computed.
        assert_eq!(f64::powf_vjp_0(&0.0, &2.5, &0.0, &1.0), 0.0);
        assert_eq!(f64::powf_vjp_0(&0.0, &1.0, &0.0, &1.0), 1.0);
        assert_eq!(f64::powf_vjp_0(&0.0, &0.5, &0.0, &1.0), f64::INFINITY);
        // p = 0: x⁰ = 1 is constant, also at 0 (where the formula gives 0·∞).
        assert_eq!(f64::powf_vjp_0(&0.0, &0.0, &1.0, &1.0), 0.0);
        // At p = 0 the exponent derivative is y·ln x = 1·ln 0 = −∞, as the math says.
        assert_eq!(f64::powf_vjp_1(&0.0, &0.0, &1.0, &1.0), f64::NEG_INFINITY);
        assert_eq!(f64::powf_jvp(&0.0, &2.5, &0.0, &1.0, &1.0), 0.0);
    }

    #[test]
    fn powf_exponent_derivative_is_nan_below_zero() {
        // (−2)³ = −8 is finite, but x^p has no derivative in p at x < 0.
        let y = (-2.0_f64).powf(3.0);
        assert_eq!(y, -8.0);
        assert!(f64::powf_vjp_1(&-2.0, &3.0, &y, &1.0).is_nan());
        // The base derivative is still p·xᵖ⁻¹ = 12.
        assert_eq!(f64::powf_vjp_0(&-2.0, &3.0, &y, &1.0), 12.0);
    }

    #[test]
    fn infinite_derivatives() {
        // sqrt, cbrt at 0; asin at 1; acosh at 1; atanh at 1: the true derivative is +∞.
        let inf = f64::INFINITY;
        assert_eq!(f64::sqrt_vjp(&0.0, &0.0, &1.0), inf);
        assert_eq!(f64::cbrt_vjp(&0.0, &0.0, &1.0), inf);
        assert_eq!(f64::asin_vjp(&1.0, &1f64.asin(), &1.0), inf);
        assert_eq!(f64::acos_vjp(&1.0, &0.0, &1.0), -inf);
        assert_eq!(f64::acosh_vjp(&1.0, &0.0, &1.0), inf);
        assert_eq!(f64::atanh_vjp(&1.0, &inf, &1.0), inf);
        // Outside the domain, NaN like the primal.
        assert!(f64::asin_vjp(&1.5, &1.5f64.asin(), &1.0).is_nan());
        assert!(f64::acosh_vjp(&0.5, &0.5f64.acosh(), &1.0).is_nan());
    }

    #[test]
    fn hypot_at_origin_is_zero() {
        assert_eq!(f64::hypot_vjp_0(&0.0, &0.0, &0.0, &1.0), 0.0);
        assert_eq!(f64::hypot_vjp_1(&0.0, &0.0, &0.0, &1.0), 0.0);
        assert_eq!(f64::hypot_jvp(&0.0, &0.0, &0.0, &1.0, &1.0), 0.0);
    }

    #[test]
    fn atan2_at_origin_is_zero() {
        assert_eq!(f64::atan2_vjp_0(&0.0, &0.0, &0.0, &1.0), 0.0);
        assert_eq!(f64::atan2_vjp_1(&0.0, &0.0, &0.0, &1.0), 0.0);
        assert_eq!(f64::atan2_jvp(&0.0, &0.0, &0.0, &1.0, &1.0), 0.0);
    }

    #[test]
    fn jumps_are_ignored() {
        // At the jumps themselves the rules still return 0.
        assert_eq!(f64::signum_vjp(&0.0, &1.0, &1.0), 0.0);
        assert_eq!(f64::floor_vjp(&1.0, &1.0, &1.0), 0.0);
        assert_eq!(f64::ceil_vjp(&1.0, &1.0, &1.0), 0.0);
        assert_eq!(f64::round_vjp(&0.5, &1.0, &1.0), 0.0);
        assert_eq!(f64::trunc_vjp(&-1.0, &-1.0, &1.0), 0.0);
        assert_eq!(f64::fract_vjp(&2.0, &0.0, &1.0), 1.0);
    }

    #[test]
    fn gradcheck_with_a_tighter_tolerance_still_passes_smooth_rules() {
        // The rules are exact up to rounding, so a tighter-than-default check passes too.
        let tight = Tolerance {
            step: 1e-5,
            rtol: 1e-8,
            atol: 1e-10,
        };
        let x = 0.7_f64;
        let d = f64::tanh_vjp(&x, &x.tanh(), &1.0);
        assert!(gradcheck_with(|x: &f64| x.tanh(), &x, &d, tight).passed());
    }
}
