use autodiff::{Differentiable, differentiate};
use autodiff_runtime::differentiable::LeafZip;

#[derive(Clone, Debug, PartialEq)]
struct P {
    a: f64,
    b: f64,
}

impl Differentiable for P {
    type Scalar = f64;
    fn zero_like(&self) -> Self {
        P { a: 0.0, b: 0.0 }
    }
    fn add_assign(&mut self, o: &Self) {
        self.a += o.a;
        self.b += o.b;
    }
    fn scale(&mut self, s: f64) {
        self.a *= s;
        self.b *= s;
    }
    fn inner(&self, o: &Self) -> f64 {
        self.a * o.a + self.b * o.b
    }
    fn num_scalars(&self) -> usize {
        2
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[f64])) {
        self.a.visit_leaves(f);
        self.b.visit_leaves(f);
    }
    fn zip_leaves_mut(&mut self, o: &Self, f: &mut LeafZip<'_, f64>) {
        self.a.zip_leaves_mut(&o.a, f);
        self.b.zip_leaves_mut(&o.b, f);
    }
}
impl autodiff::Primal for P {
    type Tangent = P;
    fn zero_tangent(&self) -> P {
        self.zero_like()
    }
}

#[differentiate]
fn lin(p: &P, x: f64) -> f64 {
    let y = p.a * x + p.b;
    let c = p.a;
    y * y + c
}

#[test]
fn fields() {
    let p = P { a: 2.0, b: 1.0 };
    let (v, (gp, gx)) = lin_grad(&p, 3.0);
    assert_eq!(v, 49.0 + 2.0);
    // d/da = 2y x + 1 = 43, d/db = 2y = 14, d/dx = 2 y a = 28
    assert_eq!(gp, P { a: 43.0, b: 14.0 });
    assert_eq!(gx, 28.0);
}

#[derive(Clone, Debug, Default, Differentiable)]
struct Pd {
    a: f64,
    b: f64,
}

#[differentiate]
impl Pd {
    fn energy(&self) -> f64 {
        self.a * self.a * self.b + self.b.exp()
    }
}

/// A local made by `Pd::default()`, its fields then set from differentiated values, and a
/// `&self` method called on it: ∂a = 2ab, ∂b = a² + eᵇ. Its type was not seen from `default()`
/// (only from `new(..)` and a literal), and the method call was the error "`p.energy(..)` may
/// change `p`".
#[differentiate]
fn from_default(x: &[f64]) -> f64 {
    let mut p = Pd::default();
    p.b = x[1];
    p.a = x[0];
    p.energy()
}

#[test]
fn a_local_made_by_default_then_filled() {
    let x = [0.3, 0.8];
    let (v, g) = from_default_grad(&x);
    assert_eq!(v, from_default(&x));
    let want = [2.0 * 0.3 * 0.8, 0.09 + 0.8f64.exp()];
    assert!(
        (g[0] - want[0]).abs() < 1e-12 && (g[1] - want[1]).abs() < 1e-12,
        "{g:?}"
    );
}

/// A local struct of data lent to a differentiated function, then changed by a field update
/// and lent again. The update rebuilds the struct, moving it, while the pullback lends the old
/// version to `scaled_energy_vjp` again: rustc's E0382 inside the generated code. The update
/// now moves a copy where the old version is kept.
#[derive(Clone)]
struct Settings {
    scale: f64,
    offset: usize,
}

#[differentiate(wrt(x))]
fn scaled_energy(s: &Settings, x: f64) -> f64 {
    s.scale * x * x + s.offset as f64
}

#[differentiate(wrt(x))]
fn energy_at_two_scales(x: f64) -> f64 {
    let mut s = Settings {
        scale: 2.0,
        offset: 3,
    };
    let a = scaled_energy(&s, x);
    s.scale = 3.0;
    a * scaled_energy(&s, x)
}

#[test]
fn local_struct_updated_after_being_lent() {
    let x = 0.7;
    let (v, g) = energy_at_two_scales_grad(x);
    assert_eq!(v, energy_at_two_scales(x));
    // (2x² + 3)(3x² + 3): 4x·(3x² + 3) + (2x² + 3)·6x.
    let want = 4.0 * x * (3.0 * x * x + 3.0) + (2.0 * x * x + 3.0) * 6.0 * x;
    assert!((g - want).abs() < 1e-12, "{g} vs {want}");
}

/// `min` and `max` of an integer field of a struct of data (an iteration count bounded by a
/// setting): they were called on the reference to the field, `Ord::min(&usize, 3)`, rustc's
/// E0308 inside the generated code.
pub struct Budget {
    steps: usize,
    scale: f64,
}

#[differentiate(wrt(x))]
fn bounded_sum(x: &[f64], cfg: &Budget) -> f64 {
    let n = cfg.steps.min(3);
    let m = cfg.steps.max(1).min(x.len());
    let mut s = 0.0;
    for i in 0..n {
        s += x[i] * cfg.scale;
    }
    s + x[m - 1]
}

#[test]
fn integer_fields_bounded_by_min_and_max() {
    let cfg = Budget {
        steps: 5,
        scale: 2.0,
    };
    let x = [1.0, 2.0, 3.0, 4.0];
    let (v, g) = bounded_sum_grad(&x, &cfg);
    assert_eq!(v, bounded_sum(&x, &cfg));
    assert_eq!(g, vec![2.0, 2.0, 2.0, 1.0]);
}

/// An array field moved out of a parameter struct taken by value (`let w = p.w;`): the
/// generated code reads the field through a reference, and moved out of it (rustc's E0507).
#[derive(Clone, Debug, Differentiable)]
struct DenseUnit {
    w: ndarray::Array1<f64>,
    b: f64,
}

#[differentiate]
fn dense_by_value(p: DenseUnit, x: &ndarray::Array1<f64>) -> f64 {
    let w = p.w;
    x.dot(&w) * p.b
}

#[test]
fn array_field_moved_out_of_a_parameter_taken_by_value() {
    let p = DenseUnit {
        w: ndarray::array![1.0, -2.0],
        b: 0.5,
    };
    let x = ndarray::array![3.0, 4.0];
    let (v, (g, gx)) = dense_by_value_grad(p.clone(), &x);
    assert_eq!(v, dense_by_value(p.clone(), &x));
    assert_eq!((g.w, g.b), (&x * 0.5, x.dot(&p.w)));
    assert_eq!(gx, &p.w * 0.5);
}

/// The struct's own methods named like float rules (`v.abs()`, `v.max()` of a vector) on a
/// parameter of the struct's type, and one named like a `Vec` mutation (`f.push(x)` of a
/// filter's delay line) on a local copy of a parameter: they were taken for the float rules
/// ("this float method is called on `V2`") and for `Vec::push` (rustc's E0308 inside the
/// generated code).
#[derive(Clone, Debug, Differentiable)]
struct Planar {
    x: f64,
    y: f64,
}

#[differentiate]
impl Planar {
    fn abs(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }

    fn max(&self) -> f64 {
        self.x.max(self.y)
    }
}

#[differentiate]
fn planar_size(v: &Planar) -> f64 {
    v.abs() * 2.0 + v.max()
}

#[derive(Clone, Debug, Differentiable)]
struct Fir {
    taps: Vec<f64>,
    state: Vec<f64>,
}

#[differentiate]
impl Fir {
    fn push(&mut self, x: f64) {
        self.state.rotate_right(1);
        self.state[0] = x;
    }

    fn output(&self) -> f64 {
        self.taps
            .iter()
            .zip(self.state.iter())
            .map(|(a, b)| a * b)
            .sum()
    }
}

#[differentiate]
fn fir_energy(f0: &Fir, xs: &[f64]) -> f64 {
    let mut f = f0.clone();
    let mut e = 0.0;
    for &x in xs {
        f.push(x);
        e += f.output().powi(2);
    }
    e
}

