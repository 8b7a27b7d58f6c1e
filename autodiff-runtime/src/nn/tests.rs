//! Tests of the `nn` functions: spot values, stability at extreme inputs, and every rule against
//! central finite differences (see [`super::testing`]).

use ndarray::{Array1, Array2, Array3, Axis, ShapeBuilder, Zip, array};

use super::testing::{
    assert_all_close, check_hessian_symmetric, check_pullback, check_rules, check_unary, randn,
    randn_f32,
};
use super::*;
use crate::check::assert_close;

// -----------------------------------------------------------------------------------------
// Elementwise
// -----------------------------------------------------------------------------------------

#[test]
fn relu_pullback_matches_finite_differences() {
    let x = randn((5, 3), 1);
    // Finite differences must not straddle the kink.
    assert!(x.iter().all(|v| v.abs() > 1e-3));
    let w = randn((5, 3), 2);
    let (y, pullback) = relu_vjp(&x);
    assert_eq!(y, relu(&x));
    assert_eq!(y, x.mapv(|v| v.max(0.0)));
    let grad = pullback(w.clone());
    // relu'(x) = [x > 0]
    assert_eq!(
        grad,
        Zip::from(&x)
            .and(&w)
            .map_collect(|&x, &w| if x > 0.0 { w } else { 0.0 })
    );
    check_pullback(relu, &x, &w, &grad);

    let x3 = randn((2, 3, 4), 3);
    let w3 = randn((2, 3, 4), 4);
    let (_, pullback) = relu_vjp(&x3);
    check_pullback(relu, &x3, &w3, &pullback(w3.clone()));
}

#[test]
fn relu_at_zero_has_derivative_zero() {
    // The minimum-norm element of the Clarke gradient [0, 1].
    let (y, pullback) = relu_vjp(&0.0_f64);
    assert_eq!(y, 0.0);
    assert_eq!(pullback(1.0), 0.0);
    let (y, pullback) = relu_vjp(&-0.0_f32);
    assert!(y == 0.0 && y.is_sign_positive());
    assert_eq!(pullback(1.0), 0.0);
    let (y, pullback) = relu_vjp(&array![-1.0, 0.0, 2.0]);
    assert_eq!(y, array![0.0, 0.0, 2.0]);
    assert_eq!(pullback(array![3.0, 3.0, 3.0]), array![0.0, 0.0, 3.0]);
    // Inactive units get exactly 0, even from an infinite cotangent.
    let (_, pullback) = relu_vjp(&-1.0_f64);
    assert_eq!(pullback(f64::INFINITY), 0.0);
}

#[test]
fn relu_propagates_nan() {
    let (y, pullback) = relu_vjp(&f64::NAN);
    assert!(y.is_nan());
    assert_eq!(pullback(2.0), 2.0);
}

#[test]
fn scalar_elementwise_functions_match_finite_differences() {
    for x in [-3.0_f64, -0.4, 0.7, 2.5] {
        let (y, pullback) = relu_vjp(&x);
        assert_eq!(y, relu(&x));
        check_pullback(|x: &f64| relu(x), &x, &1.5, &pullback(1.5));
        let (y, pullback) = sigmoid_vjp(&x);
        assert_eq!(y, sigmoid(&x));
        check_pullback(|x: &f64| sigmoid(x), &x, &1.5, &pullback(1.5));
        let (y, pullback) = softplus_vjp(&x);
        assert_eq!(y, softplus(&x));
        check_pullback(|x: &f64| softplus(x), &x, &1.5, &pullback(1.5));
    }
    // f32, with the f32 defaults of gradcheck.
    for x in [-2.0_f32, 0.5, 1.5] {
        let (_, pullback) = sigmoid_vjp(&x);
        check_pullback(|x: &f32| sigmoid(x), &x, &1.0, &pullback(1.0));
        let (_, pullback) = softplus_vjp(&x);
        check_pullback(|x: &f32| softplus(x), &x, &1.0, &pullback(1.0));
    }
}

#[test]
fn sigmoid_pullback_matches_finite_differences() {
    let x = randn((5, 3), 5);
    let w = randn((5, 3), 6);
    let (y, pullback) = sigmoid_vjp(&x);
    assert_eq!(y, sigmoid(&x));
    assert_all_close(&y, &x.mapv(|v| 1.0 / (1.0 + (-v).exp())), 1e-15);
    let grad = pullback(w.clone());
    // σ' = σ(1 − σ)
    assert_all_close(&grad, &(&w * &y.mapv(|s| s * (1.0 - s))), 1e-15);
    check_pullback(sigmoid, &x, &w, &grad);
}

#[test]
fn sigmoid_spot_values_and_stability() {
    assert_eq!(sigmoid(&0.0_f64), 0.5);
    let (_, pullback) = sigmoid_vjp(&0.0_f64);
    assert_eq!(pullback(1.0), 0.25);
    assert_eq!(sigmoid(&1000.0_f64), 1.0);
    assert_eq!(sigmoid(&-1000.0_f64), 0.0);
    assert_eq!(sigmoid(&f64::INFINITY), 1.0);
    assert_eq!(sigmoid(&f64::NEG_INFINITY), 0.0);
    let (_, pullback) = sigmoid_vjp(&1000.0_f64);
    assert_eq!(pullback(1.0), 0.0);
    // σ(−x) = 1 − σ(x), and the tails keep their relative accuracy.
    for x in [0.3_f64, 2.0, 7.5] {
        assert_close(sigmoid(&-x), 1.0 - sigmoid(&x), 1e-15);
    }
    let (_, pullback) = sigmoid_vjp(&40.0_f64);
    let d = pullback(1.0);
    assert!((d / (-40.0_f64).exp() - 1.0).abs() < 1e-12, "{d:e}");
    assert!((sigmoid(&-40.0_f64) / (-40.0_f64).exp() - 1.0).abs() < 1e-12);
}

#[test]
fn softplus_pullback_matches_finite_differences() {
    let x = randn((5, 3), 7);
    let w = randn((5, 3), 8);
    let (y, pullback) = softplus_vjp(&x);
    assert_eq!(y, softplus(&x));
    assert_all_close(&y, &x.mapv(|v| v.exp().ln_1p()), 1e-15);
    let grad = pullback(w.clone());
    // softplus' = σ
    assert_all_close(&grad, &(&w * &sigmoid(&x)), 1e-15);
    check_pullback(softplus, &x, &w, &grad);
}

