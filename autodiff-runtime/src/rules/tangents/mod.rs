//! The tangents of the reverse rules (`<rule>_jvp`, which second derivatives call on values of
//! array type) against central finite differences of the reverse rules themselves.
//!
//! For a reverse rule `r = R(args.., g)`, its tangent `R_jvp(args.., &g, dargs.., &dg)` is
//! `d/ds R(args + s·dargs, g + s·dg)` at `s = 0`, every argument varied on its own — the primal
//! result `y` too — except those the rule takes no tangent for (shapes, arguments it does not
//! read, integer exponents), which stay put. Each check draws points inside domains away from
//! the primitives' kinks, jumps and domain edges, random directions, and compares the tangent
//! with the central difference element by element, with the default step and tolerances of
//! `check` for the scalar type: on `f64` and `f32` scalars, and on arrays of several points.
//! Where a rule selects an argument (`max`, `min`, `clamp`), `y` moves with the argument it
//! equals, as it does along any path through the primal: the selection is then constant and the
//! rule differentiable along the direction.

use ndarray::Array1;

use crate::check::Tolerance;
use crate::differentiable::{Differentiable, Real};
use crate::rules::testing::Lcg;

mod arith;
mod float;

/// Points per primitive (and elements of the arrays).
const POINTS: usize = 4;

/// `x + s·t`.
pub(super) fn along<P: Differentiable>(x: &P, t: &P, s: P::Scalar) -> P {
    let mut step = t.clone();
    step.scale(s);
    let mut out = x.clone();
    out.add_assign(&step);
    out
}

fn leaves<P: Differentiable>(x: &P) -> Vec<f64> {
    let mut out = Vec::new();
    x.visit_leaves(&mut |leaf| out.extend(leaf.iter().map(|v| v.as_f64())));
    out
}

/// Panics unless `tangent` is, element by element, the central difference
/// `(at(h) − at(−h))/2h` of the reverse rule `at(s)` evaluated at the arguments moved by `s`
/// along the direction, within the default step and tolerances of the scalar type.
#[track_caller]
pub(super) fn assert_tangent<R: Differentiable>(
    rule: &str,
    at: impl Fn(R::Scalar) -> R,
    tangent: &R,
) {
    let tol = Tolerance::default_for::<R::Scalar>();
    let h = R::Scalar::of_f64(tol.step);
    let (plus, minus) = (leaves(&at(h)), leaves(&at(-h)));
    let analytic = leaves(tangent);
    assert_eq!(
        analytic.len(),
        plus.len(),
        "{rule}: the tangent does not have the shape of the rule's result"
    );
    for (i, ((&a, p), m)) in analytic.iter().zip(&plus).zip(&minus).enumerate() {
        let numeric = (p - m) / (2.0 * h.as_f64());
        assert!(
            a.is_finite() && tol.allows(a, numeric),
            "{rule}: element {i}: tangent {a:e}, central difference {numeric:e}"
        );
    }
}

/// A function of a primitive's operands.
type OfOperands = Box<dyn Fn(&[f64]) -> f64>;
/// A function of a primitive's operands and their tangents.
type OfTangents = Box<dyn Fn(&[f64], &[f64]) -> f64>;

/// A primitive as the checks sample it.
pub(super) struct Prim {
    /// The primal, from the operands: gives `y`.
    primal: OfOperands,
    /// Per operand, where its values are drawn.
    domains: Vec<(f64, f64)>,
    /// For a primitive that selects an argument: the tangent of `y` from the operands and
    /// their tangents.
    tie: Option<OfTangents>,
}

pub(super) fn prim(primal: impl Fn(&[f64]) -> f64 + 'static, domains: &[(f64, f64)]) -> Prim {
    Prim {
        primal: Box::new(primal),
        domains: domains.to_vec(),
        tie: None,
    }
}

/// A method with one input, drawn in `[lo, hi)`.
pub(super) fn unary(f: fn(f64) -> f64, lo: f64, hi: f64) -> Prim {
    prim(move |o| f(o[0]), &[(lo, hi)])
}

impl Prim {
    /// `y`'s tangent follows the argument `y` equals.
    pub(super) fn tied(mut self, tie: impl Fn(&[f64], &[f64]) -> f64 + 'static) -> Prim {
        self.tie = Some(Box::new(tie));
        self
    }

