//! Training code written the way a PyTorch or NumPy tutorial writes it, ported to Rust: layers
//! as structs with `forward` methods, running statistics, masks and settings kept beside the
//! weights, losses on integer labels. Each is checked against its analytic gradient (stated
//! beside the function) and central finite differences.
//!
//! A field of floats marked `#[differentiable(data)]` (a batch norm's running mean and variance,
//! a constant `eps`) was copied into the struct's zeros, so the tangent `zero_like` made (and
//! every tangent the generated code makes) held the value itself there: `_jvp` and `_hvp` were
//! wrong wherever the field was read (`(x − μ)·γ` along `γ` came out with `−μ·γ̇`-sized errors),
//! and the gradient's field was the value plus the derivative. Such a field is now zero in the
//! struct's zeros, gradients and tangents (an enum field is still copied): a tangent built from
//! `zero_like` leaves it constant, and the gradient holds the derivative with respect to it,
//! which is no leaf, so optimizers and checks leave it.

use autodiff::check::finite_difference;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis};

mod common;
use common::*;

/// Batch norm in evaluation mode, the running statistics kept in the struct as data:
/// `L = Σ_ij (γ_j (x_ij − μ_j)/√(σ²_j + ε) + β_j − t_ij)²`, so with `r_ij` the residual and
/// `x̂_ij = (x_ij − μ_j)/√(σ²_j + ε)`: `∂L/∂γ_j = Σ_i 2 r_ij x̂_ij`, `∂L/∂β_j = Σ_i 2 r_ij`.
#[derive(Clone, Debug, Differentiable)]
pub struct BatchNorm {
    pub gamma: Array1<f64>,
    pub beta: Array1<f64>,
    #[differentiable(data)]
    pub running_mean: Array1<f64>,
    #[differentiable(data)]
    pub running_var: Array1<f64>,
    #[differentiable(data)]
    pub eps: f64,
    #[differentiable(data)]
    pub training: bool,
}

#[differentiate(wrt(bn), hessian)]
fn bn_loss(bn: &BatchNorm, x: &Array2<f64>, target: &Array2<f64>) -> f64 {
    let y = if bn.training {
        let mean = x.mean_axis(Axis(0)).unwrap();
        let centered = x - &mean;
        let var = (&centered * &centered).mean_axis(Axis(0)).unwrap();
        let xhat = &centered / &var.mapv(|v| (v + bn.eps).sqrt());
        &xhat * &bn.gamma + &bn.beta
    } else {
        let xhat = (x - &bn.running_mean) / &bn.running_var.mapv(|v| (v + bn.eps).sqrt());
        &xhat * &bn.gamma + &bn.beta
    };
    (&y - target).mapv(|v| v * v).sum()
}

fn batch_norm(training: bool) -> BatchNorm {
    BatchNorm {
        gamma: vector(3, 1.0) + 1.5,
        beta: vector(3, 2.0),
        running_mean: vector(3, 3.0),
        running_var: vector(3, 4.0).mapv(|v| v * v + 0.5),
        eps: 1e-3,
        training,
    }
}