#[test]
fn softplus_spot_values_and_stability() {
    assert_close(softplus(&0.0_f64), 2f64.ln(), 1e-16);
    let (_, pullback) = softplus_vjp(&0.0_f64);
    assert_eq!(pullback(1.0), 0.5);
    assert_eq!(softplus(&1000.0_f64), 1000.0);
    assert_eq!(softplus(&-1000.0_f64), 0.0);
    assert_eq!(softplus(&f64::INFINITY), f64::INFINITY);
    assert_eq!(softplus(&f64::NEG_INFINITY), 0.0);
    let (_, pullback) = softplus_vjp(&1000.0_f64);
    assert_eq!(pullback(2.0), 2.0);
    // ln(1 + e⁻⁴⁰) ≈ e⁻⁴⁰, to full relative accuracy.
    assert!((softplus(&-40.0_f64) / (-40.0_f64).exp() - 1.0).abs() < 1e-12);
    assert!(softplus(&-3.0_f32).is_finite());
}

#[test]
#[should_panic(
    expected = "relu_vjp: the cotangent has shape [2, 3], but the value has shape [3, 2]"
)]
fn elementwise_pullback_rejects_a_misshapen_cotangent() {
    let (_, pullback) = relu_vjp(&Array2::<f64>::ones((3, 2)));
    pullback(Array2::ones((2, 3)));
}

// -----------------------------------------------------------------------------------------
// Softmax family
// -----------------------------------------------------------------------------------------

#[test]
fn softmax_pullback_matches_finite_differences() {
    let z = randn((5, 3), 11);
    let w = randn((5, 3), 12);
    let (y, pullback) = softmax_vjp(&z);
    assert_eq!(y, softmax(&z));
    check_pullback(softmax, &z, &w, &pullback(w.clone()));

    let z1 = randn(4, 13);
    let w1 = randn(4, 14);
    let (_, pullback) = softmax_vjp(&z1);
    check_pullback(softmax, &z1, &w1, &pullback(w1.clone()));

    let z3 = randn((2, 3, 4), 15);
    let w3 = randn((2, 3, 4), 16);
    let (_, pullback) = softmax_vjp(&z3);
    check_pullback(softmax, &z3, &w3, &pullback(w3.clone()));
}

#[test]
fn softmax_rows_are_distributions() {
    let z = randn((5, 3), 17) * 4.0;
    let y = softmax(&z);
    for row in y.rows() {
        assert_close(row.sum(), 1.0, 1e-15);
        assert!(row.iter().all(|&p| p > 0.0));
    }
    // Row-wise: each row is the softmax of that row alone.
    assert_all_close(&y.row(2).to_owned(), &softmax(&z.row(2)), 1e-15);
    // Invariant to a shift of a row.
    assert_all_close(&softmax(&(&z + 100.0)), &y, 1e-14);
    // exp(zₖ)/Σ exp(zⱼ) where that does not overflow.
    let e = z.mapv(f64::exp);
    let expected = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    assert_all_close(&y, &expected, 1e-15);
}

