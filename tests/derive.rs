//! `#[derive(Differentiable)]`: parameter structs behave as one flat vector of their fields'
//! scalars, in field order, for the trait's methods, gradient checking and optimizers.

#![deny(warnings)]

use autodiff::check::{gradcheck, gradcheck_with};
use autodiff::optim::{Momentum, MomentumConfig, Optimizer, Sgd, SgdConfig};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, array};

/// A dense layer `h = tanh(W x + b)` with 2 outputs and 3 inputs.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Layer {
    w: Array2<f64>,
    b: Array1<f64>,
}

/// A nested parameter struct: a layer, then the output weights `v` and bias `c`.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Mlp {
    hidden: Layer,
    v: Array1<f64>,
    c: f64,
}

/// The parameters `1, 2, .., 11`, in leaf order, times `a`.
fn mlp(a: f64) -> Mlp {
    Mlp {
        hidden: Layer {
            w: array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] * a,
            b: array![7.0, 8.0] * a,
        },
        v: array![9.0, 10.0] * a,
        c: 11.0 * a,
    }
}

/// Every leaf of `p`, in visiting order.
fn leaves<P: Differentiable<Scalar = f64>>(p: &P) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    p.visit_leaves(&mut |leaf| out.push(leaf.to_vec()));
    out
}

#[test]
fn zero_like_keeps_every_shape() {
    let z = mlp(1.0).zero_like();
    assert_eq!(
        z,
        Mlp {
            hidden: Layer {
                w: Array2::zeros((2, 3)),
                b: Array1::zeros(2),
            },
            v: Array1::zeros(2),
            c: 0.0,
        }
    );
}

#[test]
fn add_assign_and_scale_act_on_every_field() {
    let mut p = mlp(1.0);
    p.add_assign(&mlp(2.0));
    assert_eq!(p, mlp(3.0));
    p.scale(0.5);
    assert_eq!(p, mlp(1.5));
}

#[test]
fn dot_and_num_scalars_sum_over_fields() {
    // mlp(1) holds 1, 2, .., 11 and mlp(2) twice that: Σ k·2k = 2·(11·12·23/6) = 1012.
    assert_eq!(mlp(1.0).inner(&mlp(2.0)), 1012.0);
    assert_eq!(mlp(1.0).num_scalars(), 6 + 2 + 2 + 1);
}

#[test]
fn leaves_are_visited_in_field_order_depth_first() {
    // Optimizers key their per-leaf state on this order: `hidden.w` (row-major), `hidden.b`,
    // `v`, `c`.
    assert_eq!(
        leaves(&mlp(1.0)),
        vec![
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            vec![7.0, 8.0],
            vec![9.0, 10.0],
            vec![11.0],
        ]
    );
}

#[test]
fn zip_leaves_mut_pairs_matching_leaves() {
    let mut p = mlp(1.0);
    let g = mlp(10.0);
    let mut lens = Vec::new();
    p.zip_leaves_mut(&g, &mut |a, b| {
        assert_eq!(a.len(), b.len());
        lens.push(a.len());
        for (a, b) in a.iter_mut().zip(b) {
            *a += *b;
        }
    });
    assert_eq!(lens, vec![6, 2, 2, 1]);
    assert_eq!(p, mlp(11.0));
}

#[test]
fn primal_tangent_is_the_struct_itself() {
    fn zero_gradient<T: autodiff::Primal + ?Sized>(x: &T) -> T::Tangent {
        x.zero_tangent()
    }
    let p = mlp(1.0);
    let z: Mlp = zero_gradient(&p);
    assert_eq!(z, p.zero_like());
    // Through a reference too, as an active `&Mlp` argument sees it.
    let z: Mlp = zero_gradient(&&p);
    assert_eq!(z, p.zero_like());
}

// The model is written beside `use autodiff::Differentiable;`: the trait's methods must not
// shadow ndarray's (`dot` on owned arrays, which ndarray 0.17 reaches through `Deref`).

