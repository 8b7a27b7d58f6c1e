//! Max and average pooling over the spatial axes of `N×C×H×W` tensors, each channel of each
//! image on its own, with square `size×size` windows every `stride` pixels and no padding.

use ndarray::{Array4, ArrayBase, Data, Ix4};

use super::{check_cotangent, check_tangent, dims4, standard};
use crate::nn::NdReal;

mod along;
pub use along::max_pool2d_vjp_along;

/// The shapes of a pooling, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pooling {
    /// Input shape `[N, C, H, W]`.
    x: [usize; 4],
    size: usize,
    stride: usize,
    /// Output height and width, `⌊(H − size)/stride⌋ + 1` and the same for the width.
    ho: usize,
    wo: usize,
}

impl Pooling {
    #[track_caller]
    fn new(what: &str, x: [usize; 4], size: usize, stride: usize) -> Self {
        let [_, _, h, w] = x;
        assert!(
            size >= 1,
            "{what}: the window size must be at least 1, got 0 (x {x:?})"
        );
        assert!(
            stride >= 1,
            "{what}: stride must be at least 1, got 0 (x {x:?})"
        );
        assert!(
            size <= h && size <= w,
            "{what}: the {size}×{size} window is larger than the {h}×{w} input (x {x:?} is N×C×H×W)"
        );
        Pooling {
            x,
            size,
            stride,
            ho: (h - size) / stride + 1,
            wo: (w - size) / stride + 1,
        }
    }

    fn output_shape(&self) -> [usize; 4] {
        [self.x[0], self.x[1], self.ho, self.wo]
    }

    /// Calls `f(o, base)` for every output pixel `o` (row-major in `Ho×Wo`) of one `H×W` plane,
    /// `base` being the plane offset of its window's top-left element.
    #[inline]
    fn windows(&self, mut f: impl FnMut(usize, usize)) {
        let (w, s) = (self.x[3], self.stride);
        for oy in 0..self.ho {
            for ox in 0..self.wo {
                f(oy * self.wo + ox, oy * s * w + ox * s);
            }
        }
    }

    /// The plane ranges of the `size` row segments of the window at `base`.
    #[inline]
    fn rows(&self, base: usize) -> impl Iterator<Item = core::ops::Range<usize>> + use<> {
        let (w, size) = (self.x[3], self.size);
        (0..size).map(move |i| {
            let start = base + i * w;
            start..start + size
        })
    }
}

/// The maximum of `a` and `b`, NaN if either is NaN.
#[inline(always)]
fn max_nan<T: NdReal>(m: T, v: T) -> T {
    if (v > m) | v.is_nan() { v } else { m }
}

/// Whether `v` is the value `m` a window's maximum selected (NaN selects the NaNs).
#[inline(always)]
fn selected<T: NdReal>(v: T, m: T) -> bool {
    (v == m) | (v.is_nan() & m.is_nan())
}

/// Max pooling: each `size×size` window of each channel, taken every `stride` pixels, is replaced
/// by its maximum. The input `x` is `N×C×H×W`; the output `N×C×Ho×Wo` with
/// `Ho = ⌊(H − size)/stride⌋ + 1` (the same for `Wo`). NaN propagates: a window holding a NaN
/// gives NaN.
///
/// Derivative: `∂y/∂x` is `1` at a window's maximum and `0` elsewhere. Where several elements of
/// a window tie for the maximum, the cotangent is split equally among them: the minimum-norm
/// element of the Clarke gradient, the runtime's convention at kinks (see [`crate::rules`],
/// "Nonsmooth points"), as for `max` with tied arguments. Overlapping windows (`stride < size`)
/// add their contributions.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::Array4;
///
/// let x = Array4::from_shape_vec((1, 1, 2, 4), vec![1.0, 5.0, 2.0, 2.0, 3.0, 4.0, 0.0, 2.0])
///     .unwrap();
/// let (y, pullback) = conv::max_pool2d_vjp(&x, 2, 2);
/// assert_eq!(y.into_raw_vec_and_offset().0, vec![5.0, 2.0]);
/// // The second window has three tied maxima: each gets a third.
/// let dx = pullback(Array4::from_elem((1, 1, 1, 2), 3.0));
/// assert_eq!(dx.into_raw_vec_and_offset().0, vec![0.0, 3.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
/// ```
///
/// # Panics
///
/// If `size` or `stride` is 0, or the window is larger than the input.
pub fn max_pool2d<S, T>(x: &ArrayBase<S, Ix4>, size: usize, stride: usize) -> Array4<T>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let p = Pooling::new("max_pool2d", dims4(x), size, stride);
    let xs = standard(x);
    max_forward(&p, xs.as_slice().expect("standard layout"))
}