#[test]
fn softmax_is_stable() {
    let y = softmax(&array![1000.0, 0.0]);
    assert!(y.iter().all(|v| v.is_finite()), "{y}");
    assert_eq!(y, array![1.0, 0.0]);
    assert_eq!(softmax(&array![-1000.0, -1000.0]), array![0.5, 0.5]);
    let (_, pullback) = softmax_vjp(&array![[1000.0, 1000.0, 0.0]]);
    let g = pullback(array![[1.0, -1.0, 0.5]]);
    assert!(g.iter().all(|v| v.is_finite()), "{g}");
    // y = [½, ½, 0]: ∂z = y ⊙ (g − ⟨g, y⟩) = [½, −½, 0]
    assert_eq!(g, array![[0.5, -0.5, 0.0]]);
    assert!(
        softmax(&array![1000.0_f32, 0.0])
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn softmax_handles_non_standard_layouts() {
    // A transposed view and a column-major array: lanes are along the logical last axis.
    let z = randn((3, 5), 18);
    let zt = z.t();
    let w = randn((5, 3), 19);
    let (y, pullback) = softmax_vjp(&zt);
    assert_all_close(&y, &softmax(&zt.to_owned()), 1e-15);
    let grad = pullback(w.clone());
    let mut fortran = Array2::<f64>::zeros((5, 3).f());
    fortran.assign(&zt);
    check_pullback(softmax, &fortran, &w, &grad);
    let (_, pullback) = log_softmax_vjp(&fortran);
    check_pullback(log_softmax, &fortran, &w, &pullback(w.clone()));
}

#[test]
fn log_softmax_pullback_matches_finite_differences() {
    let z = randn((5, 3), 21);
    let w = randn((5, 3), 22);
    let (y, pullback) = log_softmax_vjp(&z);
    assert_eq!(y, log_softmax(&z));
    check_pullback(log_softmax, &z, &w, &pullback(w.clone()));

    let z1 = randn(4, 23);
    let w1 = randn(4, 24);
    let (_, pullback) = log_softmax_vjp(&z1);
    check_pullback(log_softmax, &z1, &w1, &pullback(w1.clone()));
}

#[test]
fn log_softmax_spot_values_and_stability() {
    let z = randn((5, 3), 25);
    assert_all_close(&log_softmax(&z), &softmax(&z).mapv(f64::ln), 1e-14);
    for row in log_softmax(&z).rows() {
        assert_close(row.mapv(f64::exp).sum(), 1.0, 1e-15);
    }
    // Finite where the softmax underflows: ln softmax([1000, 0]) = [0, −1000].
    assert_eq!(log_softmax(&array![1000.0, 0.0]), array![0.0, -1000.0]);
    let (y, pullback) = log_softmax_vjp(&array![[1000.0, 0.0]]);
    assert_eq!(y, array![[0.0, -1000.0]]);
    // ∂z = g − softmax·Σg = [1, 1] − [1, 0]·2 = [−1, 1]
    assert_eq!(pullback(array![[1.0, 1.0]]), array![[-1.0, 1.0]]);
}

#[test]
fn log_sum_exp_pullback_matches_finite_differences() {
    // Vector → scalar.
    let z = randn(4, 31);
    let (y, pullback) = log_sum_exp_vjp(&z);
    assert_eq!(y, log_sum_exp(&z));
    assert_close(y, z.mapv(f64::exp).sum().ln(), 1e-15);
    let grad = pullback(-0.7);
    // ∂lse/∂z = softmax(z)
    assert_all_close(&grad, &(softmax(&z) * -0.7), 1e-15);
    check_pullback(log_sum_exp, &z, &-0.7, &grad);

    // Matrix → one value per row.
    let z = randn((5, 3), 32);
    let w = randn(5, 33);
    let (y, pullback) = log_sum_exp_vjp(&z);
    assert_eq!(y, log_sum_exp(&z));
    assert_all_close(&y, &z.mapv(f64::exp).sum_axis(Axis(1)).mapv(f64::ln), 1e-15);
    check_pullback(log_sum_exp, &z, &w, &pullback(w.clone()));

    // 3-D → matrix.
    let z: Array3<f64> = randn((2, 3, 4), 34);
    let w = randn((2, 3), 35);
    let (_, pullback) = log_sum_exp_vjp(&z);
    check_pullback(log_sum_exp, &z, &w, &pullback(w.clone()));
}

#[test]
fn log_sum_exp_spot_values_and_stability() {
    // ln(1 + 2) = ln 3
    assert_close(log_sum_exp(&array![0.0, 2f64.ln()]), 3f64.ln(), 1e-15);
    assert_eq!(log_sum_exp(&array![1000.0, 1000.0]), 1000.0 + 2f64.ln());
    assert_eq!(log_sum_exp(&array![-1000.0, -1000.0]), -1000.0 + 2f64.ln());
    assert_eq!(
        log_sum_exp(&array![f64::NEG_INFINITY, f64::NEG_INFINITY]),
        f64::NEG_INFINITY
    );
    assert_eq!(log_sum_exp(&Array1::<f64>::zeros(0)), f64::NEG_INFINITY);
    assert_eq!(log_sum_exp(&array![f64::INFINITY, 0.0]), f64::INFINITY);
    assert!(log_sum_exp(&array![f64::NAN, 0.0]).is_nan());
    assert_eq!(log_sum_exp(&array![[3.0], [-2.0]]), array![3.0, -2.0]);
    let (_, pullback) = log_sum_exp_vjp(&array![1000.0, 1000.0]);
    assert_eq!(pullback(2.0), array![1.0, 1.0]);
}

#[test]
#[should_panic(
    expected = "log_sum_exp_vjp: the cotangent has shape [4], but the value has shape [5]"
)]
fn log_sum_exp_pullback_rejects_a_misshapen_cotangent() {
    let (_, pullback) = log_sum_exp_vjp(&Array2::<f64>::zeros((5, 3)));
    pullback(Array1::zeros(4));
}

#[test]
#[should_panic(expected = "softmax: works along the last axis, but the array is 0-dimensional")]
fn softmax_rejects_a_0_dimensional_array() {
    softmax(&ndarray::arr0(1.0));
}

#[test]
fn softmax_family_in_single_precision() {
    // f32 instances, checked with gradcheck's f32 defaults.
    let z = randn_f32((5, 3), 41);
    let w = randn_f32((5, 3), 42);
    let (_, pullback) = softmax_vjp(&z);
    check_pullback(softmax, &z, &w, &pullback(w.clone()));
    let (_, pullback) = log_softmax_vjp(&z);
    check_pullback(log_softmax, &z, &w, &pullback(w.clone()));
    let labels = [0, 2, 1, 1, 0];
    let (_, pullback) = cross_entropy_vjp(&z, &labels);
    check_pullback(|z| cross_entropy(z, &labels), &z, &1.0, &pullback(1.0));
}

// -----------------------------------------------------------------------------------------
// Losses
// -----------------------------------------------------------------------------------------

#[test]
fn mse_pullback_matches_finite_differences() {
    let p = randn((5, 3), 51);
    let t = randn((5, 3), 52);
    let (value, pullback) = mse_vjp(&p, &t);
    assert_eq!(value, mse(&p, &t));
    assert_close(value, (&p - &t).mapv(|d| d * d).mean().unwrap(), 1e-15);
    let g = 1.7;
    let grad = pullback(g);
    // ∂p = 2g(p − t)/n, ∂t = −∂p
    assert_all_close(&grad.0, &((&p - &t) * (2.0 * g / 15.0)), 1e-15);
    assert_eq!(grad.1, -&grad.0);
    check_pullback(
        |(p, t): &(Array2<f64>, Array2<f64>)| mse(p, t),
        &(p, t),
        &g,
        &grad,
    );
}

#[test]
fn mse_spot_values() {
    assert_eq!(mse(&array![1.0, 2.0], &array![1.0, 4.0]), 2.0);
    assert_eq!(mse(&array![[3.0]], &array![[3.0]]), 0.0);
    assert!(mse(&Array1::<f64>::zeros(0), &Array1::zeros(0)).is_nan());
}

#[test]
#[should_panic(expected = "mse: shape mismatch, prediction [2, 3] vs target [3, 2]")]
fn mse_rejects_different_shapes() {
    mse(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((3, 2)));
}

#[test]
fn cross_entropy_pullback_matches_finite_differences() {
    let z = randn((5, 3), 61);
    let labels = [2, 0, 1, 1, 2];
    let (value, pullback) = cross_entropy_vjp(&z, &labels);
    assert_eq!(value, cross_entropy(&z, &labels));
    // −mean of the picked log-probabilities.
    let ls = log_softmax(&z);
    let picked: f64 = labels.iter().enumerate().map(|(i, &l)| ls[[i, l]]).sum();
    assert_close(value, -picked / 5.0, 1e-15);
    let g = -0.6;
    let grad = pullback(g);
    // ∂z = g(softmax − onehot)/N
    let mut expected = softmax(&z);
    for (i, &l) in labels.iter().enumerate() {
        expected[[i, l]] -= 1.0;
    }
    assert_all_close(&grad, &(expected * (g / 5.0)), 1e-15);
    for row in grad.rows() {
        assert_close(row.sum(), 0.0, 1e-15);
    }
    check_pullback(|z| cross_entropy(z, &labels), &z, &g, &grad);
}

