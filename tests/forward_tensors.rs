//! Forward mode (`f_jvp`) through ndarray tensors, `autodiff::nn` and `autodiff::conv`: products
//! (`dot` of every shape pair), `t`, broadcasting arithmetic with arrays and scalars, elementwise
//! float methods, `sum`, `mean`, `sum_axis`, `mean_axis`, element reads, `slice`, `view`,
//! `insert_axis`, reshapes; every `nn` function and every `conv` function inside differentiated
//! functions; parameter structs of arrays (`#[derive(Differentiable)]`, nested); layers in a loop;
//! `f32` arrays; array results.
//!
//! Each function is checked along seeded random directions (see `common::forward`): the tangent
//! against central differences along the direction, against `f_vjp` by the dot-product test (for
//! array results too, with random array cotangents), the value against the function's, bit for
//! bit, and against an analytic directional derivative where it is short. Inputs come from a
//! seeded generator, away from the kinks of `relu`, `abs` and `max_pool2d` by more than the step.

use autodiff::check::random_direction;
use autodiff::{Differentiable, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4, Axis, array, s};

mod common;
use common::*;

/// A seeded array in [−1, 1) of the given shape.
fn seeded<D: ndarray::Dimension>(
    shape: impl ndarray::ShapeBuilder<Dim = D>,
    seed: u64,
) -> ndarray::Array<f64, D> {
    random_direction(&ndarray::Array::zeros(shape), seed)
}

// ---------------------------------------------------------------------------------------------
// Products, transposes, broadcasting, reductions
// ---------------------------------------------------------------------------------------------

/// A one-hidden-layer network with a sigmoid and a mean squared error.
#[differentiate(wrt(w, c, u))]
fn layer_loss(
    w: &Array2<f64>,
    c: &Array1<f64>,
    u: &Array2<f64>,
    inputs: &Array2<f64>,
    targets: &Array2<f64>,
) -> f64 {
    let hidden = nn::sigmoid(&(inputs.dot(w) + c));
    nn::mse(&hidden.dot(u), targets)
}

/// Elementwise methods, scalar broadcasting and arithmetic between arrays; an array result.
#[differentiate]
fn elementwise(a: &Array2<f64>, s: f64) -> Array2<f64> {
    let b = (a * s).tanh() * 2.0 + a.exp() / 4.0;
    let c = a * a * s - a.powi(3);
    b - c + a.t().dot(a).sum()
}

/// Every product shape, reductions along axes, the mean, element reads.
#[differentiate]
fn reductions(a: &Array2<f64>, u: &Array1<f64>) -> f64 {
    let cols = a.sum_axis(Axis(0));
    let rows = a.mean_axis(Axis(1)).unwrap();
    let au = a.dot(u);
    let ra = rows.dot(a);
    let uu = u.dot(u);
    let aat = a.dot(&a.t());
    cols.dot(&ra) + au.dot(&rows) * uu + a.mean().unwrap() * a[[1, 2]] + aat.sum() * a[[0, 1]]
}