/// [`max_pool2d`] and its pullback, which sends each output's cotangent to the maxima of its
/// window (split equally among ties). The pullback keeps the input positions of those maxima
/// (one per output, more for ties), found in the forward pass, and not `x`.
///
/// # Panics
///
/// As [`max_pool2d`]; the pullback, if the cotangent is not shaped like the value.
pub fn max_pool2d_vjp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
) -> (Array4<T>, impl FnOnce(Array4<T>) -> Array4<T> + use<S, T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let p = Pooling::new("max_pool2d_vjp", dims4(x), size, stride);
    let (y, selection) = max_with_selection(&p, x);
    let pullback = move |g: Array4<T>| selection.pullback("max_pool2d_vjp", &p, g);
    (y, pullback)
}

/// [`max_pool2d`] and its tangent for the tangent `dx` of `x`: each output's tangent is the
/// tangent of its window's maximum, and where several elements tie for the maximum, the mean of
/// their tangents. That is the transpose of [`max_pool2d_vjp`]'s equal split among ties (the same
/// element of the Clarke gradient), so the two agree at ties too; it is not the directional
/// derivative, which at a tie is the largest of the tied tangents.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::Array4;
///
/// let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 3.0, 3.0, 0.0]).unwrap();
/// let dx = Array4::from_shape_vec((1, 1, 2, 2), vec![5.0, 1.0, 2.0, 7.0]).unwrap();
/// let (y, dy) = conv::max_pool2d_jvp(&x, 2, 2, &dx);
/// // Two maxima tie: the mean of their tangents, (1 + 2)/2.
/// assert_eq!((y[[0, 0, 0, 0]], dy[[0, 0, 0, 0]]), (3.0, 1.5));
/// ```
///
/// # Panics
///
/// As [`max_pool2d`], and if `dx` is not shaped like `x`.
pub fn max_pool2d_jvp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
    dx: &Array4<T>,
) -> (Array4<T>, Array4<T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "max_pool2d_jvp";
    let p = Pooling::new(what, dims4(x), size, stride);
    check_tangent(what, "x", dx.shape(), x.shape());
    let (y, selection) = max_with_selection(&p, x);
    let dy = selection.tangent(&p, dx);
    (y, dy)
}

/// [`max_pool2d`], its tangent as [`max_pool2d_jvp`], and the pullback `(g, ġ) ↦ (∂x, ∂ẋ)` of a
/// Hessian-vector product. Max pooling is piecewise linear and the selection of the maxima is
/// locally constant, so its second derivative is `0` and `∂ẋ` is `ġ` sent back like `g`: to the
/// maxima of each window, split equally among ties, as in [`max_pool2d_vjp`]. The pullback keeps
/// the positions of the maxima.
///
/// # Panics
///
/// As [`max_pool2d_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn max_pool2d_vjp_jvp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
    dx: &Array4<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(Array4<T>, Array4<T>) -> (Array4<T>, Array4<T>) + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "max_pool2d_vjp_jvp";
    let p = Pooling::new(what, dims4(x), size, stride);
    check_tangent(what, "x", dx.shape(), x.shape());
    let (y, selection) = max_with_selection(&p, x);
    let dy = selection.tangent(&p, dx);
    let pullback = move |g, g_dot| {
        let g = selection.pullback(what, &p, g);
        (g, selection.pullback(what, &p, g_dot))
    };
    (y, dy, pullback)
}

