//! Rules of ndarray's matrix products `a.dot(&b)`: linear in each operand, so the forward rule
//! is the product itself and each reverse rule a product with the transposed other operand.

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{Array1, Array2, ArrayBase, Data, Ix1, Ix2, LinalgScalar};

use crate::differentiable::Real;
use crate::rules::{HasShape, ShapeOf};

/// Rules of ndarray's `a.dot(&b)`: matrix·matrix, matrix·vector, vector·vector (a scalar) and
/// vector·matrix, for operands of any storage (owned arrays, views such as `w.t()`). The
/// cotangents are owned arrays (`Grad0` of `a`, `Grad1` of `b`); every product is ndarray's
/// `dot` (matrixmultiply) on strided views, so the backward pass of a matmul is two matmuls.
#[diagnostic::on_unimplemented(
    message = "`dot` of `{Self}` and `{Rhs}` cannot be differentiated",
    label = "`dot` takes two ndarray arrays of one float type, of one or two dimensions",
    note = "a `dot` method of your own struct is followed on a parameter, on `self`, on a local \
            built by a literal or declared with the type (`let a: {Self} = ..;`) and on an element \
            of a slice of them; on a field only where the other operand is a parameter or a local \
            known to be the struct (`self.vel.dot(&v)` of `v: &{Self}`), as the macro does not \
            see a field's type. On another value \
            (`self.vel.dot(&self.vel)`, `a.vel.dot(&b.vel)`), call it through its type: \
            `{Self}::dot(&self.vel, &self.vel)`"
)]
pub trait DotRules<Rhs: HasShape>: HasShape + Sized {
    /// The type of `a.dot(&b)`.
    type Output;
    /// The cotangent (and tangent) type of `a`: the owned array of its shape.
    type Grad0;
    /// The cotangent (and tangent) type of `b`.
    type Grad1;

    /// `a·b`.
    fn dot(a: &Self, b: &Rhs) -> Self::Output;
    /// The cotangent of `a` (math per impl).
    fn dot_vjp_0(a: &ShapeOf<Self>, b: &Rhs, g: &Self::Output) -> Self::Grad0;
    /// The cotangent of `b` (math per impl).
    fn dot_vjp_1(a: &Self, b: &ShapeOf<Rhs>, g: &Self::Output) -> Self::Grad1;
    /// Tangent of `a·b`: `da·b + a·db`.
    fn dot_jvp(
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        da: &Self::Grad0,
        db: &Self::Grad1,
    ) -> Self::Output;
}

/// An operand that is a reference to an array (a field `x: &'a Array2<f64>` of a struct of data,
/// `let w = if c { &p.w1 } else { &p.w2 };`): the array's rules.
impl<A, B> DotRules<B> for &A
where
    A: DotRules<B>,
    B: HasShape,
{
    type Output = A::Output;
    type Grad0 = A::Grad0;
    type Grad1 = A::Grad1;

    #[inline]
    fn dot(a: &Self, b: &B) -> A::Output {
        A::dot(a, b)
    }
    #[inline]
    fn dot_vjp_0(a: &ShapeOf<Self>, b: &B, g: &A::Output) -> A::Grad0 {
        A::dot_vjp_0(&a.of_referent(), b, g)
    }
    #[inline]
    fn dot_vjp_1(a: &Self, b: &ShapeOf<B>, g: &A::Output) -> A::Grad1 {
        A::dot_vjp_1(a, b, g)
    }
    #[inline]
    fn dot_jvp(a: &Self, b: &B, y: &A::Output, da: &A::Grad0, db: &A::Grad1) -> A::Output {
        A::dot_jvp(a, b, y, da, db)
    }
}

