//! Numeric code written in idiomatic Rust, as engineers write it: iterator chains whose
//! closures capture parameters (`zip`, `map`, `fold`, `scan`, `windows`, `chunks`, `enumerate`,
//! `rev`, `skip`, `take`, `step_by`, `flat_map`, `sum`, `product`), slices of fixed arrays
//! (`&[[f64; 3]]`, `Vec<[f64; 2]>`), const generics, generic `F: Float` helpers called from
//! `f64` and `f32` entry points, early returns and `let .. else` in helpers, `match` on enums
//! and tuples, `if let`, shadowing, block expressions and small structs with methods — in
//! robot kinematics, option pricing and yield curves, biquad and FIR filters, compartment
//! models, reaction kinetics, signed distance functions, queueing, ranking and quantile
//! losses, robust regression, splines and quadrature.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Where `hessian` applies, `_hvp` is checked against central differences of the
//! gradient and `_jvp` against directional differences and the pullback.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::manual_clamp,
    clippy::op_ref,
    clippy::too_many_arguments,
    clippy::single_match
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use num_traits::Float;

mod common;
use common::*;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

// ---------------------------------------------------------------------------------------------
// Robotics: a planar arm's forward kinematics as a `scan` of joint angles.
// ---------------------------------------------------------------------------------------------

const LINKS: [f64; 3] = [1.0, 0.8, 0.5];

/// Half the squared distance from a three-link planar arm's hand to a target: each link's
/// absolute angle is the running sum of the joint angles (`scan`), and the hand is the `fold`
/// of the links' vectors.
#[differentiate(hessian, wrt(q))]
fn reach_error(q: &[f64], target: [f64; 2]) -> f64 {
    let (x, y) = q
        .iter()
        .scan(0.0, |theta, &dq| {
            *theta += dq;
            Some(*theta)
        })
        .zip(LINKS.iter())
        .fold((0.0, 0.0), |(x, y), (th, &l)| {
            (x + l * th.cos(), y + l * th.sin())
        });
    let (dx, dy) = (x - target[0], y - target[1]);
    0.5 * (dx * dx + dy * dy)
}

#[test]
fn planar_arm_reach_by_scan_of_joint_angles() {
    let q = vec![0.4, -0.3, 0.9];
    let target = [1.2, 1.1];
    let (v, g) = reach_error_grad(&q, target);
    close("value", v, reach_error(&q, target), TOL);
    // θₖ = Σ_{j≤k} qⱼ; ∂x/∂qⱼ = −Σ_{k≥j} lₖ sin θₖ, ∂y/∂qⱼ = Σ_{k≥j} lₖ cos θₖ;
    // ∂qⱼ = (x − tₓ)·∂x/∂qⱼ + (y − t_y)·∂y/∂qⱼ
    let th: Vec<f64> = (0..3).map(|k| q[..=k].iter().sum()).collect();
    let x: f64 = (0..3).map(|k| LINKS[k] * th[k].cos()).sum();
    let y: f64 = (0..3).map(|k| LINKS[k] * th[k].sin()).sum();
    let e: Vec<f64> = (0..3)
        .map(|j| {
            let dx: f64 = (j..3).map(|k| -LINKS[k] * th[k].sin()).sum();
            let dy: f64 = (j..3).map(|k| LINKS[k] * th[k].cos()).sum();
            (x - target[0]) * dx + (y - target[1]) * dy
        })
        .collect();
    close_all("∂q", &g, &e);
    fd_vec("arm", |q| reach_error(q, target), &q, &g);
    let dir = vec![0.3, -0.2, 0.5];
    let (_, g2, hv) = reach_error_hvp(&q, target, &dir);
    close_all("hvp gradient", &g2, &g);
    hvp_against_fd("arm", |q| reach_error_grad(q, target).1, &q, &dir, &hv);
}

// ---------------------------------------------------------------------------------------------
// Finance: a binomial tree rolled back with `windows(2)`, portfolio variance over const
// generics, a bond priced off a piecewise-linear zero curve.
// ---------------------------------------------------------------------------------------------

/// A European call on a Cox–Ross–Rubinstein tree: terminal payoffs collected from a range, then
/// each step back is `windows(2)` of the layer after it, discounted.
#[differentiate(wrt(spot, strike))]
fn binomial_call(spot: f64, strike: f64, sigma: f64, rate: f64, expiry: f64, steps: usize) -> f64 {
    let dt = expiry / steps as f64;
    let u = (sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let p = ((rate * dt).exp() - d) / (u - d);
    let disc = (-rate * dt).exp();
    let mut values: Vec<f64> = (0..=steps)
        .map(|i| (spot * u.powi(i as i32) * d.powi((steps - i) as i32) - strike).max(0.0))
        .collect();
    for _ in 0..steps {
        values = values
            .windows(2)
            .map(|w| disc * (p * w[1] + (1.0 - p) * w[0]))
            .collect();
    }
    values[0]
}

#[test]
fn binomial_tree_call_rolled_back_by_windows() {
    let (spot, strike, sigma, rate, expiry, n) = (100.0, 105.0, 0.25, 0.03, 0.75, 12usize);
    let (v, (gs, gk)) = binomial_call_grad(spot, strike, sigma, rate, expiry, n);
    close(
        "value",
        v,
        binomial_call(spot, strike, sigma, rate, expiry, n),
        TOL,
    );
    // price = Dⁿ Σᵢ C(n,i) pⁱ(1−p)ⁿ⁻ⁱ max(S uⁱ dⁿ⁻ⁱ − K, 0):
    // ∂S = Dⁿ Σ_{in the money} C(n,i) pⁱ(1−p)ⁿ⁻ⁱ uⁱdⁿ⁻ⁱ, ∂K = −Dⁿ Σ_{in the money} C(n,i) pⁱ(1−p)ⁿ⁻ⁱ
    let dt = expiry / n as f64;
    let u = (sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let p = ((rate * dt).exp() - d) / (u - d);
    let dn = (-rate * expiry).exp();
    let (mut price, mut es, mut ek) = (0.0, 0.0, 0.0);
    let mut binom = 1.0;
    for i in 0..=n {
        if i > 0 {
            binom = binom * (n - i + 1) as f64 / i as f64;
        }
        let prob = binom * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32);
        let st = spot * u.powi(i as i32) * d.powi((n - i) as i32);
        if st > strike {
            price += dn * prob * (st - strike);
            es += dn * prob * st / spot;
            ek -= dn * prob;
        }
    }
    close("closed form", v, price, 1e-12);
    close("∂spot", gs, es, 1e-12);
    close("∂strike", gk, ek, 1e-12);
    fd2(
        "binomial",
        |s, k| binomial_call(s, k, sigma, rate, expiry, n),
        (spot, strike),
        (gs, gk),
    );
}

/// The variance wᵀΣw of a portfolio of `N` assets, rows of the covariance zipped with the
/// weights, over a const generic.
#[differentiate(hessian, wrt(w))]
fn portfolio_variance<const N: usize>(w: &[f64; N], cov: &[[f64; N]; N]) -> f64 {
    cov.iter()
        .zip(w)
        .map(|(row, wi)| wi * row.iter().zip(w).map(|(c, wj)| c * wj).sum::<f64>())
        .sum()
}

#[test]
fn portfolio_variance_over_const_generic_weights() {
    let cov = [
        [0.04, 0.006, -0.002],
        [0.006, 0.09, 0.01],
        [-0.002, 0.01, 0.0225],
    ];
    let w = [0.5, 0.2, 0.3];
    let (v, g) = portfolio_variance_grad(&w, &cov);
    close("value", v, portfolio_variance(&w, &cov), TOL);
    // ∇ = 2Σw (Σ symmetric); H = 2Σ
    let e: Vec<f64> = (0..3)
        .map(|i| 2.0 * (0..3).map(|j| cov[i][j] * w[j]).sum::<f64>())
        .collect();
    close_all("∂w", &g, &e);
    fd_any(
        "variance",
        |w: &[f64; 3]| portfolio_variance(w, &cov),
        &w,
        &g,
    );
    let dir = [1.0, -0.5, 0.25];
    let (_, _, hv) = portfolio_variance_hvp(&w, &cov, &dir);
    let eh: Vec<f64> = (0..3)
        .map(|i| 2.0 * (0..3).map(|j| cov[i][j] * dir[j]).sum::<f64>())
        .collect();
    close_all("H·v", &hv, &eh);
}

/// A zero rate read off a piecewise-linear curve, flat past its last knot: the segment found
/// by `position` over `windows(2)`, an early return with `let .. else` where there is none.
#[differentiate]
fn zero_rate(knots: &[f64], rates: &[f64], t: f64) -> f64 {
    let Some(i) = knots.windows(2).position(|w| t <= w[1]) else {
        return rates[rates.len() - 1];
    };
    let u = ((t - knots[i]) / (knots[i + 1] - knots[i])).max(0.0);
    rates[i] + u * (rates[i + 1] - rates[i])
}

/// A bullet bond's price off the zero curve: annual coupons, the face value at maturity.
#[differentiate(wrt(rates))]
fn bond_price(rates: &[f64], knots: &[f64], coupon: f64, maturity: usize) -> f64 {
    (1..=maturity)
        .map(|k| {
            let t = k as f64;
            let cf = if k == maturity {
                100.0 + coupon
            } else {
                coupon
            };
            cf * (-zero_rate(knots, rates, t) * t).exp()
        })
        .sum()
}

#[test]
fn bond_priced_off_a_piecewise_linear_zero_curve() {
    let knots = [0.5, 2.0, 3.5, 5.0];
    let rates = vec![0.02, 0.027, 0.031, 0.034];
    let (v, g) = bond_price_grad(&rates, &knots, 4.5, 6);
    close("value", v, bond_price(&rates, &knots, 4.5, 6), TOL);
    // ∂rᵢ = Σₖ −tₖ cfₖ e^{−r(tₖ)tₖ} wₖᵢ, wₖᵢ the interpolation weight of knot i at tₖ
    let mut e = vec![0.0; 4];
    for k in 1..=6 {
        let t = k as f64;
        let cf = if k == 6 { 104.5 } else { 4.5 };
        let mut wts = [0.0; 4];
        match (0..3).find(|&i| t <= knots[i + 1]) {
            Some(i) => {
                let u = ((t - knots[i]) / (knots[i + 1] - knots[i])).max(0.0);
                wts[i] = 1.0 - u;
                wts[i + 1] = u;
            }
            None => wts[3] = 1.0,
        }
        let r: f64 = (0..4).map(|i| wts[i] * rates[i]).sum();
        for i in 0..4 {
            e[i] -= t * cf * (-r * t).exp() * wts[i];
        }
    }
    close_all("∂r", &g, &e);
    fd_vec("bond", |r| bond_price(r, &knots, 4.5, 6), &rates, &g);
}

// ---------------------------------------------------------------------------------------------
// Geometry: polygons as `Vec<[f64; 2]>`, a signed distance chosen by `match` on a tuple.
// ---------------------------------------------------------------------------------------------

/// Area minus λ·perimeter of a polygon (the isoperimetric trade-off), its edges the pairs
/// `verts[i]`, `verts[(i + 1) % n]` taken apart by array patterns.
#[differentiate(wrt(verts))]
fn area_minus_perimeter(verts: &Vec<[f64; 2]>, lam: f64) -> f64 {
    let n = verts.len();
    let (area2, perimeter) = (0..n)
        .map(|i| {
            let [x0, y0] = verts[i];
            let [x1, y1] = verts[(i + 1) % n];
            (x0 * y1 - x1 * y0, (x1 - x0).hypot(y1 - y0))
        })
        .fold((0.0, 0.0), |(a, p), (da, dp)| (a + da, p + dp));
    0.5 * area2 - lam * perimeter
}

#[test]
fn polygon_area_minus_perimeter_of_vec_of_points() {
    let verts = vec![[0.0, 0.0], [2.0, 0.3], [2.4, 1.8], [0.7, 2.2], [-0.4, 1.0]];
    let lam = 0.3;
    let (v, g) = area_minus_perimeter_grad(&verts, lam);
    close("value", v, area_minus_perimeter(&verts, lam), TOL);
    // ∂xᵢ = ½(yᵢ₊₁ − yᵢ₋₁) − λ[(xᵢ − xᵢ₋₁)/Lᵢ₋₁ − (xᵢ₊₁ − xᵢ)/Lᵢ],
    // ∂yᵢ = ½(xᵢ₋₁ − xᵢ₊₁) − λ[(yᵢ − yᵢ₋₁)/Lᵢ₋₁ − (yᵢ₊₁ − yᵢ)/Lᵢ], Lᵢ the edge from i to i+1
    let n = verts.len();
    let len = |i: usize| {
        let (a, b) = (verts[i], verts[(i + 1) % n]);
        (b[0] - a[0]).hypot(b[1] - a[1])
    };
    for i in 0..n {
        let (p, c, nx) = (verts[(i + n - 1) % n], verts[i], verts[(i + 1) % n]);
        let (lp, ln) = (len((i + n - 1) % n), len(i));
        let ex = 0.5 * (nx[1] - p[1]) - lam * ((c[0] - p[0]) / lp - (nx[0] - c[0]) / ln);
        let ey = 0.5 * (p[0] - nx[0]) - lam * ((c[1] - p[1]) / lp - (nx[1] - c[1]) / ln);
        close(&format!("∂x{i}"), g[i][0], ex, 1e-12);
        close(&format!("∂y{i}"), g[i][1], ey, 1e-12);
    }
    fd_any(
        "polygon",
        |v: &Vec<[f64; 2]>| area_minus_perimeter(v, lam),
        &verts,
        &g,
    );
}

#[differentiate]
fn sd_circle(p: [f64; 2], c: [f64; 2], r: f64) -> f64 {
    (p[0] - c[0]).hypot(p[1] - c[1]) - r
}

/// The signed distance to an axis-aligned box centred at the origin (data only).
fn sd_box(p: [f64; 2], half: [f64; 2]) -> f64 {
    let q = [p[0].abs() - half[0], p[1].abs() - half[1]];
    let outside = q[0].max(0.0).hypot(q[1].max(0.0));
    outside + q[0].max(q[1]).min(0.0)
}

/// Fits a circle so that the union of it and a fixed box passes through sampled points: the
/// union's distance is the smaller of the two, chosen by a `match` on the pair with a guard.
#[differentiate(wrt(center, radius))]
fn union_fit(center: [f64; 2], radius: f64, pts: &[[f64; 2]], half: [f64; 2]) -> f64 {
    pts.iter()
        .map(|&p| {
            let d = match (sd_circle(p, center, radius), sd_box(p, half)) {
                (c, b) if c < b => c,
                (_, b) => b,
            };
            d * d
        })
        .sum()
}

#[test]
fn circle_and_box_union_fitted_by_signed_distance() {
    let pts = [[2.1, 0.2], [1.9, 1.0], [2.6, -0.4], [0.2, 0.9], [-0.9, 0.1]];
    let half = [1.0, 0.6];
    let (c, r) = ([2.2, 0.3], 0.5);
    let (v, (gc, gr)) = union_fit_grad(c, r, &pts, half);
    close("value", v, union_fit(c, r, &pts, half), TOL);
    // where the circle is nearer: d = |p − c| − r, ∂c += −2d (p − c)/|p − c|, ∂r += −2d
    let (mut ec, mut er) = ([0.0; 2], 0.0);
    let mut on_circle = 0;
    for p in &pts {
        let dist = (p[0] - c[0]).hypot(p[1] - c[1]);
        let d = dist - r;
        if d < sd_box(*p, half) {
            on_circle += 1;
            ec[0] -= 2.0 * d * (p[0] - c[0]) / dist;
            ec[1] -= 2.0 * d * (p[1] - c[1]) / dist;
            er -= 2.0 * d;
        }
    }
    assert!(on_circle >= 2 && on_circle < pts.len());
    close_all("∂c", &gc, &ec);
    close("∂r", gr, er, 1e-12);
    fd_any(
        "union",
        |p: &([f64; 2], f64)| union_fit(p.0, p.1, &pts, half),
        &(c, r),
        &(gc, gr),
    );
}

// ---------------------------------------------------------------------------------------------
// Robust regression and losses: ρ-functions chosen by an enum, quantiles, pairwise ranking.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Rho {
    Huber(f64),
    Tukey(f64),
}