    /// `POINTS` points (operands, `y`, `g`) and directions, zero for the arguments without a
    /// tangent (`mask`). With `shared`, the operands after the receiver and their directions
    /// are those of the first point: one scalar argument of an array method.
    fn sample(&self, mask: &[bool], shared: bool, rng: &mut Lcg) -> Vec<(Vec<f64>, Vec<f64>)> {
        let n = self.domains.len();
        assert_eq!(mask.len(), n + 2, "one mask entry per operand, y and g");
        let mut out: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        for i in 0..POINTS {
            let mut ops: Vec<f64> = self
                .domains
                .iter()
                .map(|&(lo, hi)| rng.uniform(lo, hi))
                .collect();
            let mut dirs: Vec<f64> = mask
                .iter()
                .map(|&m| if m { rng.uniform(-1.0, 1.0) } else { 0.0 })
                .collect();
            if shared && i > 0 {
                ops[1..].copy_from_slice(&out[0].0[1..n]);
                dirs[1..n].copy_from_slice(&out[0].1[1..n]);
            }
            let y = (self.primal)(&ops);
            if let (Some(tie), true) = (&self.tie, mask[n]) {
                dirs[n] = tie(&ops, &dirs[..n]);
            }
            ops.push(y);
            ops.push(rng.uniform(-1.5, 1.5));
            out.push((ops, dirs));
        }
        out
    }
}

/// A check of one rule's tangent at one point: the arguments and their directions.
pub(super) type Check<P> = fn(&[P], &[P]);

/// Runs the checks of a rule whose arguments all have one type: on `f64` and `f32` at each
/// point, and on arrays of the points. `mask` says which arguments (operands, `y`, `g`) the
/// tangent takes a tangent of; `seed` makes the points.
pub(super) fn each_type(
    p: &Prim,
    mask: &[bool],
    seed: u64,
    scalar: Check<f64>,
    single: Check<f32>,
    array: Check<Array1<f64>>,
) {
    let points = p.sample(mask, false, &mut Lcg(seed));
    for (args, dirs) in &points {
        scalar(args, dirs);
        let narrow = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        single(&narrow(args), &narrow(dirs));
    }
    let column = |j: usize, dirs: bool| -> Array1<f64> {
        points
            .iter()
            .map(|(a, d)| if dirs { d[j] } else { a[j] })
            .collect()
    };
    let args: Vec<Array1<f64>> = (0..mask.len()).map(|j| column(j, false)).collect();
    let dirs: Vec<Array1<f64>> = (0..mask.len()).map(|j| column(j, true)).collect();
    array(&args, &dirs);
}

/// The arguments of a rule of `FloatArgRules`: the receiver, the other operands (of type `A`,
/// scalars beside an array receiver), the result and the cotangent.
pub(super) struct ArgPoint<P, A> {
    pub(super) x: P,
    pub(super) scalars: Vec<A>,
    pub(super) y: P,
    pub(super) g: P,
}

impl<P: Differentiable, A: Differentiable<Scalar = P::Scalar>> ArgPoint<P, A> {
    pub(super) fn along(&self, t: &Self, s: P::Scalar) -> Self {
        ArgPoint {
            x: along(&self.x, &t.x, s),
            scalars: self
                .scalars
                .iter()
                .zip(&t.scalars)
                .map(|(a, d)| along(a, d, s))
                .collect(),
            y: along(&self.y, &t.y, s),
            g: along(&self.g, &t.g, s),
        }
    }
}

/// A check of one `FloatArgRules` rule's tangent at one point.
pub(super) type ArgCheck<P, A> = fn(&ArgPoint<P, A>, &ArgPoint<P, A>);

/// Runs the checks of a `FloatArgRules` rule: on `f64` at each point, and on an array receiver
/// with scalar arguments shared by its elements.
pub(super) fn each_arg_type(
    p: &Prim,
    mask: &[bool],
    seed: u64,
    scalar: ArgCheck<f64, f64>,
    array: ArgCheck<Array1<f64>, f64>,
) {
    let n = p.domains.len();
    let split = |v: &[f64]| ArgPoint {
        x: v[0],
        scalars: v[1..n].to_vec(),
        y: v[n],
        g: v[n + 1],
    };
    for (args, dirs) in p.sample(mask, false, &mut Lcg(seed)) {
        scalar(&split(&args), &split(&dirs));
    }
    let points = p.sample(mask, true, &mut Lcg(seed + 1));
    let stack = |dirs: bool| {
        let v = |i: usize| {
            let (a, d) = &points[i];
            if dirs { d } else { a }
        };
        let column = |j: usize| (0..POINTS).map(|i| v(i)[j]).collect::<Array1<f64>>();
        ArgPoint {
            x: column(0),
            scalars: v(0)[1..n].to_vec(),
            y: column(n),
            g: column(n + 1),
        }
    };
    array(&stack(false), &stack(true));
}
