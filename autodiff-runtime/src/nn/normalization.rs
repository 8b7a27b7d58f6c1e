//! Training-mode `batch_norm` and its rules. Its own file because its second-order rule is long
//! and works through per-column statistics (`BatchColumn`) that nothing else uses.

use ndarray::{Array1, Array2, ArrayBase, Axis, Data, Ix1, Ix2, Zip};

use super::checks::{check_cotangent, check_tangent};
use super::{NdReal, count};
use crate::differentiable::Real;

/// Batch normalization in training mode (Ioffe & Szegedy, 2015), the lecture's "adaptive
/// standardizing within layers": each column (feature) `j` of the `N×C` batch `x` is
/// standardized with the batch's own statistics, then scaled and shifted by learned `γⱼ`, `βⱼ`:
///
/// ```text
/// μⱼ  = (1/N) Σᵢ xᵢⱼ                       batch mean
/// σ²ⱼ = (1/N) Σᵢ (xᵢⱼ − μⱼ)²               biased batch variance
/// x̂ᵢⱼ = (xᵢⱼ − μⱼ) / √(σ²ⱼ + ε)
/// yᵢⱼ = γⱼ·x̂ᵢⱼ + βⱼ
/// ```
///
/// Derivatives, for a cotangent `G = ∂L/∂y` (the compact form, in which the paths through `μ`
/// and `σ²` are already summed):
///
/// ```text
/// ∂L/∂βⱼ  = Σᵢ Gᵢⱼ
/// ∂L/∂γⱼ  = Σᵢ Gᵢⱼ·x̂ᵢⱼ
/// ∂L/∂xᵢⱼ = γⱼ / (N·√(σ²ⱼ + ε)) · (N·Gᵢⱼ − ∂L/∂βⱼ − x̂ᵢⱼ·∂L/∂γⱼ)
/// ∂L/∂ε   = −½ Σⱼ γⱼ·∂L/∂γⱼ / (σ²ⱼ + ε)
/// ```
///
/// `eps` is a float parameter like the others, so it has a derivative too (the last line); it
/// must be positive for a column of equal values to standardize to `0` rather than `NaN`.
/// No running statistics are kept: for inference, standardize with stored ones by hand.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0, 10.0], [3.0, 10.0]];
/// let y = nn::batch_norm(&x, &array![2.0, 1.0], &array![0.5, 0.0], 0.0);
/// // Column 0: μ = 2, σ² = 1, x̂ = [−1, 1]; y = 2x̂ + 0.5.
/// assert_eq!(y.column(0), array![-1.5, 2.5]);
/// ```
///
/// # Panics
///
/// If `x` has no rows, or `gamma` or `beta` does not have one entry per column of `x`.
pub fn batch_norm<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> Array2<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (mu, r) = batch_statistics("batch_norm", x, gamma, beta, eps);
    Zip::from(x)
        .and_broadcast(&mu)
        .and_broadcast(&r)
        .and_broadcast(gamma)
        .and_broadcast(beta)
        .map_collect(|&x, &m, &r, &g, &b| g * ((x - m) * r) + b)
}