/// `L(p) = ½(vᵀ tanh(W x + b) + c − y)²` for one example.
fn loss(p: &Mlp, x: &Array1<f64>, y: f64) -> f64 {
    let r = residual(p, x, y);
    0.5 * r * r
}

fn hidden(l: &Layer, x: &Array1<f64>) -> Array1<f64> {
    (l.w.dot(x) + &l.b).tanh()
}

fn residual(p: &Mlp, x: &Array1<f64>, y: f64) -> f64 {
    p.v.dot(&hidden(&p.hidden, x)) + p.c - y
}

/// The hand-derived gradient of [`loss`]: with `r` the residual and `h` the hidden layer,
/// `∂L/∂c = r`, `∂L/∂v = r h`, `∂L/∂b = r v ⊙ (1 − h²)`, `∂L/∂W = (∂L/∂b) xᵀ`.
fn loss_gradient(p: &Mlp, x: &Array1<f64>, y: f64) -> Mlp {
    let h = hidden(&p.hidden, x);
    let r = residual(p, x, y);
    let db = &p.v * (1.0 - &h * &h) * r;
    let dw = db
        .view()
        .insert_axis(Axis(1))
        .dot(&x.view().insert_axis(Axis(0)));
    Mlp {
        hidden: Layer { w: dw, b: db },
        v: h * r,
        c: r,
    }
}

/// Scalar parameters of `a x + b`.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Params {
    a: f64,
    b: f64,
}

/// `a x + b`: ∂/∂a = x, ∂/∂b = 1, ∂/∂x = a.
#[differentiate]
fn affine(p: &Params, x: f64) -> f64 {
    p.a * x + p.b
}

/// The same loss as [`loss`], differentiated by the macro, nested field reads included.
#[differentiate(wrt(p))]
fn mlp_loss(p: &Mlp, x: &Array1<f64>, y: f64) -> f64 {
    let h = (p.hidden.w.dot(x) + &p.hidden.b).tanh();
    let r = h.dot(&p.v) + p.c - y;
    0.5 * r * r
}

#[test]
fn differentiate_takes_a_derived_struct() {
    let p = Params { a: 3.0, b: 1.0 };
    assert_eq!(affine(&p, 2.0), 7.0);
    let (y, (dp, dx)) = affine_grad(&p, 2.0);
    assert_eq!(y, 7.0);
    assert_eq!(dp, Params { a: 2.0, b: 1.0 });
    assert_eq!(dx, 3.0);
}

#[test]
fn differentiate_through_nested_array_fields() {
    let p = mlp(0.05);
    let (x, y) = (array![0.3, -0.7, 1.1], 0.4);
    let (value, g) = mlp_loss_grad(&p, &x, y);
    assert!((value - loss(&p, &x, y)).abs() < 1e-15);
    let expected = loss_gradient(&p, &x, y);
    let mut diff = g.clone();
    diff.add_assign(&{
        let mut e = expected.clone();
        e.scale(-1.0);
        e
    });
    assert!(diff.inner(&diff).sqrt() < 1e-14 * expected.inner(&expected).sqrt());
    gradcheck(|p: &Mlp| mlp_loss(p, &x, y), &p, &g).assert_ok();

    // And a few steps of training on the generated gradient.
    let mut p = p;
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    let before = mlp_loss(&p, &x, y);
    for _ in 0..50 {
        let (_, g) = mlp_loss_grad(&p, &x, y);
        opt.step(&mut p, &g);
    }
    assert!(mlp_loss(&p, &x, y) < 1e-3 * before);
}

