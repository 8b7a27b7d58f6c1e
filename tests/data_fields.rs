//! Parameter structs holding data of a type of the user's own — an enum choosing the activation —
//! in a field marked `#[differentiable(data)]`: the struct's gradient copies the field, the
//! differentiated functions match it (its payloads are constants) and, with the type declared
//! `autodiff::Data`, call its methods on it.

use autodiff::check::finite_difference;
use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Tanh,
    Relu,
    Soft(f64),
}

/// Methods are called on fields of this type below.
impl autodiff::Data for Act {}

#[differentiate(wrt(z), hessian)]
impl Act {
    fn apply(&self, z: f64) -> f64 {
        match self {
            Act::Tanh => z.tanh(),
            Act::Relu => z.max(0.0),
            Act::Soft(beta) => (1.0 + (beta * z).exp()).ln() / beta,
        }
    }
    /// A method with nothing to differentiate under the block's `wrt(z)`: its value is a
    /// constant where it is called.
    fn slope_at_zero(&self) -> f64 {
        match self {
            Act::Tanh => 1.0,
            Act::Relu => 0.5,
            Act::Soft(_) => 0.5,
        }
    }
    /// So is one whose other parameters are sizes.
    fn fan_scale(&self, fan_in: usize) -> f64 {
        self.slope_at_zero() / (fan_in as f64).sqrt()
    }
}

/// A settings enum that is only ever matched: the field's mark is all it needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pool {
    Sum,
    Scaled { by: f64 },
}

#[derive(Clone, Debug, Differentiable)]
pub struct Layer {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    #[differentiable(data)]
    pub act: Act,
    #[differentiable(data)]
    pub pool: Pool,
}

#[differentiate]
impl Layer {
    /// The activation matched in the method (payload `beta` a constant).
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.b.len());
        for (row, bi) in self.w.iter().zip(&self.b) {
            let z: f64 = row.iter().zip(x).map(|(w, xi)| w * xi).sum::<f64>() + bi;
            let a = match self.act {
                Act::Tanh => z.tanh(),
                Act::Relu => z.max(0.0),
                Act::Soft(beta) => (1.0 + (beta * z).exp()).ln() / beta,
            };
            out.push(a);
        }
        out
    }

    fn pooled(&self, x: &[f64]) -> f64 {
        let h = self.forward(x);
        let s: f64 = h.iter().sum();
        match self.pool {
            Pool::Sum => s,
            Pool::Scaled { by } => by * s,
        }
    }
}

#[differentiate]
fn two_layers(l1: &Layer, l2: &Layer, x: &[f64], y: f64) -> f64 {
    let h = l1.forward(x);
    (l2.pooled(&h) - y).powi(2)
}

fn layer(w: Vec<Vec<f64>>, b: Vec<f64>, act: Act, pool: Pool) -> Layer {
    Layer { w, b, act, pool }
}