#[test]
fn cross_entropy_spot_values_and_stability() {
    // Uniform logits: ln C whatever the labels.
    assert_close(
        cross_entropy(&Array2::<f64>::zeros((4, 3)), &[0, 1, 2, 0]),
        3f64.ln(),
        1e-15,
    );
    // Huge logits stay finite: a confident right answer costs ~0, a wrong one 1000.
    let logits = array![[1000.0, 0.0], [0.0, 1000.0]];
    assert_eq!(cross_entropy(&logits, &[0, 1]), 0.0);
    assert_eq!(cross_entropy(&logits, &[1, 1]), 500.0);
    let (value, pullback) = cross_entropy_vjp(&logits, &[1, 1]);
    assert_eq!(value, 500.0);
    assert_eq!(pullback(1.0), array![[0.5, -0.5], [0.0, 0.0]]);
    assert!(cross_entropy(&Array2::<f64>::zeros((0, 3)), &[]).is_nan());
}

#[test]
#[should_panic(expected = "cross_entropy: label 3 at row 1 is out of range for 3 classes")]
fn cross_entropy_rejects_a_label_out_of_range() {
    cross_entropy(&Array2::<f64>::zeros((2, 3)), &[0, 3]);
}

#[test]
#[should_panic(expected = "cross_entropy_vjp: 3 labels for 2 rows of logits")]
fn cross_entropy_rejects_a_wrong_number_of_labels() {
    let _ = cross_entropy_vjp(&Array2::<f64>::zeros((2, 3)), &[0, 1, 2]);
}

// -----------------------------------------------------------------------------------------
// Batch normalization
// -----------------------------------------------------------------------------------------

type BatchNormArgs = (Array2<f64>, Array1<f64>, Array1<f64>, f64);

fn batch_norm_of(args: &BatchNormArgs) -> Array2<f64> {
    batch_norm(&args.0, &args.1, &args.2, args.3)
}

#[test]
fn batch_norm_pullback_matches_finite_differences() {
    for (seed, eps) in [(71, 0.3), (81, 1e-5)] {
        let x = randn((5, 3), seed) * 2.0 + 1.0;
        let args = (x, randn(3, seed + 1), randn(3, seed + 2), eps);
        let w = randn((5, 3), seed + 3);
        let (y, pullback) = batch_norm_vjp(&args.0, &args.1, &args.2, args.3);
        assert_eq!(y, batch_norm_of(&args));
        let grad = pullback(w.clone());
        check_pullback(batch_norm_of, &args, &w, &grad);
    }
}

#[test]
fn batch_norm_standardizes_columns() {
    let x = randn((6, 3), 91) * 3.0 + 5.0;
    let gamma = array![1.0, 2.0, -0.5];
    let beta = array![0.0, 1.0, -3.0];
    let eps = 1e-3;
    let y = batch_norm(&x, &gamma, &beta, eps);
    let var = x.var_axis(Axis(0), 0.0);
    for j in 0..3 {
        let col = y.column(j);
        // Mean β, variance γ²·σ²/(σ² + ε) (biased).
        assert_close(col.mean().unwrap(), beta[j], 1e-14);
        let expected = gamma[j] * gamma[j] * var[j] / (var[j] + eps);
        assert_close(col.var(0.0), expected, 1e-13);
    }
    // With γ = 1, β = 0 and ε = 0: exactly the standardized columns.
    let z = batch_norm(&x, &Array1::ones(3), &Array1::zeros(3), 0.0);
    let expected = (&x - &x.mean_axis(Axis(0)).unwrap()) / &var.mapv(f64::sqrt);
    assert_all_close(&z, &expected, 1e-14);
}

#[test]
fn batch_norm_gradient_properties() {
    // With ε = 0, y is invariant to shifting or scaling a column of x, so ∂x is orthogonal
    // to both directions: each column of ∂x sums to 0 and is orthogonal to that column of x.
    let x = randn((5, 3), 95);
    let w = randn((5, 3), 96);
    let (_, pullback) = batch_norm_vjp(&x, &array![1.5, -1.0, 0.5], &Array1::zeros(3), 0.0);
    let (dx, dgamma, dbeta, _) = pullback(w.clone());
    assert_all_close(&dbeta, &w.sum_axis(Axis(0)), 1e-15);
    let x_hat = batch_norm(&x, &Array1::ones(3), &Array1::zeros(3), 0.0);
    assert_all_close(&dgamma, &(&w * &x_hat).sum_axis(Axis(0)), 1e-14);
    for j in 0..3 {
        assert_close(dx.column(j).sum(), 0.0, 1e-13);
        assert_close(dx.column(j).dot(&x.column(j)), 0.0, 1e-12);
    }
    // A single row standardizes to 0 and passes only β's gradient through.
    let (y, pullback) = batch_norm_vjp(
        &array![[4.0, -1.0]],
        &array![2.0, 3.0],
        &array![0.5, 0.25],
        1e-5,
    );
    assert_eq!(y, array![[0.5, 0.25]]);
    let (dx, dgamma, dbeta, deps) = pullback(array![[1.0, 2.0]]);
    assert_eq!(
        (dx, dgamma, dbeta, deps),
        (array![[0.0, 0.0]], array![0.0, 0.0], array![1.0, 2.0], 0.0)
    );
}

#[test]
#[should_panic(
    expected = "batch_norm: gamma and beta need one entry per column of x (3), got 2 and 3"
)]
fn batch_norm_rejects_a_wrong_gamma() {
    batch_norm(
        &Array2::<f64>::zeros((4, 3)),
        &Array1::ones(2),
        &Array1::zeros(3),
        1e-5,
    );
}