#[test]
fn running_statistics_marked_data_are_constants() {
    let x = matrix(5, 3, 1.0);
    let t = matrix(5, 3, 2.0);
    let bn = batch_norm(false);
    let (v, g) = bn_loss_grad(&bn, &x, &t);
    assert_eq!(v, bn_loss(&bn, &x, &t));
    // Analytic: ∂L/∂γ_j = Σ_i 2 r_ij x̂_ij, ∂L/∂β_j = Σ_i 2 r_ij.
    for j in 0..3 {
        let (mut dg, mut db) = (0.0, 0.0);
        for i in 0..5 {
            let xhat = (x[[i, j]] - bn.running_mean[j]) / (bn.running_var[j] + bn.eps).sqrt();
            let r = bn.gamma[j] * xhat + bn.beta[j] - t[[i, j]];
            dg += 2.0 * r * xhat;
            db += 2.0 * r;
        }
        close(&format!("∂γ[{j}]"), g.gamma[j], dg, 1e-12);
        close(&format!("∂β[{j}]"), g.beta[j], db, 1e-12);
    }
    // The data fields hold the derivatives with respect to them, and are no leaves:
    // ∂L/∂μ_j = −Σ_i 2 r_ij γ_j / √(σ²_j + ε),
    // ∂L/∂σ²_j = −Σ_i r_ij γ_j (x_ij − μ_j) / (σ²_j + ε)^{3/2}, ∂L/∂ε = Σ_j ∂L/∂σ²_j.
    let mut deps = 0.0;
    for j in 0..3 {
        let sd = (bn.running_var[j] + bn.eps).sqrt();
        let (mut dm, mut dv) = (0.0, 0.0);
        for i in 0..5 {
            let c = x[[i, j]] - bn.running_mean[j];
            let r = bn.gamma[j] * c / sd + bn.beta[j] - t[[i, j]];
            dm -= 2.0 * r * bn.gamma[j] / sd;
            dv -= r * bn.gamma[j] * c / (sd * sd * sd);
        }
        close(&format!("∂μ[{j}]"), g.running_mean[j], dm, 1e-12);
        close(&format!("∂σ²[{j}]"), g.running_var[j], dv, 1e-12);
        deps += dv;
    }
    close("∂ε", g.eps, deps, 1e-12);
    assert!(!g.training);
    // A zero's data fields of floats are zeros, so that a tangent built from it leaves them
    // constant.
    let z = bn.zero_like();
    assert!(
        z.running_mean
            .iter()
            .chain(&z.running_var)
            .all(|&v| v == 0.0)
    );
    assert_eq!(z.eps, 0.0);
    assert_eq!(g.num_scalars(), 6);
    fd_any("bn eval", |p: &BatchNorm| bn_loss(p, &x, &t), &bn, &g);

    // Forward mode along γ₀ is ∂L/∂γ₀.
    let mut d = bn.zero_like();
    d.gamma[0] = 1.0;
    let (_, dl) = bn_loss_jvp(&bn, &x, &t, &d);
    close("jvp along γ₀", dl, g.gamma[0], 1e-12);
    // A Hessian-vector product along γ₀: ∂²L/∂γ₀² = Σ_i 2 x̂_i0², zero across to β₁, β₂.
    let (_, _, hv) = bn_loss_hvp(&bn, &x, &t, &d);
    let h00: f64 = (0..5)
        .map(|i| {
            let xhat = (x[[i, 0]] - bn.running_mean[0]) / (bn.running_var[0] + bn.eps).sqrt();
            2.0 * xhat * xhat
        })
        .sum();
    close("H·e(γ₀) at γ₀", hv.gamma[0], h00, 1e-12);
    assert_eq!((hv.beta[1], hv.beta[2]), (0.0, 0.0));
    let e = 1e-6;
    let fd = finite_difference(|p: &BatchNorm| bn_loss(p, &x, &t), &bn, e);
    close("fd ∂γ₀", fd.gamma[0], g.gamma[0], 1e-6);
}

/// A data field assigned a value computed from the parameters carries its derivative:
/// `μ' = 2γ`, `ε' = 3γ₀`, `L = μ'·x + ε'`, so `∂L/∂γ = 2x + 3e₀`.
#[differentiate(wrt(bn))]
fn assigned_data(bn: &BatchNorm, x: &Array1<f64>) -> f64 {
    let mut b = bn.clone();
    b.running_mean = &bn.gamma * 2.0;
    b.eps = bn.gamma[0] * 3.0;
    (&b.running_mean * x).sum() + b.eps
}

#[test]
fn a_data_field_assigned_a_differentiated_value() {
    let bn = batch_norm(false);
    let x = vector(3, 7.0);
    let (_, g) = assigned_data_grad(&bn, &x);
    let expected = [2.0 * x[0] + 3.0, 2.0 * x[1], 2.0 * x[2]];
    close_all("∂γ", g.gamma.as_slice().unwrap(), &expected);
    let mut d = bn.zero_like();
    d.gamma[1] = 1.0;
    let (_, dl) = assigned_data_jvp(&bn, &x, &d);
    close("jvp along γ₁", dl, 2.0 * x[1], 1e-12);
}