/// [`batch_norm`] and its pullback `G ↦ (∂L/∂x, ∂L/∂γ, ∂L/∂β, ∂L/∂ε)` by the formulas there.
/// The pullback keeps `x̂` and the per-column statistics, and computes `∂L/∂x` in `G`'s buffer.
///
/// # Panics
///
/// If `x` has no rows, or `gamma` or `beta` does not have one entry per column of `x`; the
/// pullback, if the cotangent is not shaped like `x`.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn batch_norm_vjp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> (
    Array2<T>,
    impl FnOnce(Array2<T>) -> (Array2<T>, Array1<T>, Array1<T>, T) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (mu, r) = batch_statistics("batch_norm_vjp", x, gamma, beta, eps);
    let x_hat = Zip::from(x)
        .and_broadcast(&mu)
        .and_broadcast(&r)
        .map_collect(|&x, &m, &r| (x - m) * r);
    let y = Zip::from(&x_hat)
        .and_broadcast(gamma)
        .and_broadcast(beta)
        .map_collect(|&h, &g, &b| g * h + b);
    let gamma = gamma.to_owned();
    let pullback = move |mut g: Array2<T>| {
        check_cotangent("batch_norm_vjp", g.shape(), x_hat.shape());
        let c = x_hat.ncols();
        let n = count(x_hat.nrows());
        let mut d_beta = Array1::zeros(c);
        let mut d_gamma = Array1::zeros(c);
        for (g_row, h_row) in g.rows().into_iter().zip(x_hat.rows()) {
            Zip::from(&mut d_beta)
                .and(&mut d_gamma)
                .and(&g_row)
                .and(&h_row)
                .for_each(|db, dg, &g, &h| {
                    *db += g;
                    *dg += g * h;
                });
        }
        // ∂x = a·(G − b − x̂·c) with a = γ/√(σ² + ε), b = ∂β/N, c = ∂γ/N, per column.
        let a = Zip::from(&gamma).and(&r).map_collect(|&g, &r| g * r);
        let b = d_beta.mapv(|db| db / n);
        let cc = d_gamma.mapv(|dg| dg / n);
        Zip::from(&mut g)
            .and(&x_hat)
            .and_broadcast(&a)
            .and_broadcast(&b)
            .and_broadcast(&cc)
            .for_each(|g, &h, &a, &b, &c| *g = a * ((*g - b) - h * c));
        // ∂ε = −½ Σⱼ γⱼ·∂γⱼ·rⱼ², with rⱼ = 1/√(σ²ⱼ + ε).
        let half = <T as Real>::of_f64(0.5);
        let d_eps = -half
            * Zip::from(&gamma)
                .and(&d_gamma)
                .and(&r)
                .fold(T::ZERO, |s, &g, &dg, &r| s + g * dg * (r * r));
        (g, d_gamma, d_beta, d_eps)
    };
    (y, pullback)
}

/// [`batch_norm`] and its tangent for the tangents `dx`, `dgamma`, `dbeta` and `deps` of its
/// four arguments. Column by column (index `j` left out), with `r = 1/√(σ² + ε)` and the
/// tangent of the variance `σ̇² = (2/N) Σᵢ (xᵢ − μ)·ẋᵢ = (2/(N·r)) Σᵢ x̂ᵢ·ẋᵢ`:
///
/// ```text
/// μ̇  = (1/N) Σᵢ ẋᵢ
/// ρ  = ṙ/r = −½ r²·(σ̇² + ε̇) = −r·(1/N) Σᵢ x̂ᵢ·ẋᵢ − ½ r²·ε̇
/// x̂̇ᵢ = r·(ẋᵢ − μ̇) + x̂ᵢ·ρ
/// ẏᵢ = γ̇·x̂ᵢ + γ·x̂̇ᵢ + β̇
/// ```
///
/// Two passes over the batch after the statistics (the sums `Σᵢ ẋᵢ` and `Σᵢ x̂ᵢ·ẋᵢ`, then `y` and
/// `ẏ`), with `x̂` recomputed rather than stored.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Shifting a column of x does not change y; shifting β shifts it.
/// let x = array![[1.0, 10.0], [3.0, 12.0]];
/// let (g, b) = (array![2.0, 1.0], array![0.5, 0.0]);
/// let dx = array![[1.0, 0.0], [1.0, 0.0]];
/// let (_, dy) = nn::batch_norm_jvp(&x, &g, &b, 1e-5, &dx, &array![0.0, 0.0], &array![0.0, 3.0], 0.0);
/// assert_eq!(dy, array![[0.0, 3.0], [0.0, 3.0]]);
/// ```
///
/// # Panics
///
/// As [`batch_norm`], and if a tangent is not shaped like its argument.
#[allow(clippy::too_many_arguments)] // batch_norm's four arguments and their four tangents
pub fn batch_norm_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
    dx: &Array2<T>,
    dgamma: &Array1<T>,
    dbeta: &Array1<T>,
    deps: T,
) -> (Array2<T>, Array2<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "batch_norm_jvp";
    let columns = BatchColumn::of(what, (x, gamma, beta, eps), (dx, dgamma, dbeta, deps));
    let mut y = Array2::zeros(x.raw_dim());
    let mut dy = Array2::zeros(x.raw_dim());
    Zip::from(&mut y)
        .and(&mut dy)
        .and(x)
        .and(dx)
        .and_broadcast(&columns)
        .for_each(|y, dy, &x, &dx, column| {
            let (h, h_dot) = column.standardize(x, dx);
            (*y, *dy) = column.affine(h, h_dot);
        });
    (y, dy)
}