#[test]
#[should_panic(expected = "batch_norm_vjp: needs a batch of at least one row, got 0")]
fn batch_norm_rejects_an_empty_batch() {
    let _ = batch_norm_vjp(
        &Array2::<f64>::zeros((0, 3)),
        &Array1::ones(3),
        &Array1::zeros(3),
        1e-5,
    );
}

// -----------------------------------------------------------------------------------------
// Pullbacks own what they read
// -----------------------------------------------------------------------------------------

#[test]
fn pullbacks_outlive_their_arguments() {
    // As in generated code: the arguments are locals of a function that returns the
    // pullbacks. This compiles only because no pullback borrows its arguments.
    #[allow(clippy::type_complexity)]
    fn make() -> Vec<Box<dyn FnOnce() -> f64>> {
        let z = randn((4, 3), 101);
        let t = randn((4, 3), 102);
        let v = randn(3, 103);
        let s = 0.5_f64;
        let labels = vec![0, 1, 2, 0];
        let (_, relu_pb) = relu_vjp(&z);
        let (_, sigmoid_pb) = sigmoid_vjp(&z);
        let (_, softplus_pb) = softplus_vjp(&s);
        let (_, softmax_pb) = softmax_vjp(&z);
        let (_, log_softmax_pb) = log_softmax_vjp(&z);
        let (_, lse_pb) = log_sum_exp_vjp(&v);
        let (_, lse2_pb) = log_sum_exp_vjp(&z);
        let (_, mse_pb) = mse_vjp(&z, &t);
        let (_, ce_pb) = cross_entropy_vjp(&z, &labels);
        let (_, bn_pb) = batch_norm_vjp(&z, &v, &v, 1e-5);
        // The second-order pullbacks own what they read too, tangents included.
        let dz = randn((4, 3), 104);
        let dv = randn(3, 105);
        let (_, _, relu2_pb) = relu_vjp_jvp(&z, &dz);
        let (_, _, sigmoid2_pb) = sigmoid_vjp_jvp(&z, &dz);
        let (_, _, softplus2_pb) = softplus_vjp_jvp(&s, &0.5);
        let (_, _, softmax2_pb) = softmax_vjp_jvp(&z, &dz);
        let (_, _, log_softmax2_pb) = log_softmax_vjp_jvp(&z, &dz);
        let (_, _, lse2_pb2) = log_sum_exp_vjp_jvp(&v, &dv);
        let (_, _, mse2_pb) = mse_vjp_jvp(&z, &t, &dz, &dz);
        let (_, _, ce2_pb) = cross_entropy_vjp_jvp(&z, &labels, &dz);
        let (_, _, bn2_pb) = batch_norm_vjp_jvp(&z, &v, &v, 1e-5, &dz, &dv, &dv, 0.5);
        drop((z, t, v, labels, dz, dv));
        let ones = || Array2::<f64>::ones((4, 3));
        vec![
            Box::new(move || relu_pb(ones()).sum()),
            Box::new(move || sigmoid_pb(ones()).sum()),
            Box::new(move || softplus_pb(1.0)),
            Box::new(move || softmax_pb(ones()).sum()),
            Box::new(move || log_softmax_pb(ones()).sum()),
            Box::new(move || lse_pb(1.0).sum()),
            Box::new(move || lse2_pb(Array1::ones(4)).sum()),
            Box::new(move || mse_pb(1.0).0.sum()),
            Box::new(move || ce_pb(1.0).sum()),
            Box::new(move || bn_pb(ones()).1.sum()),
            Box::new(move || relu2_pb(ones(), ones()).1.sum()),
            Box::new(move || sigmoid2_pb(ones(), ones()).1.sum()),
            Box::new(move || softplus2_pb(1.0, 1.0).1),
            Box::new(move || softmax2_pb(ones(), ones()).1.sum()),
            Box::new(move || log_softmax2_pb(ones(), ones()).1.sum()),
            Box::new(move || lse2_pb2(1.0, 1.0).1.sum()),
            Box::new(move || mse2_pb(1.0, 1.0).1.0.sum()),
            Box::new(move || ce2_pb(1.0, 1.0).1.sum()),
            Box::new(move || bn2_pb(ones(), ones()).1.0.sum()),
        ]
    }
    for pullback in make() {
        assert!(pullback().is_finite());
    }
}

// -----------------------------------------------------------------------------------------
// Forward mode and second order
// -----------------------------------------------------------------------------------------

/// `check_unary!` for relu, sigmoid and softplus at `x`.
macro_rules! check_elementwise {
    ($x:expr, $seed:expr) => {
        check_unary!($x, $seed, relu, relu_jvp, relu_vjp, relu_vjp_jvp);
        check_unary!(
            $x,
            $seed + 3,
            sigmoid,
            sigmoid_jvp,
            sigmoid_vjp,
            sigmoid_vjp_jvp
        );
        check_unary!(
            $x,
            $seed + 6,
            softplus,
            softplus_jvp,
            softplus_vjp,
            softplus_vjp_jvp
        );
    };
}

#[test]
fn elementwise_forward_and_second_order_rules_match_finite_differences() {
    let x = randn((5, 3), 201);
    let x3 = randn((2, 3, 5), 202) * 3.0;
    // Finite differences must not straddle relu's kink.
    assert!(x.iter().chain(&x3).all(|v| v.abs() > 1e-3));
    check_elementwise!(&x, 210);
    check_elementwise!(&x3, 220);
    for (i, x) in [-3.0_f64, -0.4, 0.7, 2.5].into_iter().enumerate() {
        check_elementwise!(&x, 230 + 10 * i as u64);
    }
    // f32, with the f32 defaults of gradcheck.
    // f32 steps are 1e-2 long: keep the inputs at least 0.5 from the kink.
    let x32 = randn_f32((4, 5), 203).mapv(|v| v + 0.5 * v.signum());
    assert!(x32.iter().all(|v| v.abs() >= 0.5));
    check_elementwise!(&x32, 280);
    check_elementwise!(&-1.5_f32, 290);
}