#[test]
fn struct_methods_named_like_float_rules_and_vec_mutations() {
    let v = Planar { x: 3.0, y: 4.0 };
    let (s, g) = planar_size_grad(&v);
    assert_eq!(s, planar_size(&v));
    // 2·|v| + max: ∂x = 2·3/5, ∂y = 2·4/5 + 1.
    assert!(
        (g.x - 1.2).abs() < 1e-12 && (g.y - 2.6).abs() < 1e-12,
        "{g:?}"
    );

    let f = Fir {
        taps: vec![0.5, -0.25],
        state: vec![0.0, 0.0],
    };
    let xs = [1.0, 2.0, -1.0];
    let (e, (gf, gx)) = fir_energy_grad(&f, &xs);
    assert_eq!(e, fir_energy(&f, &xs));
    // Outputs 0.5·x₀, 0.5·x₁ − 0.25·x₀, 0.5·x₂ − 0.25·x₁ = 0.5, 0.75, −1: e = Σ y².
    let y = [0.5, 0.75, -1.0];
    let want_x = [
        2.0 * y[0] * 0.5 + 2.0 * y[1] * -0.25,
        2.0 * y[1] * 0.5 + 2.0 * y[2] * -0.25,
        2.0 * y[2] * 0.5,
    ];
    close_to("fir ∂x", &gx, &want_x);
    let want_taps = [
        2.0 * (y[0] * 1.0 + y[1] * 2.0 + y[2] * -1.0),
        2.0 * (y[1] * 1.0 + y[2] * 2.0),
    ];
    close_to("fir ∂taps", &gf.taps, &want_taps);
}

fn close_to(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{what}: {a:?} vs {b:?}");
    }
}

/// A struct's operators applied to copies of parameters taken by reference (`p.clone() -
/// q.clone() * 0.5`, a lookahead or averaging step on a model holding arrays): the copies were
/// not seen to be the struct, and the operators were taken for array arithmetic (rustc's
/// "`Wts` and `ArrayBase<..>` cannot be combined" inside the generated code).
#[derive(Clone, Debug, Differentiable)]
struct Weights {
    a: ndarray::Array1<f64>,
    c: f64,
}

#[differentiate]
impl std::ops::Sub for Weights {
    type Output = Weights;
    fn sub(self, o: Weights) -> Weights {
        Weights {
            a: &self.a - &o.a,
            c: self.c - o.c,
        }
    }
}

#[differentiate]
impl std::ops::Mul<f64> for Weights {
    type Output = Weights;
    fn mul(self, k: f64) -> Weights {
        Weights {
            a: &self.a * k,
            c: self.c * k,
        }
    }
}

#[differentiate]
impl Weights {
    fn energy(&self) -> f64 {
        self.a.dot(&self.a) + self.c * self.c
    }
}

#[differentiate]
fn lookahead(p: &Weights, q: &Weights) -> f64 {
    let r: Weights = p.clone() - q.clone() * 0.5;
    let a = p.clone();
    let s: Weights = a - q.clone();
    r.energy() + s.energy()
}

#[test]
fn operators_of_copies_of_parameters() {
    let p = Weights {
        a: ndarray::array![1.0, 2.0],
        c: 0.5,
    };
    let q = Weights {
        a: ndarray::array![0.5, -1.0],
        c: 1.0,
    };
    let (v, (gp, gq)) = lookahead_grad(&p, &q);
    assert_eq!(v, lookahead(&p, &q));
    // r = p − q/2, s = p − q: ∂p = 2r + 2s, ∂q = −r − 2s.
    let (ra, rc) = (&p.a - &(&q.a * 0.5), p.c - q.c * 0.5);
    let (sa, sc) = (&p.a - &q.a, p.c - q.c);
    assert_eq!(gp.a, &ra * 2.0 + &sa * 2.0);
    assert!((gp.c - (2.0 * rc + 2.0 * sc)).abs() < 1e-12);
    assert_eq!(gq.a, -&ra - &sa * 2.0);
    assert!((gq.c - (-rc - 2.0 * sc)).abs() < 1e-12);
}

/// A local declared with a type alias of a `Vec` (`let mut v: Samples = Vec::new();`) keeps
/// `Vec`'s `push` and `reverse`: a first version of the struct-method `push` above took any
/// variable declared with a one-name type for a struct (rustc's "no `__ad_mut_push_vjp` for
/// `Vec<f64>`"), caught by the hunter's suite.
type Samples = Vec<f64>;

#[differentiate]
fn squares_reversed(x: &[f64]) -> f64 {
    let mut v: Samples = Vec::new();
    for &a in x {
        v.push(a * a);
    }
    v.reverse();
    v[0] * 2.0 + v[1]
}

#[test]
fn vec_type_alias_keeps_vec_mutations() {
    let (v, g) = squares_reversed_grad(&[1.0, 2.0]);
    assert_eq!((v, g), (squares_reversed(&[1.0, 2.0]), vec![2.0, 8.0]));
}

/// Writes through the items of `iter_mut()` of a field (`for l in self.layers.iter_mut()` in a
/// `&mut self` method, `for x in s.v.iter_mut()` of a local struct): iterating by mutable
/// reference was followed over a variable only, an error here, though the README listed the
/// field of `self`. The field is taken into a local, iterated and written back.
#[derive(Clone, Debug, Differentiable)]
struct Unit {
    w: ndarray::Array1<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct Stack {
    layers: Vec<Unit>,
    v: Vec<f64>,
}

#[differentiate]
impl Stack {
    fn decay(&mut self, k: f64) {
        for l in self.layers.iter_mut() {
            l.w = &l.w * (1.0 - k);
        }
    }

    fn total(&self) -> f64 {
        self.layers.iter().map(|l| l.w.sum()).sum::<f64>() + self.v.iter().sum::<f64>()
    }
}

#[differentiate]
fn decayed_total(n: &Stack, k: f64) -> f64 {
    let mut m = n.clone();
    m.decay(k);
    for x in m.v.iter_mut() {
        *x *= k;
    }
    m.total()
}

#[test]
fn writes_through_iter_mut_of_fields() {
    let n = Stack {
        layers: vec![
            Unit {
                w: ndarray::array![1.0, 2.0],
            },
            Unit {
                w: ndarray::array![3.0],
            },
        ],
        v: vec![0.5, 1.5],
    };
    let k = 0.1;
    let (v, (gn, gk)) = decayed_total_grad(&n, k);
    assert_eq!(v, decayed_total(&n, k));
    // (1 − k)·Σw + k·Σv: ∂w = 1 − k, ∂v = k, ∂k = Σv − Σw.
    assert!(
        gn.layers
            .iter()
            .all(|l| l.w.iter().all(|&d| (d - 0.9).abs() < 1e-12))
    );
    assert!(gn.v.iter().all(|&d| (d - 0.1).abs() < 1e-12));
    assert!((gk - (2.0 - 6.0)).abs() < 1e-12, "{gk}");
}

// ---------------------------------------------------------------------------------------------
// References to arrays as `dot` operands: a branch choosing a field (`if c { &p.w1 } else
// { &p.w2 }`), a field of a struct of data that is itself a reference (`x: &'a Array2<f64>`),
// a reference to an element. The pullback gave the product's rules a `&&Array`: rustc's
// "`dot` of `&ArrayBase<..>` and `_` cannot be differentiated".
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct TwoHeads {
    w1: ndarray::Array1<f64>,
    w2: ndarray::Array1<f64>,
}

struct Batch<'a> {
    x: &'a ndarray::Array2<f64>,
}

/// w·x with w the head `first` chooses: ∂/∂w = x for that head, 0 for the other; ∂/∂x = w.
#[differentiate]
fn chosen_head(p: &TwoHeads, x: &ndarray::Array1<f64>, first: bool) -> f64 {
    let w = if first { &p.w1 } else { &p.w2 };
    w.dot(x)
}

/// Σ (X·w) with X a reference in a struct of data, and Σ (X₀·w) of the first of several:
/// ∂/∂w = the column sums of X.
#[differentiate(wrt(w))]
fn batch_sum(w: &ndarray::Array1<f64>, b: &Batch) -> f64 {
    b.x.dot(w).sum() + w.dot(&b.x.row(0))
}

#[differentiate(wrt(w))]
fn first_sum(w: &ndarray::Array1<f64>, xs: &[ndarray::Array2<f64>]) -> f64 {
    let x = &xs[0];
    x.dot(w).sum()
}

