//! Dense Jacobians and Hessians of small functions, assembled from the forward-mode and
//! reverse-mode derivatives that `#[differentiate]` generates.
//!
//! A generated `f_jvp` gives one *directional derivative* `J·v` per call and `f_vjp` one
//! *pullback* `wᵀ·J` per call; neither gives the whole Jacobian. This module exists to turn
//! them into the matrix, by the mode that is cheaper for the function's shape, and to build
//! Hessians from `f_hvp` the same way — for Newton steps, sensitivity tables, conditioning
//! studies and tests, where `n` and `m` are small enough for an `m×n` matrix.
//!
//! # The math
//!
//! For `f: Rⁿ → Rᵐ` with Jacobian `J(x) ∈ Rᵐˣⁿ`, `Jᵢⱼ = ∂fᵢ/∂xⱼ`, and `eⱼ` the `j`-th unit
//! vector:
//!
//! ```text
//! forward mode:  column j  =  J·eⱼ   = f_jvp(x, eⱼ)          n calls
//! reverse mode:  row i     =  eᵢᵀ·J  = (Jᵀ·eᵢ)ᵀ = pullback(eᵢ)   m calls of f_vjp
//! ```
//!
//! A tangent costs a small multiple `c_F` of one evaluation of `f` and a pullback a small
//! multiple `c_R` (plus the memory of what the forward pass keeps), so forward mode costs about
//! `n·c_F·cost(f)` and reverse mode `m·c_R·cost(f)`: forward mode for tall Jacobians (few
//! inputs, `n ≤ m`), reverse mode for wide ones — one pullback gives the whole gradient of a
//! scalar function, where forward mode needs one pass per partial derivative. [`jacobian`] picks
//! by that rule ([`Mode::for_shape`]); `examples/modes.rs` of the examples package measures the
//! crossover.
//!
//! The Hessian of a scalar `f` is the Jacobian of its gradient, `H = J(∇f)`, and `f_hvp` (from
//! `#[differentiate(hessian)]`, forward mode over reverse mode) is its tangent: column `j` of `H`
//! is `H·eⱼ`, `n` Hessian-vector products ([`hessian`], [`hessian_columns`]).
//!
//! # Shapes and order
//!
//! Inputs and outputs are any [`Differentiable`] values — scalars, tuples, `Vec`s, arrays,
//! ndarray arrays, parameter structs — seen as flat vectors in leaf order ([`to_flat`](crate::to_flat),
//! [`from_flat`](crate::from_flat)): row `i` of the matrix is the `i`-th scalar of `f(x)`, column
//! `j` the `j`-th scalar of `x`. The output's scalar type must be the input's.
//!
//! Each row of reverse mode runs `f_vjp` again: a pullback is consumed by its call (`FnOnce`), so
//! the forward pass is part of the cost of every row, as it is of every forward-mode column.
//!
//! ```
//! use autodiff_runtime::jacobian;
//!
//! // f(r, θ) = (r cos θ, r sin θ, r²), with its tangent and pullback written out (the
//! // signatures `f_jvp` and `f_vjp` have):
//! //   J = [[cos θ, −r sin θ], [sin θ, r cos θ], [2r, 0]].
//! fn f_jvp(p: &(f64, f64), d: &(f64, f64)) -> ([f64; 3], [f64; 3]) {
//!     let ((r, t), (dr, dt)) = (*p, *d);
//!     (
//!         [r * t.cos(), r * t.sin(), r * r],
//!         [dr * t.cos() - r * t.sin() * dt, dr * t.sin() + r * t.cos() * dt, 2.0 * r * dr],
//!     )
//! }
//! fn f_vjp(p: &(f64, f64)) -> ([f64; 3], impl FnOnce([f64; 3]) -> (f64, f64)) {
//!     let (r, t) = *p;
//!     let y = [r * t.cos(), r * t.sin(), r * r];
//!     (y, move |w: [f64; 3]| {
//!         (
//!             w[0] * t.cos() + w[1] * t.sin() + w[2] * 2.0 * r,
//!             -w[0] * r * t.sin() + w[1] * r * t.cos(),
//!         )
//!     })
//! }
//!
//! let x = (2.0, 0.5);
//! let by_columns = jacobian::forward(f_jvp, &x);
//! let by_rows = jacobian::reverse(f_vjp, &x);
//! let picked = jacobian::jacobian(f_jvp, f_vjp, &x); // n = 2 ≤ m = 3: forward mode
//! assert_eq!(by_columns.shape(), &[3, 2]);
//! assert!((by_columns[[1, 1]] - 2.0 * 0.5f64.cos()).abs() < 1e-15);
//! assert!((&by_columns - &by_rows).iter().all(|d| d.abs() < 1e-15));
//! assert_eq!(picked, by_columns);
//! ```