#[test]
fn relu_forward_rules_at_the_kink_select_like_the_pullback() {
    // relu'(0) = 0 in all three rules, so the jvp is the pullback's transpose at the kink too.
    let x = array![-1.0, 0.0, -0.0, 2.0];
    let dx = array![3.0, 3.0, 3.0, 3.0];
    let (y, dy) = relu_jvp(&x, &dx);
    assert_eq!(y, array![0.0, 0.0, 0.0, 2.0]);
    assert_eq!(dy, array![0.0, 0.0, 0.0, 3.0]);
    assert_eq!(relu_jvp(&0.0_f64, &1.0), (0.0, 0.0));
    let (y2, dy2, pullback) = relu_vjp_jvp(&x, &dx);
    assert_eq!((y2, dy2), (y, dy));
    // relu'' = 0: x̄̇ = relu'(x)·ȳ̇, exactly 0 where x ≤ 0, even for infinite cotangents.
    let inf = f64::INFINITY;
    let (x_bar, x_bar_dot) = pullback(Array1::from_elem(4, inf), array![1.0, inf, 3.0, 4.0]);
    assert_eq!(x_bar, array![0.0, 0.0, 0.0, inf]);
    assert_eq!(x_bar_dot, array![0.0, 0.0, 0.0, 4.0]);
    // ⟨J·v, w⟩ = ⟨v, Jᵀw⟩ holds exactly: both sides sum the same products vᵢwᵢ where x > 0.
    let (v, w) = (randn(4, 301), randn(4, 302));
    let (_, pullback) = relu_vjp(&x);
    assert_eq!(relu_jvp(&x, &v).1.dot(&w), v.dot(&pullback(w)));
    // NaN passes its tangent through, as its cotangent.
    let (y, dy) = relu_jvp(&f64::NAN, &2.0);
    assert!(y.is_nan());
    assert_eq!(dy, 2.0);
}

#[test]
fn sigmoid_and_softplus_second_derivatives_keep_their_accuracy() {
    // x̄̇ for the cotangent 1 with tangent 0, along ẋ = 1, is the second derivative:
    // σ''(x) = σ'(x)(1 − 2σ(x)) = e(e − 1)/(1 + e)³ for x > 0 with e = e⁻ˣ (e − 1 by expm1),
    // and softplus'' = σ' = e/(1 + e)².
    let relative = |actual: f64, expected: f64| (actual / expected - 1.0).abs();
    for x in [40.0_f64, 3.0, 0.25, 1e-10] {
        let e = (-x).exp();
        let (_, _, pullback) = sigmoid_vjp_jvp(&x, &1.0);
        let second = pullback(1.0, 0.0).1;
        assert!(
            relative(second, e * (-x).exp_m1() / (1.0 + e).powi(3)) < 1e-13,
            "{x}"
        );
        let (_, _, pullback) = sigmoid_vjp_jvp(&-x, &1.0);
        assert!(relative(pullback(1.0, 0.0).1, -second) < 1e-13, "{x}");
        let (_, _, pullback) = softplus_vjp_jvp(&x, &1.0);
        assert!(
            relative(pullback(1.0, 0.0).1, e / (1.0 + e).powi(2)) < 1e-13,
            "{x}"
        );
    }
    // Saturated: finite everywhere, and exactly 0 where σ' underflows.
    let (y, dy, pullback) = sigmoid_vjp_jvp(&1000.0_f64, &1.0);
    assert_eq!((y, dy, pullback(1.0, 1.0)), (1.0, 0.0, (0.0, 0.0)));
    let (y, dy, pullback) = softplus_vjp_jvp(&-1000.0_f64, &1.0);
    assert_eq!((y, dy, pullback(1.0, 1.0)), (0.0, 0.0, (0.0, 0.0)));
}

#[test]
#[should_panic(expected = "sigmoid_jvp: the tangent of x has shape [3, 2], but x has shape [2, 3]")]
fn elementwise_jvp_rejects_a_misshapen_tangent() {
    sigmoid_jvp(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((3, 2)));
}

#[test]
#[should_panic(
    expected = "softplus_vjp_jvp: the cotangent has shape [3], but the value has shape [2]"
)]
fn elementwise_second_order_pullback_rejects_a_misshapen_cotangent() {
    let (_, _, pullback) = softplus_vjp_jvp(&Array1::<f64>::zeros(2), &Array1::zeros(2));
    pullback(Array1::zeros(2), Array1::zeros(3));
}

/// `check_unary!` for softmax, log_softmax and log_sum_exp at `z`.
macro_rules! check_softmax_family {
    ($z:expr, $seed:expr) => {
        check_unary!(
            $z,
            $seed,
            softmax,
            softmax_jvp,
            softmax_vjp,
            softmax_vjp_jvp
        );
        check_unary!(
            $z,
            $seed + 3,
            log_softmax,
            log_softmax_jvp,
            log_softmax_vjp,
            log_softmax_vjp_jvp
        );
        check_unary!(
            $z,
            $seed + 6,
            log_sum_exp,
            log_sum_exp_jvp,
            log_sum_exp_vjp,
            log_sum_exp_vjp_jvp
        );
    };
}

#[test]
fn softmax_family_forward_and_second_order_rules_match_finite_differences() {
    check_softmax_family!(&randn(7, 311), 320);
    check_softmax_family!(&(randn((5, 3), 312) * 2.0), 330);
    check_softmax_family!(&randn((2, 3, 4), 313), 340);
    // Lanes of 9, past the lengths ndarray sums in order; a column-major array.
    check_softmax_family!(&randn((3, 9), 314), 350);
    let mut fortran = Array2::zeros((4, 5).f());
    fortran.assign(&randn((4, 5), 315));
    check_softmax_family!(&fortran, 360);
    // f32, with the f32 defaults of gradcheck.
    check_softmax_family!(&randn_f32((4, 3), 316), 370);
}