#[test]
fn references_to_arrays_in_products() {
    use ndarray::array;
    let p = TwoHeads {
        w1: array![1.0, 2.0],
        w2: array![3.0, 4.0],
    };
    let x = array![0.5, -1.0];
    for first in [true, false] {
        let (v, (gp, gx)) = chosen_head_grad(&p, &x, first);
        let (w, zero) = if first {
            (&p.w1, &gp.w2)
        } else {
            (&p.w2, &gp.w1)
        };
        assert_eq!(v, w.dot(&x));
        assert_eq!(gx, *w);
        assert_eq!(if first { &gp.w1 } else { &gp.w2 }, &x);
        assert_eq!(zero, &array![0.0, 0.0]);
    }
    let m = array![[1.0, 2.0], [3.0, 5.0], [-1.0, 0.5]];
    let w = array![0.25, -2.0];
    let (v, g) = batch_sum_grad(&w, &Batch { x: &m });
    assert_eq!(v, m.dot(&w).sum() + w.dot(&m.row(0)));
    assert_eq!(g, m.sum_axis(ndarray::Axis(0)) + m.row(0));
    let (v, g) = first_sum_grad(&w, &[m.clone()]);
    assert_eq!(v, m.dot(&w).sum());
    assert_eq!(g, m.sum_axis(ndarray::Axis(0)));
}

// ---------------------------------------------------------------------------------------------
// A local `Vec` of copies of a parameter's array fields (`vec![p.w1.clone(), p.w2.clone()]`),
// iterated or indexed, its elements given to `dot` and arithmetic: they were taken for structs
// of the user's, `dot` for their method (rustc's E0275, an overflow at the attribute). Beside
// it, the same of struct fields, whose own method is followed.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct TwoLayers {
    w1: ndarray::Array2<f64>,
    w2: ndarray::Array2<f64>,
    b: ndarray::Array1<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct Lin {
    w: ndarray::Array2<f64>,
}

#[differentiate]
impl Lin {
    fn forward(&self, h: &ndarray::Array1<f64>) -> ndarray::Array1<f64> {
        self.w.dot(h)
    }
}

#[derive(Clone, Debug, Differentiable)]
struct LinPair {
    l1: Lin,
    l2: Lin,
}

/// Σ W₂·W₁·x + (b + b)·(b + b) … as loops over copies.
#[differentiate]
fn copies_of_fields(p: &TwoLayers, x: &ndarray::Array1<f64>) -> f64 {
    let ws = vec![p.w1.clone(), p.w2.clone()];
    let mut h = x.clone();
    for w in &ws {
        h = w.dot(&h);
    }
    let bs = vec![p.b.clone(), p.b.clone()];
    let mut u = x.clone();
    for b in &bs {
        u = (&u + b).mapv(f64::tanh);
    }
    h.sum() + u.sum() + bs[0].dot(&bs[1])
}

#[differentiate]
fn copies_of_layers(s: &LinPair, x: &ndarray::Array1<f64>) -> f64 {
    let ls = vec![s.l1.clone(), s.l2.clone()];
    let mut h = x.clone();
    for l in &ls {
        h = l.forward(&h);
    }
    h.sum()
}

#[test]
fn vecs_of_copies_of_fields() {
    use ndarray::array;
    let p = TwoLayers {
        w1: array![[0.5, -1.0], [2.0, 0.25]],
        w2: array![[1.5, 0.5], [-0.75, 1.0]],
        b: array![0.3, -0.2],
    };
    let x = array![0.4, -0.9];
    let (v, (gp, gx)) = copies_of_fields_grad(&p, &x);
    assert_eq!(v, copies_of_fields(&p, &x));
    let r = autodiff::check::gradcheck(
        |q: &(TwoLayers, ndarray::Array1<f64>)| copies_of_fields(&q.0, &q.1),
        &(p.clone(), x.clone()),
        &(gp, gx),
    );
    assert!(r.passed(), "{r}");
    // Σ W₂·W₁·x: ∂/∂x = column sums of W₂·W₁.
    let s = LinPair {
        l1: Lin { w: p.w1.clone() },
        l2: Lin { w: p.w2.clone() },
    };
    let (v, (gs, gx)) = copies_of_layers_grad(&s, &x);
    assert_eq!(v, p.w2.dot(&p.w1.dot(&x)).sum());
    assert_eq!(gx, p.w2.dot(&p.w1).sum_axis(ndarray::Axis(0)));
    let r = autodiff::check::gradcheck(
        |q: &(LinPair, ndarray::Array1<f64>)| copies_of_layers(&q.0, &q.1),
        &(s.clone(), x.clone()),
        &(gs, gx),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A tuple struct's field read more than once in a `&mut self` method (`self.0.len()`, then
// `self.0[i] *= k`): the first read moved the field out of `self` (rustc's E0382 "use of
// partially moved value" in the generated code). A field read again is copied.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Sig(Vec<f64>, f64);

#[differentiate]
impl Sig {
    fn decay(&mut self, k: f64) {
        for i in 0..self.0.len() {
            self.0[i] *= k;
        }
    }

    fn energy(&self) -> f64 {
        self.0.iter().map(|v| v * v).sum::<f64>() * self.1
    }
}

/// Σ (k·vᵢ)²·c: ∂/∂k = 2k·Σvᵢ²·c, ∂/∂vᵢ = 2k²·vᵢ·c, ∂/∂c = k²·Σvᵢ².
#[differentiate]
fn decayed_energy(s0: &Sig, k: f64) -> f64 {
    let mut s = s0.clone();
    s.decay(k);
    s.energy()
}

#[test]
fn tuple_struct_fields_read_again() {
    let s = Sig(vec![1.0, 2.0], 0.5);
    let (v, (g, gk)) = decayed_energy_grad(&s, 2.0);
    assert_eq!(v, 4.0 * 5.0 * 0.5);
    assert_eq!(gk, 2.0 * 2.0 * 5.0 * 0.5);
    assert_eq!(g.0, vec![2.0 * 4.0 * 1.0 * 0.5, 2.0 * 4.0 * 2.0 * 0.5]);
    assert_eq!(g.1, 4.0 * 5.0);
}

// ---------------------------------------------------------------------------------------------
// The gradient with respect to the input of a fixed model (`wrt(x)`): methods on the model's
// fields and elements (`m.enc.layer.forward(x)`, `m.layers[i]`, `for l in &m.layers`), and on
// the elements of a slice of structs left out (`springs[i].energy(d)`). They were rejected
// ("no derivative rule for method `forward`"), though followed where the model is
// differentiated too.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct TanhUnit {
    w: f64,
    b: f64,
}

impl TanhUnit {
    #[differentiate]
    fn forward(&self, h: f64) -> f64 {
        (self.w * h + self.b).tanh()
    }
}

#[derive(Clone, Debug, Differentiable)]
struct FixedEncoder {
    unit: TanhUnit,
}

#[derive(Clone, Debug, Differentiable)]
struct Fixed {
    enc: FixedEncoder,
    units: Vec<TanhUnit>,
}

#[differentiate(wrt(x))]
fn saliency(m: &Fixed, x: f64) -> f64 {
    let mut h = m.enc.unit.forward(x);
    for l in &m.units {
        h = l.forward(h);
    }
    h + m.units[0].forward(x)
}

#[derive(Clone, Debug, Differentiable)]
struct Coil {
    k: f64,
    rest: f64,
}

impl Coil {
    #[differentiate]
    fn energy(&self, d: f64) -> f64 {
        let e = d - self.rest;
        0.5 * self.k * e * e
    }
}

#[differentiate(wrt(pos))]
fn chain_energy(springs: &[Coil], pos: &[f64]) -> f64 {
    let mut e = 0.0;
    for i in 0..springs.len() {
        e += springs[i].energy(pos[i + 1] - pos[i]);
    }
    e
}

#[test]
fn methods_of_a_fixed_model() {
    let u = |w: f64, b: f64| TanhUnit { w, b };
    let m = Fixed {
        enc: FixedEncoder { unit: u(0.7, 0.1) },
        units: vec![u(-1.2, 0.3), u(0.5, -0.2)],
    };
    let x = 0.4;
    let (y, g) = saliency_grad(&m, x);
    assert_eq!(y, saliency(&m, x));
    let r = autodiff::check::gradcheck(|x: &f64| saliency(&m, *x), &x, &g);
    assert!(r.passed(), "{r}");
    let springs = [Coil { k: 2.0, rest: 1.0 }, Coil { k: 0.5, rest: 0.5 }];
    let pos = [0.0, 1.5, 1.75];
    // e = ½·2·0.5² + ½·0.5·(−0.25)²; ∂/∂p = (−k₀e₀, k₀e₀ − k₁e₁, k₁e₁).
    let (y, g) = chain_energy_grad(&springs, &pos);
    assert_eq!(y, 0.25 + 0.015625);
    assert_eq!(g, vec![-1.0, 1.0 + 0.125, -0.125]);
}

// ---------------------------------------------------------------------------------------------
// A `#[differentiate] impl` with a helper returning an integer (`fn n(&self) -> usize`) beside
// the methods: the helper stays as written (it was differentiated too, rustc's "`usize` cannot
// be differentiated" at the attribute).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Affine {
    w: Vec<f64>,
    b: f64,
}