/// The elements each window of a max pooling selects: output `o` (row-major over the whole
/// `N×C×Ho×Wo` output) selected the flat input position `first[o]`, the position of its maximum
/// `y[o]`, and where several elements of its window equal that maximum (a tie), all of them:
/// `ties` lists those outputs in increasing order, each with the range of `tied` that holds its
/// positions. One index per output, and nothing more unless values tie.
struct Selection {
    first: Vec<usize>,
    ties: Vec<(usize, core::ops::Range<usize>)>,
    tied: Vec<usize>,
}

impl Selection {
    /// Calls `f(o, positions)` for every output `o` with the positions it selected (one, unless
    /// values tie), in output order.
    #[inline]
    fn for_each(&self, mut f: impl FnMut(usize, &[usize])) {
        let mut ties = self.ties.iter().peekable();
        for (o, i) in self.first.iter().enumerate() {
            match ties.next_if(|(t, _)| *t == o) {
                Some((_, range)) => f(o, &self.tied[range.clone()]),
                None => f(o, core::slice::from_ref(i)),
            }
        }
    }

    /// The cotangent `g` sent back to the chosen positions, split equally among ties.
    #[track_caller]
    fn pullback<T: NdReal>(&self, what: &str, p: &Pooling, g: Array4<T>) -> Array4<T> {
        check_cotangent(what, g.shape(), &p.output_shape());
        let gs = standard(&g);
        let gy = gs.as_slice().expect("standard layout");
        let mut dx = vec![T::ZERO; p.x.iter().product()];
        self.for_each(|o, chosen| match *chosen {
            [i] => dx[i] += gy[o],
            _ => {
                let share = gy[o] / T::of_f64(chosen.len() as f64);
                for &i in chosen {
                    dx[i] += share;
                }
            }
        });
        Array4::from_shape_vec(p.x, dx).expect("input shape")
    }

    /// The tangent of the value for the tangent `dx` of the input: at each output, the mean of
    /// the tangents at the chosen positions (the transpose of [`Selection::pullback`]).
    fn tangent<T: NdReal>(&self, p: &Pooling, dx: &Array4<T>) -> Array4<T> {
        let dxs = standard(dx);
        let dx = dxs.as_slice().expect("standard layout");
        let mut dy = vec![T::ZERO; self.first.len()];
        self.for_each(|o, chosen| {
            let sum = chosen.iter().fold(T::ZERO, |s, &i| s + dx[i]);
            dy[o] = match chosen.len() {
                1 => sum,
                ties => sum / T::of_f64(ties as f64),
            };
        });
        Array4::from_shape_vec(p.output_shape(), dy).expect("output shape")
    }
}

/// Max pooling's value and the positions of the maxima it selected ([`max_selection`]).
fn max_with_selection<S, T>(p: &Pooling, x: &ArrayBase<S, Ix4>) -> (Array4<T>, Selection)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let xs = standard(x);
    let x = xs.as_slice().expect("standard layout");
    let (y, selection) = max_selection(p, x);
    (
        Array4::from_shape_vec(p.output_shape(), y).expect("output shape"),
        selection,
    )
}

/// The value of a max pooling of `x` (row-major) and its [`Selection`], window by window while
/// the window is in cache: its maximum by [`max_forward`]'s fold (so the same bits), then, without
/// branches (which element wins is as good as random, a branch on it mispredicted every other
/// time), how many elements equal it and the position of one; only a window with a tie is read
/// once more, for the positions of all of them.
fn max_selection<T: NdReal>(p: &Pooling, x: &[T]) -> (Vec<T>, Selection) {
    // The common windows get loops of a known length, which the compiler unrolls.
    match p.size {
        2 => max_selection_of::<T, 2>(p, x),
        3 => max_selection_of::<T, 3>(p, x),
        _ => max_selection_of::<T, 0>(p, x),
    }
}

