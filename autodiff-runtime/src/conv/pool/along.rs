//! Max pooling in exact mode at kinks (`#[differentiate(kinks = exact)]`, see
//! [`crate::kinks`]): where elements of a window tie for its maximum, the one whose tangent is
//! largest is the one the maximum follows when the input moves along the tangent.

use ndarray::{Array4, ArrayBase, Data, Ix4};

use super::super::{check_cotangent, check_tangent, dims4, standard};
use super::{Pooling, max_forward, selected};
use crate::nn::NdReal;

/// [`max_pool2d`](super::max_pool2d) in exact mode at kinks: the value, the one-sided
/// directional derivative along the tangent `dx`, and the pullback through the pieces `dx`
/// enters. Each output follows one element of its window: its maximum, and where several
/// elements tie for it, the one with the largest tangent (the first in row-major order among
/// equal tangents), whose tangent is the output's (`ẏ = max` of the tied tangents) and to which
/// the pullback sends the output's cotangent whole. Overlapping windows add their contributions.
/// The value is `max_pool2d`'s, bit for bit.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::Array4;
///
/// let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 3.0, 3.0, 0.0]).unwrap();
/// let dx = Array4::from_shape_vec((1, 1, 2, 2), vec![5.0, 1.0, 2.0, 7.0]).unwrap();
/// let (y, dy, pullback) = conv::max_pool2d_vjp_along(&x, 2, 2, &dx);
/// // The maxima tie at 3; along dx the second (tangent 2) stays the larger.
/// assert_eq!((y[[0, 0, 0, 0]], dy[[0, 0, 0, 0]]), (3.0, 2.0));
/// let g = pullback(Array4::from_elem((1, 1, 1, 1), 1.0));
/// assert_eq!(g.into_raw_vec_and_offset().0, vec![0.0, 0.0, 1.0, 0.0]);
/// ```
///
/// # Panics
///
/// As [`max_pool2d_jvp`](super::max_pool2d_jvp); the pullback, if the cotangent is not shaped
/// like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn max_pool2d_vjp_along<S, T>(
    x: &ArrayBase<S, Ix4>,
    size: usize,
    stride: usize,
    dx: &Array4<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(Array4<T>) -> Array4<T> + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "max_pool2d_vjp_along";
    let p = Pooling::new(what, dims4(x), size, stride);
    check_tangent(what, "x", dx.shape(), x.shape());
    let xs = standard(x);
    let xv = xs.as_slice().expect("standard layout");
    let dxs = standard(dx);
    let dxv = dxs.as_slice().expect("standard layout");
    let y = max_forward(&p, xv);
    let yv = y.as_slice().expect("standard layout");
    let (in_plane, out_plane) = (p.x[2] * p.x[3], p.ho * p.wo);
    let mut chosen = Vec::with_capacity(yv.len());
    for (plane, yp) in yv.chunks_exact(out_plane).enumerate() {
        let offset = plane * in_plane;
        p.windows(|o, base| {
            let m = yp[o];
            let mut best: Option<usize> = None;
            for r in p.rows(base) {
                for i in offset + r.start..offset + r.end {
                    if selected(xv[i], m) && best.is_none_or(|b| dxv[i] > dxv[b]) {
                        best = Some(i);
                    }
                }
            }
            chosen.push(best.expect("a window's maximum is one of its elements"));
        });
    }
    let dy: Vec<T> = chosen.iter().map(|&i| dxv[i]).collect();
    let dy = Array4::from_shape_vec(p.output_shape(), dy).expect("output shape");
    let pullback = move |g: Array4<T>| {
        check_cotangent(what, g.shape(), &p.output_shape());
        let gs = standard(&g);
        let mut out = vec![T::ZERO; p.x.iter().product()];
        for (&g, &i) in gs.iter().zip(&chosen) {
            out[i] += g;
        }
        Array4::from_shape_vec(p.x, out).expect("input shape")
    };
    (y, dy, pullback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_follow_the_largest_tangent_and_nan_propagates() {
        // Two windows of a 2×4 plane: [1 5 | 2 2] over [3 4 | 0 2]; the second ties three ways.
        let x = Array4::from_shape_vec((1, 1, 2, 4), vec![1.0, 5.0, 2.0, 2.0, 3.0, 4.0, 0.0, 2.0])
            .unwrap();
        let dx =
            Array4::from_shape_vec((1, 1, 2, 4), vec![9.0, -1.0, 1.0, 3.0, 0.0, 0.0, 8.0, 3.0])
                .unwrap();
        let (y, dy, pullback) = max_pool2d_vjp_along(&x, 2, 2, &dx);
        assert_eq!(y, crate::conv::max_pool2d(&x, 2, 2));
        // Window 2: tangents 1, 3, 3 at the tied 2s: the first 3 (position 3) wins.
        assert_eq!(dy.into_raw_vec_and_offset().0, vec![-1.0, 3.0]);
        let g = pullback(Array4::from_shape_vec((1, 1, 1, 2), vec![10.0, 20.0]).unwrap());
        assert_eq!(
            g.into_raw_vec_and_offset().0,
            vec![0.0, 10.0, 0.0, 20.0, 0.0, 0.0, 0.0, 0.0]
        );
        let x = Array4::from_shape_vec((1, 1, 1, 2), vec![1.0, f64::NAN]).unwrap();
        let dx = Array4::from_shape_vec((1, 1, 1, 2), vec![1.0, 2.0]).unwrap();
        let (y, dy, _) = max_pool2d_vjp_along(&x, 1, 1, &dx);
        assert!(y[[0, 0, 0, 1]].is_nan());
        assert_eq!(dy[[0, 0, 0, 1]], 2.0);
    }
}
