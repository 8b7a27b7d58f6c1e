//! Tests of the convolutions and poolings: the lecture's example, the lecture's `z = Wx` with an
//! explicitly built sparse `W` (and `Wᵀ` for the backward pass), direct evaluation of the
//! definitions, central finite differences of every gradient over random shapes, strides and
//! paddings, ties in max pooling, memory layouts, and the error messages.

use ndarray::{Array1, Array2, Array4, Axis, ShapeBuilder, array, s};

use super::*;
use crate::nn::testing::{
    assert_all_close, assert_identical, check_pullback, check_rules, check_unary, randn, randn_f32,
    randn_like,
};

/// The padded input `x̃[n, c, a₁, a₂]` (0 outside `x`), with signed padded coordinates.
fn padded(x: &Array4<f64>, n: usize, c: usize, a1: usize, a2: usize, p: usize) -> f64 {
    let (_, _, h, w) = x.dim();
    match (a1.checked_sub(p), a2.checked_sub(p)) {
        (Some(y), Some(z)) if y < h && z < w => x[[n, c, y, z]],
        _ => 0.0,
    }
}

/// `conv2d_nchw` by its definition, six nested loops.
fn naive_nchw(
    x: &Array4<f64>,
    w: &Array4<f64>,
    b: &Array1<f64>,
    s: usize,
    p: usize,
) -> Array4<f64> {
    let (n, c, h, wd) = x.dim();
    let (k, _, kh, kw) = w.dim();
    let (ho, wo) = ((h + 2 * p - kh) / s + 1, (wd + 2 * p - kw) / s + 1);
    Array4::from_shape_fn((n, k, ho, wo), |(n, k, o1, o2)| {
        let mut z = b[k];
        for ci in 0..c {
            for j1 in 0..kh {
                for j2 in 0..kw {
                    z += w[[k, ci, j1, j2]] * padded(x, n, ci, o1 * s + j1, o2 * s + j2, p);
                }
            }
        }
        z
    })
}

/// The lecture's example.
fn lecture_image() -> (Array2<f64>, Array2<f64>) {
    let x = array![
        [1.0, 1.0, 1.0, 0.0, 0.0],
        [0.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0, 0.0],
    ];
    let w = array![[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]];
    (x, w)
}

/// Shapes `(x, w)` with strides and paddings that the tests run through: square and not, filters
/// larger than the unpadded input, `1×1` filters (the path without `im2col`), one channel and
/// several.
fn cases() -> Vec<([usize; 4], [usize; 4], usize, usize)> {
    let mut cases = Vec::new();
    for stride in [1, 2, 3] {
        for padding in [0, 1, 2] {
            cases.push(([2, 2, 5, 6], [3, 2, 3, 2], stride, padding));
            cases.push(([1, 3, 4, 4], [2, 3, 2, 3], stride, padding));
            cases.push(([2, 2, 3, 5], [2, 2, 1, 1], stride, padding));
        }
    }
    // Filters larger than the unpadded input, which only padding makes fit.
    cases.push(([1, 2, 2, 3], [2, 2, 4, 3], 1, 1));
    cases.push(([2, 1, 1, 2], [1, 1, 5, 4], 2, 2));
    // A single channel, 7×4 with a 4×1 filter.
    cases.push(([3, 1, 7, 4], [2, 1, 4, 1], 2, 0));
    cases
}

fn shape4(d: [usize; 4]) -> (usize, usize, usize, usize) {
    (d[0], d[1], d[2], d[3])
}

// ---------------------------------------------------------------------------------------------
// The lecture's 2D convolution
// ---------------------------------------------------------------------------------------------

#[test]
fn lecture_example() {
    let (x, w) = lecture_image();
    let expected = array![[4.0, 3.0, 4.0], [2.0, 4.0, 3.0], [2.0, 3.0, 4.0]];
    assert_eq!(conv2d(&x, &w), expected);
    let (z, _) = conv2d_vjp(&x, &w);
    assert_eq!(z, expected);
    // In f32, through views, and as a batch of one image, one channel and one filter.
    assert_eq!(
        conv2d(&x.mapv(|v| v as f32), &w.mapv(|v| v as f32)),
        expected.mapv(|v| v as f32)
    );
    assert_eq!(conv2d(&x.view(), &w.view()), expected);
    let x4 = x.clone().into_shape_with_order((1, 1, 5, 5)).unwrap();
    let w4 = w.clone().into_shape_with_order((1, 1, 3, 3)).unwrap();
    let z4 = conv2d_nchw(&x4, &w4, &array![0.0], 1, 0);
    assert_eq!(z4.into_shape_with_order((3, 3)).unwrap(), expected);
}

#[test]
fn conv2d_is_the_unflipped_definition() {
    let x = randn((6, 5), 1);
    let w = randn((3, 2), 2);
    let z = conv2d(&x, &w);
    assert_eq!(z.dim(), (4, 4));
    let by_definition = Array2::from_shape_fn((4, 4), |(i1, i2)| {
        let mut z = 0.0;
        for j1 in 0..3 {
            for j2 in 0..2 {
                z += w[[j1, j2]] * x[[i1 + j1, i2 + j2]];
            }
        }
        z
    });
    assert_all_close(&z, &by_definition, 1e-14);
    // The textbook convolution flips the filter: not the same thing for this w, and equal to
    // the cross-correlation with the flipped filter.
    let flipped = w.slice(s![..;-1, ..;-1]).to_owned();
    let textbook = Array2::from_shape_fn((4, 4), |(i1, i2)| {
        let mut z = 0.0;
        for j1 in 0..3 {
            for j2 in 0..2 {
                // x[i − j] with the filter indexed from its far corner.
                z += w[[j1, j2]] * x[[i1 + 2 - j1, i2 + 1 - j2]];
            }
        }
        z
    });
    assert!((&z - &textbook).iter().any(|d| d.abs() > 1e-3));
    assert_all_close(&conv2d(&x, &flipped), &textbook, 1e-14);
}

#[test]
fn conv2d_pullback_matches_finite_differences() {
    for (h, wd, kh, kw, seed) in [(5, 5, 3, 3, 10), (4, 7, 2, 3, 20), (6, 3, 6, 1, 30)] {
        let x = randn((h, wd), seed);
        let w = randn((kh, kw), seed + 1);
        let (z, pullback) = conv2d_vjp(&x, &w);
        let r = randn(z.raw_dim(), seed + 2);
        let grad = pullback(r.clone());
        check_pullback(
            |(x, w): &(Array2<f64>, Array2<f64>)| conv2d(x, w),
            &(x, w),
            &r,
            &grad,
        );
    }
}

#[test]
fn conv2d_gradients_are_the_stated_correlations() {
    // ∂w = x ⋆ g (cross-correlation), ∂x = the full convolution of g with w.
    let (x, w) = lecture_image();
    let g = randn((3, 3), 40);
    let (_, pullback) = conv2d_vjp(&x, &w);
    let (dx, dw) = pullback(g.clone());
    assert_all_close(&dw, &conv2d(&x, &g), 1e-14);
    // ∂x = (g padded by kh − 1, kw − 1) ⋆ (w flipped).
    let mut g_full = Array2::zeros((7, 7));
    g_full.slice_mut(s![2..5, 2..5]).assign(&g);
    let w_flipped = w.slice(s![..;-1, ..;-1]);
    assert_all_close(&dx, &conv2d(&g_full, &w_flipped), 1e-14);
}