#[differentiate]
impl Affine {
    fn n(&self) -> usize {
        self.w.len()
    }

    fn is_empty(&self) -> bool {
        self.w.is_empty()
    }

    fn predict(&self, x: &[f64]) -> f64 {
        let mut z = self.b;
        for i in 0..self.n() {
            z += self.w[i] * x[i];
        }
        if self.is_empty() { 0.0 } else { z.tanh() }
    }
}

#[test]
fn integer_helpers_in_differentiated_impls() {
    let m = Affine {
        w: vec![1.0, 2.0],
        b: 0.1,
    };
    let x = [0.3, -0.2];
    let (y, (g, gx)) = m.predict_grad(&x);
    let z = 0.1 + 0.3 - 0.4;
    assert_eq!(y, f64::tanh(z));
    let d = 1.0 - z.tanh().powi(2);
    assert_eq!((g.w, g.b), (vec![d * 0.3, d * -0.2], d));
    assert_eq!(gx, vec![d, 2.0 * d]);
    assert_eq!(m.n(), 2);
}

// ---------------------------------------------------------------------------------------------
// A `#[differentiate] impl` with accessors lending a part of the value (`fn weights(&self) ->
// &[f64]`, a row's view) beside the methods: they stay as written (they were differentiated
// too, rustc's "mismatched types" and "lifetime may not live long enough" at the attribute).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Lens {
    w: Vec<f64>,
    m: ndarray::Array2<f64>,
    b: f64,
}

#[differentiate]
impl Lens {
    fn weights(&self) -> &[f64] {
        &self.w
    }

    fn row(&self, i: usize) -> ndarray::ArrayView1<'_, f64> {
        self.m.row(i)
    }

    fn parts(&self, k: usize) -> (&[f64], f64) {
        (&self.w[..k], self.b)
    }

    fn predict(&self, x: &[f64]) -> f64 {
        let z: f64 = self.w.iter().zip(x).map(|(w, v)| w * v).sum();
        z * self.b + self.m[[0, 1]]
    }
}

#[test]
fn accessors_lending_parts_in_differentiated_impls() {
    let l = Lens {
        w: vec![1.0, 2.0],
        m: ndarray::array![[0.5, 1.5], [2.5, 3.5]],
        b: 3.0,
    };
    let x = [0.5, -1.0];
    let (y, (g, gx)) = l.predict_grad(&x);
    // z = 0.5 − 2 = −1.5; y = z·b + m₀₁.
    assert_eq!(y, -1.5 * 3.0 + 1.5);
    assert_eq!((g.w, g.b), (vec![0.5 * 3.0, -3.0], -1.5));
    assert_eq!(g.m, ndarray::array![[0.0, 1.0], [0.0, 0.0]]);
    assert_eq!(gx, vec![3.0, 6.0]);
    assert_eq!(l.weights(), &[1.0, 2.0]);
    assert_eq!(l.row(1).to_vec(), vec![2.5, 3.5]);
    assert_eq!(l.parts(1), (&[1.0][..], 3.0));
}

// ---------------------------------------------------------------------------------------------
// A `#[differentiate] impl` with constructors from sizes and seeds (`fn new(n: usize, seed:
// u64) -> Self`, `fn zeros(n: usize)`, `fn from_sizes(sizes: &[usize], name: &str)`) and
// methods returning nothing that change nothing (`fn print(&self)`, `fn log(&self, step:
// usize)`) beside the methods: they stay as written (they were differentiated too: "nothing to
// differentiate: .. take the variable as `f64`" and "a differentiated function must return a
// value"). A method returning nothing that changes its receiver (`fn reset(&mut self)`) or a
// buffer it is lent (`fn apply_into(&self, x, out: &mut Vec<f64>)`) is still differentiated.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Probe {
    w: Vec<f64>,
    b: f64,
}

/// A generator of the user's, which a constructor in a differentiated block draws from.
struct Lcg(u64);