/// A struct literal giving values to fields of floats marked data: `μ' = 2γ`, `ε' = 3γ₀` as
/// above, here through `BatchNorm { .. }` built in the function, `L = μ'·x + ε' + Σ γ'` with
/// `γ' = γ`: `∂L/∂γ = 2x + 3e₀ + 1`. This was rustc's "the gradient of this call does not match
/// its differentiable arguments" at the literal, whose derivative gave the data fields none.
#[differentiate(wrt(bn))]
fn literal_data(bn: &BatchNorm, x: &Array1<f64>) -> f64 {
    let b = BatchNorm {
        gamma: bn.gamma.clone(),
        beta: bn.beta.clone(),
        running_mean: &bn.gamma * 2.0,
        running_var: bn.running_var.clone(),
        eps: bn.gamma[0] * 3.0,
        training: false,
    };
    (&b.running_mean * x).sum() + b.eps + b.gamma.sum()
}

#[test]
fn a_literal_gives_data_fields_differentiated_values() {
    let bn = batch_norm(false);
    let x = vector(3, 8.0);
    let (v, g) = literal_data_grad(&bn, &x);
    assert_eq!(v, literal_data(&bn, &x));
    let expected = [2.0 * x[0] + 4.0, 2.0 * x[1] + 1.0, 2.0 * x[2] + 1.0];
    close_all("∂γ", g.gamma.as_slice().unwrap(), &expected);
    let mut d = bn.zero_like();
    d.gamma[0] = 1.0;
    let (_, dl) = literal_data_jvp(&bn, &x, &d);
    close("jvp along γ₀", dl, expected[0], 1e-12);
}

#[test]
fn batch_statistics_in_training_mode() {
    let x = matrix(5, 3, 4.0);
    let t = matrix(5, 3, 5.0);
    let bn = batch_norm(true);
    let (_, g) = bn_loss_grad(&bn, &x, &t);
    fd_any("bn train", |p: &BatchNorm| bn_loss(p, &x, &t), &bn, &g);
    let mut d = bn.zero_like();
    d.beta[2] = 1.0;
    let (_, dl) = bn_loss_jvp(&bn, &x, &t, &d);
    close("jvp along β₂", dl, g.beta[2], 1e-12);
}

/// A linear layer whose weights are a field, `z = x·W` (a matrix, though the macro cannot
/// tell a field's matrix from a vector), its elements iterated the NumPy way, `z.iter()`:
/// `L = Σ_ij tanh(z_ij)² + Σ_ij tanh(z_ij + b_j)`. This was rustc's "`usize: NdIndex<Ix2>`"
/// inside the generated code, which read the product by one index.
/// `∂L/∂W = xᵀ·(2 tanh(z)(1 − tanh²(z)) + (1 − tanh²(z + b)))`, `∂L/∂b_j = Σ_i (1 − tanh²(z_ij + b_j))`.
#[derive(Clone, Debug, Differentiable)]
pub struct Dense {
    pub w: Array2<f64>,
    pub b: Array1<f64>,
}

#[differentiate(wrt(layer))]
fn dense_iterated(layer: &Dense, x: &Array2<f64>) -> f64 {
    let z = x.dot(&layer.w);
    let squares: f64 = z.iter().map(|&v| v.tanh().powi(2)).sum();
    let h = (x.dot(&layer.w) + &layer.b).mapv(f64::tanh);
    let mut total = 0.0;
    for v in h.iter() {
        total += v;
    }
    squares + total
}

#[test]
fn a_product_with_a_field_is_iterated_whatever_its_rank() {
    let layer = Dense {
        w: matrix(3, 4, 1.0),
        b: vector(4, 2.0),
    };
    let x = matrix(5, 3, 3.0);
    let (v, g) = dense_iterated_grad(&layer, &x);
    assert_eq!(v, dense_iterated(&layer, &x));
    let z = x.dot(&layer.w);
    let zb = &z + &layer.b;
    let dz =
        z.mapv(|v| 2.0 * v.tanh() * (1.0 - v.tanh().powi(2))) + zb.mapv(|v| 1.0 - v.tanh().powi(2));
    same("∂W", &g.w, &x.t().dot(&dz), 1e-12);
    same(
        "∂b",
        &g.b,
        &zb.mapv(|v| 1.0 - v.tanh().powi(2)).sum_axis(Axis(0)),
        1e-12,
    );
    fd_any(
        "dense iterated",
        |p: &Dense| dense_iterated(p, &x),
        &layer,
        &g,
    );
}