#[test]
fn gradcheck_over_a_derived_struct() {
    let p = mlp(0.05);
    let (x, y) = (array![0.3, -0.7, 1.1], 0.4);
    let report = gradcheck(|p: &Mlp| loss(p, &x, y), &p, &loss_gradient(&p, &x, y));
    report.assert_ok();
    assert_eq!(report.entries.len(), 11);

    // A gradient with one wrong entry fails at that entry: the bias `b[1]`, leaf index 6 + 1.
    let mut wrong = loss_gradient(&p, &x, y);
    wrong.hidden.b[1] += 0.1;
    let report = gradcheck_with(
        |p: &Mlp| loss(p, &x, y),
        &p,
        &wrong,
        autodiff::check::Tolerance::default_for::<f64>(),
    );
    let failed: Vec<usize> = report.failures().map(|e| e.index).collect();
    assert_eq!(failed, vec![7]);
}

#[test]
fn sgd_moves_every_leaf_by_minus_lr_times_its_gradient() {
    let lr = 0.25;
    let mut p = mlp(1.0);
    let g = mlp(-2.0);
    let mut opt = Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    });
    opt.step(&mut p, &g);
    // p − lr·g = mlp(1) + 0.25·mlp(2) = mlp(1.5), leaf by leaf.
    assert_eq!(p, mlp(1.5));
}

#[test]
fn sgd_reduces_the_loss_of_a_derived_struct() {
    let (x, y) = (array![0.3, -0.7, 1.1], 0.4);
    let mut p = mlp(0.05);
    let before = loss(&p, &x, y);
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    for _ in 0..50 {
        let g = loss_gradient(&p, &x, y);
        opt.step(&mut p, &g);
    }
    assert!(loss(&p, &x, y) < 1e-3 * before, "{}", loss(&p, &x, y));
}

#[test]
fn stateful_optimizers_keep_state_per_leaf() {
    // Heavy ball with β = 0.5 and a constant gradient: steps of lr·g, then lr·1.5g.
    let mut p = mlp(0.0);
    let g = mlp(1.0);
    let mut opt = Momentum::new(MomentumConfig {
        lr: 1.0,
        momentum: 0.5,
        ..Default::default()
    });
    opt.step(&mut p, &g);
    assert_eq!(p, mlp(-1.0));
    opt.step(&mut p, &g);
    assert_eq!(p, mlp(-2.5));
}

/// A tuple struct of `f32` leaves.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Pair(Vec<f32>, f32);

#[test]
fn tuple_structs_in_f32() {
    let mut p = Pair(vec![1.0, 2.0], 3.0);
    let _: <Pair as Differentiable>::Scalar = 0.0f32;
    assert_eq!(p.zero_like(), Pair(vec![0.0, 0.0], 0.0));
    assert_eq!(p.inner(&p), 14.0);
    p.add_assign(&Pair(vec![1.0, 1.0], 1.0));
    p.scale(2.0);
    assert_eq!(p, Pair(vec![4.0, 6.0], 8.0));
    assert_eq!(p.num_scalars(), 3);
    let mut seen = Vec::new();
    p.visit_leaves(&mut |l| seen.push(l.to_vec()));
    assert_eq!(seen, vec![vec![4.0, 6.0], vec![8.0]]);
}

/// Generic over the scalar type and a const size.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Affine<S, const N: usize> {
    w: [S; N],
    b: S,
}

/// Generic over a field type, with a where-clause of its own.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Wrapped<T>
where
    T: core::fmt::Debug,
{
    inner: T,
    extra: Vec<f64>,
}

#[test]
fn generic_structs() {
    let a = Affine::<f32, 3> {
        w: [1.0, 2.0, 3.0],
        b: 4.0,
    };
    assert_eq!(a.inner(&a), 30.0f32);
    assert_eq!(a.num_scalars(), 4);

    let mut w = Wrapped {
        inner: Affine::<f64, 2> {
            w: [1.0, 2.0],
            b: 3.0,
        },
        extra: vec![4.0],
    };
    assert_eq!(leaves(&w), vec![vec![1.0, 2.0], vec![3.0], vec![4.0]]);
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let g = w.clone();
    opt.step(&mut w, &g);
    assert_eq!(w, w.zero_like());
}