/// The right operand a reference to an array, the left one an array.
impl<S, D, B> DotRules<&B> for ArrayBase<S, D>
where
    S: Data,
    D: ndarray::Dimension,
    ArrayBase<S, D>: DotRules<B>,
    B: HasShape,
{
    type Output = <Self as DotRules<B>>::Output;
    type Grad0 = <Self as DotRules<B>>::Grad0;
    type Grad1 = <Self as DotRules<B>>::Grad1;

    #[inline]
    fn dot(a: &Self, b: &&B) -> Self::Output {
        <Self as DotRules<B>>::dot(a, b)
    }
    #[inline]
    fn dot_vjp_0(a: &ShapeOf<Self>, b: &&B, g: &Self::Output) -> Self::Grad0 {
        <Self as DotRules<B>>::dot_vjp_0(a, b, g)
    }
    #[inline]
    fn dot_vjp_1(a: &Self, b: &ShapeOf<&B>, g: &Self::Output) -> Self::Grad1 {
        <Self as DotRules<B>>::dot_vjp_1(a, &b.of_referent(), g)
    }
    #[inline]
    fn dot_jvp(
        a: &Self,
        b: &&B,
        y: &Self::Output,
        da: &Self::Grad0,
        db: &Self::Grad1,
    ) -> Self::Output {
        <Self as DotRules<B>>::dot_jvp(a, b, y, da, db)
    }
}

/// Matrix·matrix `Y = A·B` (`m×k · k×n`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix2>> for ArrayBase<S1, Ix2>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array2<T>;
    type Grad0 = Array2<T>;
    type Grad1 = Array2<T>;

    /// `A·B`.
    #[inline]
    fn dot(a: &Self, b: &ArrayBase<S2, Ix2>) -> Array2<T> {
        a.dot(b)
    }
    /// `Ā = G·Bᵀ` (`m×n · n×k`).
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, b: &ArrayBase<S2, Ix2>, g: &Array2<T>) -> Array2<T> {
        dot_standard(g, &b.t())
    }
    /// `B̄ = Aᵀ·G` (`k×m · m×n`).
    #[inline]
    fn dot_vjp_1(a: &Self, _b: &ShapeOf<ArrayBase<S2, Ix2>>, g: &Array2<T>) -> Array2<T> {
        dot_standard(&a.t(), g)
    }
    /// `dY = dA·B + A·dB`.
    #[inline]
    fn dot_jvp(
        a: &Self,
        b: &ArrayBase<S2, Ix2>,
        _y: &Array2<T>,
        da: &Array2<T>,
        db: &Array2<T>,
    ) -> Array2<T> {
        let mut dy = da.dot(b);
        general_mat_mul(T::ONE, a, db, T::ONE, &mut dy);
        dy
    }
}

/// Matrix·vector `y = A·x` (`m×k · k`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix1>> for ArrayBase<S1, Ix2>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array1<T>;
    type Grad0 = Array2<T>;
    type Grad1 = Array1<T>;

    /// `A·x`.
    #[inline]
    fn dot(a: &Self, x: &ArrayBase<S2, Ix1>) -> Array1<T> {
        a.dot(x)
    }
    /// `Ā = g ⊗ x = g·xᵀ` (`m×1 · 1×k`, an outer product).
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, x: &ArrayBase<S2, Ix1>, g: &Array1<T>) -> Array2<T> {
        outer(g, x)
    }
    /// `x̄ = Aᵀ·g`.
    #[inline]
    fn dot_vjp_1(a: &Self, _x: &ShapeOf<ArrayBase<S2, Ix1>>, g: &Array1<T>) -> Array1<T> {
        a.t().dot(g)
    }
    /// `dy = dA·x + A·dx`.
    #[inline]
    fn dot_jvp(
        a: &Self,
        x: &ArrayBase<S2, Ix1>,
        _y: &Array1<T>,
        da: &Array2<T>,
        dx: &Array1<T>,
    ) -> Array1<T> {
        let mut dy = da.dot(x);
        general_mat_vec_mul(T::ONE, a, dx, T::ONE, &mut dy);
        dy
    }
}

