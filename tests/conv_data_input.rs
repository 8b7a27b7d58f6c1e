//! A convolution over images nothing differentiated reaches (the first layer of a CNN, `x` left
//! out of `wrt`) calls the pullback that leaves out the images' gradient. The filter and bias
//! gradients must be the same, bit for bit, as where the images are differentiated too; both
//! are checked against central finite differences, and the images' gradient (where it is
//! wanted) against the adjoint identity ⟨∂x, v⟩ = d/dt f(x + t·v).

use autodiff::check::gradcheck;
use autodiff::{Differentiable, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4};

#[derive(Clone, Debug, Differentiable)]
struct Net {
    k1: Array4<f64>,
    c1: Array1<f64>,
    k2: Array4<f64>,
    w: Array2<f64>,
}

/// Two convolutions (with and without bias), ReLU, pooling and a dense layer, over data `x`.
#[differentiate(wrt(p))]
fn loss_over_data(p: &Net, x: &Array4<f64>, labels: &[usize]) -> f64 {
    let a1 = nn::relu(&conv::conv2d_nchw(x, &p.k1, &p.c1, 1, 1));
    let p1 = conv::max_pool2d(&a1, 2, 2);
    let a2 = conv::conv2d_nchw_no_bias(&p1, &p.k2, 1, 0).tanh();
    nn::cross_entropy(&conv::flatten(&a2).dot(&p.w), labels)
}

/// The same loss with the images differentiated too.
#[differentiate]
fn loss_all(p: &Net, x: &Array4<f64>, labels: &[usize]) -> f64 {
    let a1 = nn::relu(&conv::conv2d_nchw(x, &p.k1, &p.c1, 1, 1));
    let p1 = conv::max_pool2d(&a1, 2, 2);
    let a2 = conv::conv2d_nchw_no_bias(&p1, &p.k2, 1, 0).tanh();
    nn::cross_entropy(&conv::flatten(&a2).dot(&p.w), labels)
}

/// A first layer without bias over data, then a sum of squares.
#[differentiate(wrt(k))]
fn no_bias_over_data(k: &Array4<f64>, x: &Array4<f64>) -> f64 {
    let z = conv::conv2d_nchw_no_bias(x, k, 2, 1);
    (&z * &z).sum()
}

fn wave(shape: (usize, usize, usize, usize), phase: f64) -> Array4<f64> {
    let mut k = 0.0;
    Array4::from_shape_fn(shape, |_| {
        k += 1.0;
        (k * 0.37 + phase).sin()
    })
}

fn setup() -> (Net, Array4<f64>, Vec<usize>) {
    let p = Net {
        k1: wave((3, 2, 3, 3), 0.1) * 0.5,
        c1: Array1::from(vec![0.05, -0.1, 0.2]),
        k2: wave((4, 3, 2, 2), 0.7) * 0.5,
        w: Array2::from_shape_fn((36, 3), |(i, j)| ((i * 3 + j) as f64 * 0.11).cos() * 0.3),
    };
    let x = wave((2, 2, 8, 8), 1.3);
    (p, x, vec![2, 0])
}

#[test]
fn filter_gradients_over_data_match_the_full_pullback_bit_for_bit() {
    let (p, x, labels) = setup();
    let (y, g) = loss_over_data_grad(&p, &x, &labels);
    let (y_all, (g_all, gx)) = loss_all_grad(&p, &x, &labels);
    assert_eq!(y, y_all);
    assert_eq!(g.k1, g_all.k1);
    assert_eq!(g.c1, g_all.c1);
    assert_eq!(g.k2, g_all.k2);
    assert_eq!(g.w, g_all.w);
    assert!(g.k1.iter().any(|v| *v != 0.0) && g.k2.iter().any(|v| *v != 0.0));
    let r = gradcheck(|q: &Net| loss_over_data(q, &x, &labels), &p, &g);
    assert!(r.passed(), "{r}");
    // The images' gradient, where it is wanted: ⟨∂x, v⟩ against a central difference along v.
    let v = wave(x.dim(), 2.9);
    let h = 1e-6;
    let fd = (loss_all(&p, &(&x + &(&v * h)), &labels) - loss_all(&p, &(&x - &(&v * h)), &labels))
        / (2.0 * h);
    let dot: f64 = (&gx * &v).sum();
    assert!(
        (dot - fd).abs() < 1e-7 * (1.0 + fd.abs()),
        "⟨∂x, v⟩ = {dot}, FD {fd}"
    );
}

#[test]
fn no_bias_first_layer_over_data() {
    let k = wave((2, 3, 3, 3), 0.4);
    let x = wave((2, 3, 5, 5), 0.9);
    let (y, g) = no_bias_over_data_grad(&k, &x);
    let (_, pullback) = conv::conv2d_nchw_no_bias_vjp(&x, &k, 2, 1);
    let z = conv::conv2d_nchw_no_bias(&x, &k, 2, 1);
    assert_eq!(y, (&z * &z).sum());
    // ∂/∂k of Σz² is the pullback of 2z.
    let (_, dk) = pullback(&z * 2.0);
    assert_eq!(g, dk);
    let r = gradcheck(|k: &Array4<f64>| no_bias_over_data(k, &x), &k, &g);
    assert!(r.passed(), "{r}");
}

#[test]
fn pullback_without_input_leaves_the_images_gradient_empty() {
    let (p, x, _) = setup();
    let (z, pb) = conv::conv2d_nchw_vjp(&x, &p.k1, &p.c1, 1, 1);
    let (z2, pb2) = conv::conv2d_nchw_vjp_without_input(&x, &p.k1, &p.c1, 1, 1);
    assert_eq!(z, z2);
    let gz = wave(z.dim(), 0.2);
    let (dx, dk, dc) = pb(gz.clone());
    let (dx2, dk2, dc2) = pb2(gz);
    assert_eq!(dx.dim(), x.dim());
    assert_eq!(dx2.len(), 0);
    assert_eq!((dk, dc), (dk2, dc2));
}