/// [`batch_norm`], its tangent as [`batch_norm_jvp`], and the pullback
/// `(G, Ġ) ↦ ((x̄, γ̄, β̄, ε̄), (x̄̇, γ̄̇, β̄̇, ε̄̇))` of a Hessian-vector product. Column by column,
/// with `A = Σᵢ Gᵢ`, `B = Σᵢ Gᵢ·x̂ᵢ`, `a = γ·r` and `ρ`, `x̂̇` as in [`batch_norm_jvp`], the
/// gradient of [`batch_norm_vjp`] and its tangent are
///
/// ```text
/// β̄  = A                              β̄̇  = Ȧ = Σᵢ Ġᵢ
/// γ̄  = B                              γ̄̇  = Ḃ = Σᵢ (Ġᵢ·x̂ᵢ + Gᵢ·x̂̇ᵢ)
/// x̄ᵢ = a·(Gᵢ − A/N − x̂ᵢ·B/N)          x̄̇ᵢ = ȧ·(Gᵢ − A/N − x̂ᵢ·B/N)
///                                           + a·(Ġᵢ − Ȧ/N − x̂̇ᵢ·B/N − x̂ᵢ·Ḃ/N),
///                                      ȧ = γ̇·r + γ·ṙ = (γ̇ + γ·ρ)·r
/// ε̄  = −½ Σⱼ γ·B·r²                   ε̄̇  = −½ Σⱼ r²·(γ̇·B + 2γ·ρ·B + γ·Ḃ)
/// ```
///
/// (β enters `y` linearly, so it appears in no second derivative.) The pullback keeps `x̂`, `x̂̇`
/// and the per-column statistics; it sums `A`, `B`, `Ȧ`, `Ḃ` in one pass and writes `x̄` and
/// `x̄̇` into the buffers of `G` and `Ġ` in a second.
///
/// # Panics
///
/// As [`batch_norm`], and if a tangent is not shaped like its argument; the pullback, if a
/// cotangent is not shaped like `x`.
#[allow(clippy::too_many_arguments)] // batch_norm's four arguments and their four tangents
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn batch_norm_vjp_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
    dx: &Array2<T>,
    dgamma: &Array1<T>,
    dbeta: &Array1<T>,
    deps: T,
) -> (
    Array2<T>,
    Array2<T>,
    impl FnOnce(
        Array2<T>,
        Array2<T>,
    ) -> (
        (Array2<T>, Array1<T>, Array1<T>, T),
        (Array2<T>, Array1<T>, Array1<T>, T),
    ) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "batch_norm_vjp_jvp";
    let columns = BatchColumn::of(what, (x, gamma, beta, eps), (dx, dgamma, dbeta, deps));
    let mut x_hat = Array2::zeros(x.raw_dim());
    let mut x_hat_dot = Array2::zeros(x.raw_dim());
    Zip::from(&mut x_hat)
        .and(&mut x_hat_dot)
        .and(x)
        .and(dx)
        .and_broadcast(&columns)
        .for_each(|h, h_dot, &x, &dx, column| (*h, *h_dot) = column.standardize(x, dx));
    let mut y = Array2::zeros(x.raw_dim());
    let mut dy = Array2::zeros(x.raw_dim());
    Zip::from(&mut y)
        .and(&mut dy)
        .and(&x_hat)
        .and(&x_hat_dot)
        .and_broadcast(&columns)
        .for_each(|y, dy, &h, &h_dot, column| (*y, *dy) = column.affine(h, h_dot));
    let pullback = move |mut g: Array2<T>, mut g_dot: Array2<T>| {
        check_cotangent(what, g.shape(), x_hat.shape());
        check_cotangent(what, g_dot.shape(), x_hat.shape());
        let n = count(x_hat.nrows());
        // [A, B, Ȧ, Ḃ] per column, summed row after row as in batch_norm_vjp.
        let mut sums = Array1::from_elem(x_hat.ncols(), [T::ZERO; 4]);
        for (((g, g_dot), h), h_dot) in g
            .rows()
            .into_iter()
            .zip(g_dot.rows())
            .zip(x_hat.rows())
            .zip(x_hat_dot.rows())
        {
            Zip::from(&mut sums)
                .and(&g)
                .and(&g_dot)
                .and(&h)
                .and(&h_dot)
                .for_each(|[a, b, a_dot, b_dot], &g, &g_dot, &h, &h_dot| {
                    *a += g;
                    *b += g * h;
                    *a_dot += g_dot;
                    *b_dot += g_dot * h + g * h_dot;
                });
        }
        // [a, A/N, B/N, ȧ, Ȧ/N, Ḃ/N] per column.
        let coefficients =
            Zip::from(&columns)
                .and(&sums)
                .map_collect(|column, &[a, b, a_dot, b_dot]| {
                    let scale = column.gamma * column.r;
                    let scale_dot = (column.gamma_dot + column.gamma * column.rho) * column.r;
                    [scale, a / n, b / n, scale_dot, a_dot / n, b_dot / n]
                });
        Zip::from(&mut g)
            .and(&mut g_dot)
            .and(&x_hat)
            .and(&x_hat_dot)
            .and_broadcast(&coefficients)
            .for_each(|g, g_dot, &h, &h_dot, &[a, b, c, a_dot, b_dot, c_dot]| {
                let centred = (*g - b) - h * c;
                *g_dot = a_dot * centred + a * (((*g_dot - b_dot) - h_dot * c) - h * c_dot);
                *g = a * centred;
            });
        let (d_eps, d_eps_dot) = Zip::from(&columns).and(&sums).fold(
            (T::ZERO, T::ZERO),
            |(s, s_dot), column, &[_, b, _, b_dot]| {
                let (gamma, r2) = (column.gamma, column.r * column.r);
                let two = T::ONE + T::ONE;
                let change = (column.gamma_dot * b + two * gamma * column.rho * b) + gamma * b_dot;
                (s + gamma * b * r2, s_dot + r2 * change)
            },
        );
        let half = <T as Real>::of_f64(0.5);
        let pick = |k: usize| sums.mapv(|s| s[k]);
        (
            (g, pick(1), pick(0), -half * d_eps),
            (g_dot, pick(3), pick(2), -half * d_eps_dot),
        )
    };
    (y, dy, pullback)
}

