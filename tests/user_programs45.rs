//! Programs of quantitative finance, robotics and physical simulation as their practitioners
//! write them: a complex number of their own for a characteristic function, whose
//! float-named methods (`exp`, `sqrt`, `abs`) are called on what its `+`, `-` or unary `-`
//! returned where an operand is what one of its methods made, and a local declared with the
//! struct's type where a float-named method on what another method returned is called through
//! the type (the form the error about such a local says to write); a 3-vector whose `*` is
//! the dot product, its result beside a float (`d * d + ε²`, `0.5 * (v * v)`) in a softened
//! gravitational potential; a planar heading error `t.conj() * z` whose left operand is what
//! a method of the struct returned on a parameter left out with `wrt`; a chain of joint
//! rotations as quaternions composed by `reduce(|a, b| a * b)`, the result compared with a
//! fixed target attitude by `target.conj() * r`, and the same rotations collected into a
//! `Vec` whose type is not written (`collect::<Vec<_>>()`) before they are multiplied.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Div, Mul, Neg, Sub};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// A complex number's float-named methods on its operators' results.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct Cx {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl Add for Cx {
    type Output = Cx;
    fn add(self, o: Cx) -> Cx {
        Cx {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

#[differentiate]
impl Sub for Cx {
    type Output = Cx;
    fn sub(self, o: Cx) -> Cx {
        Cx {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

#[differentiate]
impl Mul for Cx {
    type Output = Cx;
    fn mul(self, o: Cx) -> Cx {
        Cx {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}

#[differentiate]
impl Neg for Cx {
    type Output = Cx;
    fn neg(self) -> Cx {
        Cx {
            re: -self.re,
            im: -self.im,
        }
    }
}

#[differentiate]
impl Div for Cx {
    type Output = Cx;
    fn div(self, o: Cx) -> Cx {
        let d = o.re * o.re + o.im * o.im;
        Cx {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
}

#[differentiate]
impl Cx {
    pub fn new(re: f64, im: f64) -> Cx {
        Cx { re, im }
    }
    pub fn scale(self, k: f64) -> Cx {
        Cx {
            re: self.re * k,
            im: self.im * k,
        }
    }
    pub fn exp(self) -> Cx {
        let e = self.re.exp();
        Cx {
            re: e * self.im.cos(),
            im: e * self.im.sin(),
        }
    }
    pub fn conj(&self) -> Cx {
        Cx {
            re: self.re,
            im: -self.im,
        }
    }
    pub fn abs(self) -> f64 {
        (self.re * self.re + self.im * self.im).sqrt()
    }
}

/// `d = x + 2xi`, `d − d/2 = x/2 + xi`, so `f = e^{x/2}(cos x + t sin x)`:
/// `∂f/∂x = e^{x/2}(cos x/2 − sin x + t(sin x/2 + cos x))`, `∂f/∂t = e^{x/2} sin x`.
/// The right operand of `-` is what a method of the struct returned.
#[differentiate]
fn exp_of_difference_with_a_method(x: f64, t: f64) -> f64 {
    let d = Cx::new(x, 2.0 * x);
    let e = (d - d.scale(0.5)).exp();
    e.re + e.im * t
}

/// `|z² + 1|` of `z = x + yi`: with `a = x² − y² + 1`, `f = √(a² + 4x²y²)`,
/// `∂f/∂x = (2xa + 4xy²)/f`, `∂f/∂y = (−2ya + 4x²y)/f`. The left operand of `+` is a product.
#[differentiate]
fn modulus_of_square_plus_one(x: f64, y: f64) -> f64 {
    let z = Cx::new(x, y);
    (z * z + Cx::new(1.0, 0.0)).abs()
}

/// `Re exp(−z²) = e^{y² − x²} cos 2xy`: `∂/∂x = e^{y² − x²}(−2x cos 2xy − 2y sin 2xy)`,
/// `∂/∂y = e^{y² − x²}(2y cos 2xy − 2x sin 2xy)`. Unary `-` of a product.
#[differentiate]
fn gaussian_of_complex(x: f64, y: f64) -> f64 {
    let z = Cx::new(x, y);
    (-(z * z)).exp().re
}

#[test]
fn float_named_methods_on_operator_results_are_the_structs() {
    for &(x, t) in &[(0.3, 2.0), (-0.7, 0.4), (1.1, -1.5)] {
        let (v, g) = exp_of_difference_with_a_method_grad(x, t);
        assert_eq!(v, exp_of_difference_with_a_method(x, t));
        let e = (0.5 * x).exp();
        let expected = (
            e * (0.5 * x.cos() - x.sin() + t * (0.5 * x.sin() + x.cos())),
            e * x.sin(),
        );
        close2("exp of d - d.scale", g, expected);
        fd2(
            "exp of d - d.scale",
            exp_of_difference_with_a_method,
            (x, t),
            g,
        );
    }
    for &(x, y) in &[(0.3, 0.8), (-1.2, 0.5), (0.9, -0.4)] {
        let (v, g) = modulus_of_square_plus_one_grad(x, y);
        assert_eq!(v, modulus_of_square_plus_one(x, y));
        let a = x * x - y * y + 1.0;
        let f = (a * a + 4.0 * x * x * y * y).sqrt();
        let expected = (
            (2.0 * x * a + 4.0 * x * y * y) / f,
            (-2.0 * y * a + 4.0 * x * x * y) / f,
        );
        close2("|z² + 1|", g, expected);
        fd2("|z² + 1|", modulus_of_square_plus_one, (x, y), g);

        let (v, g) = gaussian_of_complex_grad(x, y);
        assert_eq!(v, gaussian_of_complex(x, y));
        let e = (y * y - x * x).exp();
        let (s, c) = (2.0 * x * y).sin_cos();
        let expected = (
            e * (-2.0 * x * c - 2.0 * y * s),
            e * (2.0 * y * c - 2.0 * x * s),
        );
        close2("Re exp(-z²)", g, expected);
        fd2("Re exp(-z²)", gaussian_of_complex, (x, y), g);
    }
}

/// The price of an at-the-money call (`S = K = 1`, `r = 0`) by Carr and Madan's damped Fourier
/// integral of the Black–Scholes characteristic function `φ(u) = exp(−σ²T(iu + u²)/2)`, the
/// midpoint rule over `[0, nη]`: `∫ Re[φ(v − (α + 1)i) / (α² + α − v² + i(2α + 1)v)] dv / π`.
/// The integrand is analytic and decays like a Gaussian, so the sum is the price to rounding,
/// and its derivative the vega `∂/∂σ = √T·ϕ(σ√T/2)` (`ϕ` the standard normal density).
#[differentiate(wrt(sigma))]
fn carr_madan_atm(sigma: f64, t: f64, n: usize, eta: f64, alpha: f64) -> f64 {
    let mut acc = Cx::new(0.0, 0.0);
    for j in 0..n {
        let v = eta * (j as f64 + 0.5);
        let u = Cx::new(v, -(alpha + 1.0));
        let iu = Cx::new(-u.im, u.re);
        let phi: Cx = Cx::exp((iu + u * u).scale(-0.5 * sigma * sigma * t));
        let den = Cx::new(alpha * alpha + alpha - v * v, (2.0 * alpha + 1.0) * v);
        acc = acc + (phi / den).scale(eta);
    }
    acc.re / std::f64::consts::PI
}

#[test]
fn carr_madan_vega_is_the_black_scholes_vega() {
    for &(sigma, t) in &[(0.2, 1.0), (0.35, 2.0), (0.25, 1.5)] {
        let (v, g) = carr_madan_atm_grad(sigma, t, 400, 0.125, 1.5);
        assert_eq!(v, carr_madan_atm(sigma, t, 400, 0.125, 1.5));
        let d = 0.5 * sigma * f64::sqrt(t);
        let vega = t.sqrt() * (-0.5 * d * d).exp() / (2.0 * std::f64::consts::PI).sqrt();
        close("Carr–Madan vega", g, vega, TOL);
        fd(
            "Carr–Madan vega",
            |s| carr_madan_atm(s, t, 400, 0.125, 1.5),
            sigma,
            g,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A vector whose `*` is the dot product: what it returns beside a float is a float.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct V3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[differentiate]
impl Sub for V3 {
    type Output = V3;
    fn sub(self, o: V3) -> V3 {
        V3 {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
}

#[differentiate]
impl Mul for V3 {
    type Output = f64;
    fn mul(self, o: V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
}

/// Two bodies of unit mass and velocity `v` under softened gravity: with `d = a − b`,
/// `r² = d·d + ε²`, `f = ½ v·v − 1/r + (d·d)/(2k)`. So `∂f/∂a = d/r³ + d/k`, `∂f/∂b = −∂f/∂a`,
/// `∂f/∂v = v`, `∂f/∂k = −(d·d)/(2k²)`.
#[differentiate]
fn softened_energy(a: V3, b: V3, v: V3, k: f64) -> f64 {
    let eps2 = 0.01;
    let d = a - b;
    let r = (d * d + eps2).sqrt();
    0.5 * (v * v) - 1.0 / r + d * d / k * 0.5
}

#[test]
fn dot_products_written_as_mul_beside_floats() {
    let a = V3 {
        x: 0.3,
        y: -0.2,
        z: 1.0,
    };
    let b = V3 {
        x: -0.1,
        y: 0.5,
        z: 0.2,
    };
    let v = V3 {
        x: 0.7,
        y: 0.1,
        z: -0.4,
    };
    let k = 1.7;
    let (val, (ga, gb, gv, gk)) = softened_energy_grad(a, b, v, k);
    assert_eq!(val, softened_energy(a, b, v, k));
    let d = [a.x - b.x, a.y - b.y, a.z - b.z];
    let dd: f64 = d.iter().map(|c| c * c).sum();
    let r3 = (dd + 0.01).powf(1.5);
    let da: Vec<f64> = d.iter().map(|c| c / r3 + c / k).collect();
    close_all("∂/∂a", &[ga.x, ga.y, ga.z], &da);
    let db: Vec<f64> = da.iter().map(|c| -c).collect();
    close_all("∂/∂b", &[gb.x, gb.y, gb.z], &db);
    close_all("∂/∂v", &[gv.x, gv.y, gv.z], &[v.x, v.y, v.z]);
    close("∂/∂k", gk, -dd / (2.0 * k * k), TOL);
    let at = |p: &[f64]| {
        softened_energy(
            V3 {
                x: p[0],
                y: p[1],
                z: p[2],
            },
            V3 {
                x: p[3],
                y: p[4],
                z: p[5],
            },
            V3 {
                x: p[6],
                y: p[7],
                z: p[8],
            },
            p[9],
        )
    };
    let x = [a.x, a.y, a.z, b.x, b.y, b.z, v.x, v.y, v.z, k];
    let g = [ga.x, ga.y, ga.z, gb.x, gb.y, gb.z, gv.x, gv.y, gv.z, gk];
    fd_vec("softened energy", at, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// A struct's operator whose left operand is what one of its methods returned on data.
// ---------------------------------------------------------------------------------------------

/// The heading error of a planar pose `z = x + iy` against a fixed target heading `t = a + ib`
/// (data): `t̄z = (ax + by) + i(ay − bx)`, `f = Re·Im = (ax + by)(ay − bx)`, so
/// `∂f/∂x = a(ay − bx) − b(ax + by)`, `∂f/∂y = b(ay − bx) + a(ax + by)`.
#[differentiate(wrt(x, y))]
fn heading_error(x: f64, y: f64, t: Cx) -> f64 {
    let z = Cx::new(x, y);
    let e = t.conj() * z;
    e.re * e.im
}

#[test]
fn operator_on_a_method_of_data_beside_a_differentiated_struct() {
    let t = Cx { re: 0.6, im: 0.8 };
    let (a, b) = (t.re, t.im);
    for &(x, y) in &[(0.7, 0.2), (-0.4, 1.1), (1.3, -0.5)] {
        let (v, g) = heading_error_grad(x, y, t);
        assert_eq!(v, heading_error(x, y, t));
        let (re, im) = (a * x + b * y, a * y - b * x);
        close2("t̄z", g, (a * im - b * re, b * im + a * re));
        fd2("t̄z", |x, y| heading_error(x, y, t), (x, y), g);
        let (_, dy) = heading_error_jvp(x, y, t, 0.3, -0.8);
        close("t̄z tangent", dy, 0.3 * g.0 - 0.8 * g.1, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Quaternions composed by `reduce`: the accumulator has the items' type.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct Quat {
    pub w: f64,
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[differentiate]
impl Mul for Quat {
    type Output = Quat;
    fn mul(self, o: Quat) -> Quat {
        Quat {
            w: self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
            x: self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            y: self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            z: self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
        }
    }
}

#[differentiate]
impl Quat {
    pub fn from_axis_angle(axis: [f64; 3], angle: f64) -> Quat {
        let (s, c) = (0.5 * angle).sin_cos();
        Quat {
            w: c,
            x: axis[0] * s,
            y: axis[1] * s,
            z: axis[2] * s,
        }
    }
    pub fn conj(&self) -> Quat {
        Quat {
            w: self.w,
            x: -self.x,
            y: -self.y,
            z: -self.z,
        }
    }
}

/// Joints turning about one unit axis `(0.6, 0, 0.8)` compose to a turn by `S = Σ qᵢ`:
/// `r = (cos S/2, 0.6 sin S/2, 0, 0.8 sin S/2)`, `f = r.w + r.z`, so
/// `∂f/∂qᵢ = −½ sin S/2 + 0.4 cos S/2` for every joint.
#[differentiate(wrt(q))]
fn composed_turn(q: &[f64]) -> f64 {
    let r = q
        .iter()
        .map(|&a| Quat::from_axis_angle([0.6, 0.0, 0.8], a))
        .reduce(|a, b| a * b)
        .unwrap();
    r.w + r.z
}

#[test]
fn quaternions_composed_by_reduce() {
    for q in [
        vec![0.3, -0.5, 0.9],
        vec![1.2, 0.4],
        vec![-0.7, 0.2, 0.1, 0.6],
    ] {
        let (v, g) = composed_turn_grad(&q);
        assert_eq!(v, composed_turn(&q));
        let half: f64 = 0.5 * q.iter().sum::<f64>();
        let each = -0.5 * half.sin() + 0.4 * half.cos();
        close_all("∂/∂q", &g, &vec![each; q.len()]);
        fd_vec("composed turn", composed_turn, &q, &g);
    }
}

/// The attitude error of the composed turn `r` (by `S = Σ qᵢ` about `n = (0.6, 0, 0.8)`)
/// against a fixed target turn by `θ` about `n`: `t̄r` turns by `S − θ`, its `w` is
/// `cos((S − θ)/2)`, and `f = 1 − w² = sin²((S − θ)/2)`, so `∂f/∂qᵢ = ½ sin(S − θ)`.
#[differentiate(wrt(q))]
fn attitude_error(q: &[f64], target: Quat) -> f64 {
    let r = q
        .iter()
        .map(|&a| Quat::from_axis_angle([0.6, 0.0, 0.8], a))
        .reduce(|a, b| a * b)
        .unwrap();
    let e = target.conj() * r;
    1.0 - e.w * e.w
}

#[test]
fn attitude_error_of_a_reduced_turn() {
    let theta = 0.4;
    let target = Quat::from_axis_angle([0.6, 0.0, 0.8], theta);
    for q in [vec![0.3, -0.5, 0.9], vec![1.2, 0.4]] {
        let (v, g) = attitude_error_grad(&q, target);
        assert_eq!(v, attitude_error(&q, target));
        let s: f64 = q.iter().sum();
        close_all("∂/∂q", &g, &vec![0.5 * (s - theta).sin(); q.len()]);
        fd_vec("attitude error", |q| attitude_error(q, target), &q, &g);
    }
}

/// The joint rotations collected without a written type, then multiplied by index: as for
/// [`composed_turn`], `f = cos S/2 + 0.8 sin S/2` with `S = Σ qᵢ`, and every
/// `∂f/∂qᵢ = −½ sin S/2 + 0.4 cos S/2`.
#[differentiate(wrt(q))]
fn collected_turns(q: &[f64]) -> f64 {
    let rots = q
        .iter()
        .map(|&a| Quat::from_axis_angle([0.6, 0.0, 0.8], a))
        .collect::<Vec<_>>();
    let r = rots[0] * rots[1] * rots[2];
    r.w + r.z
}

#[test]
fn quaternions_collected_without_a_type() {
    let q = [0.3, -0.5, 0.9];
    let (v, g) = collected_turns_grad(&q);
    assert_eq!(v, collected_turns(&q));
    let half: f64 = 0.5 * q.iter().sum::<f64>();
    close_all("∂/∂q", &g, &[-0.5 * half.sin() + 0.4 * half.cos(); 3]);
    fd_vec("collected turns", collected_turns, &q, &g);
}