/// [`max_selection`] for windows of `K×K` (`K = 0`: of `p.size`).
#[inline(always)]
fn max_selection_of<T: NdReal, const K: usize>(p: &Pooling, x: &[T]) -> (Vec<T>, Selection) {
    let (w, s) = (p.x[3], p.stride);
    let size = if K == 0 { p.size } else { K };
    let (in_plane, out_plane) = (p.x[2] * w, p.ho * p.wo);
    let outputs = p.x[0] * p.x[1] * out_plane;
    let mut y = vec![T::ZERO; outputs];
    let mut first = vec![0; outputs];
    let (mut ties, mut tied) = (Vec::new(), Vec::new());
    let mut o = 0;
    for (plane, xp) in x.chunks_exact(in_plane).enumerate() {
        let offset = plane * in_plane;
        for oy in 0..p.ho {
            for ox in 0..p.wo {
                let base = oy * s * w + ox * s;
                let m = (0..size).fold(T::neg_infinity(), |m, i| {
                    let row = &xp[base + i * w..][..size];
                    row.iter().fold(m, |m, &v| max_nan(m, v))
                });
                // A NaN maximum selects the NaNs; any other selects the elements equal to it.
                let nan = m.is_nan();
                let (mut at, mut count) = (base, 0u32);
                for i in 0..size {
                    let start = base + i * w;
                    for (t, &v) in xp[start..][..size].iter().enumerate() {
                        let hit = if nan { v.is_nan() } else { v == m };
                        count += u32::from(hit);
                        at = if hit { start + t } else { at };
                    }
                }
                if count > 1 {
                    let start = tied.len();
                    for r in p.rows(base) {
                        let positions = r.clone().map(|t| offset + t);
                        tied.extend(
                            positions
                                .zip(&xp[r])
                                .filter(|&(_, &v)| selected(v, m))
                                .map(|(t, _)| t),
                        );
                    }
                    ties.push((o, start..tied.len()));
                }
                y[o] = m;
                first[o] = offset + at;
                o += 1;
            }
        }
    }
    (y, Selection { first, ties, tied })
}

fn max_forward<T: NdReal>(p: &Pooling, x: &[T]) -> Array4<T> {
    match p.size {
        2 => max_forward_of::<T, 2>(p, x),
        3 => max_forward_of::<T, 3>(p, x),
        _ => max_forward_of::<T, 0>(p, x),
    }
}

/// [`max_forward`] for windows of `K×K` (`K = 0`: of `p.size`), as [`max_selection_of`].
#[inline(always)]
fn max_forward_of<T: NdReal, const K: usize>(p: &Pooling, x: &[T]) -> Array4<T> {
    let size = if K == 0 { p.size } else { K };
    let (in_plane, out_plane) = (p.x[2] * p.x[3], p.ho * p.wo);
    let mut y = vec![T::ZERO; p.x[0] * p.x[1] * out_plane];
    for (xp, yp) in x.chunks_exact(in_plane).zip(y.chunks_exact_mut(out_plane)) {
        p.windows(|o, base| {
            yp[o] = (0..size).fold(T::neg_infinity(), |m, i| {
                let start = base + i * p.x[3];
                xp[start..start + size]
                    .iter()
                    .fold(m, |m, &v| max_nan(m, v))
            });
        });
    }
    Array4::from_shape_vec(p.output_shape(), y).expect("output shape")
}

/// Average pooling: each `size×size` window of each channel, taken every `stride` pixels, is
/// replaced by its mean. Shapes as for [`max_pool2d`].
///
/// Derivative: `∂yₒ/∂xᵢ = 1/size²` for every `xᵢ` in the window of output `o`; overlapping
/// windows (`stride < size`) add their contributions.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::Array4;
///
/// let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 6.0]).unwrap();
/// let (y, pullback) = conv::avg_pool2d_vjp(&x, 2, 2);
/// assert_eq!(y[[0, 0, 0, 0]], 3.0);
/// assert_eq!(pullback(Array4::from_elem((1, 1, 1, 1), 2.0)), Array4::from_elem((1, 1, 2, 2), 0.5));
/// ```
///
/// # Panics
///
/// If `size` or `stride` is 0, or the window is larger than the input.
pub fn avg_pool2d<S, T>(x: &ArrayBase<S, Ix4>, size: usize, stride: usize) -> Array4<T>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let p = Pooling::new("avg_pool2d", dims4(x), size, stride);
    avg_forward(&p, standard(x).as_slice().expect("standard layout"))
}