/// The per-column quantities of batch normalization's forward mode: the statistics, their
/// tangents (as in [`batch_norm_jvp`]) and the parameters with their tangents.
#[derive(Clone, Copy, Debug)]
struct BatchColumn<T> {
    mu: T,
    r: T,
    mu_dot: T,
    /// `ṙ/r`.
    rho: T,
    gamma: T,
    gamma_dot: T,
    beta: T,
    beta_dot: T,
}

/// batch_norm's arguments `(x, γ, β, ε)`.
type BatchArgs<'a, S1, S2, S3, T> = (
    &'a ArrayBase<S1, Ix2>,
    &'a ArrayBase<S2, Ix1>,
    &'a ArrayBase<S3, Ix1>,
    T,
);

/// The tangents of batch_norm's arguments `(ẋ, γ̇, β̇, ε̇)`.
type BatchTangents<'a, T> = (&'a Array2<T>, &'a Array1<T>, &'a Array1<T>, T);

impl<T: NdReal> BatchColumn<T> {
    /// Every column's quantities, after checking the shapes: the statistics as in
    /// [`batch_norm`], then one pass over the batch for `Σᵢ ẋᵢ` and `Σᵢ x̂ᵢ·ẋᵢ`.
    fn of<S1, S2, S3>(
        what: &str,
        (x, gamma, beta, eps): BatchArgs<'_, S1, S2, S3, T>,
        (dx, dgamma, dbeta, deps): BatchTangents<'_, T>,
    ) -> Array1<Self>
    where
        S1: Data<Elem = T>,
        S2: Data<Elem = T>,
        S3: Data<Elem = T>,
    {
        let (mu, r) = batch_statistics(what, x, gamma, beta, eps);
        check_tangent(what, "x", dx.shape(), x.shape());
        check_tangent(what, "gamma", dgamma.shape(), gamma.shape());
        check_tangent(what, "beta", dbeta.shape(), beta.shape());
        let mut sums = Array1::from_elem(x.ncols(), (T::ZERO, T::ZERO));
        for (x, dx) in x.rows().into_iter().zip(dx.rows()) {
            Zip::from(&mut sums)
                .and(&x)
                .and(&dx)
                .and(&mu)
                .and(&r)
                .for_each(|(s, s_h), &x, &dx, &m, &r| {
                    *s += dx;
                    *s_h += ((x - m) * r) * dx;
                });
        }
        let n = count(x.nrows());
        let half = <T as Real>::of_f64(0.5);
        Array1::from_shape_fn(x.ncols(), |j| {
            let (s, s_h) = sums[j];
            let r = r[j];
            BatchColumn {
                mu: mu[j],
                r,
                mu_dot: s / n,
                rho: -(r * (s_h / n)) - half * (r * r) * deps,
                gamma: gamma[j],
                gamma_dot: dgamma[j],
                beta: beta[j],
                beta_dot: dbeta[j],
            }
        })
    }