// ---------------------------------------------------------------------------------------------
// z = Wx with an explicit sparse W
// ---------------------------------------------------------------------------------------------

/// The matrix `M` of `x ↦ conv2d_nchw(x, w, 0, s, p)` for one image: `(K·Ho·Wo) × (C·H·W)`, row
/// `(k, o₁, o₂)` holding `w[k, c, j₁, j₂]` in column `(c, o₁·s + j₁ − p, o₂·s + j₂ − p)`.
fn conv_matrix(x: [usize; 4], w: &Array4<f64>, s: usize, p: usize) -> Array2<f64> {
    let [_, c, h, wd] = x;
    let (k, _, kh, kw) = w.dim();
    let (ho, wo) = ((h + 2 * p - kh) / s + 1, (wd + 2 * p - kw) / s + 1);
    let mut m = Array2::zeros((k * ho * wo, c * h * wd));
    for ki in 0..k {
        for o1 in 0..ho {
            for o2 in 0..wo {
                let row = (ki * ho + o1) * wo + o2;
                for ci in 0..c {
                    for j1 in 0..kh {
                        for j2 in 0..kw {
                            let (a1, a2) = (o1 * s + j1, o2 * s + j2);
                            if a1 >= p && a1 - p < h && a2 >= p && a2 - p < wd {
                                let col = (ci * h + a1 - p) * wd + a2 - p;
                                m[[row, col]] = w[[ki, ci, j1, j2]];
                            }
                        }
                    }
                }
            }
        }
    }
    m
}

#[test]
fn convolution_is_a_sparse_matrix_with_repeated_filter_values() {
    for (i, (xs, ws, s, p)) in cases().into_iter().enumerate() {
        let seed = 100 + 10 * i as u64;
        let x = randn(shape4(xs), seed);
        let w = randn(shape4(ws), seed + 1);
        let b = randn(ws[0], seed + 2);
        let m = conv_matrix(xs, &w, s, p);
        // Sparse: at most C·kh·kw nonzeros per row, and every nonzero is a filter value.
        let per_row = ws[1] * ws[2] * ws[3];
        for row in m.rows() {
            assert!(row.iter().filter(|&&v| v != 0.0).count() <= per_row);
        }
        assert!(m.iter().all(|v| *v == 0.0 || w.iter().any(|f| f == v)));
        let (z, pullback) = conv2d_nchw_vjp(&x, &w, &b, s, p);
        let r = randn(z.raw_dim(), seed + 3);
        let (dx, _, _) = pullback(r.clone());
        let [n, k, ho, wo] = dims4(&z);
        for image in 0..n {
            // z = W·vec(x) + b …
            let vec_x = x.slice(s![image, .., .., ..]).flatten().to_owned();
            let mut expected = m.dot(&vec_x);
            for (e, row) in expected.iter_mut().enumerate() {
                *row += b[e / (ho * wo)];
            }
            let actual = z.slice(s![image, .., .., ..]).flatten().to_owned();
            assert_all_close(&actual, &expected, 1e-13);
            // … and the backward pass is Wᵀ·vec(r).
            let vec_r = r.slice(s![image, .., .., ..]).flatten().to_owned();
            let dx_image = dx.slice(s![image, .., .., ..]).flatten().to_owned();
            assert_all_close(&dx_image, &m.t().dot(&vec_r), 1e-13);
        }
        assert_eq!(k, ws[0]);
    }
}

#[test]
fn lecture_example_as_a_matrix() {
    // The lecture's 5×5 image: z = W·vec(x) with W 9×25, 9 nonzeros per row (here 5, since the
    // filter has 4 zeros), every row the same filter shifted.
    let (x, w) = lecture_image();
    let m = conv_matrix(
        [1, 1, 5, 5],
        &w.clone().into_shape_with_order((1, 1, 3, 3)).unwrap(),
        1,
        0,
    );
    assert_eq!(m.dim(), (9, 25));
    for row in m.rows() {
        assert_eq!(row.iter().filter(|&&v| v != 0.0).count(), 5);
    }
    let z = m.dot(&x.flatten());
    assert_eq!(z, array![4.0, 3.0, 4.0, 2.0, 4.0, 3.0, 2.0, 3.0, 4.0]);
    let g = randn((3, 3), 50);
    let (_, pullback) = conv2d_vjp(&x, &w);
    let (dx, _) = pullback(g.clone());
    assert_all_close(&dx.flatten().to_owned(), &m.t().dot(&g.flatten()), 1e-14);
}