/// A generic layer whose fields share one type, nested in a generic network: the shapes whose
/// bounds would make rustc's trait solver overflow if the derive equated the fields' scalar types
/// through projections.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct GenericLayer<S> {
    w: Array2<S>,
    b: Array1<S>,
    gain: Array1<S>,
}

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct GenericNet<S> {
    layer: GenericLayer<S>,
    out: Array1<S>,
    bias: S,
}

#[test]
fn nested_generic_structs_in_f32() {
    let net = GenericNet::<f32> {
        layer: GenericLayer {
            w: array![[1.0, 2.0]],
            b: array![3.0],
            gain: array![4.0],
        },
        out: array![5.0],
        bias: 6.0,
    };
    let mut seen = Vec::new();
    net.visit_leaves(&mut |l| seen.extend_from_slice(l));
    assert_eq!(seen, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(net.inner(&net), 91.0);
    let z = net.zero_like();
    assert_eq!(z.layer.w.dim(), (1, 2));
}

/// A public struct whose first field has a private type: the derived `Scalar` type must not
/// name it (that would be a private type in a public interface, a hard error).
#[derive(Clone, Debug, PartialEq, Differentiable)]
pub struct Public {
    inner: Private,
    extra: f64,
}

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Private {
    w: Array1<f64>,
}

#[test]
fn public_struct_with_a_private_first_field() {
    let p = Public {
        inner: Private {
            w: array![1.0, 2.0],
        },
        extra: 3.0,
    };
    assert_eq!(p.inner(&p), 14.0);
}

/// Field types whose inherent methods share the trait's method names: the derive calls the trait
/// methods in fully qualified form, so these are never picked.
#[derive(Clone, Debug, PartialEq)]
struct Shadowing(f64);

impl Shadowing {
    #[allow(dead_code)]
    fn scale(&mut self, _: f64) {
        panic!("inherent `scale` called");
    }
}

impl Differentiable for Shadowing {
    type Scalar = f64;
    fn zero_like(&self) -> Self {
        Shadowing(0.0)
    }
    fn add_assign(&mut self, other: &Self) {
        self.0 += other.0;
    }
    fn scale(&mut self, s: f64) {
        self.0 *= s;
    }
    fn inner(&self, other: &Self) -> f64 {
        self.0 * other.0
    }
    fn num_scalars(&self) -> usize {
        1
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[f64])) {
        f(&[self.0]);
    }
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut (dyn FnMut(&mut [f64], &[f64]) + '_)) {
        f(core::slice::from_mut(&mut self.0), &[other.0]);
    }
}

#[derive(Clone, Debug, PartialEq, autodiff::Differentiable)]
struct HasShadowing {
    s: Shadowing,
}

#[test]
fn trait_methods_are_called_fully_qualified() {
    let mut h = HasShadowing { s: Shadowing(2.0) };
    Differentiable::scale(&mut h, 3.0);
    assert_eq!(h, HasShadowing { s: Shadowing(6.0) });
}

/// A layer that keeps its sizes and its name beside its weights: data fields, which the
/// gradient copies (a shape) and the derivative reads in indices, loop bounds, conditions and,
/// bound to a local of a declared integer type, `as f64`.
#[derive(Clone, Debug, Differentiable)]
struct SizedLayer {
    w: Vec<f64>,
    b: Vec<f64>,
    n_in: usize,
    name: String,
    squash: bool,
}

#[differentiate(hessian)]
impl SizedLayer {
    /// tanh (or not, as `squash` says) of W x + b, W stored row by row in `w`.
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        let n_out = self.b.len();
        let mut out = vec![0.0; n_out];
        for o in 0..n_out {
            let mut s = self.b[o];
            for i in 0..self.n_in {
                s += self.w[o * self.n_in + i] * x[i];
            }
            out[o] = if self.squash { s.tanh() } else { s };
        }
        out
    }
}