use ndarray::Array2;

use crate::differentiable::{Differentiable, Real, update_scalar};

/// Which derivative builds a Jacobian: forward mode, one tangent `J·eⱼ` per column, or reverse
/// mode, one pullback `eᵢᵀ·J` per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `n` calls of `f_jvp`, one per input scalar.
    Forward,
    /// `m` calls of `f_vjp` and its pullback, one per output scalar.
    Reverse,
}

impl Mode {
    /// The mode [`jacobian`] uses for `n` input and `m` output scalars: [`Mode::Forward`] when
    /// `n ≤ m`, else [`Mode::Reverse`] — the one with fewer passes (`n` against `m`). Ties go to
    /// forward mode, whose passes are the cheaper ones (no memory of the forward pass, no
    /// backward sweep).
    ///
    /// ```
    /// use autodiff_runtime::jacobian::Mode;
    ///
    /// assert_eq!(Mode::for_shape(1, 1000), Mode::Forward); // a curve t ↦ f(t) ∈ R¹⁰⁰⁰
    /// assert_eq!(Mode::for_shape(1000, 1), Mode::Reverse); // a loss: one pullback is ∇f
    /// assert_eq!(Mode::for_shape(5, 5), Mode::Forward);
    /// ```
    pub fn for_shape(n: usize, m: usize) -> Mode {
        if n <= m { Mode::Forward } else { Mode::Reverse }
    }
}

/// The Jacobian of `f` at `x` by forward mode: column `j` is the tangent `J·eⱼ` that
/// `jvp(x, eⱼ)` returns beside the value, `n = x.num_scalars()` calls.
///
/// `jvp(x, v)` returns `(f(x), J(x)·v)`, as a generated `f_jvp` does: pass it directly for a
/// function of one owned parameter, or adapt the arguments,
/// `jacobian::forward(|x: &Vec<f64>, dx| f_jvp(x, dx), &x)` for `f(x: &[f64])`,
/// `|p: &(f64, f64), d| g_jvp(p.0, p.1, d.0, d.1)` for `g(a: f64, b: f64)`. Returns the
/// `m×n` matrix, `m` the number of scalars of `f(x)`. With `n = 0`, `jvp` is called once, along
/// the empty direction, to learn `m`.
///
/// ```
/// use autodiff_runtime::jacobian;
///
/// // f(t) = (sin t, t², eᵗ), a curve: J = (cos t, 2t, eᵗ)ᵀ, one column, one call.
/// let f_jvp = |t: &f64, dt: &f64| {
///     ((t.sin(), t * t, t.exp()), (t.cos() * dt, 2.0 * t * dt, t.exp() * dt))
/// };
/// let j = jacobian::forward(f_jvp, &0.5);
/// assert_eq!(j.shape(), &[3, 1]);
/// assert_eq!(j.column(0).to_vec(), [0.5f64.cos(), 1.0, 0.5f64.exp()]);
/// ```
///
/// # Panics
///
/// If the tangents do not all have as many scalars as the first.
pub fn forward<P, Y, F>(jvp: F, x: &P) -> Array2<P::Scalar>
where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
    F: FnMut(&P, &P) -> (Y, Y),
{
    forward_from(jvp, x, None)
}