/// [`avg_pool2d`] and its pullback, which spreads each output's cotangent evenly over its
/// window. The pullback keeps only the shapes.
///
/// # Panics
///
/// As [`avg_pool2d`]; the pullback, if the cotangent is not shaped like the value.
pub fn avg_pool2d_vjp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
) -> (Array4<T>, impl FnOnce(Array4<T>) -> Array4<T> + use<S, T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let p = Pooling::new("avg_pool2d_vjp", dims4(x), size, stride);
    let y = avg_forward(&p, standard(x).as_slice().expect("standard layout"));
    (y, move |g| avg_backward("avg_pool2d_vjp", &p, g))
}

/// [`avg_pool2d`] and its tangent, `avg_pool2d(dx, size, stride)`: average pooling is linear, so
/// it is its own forward rule.
///
/// # Panics
///
/// As [`avg_pool2d`], and if `dx` is not shaped like `x`.
pub fn avg_pool2d_jvp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
    dx: &Array4<T>,
) -> (Array4<T>, Array4<T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "avg_pool2d_jvp";
    let p = Pooling::new(what, dims4(x), size, stride);
    check_tangent(what, "x", dx.shape(), x.shape());
    (
        avg_forward(&p, standard(x).as_slice().expect("standard layout")),
        avg_forward(&p, standard(dx).as_slice().expect("standard layout")),
    )
}

/// [`avg_pool2d`], its tangent as [`avg_pool2d_jvp`], and the pullback `(g, ġ) ↦ (∂x, ∂ẋ)` of a
/// Hessian-vector product: average pooling is linear, so its gradient does not depend on `x` and
/// `∂ẋ` is `ġ` spread over the windows as `∂x` is `g`. The pullback keeps only the shapes.
///
/// # Panics
///
/// As [`avg_pool2d_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn avg_pool2d_vjp_jvp<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
    dx: &Array4<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(Array4<T>, Array4<T>) -> (Array4<T>, Array4<T>) + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "avg_pool2d_vjp_jvp";
    let p = Pooling::new(what, dims4(x), size, stride);
    let (y, dy) = avg_pool2d_jvp(x, size, stride, dx);
    let pullback = move |g, g_dot| {
        let g = avg_backward(what, &p, g);
        (g, avg_backward(what, &p, g_dot))
    };
    (y, dy, pullback)
}

/// The gradient of average pooling: each output's cotangent spread evenly over its window,
/// after checking the cotangent's shape.
#[track_caller]
fn avg_backward<T: NdReal>(what: &str, p: &Pooling, g: Array4<T>) -> Array4<T> {
    check_cotangent(what, g.shape(), &p.output_shape());
    let gs = standard(&g);
    let gy = gs.as_slice().expect("standard layout");
    let (in_plane, out_plane) = (p.x[2] * p.x[3], p.ho * p.wo);
    let scale = T::ONE / T::of_f64((p.size * p.size) as f64);
    let mut dx = vec![T::ZERO; p.x.iter().product()];
    for (dp, gp) in dx
        .chunks_exact_mut(in_plane)
        .zip(gy.chunks_exact(out_plane))
    {
        p.windows(|o, base| {
            let share = gp[o] * scale;
            for r in p.rows(base) {
                for d in &mut dp[r] {
                    *d += share;
                }
            }
        });
    }
    Array4::from_shape_vec(p.x, dx).expect("input shape")
}