/// An activation chosen by an enum field, applied the ndarray way, inside `mapv`:
/// `L = Σ_ij (s·act(z_ij))²` with `z = x·W + b`. The method call on the field inside the
/// closure, `self.act.apply(v)`, was taken for ndarray's `apply` (an error about closures over
/// array elements), another name for a method without a derivative rule, and the call through
/// the type, `Act::apply(&self.act, v)`, was rustc's "captured by a closure over array elements
/// must be a float, found `()`" inside the generated code. Each is now the call of the enum's
/// method, the field a constant captured by the closure.
/// `∂L/∂W = xᵀ·(2 s² act(z) act'(z))`, `∂L/∂b_j = Σ_i 2 s² act(z_ij) act'(z_ij)`,
/// `∂L/∂s = Σ_ij 2 s act(z_ij)²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Tanh,
    Leaky(f64),
}

impl autodiff::Data for Act {}

#[differentiate(wrt(z), hessian)]
impl Act {
    fn apply(&self, z: f64) -> f64 {
        match self {
            Act::Tanh => z.tanh(),
            Act::Leaky(a) => {
                if z > 0.0 {
                    z
                } else {
                    a * z
                }
            }
        }
    }
}

#[derive(Clone, Debug, Differentiable)]
pub struct ActLayer {
    pub w: Array2<f64>,
    pub b: Array1<f64>,
    pub s: f64,
    #[differentiable(data)]
    pub act: Act,
}

#[differentiate(wrt(self), hessian)]
impl ActLayer {
    fn loss(&self, x: &Array2<f64>) -> f64 {
        let z = x.dot(&self.w) + &self.b;
        z.mapv(|v| self.s * self.act.apply(v)).mapv(|v| v * v).sum()
    }

    fn loss_by_path(&self, x: &Array2<f64>) -> f64 {
        let z = x.dot(&self.w) + &self.b;
        z.mapv(|v| self.s * Act::apply(&self.act, v))
            .mapv(|v| v * v)
            .sum()
    }
}

#[test]
fn an_enum_field_s_method_inside_mapv() {
    let x = matrix(4, 2, 1.0);
    for act in [Act::Tanh, Act::Leaky(0.1)] {
        let layer = ActLayer {
            w: matrix(2, 3, 2.0),
            b: vector(3, 3.0),
            s: 1.3,
            act,
        };
        let z = x.dot(&layer.w) + &layer.b;
        let a = z.mapv(|v| act.apply(v));
        let da = z.mapv(|v| match act {
            Act::Tanh => 1.0 - v.tanh().powi(2),
            Act::Leaky(k) => {
                if v > 0.0 {
                    1.0
                } else {
                    k
                }
            }
        });
        let s = layer.s;
        let dz = &a * &da * (2.0 * s * s);
        for (what, (v, g)) in [
            ("method", layer.loss_grad(&x)),
            ("path", layer.loss_by_path_grad(&x)),
        ] {
            assert_eq!(v, layer.loss(&x));
            assert_eq!(g.act, act);
            same(&format!("{what} ∂W"), &g.w, &x.t().dot(&dz), 1e-12);
            same(&format!("{what} ∂b"), &g.b, &dz.sum_axis(Axis(0)), 1e-12);
            close(
                &format!("{what} ∂s"),
                g.s,
                a.mapv(|v| 2.0 * s * v * v).sum(),
                1e-12,
            );
            fd_any(what, |p: &ActLayer| p.loss(&x), &layer, &g);
        }
        // Forward mode and a Hessian-vector product along a direction in every leaf.
        let d = autodiff::check::random_direction(&layer, 5);
        let (_, t) = layer.loss_jvp(&x, &d);
        autodiff::check::jvpcheck(|p: &ActLayer| p.loss(&x), &layer, &d, &t).assert_ok();
        let (_, _, hv) = layer.loss_by_path_hvp(&x, &d);
        autodiff::check::hvpcheck(|p: &ActLayer| p.loss_by_path_grad(&x).1, &layer, &d, &hv)
            .assert_ok();
    }
}