    /// `(x̂, x̂̇)` of one element `x` with tangent `ẋ`.
    #[inline(always)]
    fn standardize(&self, x: T, dx: T) -> (T, T) {
        let h = (x - self.mu) * self.r;
        (h, self.r * (dx - self.mu_dot) + h * self.rho)
    }

    /// `(y, ẏ) = (γ·x̂ + β, γ̇·x̂ + γ·x̂̇ + β̇)`.
    #[inline(always)]
    fn affine(&self, h: T, h_dot: T) -> (T, T) {
        (
            self.gamma * h + self.beta,
            (self.gamma_dot * h + self.gamma * h_dot) + self.beta_dot,
        )
    }
}

/// The per-column mean `μ` and inverse standard deviation `r = 1/√(σ² + ε)` of `x`, after
/// checking the shapes.
fn batch_statistics<S1, S2, S3, T>(
    what: &str,
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> (Array1<T>, Array1<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (rows, cols) = x.dim();
    assert!(rows > 0, "{what}: needs a batch of at least one row, got 0");
    assert!(
        gamma.len() == cols && beta.len() == cols,
        "{what}: gamma and beta need one entry per column of x ({cols}), got {} and {}",
        gamma.len(),
        beta.len()
    );
    let n = count(rows);
    let mut mu = x.sum_axis(Axis(0));
    mu.mapv_inplace(|s| s / n);
    let mut var = Array1::<T>::zeros(cols);
    for row in x.rows() {
        Zip::from(&mut var)
            .and(&row)
            .and(&mu)
            .for_each(|v, &x, &m| *v += (x - m) * (x - m));
    }
    let r = var.mapv(|v| T::ONE / Real::sqrt(&(v / n + eps)));
    (mu, r)
}