fn avg_forward<T: NdReal>(p: &Pooling, x: &[T]) -> Array4<T> {
    let (in_plane, out_plane) = (p.x[2] * p.x[3], p.ho * p.wo);
    let scale = T::ONE / T::of_f64((p.size * p.size) as f64);
    let mut y = vec![T::ZERO; p.x[0] * p.x[1] * out_plane];
    for (xp, yp) in x.chunks_exact(in_plane).zip(y.chunks_exact_mut(out_plane)) {
        p.windows(|o, base| {
            let sum = p
                .rows(base)
                .fold(T::ZERO, |s, r| xp[r].iter().fold(s, |s, &v| s + v));
            yp[o] = sum * scale;
        });
    }
    Array4::from_shape_vec(p.output_shape(), y).expect("output shape")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selection as first formulated: the value by [`max_forward`], then every window read
    /// again for all positions equal to its maximum, as compressed rows (`chosen[starts[o]..
    /// starts[o + 1]]` for output `o`).
    fn reference(p: &Pooling, x: &[f64]) -> (Vec<f64>, Vec<usize>, Vec<usize>) {
        let y = max_forward(p, x).into_raw_vec_and_offset().0;
        let (in_plane, out_plane) = (p.x[2] * p.x[3], p.ho * p.wo);
        let (mut starts, mut chosen) = (vec![0], Vec::new());
        for (plane, (xp, yp)) in x
            .chunks_exact(in_plane)
            .zip(y.chunks_exact(out_plane))
            .enumerate()
        {
            p.windows(|o, base| {
                for r in p.rows(base) {
                    for t in r {
                        if selected(xp[t], yp[o]) {
                            chosen.push(plane * in_plane + t);
                        }
                    }
                }
                starts.push(chosen.len());
            });
        }
        (y, starts, chosen)
    }

    #[test]
    fn one_pass_selection_matches_the_two_pass_formulation_bit_for_bit() {
        // Values from a small set, so that windows tie often, with NaN, ±0 and −∞ among them;
        // windows that overlap (stride < size), tile and skip (stride > size).
        let pool = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.5,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for (shape, size, stride) in [
            ([2, 3, 6, 6], 2, 2),
            ([1, 2, 7, 5], 3, 1),
            ([2, 1, 8, 8], 2, 3),
            ([1, 1, 4, 4], 4, 1),
            ([3, 2, 5, 5], 1, 1),
        ] {
            let p = Pooling::new("t", shape, size, stride);
            for weight in [3, 9] {
                let x: Vec<f64> = (0..shape.iter().product())
                    .map(|_| pool[next() % weight])
                    .collect();
                let (y_ref, starts, chosen) = reference(&p, &x);
                let (y, selection) = max_selection(&p, &x);
                let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&y_ref), "{shape:?} {size} {stride}");
                let mut seen = Vec::new();
                selection.for_each(|o, positions| seen.push((o, positions.to_vec())));
                let expected: Vec<_> = starts
                    .windows(2)
                    .enumerate()
                    .map(|(o, r)| (o, chosen[r[0]..r[1]].to_vec()))
                    .collect();
                assert_eq!(seen, expected, "{shape:?} {size} {stride}");
                assert!(
                    expected.iter().all(|(_, c)| !c.is_empty()),
                    "every window selects"
                );
                // The pullback and the tangent: the old compressed-rows loops, bit for bit.
                let g = Array4::from_shape_fn(p.output_shape(), |(n, c, i, j)| {
                    ((n * 7 + c * 5 + i * 3 + j) as f64 * 0.37).sin()
                });
                let dx = selection.pullback("t", &p, g.clone());
                let mut dx_ref = vec![0.0; x.len()];
                for (&g, r) in g.iter().zip(starts.windows(2)) {
                    let share = match r[1] - r[0] {
                        1 => g,
                        ties => g / ties as f64,
                    };
                    for &i in &chosen[r[0]..r[1]] {
                        dx_ref[i] += share;
                    }
                }
                assert_eq!(bits(dx.as_slice().unwrap()), bits(&dx_ref));
                let t = Array4::from_shape_fn(p.x, |(n, c, i, j)| {
                    ((n * 11 + c * 3 + i * 5 + j) as f64 * 0.61).cos()
                });
                let dy = selection.tangent(&p, &t);
                let ts = t.as_slice().unwrap();
                let dy_ref: Vec<f64> = starts
                    .windows(2)
                    .map(|r| {
                        let sum = chosen[r[0]..r[1]].iter().fold(0.0, |s, &i| s + ts[i]);
                        match r[1] - r[0] {
                            1 => sum,
                            ties => sum / ties as f64,
                        }
                    })
                    .collect();
                assert_eq!(bits(dy.as_slice().unwrap()), bits(&dy_ref));
            }
        }
    }
}