#[test]
fn matched_enum_fields_are_data_of_the_gradient() {
    let l1 = layer(
        vec![vec![0.3, -0.2], vec![0.5, 0.1], vec![-0.4, 0.7]],
        vec![0.1, 0.0, -0.1],
        Act::Soft(2.0),
        Pool::Sum,
    );
    let l2 = layer(
        vec![vec![0.2, 0.3, -0.5], vec![0.6, -0.1, 0.2]],
        vec![0.05, -0.02],
        Act::Tanh,
        Pool::Scaled { by: 1.5 },
    );
    let x = [0.5, -1.0];
    let (v, (g1, g2, _, _)) = two_layers_grad(&l1, &l2, &x, 0.3);
    assert_eq!(v, two_layers(&l1, &l2, &x, 0.3));
    // The gradients carry the data fields as the values have them.
    assert_eq!((g1.act, g1.pool), (l1.act, l1.pool));
    assert_eq!((g2.act, g2.pool), (l2.act, l2.pool));
    // Central differences over the leaves (the data fields are not leaves).
    let fd1 = finite_difference(|p: &Layer| two_layers(p, &l2, &x, 0.3), &l1, 1e-6);
    let fd2 = finite_difference(|p: &Layer| two_layers(&l1, p, &x, 0.3), &l2, 1e-6);
    for (g, fd) in [(&g1, &fd1), (&g2, &fd2)] {
        for (a, b) in g.w.iter().flatten().zip(fd.w.iter().flatten()) {
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
        for (a, b) in g.b.iter().zip(&fd.b) {
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
    assert_eq!(g1.num_scalars(), 3 * 2 + 3);
}

#[derive(Clone, Debug, Differentiable)]
pub struct Net {
    pub w: Vec<f64>,
    #[differentiable(data)]
    pub acts: Vec<Act>,
    #[differentiable(data)]
    pub out: Act,
    pub scale: f64,
}

/// Methods of the data type called on the fields, `if let`, `matches!` and `==` on them.
#[differentiate(hessian)]
fn run(n: &Net, x: f64) -> f64 {
    let mut h = x;
    for (i, w) in n.w.iter().enumerate() {
        h = n.acts[i].apply(w * h + 0.1);
        if let Act::Soft(b) = n.acts[i] {
            h += 0.01 * b * h;
        }
        if matches!(n.acts[i], Act::Relu) {
            h *= 1.5;
        }
    }
    let y = if n.out == Act::Tanh { h.tanh() } else { h };
    n.scale * n.out.apply(y)
}

fn net() -> Net {
    Net {
        w: vec![0.7, -1.3, 0.4],
        acts: vec![Act::Soft(2.0), Act::Tanh, Act::Relu],
        out: Act::Tanh,
        scale: 1.5,
    }
}

#[test]
fn methods_of_a_declared_data_type_are_called_on_fields() {
    let n = net();
    let x = 0.8;
    let (_, (g, gx)) = run_grad(&n, x);
    assert_eq!(g.acts, n.acts);
    let fd = finite_difference(|p: &Net| run(p, x), &n, 1e-6);
    for (a, b) in g.w.iter().zip(&fd.w) {
        assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
    }
    assert!((g.scale - fd.scale).abs() < 1e-6 * (1.0 + fd.scale.abs()));
    let e = 1e-6;
    let fdx = (run(&n, x + e) - run(&n, x - e)) / (2.0 * e);
    assert!((gx - fdx).abs() < 1e-6 * (1.0 + fdx.abs()), "{gx} vs {fdx}");
    // Forward mode along `w` agrees with the gradient.
    let mut dn = n.zero_like();
    dn.w = vec![1.0, 0.5, -0.2];
    let (_, t) = run_jvp(&n, x, &dn, 0.0);
    let along = g.w[0] + 0.5 * g.w[1] - 0.2 * g.w[2];
    assert!(
        (t - along).abs() < 1e-9 * (1.0 + along.abs()),
        "{t} vs {along}"
    );
    // A Hessian-vector product along `x`: the difference of gradients.
    let (_, _, hv) = run_hvp(&n, x, &n.zero_like(), 1.0);
    let (_, (_, gp)) = run_grad(&n, x + e);
    let (_, (_, gm)) = run_grad(&n, x - e);
    let fdh = (gp - gm) / (2.0 * e);
    assert!(
        (hv.1 - fdh).abs() < 1e-5 * (1.0 + fdh.abs()),
        "{} vs {fdh}",
        hv.1
    );
}

/// The data type's methods without float parameters, called on a field: constants, so that
/// f = s·Σ_i c_i w_i x + scale·x with c_i = slope_at_zero(act_i)/√3 has ∂f/∂w_i = s c_i x,
/// ∂f/∂x = s Σ_i c_i w_i + scale, ∂²f/∂w_i∂x = s c_i, ∂²f/∂scale∂x = 1 and no other second
/// derivative.
#[differentiate(hessian)]
fn linearised(n: &Net, x: f64) -> f64 {
    let mut t = 0.0;
    for (i, w) in n.w.iter().enumerate() {
        t += n.acts[i].fan_scale(n.w.len()) * w * x;
    }
    n.out.slope_at_zero() * t + n.scale * x
}

#[test]
fn methods_without_float_parameters_are_constants() {
    let n = net();
    let x = 0.8;
    let c: Vec<f64> = n
        .acts
        .iter()
        .map(|a| a.slope_at_zero() / 3f64.sqrt())
        .collect();
    let s = n.out.slope_at_zero();
    let (v, (g, gx)) = linearised_grad(&n, x);
    assert_eq!(v, linearised(&n, x));
    for i in 0..3 {
        assert!((g.w[i] - s * c[i] * x).abs() < 1e-12);
    }
    let want_x: f64 = s * (0..3).map(|i| c[i] * n.w[i]).sum::<f64>() + n.scale;
    assert!((gx - want_x).abs() < 1e-12);
    assert!((g.scale - x).abs() < 1e-12);
    // Along dw = (1, 0, 0), dx = 1: the tangent is ∂f/∂w_0 + ∂f/∂x, and the Hessian's product
    // is s c in w, 1 in scale and s c_0 in x.
    let mut dn = n.zero_like();
    dn.w = vec![1.0, 0.0, 0.0];
    let (_, t) = linearised_jvp(&n, x, &dn, 1.0);
    assert!((t - (s * c[0] * x + want_x)).abs() < 1e-12);
    let (_, _, (hn, hx)) = linearised_hvp(&n, x, &dn, 1.0);
    for i in 0..3 {
        assert!((hn.w[i] - s * c[i]).abs() < 1e-12);
    }
    assert!((hn.scale - 1.0).abs() < 1e-12);
    assert!((hx - s * c[0]).abs() < 1e-12);
}

/// A layer built inside the differentiated function, its data field given by the caller, and
/// the field assigned there.
#[differentiate(wrt(w))]
fn built(w: &[f64], act: Act, x: f64) -> f64 {
    let mut n = Net {
        w: w.to_vec(),
        acts: vec![act; w.len()],
        out: Act::Tanh,
        scale: 2.0,
    };
    if x > 0.0 {
        n.out = Act::Soft(3.0);
    }
    run(&n, x)
}

#[test]
fn structs_with_data_fields_are_built_and_assigned_in_differentiated_code() {
    let w = vec![0.7, -1.3, 0.4];
    for x in [0.8, -0.6] {
        let (v, g) = built_grad(&w, Act::Soft(1.5), x);
        assert_eq!(v, built(&w, Act::Soft(1.5), x));
        let fd = finite_difference(|p: &Vec<f64>| built(p, Act::Soft(1.5), x), &w, 1e-6);
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}

#[test]
fn an_optimizer_steps_the_leaves_and_keeps_the_data() {
    // Smooth activations: the ReLU of `net()` is at zero there, and so is its gradient.
    let acts = vec![Act::Soft(2.0), Act::Tanh, Act::Soft(1.0)];
    let mut n = Net {
        acts: acts.clone(),
        ..net()
    };
    let x = 0.8;
    let target = 0.25;
    let loss = |n: &Net| (run(n, x) - target).powi(2);
    let start = loss(&n);
    let mut adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    for _ in 0..200 {
        let (y, pullback) = run_vjp(&n, x);
        let (g, _) = pullback(2.0 * (y - target));
        adam.step(&mut n, &g);
    }
    assert_eq!(n.acts, acts);
    assert_eq!(n.out, Act::Tanh);
    assert!(loss(&n) < 0.01 * start, "{} from {start}", loss(&n));
}

#[derive(Clone, Debug, Differentiable)]
pub struct Inner {
    pub w: Vec<f64>,
    #[differentiable(data)]
    pub act: Option<Act>,
}

/// A tuple struct with a marked field, around a struct whose marked field holds an `Option`.
#[derive(Clone, Debug, Differentiable)]
pub struct Outer(pub Inner, #[differentiable(data)] pub Act, pub f64);

/// Variants inside other patterns (`Some(Act::Soft(beta))`), and a tuple struct's field.
#[differentiate]
fn nested(o: &Outer, x: f64) -> f64 {
    let mut s = o.2 * x;
    for w in &o.0.w {
        let z = w * s;
        s = match o.0.act {
            Some(Act::Tanh) => z.tanh(),
            Some(Act::Soft(beta)) => (1.0 + (beta * z).exp()).ln() / beta,
            Some(Act::Relu) | None => z,
        };
    }
    let k = match o.1 {
        Act::Soft(beta) => beta,
        _ => 1.0,
    };
    k * s
}

#[test]
fn variants_inside_options_and_tuple_struct_fields_are_data() {
    for act in [Some(Act::Soft(1.5)), Some(Act::Tanh), None] {
        let o = Outer(
            Inner {
                w: vec![0.5, -1.2, 0.8],
                act,
            },
            Act::Soft(0.3),
            1.3,
        );
        let (_, (g, gx)) = nested_grad(&o, 0.7);
        assert_eq!((g.0.act, g.1), (act, Act::Soft(0.3)));
        let fd = finite_difference(|p: &Outer| nested(p, 0.7), &o, 1e-6);
        for (a, b) in g.0.w.iter().zip(&fd.0.w) {
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!((g.2 - fd.2).abs() < 1e-6 * (1.0 + fd.2.abs()));
        let e = 1e-6;
        let fdx = (nested(&o, 0.7 + e) - nested(&o, 0.7 - e)) / (2.0 * e);
        assert!((gx - fdx).abs() < 1e-6 * (1.0 + fdx.abs()), "{gx} vs {fdx}");
    }
}

/// A complex number, for a struct field of a record left out by `wrt(..)`.
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Cx {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl Cx {
    pub fn conj(&self) -> Cx {
        Cx {
            re: self.re,
            im: -self.im,
        }
    }
}

#[differentiate]
impl std::ops::Mul for Cx {
    type Output = Cx;
    fn mul(self, o: Cx) -> Cx {
        Cx {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}

#[derive(Clone, Debug, Differentiable)]
pub struct Probe {
    pub z: Cx,
    pub w: f64,
}

/// `t = conj(z)·(a + i a²)`: `t.re = z.re a + z.im a²`, `t.im = z.re a² − z.im a`, and
/// `∂(t.re + w t.im)/∂a = z.re + 2 z.im a + w (2 z.re a − z.im)`.
#[differentiate(wrt(a))]
fn probe(a: f64, rec: &Probe) -> f64 {
    let t = rec.z.conj() * Cx { re: a, im: a * a };
    t.re + t.im * rec.w
}

#[test]
fn a_struct_field_of_a_record_left_out_keeps_its_methods_and_operators() {
    let rec = Probe {
        z: Cx { re: 0.5, im: -1.5 },
        w: 2.0,
    };
    let a = 0.7;
    let (_, g) = probe_grad(a, &rec);
    let (zr, zi, w) = (rec.z.re, rec.z.im, rec.w);
    let expected = zr + 2.0 * zi * a + w * (2.0 * zr * a - zi);
    assert!((g - expected).abs() < 1e-12, "{g} vs {expected}");
}