/// [`forward`], with the tangent along `e₀` already computed (by [`jacobian`]).
fn forward_from<P, Y, F>(mut jvp: F, x: &P, first: Option<Y>) -> Array2<P::Scalar>
where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
    F: FnMut(&P, &P) -> (Y, Y),
{
    let n = x.num_scalars();
    let mut direction = x.zero_like();
    if n == 0 {
        let (y, _) = jvp(x, &direction);
        return Array2::from_elem((y.num_scalars(), 0), P::Scalar::ZERO);
    }
    let mut j: Option<Array2<P::Scalar>> = None;
    let mut first = first;
    for col in 0..n {
        let tangent = match first.take() {
            Some(t) => t,
            None => {
                update_scalar(&mut direction, x, col, |s| *s = P::Scalar::ONE);
                let (_, t) = jvp(x, &direction);
                update_scalar(&mut direction, x, col, |s| *s = P::Scalar::ZERO);
                t
            }
        };
        let j =
            j.get_or_insert_with(|| Array2::from_elem((tangent.num_scalars(), n), P::Scalar::ZERO));
        put(j.column_mut(col), &tangent, "tangent", col);
    }
    j.unwrap_or_else(|| unreachable!("n > 0 columns were written"))
}

/// The Jacobian of `f` at `x` by reverse mode: row `i` is the pullback of the unit cotangent
/// `eᵢ`, `(Jᵀ·eᵢ)ᵀ`; `m` calls of `vjp`, `m` the number of scalars of `f(x)`.
///
/// `vjp(x)` returns `(f(x), pullback)`, as a generated `f_vjp` does: pass it directly for a
/// function of one owned parameter, or adapt the arguments,
/// `jacobian::reverse(|x: &Vec<f64>| f_vjp(x), &x)` for `f(x: &[f64])`. The pullback maps a
/// cotangent shaped like `f(x)` to a gradient shaped like `x`, and may borrow `x` (as the
/// pullback of a function of references does). Each row calls `vjp` anew, since a pullback is
/// consumed by its call; with `m = 0`, `vjp` is called once to learn `m`.
///
/// ```
/// use autodiff_runtime::jacobian;
///
/// // f(x) = x₀·x₁·x₂, a scalar: one pullback gives the whole row ∇f = (x₁x₂, x₀x₂, x₀x₁).
/// let f_vjp = |x: &[f64; 3]| {
///     let x = *x;
///     (x[0] * x[1] * x[2], move |w: f64| [w * x[1] * x[2], w * x[0] * x[2], w * x[0] * x[1]])
/// };
/// let j = jacobian::reverse(f_vjp, &[1.0, 2.0, 3.0]);
/// assert_eq!(j.shape(), &[1, 3]);
/// assert_eq!(j.row(0).to_vec(), [6.0, 3.0, 2.0]);
/// ```
///
/// # Panics
///
/// If a pullback returns a gradient without `x.num_scalars()` scalars, or the values of `f` at
/// the repeated calls differ in size.
pub fn reverse<'x, P, Y, B, F>(mut vjp: F, x: &'x P) -> Array2<P::Scalar>
where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
    B: FnOnce(Y) -> P,
    F: FnMut(&'x P) -> (Y, B),
{
    let n = x.num_scalars();
    let (y, pullback) = vjp(x);
    let m = y.num_scalars();
    let mut j = Array2::from_elem((m, n), P::Scalar::ZERO);
    let zero = y.zero_like();
    let mut cotangent = y.zero_like();
    let mut first = Some(pullback);
    for row in 0..m {
        let pullback = match first.take() {
            Some(p) => p,
            None => {
                let (y, p) = vjp(x);
                assert!(
                    y.num_scalars() == m,
                    "jacobian::reverse: f(x) had {m} scalars, then {}",
                    y.num_scalars()
                );
                p
            }
        };
        update_scalar(&mut cotangent, &zero, row, |s| *s = P::Scalar::ONE);
        let gradient = pullback(cotangent.clone());
        update_scalar(&mut cotangent, &zero, row, |s| *s = P::Scalar::ZERO);
        put(j.row_mut(row), &gradient, "gradient", row);
    }
    j
}

/// The Jacobian of `f` at `x` by the cheaper mode for its shape ([`Mode::for_shape`]): forward
/// mode ([`forward`]) when `n ≤ m`, reverse mode ([`reverse`]) otherwise, with `n` the number of
/// scalars of `x` and `m` that of `f(x)`.
///
/// `jvp` and `vjp` are as for [`forward`] and [`reverse`]: `f_jvp` and `f_vjp` of one function.
/// The first tangent, along `e₀`, tells `m`; it is the first column when forward mode is
/// picked and the only extra work when reverse mode is. The two modes give the same matrix up
/// to rounding.
///
/// ```
/// use autodiff_runtime::jacobian;
///
/// // f(x) = (x₀ + x₁)² on R²: a scalar, so one pullback (reverse mode) gives J = 2(x₀ + x₁)·(1, 1).
/// let jvp = |x: &[f64; 2], d: &[f64; 2]| {
///     let s = x[0] + x[1];
///     (s * s, 2.0 * s * (d[0] + d[1]))
/// };
/// let vjp = |x: &[f64; 2]| {
///     let s = x[0] + x[1];
///     (s * s, move |w: f64| [2.0 * s * w, 2.0 * s * w])
/// };
/// let j = jacobian::jacobian(jvp, vjp, &[1.0, 0.5]);
/// assert_eq!(j.row(0).to_vec(), [3.0, 3.0]);
/// ```
///
/// # Panics
///
/// As [`forward`] and [`reverse`].
pub fn jacobian<'x, P, Y, B, FJ, FV>(mut jvp: FJ, vjp: FV, x: &'x P) -> Array2<P::Scalar>
where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
    B: FnOnce(Y) -> P,
    FJ: FnMut(&P, &P) -> (Y, Y),
    FV: FnMut(&'x P) -> (Y, B),
{
    let n = x.num_scalars();
    if n == 0 {
        return forward(jvp, x);
    }
    let mut e0 = x.zero_like();
    update_scalar(&mut e0, x, 0, |s| *s = P::Scalar::ONE);
    let (y, first) = jvp(x, &e0);
    match Mode::for_shape(n, y.num_scalars()) {
        Mode::Forward => forward_from(jvp, x, Some(first)),
        Mode::Reverse => reverse(vjp, x),
    }
}

/// The Hessian of a scalar `f` at `x` from `n` Hessian-vector products, column `j` being
/// `H·eⱼ`, *as computed*: the forward-mode Jacobian ([`forward`]) of the gradient.
///
/// `hvp(x, v)` returns `(f(x), ∇f(x), H(x)·v)`, as a generated `f_hvp` does
/// (`#[differentiate(hessian)]`). Where `f` is twice continuously differentiable `H` is
/// symmetric, and these columns are symmetric up to rounding: entry `(i, j)` is a derivative
/// along `eⱼ` and entry `(j, i)` one along `eᵢ`, computed by different sequences of
/// operations. Their asymmetry is a check of the second-order rules
/// ([`hessian_symmetry`](crate::check::hessian_symmetry) is its two-vector form);
/// [`hessian`] returns the symmetric part.
///
/// # Panics
///
/// If a product does not have `x.num_scalars()` scalars.
pub fn hessian_columns<P, F>(mut hvp: F, x: &P) -> Array2<P::Scalar>
where
    P: Differentiable,
    F: FnMut(&P, &P) -> (P::Scalar, P, P),
{
    forward(
        |x: &P, v: &P| {
            let (_, gradient, hv) = hvp(x, v);
            (gradient, hv)
        },
        x,
    )
}

/// The Hessian of a scalar `f` at `x` from `n` Hessian-vector products, symmetrised:
/// `(Ĥ + Ĥᵀ)/2`, where `Ĥ` is [`hessian_columns`] (column `j` is `H·eⱼ` from `hvp(x, eⱼ)`).
///
/// Symmetrised because the exact Hessian of a twice continuously differentiable function is
/// symmetric and the computed columns differ from the rows only by rounding; `(Ĥ + Ĥᵀ)/2` is
/// the symmetric matrix nearest to `Ĥ` (in the Frobenius norm), it has real eigenvalues and a
/// Cholesky factor when positive definite, which is what Newton steps and curvature studies
/// need, and it leaves the quadratic model `½·vᵀĤv` unchanged (a quadratic form sees only the
/// symmetric part). At kinks (`relu`, `max`, `abs`), where `H` need not exist, it is the
/// symmetric part of what the rules' conventions give. Use [`hessian_columns`] to see the
/// products as computed.
///
/// ```
/// use autodiff_runtime::jacobian;
///
/// // f(x) = x₀²·x₁ + eˣ¹: ∇f = (2x₀x₁, x₀² + eˣ¹), H = [[2x₁, 2x₀], [2x₀, eˣ¹]].
/// let f_hvp = |x: &[f64; 2], v: &[f64; 2]| {
///     let [a, b] = *x;
///     (
///         a * a * b + b.exp(),
///         [2.0 * a * b, a * a + b.exp()],
///         [2.0 * b * v[0] + 2.0 * a * v[1], 2.0 * a * v[0] + b.exp() * v[1]],
///     )
/// };
/// let h = jacobian::hessian(f_hvp, &[1.5, 0.0]);
/// assert_eq!(h, ndarray::array![[0.0, 3.0], [3.0, 1.0]]);
/// ```
///
/// # Panics
///
/// As [`hessian_columns`].
pub fn hessian<P, F>(hvp: F, x: &P) -> Array2<P::Scalar>
where
    P: Differentiable,
    F: FnMut(&P, &P) -> (P::Scalar, P, P),
{
    let mut h = hessian_columns(hvp, x);
    let half = P::Scalar::of_f64(0.5);
    let n = h.nrows();
    for i in 0..n {
        for j in i + 1..n {
            let s = (h[[i, j]] + h[[j, i]]) * half;
            h[[i, j]] = s;
            h[[j, i]] = s;
        }
    }
    h
}

/// Writes the scalars of `value`, in leaf order, into `line` (column or row `index` of a
/// Jacobian, named `what` in the message).
fn put<Y: Differentiable>(
    mut line: ndarray::ArrayViewMut1<'_, Y::Scalar>,
    value: &Y,
    what: &str,
    index: usize,
) {
    assert!(
        value.num_scalars() == line.len(),
        "jacobian: {what} {index} has {} scalars, expected {}",
        value.num_scalars(),
        line.len()
    );
    let mut k = 0;
    value.visit_leaves(&mut |leaf| {
        for &s in leaf {
            line[k] = s;
            k += 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use ndarray::{Array1, array};

    use super::*;
    use crate::check::random_direction;

    /// f(A, s) = (s·A·a, ‖A‖²) for a fixed vector a, with A 2×3: a Jacobian over a tuple of an
    /// array and a scalar, into a tuple of an array and a scalar.
    ///   ∂(s·A·a)ᵢ/∂A_kl = s·δᵢₖ·a_l, ∂(s·A·a)/∂s = A·a, ∂‖A‖²/∂A = 2A, ∂‖A‖²/∂s = 0.
    type In = (Array2<f64>, f64);
    type Out = (Array1<f64>, f64);
    fn a() -> Array1<f64> {
        array![0.5, -1.0, 2.0]
    }
    fn jvp(x: &In, d: &In) -> (Out, Out) {
        let ((m, s), (dm, ds)) = (x, d);
        let y = (m.dot(&a()) * *s, m.iter().map(|v| v * v).sum());
        let t = (dm.dot(&a()) * *s + m.dot(&a()) * *ds, 2.0 * (m * dm).sum());
        (y, t)
    }
    fn vjp(x: &In) -> (Out, impl FnOnce(Out) -> In) {
        let (m, s) = x.clone();
        let y = (m.dot(&a()) * s, m.iter().map(|v| v * v).sum());
        (y, move |(w, w2): Out| {
            let outer = w
                .clone()
                .insert_axis(ndarray::Axis(1))
                .dot(&a().insert_axis(ndarray::Axis(0)));
            (outer * s + &m * (2.0 * w2), w.dot(&m.dot(&a())))
        })
    }
    fn analytic(x: &In) -> Array2<f64> {
        let (m, s) = x;
        let mut j = Array2::zeros((3, 7));
        for i in 0..2 {
            for l in 0..3 {
                j[[i, i * 3 + l]] = s * a()[l];
                j[[2, i * 3 + l]] = 2.0 * m[[i, l]];
            }
            j[[i, 6]] = m.row(i).dot(&a());
        }
        j
    }

    #[test]
    fn both_modes_give_the_analytic_jacobian_in_leaf_order() {
        let x: In = (random_direction(&Array2::zeros((2, 3)), 4), 1.7);
        let expected = analytic(&x);
        let f = forward(jvp, &x);
        let r = reverse(vjp, &x);
        assert_eq!(f.shape(), &[3, 7]);
        for ((a, b), e) in f.iter().zip(&r).zip(&expected) {
            assert!(
                (a - e).abs() < 1e-14 && (b - e).abs() < 1e-14,
                "{f}\n{r}\n{expected}"
            );
        }
    }

    #[test]
    fn the_picker_calls_the_cheaper_mode() {
        let x: In = (random_direction(&Array2::zeros((2, 3)), 5), -0.3);
        // n = 7 > m = 3: one tangent to learn m, then three pullbacks.
        let (jvps, vjps) = (Cell::new(0), Cell::new(0));
        let j = jacobian(
            |x: &In, d: &In| {
                jvps.set(jvps.get() + 1);
                jvp(x, d)
            },
            |x: &In| {
                vjps.set(vjps.get() + 1);
                vjp(x)
            },
            &x,
        );
        assert_eq!((jvps.get(), vjps.get()), (1, 3));
        assert_eq!(j, reverse(vjp, &x));
        assert_eq!(Mode::for_shape(7, 3), Mode::Reverse);
    }

    #[test]
    fn empty_inputs_and_outputs() {
        // n = 0: one call along the empty direction gives m.
        let j = forward(
            |x: &Vec<f64>, _: &Vec<f64>| ([x.len() as f64; 2], [0.0; 2]),
            &vec![],
        );
        assert_eq!(j.shape(), &[2, 0]);
        // m = 0: one call gives the value, no pullback is called.
        let j = reverse(
            |_: &Vec<f64>| {
                (Vec::<f64>::new(), |_: Vec<f64>| -> Vec<f64> {
                    unreachable!()
                })
            },
            &vec![1.0, 2.0],
        );
        assert_eq!(j.shape(), &[0, 2]);
    }

    #[test]
    #[should_panic(expected = "jacobian: tangent 1 has 2 scalars, expected 1")]
    fn tangents_of_changing_size_panic() {
        forward(
            |x: &Vec<f64>, d: &Vec<f64>| {
                let k = if d[0] == 1.0 { 1 } else { 2 };
                (vec![x[0]; k], vec![d[0]; k])
            },
            &vec![1.0, 2.0],
        );
    }

    #[test]
    fn hessian_is_the_symmetric_part_of_the_columns() {
        // A deliberately non-symmetric "product" B·v: hessian_columns returns B, hessian (B+Bᵀ)/2.
        let b = array![[1.0, 2.0], [4.0, 3.0]];
        let hvp = |x: &[f64; 2], v: &[f64; 2]| {
            let bv = b.dot(&array![v[0], v[1]]);
            (0.0, *x, [bv[0], bv[1]])
        };
        assert_eq!(hessian_columns(hvp, &[0.0, 0.0]), b);
        assert_eq!(hessian(hvp, &[0.0, 0.0]), array![[1.0, 3.0], [3.0, 3.0]]);
    }

    #[test]
    fn single_precision() {
        // f(x) = (x₀x₁, x₀ + x₁) in f32: J = [[x₁, x₀], [1, 1]].
        let jvp = |x: &[f32; 2], d: &[f32; 2]| {
            (
                [x[0] * x[1], x[0] + x[1]],
                [d[0] * x[1] + x[0] * d[1], d[0] + d[1]],
            )
        };
        assert_eq!(
            forward(jvp, &[2.0f32, 3.0]),
            array![[3.0f32, 2.0], [1.0, 1.0]]
        );
    }
}