/// A network's weights kept in one flat `Vec<f64>` and reshaped the NumPy way, views of its
/// parts: `W = p[0..6]` as 3×2, `b = p[6..8]`, `v = p[8..10]` as 2×1,
/// `L = Σ_i (tanh(x_i·W + b)·v)_i`. `ArrayView2::from_shape(..).unwrap()` over a part of the
/// differentiated slice was rejected as "no derivative rule for method `unwrap`"; it is now the
/// array of copies `from_shape_vec` of the part makes. With `h = tanh(x·W + b)` and
/// `d = (1 − h²) ⊙ (1·vᵀ)`: `∂L/∂W = xᵀ·d`, `∂L/∂b = Σ_i d_i`, `∂L/∂v = Σ_i h_i`.
#[differentiate(wrt(params))]
fn flat_views(params: &[f64], x: &Array2<f64>) -> f64 {
    let mut off = 0;
    let w = ndarray::ArrayView2::from_shape((3, 2), &params[off..off + 6]).unwrap();
    off += 6;
    let b = ndarray::ArrayView1::from_shape(2, &params[off..off + 2]).expect("two biases");
    off += 2;
    let v = ndarray::ArrayView::from_shape((2, 1), &params[off..]).unwrap();
    (x.dot(&w) + &b).mapv(f64::tanh).dot(&v).sum()
}

#[test]
fn parts_of_a_flat_parameter_vector_viewed_by_shape() {
    let params = data(10, 1.0);
    let x = matrix(4, 3, 2.0);
    let (value, g) = flat_views_grad(&params, &x);
    assert_eq!(value, flat_views(&params, &x));
    let w = Array2::from_shape_vec((3, 2), params[..6].to_vec()).unwrap();
    let b = Array1::from(params[6..8].to_vec());
    let v = Array1::from(params[8..].to_vec());
    let h = (x.dot(&w) + &b).mapv(f64::tanh);
    let d = h.mapv(|t| 1.0 - t * t) * &v;
    let mut expected = x.t().dot(&d).iter().copied().collect::<Vec<f64>>();
    expected.extend(d.sum_axis(Axis(0)).iter());
    expected.extend(h.sum_axis(Axis(0)).iter());
    close_all("∂p", &g, &expected);
    fd_vec("flat views", |p| flat_views(p, &x), &params, &g);
}

/// A parameter struct generic over its float type with a marked data field of that type,
/// `mean: Vec<T>`, which was rustc's "`T: Clone` is not satisfied" at the derive (the struct
/// literal's functions copied the field without asking `T: Clone`).
/// `L = Σ_i (x_i − μ_i) γ_i`, so `∂L/∂γ_i = x_i − μ_i`, and the tangent along `γ₀` is `x₀ − μ₀`.
#[derive(Clone, Debug, Differentiable)]
pub struct Centered<T> {
    pub gamma: Vec<T>,
    #[differentiable(data)]
    pub mean: Vec<T>,
}

#[differentiate(wrt(c))]
fn centered<T: num_traits::Float>(c: &Centered<T>, x: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        s = s + (x[i] - c.mean[i]) * c.gamma[i];
    }
    s
}

#[test]
fn a_generic_struct_with_a_data_field_of_its_float_type() {
    let c = Centered {
        gamma: vec![1.0, 2.0],
        mean: vec![0.5, -0.5],
    };
    let x = [1.5, 0.25];
    let (_, g) = centered_grad(&c, &x);
    close_all("∂γ", &g.gamma, &[1.0, 0.75]);
    let mut d = c.zero_like();
    assert_eq!(d.mean, vec![0.0, 0.0]);
    d.gamma[0] = 1.0;
    let (_, t) = centered_jvp(&c, &x, &d);
    close("jvp along γ₀", t, 1.0, 1e-12);
}