#[test]
fn products_broadcasting_and_reductions() {
    let x = seeded((4, 3), 1);
    let y = seeded((4, 1), 2);
    let params = (seeded((3, 5), 3), seeded(5, 4), seeded((5, 1), 5));
    forward("layer loss").check(
        &params,
        |p| layer_loss(&p.0, &p.1, &p.2, &x, &y),
        |p, v| layer_loss_jvp(&p.0, &p.1, &p.2, &x, &y, &v.0, &v.1, &v.2),
        |p, w| {
            let (value, pullback) = layer_loss_vjp(&p.0, &p.1, &p.2, &x, &y);
            (value, pullback(w))
        },
    );

    let a = seeded((2, 3), 6);
    for s in [0.7, -1.3] {
        let pairs = forward("elementwise").check(
            &(a.clone(), s),
            |p| elementwise(&p.0, p.1),
            |p, v| elementwise_jvp(&p.0, p.1, &v.0, v.1),
            |p, w| {
                let (value, pullback) = elementwise_vjp(&p.0, p.1);
                (value, pullback(w))
            },
        );
        for ((da, ds), t) in pairs {
            // d[2 tanh(sa) + eᵃ/4 − s·a² + a³ + Σ aᵀa] =
            //   2(1 − tanh²(sa))(s·da + a·ds) + eᵃ·da/4 − a²·ds − 2sa·da + 3a²·da + Σ(daᵀa + aᵀda)
            let th = (&a * s).mapv(f64::tanh);
            let expected = (1.0 - &th * &th) * (&da * s + &a * ds) * 2.0 + a.exp() * &da / 4.0
                - &a * &a * ds
                - &a * &da * (2.0 * s)
                + &a * &a * &da * 3.0
                + (da.t().dot(&a) + a.t().dot(&da)).sum();
            for (got, want) in t.iter().zip(&expected) {
                close("elementwise", *got, *want, TOL);
            }
        }
    }

    let u = array![0.3, -0.8, 1.1];
    forward("reductions").check(
        &(a.clone(), u),
        |p| reductions(&p.0, &p.1),
        |p, v| reductions_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (value, pullback) = reductions_vjp(&p.0, &p.1);
            (value, pullback(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Every elementwise float method on arrays (the runtime's array rules, not the scalar forms)
// ---------------------------------------------------------------------------------------------

/// One module per unary method: `a.m()` on a vector of the list's points, whose tangent is
/// `m'(a) ∘ v` elementwise.
macro_rules! array_rule {
    ($m:ident, |$x:ident| $derivative:expr, [$($p:expr),* $(,)?]) => {
        mod $m {
            use super::*;

            #[differentiate]
            pub fn elementwise(a: &Array1<f64>) -> Array1<f64> {
                a.$m()
            }

            /// The analytic derivative.
            fn derivative($x: f64) -> f64 {
                $derivative
            }

            #[test]
            fn rule() {
                let a = Array1::from(vec![$($p),*]);
                let what = format!("{} on {a}", stringify!($m));
                let pairs = forward(&what).check(
                    &a,
                    elementwise,
                    elementwise_jvp,
                    |a, w| {
                        let (value, pullback) = elementwise_vjp(a);
                        (value, pullback(w))
                    },
                );
                for (v, t) in pairs {
                    for i in 0..a.len() {
                        close(&what, t[i], derivative(a[i]) * v[i], TOL);
                    }
                }
            }
        }
    };
}

unary_methods!(array_rule);

/// The methods of an array with a float operand (a constant here) and `powi`.
#[differentiate]
fn array_binary(a: &Array1<f64>, p: f64) -> Array1<f64> {
    a.powf(p) + a.log(p) * 2.0 + a.hypot(p) - a.powi(3) + a.clamp(0.2, 1.5)
}

#[test]
fn array_methods_with_an_operand() {
    // ∂a = p·a^{p−1} + 2/(a ln p) + a/h − 3a² + [0.2 < a < 1.5],
    // ∂p = a^p ln a − 2 log_p(a)/(p ln p) + p/h, with h = √(a² + p²).
    let a = array![0.3, 0.9, 1.7];
    for p in [0.5, 2.5] {
        let pairs = forward(format!("array binary, p = {p}")).check(
            &(a.clone(), p),
            |q| array_binary(&q.0, q.1),
            |q, v| array_binary_jvp(&q.0, q.1, &v.0, v.1),
            |q, w| {
                let (value, pullback) = array_binary_vjp(&q.0, q.1);
                (value, pullback(w))
            },
        );
        for ((da, dp), t) in pairs {
            for i in 0..3 {
                let (x, h) = (a[i], a[i].hypot(p));
                let inside = if x > 0.2 && x < 1.5 { 1.0 } else { 0.0 };
                let gx = p * x.powf(p - 1.0) + 2.0 / (x * p.ln()) + x / h - 3.0 * x * x + inside;
                let gp = x.powf(p) * x.ln() - 2.0 * x.log(p) / (p * p.ln()) + p / h;
                close("array binary", t[i], gx * da[i] + gp * dp, TOL);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regions, views, reshapes
// ---------------------------------------------------------------------------------------------

/// Region reads, a view with an inserted axis, a product with a transposed region; an array
/// result.
#[differentiate]
fn regions(a: &Array2<f64>, v: &Array1<f64>) -> Array1<f64> {
    let top = a.slice(s![0..2, ..]);
    let col = a.slice(s![.., 1]);
    let row = v.view().insert_axis(Axis(0));
    let p = row.dot(&top.t());
    let q = p.into_shape_with_order(2).unwrap();
    q * col.sum() + v.slice(s![1..3]).to_owned()
}

/// Row-major reshapes between layers.
#[differentiate]
fn reshaped(a: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let flat = a.to_owned().into_shape_with_order(6).unwrap();
    let sq = (&flat * &flat).into_shape_with_order((3, 2)).unwrap();
    sq.dot(w).sum() + flat.sum()
}

#[test]
fn regions_views_and_reshapes() {
    let a = seeded((3, 4), 11);
    let v = array![0.5, -1.0, 2.0, 0.25];
    let pairs = forward("regions").check(
        &(a.clone(), v.clone()),
        |p| regions(&p.0, &p.1),
        |p, d| regions_jvp(&p.0, &p.1, &d.0, &d.1),
        |p, w| {
            let (value, pullback) = regions_vjp(&p.0, &p.1);
            (value, pullback(w))
        },
    );
    for ((da, dv), t) in pairs {
        // q = top·v (2 rows), c = Σ column 1: d(q·c + v[1..3]) = dq·c + q·dc + dv[1..3].
        let top = a.slice(s![0..2, ..]);
        let (q, dq) = (top.dot(&v), da.slice(s![0..2, ..]).dot(&v) + top.dot(&dv));
        let (c, dc) = (a.column(1).sum(), da.column(1).sum());
        let expected = dq * c + q * dc + dv.slice(s![1..3]);
        for (got, want) in t.iter().zip(&expected) {
            close("regions", *got, *want, TOL);
        }
    }
    let a = seeded((2, 3), 12);
    forward("reshaped").check(
        &(a, array![0.5, -1.5]),
        |p| reshaped(&p.0, &p.1),
        |p, d| reshaped_jvp(&p.0, &p.1, &d.0, &d.1),
        |p, w| {
            let (value, pullback) = reshaped_vjp(&p.0, &p.1);
            (value, pullback(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// autodiff::nn
// ---------------------------------------------------------------------------------------------

/// Every activation and the softmax family, on a matrix of logits.
#[differentiate]
fn activations(z: &Array2<f64>) -> f64 {
    let a = nn::softmax(z) * nn::softplus(z);
    let b = nn::log_sum_exp(z).sum() + nn::log_softmax(z).mean().unwrap();
    a.sum() + b + nn::relu(z).sum() * 0.5 + nn::sigmoid(z).sum()
}

/// The activations on scalars, and `log_sum_exp` of a vector.
#[differentiate]
fn scalar_activations(x: f64, u: &Array1<f64>) -> f64 {
    nn::softplus(&x) * nn::sigmoid(&x) + nn::relu(&(x - 0.3)) + nn::log_sum_exp(&(u * x))
}

/// Cross-entropy of a linear classifier.
#[differentiate(wrt(w))]
fn classify(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    nn::cross_entropy(&x.dot(w), labels)
}

/// Batch normalization (training mode): an array result.
#[differentiate]
fn normalized(x: &Array2<f64>, gamma: &Array1<f64>, beta: &Array1<f64>) -> Array2<f64> {
    nn::batch_norm(x, gamma, beta, 1e-5)
}

#[test]
fn nn_functions() {
    let z = seeded((3, 4), 21) * 2.0;
    forward("activations").check(&z, activations, activations_jvp, |z, w| {
        let (value, pullback) = activations_vjp(z);
        (value, pullback(w))
    });
    let u = array![0.5, -1.0, 2.0];
    for x in [-0.9, 1.4] {
        forward("scalar activations").check(
            &(x, u.clone()),
            |p| scalar_activations(p.0, &p.1),
            |p, v| scalar_activations_jvp(p.0, &p.1, v.0, &v.1),
            |p, w| {
                let (value, pullback) = scalar_activations_vjp(p.0, &p.1);
                (value, pullback(w))
            },
        );
    }
    let x = seeded((5, 3), 22);
    let labels = [0usize, 2, 1, 1, 3];
    forward("classify").check(
        &seeded((3, 4), 23),
        |w| classify(w, &x, &labels),
        |w, dw| classify_jvp(w, &x, &labels, dw),
        |w, g| {
            let (value, pullback) = classify_vjp(w, &x, &labels);
            (value, pullback(g))
        },
    );
    let p = (
        seeded((5, 3), 24),
        array![1.0, 0.5, -2.0],
        array![0.1, 0.0, -0.3],
    );
    forward("batch norm").check(
        &p,
        |p| normalized(&p.0, &p.1, &p.2),
        |p, v| normalized_jvp(&p.0, &p.1, &p.2, &v.0, &v.1, &v.2),
        |p, w| {
            let (value, pullback) = normalized_vjp(&p.0, &p.1, &p.2);
            (value, pullback(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// autodiff::conv, parameter structs of arrays
// ---------------------------------------------------------------------------------------------

/// The lecture's 2D convolution and a 1D convolution (an array result).
#[differentiate]
fn conv_plain(
    x: &Array2<f64>,
    w: &Array2<f64>,
    u: &Array1<f64>,
    k: &Array1<f64>,
) -> (f64, Array1<f64>) {
    let y = conv::conv2d(x, w);
    ((&y * &y).sum(), conv::conv1d(u, k))
}

/// A small CNN's parameters.
#[derive(Clone, Debug, Differentiable)]
struct Cnn {
    kernel: Array4<f64>,
    bias: Array1<f64>,
    second: Array4<f64>,
    dense: Array2<f64>,
}

/// Batched convolutions (with bias, padding; without bias, stride 2), both poolings, flatten and
/// unflatten, relu, a dense layer and log-sum-exp.
#[differentiate(wrt(p))]
fn cnn(p: &Cnn, x: &Array4<f64>) -> f64 {
    let a = nn::relu(&conv::conv2d_nchw(x, &p.kernel, &p.bias, 1, 1));
    let pooled = conv::max_pool2d(&a, 2, 2) + conv::avg_pool2d(&a, 2, 2);
    let flat = conv::flatten(&pooled);
    let back = conv::unflatten(&flat, 2, 2, 2);
    let b = conv::conv2d_nchw_no_bias(&back, &p.second, 2, 1);
    let h = conv::flatten(&b).dot(&p.dense);
    nn::log_sum_exp(&h).sum()
}

#[test]
fn conv_functions() {
    let p = (
        seeded((5, 4), 31),
        seeded((2, 3), 32),
        seeded(6, 33),
        seeded(3, 34),
    );
    forward("conv plain").check(
        &p,
        |p| conv_plain(&p.0, &p.1, &p.2, &p.3),
        |p, v| conv_plain_jvp(&p.0, &p.1, &p.2, &p.3, &v.0, &v.1, &v.2, &v.3),
        |p, w| {
            let (value, pullback) = conv_plain_vjp(&p.0, &p.1, &p.2, &p.3);
            (value, pullback(w))
        },
    );
    let x = seeded((2, 1, 4, 4), 35);
    let params = Cnn {
        kernel: seeded((2, 1, 3, 3), 36),
        bias: seeded(2, 37),
        second: seeded((3, 2, 2, 2), 38),
        dense: seeded((12, 4), 39),
    };
    forward("cnn").check(
        &params,
        |p| cnn(p, &x),
        |p, dp| cnn_jvp(p, &x, dp),
        |p, w| {
            let (value, pullback) = cnn_vjp(p, &x);
            (value, pullback(w))
        },
    );
}

/// A dense layer and a network of one layer and a linear read-out, nested.
#[derive(Clone, Debug, Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct Net {
    hidden: Dense,
    out: Array1<f64>,
    shift: f64,
}

/// ½(out·tanh(W x + b) + shift − y)², through nested fields.
#[differentiate(wrt(p))]
fn net_loss(p: &Net, x: &Array1<f64>, y: f64) -> f64 {
    let h = (p.hidden.w.dot(x) + &p.hidden.b).tanh();
    let r = h.dot(&p.out) + p.shift - y;
    0.5 * r * r
}

/// The same layer applied `depth` times, with a residual connection.
#[differentiate(wrt(w, b))]
fn deep(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, depth: usize) -> f64 {
    let mut h = x.to_owned();
    for _ in 0..depth {
        h = nn::sigmoid(&(h.dot(w) + b)) + &h * 0.5;
    }
    h.sum()
}

/// f32 arrays through the same rules.
#[differentiate]
fn single(a: &Array2<f32>, s: f32) -> f32 {
    let z = a.dot(&a.t()) * s;
    (z.tanh() + a.sum()).sum() + a[[0, 1]] * s
}

#[test]
fn parameter_structs_loops_and_f32() {
    let net = Net {
        hidden: Dense {
            w: seeded((2, 3), 41),
            b: seeded(2, 42),
        },
        out: seeded(2, 43),
        shift: 0.25,
    };
    let (x, y) = (array![0.3, -0.7, 1.1], 0.4);
    let pairs = forward("net loss").check(
        &net,
        |p| net_loss(p, &x, y),
        |p, dp| net_loss_jvp(p, &x, y, dp),
        |p, w| {
            let (value, pullback) = net_loss_vjp(p, &x, y);
            (value, pullback(w))
        },
    );
    for (dp, t) in pairs {
        // r·dr with dr = dout·h + out·(1 − h²)∘(dW x + db) + dshift.
        let h = (net.hidden.w.dot(&x) + &net.hidden.b).tanh();
        let r = h.dot(&net.out) + net.shift - y;
        let dh = (1.0 - &h * &h) * (dp.hidden.w.dot(&x) + &dp.hidden.b);
        let dr = dp.out.dot(&h) + net.out.dot(&dh) + dp.shift;
        close("net loss", t, r * dr, TOL);
    }

    let x = seeded((3, 4), 44);
    let (w, b) = (seeded((4, 4), 45) * 0.5, seeded(4, 46));
    for depth in [0usize, 1, 3] {
        forward(format!("deep, depth {depth}")).check(
            &(w.clone(), b.clone()),
            |p| deep(&p.0, &p.1, &x, depth),
            |p, v| deep_jvp(&p.0, &p.1, &x, depth, &v.0, &v.1),
            |p, g| {
                let (value, pullback) = deep_vjp(&p.0, &p.1, &x, depth);
                (value, pullback(g))
            },
        );
    }

    let a = seeded((2, 3), 47).mapv(|v| v as f32);
    forward("single precision").check(
        &(a, 0.3f32),
        |p| single(&p.0, p.1),
        |p, v| single_jvp(&p.0, p.1, &v.0, v.1),
        |p, g| {
            let (value, pullback) = single_vjp(&p.0, p.1);
            (value, pullback(g))
        },
    );
}