impl Lcg {
    fn draw(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[differentiate]
impl Probe {
    fn zeros(n: usize) -> Self {
        Probe {
            w: vec![0.0; n],
            b: 0.0,
        }
    }

    fn new(n: usize, seed: u64) -> Self {
        let w = (0..n)
            .map(|i| ((seed + i as u64) % 7) as f64 / 7.0)
            .collect();
        Probe { w, b: 0.25 }
    }

    fn from_sizes(sizes: &[usize], name: &str) -> Self {
        assert!(!name.is_empty());
        Probe {
            w: vec![0.5; sizes[0]],
            b: 0.0,
        }
    }

    fn print(&self) {
        println!("{:?} {}", self.w, self.b);
    }

    fn random(n: usize, rng: &mut Lcg) -> Self {
        Probe {
            w: (0..n).map(|_| rng.draw() - 0.5).collect(),
            b: rng.draw(),
        }
    }

    fn log(&self, step: usize) {
        println!("{step}: {}", self.b);
    }

    fn reset(&mut self) {
        for v in self.w.iter_mut() {
            *v = 0.0;
        }
        self.b = 0.0;
    }

    #[allow(clippy::ptr_arg)] // a buffer taken as users write it
    fn apply_into(&self, x: &[f64], out: &mut Vec<f64>) {
        for i in 0..x.len() {
            out[i] = self.w[i] * x[i] + self.b;
        }
    }

    fn score(&self, x: &[f64]) -> f64 {
        let mut out = vec![0.0; x.len()];
        self.apply_into(x, &mut out);
        out.iter().map(|v| v * v).sum()
    }
}

#[test]
fn constructors_and_unit_methods_in_differentiated_impls() {
    let mut p = Probe::new(2, 3);
    assert_eq!((p.w.clone(), p.b), (vec![3.0 / 7.0, 4.0 / 7.0], 0.25));
    assert_eq!(Probe::zeros(3).w, vec![0.0; 3]);
    assert_eq!(Probe::from_sizes(&[2], "p").w, vec![0.5, 0.5]);
    p.print();
    p.log(1);
    let (mut a, mut b) = (Lcg(7), Lcg(7));
    let drawn = Probe::random(2, &mut a);
    assert_eq!(drawn.w, vec![b.draw() - 0.5, b.draw() - 0.5]);
    assert_eq!(drawn.b, b.draw());
    let x = [1.0, -2.0];
    // score = Σ (wᵢxᵢ + b)²: ∂wᵢ = 2(wᵢxᵢ + b)xᵢ, ∂b = 2Σ(wᵢxᵢ + b), ∂xᵢ = 2(wᵢxᵢ + b)wᵢ.
    let r: Vec<f64> = (0..2).map(|i| p.w[i] * x[i] + p.b).collect();
    let (y, (g, gx)) = p.score_grad(&x);
    assert_eq!(y, p.score(&x));
    let got = [y, g.w[0], g.w[1], g.b, gx[0], gx[1]];
    let want = [
        r[0] * r[0] + r[1] * r[1],
        2.0 * r[0] * x[0],
        2.0 * r[1] * x[1],
        2.0 * (r[0] + r[1]),
        2.0 * r[0] * p.w[0],
        2.0 * r[1] * p.w[1],
    ];
    for (a, e) in got.iter().zip(&want) {
        assert!(
            (a - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "{got:?} against {want:?}"
        );
    }
    p.reset();
    assert_eq!(p.score(&x), 0.0);
}

// ---------------------------------------------------------------------------------------------
// A local copy of a `Copy` struct parameter by assignment (`let mut b = b0;`, `let mut b =
// *b0;`), then its methods in a loop: rejected as a `Vec`'s mutation ("`b.step(..)` may change
// `b`"), where `b0.clone()` was followed.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
struct Oscillator {
    x: f64,
    v: f64,
}

#[differentiate]
impl Oscillator {
    fn step(self, dt: f64, k: f64) -> Oscillator {
        Oscillator {
            x: self.x + dt * self.v,
            v: self.v - dt * k * self.x,
        }
    }

    fn energy(&self, k: f64) -> f64 {
        0.5 * self.v * self.v + 0.5 * k * self.x * self.x
    }
}

#[differentiate]
fn rollout_by_value(b0: Oscillator, k: f64) -> f64 {
    let mut b = b0;
    let mut es = 0.0;
    for _ in 0..10 {
        b = b.step(0.05, k);
        es += b.energy(k);
    }
    es
}

#[differentiate]
fn rollout_by_reference(b0: &Oscillator, k: f64) -> f64 {
    let mut b = *b0;
    let mut es = 0.0;
    for _ in 0..10 {
        b = b.step(0.05, k);
        es += b.energy(k);
    }
    es
}

#[test]
fn copies_of_copy_struct_parameters() {
    let b0 = Oscillator { x: 0.5, v: -0.2 };
    let k = 2.0;
    let (y, (g, gk)) = rollout_by_value_grad(b0, k);
    assert_eq!(y, rollout_by_value(b0, k));
    let r = autodiff::check::gradcheck(
        |p: &(Oscillator, f64)| rollout_by_value(p.0, p.1),
        &(b0, k),
        &(g, gk),
    );
    assert!(r.passed(), "{r}");
    let (y2, (g2, gk2)) = rollout_by_reference_grad(&b0, k);
    assert_eq!(y2, y);
    assert_eq!((g2.x, g2.v, gk2), (g.x, g.v, gk));
}

/// Copies into `mut` locals of an element (`balls[0]`, `*balls.last().unwrap()`) and a field
/// (`w.ball`), their methods then called in a loop.
#[derive(Clone, Copy, Debug, Differentiable)]
struct World {
    ball: Oscillator,
    k: f64,
}

#[differentiate]
fn copies_into_locals(balls: &[Oscillator], w: &World) -> f64 {
    let mut a = balls[0];
    let mut b = *balls.last().unwrap();
    let mut c = w.ball;
    for _ in 0..3 {
        a = a.step(0.1, w.k);
        b = b.step(0.05, w.k);
        c = c.step(0.2, w.k);
    }
    a.energy(w.k) + b.energy(w.k) * 2.0 + c.energy(1.0)
}

#[test]
fn copies_of_elements_fields_and_results() {
    let balls = vec![
        Oscillator { x: 0.5, v: -0.2 },
        Oscillator { x: -1.0, v: 0.3 },
    ];
    let w = World {
        ball: Oscillator { x: 0.2, v: 0.7 },
        k: 1.5,
    };
    let (y, (gb, gw)) = copies_into_locals_grad(&balls, &w);
    assert_eq!(y, copies_into_locals(&balls, &w));
    let r = autodiff::check::gradcheck(
        |p: &(Vec<Oscillator>, World)| copies_into_locals(&p.0, &p.1),
        &(balls.clone(), w),
        &(gb, gw),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A struct's own methods named like a `Vec`'s (`clear`, `swap`) on a local built by a struct
// literal: taken for the `Vec`'s (rustc's E0271, "`swap` takes 2 argument(s)"), a regression of
// the change that kept a `Vec` alias's `push`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Accumulator {
    v: Vec<f64>,
    s: f64,
}

#[differentiate]
impl Accumulator {
    fn clear(&mut self) {
        self.s = 0.0;
    }

    fn swap(&mut self, x: f64) {
        let t = self.s;
        self.s = x * self.v[0];
        self.v[0] = t;
    }
}

#[differentiate]
fn literal_clear(a0: &Accumulator, x: f64) -> f64 {
    let mut a = Accumulator {
        v: a0.v.clone(),
        s: a0.s,
    };
    a.clear();
    a.v[0] * 2.0 + a.s * x
}

#[differentiate]
fn literal_swap(a0: &Accumulator, x: f64) -> f64 {
    let mut a = Accumulator {
        v: a0.v.clone(),
        s: a0.s,
    };
    a.swap(x);
    a.v[0] * 2.0 + a.s * 3.0
}

#[test]
fn own_vec_named_methods_of_literal_locals() {
    let a = Accumulator {
        v: vec![0.5, -0.3],
        s: 0.2,
    };
    let (y, (ga, gx)) = literal_clear_grad(&a, 1.3);
    assert_eq!((y, gx), (1.0, 0.0));
    assert_eq!((ga.v, ga.s), (vec![2.0, 0.0], 0.0));
    // v₀ ← s, s ← x·v₀: 2s + 3x·v₀.
    let (y, (ga, gx)) = literal_swap_grad(&a, 1.3);
    assert_eq!(y, 2.0 * 0.2 + 3.0 * 1.3 * 0.5);
    assert_eq!(gx, 1.5);
    assert_eq!((ga.v, ga.s), (vec![3.0 * 1.3, 0.0], 2.0));
}

/// Copies chosen by an `if` or a `match`, and bound by a tuple pattern, their methods then
/// called in a loop.
#[differentiate]
fn copies_chosen_and_destructured(a: Oscillator, b: Oscillator, k: f64, pick: usize) -> f64 {
    let mut s = if a.x > b.x { a } else { b };
    let mut m = match pick {
        0 => a,
        1 => b,
        _ => s,
    };
    let (mut p, mut t) = (b, k);
    for _ in 0..3 {
        s = s.step(0.1, k);
        m = m.step(0.05, k);
        p = p.step(0.2, t);
        t = t * 0.9 + p.x;
    }
    s.energy(k) + 2.0 * m.energy(k) + p.energy(1.0) + t
}

#[test]
fn copies_chosen_by_if_and_match_and_bound_by_tuples() {
    let a = Oscillator { x: 0.5, v: -0.2 };
    let b = Oscillator { x: -1.0, v: 0.3 };
    for pick in 0..3 {
        for (a, b) in [(a, b), (b, a)] {
            let (y, (ga, gb, gk)) = copies_chosen_and_destructured_grad(a, b, 1.5, pick);
            assert_eq!(y, copies_chosen_and_destructured(a, b, 1.5, pick));
            let r = autodiff::check::gradcheck(
                |p: &(Oscillator, Oscillator, f64)| {
                    copies_chosen_and_destructured(p.0, p.1, p.2, pick)
                },
                &(a, b, 1.5),
                &(ga, gb, gk),
            );
            assert!(r.passed(), "pick {pick}: {r}");
        }
    }
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Vec2 {
    x: f64,
    y: f64,
}

#[differentiate]
impl std::ops::Add for Vec2 {
    type Output = Vec2;
    fn add(self, o: Vec2) -> Vec2 {
        Vec2 {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
}

#[differentiate]
impl Vec2 {
    fn ends(&self, k: f64) -> (Vec2, Vec2) {
        (
            *self,
            Vec2 {
                x: self.x * k,
                y: self.y - k,
            },
        )
    }
    fn energy(&self) -> f64 {
        self.x * self.x * self.y
    }
}

/// Names declared as the struct: by a tuple pattern's type (`let (p, q): (Vec2, Vec2) = ..`) and
/// by a closure's parameter (`|p: &Vec2| p.energy()`); their operators and methods are the
/// struct's.
#[differentiate]
fn declared_names(v: &Vec2, ps: &[Vec2], k: f64) -> f64 {
    let (p, q): (Vec2, Vec2) = v.ends(k);
    let r = p + q;
    let e = |p: &Vec2| p.energy();
    r.x * r.y + e(&ps[0]) + 2.0 * e(&ps[1])
}

#[test]
fn names_declared_as_the_struct_by_tuple_patterns_and_closure_parameters() {
    let v = Vec2 { x: 1.0, y: 2.0 };
    let ps = vec![Vec2 { x: 0.5, y: -1.0 }, Vec2 { x: 1.5, y: 3.0 }];
    let (y, g) = declared_names_grad(&v, &ps, 0.7);
    assert_eq!(y, declared_names(&v, &ps, 0.7));
    let r = autodiff::check::gradcheck(
        |p: &(Vec2, Vec<Vec2>, f64)| declared_names(&p.0, &p.1, p.2),
        &(v, ps.clone(), 0.7),
        &g,
    );
    assert!(r.passed(), "{r}");
}

/// The best element tracked by reference: `let mut best = &ps[0];` then `best = p;` of a loop's
/// item, or `best = &ps[i];`.
#[differentiate]
fn heaviest_by_items(ps: &[Vec2]) -> f64 {
    let mut best = &ps[0];
    for p in ps.iter().skip(1) {
        if p.y > best.y {
            best = p;
        }
    }
    let mut lightest = &ps[0];
    for p in ps {
        if p.y < lightest.y {
            lightest = p;
        }
    }
    best.x * 2.0 + best.x * best.x * best.y - lightest.x
}

#[differentiate]
fn heaviest_by_index(ps: &[Vec2]) -> f64 {
    let mut best = &ps[0];
    for i in 1..ps.len() {
        if ps[i].y > best.y {
            best = &ps[i];
        }
    }
    best.x * best.y
}

/// The same, then the best element's method: its tangent in `_jvp` is carried by reference too.
#[differentiate]
fn heaviest_energy(ps: &[Vec2]) -> f64 {
    let mut best = &ps[0];
    for i in 1..ps.len() {
        if ps[i].y > best.y {
            best = &ps[i];
        }
    }
    best.energy()
}

#[test]
fn best_elements_tracked_by_reference() {
    let ps = vec![
        Vec2 { x: 1.0, y: 2.0 },
        Vec2 { x: -1.5, y: 3.1 },
        Vec2 { x: 0.3, y: 1.0 },
    ];
    let (y, g) = heaviest_by_items_grad(&ps);
    assert_eq!(y, heaviest_by_items(&ps));
    let r = autodiff::check::gradcheck(|p: &Vec<Vec2>| heaviest_by_items(p), &ps, &g);
    assert!(r.passed(), "items: {r}");
    // best = ps[1]: 2x + x²y; lightest = ps[2]: −x.
    assert_eq!(
        (g[1].x, g[1].y, g[2].x, g[0].x),
        (2.0 + 2.0 * -1.5 * 3.1, 2.25, -1.0, 0.0)
    );
    let (y, g) = heaviest_by_index_grad(&ps);
    assert_eq!(y, -1.5 * 3.1);
    assert_eq!((g[1].x, g[1].y, g[0].x), (3.1, -1.5, 0.0));
    let (y, g) = heaviest_energy_grad(&ps);
    assert_eq!(y, 2.25 * 3.1);
    assert_eq!(
        (g[1].x, g[1].y, g[0].x, g[2].y),
        (2.0 * -1.5 * 3.1, 2.25, 0.0, 0.0)
    );
    let t = vec![
        Vec2 { x: 1.0, y: 1.0 },
        Vec2 { x: 0.5, y: 2.0 },
        Vec2 { x: 1.0, y: 1.0 },
    ];
    let (yt, dy) = heaviest_energy_jvp(&ps, &t);
    assert_eq!(yt, y);
    assert_eq!(dy, g[1].x * 0.5 + g[1].y * 2.0);
}

/// A struct of data (built from constants) stepped by its `&mut self` method, then copied and
/// the copy stepped again: the copy is changed, not the original (both were read changed).
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Osc {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl Osc {
    fn step(&mut self, dt: f64) {
        self.x += dt * self.y;
        self.y -= dt * self.x.sin();
    }
}

#[differentiate]
fn stepped_copy(a: f64) -> f64 {
    let mut st1 = Osc { x: -1.29, y: 0.37 };
    for _ in 0..5 {
        st1.step(0.1);
    }
    let mut p2 = st1;
    p2.step(0.21);
    a * ((st1.x - st1.y) + (p2.x - p2.y))
}

#[test]
fn a_copy_of_a_stepped_data_struct_is_stepped_alone() {
    let f1 = stepped_copy(1.0);
    let (y, g) = stepped_copy_grad(1.0);
    assert_eq!((y, g), (f1, f1));
    assert_eq!(stepped_copy_jvp(1.0, 1.0), (f1, f1));
}

/// Fields lent to helpers that take them by reference: an array field given to a helper that
/// takes a slice (`dot(&p.w, x)`, the helper returning a `Vec` for it), or the array, a float
/// field to one taking `&f64`, a struct field to one taking the struct, the field of a row
/// (`&p.rows[r].v`) and a field's subslice (`&p.w[1..]`), in a `#[differentiate(hessian)]`
/// function and through `&self.w` in a method. An array field lent as a slice was rustc's
/// "expected `[f64; 3]`, found `Vec<f64>`" and a forward rule's tangent mismatch inside the
/// generated code.
#[derive(Clone, Debug, Differentiable)]
struct Duo {
    a: f64,
    v: [f64; 2],
}

#[derive(Clone, Debug, Differentiable)]
struct Lent {
    w: [f64; 3],
    b: f64,
    inner: Duo,
    rows: Vec<Duo>,
}

#[differentiate(hessian)]
fn dot_slices(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[differentiate(hessian)]
fn dot_fixed(a: &[f64; 3], b: &[f64]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[differentiate(hessian)]
fn square_of(x: &f64) -> f64 {
    *x * *x
}

#[differentiate(hessian)]
fn duo_energy(p: &Duo) -> f64 {
    p.a * p.v[0] + p.v[1] * p.v[1]
}

#[differentiate(wrt(p), hessian)]
fn lent_energy(p: &Lent, x: &[f64]) -> f64 {
    let mut s = dot_slices(&p.w, x) + dot_fixed(&p.w, x) + square_of(&p.b) + duo_energy(&p.inner);
    for r in 0..p.rows.len() {
        s += dot_slices(&p.rows[r].v, &x[..2]);
    }
    s += dot_slices(&p.inner.v, &p.w[1..]);
    s * s
}

#[differentiate]
impl Lent {
    fn lent_predict(&self, x: &[f64]) -> f64 {
        dot_slices(&self.w, x) + self.b
    }
}

/// `Lent` as the list of its floats: w, b, inner.a, inner.v, then each row's a and v.
fn lent_floats(p: &Lent) -> Vec<f64> {
    let mut out = p.w.to_vec();
    out.extend([p.b, p.inner.a, p.inner.v[0], p.inner.v[1]]);
    for r in &p.rows {
        out.extend([r.a, r.v[0], r.v[1]]);
    }
    out
}

fn lent_of(q: &[f64]) -> Lent {
    let duo = |k: usize| Duo {
        a: q[k],
        v: [q[k + 1], q[k + 2]],
    };
    Lent {
        w: [q[0], q[1], q[2]],
        b: q[3],
        inner: duo(4),
        rows: (7..q.len()).step_by(3).map(duo).collect(),
    }
}

#[test]
fn fields_lent_to_helpers_by_reference() {
    let q = [
        0.3, -0.8, 1.1, 0.45, -0.6, 0.9, 0.2, 0.7, -0.35, 1.3, 0.1, 0.55, -1.2,
    ];
    let p = lent_of(&q);
    let x = [0.9, -0.4, 0.25];
    // s and its gradient by hand; the energy is s².
    let s = 2.0 * (p.w[0] * x[0] + p.w[1] * x[1] + p.w[2] * x[2])
        + p.b * p.b
        + p.inner.a * p.inner.v[0]
        + p.inner.v[1] * p.inner.v[1]
        + p.rows
            .iter()
            .map(|r| r.v[0] * x[0] + r.v[1] * x[1])
            .sum::<f64>()
        + p.inner.v[0] * p.w[1]
        + p.inner.v[1] * p.w[2];
    let mut ds = vec![
        2.0 * x[0],
        2.0 * x[1] + p.inner.v[0],
        2.0 * x[2] + p.inner.v[1],
        2.0 * p.b,
        p.inner.v[0],
        p.inner.a + p.w[1],
        2.0 * p.inner.v[1] + p.w[2],
    ];
    for _ in &p.rows {
        ds.extend([0.0, x[0], x[1]]);
    }
    let (y, g) = lent_energy_grad(&p, &x);
    assert!((y - s * s).abs() < 1e-12 * (s * s), "{y} vs {}", s * s);
    let want: Vec<f64> = ds.iter().map(|d| 2.0 * s * d).collect();
    close_to("∂energy/∂fields", &lent_floats(&g), &want);

    let (_, pullback) = lent_energy_vjp(&p, &x);
    let scaled: Vec<f64> = want.iter().map(|d| -0.5 * d).collect();
    close_to("pullback at -0.5", &lent_floats(&pullback(-0.5)), &scaled);

    // A direction, the tangent along it, and the Hessian's product with it:
    // H·d = 2·∇s·(∇s·d) + 2·s·(∇²s·d), ∇²s having the pairs the products above make.
    let dq = [
        0.5, 0.25, -1.0, 0.75, -0.3, 0.6, 1.4, -0.9, 0.35, 0.8, -0.45, 0.15, 1.05,
    ];
    let ds_d: f64 = ds.iter().zip(&dq).map(|(a, b)| a * b).sum();
    let (_, tangent) = lent_energy_jvp(&p, &x, &lent_of(&dq));
    assert!((tangent - 2.0 * s * ds_d).abs() < 1e-12 * (2.0 * s * ds_d).abs());
    let mut d2s_d = vec![0.0; q.len()];
    for (i, j, h) in [
        (3, 3, 2.0),
        (4, 5, 1.0),
        (5, 1, 1.0),
        (6, 6, 2.0),
        (6, 2, 1.0),
    ] {
        d2s_d[i] += h * dq[j];
        if i != j {
            d2s_d[j] += h * dq[i];
        }
    }
    let want_hv: Vec<f64> = (0..q.len())
        .map(|i| 2.0 * ds[i] * ds_d + 2.0 * s * d2s_d[i])
        .collect();
    let (_, _, hv) = lent_energy_hvp(&p, &x, &lent_of(&dq));
    close_to("H·d", &lent_floats(&hv), &want_hv);

    let (y, (gp, _)) = Lent::lent_predict_grad(&p, &x);
    assert_eq!(y, p.lent_predict(&x));
    close_to("∂lent_predict/∂w", &gp.w, &x);
    assert_eq!(gp.b, 1.0);
}

// A struct with fields of data (`usize`, `bool`) copied or computed into a new value of it:
// `Layer { n_in: l.n_in, .. }` was rustc's "`usize` is not differentiable" in the generated
// code (the field's read given the call's `()` as its adjoint), and `Layer { n_in: l.n_in - 1,
// ..m.clone() }` and `m2.relu = !l.relu` the same error from the field assignment's rule.

#[derive(Clone, Debug, Differentiable)]
struct Layer {
    w: Vec<f64>,
    n_in: usize,
    relu: bool,
}

#[differentiate(hessian)]
impl Layer {
    fn scaled(&self, k: f64) -> Layer {
        Layer {
            w: self.w.iter().map(|v| v * k).collect(),
            n_in: self.n_in,
            relu: self.relu,
        }
    }

    /// `Σ_{i<n_in} a(w_i)·w_i` with `a` the ReLU where `relu`, else the identity.
    fn energy(&self) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n_in {
            let a = if self.relu {
                self.w[i].max(0.0)
            } else {
                self.w[i]
            };
            s += a * self.w[i];
        }
        s
    }
}

#[differentiate(hessian)]
fn copied_data_fields(l: &Layer, k: f64) -> f64 {
    let m = Layer {
        w: l.w.iter().map(|v| v * k).collect(),
        n_in: l.n_in,
        relu: l.relu,
    };
    let mut m2 = Layer {
        n_in: l.n_in - 1,
        ..m.clone()
    };
    m2.relu = !l.relu;
    m2.n_in += 0;
    let m3 = l.scaled(k * k);
    m.energy() + m2.energy() + m3.energy()
}

#[test]
fn data_fields_copied_and_assigned_in_new_values() {
    // With n_in = 3 and relu on, m and m3 keep the ReLU and m2 (two inputs) does not:
    // f = k²Σ⁺w² + k²Σ_{i<2} w_i² + k⁴Σ⁺w² (Σ⁺ over w_i > 0), so ∂f/∂k = 2kΣ⁺w² + 2kΣ₂w² +
    // 4k³Σ⁺w², ∂f/∂w_i = [w_i>0]·2k²w_i + [i<2]·2k²w_i + [w_i>0]·2k⁴w_i.
    let l = Layer {
        w: vec![0.8, -1.3, 0.6],
        n_in: 3,
        relu: true,
    };
    let k = 0.7;
    let (v, (gl, gk)) = copied_data_fields_grad(&l, k);
    assert_eq!(v, copied_data_fields(&l, k));
    let w = &l.w;
    let sq = |n: usize| w[..n].iter().map(|x| x * x).sum::<f64>();
    let pos: f64 = w.iter().filter(|&&x| x > 0.0).map(|x| x * x).sum();
    let want_k = 2.0 * k * pos + 2.0 * k * sq(2) + 4.0 * k.powi(3) * pos;
    assert!((gk - want_k).abs() < 1e-12, "∂f/∂k = {gk}, want {want_k}");
    for i in 0..3 {
        let mut want = 0.0;
        if i < 2 {
            want += 2.0 * k * k * w[i];
        }
        if w[i] > 0.0 {
            want += 2.0 * k * k * w[i] + 2.0 * k.powi(4) * w[i];
        }
        assert!(
            (gl.w[i] - want).abs() < 1e-12,
            "∂f/∂w{i} = {}, want {want}",
            gl.w[i]
        );
    }
    // Along (δw, δk): the tangent is the gradient's projection, and the Hessian-vector product
    // the difference of gradients along it.
    let dl = Layer {
        w: vec![0.3, 0.2, -0.5],
        n_in: 3,
        relu: true,
    };
    let dk = -0.4;
    let (_, t) = copied_data_fields_jvp(&l, k, &dl, dk);
    let proj = gk * dk + (0..3).map(|i| gl.w[i] * dl.w[i]).sum::<f64>();
    assert!((t - proj).abs() < 1e-12, "tangent {t}, projection {proj}");
    let (_, _, (hl, hk)) = copied_data_fields_hvp(&l, k, &dl, dk);
    let h = 1e-5;
    let at = |s: f64| {
        let q = Layer {
            w: (0..3).map(|i| l.w[i] + s * dl.w[i]).collect(),
            ..l.clone()
        };
        copied_data_fields_grad(&q, k + s * dk).1
    };
    let ((gp, gkp), (gm, gkm)) = (at(h), at(-h));
    assert!((hk - (gkp - gkm) / (2.0 * h)).abs() < 1e-6, "hvp in k {hk}");
    for i in 0..3 {
        let fd = (gp.w[i] - gm.w[i]) / (2.0 * h);
        assert!(
            (hl.w[i] - fd).abs() < 1e-6,
            "hvp in w{i}: {} vs {fd}",
            hl.w[i]
        );
    }
    assert_eq!((hl.n_in, gl.n_in), (l.n_in, l.n_in));
}

/// A `Vec<usize>` field of a differentiated struct assigned a new list: `f = Σ_t (t+1)·k·w[idx[t]]`
/// with `idx = [1, 0]`, so `∂f/∂w = (2k, k)` and `∂f/∂k = w₁ + 2w₀`. The assignment went to a
/// rule that needs a gradient of the field (rustc's error inside the generated code).
#[derive(Clone, Debug, Differentiable)]
struct Gather {
    w: Vec<f64>,
    idx: Vec<usize>,
}

#[differentiate]
fn regathered(g: &Gather, k: f64) -> f64 {
    let mut m = g.clone();
    m.idx = vec![1, 0];
    let mut s = 0.0;
    for t in 0..m.idx.len() {
        s += (t as f64 + 1.0) * k * m.w[m.idx[t]];
    }
    s
}

#[test]
fn a_list_of_indices_assigned_to_a_field() {
    let g = Gather {
        w: vec![0.7, -1.1],
        idx: vec![0],
    };
    let k = 0.4;
    let (v, (gg, gk)) = regathered_grad(&g, k);
    assert_eq!(v, regathered(&g, k));
    assert!((gk - (g.w[1] + 2.0 * g.w[0])).abs() < 1e-12, "∂f/∂k = {gk}");
    assert!(
        (gg.w[0] - 2.0 * k).abs() < 1e-12 && (gg.w[1] - k).abs() < 1e-12,
        "{:?}",
        gg.w
    );
    let h = 1e-6;
    let fd = (regathered(&g, k + h) - regathered(&g, k - h)) / (2.0 * h);
    assert!((gk - fd).abs() < 1e-6, "∂f/∂k {gk} against {fd}");
}

/// Integer fields of a parameter struct cast to floats (`1.0 / l.n as f64`, `/ l.deg[i] as f64`,
/// also through locals): the casts have no derivative, in every mode. A data field's tangent
/// (in `_jvp` and `_hvp`) is a copy of the data, which the cast must not read as a tangent.
#[derive(Clone, Debug, Differentiable)]
pub struct Degrees {
    pub w: Vec<f64>,
    pub n: usize,
    pub deg: Vec<u32>,
}

#[differentiate(hessian)]
pub fn degree_normalised(l: &Degrees) -> f64 {
    let mut s = 0.0;
    for i in 0..l.w.len() {
        s += l.w[i] * l.w[i] / l.deg[i] as f64;
    }
    s / l.n as f64
}

#[differentiate]
pub fn casts_of_locals(l: &Degrees) -> f64 {
    let k = l.n;
    let m = l.deg[1];
    l.w[0] * k as f64 + l.w[1] / m as f64
}

#[differentiate(kinks = exact)]
pub fn casts_beside_a_kink(l: &Degrees) -> f64 {
    (l.w[0] * l.n as f64).max(l.w[1] / l.deg[0] as f64)
}

#[derive(Clone, Debug, Differentiable)]
pub struct Graph {
    pub d: f64,
    pub edges: Vec<(usize, usize)>,
    pub out_deg: Vec<usize>,
    pub n: usize,
}

/// PageRank with the damping factor differentiated: the out-degrees and the node count are cast.
#[differentiate]
pub fn pagerank(g: &Graph, iters: usize) -> f64 {
    let mut r = vec![1.0 / g.n as f64; g.n];
    for _ in 0..iters {
        let mut next = vec![(1.0 - g.d) / g.n as f64; g.n];
        for &(u, v) in &g.edges {
            next[v] += g.d * r[u] / g.out_deg[u] as f64;
        }
        r = next;
    }
    r[0] * 3.0 + r[1]
}

#[test]
fn integer_fields_cast_to_floats() {
    let l = Degrees {
        w: vec![0.3, -1.2, 0.8],
        n: 3,
        deg: vec![2, 1, 4],
    };
    // Σ wᵢ²/degᵢ / n: ∂/∂wᵢ = 2wᵢ/(degᵢ·n), Hessian diagonal 2/(degᵢ·n).
    let (_, g) = degree_normalised_grad(&l);
    for i in 0..3 {
        let want = 2.0 * l.w[i] / l.deg[i] as f64 / 3.0;
        assert!((g.w[i] - want).abs() < 1e-12, "{i}");
    }
    let dl = Degrees {
        w: vec![1.0, 0.5, -0.25],
        ..l.clone()
    };
    let (_, t) = degree_normalised_jvp(&l, &dl);
    let want: f64 = (0..3).map(|i| g.w[i] * dl.w[i]).sum();
    assert!((t - want).abs() < 1e-12, "{t} {want}");
    let (_, _, hv) = degree_normalised_hvp(&l, &dl);
    for i in 0..3 {
        let want = 2.0 / l.deg[i] as f64 / 3.0 * dl.w[i];
        assert!((hv.w[i] - want).abs() < 1e-12, "{i} {} {want}", hv.w[i]);
    }
    // w₀·n + w₁/deg₁: ∂/∂w₀ = 3, ∂/∂w₁ = 1.
    let (_, g) = casts_of_locals_grad(&l);
    assert_eq!((g.w[0], g.w[1]), (3.0, 1.0));
    let (_, t) = casts_of_locals_jvp(&l, &dl);
    assert!((t - (3.0 * 1.0 + 0.5)).abs() < 1e-12, "{t}");
    // max(0.9, −0.6) is its first argument: ∂/∂w₀ = n = 3.
    let (_, g) = casts_beside_a_kink_grad(&l);
    assert_eq!((g.w[0], g.w[1]), (3.0, 0.0));
}

#[test]
fn pagerank_damping() {
    let g = Graph {
        d: 0.85,
        edges: vec![(0, 1), (1, 2), (2, 0), (0, 2)],
        out_deg: vec![2, 1, 1],
        n: 3,
    };
    let (_, grad) = pagerank_grad(&g, 5);
    let h = 1e-6;
    let at = |d: f64| pagerank(&Graph { d, ..g.clone() }, 5);
    let fd = (at(g.d + h) - at(g.d - h)) / (2.0 * h);
    assert!((grad.d - fd).abs() < 1e-8, "{} {fd}", grad.d);
    let (_, t) = pagerank_jvp(
        &g,
        5,
        &Graph {
            d: 1.0,
            ..g.clone()
        },
    );
    assert!((t - grad.d).abs() < 1e-12, "{t} {}", grad.d);
}

/// A parameter struct that borrows its indices.
#[derive(Clone, Debug, autodiff::Differentiable)]
struct SparseRow<'a> {
    w: Vec<f64>,
    idx: &'a [usize],
}

/// Σ_k w_k x_{idx_k} + (Σ_k w_k)²/2 with the struct's lifetime written `'_`:
/// ∂/∂w_k = x_{idx_k} + Σ_j w_j, ∂/∂x_i = Σ_{k: idx_k = i} w_k; the Hessian in w is all ones.
#[differentiate(hessian)]
fn gather_elided(m: &SparseRow<'_>, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (k, &i) in m.idx.iter().enumerate() {
        s += m.w[k] * x[i];
    }
    let t: f64 = m.w.iter().sum();
    s + 0.5 * t * t
}

#[test]
fn a_struct_that_borrows_taken_with_its_lifetime_elided() {
    let idx = [2usize, 0, 2];
    let m = SparseRow {
        w: vec![1.0, 2.0, 3.0],
        idx: &idx,
    };
    let x = [0.5, 0.25, 4.0];
    let (v, (gm, gx)) = gather_elided_grad(&m, &x);
    assert_eq!(v, gather_elided(&m, &x));
    // Σ w = 6.
    assert_eq!(gm.w, vec![4.0 + 6.0, 0.5 + 6.0, 4.0 + 6.0]);
    assert_eq!(gm.idx, &idx[..]);
    assert_eq!(gx, vec![2.0, 0.0, 4.0]);
    // Along dw = (1, 2, 0), dx = (0, 0, 1): ∂f/∂w_k = x_{idx_k} + Σ w changes by
    // dx_{idx_k} + Σ dw = (1, 0, 1) + 3, and ∂f/∂x_i = Σ_{k: idx_k = i} w_k by
    // (dw_1, 0, dw_0 + dw_2) = (2, 0, 1).
    let dm = SparseRow {
        w: vec![1.0, 2.0, 0.0],
        idx: &idx,
    };
    let (_, _, (hm, hx)) = gather_elided_hvp(&m, &x, &dm, &vec![0.0, 0.0, 1.0]);
    assert_eq!(hm.w, vec![4.0, 3.0, 4.0]);
    assert_eq!(hx, vec![2.0, 0.0, 1.0]);
    let dm = SparseRow {
        w: vec![1.0, 0.0, -1.0],
        idx: &idx,
    };
    let (_, dv) = gather_elided_jvp(&m, &x, &dm, &vec![1.0, 0.0, 0.0]);
    // ∂f·(dw, dx) = Σ_k dw_k (x_{idx_k} + Σ w) + Σ_i dx_i ∂f/∂x_i = (4 + 6) − (4 + 6) + 2.
    assert_eq!(dv, 2.0);
}