/// Vector·vector (inner product) `y = a·b = Σ aᵢbᵢ`, a scalar.
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix1>> for ArrayBase<S1, Ix1>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = T;
    type Grad0 = Array1<T>;
    type Grad1 = Array1<T>;

    /// `a·b`.
    #[inline]
    fn dot(a: &Self, b: &ArrayBase<S2, Ix1>) -> T {
        a.dot(b)
    }
    /// `ā = g·b`.
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, b: &ArrayBase<S2, Ix1>, g: &T) -> Array1<T> {
        b.mapv(|b| *g * b)
    }
    /// `b̄ = g·a`.
    #[inline]
    fn dot_vjp_1(a: &Self, _b: &ShapeOf<ArrayBase<S2, Ix1>>, g: &T) -> Array1<T> {
        a.mapv(|a| *g * a)
    }
    /// `dy = da·b + a·db`.
    #[inline]
    fn dot_jvp(a: &Self, b: &ArrayBase<S2, Ix1>, _y: &T, da: &Array1<T>, db: &Array1<T>) -> T {
        da.dot(b) + a.dot(db)
    }
}

/// Vector·matrix `y = xᵀ·B` (`k · k×n`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix2>> for ArrayBase<S1, Ix1>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array1<T>;
    type Grad0 = Array1<T>;
    type Grad1 = Array2<T>;

    /// `xᵀ·B`.
    #[inline]
    fn dot(x: &Self, b: &ArrayBase<S2, Ix2>) -> Array1<T> {
        x.dot(b)
    }
    /// `x̄ = B·g`.
    #[inline]
    fn dot_vjp_0(_x: &ShapeOf<Self>, b: &ArrayBase<S2, Ix2>, g: &Array1<T>) -> Array1<T> {
        b.dot(g)
    }
    /// `B̄ = x ⊗ g = x·gᵀ` (`k×1 · 1×n`, an outer product).
    #[inline]
    fn dot_vjp_1(x: &Self, _b: &ShapeOf<ArrayBase<S2, Ix2>>, g: &Array1<T>) -> Array2<T> {
        outer(x, g)
    }
    /// `dy = dxᵀ·B + xᵀ·dB`.
    #[inline]
    fn dot_jvp(
        x: &Self,
        b: &ArrayBase<S2, Ix2>,
        _y: &Array1<T>,
        dx: &Array1<T>,
        db: &Array2<T>,
    ) -> Array1<T> {
        let mut dy = dx.dot(b);
        general_mat_vec_mul(T::ONE, &db.t(), x, T::ONE, &mut dy);
        dy
    }
}

/// The outer product `u ⊗ v = u·vᵀ`, written row by row in standard layout: it is the gradient
/// of a row-major matrix (`A` of `A·x`), which the caller reads as the parameter's elements in
/// their order (`g.as_slice()`, an optimizer's flat view). A rank-1 product through ndarray's
/// `dot` comes back column-major.
#[inline]
fn outer<T, S1, S2>(u: &ArrayBase<S1, Ix1>, v: &ArrayBase<S2, Ix1>) -> Array2<T>
where
    T: LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let v = v.as_standard_layout();
    let v = v.as_slice().expect("standard layout is contiguous");
    let mut out = Vec::with_capacity(u.len() * v.len());
    for &ui in u {
        out.extend(v.iter().map(|&vj| ui * vj));
    }
    Array2::from_shape_vec((u.len(), v.len()), out).expect("the lengths' product")
}

/// `a·b` in standard layout: ndarray's `dot` writes the product column-major when both operands
/// are (`G·Bᵀ` with a one-column `G`), and a cotangent is the gradient of a row-major
/// parameter (see [`outer`]).
#[inline]
fn dot_standard<T, S1, S2>(a: &ArrayBase<S1, Ix2>, b: &ArrayBase<S2, Ix2>) -> Array2<T>
where
    T: LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let c = a.dot(b);
    if c.is_standard_layout() {
        c
    } else {
        c.as_standard_layout().into_owned()
    }
}