/// Huber's and Tukey's ρ, the constant in the enum's payload; Tukey's leaves early past `c`.
#[differentiate(hessian, wrt(r))]
fn robust_rho(r: f64, kind: Rho) -> f64 {
    match kind {
        Rho::Huber(k) => {
            if r.abs() <= k {
                0.5 * r * r
            } else {
                k * (r.abs() - 0.5 * k)
            }
        }
        Rho::Tukey(c) => {
            let u = r / c;
            if u.abs() >= 1.0 {
                return c * c / 6.0;
            }
            let t = 1.0 - u * u;
            c * c / 6.0 * (1.0 - t * t * t)
        }
    }
}

#[differentiate(hessian, wrt(a, b))]
fn robust_line(a: f64, b: f64, xs: &[f64], ys: &[f64], kind: Rho) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| robust_rho(y - a - b * x, kind))
        .sum()
}

#[test]
fn robust_line_fit_with_huber_and_tukey_rho() {
    let xs = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
    let ys = [0.1, 0.8, 1.3, 4.9, 2.2, 2.4, 3.3]; // one outlier at x = 1.5
    let (a, b) = (0.2, 0.95);
    for kind in [Rho::Huber(0.4), Rho::Tukey(1.5)] {
        let what = format!("{kind:?}");
        let (v, (ga, gb)) = robust_line_grad(a, b, &xs, &ys, kind);
        close(&what, v, robust_line(a, b, &xs, &ys, kind), TOL);
        // ψ = ρ′: Huber r inside k, k·sign r outside; Tukey r(1 − u²)², u = r/c, 0 outside.
        // ψ′: Huber 1 inside, 0 outside; Tukey (1 − u²)(1 − 5u²) inside, 0 outside.
        // ∂a = −Σψ(rᵢ), ∂b = −Σψ(rᵢ)xᵢ; H = Σψ′(rᵢ)[1 xᵢ; xᵢ xᵢ²]
        let psi = |r: f64| match kind {
            Rho::Huber(k) => r.clamp(-k, k),
            Rho::Tukey(c) => {
                let u: f64 = r / c;
                if u.abs() < 1.0 {
                    r * (1.0 - u * u).powi(2)
                } else {
                    0.0
                }
            }
        };
        let dpsi = |r: f64| match kind {
            Rho::Huber(k) => {
                if r.abs() <= k {
                    1.0
                } else {
                    0.0
                }
            }
            Rho::Tukey(c) => {
                let u: f64 = r / c;
                if u.abs() < 1.0 {
                    (1.0 - u * u) * (1.0 - 5.0 * u * u)
                } else {
                    0.0
                }
            }
        };
        let res: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - a - b * x).collect();
        let ea: f64 = -res.iter().map(|&r| psi(r)).sum::<f64>();
        let eb: f64 = -res.iter().zip(&xs).map(|(&r, x)| psi(r) * x).sum::<f64>();
        close2(&what, (ga, gb), (ea, eb));
        fd2(
            &what,
            |a, b| robust_line(a, b, &xs, &ys, kind),
            (a, b),
            (ga, gb),
        );
        let (_, _, (h0, h1)) = robust_line_hvp(a, b, &xs, &ys, kind, 1.0, 0.0);
        let h00: f64 = res.iter().map(|&r| dpsi(r)).sum();
        let h10: f64 = res.iter().zip(&xs).map(|(&r, x)| dpsi(r) * x).sum();
        close(&format!("{what} H₀₀"), h0, h00, 1e-12);
        close(&format!("{what} H₁₀"), h1, h10, 1e-12);
        let fw = forward(what.clone()).two(
            (a, b),
            |a, b| robust_line(a, b, &xs, &ys, kind),
            |a, b, da, db| robust_line_jvp(a, b, &xs, &ys, kind, da, db),
            |a, b| robust_line_vjp(a, b, &xs, &ys, kind),
        );
        tangents_are2(&what, &fw, (ea, eb), 1e-12);
    }
}

/// Several quantiles fitted at once: the pinball losses of every (τ, q) pair against every
/// observation by `flat_map`, and a penalty on crossings between neighbours by `windows(2)`.
#[differentiate(wrt(q))]
fn multi_quantile_loss(q: &[f64], taus: &[f64], ys: &[f64], penalty: f64) -> f64 {
    let fit: f64 = taus
        .iter()
        .zip(q)
        .flat_map(|(&tau, &qk)| {
            ys.iter().map(move |&y| {
                let r = y - qk;
                if r >= 0.0 { tau * r } else { (tau - 1.0) * r }
            })
        })
        .sum();
    let crossing: f64 = q.windows(2).map(|w| (w[0] - w[1]).max(0.0).powi(2)).sum();
    fit / ys.len() as f64 + penalty * crossing
}

#[test]
fn multi_quantile_pinball_with_crossing_penalty() {
    let ys = [0.3, 1.7, -0.4, 2.2, 0.9, 1.1, -1.3, 0.55];
    let taus = [0.1, 0.5, 0.9];
    let q = vec![-0.8, 1.0, 0.95]; // the upper two cross
    let pen = 2.0;
    let (v, g) = multi_quantile_loss_grad(&q, &taus, &ys, pen);
    close("value", v, multi_quantile_loss(&q, &taus, &ys, pen), TOL);
    // ∂qₖ = (1/n) Σᵢ [−τₖ if yᵢ ≥ qₖ else 1 − τₖ]
    //       + 2·pen·[max(0, qₖ − qₖ₊₁) − max(0, qₖ₋₁ − qₖ)]
    let n = ys.len() as f64;
    let e: Vec<f64> = (0..3)
        .map(|k| {
            let fit: f64 = ys
                .iter()
                .map(|&y| if y >= q[k] { -taus[k] } else { 1.0 - taus[k] })
                .sum::<f64>()
                / n;
            let up = if k + 1 < 3 {
                (q[k] - q[k + 1]).max(0.0)
            } else {
                0.0
            };
            let down = if k > 0 {
                (q[k - 1] - q[k]).max(0.0)
            } else {
                0.0
            };
            fit + 2.0 * pen * (up - down)
        })
        .collect();
    close_all("∂q", &g, &e);
    fd_vec(
        "quantiles",
        |q| multi_quantile_loss(q, &taus, &ys, pen),
        &q,
        &g,
    );
}

/// RankNet's pairwise logistic loss: every ordered pair from a nested range by `flat_map`,
/// kept where the first is more relevant, scored by ln(1 + e^{sⱼ − sᵢ}).
#[differentiate(hessian, wrt(scores))]
fn ranknet_loss(scores: &[f64], rel: &[u8]) -> f64 {
    let n = scores.len();
    (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|&(i, j)| rel[i] > rel[j])
        .map(|(i, j)| (1.0 + (scores[j] - scores[i]).exp()).ln())
        .sum()
}

#[test]
fn ranknet_pairs_by_flat_map_and_filter() {
    let scores = vec![0.4, 1.2, -0.3, 0.8, 0.1];
    let rel = [2u8, 1, 0, 2, 1];
    let (v, g) = ranknet_loss_grad(&scores, &rel);
    close("value", v, ranknet_loss(&scores, &rel), TOL);
    // each pair (i, j) with relᵢ > relⱼ: σ = σ(sⱼ − sᵢ), ∂sᵢ −= σ, ∂sⱼ += σ;
    // its Hessian σ(1 − σ)·[[1, −1], [−1, 1]]
    let dir = vec![0.5, -0.2, 0.3, 0.1, -0.4];
    let (mut e, mut eh) = (vec![0.0; 5], vec![0.0; 5]);
    for i in 0..5 {
        for j in 0..5 {
            if rel[i] > rel[j] {
                let s = sigmoid(scores[j] - scores[i]);
                e[i] -= s;
                e[j] += s;
                let c = s * (1.0 - s) * (dir[i] - dir[j]);
                eh[i] += c;
                eh[j] -= c;
            }
        }
    }
    close_all("∂s", &g, &e);
    fd_vec("ranknet", |s| ranknet_loss(s, &rel), &scores, &g);
    let (_, _, hv) = ranknet_loss_hvp(&scores, &rel, &dir);
    close_all("H·v", &hv, &eh);
}

// ---------------------------------------------------------------------------------------------
// Epidemiology: an SEIR model stepped by Euler, the state an array taken apart by a pattern.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn seir_rhs(y: [f64; 4], beta: f64, sigma: f64, gamma: f64) -> [f64; 4] {
    let [s, e, i, _r] = y;
    let infection = beta * s * i;
    [
        -infection,
        infection - sigma * e,
        sigma * e - gamma * i,
        gamma * i,
    ]
}

/// The squared misfit of the infected fraction to observed prevalence, stepped by Euler: each
/// step adds `dt · rhs` through `iter_mut().zip(..)`, and a day without an observation (past
/// the end of the slice) is skipped by `if let`.
#[differentiate(wrt(beta, gamma))]
fn seir_misfit(
    beta: f64,
    gamma: f64,
    sigma: f64,
    y0: [f64; 4],
    dt: f64,
    steps: usize,
    observed: &[f64],
) -> f64 {
    let mut y = y0;
    let mut loss = 0.0;
    for k in 0..steps {
        let dy = seir_rhs(y, beta, sigma, gamma);
        for (v, d) in y.iter_mut().zip(dy) {
            *v += dt * d;
        }
        if let Some(&obs) = observed.get(k) {
            loss += (y[2] - obs).powi(2);
        }
    }
    loss
}

/// The same Euler steps with a hand-written tangent of (β, γ) along (dβ, dγ): the derivative of
/// the discrete map, step by step.
fn seir_misfit_tangent(
    beta: f64,
    gamma: f64,
    sigma: f64,
    y0: [f64; 4],
    dt: f64,
    steps: usize,
    obs: &[f64],
    db: f64,
    dg: f64,
) -> f64 {
    let (mut y, mut t) = (y0, [0.0; 4]);
    let mut dl = 0.0;
    for k in 0..steps {
        let [s, e, i, _] = y;
        let [ts, te, ti, _] = t;
        let inf = beta * s * i;
        let tinf = db * s * i + beta * ts * i + beta * s * ti;
        let dy = [-inf, inf - sigma * e, sigma * e - gamma * i, gamma * i];
        let tdy = [
            -tinf,
            tinf - sigma * te,
            sigma * te - dg * i - gamma * ti,
            dg * i + gamma * ti,
        ];
        for m in 0..4 {
            y[m] += dt * dy[m];
            t[m] += dt * tdy[m];
        }
        if k < obs.len() {
            dl += 2.0 * (y[2] - obs[k]) * t[2];
        }
    }
    dl
}

#[test]
fn seir_euler_misfit_with_array_state() {
    let y0 = [0.97, 0.02, 0.01, 0.0];
    let obs = [0.012, 0.015, 0.02, 0.026, 0.033, 0.04, 0.05, 0.058];
    let (beta, gamma, sigma, dt, steps) = (0.9, 0.3, 0.4, 0.5, 12);
    let (v, (gb, gg)) = seir_misfit_grad(beta, gamma, sigma, y0, dt, steps, &obs);
    close(
        "value",
        v,
        seir_misfit(beta, gamma, sigma, y0, dt, steps, &obs),
        TOL,
    );
    // ∂β and ∂γ: the hand-written tangent recurrence along (1, 0) and (0, 1)
    let eb = seir_misfit_tangent(beta, gamma, sigma, y0, dt, steps, &obs, 1.0, 0.0);
    let eg = seir_misfit_tangent(beta, gamma, sigma, y0, dt, steps, &obs, 0.0, 1.0);
    close2("seir", (gb, gg), (eb, eg));
    fd2(
        "seir",
        |b, g| seir_misfit(b, g, sigma, y0, dt, steps, &obs),
        (beta, gamma),
        (gb, gg),
    );
}

// ---------------------------------------------------------------------------------------------
// Acoustics: levels in decibels summed by a generic helper called from f64 and f32.
// ---------------------------------------------------------------------------------------------

/// The level of incoherent sources together: 10·log₁₀ Σ 10^{Lᵢ/10}.
#[differentiate]
fn db_sum<F: Float>(levels: &[F]) -> F {
    let ten = F::from(10.0).unwrap();
    ten * levels
        .iter()
        .map(|&l| ten.powf(l / ten))
        .fold(F::zero(), |a, b| a + b)
        .log10()
}