#[test]
fn the_filter_gradient_is_the_transpose_of_the_map_from_filters() {
    // z is linear in w too: z = X·vec(w) with X built from the padded input, and ∂w = Xᵀ·vec(r).
    for (i, (xs, ws, s, p)) in cases().into_iter().enumerate() {
        let seed = 300 + 10 * i as u64;
        let x = randn(shape4(xs), seed);
        let w = randn(shape4(ws), seed + 1);
        let b = Array1::zeros(ws[0]);
        let (z, pullback) = conv2d_nchw_vjp(&x, &w, &b, s, p);
        let r = randn(z.raw_dim(), seed + 2);
        let (_, dw, db) = pullback(r.clone());
        let [n, k, ho, wo] = dims4(&z);
        let mut big = Array2::zeros((n * k * ho * wo, w.len()));
        let (_, c, kh, kw) = w.dim();
        for ((ni, ki, o1, o2), row) in ndarray::indices((n, k, ho, wo)).into_iter().zip(0..) {
            for ci in 0..c {
                for j1 in 0..kh {
                    for j2 in 0..kw {
                        let col = ((ki * c + ci) * kh + j1) * kw + j2;
                        big[[row, col]] = padded(&x, ni, ci, o1 * s + j1, o2 * s + j2, p);
                    }
                }
            }
        }
        assert_all_close(&big.dot(&w.flatten()), &z.flatten().to_owned(), 1e-13);
        let expected_dw = big.t().dot(&r.flatten());
        assert_all_close(&dw.flatten().to_owned(), &expected_dw, 1e-13);
        assert_all_close(
            &db,
            &r.sum_axis(Axis(0)).sum_axis(Axis(1)).sum_axis(Axis(1)),
            1e-13,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Batched convolution
// ---------------------------------------------------------------------------------------------

#[test]
fn conv2d_nchw_matches_its_definition() {
    for (i, (xs, ws, s, p)) in cases().into_iter().enumerate() {
        let seed = 500 + 10 * i as u64;
        let x = randn(shape4(xs), seed);
        let w = randn(shape4(ws), seed + 1);
        let b = randn(ws[0], seed + 2);
        let expected = naive_nchw(&x, &w, &b, s, p);
        assert_all_close(&conv2d_nchw(&x, &w, &b, s, p), &expected, 1e-13);
        assert_all_close(&conv2d_nchw_vjp(&x, &w, &b, s, p).0, &expected, 1e-13);
        let unbiased = naive_nchw(&x, &w, &Array1::zeros(ws[0]), s, p);
        assert_all_close(&conv2d_nchw_no_bias(&x, &w, s, p), &unbiased, 1e-13);
        assert_all_close(&conv2d_nchw_no_bias_vjp(&x, &w, s, p).0, &unbiased, 1e-13);
        let (ho, wo) = Conv2dConfig::new(s, p).output_size((xs[2], xs[3]), (ws[2], ws[3]));
        assert_eq!(expected.dim(), (xs[0], ws[0], ho, wo));
    }
}

type Nchw = (Array4<f64>, Array4<f64>, Array1<f64>);

#[test]
fn conv2d_nchw_pullback_matches_finite_differences() {
    for (i, (xs, ws, s, p)) in cases().into_iter().enumerate() {
        let seed = 700 + 10 * i as u64;
        let args: Nchw = (
            randn(shape4(xs), seed),
            randn(shape4(ws), seed + 1),
            randn(ws[0], seed + 2),
        );
        let (z, pullback) = conv2d_nchw_vjp(&args.0, &args.1, &args.2, s, p);
        let r = randn(z.raw_dim(), seed + 3);
        let grad = pullback(r.clone());
        check_pullback(
            |(x, w, b): &Nchw| conv2d_nchw(x, w, b, s, p),
            &args,
            &r,
            &grad,
        );
        // Without a bias: the same ∂x and ∂w.
        let (_, pullback) = conv2d_nchw_no_bias_vjp(&args.0, &args.1, s, p);
        let (dx, dw) = pullback(r.clone());
        assert_all_close(&dx, &grad.0, 1e-13);
        assert_all_close(&dw, &grad.1, 1e-13);
        check_pullback(
            |(x, w): &(Array4<f64>, Array4<f64>)| conv2d_nchw_no_bias(x, w, s, p),
            &(args.0.clone(), args.1.clone()),
            &r,
            &(dx, dw),
        );
    }
}

#[test]
fn any_memory_layout() {
    // Views with steps, permuted axes and a transposed cotangent give the same answers as
    // row-major copies.
    let big = randn((2, 3, 9, 14), 900);
    let x = big.slice(s![.., .., 1..8;2, ..;2]); // 2×3×4×7, not contiguous
    let w_t = randn((2, 2, 3, 3), 901).permuted_axes([3, 2, 1, 0]); // 3×3×2×2, column-major
    let b = randn(6, 902);
    let b = b.slice(s![..;2]); // 3 entries, stride 2
    let (xo, wo, bo) = (
        x.to_owned(),
        w_t.as_standard_layout().into_owned(),
        b.to_owned(),
    );
    let expected = conv2d_nchw(&xo, &wo, &bo, 2, 1);
    assert_eq!(expected.dim(), (2, 3, 3, 4));
    assert_eq!(conv2d_nchw(&x, &w_t, &b, 2, 1), expected);
    let (z, pullback) = conv2d_nchw_vjp(&x, &w_t, &b, 2, 1);
    assert_eq!(z, expected);
    let r = randn((2, 3, 3, 4), 903);
    // The same values, stored column-major.
    let mut r_t = Array4::zeros(r.raw_dim().f());
    r_t.assign(&r);
    assert!(!r_t.is_standard_layout());
    let (_, reference) = conv2d_nchw_vjp(&xo, &wo, &bo, 2, 1);
    assert_eq!(pullback(r_t), reference(r));

    let y = randn((4, 6), 904);
    let y_t = y.t();
    let f = randn((3, 2), 905);
    assert_eq!(conv2d(&y_t, &f), conv2d(&y_t.to_owned(), &f));
}

#[test]
fn f32_agrees_with_f64() {
    let (x, w, b) = (
        randn((2, 3, 6, 5), 950),
        randn((4, 3, 3, 3), 951),
        randn(4, 952),
    );
    let z64 = conv2d_nchw(&x, &w, &b, 2, 1);
    let z32 = conv2d_nchw(
        &x.mapv(|v| v as f32),
        &w.mapv(|v| v as f32),
        &b.mapv(|v| v as f32),
        2,
        1,
    );
    for (a, e) in z32.iter().zip(&z64) {
        assert!((f64::from(*a) - e).abs() < 1e-4 * e.abs().max(1.0));
    }
    let (_, pullback) = conv2d_nchw_vjp(
        &x.mapv(|v| v as f32),
        &w.mapv(|v| v as f32),
        &b.mapv(|v| v as f32),
        2,
        1,
    );
    let (_, pullback64) = conv2d_nchw_vjp(&x, &w, &b, 2, 1);
    let r = randn(z64.raw_dim(), 953);
    let (dx32, dw32, db32) = pullback(r.mapv(|v| v as f32));
    let (dx, dw, db) = pullback64(r);
    for (a, e) in dx32
        .iter()
        .chain(&dw32)
        .chain(&db32)
        .zip(dx.iter().chain(&dw).chain(&db))
    {
        assert!((f64::from(*a) - e).abs() < 1e-4 * e.abs().max(1.0));
    }
}

#[test]
fn degenerate_shapes() {
    // No images: an empty output, empty gradients of the right shapes.
    let w = randn((2, 3, 2, 2), 960);
    let b = randn(2, 961);
    let (z, pullback) = conv2d_nchw_vjp(&Array4::zeros((0, 3, 4, 4)), &w, &b, 1, 0);
    assert_eq!(z.dim(), (0, 2, 3, 3));
    let (dx, dw, db) = pullback(z);
    assert_eq!(
        (dx.dim(), dw, db),
        ((0, 3, 4, 4), Array4::zeros(w.raw_dim()), Array1::zeros(2))
    );
    // No channels: the output is the bias.
    let z = conv2d_nchw(
        &Array4::zeros((2, 0, 3, 3)),
        &Array4::zeros((2, 0, 2, 2)),
        &b,
        1,
        0,
    );
    assert_eq!(z, Array4::from_shape_fn((2, 2, 2, 2), |(_, k, _, _)| b[k]));
    // An empty image, padded: every output sees only zeros.
    let z = conv2d_nchw(&Array4::zeros((1, 3, 0, 0)), &w, &b, 1, 1);
    assert_eq!(z, Array4::from_shape_fn((1, 2, 1, 1), |(_, k, _, _)| b[k]));
    // No filters.
    let z = conv2d_nchw(
        &randn((1, 3, 4, 4), 962),
        &Array4::zeros((0, 3, 2, 2)),
        &Array1::zeros(0),
        1,
        0,
    );
    assert_eq!(z.dim(), (1, 0, 3, 3));
}

// ---------------------------------------------------------------------------------------------
// conv1d
// ---------------------------------------------------------------------------------------------

#[test]
fn conv1d_matches_its_definition_and_its_matrix() {
    let x = randn(9, 1000);
    let w = randn(4, 1001);
    let (z, pullback) = conv1d_vjp(&x, &w);
    assert_eq!(z, conv1d(&x, &w));
    let expected = Array1::from_shape_fn(6, |i| (0..4).map(|j| w[j] * x[i + j]).sum::<f64>());
    assert_all_close(&z, &expected, 1e-14);
    // z = W·x with W a 6×9 banded (Toeplitz) matrix: row i holds w at columns i..i+4.
    let mut m = Array2::zeros((6, 9));
    for i in 0..6 {
        m.slice_mut(s![i, i..i + 4]).assign(&w);
    }
    assert_all_close(&m.dot(&x), &z, 1e-14);
    let r = randn(6, 1002);
    let (dx, dw) = pullback(r.clone());
    assert_all_close(&dx, &m.t().dot(&r), 1e-14);
    check_pullback(
        |(x, w): &(Array1<f64>, Array1<f64>)| conv1d(x, w),
        &(x, w),
        &r,
        &(dx, dw),
    );
    assert_eq!(conv1d(&array![1.0, 2.0], &array![3.0, 4.0]), array![11.0]);
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/// A window's elements, by definition.
fn window(
    x: &Array4<f64>,
    n: usize,
    c: usize,
    o1: usize,
    o2: usize,
    size: usize,
    stride: usize,
) -> Vec<f64> {
    let mut v = Vec::new();
    for i in 0..size {
        for j in 0..size {
            v.push(x[[n, c, o1 * stride + i, o2 * stride + j]]);
        }
    }
    v
}

const POOLS: [([usize; 4], usize, usize); 6] = [
    ([2, 3, 6, 6], 2, 2),
    ([1, 2, 7, 5], 3, 1),
    ([2, 1, 8, 7], 3, 3),
    ([1, 2, 5, 9], 2, 3),
    ([1, 1, 4, 4], 4, 2),
    ([2, 2, 3, 4], 1, 2),
];

#[test]
fn pooling_matches_its_definition() {
    for (i, (xs, size, stride)) in POOLS.into_iter().enumerate() {
        let x = randn(shape4(xs), 1100 + i as u64);
        let (ho, wo) = ((xs[2] - size) / stride + 1, (xs[3] - size) / stride + 1);
        let max = Array4::from_shape_fn((xs[0], xs[1], ho, wo), |(n, c, a, b)| {
            window(&x, n, c, a, b, size, stride)
                .into_iter()
                .fold(f64::NEG_INFINITY, f64::max)
        });
        let avg = Array4::from_shape_fn((xs[0], xs[1], ho, wo), |(n, c, a, b)| {
            window(&x, n, c, a, b, size, stride).iter().sum::<f64>() / (size * size) as f64
        });
        assert_eq!(max_pool2d(&x, size, stride), max);
        assert_eq!(max_pool2d_vjp(&x, size, stride).0, max);
        assert_all_close(&avg_pool2d(&x, size, stride), &avg, 1e-15);
        assert_all_close(&avg_pool2d_vjp(&x, size, stride).0, &avg, 1e-15);
    }
}

#[test]
fn pooling_pullbacks_match_finite_differences() {
    for (i, (xs, size, stride)) in POOLS.into_iter().enumerate() {
        let seed = 1200 + 10 * i as u64;
        let x = randn(shape4(xs), seed);
        let (y, pullback) = max_pool2d_vjp(&x, size, stride);
        let r = randn(y.raw_dim(), seed + 1);
        check_pullback(
            |x| max_pool2d(x, size, stride),
            &x,
            &r,
            &pullback(r.clone()),
        );
        let (_, pullback) = avg_pool2d_vjp(&x, size, stride);
        check_pullback(
            |x| avg_pool2d(x, size, stride),
            &x,
            &r,
            &pullback(r.clone()),
        );
    }
}

#[test]
fn max_pool_splits_ties_equally() {
    // A constant 4×4 image: every window is a 4-way tie, so each element of a 2×2/2 window gets
    // a quarter of the cotangent.
    let x = Array4::from_elem((1, 1, 4, 4), 1.0);
    let (y, pullback) = max_pool2d_vjp(&x, 2, 2);
    assert_eq!(y, Array4::from_elem((1, 1, 2, 2), 1.0));
    let g = array![[8.0, 4.0], [-4.0, 2.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let expected = array![
        [2.0, 2.0, 1.0, 1.0],
        [2.0, 2.0, 1.0, 1.0],
        [-1.0, -1.0, 0.5, 0.5],
        [-1.0, -1.0, 0.5, 0.5]
    ];
    assert_eq!(
        pullback(g),
        expected.into_shape_with_order((1, 1, 4, 4)).unwrap()
    );

    // Overlapping 2×2 windows every pixel, with ties of three, two and one: the shares add up.
    // Window (0, 0) = {5, 5, 0, 5} gives 6/3 to each 5, window (0, 1) = {5, 1, 5, 0} gives 6/2
    // to each 5, windows (1, 0) and (1, 1) give 6 to the centre.
    let x = array![[5.0, 5.0, 1.0], [0.0, 5.0, 0.0], [1.0, 1.0, 1.0]]
        .into_shape_with_order((1, 1, 3, 3))
        .unwrap();
    let (y, pullback) = max_pool2d_vjp(&x, 2, 1);
    assert_eq!(y.into_raw_vec_and_offset().0, vec![5.0; 4]);
    let dx = pullback(Array4::from_elem((1, 1, 2, 2), 6.0));
    assert_eq!(
        dx.into_raw_vec_and_offset().0,
        vec![2.0, 5.0, 0.0, 0.0, 17.0, 0.0, 0.0, 0.0, 0.0]
    );
    let x = array![[1.0, 1.0], [0.0, 1.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let (_, pullback) = max_pool2d_vjp(&x, 2, 1);
    let dx = pullback(Array4::from_elem((1, 1, 1, 1), 3.0));
    assert_eq!(dx.into_raw_vec_and_offset().0, vec![1.0, 1.0, 0.0, 1.0]);
}

#[test]
fn max_pool_propagates_nan_and_infinities() {
    let x = array![[1.0, f64::NAN], [3.0, 2.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let (y, pullback) = max_pool2d_vjp(&x, 2, 2);
    assert!(y[[0, 0, 0, 0]].is_nan());
    assert_eq!(
        pullback(Array4::from_elem((1, 1, 1, 1), 2.0))
            .into_raw_vec_and_offset()
            .0,
        vec![0.0, 2.0, 0.0, 0.0]
    );
    let x = Array4::from_elem((1, 1, 2, 2), f64::NEG_INFINITY);
    let (y, pullback) = max_pool2d_vjp(&x, 2, 2);
    assert_eq!(y[[0, 0, 0, 0]], f64::NEG_INFINITY);
    assert_eq!(
        pullback(Array4::from_elem((1, 1, 1, 1), 4.0)),
        Array4::ones((1, 1, 2, 2))
    );
}

// ---------------------------------------------------------------------------------------------
// flatten / unflatten
// ---------------------------------------------------------------------------------------------

#[test]
fn flatten_and_unflatten_are_inverse_reshapes() {
    let x = randn((3, 2, 4, 5), 1300);
    let (y, pullback) = flatten_vjp(&x);
    assert_eq!(y.dim(), (3, 40));
    assert_eq!(y.row(1), x.slice(s![1, .., .., ..]).flatten());
    assert_eq!(unflatten(&y, 2, 4, 5), x);
    let r = randn((3, 40), 1301);
    let dx = pullback(r.clone());
    assert_eq!(flatten(&dx), r);
    check_pullback(flatten, &x, &r, &dx);

    let (x2, pullback) = unflatten_vjp(&r, 2, 4, 5);
    assert_eq!(flatten(&x2), r);
    let r4 = randn((3, 2, 4, 5), 1302);
    let dr = pullback(r4.clone());
    check_pullback(|r| unflatten(r, 2, 4, 5), &r, &r4, &dr);
    // Non-standard layouts in and out.
    let xt = x.view().permuted_axes([0, 1, 3, 2]);
    assert_eq!(flatten(&xt), flatten(&xt.as_standard_layout().into_owned()));
    let (_, pullback) = flatten_vjp(&x);
    let mut r_f = Array2::zeros((3, 40).f());
    r_f.assign(&r);
    assert_eq!(pullback(r_f), dx);
}

// ---------------------------------------------------------------------------------------------
// Forward mode and second order
// ---------------------------------------------------------------------------------------------

/// [`check_rules`] for a convolution of `(x, w)` at `$args`, with extra arguments `$extra`
/// (stride, padding) after `x` and `w`: the four rules named `$f`, `$jvp`, `$vjp`, `$vjp_jvp`.
macro_rules! check_pair {
    ($args:expr, $seed:expr, $f:ident, $jvp:ident, $vjp:ident, $vjp_jvp:ident $(, $extra:expr)*) => {
        check_rules(
            $args,
            $seed,
            |(x, w)| $f(x, w $(, $extra)*),
            |(x, w), (dx, dw)| $jvp(x, w $(, $extra)*, dx, dw),
            |(x, w), g| {
                let (y, pullback) = $vjp(x, w $(, $extra)*);
                (y, pullback(g))
            },
            |(x, w), (dx, dw), g, g_dot| {
                let (y, y_dot, pullback) = $vjp_jvp(x, w $(, $extra)*, dx, dw);
                let (x_bar, x_bar_dot) = pullback(g, g_dot);
                (y, y_dot, x_bar, x_bar_dot)
            },
        )
    };
}

#[test]
fn conv2d_and_conv1d_forward_and_second_order_rules_match_finite_differences() {
    for (h, wd, kh, kw, seed) in [(5, 5, 3, 3, 2000), (4, 7, 2, 3, 2010), (6, 3, 6, 1, 2020)] {
        let args = (randn((h, wd), seed), randn((kh, kw), seed + 1));
        check_pair!(
            &args,
            seed + 2,
            conv2d,
            conv2d_jvp,
            conv2d_vjp,
            conv2d_vjp_jvp
        );
    }
    let args = (randn(9, 2030), randn(4, 2031));
    check_pair!(&args, 2032, conv1d, conv1d_jvp, conv1d_vjp, conv1d_vjp_jvp);
    let args = (randn_f32((5, 6), 2040), randn_f32((2, 3), 2041));
    check_pair!(&args, 2042, conv2d, conv2d_jvp, conv2d_vjp, conv2d_vjp_jvp);
}

#[test]
fn conv2d_nchw_forward_and_second_order_rules_match_finite_differences() {
    for (i, (xs, ws, s, p)) in cases().into_iter().enumerate() {
        let seed = 2100 + 10 * i as u64;
        let args: Nchw = (
            randn(shape4(xs), seed),
            randn(shape4(ws), seed + 1),
            randn(ws[0], seed + 2),
        );
        check_rules(
            &args,
            seed + 3,
            |(x, w, b)| conv2d_nchw(x, w, b, s, p),
            |(x, w, b), (dx, dw, db)| conv2d_nchw_jvp(x, w, b, s, p, dx, dw, db),
            |(x, w, b), g| {
                let (y, pullback) = conv2d_nchw_vjp(x, w, b, s, p);
                (y, pullback(g))
            },
            |(x, w, b), (dx, dw, db), g, g_dot| {
                let (y, y_dot, pullback) = conv2d_nchw_vjp_jvp(x, w, b, s, p, dx, dw, db);
                let (x_bar, x_bar_dot) = pullback(g, g_dot);
                (y, y_dot, x_bar, x_bar_dot)
            },
        );
        let pair = (args.0, args.1);
        check_pair!(
            &pair,
            seed + 6,
            conv2d_nchw_no_bias,
            conv2d_nchw_no_bias_jvp,
            conv2d_nchw_no_bias_vjp,
            conv2d_nchw_no_bias_vjp_jvp,
            s,
            p
        );
    }
    // f32, with the f32 defaults of gradcheck.
    let pair = (randn_f32((2, 3, 6, 5), 2190), randn_f32((4, 3, 3, 3), 2191));
    check_pair!(
        &pair,
        2192,
        conv2d_nchw_no_bias,
        conv2d_nchw_no_bias_jvp,
        conv2d_nchw_no_bias_vjp,
        conv2d_nchw_no_bias_vjp_jvp,
        2,
        1
    );
}

#[test]
fn the_convolutions_second_order_rules_are_their_pullbacks_with_the_tangents_substituted() {
    // conv is bilinear in (x, w) and affine in b: ż = conv(ẋ, w, ḃ) + conv(x, ẇ, 0), and each
    // gradient is bilinear in the cotangent and one of (x, w), ∂x = convᵀ_w(G), ∂w = x ⋆ G, so
    // ∂ẋ = convᵀ_w(Ġ) + convᵀ_ẇ(G), ∂ẇ = x ⋆ Ġ + ẋ ⋆ G and ∂ḃ = Σ Ġ: sums of first-order rules.
    let (x, w, b) = (
        randn((2, 3, 7, 6), 2200),
        randn((4, 3, 3, 2), 2201),
        randn(4, 2202),
    );
    let (dx, dw, db) = (
        randn_like(&x, 2203),
        randn_like(&w, 2204),
        randn_like(&b, 2205),
    );
    let (s, p) = (2, 1);
    let (z, z_dot, pullback) = conv2d_nchw_vjp_jvp(&x, &w, &b, s, p, &dx, &dw, &db);
    assert_eq!(z, conv2d_nchw(&x, &w, &b, s, p));
    let expected = conv2d_nchw(&dx, &w, &db, s, p) + conv2d_nchw_no_bias(&x, &dw, s, p);
    assert_all_close(&z_dot, &expected, 1e-13);
    let (g, g_dot) = (randn_like(&z, 2206), randn_like(&z, 2207));
    let (gradient, (x_bar_dot, w_bar_dot, b_bar_dot)) = pullback(g.clone(), g_dot.clone());
    let vjp = |x: &Array4<f64>, w: &Array4<f64>, g: &Array4<f64>| {
        conv2d_nchw_vjp(x, w, &b, s, p).1(g.clone())
    };
    assert_identical("the gradient", &gradient, &vjp(&x, &w, &g));
    let (x_of_g_dot, w_of_g_dot, b_of_g_dot) = vjp(&x, &w, &g_dot);
    // The input gradient depends only on the filters, the filter gradient only on the input.
    let (x_of_dw, w_of_dx, _) = vjp(&dx, &dw, &g);
    assert_all_close(&x_bar_dot, &(x_of_g_dot + x_of_dw), 1e-13);
    assert_all_close(&w_bar_dot, &(w_of_g_dot + w_of_dx), 1e-13);
    assert_eq!(b_bar_dot, b_of_g_dot);
}

#[test]
fn convolution_tangents_in_any_memory_layout() {
    // Strided views and column-major tangents give the answers of row-major copies.
    let big = randn((2, 3, 9, 14), 2300);
    let x = big.slice(s![.., .., 1..8;2, ..;2]);
    let w = randn((2, 2, 3, 3), 2301).permuted_axes([3, 2, 1, 0]);
    let b = randn(3, 2302);
    let mut dx = Array4::zeros(x.raw_dim().f());
    dx.assign(&randn(x.raw_dim(), 2303));
    let dw = randn_like(&w.to_owned(), 2304);
    let db = randn(3, 2305);
    let (xo, wo) = (x.to_owned(), w.as_standard_layout().into_owned());
    let dxo = dx.as_standard_layout().into_owned();
    let expected = conv2d_nchw_jvp(&xo, &wo, &b, 2, 1, &dxo, &dw, &db);
    assert_eq!(conv2d_nchw_jvp(&x, &w, &b, 2, 1, &dx, &dw, &db), expected);
    let (z, z_dot, pullback) = conv2d_nchw_vjp_jvp(&x, &w, &b, 2, 1, &dx, &dw, &db);
    assert_eq!((z, z_dot), expected);
    let (_, _, reference) = conv2d_nchw_vjp_jvp(&xo, &wo, &b, 2, 1, &dxo, &dw, &db);
    let g = randn(expected.0.raw_dim(), 2306);
    let mut g_f = Array4::zeros(g.raw_dim().f());
    g_f.assign(&g);
    assert_eq!(pullback(g_f.clone(), g_f), reference(g.clone(), g));
}

#[test]
fn degenerate_shapes_in_forward_mode_and_second_order() {
    // No images, no channels, no filters: values, tangents and gradients of the right shapes.
    let w = randn((2, 3, 2, 2), 2400);
    let b = randn(2, 2401);
    let x = Array4::zeros((0, 3, 4, 4));
    let (z, z_dot, pullback) = conv2d_nchw_vjp_jvp(&x, &w, &b, 1, 0, &x, &w, &b);
    assert_eq!((z.dim(), z_dot.dim()), ((0, 2, 3, 3), (0, 2, 3, 3)));
    let ((dx, dw, db), (dx_dot, dw_dot, db_dot)) = pullback(z.clone(), z);
    assert_eq!((dx.dim(), dx_dot.dim()), ((0, 3, 4, 4), (0, 3, 4, 4)));
    assert_eq!(
        (dw, dw_dot),
        (Array4::zeros(w.raw_dim()), Array4::zeros(w.raw_dim()))
    );
    assert_eq!((db, db_dot), (Array1::zeros(2), Array1::zeros(2)));
    // No channels: the value is the bias, the tangent the bias's tangent.
    let (x, w0) = (Array4::zeros((2, 0, 3, 3)), Array4::zeros((2, 0, 2, 2)));
    let db = array![1.0, -1.0];
    let (z, z_dot) = conv2d_nchw_jvp(&x, &w0, &b, 1, 0, &x, &w0, &db);
    assert_eq!(z, Array4::from_shape_fn((2, 2, 2, 2), |(_, k, _, _)| b[k]));
    assert_eq!(
        z_dot,
        Array4::from_shape_fn((2, 2, 2, 2), |(_, k, _, _)| db[k])
    );
    // No filters.
    let x = randn((1, 3, 4, 4), 2402);
    let w = Array4::zeros((0, 3, 2, 2));
    let (z, z_dot) = conv2d_nchw_no_bias_jvp(&x, &w, 1, 0, &x, &w);
    assert_eq!((z.dim(), z_dot.dim()), ((1, 0, 3, 3), (1, 0, 3, 3)));
}

/// The smallest gap, over the windows of a max pooling of `x`, between the maximum and the next
/// value: finite differences with steps well below it never change which element is the maximum.
fn smallest_gap(x: &Array4<f64>, size: usize, stride: usize) -> f64 {
    let (n, c, h, wd) = x.dim();
    let mut gap = f64::INFINITY;
    for (ni, ci) in ndarray::indices((n, c)) {
        for o1 in 0..(h - size) / stride + 1 {
            for o2 in 0..(wd - size) / stride + 1 {
                let mut v = window(x, ni, ci, o1, o2, size, stride);
                v.sort_by(|a, b| b.total_cmp(a));
                if v.len() > 1 {
                    gap = gap.min(v[0] - v[1]);
                }
            }
        }
    }
    gap
}

#[test]
fn pooling_forward_and_second_order_rules_match_finite_differences() {
    for (i, (xs, size, stride)) in POOLS.into_iter().enumerate() {
        let seed = 2500 + 10 * i as u64;
        let x = randn(shape4(xs), seed);
        assert!(smallest_gap(&x, size, stride) > 1e-4);
        check_unary!(
            &x,
            seed + 1,
            max_pool2d,
            max_pool2d_jvp,
            max_pool2d_vjp,
            max_pool2d_vjp_jvp,
            size,
            stride
        );
        check_unary!(
            &x,
            seed + 4,
            avg_pool2d,
            avg_pool2d_jvp,
            avg_pool2d_vjp,
            avg_pool2d_vjp_jvp,
            size,
            stride
        );
    }
    let x = randn_f32((2, 2, 5, 4), 2590);
    check_unary!(
        &x,
        2591,
        avg_pool2d,
        avg_pool2d_jvp,
        avg_pool2d_vjp,
        avg_pool2d_vjp_jvp,
        2,
        1
    );
}

#[test]
fn max_pool_forward_rules_average_ties_as_the_pullback_splits_them() {
    // Overlapping 2×2 windows every pixel with ties of three, two and one (see
    // max_pool_splits_ties_equally): each output's tangent is the mean of its tied tangents.
    let x = array![[5.0, 5.0, 1.0], [0.0, 5.0, 0.0], [1.0, 1.0, 1.0]]
        .into_shape_with_order((1, 1, 3, 3))
        .unwrap();
    let dx = array![
        [3.0, 6.0, 100.0],
        [100.0, 9.0, 100.0],
        [100.0, 100.0, 100.0]
    ]
    .into_shape_with_order((1, 1, 3, 3))
    .unwrap();
    let (y, dy) = max_pool2d_jvp(&x, 2, 1, &dx);
    assert_eq!(y, Array4::from_elem((1, 1, 2, 2), 5.0));
    // Window (0, 0) ties 3, 6, 9; window (0, 1) ties 6, 9; the others hold only the centre.
    assert_eq!(dy.into_raw_vec_and_offset().0, vec![6.0, 7.5, 9.0, 9.0]);
    // The transpose of the equal split: ⟨J·v, w⟩ = ⟨v, Jᵀw⟩ at the ties too.
    let (v, w) = (randn((1, 1, 3, 3), 2600), randn((1, 1, 2, 2), 2601));
    let (_, pullback) = max_pool2d_vjp(&x, 2, 1);
    let lhs = (max_pool2d_jvp(&x, 2, 1, &v).1 * &w).sum();
    let rhs = (&v * &pullback(w.clone())).sum();
    assert!(
        (lhs - rhs).abs() <= 1e-15 * (lhs.abs() + 1.0),
        "{lhs} vs {rhs}"
    );
    // Second order: both cotangents are split among the ties like the gradient.
    let (y2, dy2, pullback) = max_pool2d_vjp_jvp(&x, 2, 1, &v);
    assert_eq!((y2, dy2), max_pool2d_jvp(&x, 2, 1, &v));
    let (_, first) = max_pool2d_vjp(&x, 2, 1);
    let (_, second) = max_pool2d_vjp(&x, 2, 1);
    let u = randn((1, 1, 2, 2), 2602);
    assert_eq!(pullback(w.clone(), u.clone()), (first(w), second(u)));
    // NaN is the maximum of its window, and passes its tangent.
    let x = array![[1.0, f64::NAN], [3.0, 2.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let dx = array![[1.0, 2.0], [3.0, 4.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    assert_eq!(max_pool2d_jvp(&x, 2, 2, &dx).1[[0, 0, 0, 0]], 2.0);
}

#[test]
fn flatten_and_unflatten_forward_and_second_order_rules_match_finite_differences() {
    let x = randn((3, 2, 4, 5), 2700);
    check_unary!(&x, 2701, flatten, flatten_jvp, flatten_vjp, flatten_vjp_jvp);
    let m = randn((3, 40), 2702);
    check_unary!(
        &m,
        2703,
        unflatten,
        unflatten_jvp,
        unflatten_vjp,
        unflatten_vjp_jvp,
        2,
        4,
        5
    );
    // Linear: the tangent is the function of the tangent, the gradient's tangent the pullback
    // of the cotangent's tangent.
    let dx = randn_like(&x, 2704);
    assert_eq!(flatten_jvp(&x, &dx), (flatten(&x), flatten(&dx)));
    let (_, _, pullback) = unflatten_vjp_jvp(&m, 2, 4, 5, &flatten(&dx));
    assert_eq!(pullback(x.clone(), dx.clone()), (flatten(&x), flatten(&dx)));
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
#[should_panic(
    expected = "conv2d_nchw: x has 3 channels but the filters have 2 (x [1, 3, 5, 5] is N×C×H×W, w [4, 2, 3, 3] is K×C×kh×kw)"
)]
fn rejects_different_channels() {
    conv2d_nchw(
        &Array4::<f64>::zeros((1, 3, 5, 5)),
        &Array4::zeros((4, 2, 3, 3)),
        &Array1::zeros(4),
        1,
        0,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw_vjp: the 5×5 filter is larger than the 2×2 input padded to 4×4 (padding 1; x [1, 1, 2, 2], w [1, 1, 5, 5])"
)]
fn rejects_a_filter_larger_than_the_padded_input() {
    let _ = conv2d_nchw_vjp(
        &Array4::<f64>::zeros((1, 1, 2, 2)),
        &Array4::zeros((1, 1, 5, 5)),
        &Array1::zeros(1),
        1,
        1,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw_no_bias: the 3×2 filter is larger than the 2×4 input (x [1, 1, 2, 4], w [1, 1, 3, 2])"
)]
fn rejects_a_filter_larger_than_the_input() {
    conv2d_nchw_no_bias(
        &Array4::<f64>::zeros((1, 1, 2, 4)),
        &Array4::zeros((1, 1, 3, 2)),
        1,
        0,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw: stride must be at least 1, got 0 (x [1, 1, 4, 4], w [1, 1, 2, 2])"
)]
fn rejects_stride_zero() {
    conv2d_nchw(
        &Array4::<f64>::zeros((1, 1, 4, 4)),
        &Array4::zeros((1, 1, 2, 2)),
        &Array1::zeros(1),
        0,
        0,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw: the bias has 2 entries but there are 3 filters (w [3, 1, 2, 2] is K×C×kh×kw)"
)]
fn rejects_a_bias_of_the_wrong_length() {
    conv2d_nchw(
        &Array4::<f64>::zeros((1, 1, 4, 4)),
        &Array4::zeros((3, 1, 2, 2)),
        &Array1::zeros(2),
        1,
        0,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw_no_bias_vjp: the filters must not be empty, got 0×2 (w [1, 1, 0, 2])"
)]
fn rejects_empty_filters() {
    let _ = conv2d_nchw_no_bias_vjp(
        &Array4::<f64>::zeros((1, 1, 4, 4)),
        &Array4::zeros((1, 1, 0, 2)),
        1,
        0,
    );
}

#[test]
#[should_panic(
    expected = "conv2d_nchw_vjp: the cotangent has shape [1, 1, 3, 3], but the value has shape [1, 1, 2, 2]"
)]
fn rejects_a_cotangent_of_the_wrong_shape() {
    let (_, pullback) = conv2d_nchw_vjp(
        &Array4::<f64>::zeros((1, 1, 3, 3)),
        &Array4::zeros((1, 1, 2, 2)),
        &Array1::zeros(1),
        1,
        0,
    );
    let _ = pullback(Array4::zeros((1, 1, 3, 3)));
}

#[test]
#[should_panic(expected = "conv2d: the 3×3 filter is larger than the 2×5 input")]
fn conv2d_rejects_a_filter_larger_than_the_input() {
    conv2d(&Array2::<f64>::zeros((2, 5)), &Array2::zeros((3, 3)));
}

#[test]
#[should_panic(expected = "conv2d_vjp: the filter must not be empty, got 2×0")]
fn conv2d_rejects_an_empty_filter() {
    let _ = conv2d_vjp(&Array2::<f64>::zeros((2, 5)), &Array2::zeros((2, 0)));
}

#[test]
#[should_panic(
    expected = "conv2d_vjp: the cotangent has shape [2, 2], but the value has shape [1, 2]"
)]
fn conv2d_rejects_a_cotangent_of_the_wrong_shape() {
    let (_, pullback) = conv2d_vjp(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((2, 2)));
    let _ = pullback(Array2::zeros((2, 2)));
}

#[test]
#[should_panic(expected = "conv1d: the filter (length 4) is longer than the input (length 3)")]
fn conv1d_rejects_a_filter_longer_than_the_input() {
    conv1d(&Array1::<f64>::zeros(3), &Array1::zeros(4));
}

#[test]
#[should_panic(expected = "conv1d_vjp: the filter must not be empty")]
fn conv1d_rejects_an_empty_filter() {
    let _ = conv1d_vjp(&Array1::<f64>::zeros(3), &Array1::zeros(0));
}

#[test]
#[should_panic(
    expected = "max_pool2d: the 3×3 window is larger than the 2×5 input (x [1, 1, 2, 5] is N×C×H×W)"
)]
fn max_pool_rejects_a_window_larger_than_the_input() {
    max_pool2d(&Array4::<f64>::zeros((1, 1, 2, 5)), 3, 1);
}

#[test]
#[should_panic(expected = "max_pool2d_vjp: stride must be at least 1, got 0 (x [1, 1, 4, 4])")]
fn max_pool_rejects_stride_zero() {
    let _ = max_pool2d_vjp(&Array4::<f64>::zeros((1, 1, 4, 4)), 2, 0);
}

#[test]
#[should_panic(expected = "avg_pool2d: the window size must be at least 1, got 0 (x [1, 1, 4, 4])")]
fn avg_pool_rejects_size_zero() {
    avg_pool2d(&Array4::<f64>::zeros((1, 1, 4, 4)), 0, 1);
}

#[test]
#[should_panic(
    expected = "avg_pool2d_vjp: the cotangent has shape [1, 1, 2, 2], but the value has shape [1, 1, 1, 1]"
)]
fn avg_pool_rejects_a_cotangent_of_the_wrong_shape() {
    let (_, pullback) = avg_pool2d_vjp(&Array4::<f64>::zeros((1, 1, 2, 2)), 2, 2);
    let _ = pullback(Array4::zeros((1, 1, 2, 2)));
}

#[test]
#[should_panic(
    expected = "unflatten: x has 10 columns, but channels·height·width = 2·2·2 = 8 (x [3, 10])"
)]
fn unflatten_rejects_the_wrong_number_of_columns() {
    unflatten(&Array2::<f64>::zeros((3, 10)), 2, 2, 2);
}

#[test]
#[should_panic(
    expected = "flatten_vjp: the cotangent has shape [2, 5], but the value has shape [2, 6]"
)]
fn flatten_rejects_a_cotangent_of_the_wrong_shape() {
    let (_, pullback) = flatten_vjp(&Array4::<f64>::zeros((2, 1, 2, 3)));
    let _ = pullback(Array2::zeros((2, 5)));
}

#[test]
#[should_panic(
    expected = "Conv2dConfig::output_size: the 5×5 filter is larger than the 3×2 input padded to 5×4"
)]
fn config_rejects_a_filter_larger_than_the_padded_input() {
    // Cannot happen with equal padding on both axes; here the width is the problem.
    Conv2dConfig::new(1, 1).output_size((3, 2), (5, 5));
}