#[test]
fn softmax_family_second_order_rules_are_the_stated_hessians() {
    // lse on a vector: ∇²lse = diag(p) − p·pᵀ, so x̄̇ = H·v for ȳ = 1, ȳ̇ = 0.
    let z = randn(5, 380);
    let v = randn(5, 381);
    let p = softmax(&z);
    let h = Array2::from_diag(&p)
        - p.view()
            .insert_axis(Axis(1))
            .dot(&p.view().insert_axis(Axis(0)));
    let (_, _, pullback) = log_sum_exp_vjp_jvp(&z, &v);
    let (x_bar, hv) = pullback(1.0, 0.0);
    assert_all_close(&x_bar, &p, 1e-15);
    assert_all_close(&hv, &h.dot(&v), 1e-15);
    // ȳ = 0, ȳ̇ = 1: x̄̇ is the Jacobian's transpose applied to 1, which is p again.
    assert_all_close(&pullback_of_log_sum_exp(&z, &v, 0.0, 1.0), &p, 1e-15);
    // softmax: x̄̇ for ȳ = eₖ, ȳ̇ = 0 is the change of row k of the Jacobian diag(y) − y·yᵀ
    // along v: ∂/∂v [yₖ(δₖⱼ − yⱼ)] = ẏₖ(δₖⱼ − yⱼ) − yₖẏⱼ.
    let (y, y_dot, pullback) = softmax_vjp_jvp(&z, &v);
    let mut e = Array1::zeros(5);
    e[2] = 1.0;
    let (_, x_bar_dot) = pullback(e, Array1::zeros(5));
    let expected = Array1::from_shape_fn(5, |j| {
        let delta = if j == 2 { 1.0 } else { 0.0 };
        y_dot[2] * (delta - y[j]) - y[2] * y_dot[j]
    });
    assert_all_close(&x_bar_dot, &expected, 1e-15);
}

/// The gradient's tangent of log_sum_exp at `z` along `v` for `(ȳ, ȳ̇)`.
fn pullback_of_log_sum_exp(z: &Array1<f64>, v: &Array1<f64>, g: f64, g_dot: f64) -> Array1<f64> {
    let (_, _, pullback) = log_sum_exp_vjp_jvp(z, v);
    pullback(g, g_dot).1
}

#[test]
fn softmax_family_second_order_rules_stay_finite_for_huge_logits() {
    let z = array![[1000.0, 1000.0, 0.0]];
    let v = array![[1.0, -1.0, 2.0]];
    let (y, dy, pullback) = softmax_vjp_jvp(&z, &v);
    assert_eq!(y, array![[0.5, 0.5, 0.0]]);
    // ẏ = y ⊙ (v − ⟨v, y⟩) = [½, −½, 0]
    assert_eq!(dy, array![[0.5, -0.5, 0.0]]);
    let (g, g_dot) = pullback(array![[1.0, 0.0, 0.0]], array![[0.0, 1.0, 0.0]]);
    assert!(g.iter().chain(&g_dot).all(|v| v.is_finite()));
    let (y, dy, pullback) = log_softmax_vjp_jvp(&z, &v);
    assert_eq!(y[[0, 2]], -1000.0 - 2f64.ln());
    assert_eq!(dy, array![[1.0, -1.0, 2.0]]);
    let (g, g_dot) = pullback(array![[1.0, 1.0, 1.0]], array![[1.0, 0.0, 0.0]]);
    assert!(g.iter().chain(&g_dot).all(|v| v.is_finite()));
    let (y, dy) = log_sum_exp_jvp(&array![1000.0, 1000.0], &array![1.0, 3.0]);
    assert_eq!((y, dy), (1000.0 + 2f64.ln(), 2.0));
}

#[test]
#[should_panic(
    expected = "log_softmax_jvp: the tangent of z has shape [3, 2], but z has shape [2, 3]"
)]
fn softmax_family_jvp_rejects_a_misshapen_tangent() {
    log_softmax_jvp(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((3, 2)));
}

#[test]
#[should_panic(
    expected = "log_sum_exp_vjp_jvp: the cotangent has shape [4], but the value has shape [5]"
)]
fn log_sum_exp_second_order_pullback_rejects_a_misshapen_cotangent() {
    let (_, _, pullback) =
        log_sum_exp_vjp_jvp(&Array2::<f64>::zeros((5, 3)), &Array2::zeros((5, 3)));
    pullback(Array1::zeros(5), Array1::zeros(4));
}

type Pair = (Array2<f64>, Array2<f64>);

#[test]
fn losses_forward_and_second_order_rules_match_finite_differences() {
    let args: Pair = (randn((5, 3), 401), randn((5, 3), 402));
    check_rules(
        &args,
        410,
        |(p, t)| mse(p, t),
        |(p, t), (dp, dt)| mse_jvp(p, t, dp, dt),
        |(p, t), g| {
            let (y, pullback) = mse_vjp(p, t);
            (y, pullback(g))
        },
        |(p, t), (dp, dt), g, g_dot| {
            let (y, y_dot, pullback) = mse_vjp_jvp(p, t, dp, dt);
            let (x_bar, x_bar_dot) = pullback(g, g_dot);
            (y, y_dot, x_bar, x_bar_dot)
        },
    );
    let labels = [2, 0, 1, 1, 2];
    let z = randn((5, 3), 403) * 2.0;
    check_unary!(
        &z,
        420,
        cross_entropy,
        cross_entropy_jvp,
        cross_entropy_vjp,
        cross_entropy_vjp_jvp,
        &labels
    );
    // Ten classes, past the lengths ndarray sums in order, and f32.
    let labels = [9, 0, 4];
    check_unary!(
        &randn((3, 10), 404),
        430,
        cross_entropy,
        cross_entropy_jvp,
        cross_entropy_vjp,
        cross_entropy_vjp_jvp,
        &labels
    );
    check_unary!(
        &randn_f32((3, 10), 405),
        440,
        cross_entropy,
        cross_entropy_jvp,
        cross_entropy_vjp,
        cross_entropy_vjp_jvp,
        &labels
    );
}

#[test]
fn scalar_valued_functions_have_symmetric_hessians() {
    let args: Pair = (randn((4, 3), 451), randn((4, 3), 452));
    check_hessian_symmetric(&args, 453, |(p, t), (dp, dt), g, g_dot| {
        let (y, y_dot, pullback) = mse_vjp_jvp(p, t, dp, dt);
        let (x_bar, x_bar_dot) = pullback(g, g_dot);
        (y, y_dot, x_bar, x_bar_dot)
    });
    let labels = [1, 0, 2, 2];
    check_hessian_symmetric(&randn((4, 3), 454), 455, |z, dz, g, g_dot| {
        let (y, y_dot, pullback) = cross_entropy_vjp_jvp(z, &labels, dz);
        let (x_bar, x_bar_dot) = pullback(g, g_dot);
        (y, y_dot, x_bar, x_bar_dot)
    });
    check_hessian_symmetric(&randn(6, 456), 457, |z, dz, g, g_dot| {
        let (y, y_dot, pullback) = log_sum_exp_vjp_jvp(z, dz);
        let (x_bar, x_bar_dot) = pullback(g, g_dot);
        (y, y_dot, x_bar, x_bar_dot)
    });
}