/// Σ of the layer's outputs over the points, divided by `n_in`; the layer copied and its
/// weights scaled by `k` first.
#[differentiate(hessian, wrt(l, k))]
fn sized_loss(l: &SizedLayer, xs: &[Vec<f64>], k: f64) -> f64 {
    let mut m = l.clone();
    m.w = l.w.iter().map(|w| w * k).collect();
    let n = l.n_in;
    let mut t = 0.0;
    for x in xs {
        t += m.forward(x).iter().sum::<f64>() / n as f64;
    }
    let count: usize = l.n_in;
    t + l.w[n] * count as f64
}

#[test]
fn data_fields_are_copied_and_read() {
    let xs = vec![vec![0.5, -1.0, 2.0], vec![1.5, 0.3, -0.2]];
    let at = |p: &[f64]| SizedLayer {
        w: p[..6].to_vec(),
        b: p[6..8].to_vec(),
        n_in: 3,
        name: "hidden".into(),
        squash: true,
    };
    let p = [0.3, -0.2, 0.5, 0.1, 0.7, -0.4, 0.05, -0.1];
    let l = at(&p);
    let (v, (g, dk)) = sized_loss_grad(&l, &xs, 0.8);
    assert_eq!(v, sized_loss(&l, &xs, 0.8));
    // The gradient carries the data as it was.
    assert_eq!((g.n_in, g.name.as_str(), g.squash), (3, "hidden", true));
    let mut flat = g.w.clone();
    flat.extend(&g.b);
    let r = gradcheck(
        |p: &Vec<f64>| sized_loss(&at(p), &xs, 0.8),
        &p.to_vec(),
        &flat,
    );
    assert!(r.passed(), "{r}");
    let r = gradcheck(
        |k: &Vec<f64>| sized_loss(&l, &xs, k[0]),
        &vec![0.8],
        &vec![dk],
    );
    assert!(r.passed(), "{r}");
    // A tangent along a direction with other data: the data is not a direction.
    let dir = SizedLayer {
        w: vec![0.1; 6],
        b: vec![0.2, -0.3],
        n_in: 0,
        name: String::new(),
        squash: false,
    };
    let (_, dv) = sized_loss_jvp(&l, &xs, 0.8, &dir, 0.5);
    let want = g.w.iter().map(|x| 0.1 * x).sum::<f64>() + 0.2 * g.b[0] - 0.3 * g.b[1] + 0.5 * dk;
    assert!((dv - want).abs() < 1e-10, "{dv} against {want}");
    // Differentiable's arithmetic leaves the data alone.
    let mut s = g.clone();
    s.add_assign(&l);
    s.scale(2.0);
    assert_eq!((s.n_in, s.name.as_str()), (3, "hidden"));
    assert_eq!(s.num_scalars(), 8);
    assert_eq!(g.zero_like().name, "hidden");
}

/// Mixed precision inside a loss over a parameter struct: an `f64` field cast to `f32` and back
/// (`(p.a as f32).sin() as f64`), differentiated through the casts; ∂a = cos(a)·b (to `f32`'s
/// precision), ∂b = sin(a).
#[derive(Clone, Debug, Differentiable)]
struct AngleGain {
    a: f64,
    b: f64,
}

#[differentiate]
fn through_f32(p: &AngleGain) -> f64 {
    (p.a as f32).sin() as f64 * p.b
}

#[test]
fn float_fields_cast_to_another_float_type_keep_their_derivative() {
    let p = AngleGain { a: 0.7, b: -1.3 };
    let (v, g) = through_f32_grad(&p);
    assert_eq!(v, through_f32(&p));
    let s = (0.7f32).sin() as f64;
    let c = (0.7f32).cos() as f64;
    assert!((g.a - c * -1.3).abs() < 1e-6, "{}", g.a);
    assert!((g.b - s).abs() < 1e-12, "{}", g.b);
}