// ---------------------------------------------------------------------------------------------
// Pullbacks own what they read
// ---------------------------------------------------------------------------------------------

#[test]
fn pullbacks_outlive_their_arguments() {
    // As in generated code: the arguments are locals of a function that returns the pullbacks.
    // This compiles only because no pullback borrows its arguments.
    #[allow(clippy::type_complexity)]
    fn make() -> Vec<Box<dyn FnOnce() -> f64>> {
        let x = randn((2, 2, 5, 5), 1400);
        let w = randn((3, 2, 3, 3), 1401);
        let b = randn(3, 1402);
        let x2 = randn((5, 5), 1403);
        let w2 = randn((2, 2), 1404);
        let x1 = randn(6, 1405);
        let w1 = randn(3, 1406);
        let m = randn((2, 8), 1407);
        let (_, conv_pb) = conv2d_nchw_vjp(&x, &w, &b, 2, 1);
        let (_, no_bias_pb) = conv2d_nchw_no_bias_vjp(&x, &w, 1, 0);
        let (_, conv2d_pb) = conv2d_vjp(&x2, &w2);
        let (_, conv1d_pb) = conv1d_vjp(&x1, &w1);
        let (_, max_pb) = max_pool2d_vjp(&x, 2, 2);
        let (_, avg_pb) = avg_pool2d_vjp(&x, 2, 1);
        let (_, flatten_pb) = flatten_vjp(&x);
        let (_, unflatten_pb) = unflatten_vjp(&m, 2, 2, 2);
        // The second-order pullbacks own what they read too, tangents included.
        let (_, _, conv2_pb) = conv2d_nchw_vjp_jvp(&x, &w, &b, 2, 1, &x, &w, &b);
        let (_, _, no_bias2_pb) = conv2d_nchw_no_bias_vjp_jvp(&x, &w, 1, 0, &x, &w);
        let (_, _, conv2d2_pb) = conv2d_vjp_jvp(&x2, &w2, &x2, &w2);
        let (_, _, conv1d2_pb) = conv1d_vjp_jvp(&x1, &w1, &x1, &w1);
        let (_, _, max2_pb) = max_pool2d_vjp_jvp(&x, 2, 2, &x);
        let (_, _, avg2_pb) = avg_pool2d_vjp_jvp(&x, 2, 1, &x);
        let (_, _, flatten2_pb) = flatten_vjp_jvp(&x, &x);
        let (_, _, unflatten2_pb) = unflatten_vjp_jvp(&m, 2, 2, 2, &m);
        drop((x, w, b, x2, w2, x1, w1, m));
        vec![
            Box::new(move || conv_pb(Array4::ones((2, 3, 3, 3))).1.sum()),
            Box::new(move || no_bias_pb(Array4::ones((2, 3, 3, 3))).0.sum()),
            Box::new(move || conv2d_pb(Array2::ones((4, 4))).0.sum()),
            Box::new(move || conv1d_pb(Array1::ones(4)).1.sum()),
            Box::new(move || max_pb(Array4::ones((2, 2, 2, 2))).sum()),
            Box::new(move || avg_pb(Array4::ones((2, 2, 4, 4))).sum()),
            Box::new(move || flatten_pb(Array2::ones((2, 50))).sum()),
            Box::new(move || unflatten_pb(Array4::ones((2, 2, 2, 2))).sum()),
            Box::new(move || {
                let ones = || Array4::ones((2, 3, 3, 3));
                conv2_pb(ones(), ones()).1.1.sum()
            }),
            Box::new(move || {
                let ones = || Array4::ones((2, 3, 3, 3));
                no_bias2_pb(ones(), ones()).1.0.sum()
            }),
            Box::new(move || {
                conv2d2_pb(Array2::ones((4, 4)), Array2::ones((4, 4)))
                    .1
                    .0
                    .sum()
            }),
            Box::new(move || conv1d2_pb(Array1::ones(4), Array1::ones(4)).1.1.sum()),
            Box::new(move || {
                let ones = || Array4::ones((2, 2, 2, 2));
                max2_pb(ones(), ones()).1.sum()
            }),
            Box::new(move || {
                let ones = || Array4::ones((2, 2, 4, 4));
                avg2_pb(ones(), ones()).1.sum()
            }),
            Box::new(move || {
                flatten2_pb(Array2::ones((2, 50)), Array2::ones((2, 50)))
                    .1
                    .sum()
            }),
            Box::new(move || {
                let ones = || Array4::ones((2, 2, 2, 2));
                unflatten2_pb(ones(), ones()).1.sum()
            }),
        ]
    }
    for pullback in make() {
        assert!(pullback().is_finite());
    }
}