#[test]
fn loss_hessians_are_the_stated_matrices() {
    // mse: ∇² = (2/n)·[[I, −I], [−I, I]], so H·(vₚ, vₜ) = (2/n)(vₚ − vₜ)·(1, −1).
    let (p, t) = (randn((3, 2), 461), randn((3, 2), 462));
    let (vp, vt) = (randn((3, 2), 463), randn((3, 2), 464));
    let (_, _, pullback) = mse_vjp_jvp(&p, &t, &vp, &vt);
    let (_, (hp, ht)) = pullback(1.0, 0.0);
    let expected = (&vp - &vt) * (2.0 / 6.0);
    assert_all_close(&hp, &expected, 1e-15);
    assert_all_close(&ht, &-expected, 1e-15);
    // cross-entropy: block diagonal, (diag(pᵢ) − pᵢ·pᵢᵀ)/N for row i; the labels drop out.
    let z = randn((4, 3), 465);
    let v = randn((4, 3), 466);
    let (_, _, pullback) = cross_entropy_vjp_jvp(&z, &[0, 2, 1, 0], &v);
    let (_, hv) = pullback(1.0, 0.0);
    let p = softmax(&z);
    for i in 0..4 {
        let (p, v) = (p.row(i), v.row(i));
        let block = Array2::from_diag(&p) - p.insert_axis(Axis(1)).dot(&p.insert_axis(Axis(0)));
        assert_all_close(&hv.row(i).to_owned(), &(block.dot(&v) / 4.0), 1e-15);
    }
}

#[test]
#[should_panic(
    expected = "mse_vjp_jvp: the tangent of target has shape [3], but target has shape [2]"
)]
fn mse_jvp_rejects_a_misshapen_tangent() {
    let _ = mse_vjp_jvp(
        &Array1::<f64>::zeros(2),
        &Array1::zeros(2),
        &Array1::zeros(2),
        &Array1::zeros(3),
    );
}

#[test]
#[should_panic(expected = "cross_entropy_jvp: label 3 at row 1 is out of range for 3 classes")]
fn cross_entropy_jvp_checks_the_labels() {
    cross_entropy_jvp(
        &Array2::<f64>::zeros((2, 3)),
        &[0, 3],
        &Array2::zeros((2, 3)),
    );
}

fn batch_norm_args(shape: (usize, usize), seed: u64, eps: f64) -> BatchNormArgs {
    let x = randn(shape, seed) * 2.0 + 1.0;
    (x, randn(shape.1, seed + 1), randn(shape.1, seed + 2), eps)
}

#[test]
fn batch_norm_forward_and_second_order_rules_match_finite_differences() {
    for (shape, seed, eps) in [
        ((5, 3), 501, 0.3),
        ((5, 3), 511, 1e-2),
        ((7, 4), 521, 1.0),
        ((1, 3), 531, 0.5),
    ] {
        let args = batch_norm_args(shape, seed, eps);
        check_rules(
            &args,
            seed + 5,
            batch_norm_of,
            |(x, g, b, e), (dx, dg, db, de)| batch_norm_jvp(x, g, b, *e, dx, dg, db, *de),
            |(x, g, b, e), grad| {
                let (y, pullback) = batch_norm_vjp(x, g, b, *e);
                (y, pullback(grad))
            },
            |(x, g, b, e), (dx, dg, db, de), grad, grad_dot| {
                let (y, y_dot, pullback) = batch_norm_vjp_jvp(x, g, b, *e, dx, dg, db, *de);
                let (x_bar, x_bar_dot) = pullback(grad, grad_dot);
                (y, y_dot, x_bar, x_bar_dot)
            },
        );
    }
}

#[test]
fn batch_norm_second_order_rules_respect_its_invariances() {
    // With ε = 0, y is invariant to shifting a column of x and to scaling it, so ẏ = 0 along
    // both; the gradient x̄ is invariant to the shift (x̄̇ = 0) and scales as 1/c under x ↦ c·x
    // (x̄̇ = −x̄ along ẋ = x).
    let (x, gamma, beta) = (randn((6, 3), 541), randn(3, 542), randn(3, 543));
    let g = randn((6, 3), 544);
    let zero1 = Array1::zeros(3);
    let shift = Array2::from_shape_fn((6, 3), |(_, j)| j as f64 + 0.5);
    for (dx, scaling) in [(shift, false), (x.clone(), true)] {
        let (_, dy) = batch_norm_jvp(&x, &gamma, &beta, 0.0, &dx, &zero1, &zero1, 0.0);
        assert!(dy.iter().all(|d| d.abs() < 1e-14), "{dy}");
        let (_, _, pullback) = batch_norm_vjp_jvp(&x, &gamma, &beta, 0.0, &dx, &zero1, &zero1, 0.0);
        let ((x_bar, ..), (x_bar_dot, ..)) = pullback(g.clone(), Array2::zeros((6, 3)));
        let expected = if scaling {
            -x_bar
        } else {
            Array2::zeros((6, 3))
        };
        assert_all_close(&x_bar_dot, &expected, 1e-13);
    }
}

#[test]
#[should_panic(
    expected = "batch_norm_vjp_jvp: the tangent of gamma has shape [2], but gamma has shape [3]"
)]
fn batch_norm_jvp_rejects_a_misshapen_tangent() {
    let _ = batch_norm_vjp_jvp(
        &Array2::<f64>::zeros((4, 3)),
        &Array1::ones(3),
        &Array1::zeros(3),
        1e-5,
        &Array2::zeros((4, 3)),
        &Array1::zeros(2),
        &Array1::zeros(3),
        0.0,
    );
}