#[differentiate]
fn room_level(levels: &[f64], attenuation: f64) -> f64 {
    db_sum(levels) - attenuation
}

#[differentiate]
fn room_level_f32(levels: &[f32], attenuation: f32) -> f32 {
    db_sum(levels) - attenuation
}

#[test]
fn decibel_sum_generic_helper_from_f64_and_f32() {
    let levels = vec![62.0, 58.5, 65.2, 49.0];
    let (v, (g, ga)) = room_level_grad(&levels, 3.0);
    close("value", v, room_level(&levels, 3.0), TOL);
    // ∂Lᵢ = 10^{Lᵢ/10} / Σⱼ 10^{Lⱼ/10};  ∂attenuation = −1
    let total: f64 = levels.iter().map(|l| 10f64.powf(l / 10.0)).sum();
    let e: Vec<f64> = levels
        .iter()
        .map(|l| 10f64.powf(l / 10.0) / total)
        .collect();
    close_all("∂L", &g, &e);
    close("∂att", ga, -1.0, TOL);
    fd_any(
        "db",
        |p: &(Vec<f64>, f64)| room_level(&p.0, p.1),
        &(levels.clone(), 3.0),
        &(g.clone(), ga),
    );
    let l32: Vec<f32> = levels.iter().map(|&l| l as f32).collect();
    let (v32, (g32, ga32)) = room_level_f32_grad(&l32, 3.0);
    close("f32 value", v32 as f64, v, 1e-6);
    for (a, b) in g32.iter().zip(&e) {
        close("f32 ∂L", *a as f64, *b, 1e-5);
    }
    close("f32 ∂att", ga32 as f64, -1.0, 1e-7);
    let r = gradcheck(|p: &Vec<f32>| room_level_f32(p, 3.0), &l32, &g32);
    assert!(r.passed(), "f32: {r}");
}

// ---------------------------------------------------------------------------------------------
// Quadrature: Gauss–Legendre nodes and weights as `const` arrays, Horner by `rev().fold`.
// ---------------------------------------------------------------------------------------------

const GL_NODES: [f64; 3] = [-0.7745966692414834, 0.0, 0.7745966692414834];
const GL_WEIGHTS: [f64; 3] = [5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0];

/// ∫ₐᵇ p(t)² dt by three-point Gauss–Legendre (exact for p of degree ≤ 2), p's coefficients a
/// const-generic array evaluated by Horner's rule.
#[differentiate(hessian, wrt(p))]
fn poly_energy<const K: usize>(p: &[f64; K], a: f64, b: f64) -> f64 {
    let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
    GL_NODES
        .iter()
        .zip(GL_WEIGHTS.iter())
        .map(|(&x, &w)| {
            let t = mid + half * x;
            let f = p.iter().rev().fold(0.0, |acc, &c| acc * t + c);
            w * f * f
        })
        .sum::<f64>()
        * half
}

#[test]
fn gauss_legendre_energy_of_a_polynomial() {
    let p = [0.5, -1.2, 0.8];
    let (a, b) = (-0.5, 2.0);
    let (v, g) = poly_energy_grad(&p, a, b);
    // with Mₘ = ∫ₐᵇ tᵐ dt = (bᵐ⁺¹ − aᵐ⁺¹)/(m+1): value Σⱼₖ pⱼpₖM_{j+k}, ∂pₖ = 2Σⱼ pⱼM_{j+k},
    // H = 2M_{j+k}
    let m = |k: usize| (b.powi(k as i32 + 1) - a.powi(k as i32 + 1)) / (k as f64 + 1.0);
    let ev: f64 = (0..3)
        .flat_map(|j| (0..3).map(move |k| (j, k)))
        .map(|(j, k)| p[j] * p[k] * m(j + k))
        .sum();
    close("value", v, ev, 1e-12);
    close("value", v, poly_energy(&p, a, b), TOL);
    let e: Vec<f64> = (0..3)
        .map(|k| 2.0 * (0..3).map(|j| p[j] * m(j + k)).sum::<f64>())
        .collect();
    close_all("∂p", &g, &e);
    fd_any("gl", |p: &[f64; 3]| poly_energy(p, a, b), &p, &g);
    let dir = [0.2, 1.0, -0.7];
    let (_, _, hv) = poly_energy_hvp(&p, a, b, &dir);
    let eh: Vec<f64> = (0..3)
        .map(|k| 2.0 * (0..3).map(|j| dir[j] * m(j + k)).sum::<f64>())
        .collect();
    close_all("H·v", &hv, &eh);
}

// ---------------------------------------------------------------------------------------------
// Signals: a biquad folded over the input, an FIR filter over `windows`, a filter design by a
// struct whose methods return tuples.
// ---------------------------------------------------------------------------------------------

/// A biquad in direct form II, the feedback `a` fixed: the input is folded through the two
/// delays, the squared error to a target summed on the way.
#[differentiate(wrt(b))]
fn biquad_misfit(b: &[f64; 3], a: [f64; 2], x: &[f64], target: &[f64]) -> f64 {
    let (_, _, loss) = x
        .iter()
        .zip(target)
        .fold((0.0, 0.0, 0.0), |(w1, w2, loss), (&xn, &tn)| {
            let w0 = xn - a[0] * w1 - a[1] * w2;
            let y = b[0] * w0 + b[1] * w1 + b[2] * w2;
            (w0, w1, loss + (y - tn).powi(2))
        });
    loss
}

#[test]
fn biquad_direct_form_two_folded_over_the_input() {
    let x = data(24, 0.3);
    let target = data(24, 2.1);
    let a = [-0.6, 0.25];
    let b = [0.3, 0.4, -0.1];
    let (v, g) = biquad_misfit_grad(&b, a, &x, &target);
    close("value", v, biquad_misfit(&b, a, &x, &target), TOL);
    // y is linear in b: yₙ = Σₖ bₖ wₙ₋ₖ with wₙ = xₙ − a₁wₙ₋₁ − a₂wₙ₋₂; ∂bₖ = Σₙ 2(yₙ − tₙ)wₙ₋ₖ
    let mut w = vec![0.0; x.len() + 2];
    let mut e = [0.0; 3];
    for n in 0..x.len() {
        w[n + 2] = x[n] - a[0] * w[n + 1] - a[1] * w[n];
        let y = b[0] * w[n + 2] + b[1] * w[n + 1] + b[2] * w[n];
        for k in 0..3 {
            e[k] += 2.0 * (y - target[n]) * w[n + 2 - k];
        }
    }
    close_all("∂b", &g, &e);
    fd_any(
        "biquad",
        |b: &[f64; 3]| biquad_misfit(b, a, &x, &target),
        &b,
        &g,
    );
}

/// An FIR filter fitted to a reference: each output is a window of the input against the taps
/// reversed.
#[differentiate(hessian, wrt(taps))]
fn fir_misfit(taps: &[f64], x: &[f64], reference: &[f64]) -> f64 {
    let k = taps.len();
    let out: Vec<f64> = x
        .windows(k)
        .map(|w| w.iter().rev().zip(taps).map(|(a, h)| a * h).sum())
        .collect();
    out.iter()
        .zip(reference)
        .map(|(y, r)| (y - r).powi(2))
        .sum::<f64>()
        / out.len() as f64
}

#[test]
fn fir_filter_over_windows_with_reversed_taps() {
    let x = data(20, 0.9);
    let taps = vec![0.5, 0.3, -0.2, 0.1];
    let reference = data(17, 4.0);
    let (v, g) = fir_misfit_grad(&taps, &x, &reference);
    close("value", v, fir_misfit(&taps, &x, &reference), TOL);
    // uₙ = (x_{n+3}, x_{n+2}, x_{n+1}, xₙ), yₙ = ⟨h, uₙ⟩: ∂h = (2/m)Σ(yₙ − rₙ)uₙ, H = (2/m)Σuₙuₙᵀ
    let m = 17;
    let u = |n: usize| -> Vec<f64> { (0..4).map(|k| x[n + 3 - k]).collect() };
    let (mut e, mut eh) = (vec![0.0; 4], vec![0.0; 4]);
    let dir = vec![1.0, -0.3, 0.2, 0.6];
    for n in 0..m {
        let un = u(n);
        let y: f64 = un.iter().zip(&taps).map(|(a, b)| a * b).sum();
        let ud: f64 = un.iter().zip(&dir).map(|(a, b)| a * b).sum();
        for k in 0..4 {
            e[k] += 2.0 * (y - reference[n]) * un[k] / m as f64;
            eh[k] += 2.0 * ud * un[k] / m as f64;
        }
    }
    close_all("∂h", &g, &e);
    fd_vec("fir", |h| fir_misfit(h, &x, &reference), &taps, &g);
    let (_, _, hv) = fir_misfit_hvp(&taps, &x, &reference, &dir);
    close_all("H·v", &hv, &eh);
}

/// A three-tap FIR filter's coefficients, with its frequency response as methods.
#[derive(Clone, Debug, Differentiable)]
struct Taps3 {
    b: [f64; 3],
}

#[differentiate]
impl Taps3 {
    /// The real and imaginary parts of H(e^{iω}) = Σ bₖ e^{−ikω}.
    fn response(&self, w: f64) -> (f64, f64) {
        self.b
            .iter()
            .enumerate()
            .fold((0.0, 0.0), |(re, im), (k, &bk)| {
                let kw = k as f64 * w;
                (re + bk * kw.cos(), im - bk * kw.sin())
            })
    }

    fn gain(&self, w: f64) -> f64 {
        let (re, im) = self.response(w);
        re * re + im * im
    }

    fn design_error(&self, freqs: &[f64], desired: &[f64]) -> f64 {
        freqs
            .iter()
            .zip(desired)
            .map(|(&w, &d)| (self.gain(w) - d).powi(2))
            .sum()
    }
}

#[test]
fn fir_design_by_methods_returning_tuples() {
    let f = Taps3 {
        b: [0.4, 0.35, 0.2],
    };
    let freqs: Vec<f64> = (0..8).map(|i| i as f64 * 0.4).collect();
    let desired: Vec<f64> = freqs
        .iter()
        .map(|&w| if w < 1.2 { 1.0 } else { 0.0 })
        .collect();
    let (v, (g, _, _)) = f.design_error_grad(&freqs, &desired);
    close("value", v, f.design_error(&freqs, &desired), TOL);
    // re = Σbₖcos kω, im = −Σbₖ sin kω, gain = re² + im²:
    // ∂bₖ = Σ_ω 2(gain − d)(2re·cos kω − 2im·sin kω)
    let mut e = [0.0; 3];
    for (&w, &d) in freqs.iter().zip(&desired) {
        let re: f64 = (0..3).map(|k| f.b[k] * (k as f64 * w).cos()).sum();
        let im: f64 = (0..3).map(|k| -f.b[k] * (k as f64 * w).sin()).sum();
        let gain = re * re + im * im;
        for k in 0..3 {
            let kw = k as f64 * w;
            e[k] += 2.0 * (gain - d) * (2.0 * re * kw.cos() - 2.0 * im * kw.sin());
        }
    }
    close_all("∂b", &g.b, &e);
    let r = gradcheck(|t: &Taps3| t.design_error(&freqs, &desired), &f, &g);
    assert!(r.passed(), "design: {r}");
}

// ---------------------------------------------------------------------------------------------
// Quadrature and kinetics: Simpson's rule by `step_by`, reactions stepped by a `fold`.
// ---------------------------------------------------------------------------------------------

/// ∫₀ᴸ e^{−kt} sin ωt dt by composite Simpson: the odd and even interior nodes by `step_by(2)`,
/// the integrand a closure capturing the parameters.
#[differentiate(hessian, wrt(k, omega))]
fn damped_sine_integral(k: f64, omega: f64, len: f64, n: usize) -> f64 {
    let h = len / n as f64;
    let f = |t: f64| (-k * t).exp() * (omega * t).sin();
    let odd: f64 = (1..n).step_by(2).map(|i| f(i as f64 * h)).sum();
    let even: f64 = (2..n).step_by(2).map(|i| f(i as f64 * h)).sum();
    h / 3.0 * (f(0.0) + 4.0 * odd + 2.0 * even + f(len))
}

#[test]
fn simpson_rule_by_step_by_over_odd_and_even_nodes() {
    let (k, om, len, n) = (0.7, 2.3, 3.0, 16);
    let (v, (gk, go)) = damped_sine_integral_grad(k, om, len, n);
    close("value", v, damped_sine_integral(k, om, len, n), TOL);
    // Simpson is Σᵢ cᵢ f(tᵢ) (weights h/3·(1, 4, 2, …, 4, 1)): ∂k = Σ cᵢ(−tᵢ)f(tᵢ),
    // ∂ω = Σ cᵢ tᵢ e^{−ktᵢ} cos ωtᵢ; ∂²k = Σ cᵢtᵢ²f, ∂k∂ω = −Σ cᵢtᵢ² e^{−kt}cos ωt
    let h = len / n as f64;
    let (mut ek, mut eo, mut hkk, mut hko) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..=n {
        let c = h / 3.0
            * if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
        let t = i as f64 * h;
        let (f, fc) = (
            (-k * t).exp() * (om * t).sin(),
            (-k * t).exp() * (om * t).cos(),
        );
        ek -= c * t * f;
        eo += c * t * fc;
        hkk += c * t * t * f;
        hko -= c * t * t * fc;
    }
    close2("simpson", (gk, go), (ek, eo));
    fd2(
        "simpson",
        |a, b| damped_sine_integral(a, b, len, n),
        (k, om),
        (gk, go),
    );
    let (_, _, (h0, h1)) = damped_sine_integral_hvp(k, om, len, n, 1.0, 0.0);
    close("∂²k", h0, hkk, 1e-12);
    close("∂k∂ω", h1, hko, 1e-12);
    let fw = forward("simpson").two(
        (k, om),
        |a, b| damped_sine_integral(a, b, len, n),
        |a, b, da, db| damped_sine_integral_jvp(a, b, len, n, da, db),
        |a, b| damped_sine_integral_vjp(a, b, len, n),
    );
    tangents_are2("simpson", &fw, (ek, eo), 1e-12);
}

/// The yield of B in consecutive first-order reactions A → B → C, Euler steps folded over a
/// range with the concentrations as a tuple.
#[differentiate(hessian, wrt(k1, k2))]
fn intermediate_yield(k1: f64, k2: f64, a0: f64, dt: f64, steps: usize) -> f64 {
    let (_, b) = (0..steps).fold((a0, 0.0), |(a, b), _| {
        let ra = k1 * a;
        (a - dt * ra, b + dt * (ra - k2 * b))
    });
    b
}

#[test]
fn consecutive_reactions_by_euler_fold() {
    let (k1, k2, a0, dt, n) = (0.8, 0.3, 1.0, 0.1, 25usize);
    let (v, (g1, g2)) = intermediate_yield_grad(k1, k2, a0, dt, n);
    close("value", v, intermediate_yield(k1, k2, a0, dt, n), TOL);
    // with p = 1 − k₁h, q = 1 − k₂h: b_N = Σⱼ q^{N−1−j} k₁h a₀ pʲ, so
    // ∂k₁ = Σⱼ q^{N−1−j} h a₀ [pʲ − k₁ j h p^{j−1}], ∂k₂ = −Σⱼ (N−1−j) h q^{N−2−j} k₁h a₀ pʲ
    let (p, q) = (1.0 - k1 * dt, 1.0 - k2 * dt);
    let (mut ev, mut e1, mut e2) = (0.0, 0.0, 0.0);
    for j in 0..n {
        let (jf, r) = (j as f64, (n - 1 - j) as i32);
        ev += q.powi(r) * k1 * dt * a0 * p.powi(j as i32);
        e1 += q.powi(r) * dt * a0 * (p.powi(j as i32) - k1 * jf * dt * p.powi(j as i32 - 1));
        if r > 0 {
            e2 -= r as f64 * dt * q.powi(r - 1) * k1 * dt * a0 * p.powi(j as i32);
        }
    }
    close("closed form", v, ev, 1e-12);
    close2("kinetics", (g1, g2), (e1, e2));
    fd2(
        "kinetics",
        |a, b| intermediate_yield(a, b, a0, dt, n),
        (k1, k2),
        (g1, g2),
    );
    let fw = forward("kinetics").two(
        (k1, k2),
        |a, b| intermediate_yield(a, b, a0, dt, n),
        |a, b, da, db| intermediate_yield_jvp(a, b, a0, dt, n, da, db),
        |a, b| intermediate_yield_vjp(a, b, a0, dt, n),
    );
    tangents_are2("kinetics", &fw, (e1, e2), 1e-12);
    let (_, _, (h0, h1)) = intermediate_yield_hvp(k1, k2, a0, dt, n, 0.0, 1.0);
    let hs = 1e-5;
    let (gp, gm) = (
        intermediate_yield_grad(k1, k2 + hs, a0, dt, n).1,
        intermediate_yield_grad(k1, k2 - hs, a0, dt, n).1,
    );
    close("H₁₀", h0, (gp.0 - gm.0) / (2.0 * hs), 1e-6);
    close("H₁₁", h1, (gp.1 - gm.1) / (2.0 * hs), 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Survival curves by `scan` and `product`; splines; mortgages folded over months.
// ---------------------------------------------------------------------------------------------

/// The expected lifetime Σₖ Sₖ of a discrete hazard model, Sₖ = Πⱼ≤ₖ(1 − σ(θⱼ)) by `scan`, plus a
/// weight on surviving the whole horizon by `product`.
#[differentiate(wrt(logits))]
fn expected_lifetime(logits: &[f64], tail_weight: f64) -> f64 {
    let hazard = |z: f64| 1.0 / (1.0 + (-z).exp());
    let life: f64 = logits
        .iter()
        .scan(1.0, |s, &z| {
            *s *= 1.0 - hazard(z);
            Some(*s)
        })
        .sum();
    let survive_all: f64 = logits.iter().map(|&z| 1.0 - hazard(z)).product();
    life + tail_weight * survive_all
}

#[test]
fn discrete_survival_by_scan_and_product() {
    let logits = vec![-2.0, -1.5, -1.2, -0.7, -0.9, -0.3];
    let tw = 2.5;
    let (v, g) = expected_lifetime_grad(&logits, tw);
    close("value", v, expected_lifetime(&logits, tw), TOL);
    // ∂Sₖ/∂θⱼ = −Sₖ hⱼ for j ≤ k: ∂θⱼ = −hⱼ(Σ_{k≥j} Sₖ + w·S_N)
    let h: Vec<f64> = logits.iter().map(|&z| sigmoid(z)).collect();
    let s: Vec<f64> = (0..6)
        .map(|k| h[..=k].iter().map(|hj| 1.0 - hj).product())
        .collect();
    let e: Vec<f64> = (0..6)
        .map(|j| -h[j] * (s[j..].iter().sum::<f64>() + tw * s[5]))
        .collect();
    close_all("∂θ", &g, &e);
    fd_vec("survival", |l| expected_lifetime(l, tw), &logits, &g);
}

/// The four Catmull–Rom weights at a fraction `u` of a segment.
#[differentiate(hessian)]
fn catmull_rom_weights(u: f64) -> [f64; 4] {
    let (u2, u3) = (u * u, u * u * u);
    [
        0.5 * (-u3 + 2.0 * u2 - u),
        0.5 * (3.0 * u3 - 5.0 * u2 + 2.0),
        0.5 * (-3.0 * u3 + 4.0 * u2 + u),
        0.5 * (u3 - u2),
    ]
}

/// A Catmull–Rom spline through control values at the integers, clamped at the ends: the
/// segment from `floor`, the neighbours by index with the end repeated, the point as a block
/// expression.
#[differentiate(hessian)]
fn spline_at(ctrl: &[f64], t: f64) -> f64 {
    let n = ctrl.len();
    let i = (t.floor() as usize).min(n - 2);
    let u = t - i as f64;
    let w = catmull_rom_weights(u);
    let p0 = if i == 0 { ctrl[0] } else { ctrl[i - 1] };
    let p3 = if i + 2 < n { ctrl[i + 2] } else { ctrl[n - 1] };
    w[0] * p0 + w[1] * ctrl[i] + w[2] * ctrl[i + 1] + w[3] * p3
}

#[differentiate(hessian, wrt(ctrl))]
fn spline_fit(ctrl: &[f64], ts: &[f64], ys: &[f64]) -> f64 {
    ts.iter()
        .zip(ys)
        .map(|(&t, &y)| {
            let r = spline_at(ctrl, t) - y;
            r * r
        })
        .sum()
}

#[test]
fn catmull_rom_spline_least_squares() {
    let ctrl = vec![0.0, 0.8, 0.5, -0.3, 0.2];
    let ts = [0.1, 0.6, 1.3, 1.9, 2.2, 2.8, 3.4, 3.9];
    let ys = [0.05, 0.5, 0.9, 0.6, 0.4, -0.1, -0.2, 0.15];
    let (v, g) = spline_fit_grad(&ctrl, &ts, &ys);
    close("value", v, spline_fit(&ctrl, &ts, &ys), TOL);
    // s(t) = Σⱼ Bⱼ(t) cⱼ (the weights added at the clamped indices): ∂c = Σ 2 r B, H = 2Σ B Bᵀ
    let basis = |t: f64| {
        let i = (t.floor() as usize).min(3);
        let w = catmull_rom_weights(t - i as f64);
        let mut b = vec![0.0; 5];
        b[i.saturating_sub(1)] += w[0];
        b[i] += w[1];
        b[i + 1] += w[2];
        b[(i + 2).min(4)] += w[3];
        b
    };
    let dir = vec![0.3, -0.1, 0.7, 0.2, -0.5];
    let (mut e, mut eh) = (vec![0.0; 5], vec![0.0; 5]);
    for (&t, &y) in ts.iter().zip(&ys) {
        let b = basis(t);
        let s: f64 = b.iter().zip(&ctrl).map(|(a, c)| a * c).sum();
        let bd: f64 = b.iter().zip(&dir).map(|(a, c)| a * c).sum();
        for j in 0..5 {
            e[j] += 2.0 * (s - y) * b[j];
            eh[j] += 2.0 * bd * b[j];
        }
    }
    close_all("∂c", &g, &e);
    fd_vec("spline", |c| spline_fit(c, &ts, &ys), &ctrl, &g);
    let (_, _, hv) = spline_fit_hvp(&ctrl, &ts, &ys, &dir);
    close_all("H·v", &hv, &eh);
}

/// The balance left on a loan after `months` payments, folded month by month.
#[differentiate(hessian, wrt(rate, payment))]
fn balance_after(rate: f64, payment: f64, principal: f64, months: usize) -> f64 {
    (0..months).fold(principal, |b, _| b * (1.0 + rate) - payment)
}

#[test]
fn loan_balance_folded_over_months() {
    // amounts in thousands
    let (r, pay, b0, n) = (0.004, 1.2, 200.0, 60usize);
    let (v, (gr, gp)) = balance_after_grad(r, pay, b0, n);
    close("value", v, balance_after(r, pay, b0, n), TOL);
    // b_N = b₀(1+r)ᴺ − P((1+r)ᴺ − 1)/r: ∂P = −((1+r)ᴺ − 1)/r,
    // ∂r = N b₀(1+r)ᴺ⁻¹ − P[N(1+r)ᴺ⁻¹ r − ((1+r)ᴺ − 1)]/r², ∂r∂P = −[N(1+r)ᴺ⁻¹ r − ((1+r)ᴺ − 1)]/r²
    let nf = n as f64;
    let g = (1.0 + r).powi(n as i32);
    let g1 = (1.0 + r).powi(n as i32 - 1);
    close("closed form", v, b0 * g - pay * (g - 1.0) / r, 1e-9);
    let d = (nf * g1 * r - (g - 1.0)) / (r * r);
    let (er, ep) = (nf * b0 * g1 - pay * d, -(g - 1.0) / r);
    close("∂r", gr, er, 1e-9);
    close("∂P", gp, ep, 1e-12);
    fd2(
        "loan",
        |a, b| balance_after(a, b, b0, n),
        (r, pay),
        (gr, gp),
    );
    let (_, _, (h0, h1)) = balance_after_hvp(r, pay, b0, n, 0.0, 1.0);
    close("∂r∂P", h0, -d, 1e-9);
    close("∂²P", h1, 0.0, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Localisation and robust helpers: a generic Huber helper from f64 and f32 entry points, a
// `match` on an enum and the value together.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn huber<F: Float>(r: F, k: F) -> F {
    if r.abs() <= k {
        r * r / (F::one() + F::one())
    } else {
        k * (r.abs() - k / (F::one() + F::one()))
    }
}

/// A position from ranges to beacons, robust to a bad range: Σ huber(|p − bᵢ| − dᵢ).
#[differentiate(wrt(p))]
fn trilateration(p: [f64; 2], beacons: &[[f64; 2]], ranges: &[f64], k: f64) -> f64 {
    beacons
        .iter()
        .zip(ranges)
        .map(|(b, &d)| huber((p[0] - b[0]).hypot(p[1] - b[1]) - d, k))
        .sum()
}

#[differentiate(wrt(p))]
fn trilateration_f32(p: [f32; 2], beacons: &[[f32; 2]], ranges: &[f32], k: f32) -> f32 {
    let mut total = 0.0;
    for (b, &d) in beacons.iter().zip(ranges) {
        let dist = ((p[0] - b[0]).powi(2) + (p[1] - b[1]).powi(2)).sqrt();
        total += huber(dist - d, k);
    }
    total
}

#[test]
fn robust_trilateration_generic_huber_from_f64_and_f32() {
    let beacons = [[0.0, 0.0], [4.0, 0.0], [0.0, 3.0], [4.0, 3.0]];
    let ranges = [2.3, 2.9, 2.0, 3.8]; // the last one bad
    let (p, k) = ([1.6, 1.5], 0.3);
    let (v, g) = trilateration_grad(p, &beacons, &ranges, k);
    close("value", v, trilateration(p, &beacons, &ranges, k), TOL);
    // ∂p = Σ ψ(rᵢ)(p − bᵢ)/|p − bᵢ|, rᵢ = |p − bᵢ| − dᵢ, ψ = clamp(r, −k, k)
    let mut e = [0.0; 2];
    for (b, d) in beacons.iter().zip(&ranges) {
        let dist = (p[0] - b[0]).hypot(p[1] - b[1]);
        let psi = (dist - d).clamp(-k, k);
        e[0] += psi * (p[0] - b[0]) / dist;
        e[1] += psi * (p[1] - b[1]) / dist;
    }
    close_all("∂p", &g, &e);
    fd_any(
        "trilateration",
        |q: &[f64; 2]| trilateration(*q, &beacons, &ranges, k),
        &p,
        &g,
    );
    let b32: Vec<[f32; 2]> = beacons.iter().map(|b| [b[0] as f32, b[1] as f32]).collect();
    let r32: Vec<f32> = ranges.iter().map(|&r| r as f32).collect();
    let p32 = [p[0] as f32, p[1] as f32];
    let (v32, g32) = trilateration_f32_grad(p32, &b32, &r32, k as f32);
    close("f32 value", v32 as f64, v, 1e-5);
    close("f32 ∂p₀", g32[0] as f64, e[0], 1e-4);
    close("f32 ∂p₁", g32[1] as f64, e[1], 1e-4);
    let r = gradcheck(
        |q: &[f32; 2]| trilateration_f32(*q, &b32, &r32, k as f32),
        &p32,
        &g32,
    );
    assert!(r.passed(), "f32: {r}");
}

#[derive(Clone, Copy, Debug)]
enum Clip {
    Off,
    Hard(f64),
    Soft(f64),
}

/// The energy of a signal after clipping, the clipping chosen by a `match` on the enum and the
/// sample together: a position tested (the enum, its payload bound) beside one bound by name.
#[differentiate(hessian, wrt(x))]
fn clipped_energy(x: &[f64], clip: Clip) -> f64 {
    x.iter()
        .map(|&s| match (clip, s) {
            (Clip::Hard(c), v) if v.abs() > c => c * v.signum(),
            (Clip::Soft(c), v) => c * (v / c).tanh(),
            (_, v) => v,
        })
        .map(|y| y * y)
        .sum()
}

#[test]
fn clipped_energy_by_match_on_enum_and_sample() {
    let x = vec![0.3, -1.4, 0.9, 2.2, -0.1];
    let dir = vec![0.5, 0.2, -0.4, 0.1, 0.3];
    for clip in [Clip::Off, Clip::Hard(1.0), Clip::Soft(1.2)] {
        let what = format!("{clip:?}");
        let (v, g) = clipped_energy_grad(&x, clip);
        close(&what, v, clipped_energy(&x, clip), TOL);
        // y(s): s, or c·sign s past c (hard), or c·tanh(s/c) (soft); ∂s = 2y·y′,
        // (H·v)ₛ = 2(y′² + y·y″)vₛ with y′ = 1 − tanh², y″ = −2 tanh·y′/c (soft)
        let (mut e, mut eh) = (vec![0.0; 5], vec![0.0; 5]);
        for i in 0..5 {
            let s = x[i];
            let (y, dy, d2y) = match clip {
                Clip::Hard(c) if s.abs() > c => (c * s.signum(), 0.0, 0.0),
                Clip::Soft(c) => {
                    let t = (s / c).tanh();
                    (c * t, 1.0 - t * t, -2.0 * t * (1.0 - t * t) / c)
                }
                _ => (s, 1.0, 0.0),
            };
            e[i] = 2.0 * y * dy;
            eh[i] = 2.0 * (dy * dy + y * d2y) * dir[i];
        }
        close_all(&what, &g, &e);
        fd_vec(&what, |x| clipped_energy(x, clip), &x, &g);
        let (_, _, hv) = clipped_energy_hvp(&x, clip, &dir);
        close_all(&format!("{what} H·v"), &hv, &eh);
    }
}

// ---------------------------------------------------------------------------------------------
// Portfolios and regressions: block expressions, shadowing, `fold` into a tuple.
// ---------------------------------------------------------------------------------------------

/// The negative Sharpe ratio of a portfolio over a history of asset returns: the mean as a block
/// expression, the standard deviation shadowed by its floor.
#[differentiate(wrt(w))]
fn neg_sharpe(w: &[f64], returns: &[Vec<f64>], rf: f64) -> f64 {
    let port: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().zip(w).map(|(a, b)| a * b).sum())
        .collect();
    let mean = {
        let s: f64 = port.iter().sum();
        s / port.len() as f64
    };
    let var = port.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (port.len() - 1) as f64;
    let sd = var.sqrt();
    let sd = sd.max(1e-12);
    -(mean - rf) / sd
}

#[test]
fn negative_sharpe_ratio_with_block_mean_and_shadowed_sd() {
    let returns: Vec<Vec<f64>> = (0..10)
        .map(|t| {
            vec![
                0.01 + 0.03 * (t as f64 * 0.7).sin(),
                0.005 + 0.01 * (t as f64 * 1.3).cos(),
                0.02 * (t as f64 * 0.4).sin(),
            ]
        })
        .collect();
    let w = vec![0.5, 0.3, 0.2];
    let rf = 0.001;
    let (v, g) = neg_sharpe_grad(&w, &returns, rf);
    close("value", v, neg_sharpe(&w, &returns, rf), TOL);
    // m = w·r̄, var = Σ(pₜ − m)²/(T−1), sd = √var: ∂m = r̄, ∂var = 2Σ(pₜ − m)(rₜ − r̄)/(T−1),
    // ∂sd = ∂var/(2sd), ∂(−(m − rf)/sd) = −(∂m·sd − (m − rf)∂sd)/sd²
    let t = returns.len() as f64;
    let rbar: Vec<f64> = (0..3)
        .map(|j| returns.iter().map(|r| r[j]).sum::<f64>() / t)
        .collect();
    let p: Vec<f64> = returns
        .iter()
        .map(|r| (0..3).map(|j| r[j] * w[j]).sum())
        .collect();
    let m: f64 = p.iter().sum::<f64>() / t;
    let sd = (p.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (t - 1.0)).sqrt();
    let e: Vec<f64> = (0..3)
        .map(|j| {
            let dvar = 2.0
                * returns
                    .iter()
                    .zip(&p)
                    .map(|(r, pt)| (pt - m) * (r[j] - rbar[j]))
                    .sum::<f64>()
                / (t - 1.0);
            let dsd = dvar / (2.0 * sd);
            -(rbar[j] * sd - (m - rf) * dsd) / (sd * sd)
        })
        .collect();
    close_all("∂w", &g, &e);
    fd_vec("sharpe", |w| neg_sharpe(w, &returns, rf), &w, &g);
}

/// The squared slope of a weighted least-squares line, its sums gathered by one `fold` into a
/// tuple over the three zipped slices.
#[differentiate(hessian, wrt(ys))]
fn squared_weighted_slope(xs: &[f64], ys: &[f64], wts: &[f64]) -> f64 {
    let (sw, swx, swy, swxx, swxy) = xs.iter().zip(ys).zip(wts).fold(
        (0.0, 0.0, 0.0, 0.0, 0.0),
        |(sw, swx, swy, swxx, swxy), ((&x, &y), &w)| {
            (
                sw + w,
                swx + w * x,
                swy + w * y,
                swxx + w * x * x,
                swxy + w * x * y,
            )
        },
    );
    let slope = (sw * swxy - swx * swy) / (sw * swxx - swx * swx);
    slope * slope
}

#[test]
fn weighted_slope_from_a_fold_into_a_tuple() {
    let xs = [0.0, 1.0, 2.0, 3.5, 4.0, 5.5];
    let ys = vec![1.0, 1.8, 3.1, 4.2, 5.3, 6.0];
    let wts = [1.0, 0.5, 2.0, 1.0, 0.8, 1.5];
    let (v, g) = squared_weighted_slope_grad(&xs, &ys, &wts);
    close("value", v, squared_weighted_slope(&xs, &ys, &wts), TOL);
    // slope = Σ aᵢyᵢ with aᵢ = wᵢ(xᵢ − x̄_w)/Σwⱼ(xⱼ − x̄_w)²: ∂y = 2·slope·a, H = 2aaᵀ
    let sw: f64 = wts.iter().sum();
    let xbar: f64 = xs.iter().zip(&wts).map(|(x, w)| w * x).sum::<f64>() / sw;
    let sxx: f64 = xs
        .iter()
        .zip(&wts)
        .map(|(x, w)| w * (x - xbar).powi(2))
        .sum();
    let a: Vec<f64> = xs
        .iter()
        .zip(&wts)
        .map(|(x, w)| w * (x - xbar) / sxx)
        .collect();
    let slope: f64 = a.iter().zip(&ys).map(|(a, y)| a * y).sum();
    close("value", v, slope * slope, 1e-12);
    let e: Vec<f64> = a.iter().map(|ai| 2.0 * slope * ai).collect();
    close_all("∂y", &g, &e);
    fd_vec("slope", |y| squared_weighted_slope(&xs, y, &wts), &ys, &g);
    let dir = vec![1.0, 0.0, -1.0, 0.5, 0.2, -0.3];
    let (_, _, hv) = squared_weighted_slope_hvp(&xs, &ys, &wts, &dir);
    let ad: f64 = a.iter().zip(&dir).map(|(a, d)| a * d).sum();
    let eh: Vec<f64> = a.iter().map(|ai| 2.0 * ai * ad).collect();
    close_all("H·v", &hv, &eh);
}

/// The radius of gyration of points stored flat as x, y pairs, read by `chunks(2)`.
#[differentiate(hessian)]
fn gyration(xy: &[f64]) -> f64 {
    let n = (xy.len() / 2) as f64;
    let (cx, cy) = xy
        .chunks(2)
        .fold((0.0, 0.0), |(a, b), c| (a + c[0] / n, b + c[1] / n));
    xy.chunks(2)
        .map(|c| (c[0] - cx).powi(2) + (c[1] - cy).powi(2))
        .sum::<f64>()
        / n
}

#[test]
fn radius_of_gyration_over_chunks_of_two() {
    let xy = vec![0.0, 0.5, 1.2, -0.3, 2.0, 1.1, -0.7, 0.9];
    let (v, g) = gyration_grad(&xy);
    close("value", v, gyration(&xy), TOL);
    // ∂pᵢ = (2/n)(pᵢ − c); H·v = (2/n)(vᵢ − v̄) per coordinate
    let n = 4.0;
    let c = [
        (0..4).map(|i| xy[2 * i]).sum::<f64>() / n,
        (0..4).map(|i| xy[2 * i + 1]).sum::<f64>() / n,
    ];
    let e: Vec<f64> = (0..8).map(|k| 2.0 / n * (xy[k] - c[k % 2])).collect();
    close_all("∂p", &g, &e);
    fd_vec("gyration", |p| gyration(p), &xy, &g);
    let dir = vec![0.1, 0.2, -0.3, 0.4, 0.5, -0.1, 0.0, 0.3];
    let vbar = [
        (0..4).map(|i| dir[2 * i]).sum::<f64>() / n,
        (0..4).map(|i| dir[2 * i + 1]).sum::<f64>() / n,
    ];
    let (_, _, hv) = gyration_hvp(&xy, &dir);
    let eh: Vec<f64> = (0..8).map(|k| 2.0 / n * (dir[k] - vbar[k % 2])).collect();
    close_all("H·v", &hv, &eh);
}

// ---------------------------------------------------------------------------------------------
// Pharmacology and queues: `let .. else` on the last sample, helpers on data with `?`,
// waiting times by `scan`.
// ---------------------------------------------------------------------------------------------

/// The area under a concentration curve sampled at (t, c): trapezoids over `windows(2)` plus
/// the exponential tail c_last / k past the last sample, taken by `let .. else`.
#[differentiate(wrt(samples))]
fn auc_with_tail(samples: &[[f64; 2]], k_elim: f64) -> f64 {
    let Some(&[_, c_last]) = samples.last() else {
        return 0.0;
    };
    let body: f64 = samples
        .windows(2)
        .map(|w| 0.5 * (w[1][0] - w[0][0]) * (w[0][1] + w[1][1]))
        .sum();
    body + c_last / k_elim
}

#[test]
fn pharmacokinetic_auc_with_let_else_on_the_last_sample() {
    let samples = vec![
        [0.0, 0.0],
        [0.5, 3.2],
        [1.0, 4.1],
        [2.0, 3.5],
        [4.0, 2.0],
        [8.0, 0.7],
    ];
    let k = 0.26;
    let (v, g) = auc_with_tail_grad(&samples, k);
    close("value", v, auc_with_tail(&samples, k), TOL);
    // ∂tᵢ = ½(cᵢ₋₁ + cᵢ) − ½(cᵢ + cᵢ₊₁) (the missing neighbour's term left out),
    // ∂cᵢ = ½(tᵢ₊₁ − tᵢ₋₁) likewise, plus 1/k at the last sample
    let n = samples.len();
    for i in 0..n {
        let (mut et, mut ec) = (0.0, 0.0);
        if i > 0 {
            et += 0.5 * (samples[i - 1][1] + samples[i][1]);
            ec += 0.5 * (samples[i][0] - samples[i - 1][0]);
        }
        if i + 1 < n {
            et -= 0.5 * (samples[i][1] + samples[i + 1][1]);
            ec += 0.5 * (samples[i + 1][0] - samples[i][0]);
        }
        if i + 1 == n {
            ec += 1.0 / k;
        }
        close(&format!("∂t{i}"), g[i][0], et, 1e-12);
        close(&format!("∂c{i}"), g[i][1], ec, 1e-12);
    }
    let r = gradcheck(|s: &Vec<[f64; 2]>| auc_with_tail(s, k), &samples, &g);
    assert!(r.passed(), "auc: {r}");
    let (v0, _) = auc_with_tail_grad(&[], k);
    assert_eq!(v0, 0.0);
}

/// The bin of a sorted grid holding `t`, `None` outside: a helper on data, written with `?`.
fn bin_of(edges: &[f64], t: f64) -> Option<usize> {
    let upper = edges.iter().position(|&e| e > t)?;
    upper.checked_sub(1)
}

/// A histogram-shaped intensity: the log-likelihood of event times under a piecewise-constant
/// rate e^{θ_b} per bin, minus the integral of the rate. Events outside the grid are skipped
/// with `let .. else { continue }` on the data helper's `Option`.
#[differentiate(wrt(log_rates))]
fn piecewise_poisson_nll(log_rates: &[f64], edges: &[f64], events: &[f64]) -> f64 {
    let mut ll = 0.0;
    for &t in events {
        let Some(b) = bin_of(edges, t) else {
            continue;
        };
        ll += log_rates[b];
    }
    let integral: f64 = edges
        .windows(2)
        .zip(log_rates)
        .map(|(w, &th)| (w[1] - w[0]) * th.exp())
        .sum();
    integral - ll
}

#[test]
fn piecewise_poisson_with_a_data_helper_using_question_mark() {
    let edges = [0.0, 1.0, 2.5, 4.0];
    let events = [0.2, 0.7, 1.1, 1.9, 2.4, 3.3, 5.0, -1.0];
    let th = vec![0.3, -0.2, 0.1];
    let (v, g) = piecewise_poisson_nll_grad(&th, &edges, &events);
    close("value", v, piecewise_poisson_nll(&th, &edges, &events), TOL);
    // ∂θ_b = Δ_b e^{θ_b} − (events in bin b)
    let counts = [2.0, 3.0, 1.0];
    let e: Vec<f64> = (0..3)
        .map(|b| (edges[b + 1] - edges[b]) * th[b].exp() - counts[b])
        .collect();
    close_all("∂θ", &g, &e);
    fd_vec(
        "poisson",
        |t| piecewise_poisson_nll(t, &edges, &events),
        &th,
        &g,
    );
}

/// The cost of waiting in a non-preemptive priority M/G/1 queue with exponential service:
/// the residual work W₀ = Σ λⱼsⱼ², the loads σₖ = Σⱼ≤ₖ λⱼsⱼ by `scan`, Wₖ = W₀/((1 − σₖ₋₁)(1 − σₖ)).
#[differentiate(wrt(service))]
fn priority_waiting_cost(service: &[f64], arrivals: &[f64], costs: &[f64]) -> f64 {
    let w0: f64 = arrivals.iter().zip(service).map(|(l, s)| l * s * s).sum();
    let loads: Vec<f64> = arrivals
        .iter()
        .zip(service)
        .scan(0.0, |acc, (l, s)| {
            *acc += l * s;
            Some(*acc)
        })
        .collect();
    let mut before = 0.0;
    let mut cost = 0.0;
    for ((&sigma, &lam), &c) in loads.iter().zip(arrivals).zip(costs) {
        cost += c * lam * w0 / ((1.0 - before) * (1.0 - sigma));
        before = sigma;
    }
    cost
}

#[test]
fn priority_queue_waiting_cost_by_scan_of_loads() {
    let arrivals = [0.2, 0.3, 0.1];
    let service = vec![0.8, 1.1, 1.5];
    let costs = [5.0, 2.0, 1.0];
    let (v, g) = priority_waiting_cost_grad(&service, &arrivals, &costs);
    close(
        "value",
        v,
        priority_waiting_cost(&service, &arrivals, &costs),
        TOL,
    );
    // ∂W₀/∂sₘ = 2λₘsₘ, ∂σₖ/∂sₘ = λₘ[m ≤ k]; with Dₖ = (1 − σₖ₋₁)(1 − σₖ):
    // ∂Wₖ/∂sₘ = 2λₘsₘ/Dₖ + Wₖ(λₘ[m ≤ k−1]/(1 − σₖ₋₁) + λₘ[m ≤ k]/(1 − σₖ))
    let sig: Vec<f64> = (0..3)
        .map(|k| (0..=k).map(|j| arrivals[j] * service[j]).sum())
        .collect();
    let w0: f64 = (0..3).map(|j| arrivals[j] * service[j].powi(2)).sum();
    let e: Vec<f64> = (0..3)
        .map(|m| {
            (0..3)
                .map(|k| {
                    let prev = if k == 0 { 0.0 } else { sig[k - 1] };
                    let d = (1.0 - prev) * (1.0 - sig[k]);
                    let wk = w0 / d;
                    let in_prev = if m < k {
                        arrivals[m] / (1.0 - prev)
                    } else {
                        0.0
                    };
                    let in_cur = if m <= k {
                        arrivals[m] / (1.0 - sig[k])
                    } else {
                        0.0
                    };
                    costs[k]
                        * arrivals[k]
                        * (2.0 * arrivals[m] * service[m] / d + wk * (in_prev + in_cur))
                })
                .sum()
        })
        .collect();
    close_all("∂s", &g, &e);
    fd_vec(
        "priority",
        |s| priority_waiting_cost(s, &arrivals, &costs),
        &service,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Robotics: odometry over wheel speeds as `&[[f64; 2]]`, an arm as a struct with methods.
// ---------------------------------------------------------------------------------------------

/// A differential-drive robot integrated over wheel-speed pairs (left, right): heading first,
/// then position, each step a `for &[vl, vr] in speeds`; half the squared miss of the goal.
#[differentiate(wrt(speeds))]
fn odometry_miss(speeds: &[[f64; 2]], track: f64, dt: f64, goal: [f64; 2]) -> f64 {
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    for &[vl, vr] in speeds {
        th += (vr - vl) / track * dt;
        let v = 0.5 * (vl + vr);
        x += v * th.cos() * dt;
        y += v * th.sin() * dt;
    }
    0.5 * ((x - goal[0]).powi(2) + (y - goal[1]).powi(2))
}

#[test]
fn differential_drive_odometry_over_wheel_speed_pairs() {
    let speeds = vec![[1.0, 1.2], [1.1, 1.4], [0.9, 1.5], [1.2, 1.0], [1.3, 1.3]];
    let (track, dt, goal) = (0.5, 0.4, [2.0, 1.2]);
    let (v, g) = odometry_miss_grad(&speeds, track, dt, goal);
    close("value", v, odometry_miss(&speeds, track, dt, goal), TOL);
    // θₖ = Σ_{j≤k}(vrⱼ − vlⱼ)dt/L, vₖ = (vlₖ + vrₖ)/2, x = Σ vₖ cos θₖ dt, y = Σ vₖ sin θₖ dt:
    // ∂x/∂vr_j = ½cos θⱼ dt − (dt²/L) Σ_{k≥j} vₖ sin θₖ, ∂x/∂vl_j = ½cos θⱼ dt + (dt²/L)Σ vₖ sin θₖ,
    // ∂y/∂vr_j = ½sin θⱼ dt + (dt²/L) Σ_{k≥j} vₖ cos θₖ, ∂y/∂vl_j = ½sin θⱼ dt − (dt²/L)Σ vₖ cos θₖ
    let n = speeds.len();
    let th: Vec<f64> = (0..n)
        .map(|k| {
            (0..=k)
                .map(|j| (speeds[j][1] - speeds[j][0]) / track * dt)
                .sum()
        })
        .collect();
    let vel: Vec<f64> = speeds.iter().map(|s| 0.5 * (s[0] + s[1])).collect();
    let x: f64 = (0..n).map(|k| vel[k] * th[k].cos() * dt).sum();
    let y: f64 = (0..n).map(|k| vel[k] * th[k].sin() * dt).sum();
    let (ex, ey) = (x - goal[0], y - goal[1]);
    for j in 0..n {
        let ss: f64 = (j..n).map(|k| vel[k] * th[k].sin()).sum::<f64>() * dt * dt / track;
        let sc: f64 = (j..n).map(|k| vel[k] * th[k].cos()).sum::<f64>() * dt * dt / track;
        let (hc, hs) = (0.5 * th[j].cos() * dt, 0.5 * th[j].sin() * dt);
        let e_vl = ex * (hc + ss) + ey * (hs - sc);
        let e_vr = ex * (hc - ss) + ey * (hs + sc);
        close(&format!("∂vl{j}"), g[j][0], e_vl, 1e-12);
        close(&format!("∂vr{j}"), g[j][1], e_vr, 1e-12);
    }
    let r = gradcheck(
        |s: &Vec<[f64; 2]>| odometry_miss(s, track, dt, goal),
        &speeds,
        &g,
    );
    assert!(r.passed(), "odometry: {r}");
}

/// A two-link arm's link lengths, its kinematics as methods calling each other.
#[derive(Clone, Debug, Differentiable)]
struct TwoLink {
    l1: f64,
    l2: f64,
}

#[differentiate]
impl TwoLink {
    fn hand(&self, q: [f64; 2]) -> [f64; 2] {
        let elbow = [self.l1 * q[0].cos(), self.l1 * q[0].sin()];
        let a = q[0] + q[1];
        [elbow[0] + self.l2 * a.cos(), elbow[1] + self.l2 * a.sin()]
    }

    /// The determinant of the hand's Jacobian, l₁l₂ sin q₂: how freely the hand moves.
    fn manipulability(&self, q: [f64; 2]) -> f64 {
        self.l1 * self.l2 * q[1].sin()
    }

    fn design_loss(&self, q: [f64; 2], target: [f64; 2], lam: f64) -> f64 {
        let [hx, hy] = self.hand(q);
        (hx - target[0]).powi(2) + (hy - target[1]).powi(2) - lam * self.manipulability(q)
    }
}

#[test]
fn two_link_arm_design_through_methods() {
    let arm = TwoLink { l1: 1.1, l2: 0.7 };
    let (q, target, lam) = ([0.5, 1.2], [0.6, 1.4], 0.2);
    let (v, (ga, gq, _, _)) = arm.design_loss_grad(q, target, lam);
    close("value", v, arm.design_loss(q, target, lam), TOL);
    // hand = (l₁c₁ + l₂c₁₂, l₁s₁ + l₂s₁₂), d = hand − target:
    // ∂l₁ = 2dₓc₁ + 2d_y s₁ − λl₂ sin q₂, ∂l₂ = 2dₓc₁₂ + 2d_y s₁₂ − λl₁ sin q₂,
    // ∂q₁ = 2dₓ(−l₁s₁ − l₂s₁₂) + 2d_y(l₁c₁ + l₂c₁₂), ∂q₂ = −2dₓl₂s₁₂ + 2d_y l₂c₁₂ − λl₁l₂ cos q₂
    let (l1, l2) = (arm.l1, arm.l2);
    let (c1, s1, c12, s12) = (
        q[0].cos(),
        q[0].sin(),
        (q[0] + q[1]).cos(),
        (q[0] + q[1]).sin(),
    );
    let (dx, dy) = (
        l1 * c1 + l2 * c12 - target[0],
        l1 * s1 + l2 * s12 - target[1],
    );
    close(
        "∂l₁",
        ga.l1,
        2.0 * dx * c1 + 2.0 * dy * s1 - lam * l2 * q[1].sin(),
        1e-12,
    );
    close(
        "∂l₂",
        ga.l2,
        2.0 * dx * c12 + 2.0 * dy * s12 - lam * l1 * q[1].sin(),
        1e-12,
    );
    close(
        "∂q₁",
        gq[0],
        2.0 * dx * (-l1 * s1 - l2 * s12) + 2.0 * dy * (l1 * c1 + l2 * c12),
        1e-12,
    );
    close(
        "∂q₂",
        gq[1],
        -2.0 * dx * l2 * s12 + 2.0 * dy * l2 * c12 - lam * l1 * l2 * q[1].cos(),
        1e-12,
    );
    let r = gradcheck(
        |p: &(TwoLink, [f64; 2])| p.0.design_loss(p.1, target, lam),
        &(arm.clone(), q),
        &(ga, gq),
    );
    assert!(r.passed(), "arm: {r}");
}

// ---------------------------------------------------------------------------------------------
// Rankings, mixtures, forecasts and prices: `windows` over an order, `from_fn` over a const
// generic, `scan` with `skip`, Horner by `rev().fold`.
// ---------------------------------------------------------------------------------------------

/// A listwise hinge loss: each neighbour pair of the true order, from `windows(2)` over the
/// indices, should keep a margin between their scores.
#[differentiate(wrt(scores))]
fn ordered_hinge(scores: &[f64], order: &[usize], margin: f64) -> f64 {
    order
        .windows(2)
        .map(|w| (margin - (scores[w[0]] - scores[w[1]])).max(0.0))
        .sum()
}

#[test]
fn listwise_hinge_over_windows_of_the_true_order() {
    let scores = vec![0.2, 1.4, 0.85, -0.1, 0.55];
    let order = [1, 2, 4, 0, 3];
    let m = 0.5;
    let (v, g) = ordered_hinge_grad(&scores, &order, m);
    close("value", v, ordered_hinge(&scores, &order, m), TOL);
    // an active pair (a, b) (margin − (s_a − s_b) > 0): ∂s_a −= 1, ∂s_b += 1
    let mut e = vec![0.0; 5];
    for w in order.windows(2) {
        if m - (scores[w[0]] - scores[w[1]]) > 0.0 {
            e[w[0]] -= 1.0;
            e[w[1]] += 1.0;
        }
    }
    close_all("∂s", &g, &e);
    fd_vec("hinge", |s| ordered_hinge(s, &order, m), &scores, &g);
}

/// The Gibbs energy of an ideal mixture of `N` species, the mole fractions a softmax of logits
/// built by `std::array::from_fn`: G = Σ xᵢ(μᵢ + RT ln xᵢ).
#[differentiate(hessian, wrt(z))]
fn mixture_gibbs<const N: usize>(z: [f64; N], mu: [f64; N], rt: f64) -> f64 {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: [f64; N] = std::array::from_fn(|i| (z[i] - m).exp());
    let total: f64 = e.iter().sum();
    let x: [f64; N] = std::array::from_fn(|i| e[i] / total);
    x.iter()
        .zip(mu.iter())
        .map(|(&xi, &mi)| xi * (mi + rt * xi.ln()))
        .sum()
}

#[test]
fn ideal_mixture_gibbs_energy_over_const_generic_species() {
    let z = [0.3, -0.5, 1.1, 0.0];
    let mu = [-1.0, 0.5, -0.2, 0.8];
    let rt = 0.6;
    let (v, g) = mixture_gibbs_grad(z, mu, rt);
    close("value", v, mixture_gibbs(z, mu, rt), TOL);
    // gᵢ = ∂G/∂xᵢ = μᵢ + RT(ln xᵢ + 1); through the softmax ∂zⱼ = xⱼ(gⱼ − Σᵢ xᵢgᵢ)
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    let x: Vec<f64> = z.iter().map(|v| v.exp() / s).collect();
    let gx: Vec<f64> = (0..4).map(|i| mu[i] + rt * (x[i].ln() + 1.0)).collect();
    let mean: f64 = (0..4).map(|i| x[i] * gx[i]).sum();
    let e: Vec<f64> = (0..4).map(|j| x[j] * (gx[j] - mean)).collect();
    close_all("∂z", &g, &e);
    fd_any("gibbs", |z: &[f64; 4]| mixture_gibbs(*z, mu, rt), &z, &g);
    let dir = [0.4, -0.2, 0.1, 0.3];
    let (_, _, hv) = mixture_gibbs_hvp(z, mu, rt, dir);
    let h = 1e-5;
    let zp: [f64; 4] = std::array::from_fn(|i| z[i] + h * dir[i]);
    let zm: [f64; 4] = std::array::from_fn(|i| z[i] - h * dir[i]);
    let (gp, gm) = (
        mixture_gibbs_grad(zp, mu, rt).1,
        mixture_gibbs_grad(zm, mu, rt).1,
    );
    for i in 0..4 {
        close(
            &format!("(H·v)[{i}]"),
            hv[i],
            (gp[i] - gm[i]) / (2.0 * h),
            1e-6,
        );
    }
}

/// One-step-ahead forecasts by exponential smoothing (`scan`), scored after a burn-in: the
/// forecasts zipped with the next observations, the first `burn` pairs skipped.
#[differentiate(hessian, wrt(alpha))]
fn smoothing_sse(alpha: f64, xs: &[f64], burn: usize) -> f64 {
    xs.iter()
        .scan(xs[0], |level, &x| {
            *level = alpha * x + (1.0 - alpha) * *level;
            Some(*level)
        })
        .zip(xs.iter().skip(1))
        .skip(burn)
        .map(|(f, &next)| (next - f).powi(2))
        .sum()
}

#[test]
fn exponential_smoothing_scored_after_burn_in() {
    let xs = data(18, 1.7);
    let (a, burn) = (0.35, 4);
    let (v, ga) = smoothing_sse_grad(a, &xs, burn);
    close("value", v, smoothing_sse(a, &xs, burn), TOL);
    // eₜ = αxₜ + (1−α)eₜ₋₁, e′ₜ = xₜ − eₜ₋₁ + (1−α)e′ₜ₋₁, e″ₜ = −2e′ₜ₋₁ + (1−α)e″ₜ₋₁;
    // ∂α = Σ_{t≥burn} −2(xₜ₊₁ − eₜ)e′ₜ, ∂²α = Σ 2e′ₜ² − 2(xₜ₊₁ − eₜ)e″ₜ
    let (mut lvl, mut d1, mut d2) = (xs[0], 0.0, 0.0);
    let (mut eg, mut eh) = (0.0, 0.0);
    for t in 0..xs.len() - 1 {
        let (p1, pl) = (d1, lvl);
        d2 = -2.0 * p1 + (1.0 - a) * d2;
        d1 = xs[t] - pl + (1.0 - a) * p1;
        lvl = a * xs[t] + (1.0 - a) * pl;
        if t >= burn {
            let r = xs[t + 1] - lvl;
            eg += -2.0 * r * d1;
            eh += 2.0 * d1 * d1 - 2.0 * r * d2;
        }
    }
    close("∂α", ga, eg, 1e-12);
    fd("smoothing", |a| smoothing_sse(a, &xs, burn), a, ga);
    let (_, _, hv) = smoothing_sse_hvp(a, &xs, burn, 1.0);
    close("∂²α", hv, eh, 1e-10);
    let fw = forward("smoothing").one(
        a,
        |a| smoothing_sse(a, &xs, burn),
        |a, da| smoothing_sse_jvp(a, &xs, burn, da),
        |a| smoothing_sse_vjp(a, &xs, burn),
    );
    tangents_are("smoothing", &fw, eg, 1e-12);
}

/// A bond's price at yield y by Horner's rule over the cash flows from the back:
/// P = v(c₀ + v(c₁ + v(…))), v = 1/(1 + y).
#[differentiate(hessian, wrt(y))]
fn price_at_yield(y: f64, cashflows: &[f64]) -> f64 {
    let v = 1.0 / (1.0 + y);
    cashflows.iter().rev().fold(0.0, |acc, &c| (acc + c) * v)
}

#[test]
fn bond_price_by_horner_from_the_back() {
    let cfs = [5.0, 5.0, 5.0, 5.0, 105.0];
    let y = 0.043;
    let (v, gy) = price_at_yield_grad(y, &cfs);
    // P = Σ cᵢ(1+y)^{−(i+1)}, P′ = −Σ(i+1)cᵢ(1+y)^{−(i+2)}, P″ = Σ(i+1)(i+2)cᵢ(1+y)^{−(i+3)}
    let p: f64 = (0..5)
        .map(|i| cfs[i] * (1.0 + y).powi(-(i as i32 + 1)))
        .sum();
    let d1: f64 = (0..5)
        .map(|i| -((i + 1) as f64) * cfs[i] * (1.0 + y).powi(-(i as i32 + 2)))
        .sum();
    let d2: f64 = (0..5)
        .map(|i| ((i + 1) * (i + 2)) as f64 * cfs[i] * (1.0 + y).powi(-(i as i32 + 3)))
        .sum();
    close("value", v, p, 1e-12);
    close("∂y", gy, d1, 1e-12);
    fd("price", |y| price_at_yield(y, &cfs), y, gy);
    let (_, _, h) = price_at_yield_hvp(y, &cfs, 1.0);
    close("∂²y", h, d2, 1e-12);
    let fw = forward("price").one(
        y,
        |y| price_at_yield(y, &cfs),
        |y, dy| price_at_yield_jvp(y, &cfs, dy),
        |y| price_at_yield_vjp(y, &cfs),
    );
    tangents_are("price", &fw, d1, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Tariffs and clusters: a `match` on a flag and the load together, a generic distance over a
// const generic called from f64 and f32.
// ---------------------------------------------------------------------------------------------

/// The cost of a day's load profile under a tariff with a peak surcharge above a cap: a `match`
/// on the hour's peak flag (tested) and its load (bound by name, tested in a guard).
#[differentiate(wrt(load))]
fn tariff_cost(load: &[f64], peak: &[bool], price: f64, cap: f64) -> f64 {
    load.iter()
        .zip(peak)
        .map(|(&l, &p)| match (p, l) {
            (true, kw) if kw > cap => price * cap + 3.0 * price * (kw - cap),
            (true, kw) => price * kw,
            (false, kw) => 0.6 * price * kw,
        })
        .sum()
}

#[test]
fn tariff_by_match_on_peak_flag_and_load() {
    let load = vec![1.2, 3.5, 2.8, 0.9, 4.1, 2.0];
    let peak = [false, true, true, false, true, true];
    let (price, cap) = (0.3, 2.5);
    let (v, g) = tariff_cost_grad(&load, &peak, price, cap);
    close("value", v, tariff_cost(&load, &peak, price, cap), TOL);
    // ∂lₕ = 0.6·price off peak, price on peak up to the cap, 3·price above it
    let e: Vec<f64> = load
        .iter()
        .zip(&peak)
        .map(|(&l, &p)| match (p, l > cap) {
            (false, _) => 0.6 * price,
            (true, false) => price,
            (true, true) => 3.0 * price,
        })
        .collect();
    close_all("∂l", &g, &e);
    fd_vec("tariff", |l| tariff_cost(l, &peak, price, cap), &load, &g);
}

#[differentiate]
fn distance<F: Float, const D: usize>(a: &[F; D], b: &[F; D]) -> F {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| (x - y) * (x - y))
        .fold(F::zero(), |s, t| s + t)
        .sqrt()
}

/// The Lennard-Jones energy of a cluster, 4ε((σ/r)¹² − (σ/r)⁶) over every pair: the pairs by
/// `enumerate` and `skip(i + 1)` inside a `flat_map`.
#[differentiate(wrt(pos))]
fn lj_energy(pos: &[[f64; 3]], eps: f64, sigma: f64) -> f64 {
    pos.iter()
        .enumerate()
        .flat_map(|(i, a)| pos.iter().skip(i + 1).map(move |b| distance(a, b)))
        .map(|r| {
            let s6 = (sigma / r).powi(6);
            4.0 * eps * (s6 * s6 - s6)
        })
        .sum()
}

#[differentiate(wrt(pos))]
fn lj_energy_f32(pos: &[[f32; 3]], eps: f32, sigma: f32) -> f32 {
    let mut e = 0.0;
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            let s6 = (sigma / distance(&pos[i], &pos[j])).powi(6);
            e += 4.0 * eps * (s6 * s6 - s6);
        }
    }
    e
}

#[test]
fn lennard_jones_cluster_with_generic_const_distance() {
    let pos = vec![
        [0.0, 0.0, 0.0],
        [1.12, 0.05, -0.1],
        [0.5, 1.0, 0.2],
        [0.4, 0.45, 0.95],
    ];
    let (eps, sigma) = (1.0, 1.0);
    let (v, g) = lj_energy_grad(&pos, eps, sigma);
    close("value", v, lj_energy(&pos, eps, sigma), TOL);
    // dE/dr = 4ε(−12σ¹²/r¹³ + 6σ⁶/r⁷); ∂pᵢ = Σⱼ dE/dr(rᵢⱼ)(pᵢ − pⱼ)/rᵢⱼ
    let n = pos.len();
    let mut e = vec![[0.0; 3]; n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let d: Vec<f64> = (0..3).map(|k| pos[i][k] - pos[j][k]).collect();
                let r = d.iter().map(|x| x * x).sum::<f64>().sqrt();
                let de = 4.0
                    * eps
                    * (-12.0 * sigma.powi(12) / r.powi(13) + 6.0 * sigma.powi(6) / r.powi(7));
                for k in 0..3 {
                    e[i][k] += de * d[k] / r;
                }
            }
        }
    }
    for i in 0..n {
        close_all(&format!("∂p{i}"), &g[i], &e[i]);
    }
    let r = gradcheck(|p: &Vec<[f64; 3]>| lj_energy(p, eps, sigma), &pos, &g);
    assert!(r.passed(), "lj: {r}");
    let p32: Vec<[f32; 3]> = pos
        .iter()
        .map(|p| [p[0] as f32, p[1] as f32, p[2] as f32])
        .collect();
    let (v32, g32) = lj_energy_f32_grad(&p32, 1.0, 1.0);
    close("f32 value", v32 as f64, v, 1e-4);
    for i in 0..n {
        for k in 0..3 {
            close(&format!("f32 ∂p{i}[{k}]"), g32[i][k] as f64, e[i][k], 1e-3);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Risk: the conditional value at risk, the worst scenarios by a sort and `take`.
// ---------------------------------------------------------------------------------------------

/// The mean of the `k` worst scenario losses of a portfolio: losses −rₛ·w collected, sorted
/// descending, the first `k` by `take`.
#[differentiate(wrt(w))]
fn cvar(w: &[f64], scenarios: &[Vec<f64>], k: usize) -> f64 {
    let mut losses: Vec<f64> = scenarios
        .iter()
        .map(|r| -r.iter().zip(w).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    losses.sort_by(|a, b| b.partial_cmp(a).unwrap());
    losses.iter().take(k).sum::<f64>() / k as f64
}

#[test]
fn conditional_value_at_risk_by_sort_and_take() {
    let scenarios: Vec<Vec<f64>> = (0..9)
        .map(|s| {
            vec![
                0.04 * (s as f64 * 1.1).sin(),
                0.03 * (s as f64 * 0.6 + 1.0).cos(),
                0.02 * (s as f64 * 2.3).sin(),
            ]
        })
        .collect();
    let w = vec![0.5, 0.3, 0.2];
    let k = 3;
    let (v, g) = cvar_grad(&w, &scenarios, k);
    close("value", v, cvar(&w, &scenarios, k), TOL);
    // ∂w = −(1/k) Σ_{the k worst s} rₛ
    let mut idx: Vec<usize> = (0..9).collect();
    let loss = |s: usize| -(0..3).map(|j| scenarios[s][j] * w[j]).sum::<f64>();
    idx.sort_by(|&a, &b| loss(b).partial_cmp(&loss(a)).unwrap());
    let e: Vec<f64> = (0..3)
        .map(|j| -idx[..k].iter().map(|&s| scenarios[s][j]).sum::<f64>() / k as f64)
        .collect();
    close_all("∂w", &g, &e);
    fd_vec("cvar", |w| cvar(w, &scenarios, k), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// Forms found along the way: a tuple matched with a literal beside a name, `sin_cos`, windows
// of three taken apart by `if let`, `chunks_exact`, `rev().enumerate()`.
// ---------------------------------------------------------------------------------------------

/// A step response that switches on a count: `match (x, n)` with `(v, 0)` binding the value
/// beside a literal test of the count.
#[differentiate(hessian, wrt(x))]
fn gated(x: f64, n: u32) -> f64 {
    match (x.tanh(), n) {
        (v, 0) => v,
        (v, 1) => v * v,
        (_, k) => x * k as f64,
    }
}

#[test]
fn tuple_match_with_a_literal_beside_a_name() {
    let x = 0.6;
    let t = x.tanh();
    let s = 1.0 - t * t;
    // n = 0: tanh x, ∂ = 1 − t², ∂² = −2t(1 − t²); n = 1: tanh² x, ∂ = 2t(1 − t²),
    // ∂² = 2(1 − t²)² − 4t²(1 − t²); n ≥ 2: n·x, ∂ = n, ∂² = 0
    let cases = [
        (0u32, t, s, -2.0 * t * s),
        (1, t * t, 2.0 * t * s, 2.0 * s * s - 4.0 * t * t * s),
        (3, 3.0 * x, 3.0, 0.0),
    ];
    for (n, ev, eg, eh) in cases {
        let (v, g) = gated_grad(x, n);
        close(&format!("n = {n}"), v, ev, 1e-14);
        close(&format!("n = {n}"), v, gated(x, n), TOL);
        close(&format!("∂x, n = {n}"), g, eg, 1e-12);
        fd(&format!("gated {n}"), |x| gated(x, n), x, g);
        let (_, _, h) = gated_hvp(x, n, 1.0);
        close(&format!("∂²x, n = {n}"), h, eh, 1e-12);
    }
}

/// A tuple matched with `&name` beside a name (`match (&x[0], s) { (&a, b) if a > b => .. }`,
/// and of a variable holding an element reference): `&a` binds the element's value in the arm
/// and its guard, as `a` does. It was the error that the pattern binds part of a
/// differentiated value. f = x₀·s (x₀ > s) or x₀, plus x₁·q² (x₁ < q) or sin q, q = x₂·s.
#[differentiate(hessian)]
fn matched_through_references(x: &[f64], s: f64) -> f64 {
    let r = &x[1];
    let y = match (&x[0], s) {
        (&a, b) if a > b => a * b,
        (&a, _) => a,
    };
    let z = match (r, x[2] * s) {
        (&p, q) if p < q => p * q * q,
        (_, q) => q.sin(),
    };
    y + z
}

#[test]
fn tuple_match_of_element_references() {
    // x₀ > s and x₁ < q: f = x₀s + x₁(x₂s)².
    let (x, s) = ([0.9, 0.2, 1.5], 0.5);
    let q = x[2] * s;
    let (v, (g, gs)) = matched_through_references_grad(&x, s);
    close("value", v, matched_through_references(&x, s), TOL);
    close("value, analytic", v, x[0] * s + x[1] * q * q, 1e-12);
    close_all("∂x", &g, &[s, q * q, 2.0 * x[1] * q * s]);
    close("∂s", gs, x[0] + 2.0 * x[1] * q * x[2], 1e-12);
    fd_vec("matched", |p| matched_through_references(p, s), &x, &g);
    // ∂²/∂s² = 2x₁x₂², ∂²/∂x₀∂s = 1, ∂²/∂x₁∂s = 2q·x₂, ∂²/∂x₂∂s = 4x₁q.
    let (_, _, (hx, hs)) = matched_through_references_hvp(&x, s, &vec![0.0; 3], 1.0);
    close_all("H·e_s, x", &hx, &[1.0, 2.0 * q * x[2], 4.0 * x[1] * q]);
    close("H·e_s, s", hs, 2.0 * x[1] * x[2] * x[2], 1e-12);
    // The other arms: x₀ ≤ s and x₁ ≥ q: f = x₀ + sin(x₂s).
    let (x, s) = ([0.1, 2.0, 1.5], 0.5);
    let q = x[2] * s;
    let (v, (g, gs)) = matched_through_references_grad(&x, s);
    close("value, other arms", v, x[0] + q.sin(), 1e-12);
    close_all("∂x, other arms", &g, &[1.0, 0.0, s * q.cos()]);
    close("∂s, other arms", gs, x[2] * q.cos(), 1e-12);
    let (y, dy) = matched_through_references_jvp(&x, s, &vec![1.0, 1.0, 1.0], 1.0);
    close("jvp value", y, v, TOL);
    close("tangent", dy, g.iter().sum::<f64>() + gs, 1e-12);
}

/// A planar arm's hand by `sin_cos` of each absolute angle, the angles by `scan`.
#[differentiate(wrt(q))]
fn hand_height(q: &[f64], links: &[f64]) -> f64 {
    q.iter()
        .scan(0.0, |th, &dq| {
            *th += dq;
            Some(*th)
        })
        .zip(links)
        .map(|(th, &l)| {
            let (s, c) = th.sin_cos();
            l * (s + 0.1 * c)
        })
        .sum()
}

#[test]
fn hand_height_by_sin_cos() {
    let q = vec![0.3, 0.5, -0.4];
    let links = [1.0, 0.6, 0.4];
    let (v, g) = hand_height_grad(&q, &links);
    close("value", v, hand_height(&q, &links), TOL);
    // θₖ = Σ_{j≤k} qⱼ; ∂qⱼ = Σ_{k≥j} lₖ(cos θₖ − 0.1 sin θₖ)
    let th: Vec<f64> = (0..3).map(|k| q[..=k].iter().sum()).collect();
    let e: Vec<f64> = (0..3)
        .map(|j| {
            (j..3)
                .map(|k| links[k] * (th[k].cos() - 0.1 * th[k].sin()))
                .sum()
        })
        .collect();
    close_all("∂q", &g, &e);
    fd_vec("sin_cos", |q| hand_height(q, &links), &q, &g);
}

/// The bending energy of a discretised beam (a smoothing penalty): second differences over
/// windows of three, each taken apart by `if let &[a, b, c] = w`.
#[differentiate(hessian)]
fn bending_energy(y: &[f64]) -> f64 {
    let mut e = 0.0;
    for w in y.windows(3) {
        if let &[a, b, c] = w {
            e += (a - 2.0 * b + c).powi(2);
        }
    }
    e
}

#[test]
fn bending_energy_over_windows_of_three() {
    let y = vec![0.0, 0.4, 0.7, 0.6, 0.9, 1.5];
    let (v, g) = bending_energy_grad(&y);
    close("value", v, bending_energy(&y), TOL);
    // with dᵢ = yᵢ − 2yᵢ₊₁ + yᵢ₊₂: ∂y = 2Dᵀd, H = 2DᵀD (D the second-difference matrix)
    let n = y.len();
    let dir = vec![0.2, -0.1, 0.5, 0.3, -0.4, 0.1];
    let (mut e, mut eh) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n - 2 {
        let d = y[i] - 2.0 * y[i + 1] + y[i + 2];
        let dv = dir[i] - 2.0 * dir[i + 1] + dir[i + 2];
        for (k, c) in [(i, 1.0), (i + 1, -2.0), (i + 2, 1.0)] {
            e[k] += 2.0 * d * c;
            eh[k] += 2.0 * dv * c;
        }
    }
    close_all("∂y", &g, &e);
    fd_vec("bending", |y| bending_energy(y), &y, &g);
    let (_, _, hv) = bending_energy_hvp(&y, &dir);
    close_all("H·v", &hv, &eh);
}

/// The kinetic energy of particles stored flat as (mass, vx, vy) triples read by
/// `chunks_exact(3)`.
#[differentiate]
fn kinetic_energy(state: &[f64]) -> f64 {
    state
        .chunks_exact(3)
        .map(|p| 0.5 * p[0] * (p[1] * p[1] + p[2] * p[2]))
        .sum()
}

#[test]
fn kinetic_energy_over_chunks_exact() {
    let state = vec![1.0, 0.5, -0.2, 2.0, 0.1, 0.3, 0.5, -1.0, 0.8];
    let (v, g) = kinetic_energy_grad(&state);
    close("value", v, kinetic_energy(&state), TOL);
    // ∂m = ½|v|², ∂vₓ = m vₓ, ∂v_y = m v_y
    let e: Vec<f64> = state
        .chunks(3)
        .flat_map(|p| [0.5 * (p[1] * p[1] + p[2] * p[2]), p[0] * p[1], p[0] * p[2]])
        .collect();
    close_all("∂state", &g, &e);
    fd_vec("kinetic", |s| kinetic_energy(s), &state, &g);
}

/// A present value with the most recent cash flow first: `rev().enumerate()` gives each its
/// number of periods to discount.
#[differentiate(hessian, wrt(rate))]
fn pv_most_recent_first(rate: f64, flows: &[f64]) -> f64 {
    flows
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &c)| c / (1.0 + rate).powi(k as i32 + 1))
        .sum()
}

#[test]
fn present_value_by_rev_enumerate() {
    let flows = [40.0, 25.0, 30.0, 10.0];
    let r = 0.05;
    let (v, g) = pv_most_recent_first_grad(r, &flows);
    // the flow at index i waits k = n − i periods after the reversal's numbering (k + 1):
    // PV = Σ c (1+r)^{−(k+1)}, ∂r = −Σ (k+1) c (1+r)^{−(k+2)}, ∂²r = Σ (k+1)(k+2) c (1+r)^{−(k+3)}
    let n = flows.len();
    let (mut ev, mut eg, mut eh) = (0.0, 0.0, 0.0);
    for (i, &c) in flows.iter().enumerate() {
        let k = (n - 1 - i) as i32;
        ev += c * (1.0 + r).powi(-(k + 1));
        eg -= (k + 1) as f64 * c * (1.0 + r).powi(-(k + 2));
        eh += ((k + 1) * (k + 2)) as f64 * c * (1.0 + r).powi(-(k + 3));
    }
    close("value", v, ev, 1e-12);
    close("∂r", g, eg, 1e-12);
    fd("pv", |r| pv_most_recent_first(r, &flows), r, g);
    let (_, _, h) = pv_most_recent_first_hvp(r, &flows, 1.0);
    close("∂²r", h, eh, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Orbits, Newton iterations and three-way matches.
// ---------------------------------------------------------------------------------------------

/// Kepler's equation E − e sin E = M solved by Newton's method in a `loop` that stops at a
/// tolerance: the derivative is followed through the iterations.
#[differentiate(wrt(mean_anomaly, ecc))]
fn eccentric_anomaly(mean_anomaly: f64, ecc: f64) -> f64 {
    let mut e_anom = if ecc < 0.8 {
        mean_anomaly
    } else {
        std::f64::consts::PI
    };
    let mut iter = 0;
    loop {
        let f = e_anom - ecc * e_anom.sin() - mean_anomaly;
        let step = f / (1.0 - ecc * e_anom.cos());
        e_anom -= step;
        iter += 1;
        if step.abs() < 1e-15 || iter == 50 {
            break;
        }
    }
    e_anom
}

#[test]
fn kepler_equation_by_newton_iterations() {
    let (m, e) = (1.1, 0.3);
    let (ea, (gm, ge)) = eccentric_anomaly_grad(m, e);
    close("value", ea, eccentric_anomaly(m, e), TOL);
    close("Kepler", ea - e * ea.sin(), m, 1e-14);
    // implicit function theorem: ∂E/∂M = 1/(1 − e cos E), ∂E/∂e = sin E/(1 − e cos E)
    let d = 1.0 - e * ea.cos();
    close2("kepler", (gm, ge), (1.0 / d, ea.sin() / d));
    fd2("kepler", |a, b| eccentric_anomaly(a, b), (m, e), (gm, ge));
}

/// A line search's three-way choice, `match` on a triple with guards: the sufficient-decrease
/// test on the trial value, the curvature test on the slope, and the step bound by name.
#[differentiate(wrt(f0, g0, ft, gt))]
fn wolfe_score(f0: f64, g0: f64, ft: f64, gt: f64, step: f64) -> f64 {
    let c1 = 1e-4;
    match (ft, gt, step) {
        (f, _, a) if f > f0 + c1 * a * g0 => (f - f0).powi(2),
        (_, g, _) if g < 0.9 * g0 => (g - 0.9 * g0).powi(2),
        (f, g, a) => f * a + g,
    }
}

#[test]
fn wolfe_conditions_by_match_on_a_triple() {
    let step = 0.5;
    // (f0, g0, ft, gt) for each arm: too little decrease, too steep still, accepted
    let cases = [
        (1.0, -2.0, 1.2, -0.5),
        (1.0, -2.0, 0.5, -1.9),
        (1.0, -2.0, 0.4, -0.3),
    ];
    for (k, &(f0, g0, ft, gt)) in cases.iter().enumerate() {
        let (v, g) = wolfe_score_grad(f0, g0, ft, gt, step);
        close(
            &format!("case {k}"),
            v,
            wolfe_score(f0, g0, ft, gt, step),
            TOL,
        );
        // arm 0: (f − f0)², ∂f0 = −2(f − f0), ∂ft = 2(f − f0); arm 1: (g − 0.9g0)², ∂g0 =
        // −1.8(g − 0.9g0), ∂gt = 2(g − 0.9g0); arm 2: f·a + g, ∂ft = a, ∂gt = 1
        let e = match k {
            0 => (-2.0 * (ft - f0), 0.0, 2.0 * (ft - f0), 0.0),
            1 => (0.0, -1.8 * (gt - 0.9 * g0), 0.0, 2.0 * (gt - 0.9 * g0)),
            _ => (0.0, 0.0, step, 1.0),
        };
        close(&format!("case {k} ∂f0"), g.0, e.0, 1e-12);
        close(&format!("case {k} ∂g0"), g.1, e.1, 1e-12);
        close(&format!("case {k} ∂ft"), g.2, e.2, 1e-12);
        close(&format!("case {k} ∂gt"), g.3, e.3, 1e-12);
        let r = gradcheck(
            |p: &(f64, f64, f64, f64)| wolfe_score(p.0, p.1, p.2, p.3, step),
            &(f0, g0, ft, gt),
            &g,
        );
        assert!(r.passed(), "case {k}: {r}");
    }
}

#[derive(Clone, Copy)]
enum Norm {
    L1,
    L2,
    Max,
}

/// A regularised fit whose penalty is chosen by an enum in a `match` used as an operand, the
/// max norm by `reduce(f64::max)`.
#[differentiate(wrt(w))]
fn penalised_fit(w: &[f64], x: &[Vec<f64>], y: &[f64], lam: f64, norm: Norm) -> f64 {
    let fit: f64 = x
        .iter()
        .zip(y)
        .map(|(row, &t)| (row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() - t).powi(2))
        .sum();
    fit + lam
        * match norm {
            Norm::L1 => w.iter().map(|v| v.abs()).sum::<f64>(),
            Norm::L2 => w.iter().map(|v| v * v).sum::<f64>(),
            Norm::Max => w.iter().map(|v| v.abs()).reduce(f64::max).unwrap(),
        }
}

#[test]
fn penalty_chosen_by_a_match_used_as_an_operand() {
    let x = vec![
        vec![1.0, 0.5, -0.2],
        vec![0.3, -1.0, 0.8],
        vec![-0.6, 0.2, 1.1],
        vec![0.9, 0.4, 0.0],
    ];
    let y = [0.7, -0.4, 0.9, 0.5];
    let w = vec![0.4, -0.3, 0.6];
    let lam = 0.2;
    for (name, norm) in [("L1", Norm::L1), ("L2", Norm::L2), ("max", Norm::Max)] {
        let (v, g) = penalised_fit_grad(&w, &x, &y, lam, norm);
        close(name, v, penalised_fit(&w, &x, &y, lam, norm), TOL);
        // ∂w = 2Σ rᵢxᵢ + λ·(sign w | 2w | sign of the largest |wⱼ| at j only)
        let big = (0..3)
            .max_by(|&a, &b| w[a].abs().partial_cmp(&w[b].abs()).unwrap())
            .unwrap();
        let e: Vec<f64> = (0..3)
            .map(|j| {
                let fit: f64 = x
                    .iter()
                    .zip(&y)
                    .map(|(row, t)| 2.0 * ((0..3).map(|k| row[k] * w[k]).sum::<f64>() - t) * row[j])
                    .sum();
                let pen = match norm {
                    Norm::L1 => w[j].signum(),
                    Norm::L2 => 2.0 * w[j],
                    Norm::Max => {
                        if j == big {
                            w[j].signum()
                        } else {
                            0.0
                        }
                    }
                };
                fit + lam * pen
            })
            .collect();
        close_all(name, &g, &e);
        fd_vec(name, |w| penalised_fit(w, &x, &y, lam, norm), &w, &g);
    }
}

/// Pairs of coordinates from a flat slice by `chunks(2)`, each taken apart by `let .. else`
/// with `unreachable!()`: the perimeter of an open path.
#[differentiate]
fn path_length(flat: &[f64]) -> f64 {
    let pts: Vec<[f64; 2]> = flat
        .chunks(2)
        .map(|c| {
            let &[x, y] = c else { unreachable!() };
            [x, y]
        })
        .collect();
    pts.windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .sum()
}

#[test]
fn path_length_of_pairs_by_let_else_in_a_closure() {
    let flat = vec![0.0, 0.0, 1.0, 0.5, 1.5, 1.7, 3.0, 2.0];
    let (v, g) = path_length_grad(&flat);
    close("value", v, path_length(&flat), TOL);
    // ∂pᵢ = (pᵢ − pᵢ₋₁)/|pᵢ − pᵢ₋₁| − (pᵢ₊₁ − pᵢ)/|pᵢ₊₁ − pᵢ|
    let n = flat.len() / 2;
    let p = |i: usize| [flat[2 * i], flat[2 * i + 1]];
    let mut e = vec![0.0; flat.len()];
    for i in 0..n - 1 {
        let (a, b) = (p(i), p(i + 1));
        let l = (b[0] - a[0]).hypot(b[1] - a[1]);
        for k in 0..2 {
            e[2 * i + k] -= (b[k] - a[k]) / l;
            e[2 * (i + 1) + k] += (b[k] - a[k]) / l;
        }
    }
    close_all("∂p", &g, &e);
    fd_vec("path", |f| path_length(f), &flat, &g);
}
