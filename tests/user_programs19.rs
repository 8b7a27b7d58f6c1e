//! Programs of probabilistic inference, state estimation and reinforcement learning, each
//! checked against its analytic derivative (stated beside it) and central finite differences
//! through `autodiff::check`.
//!
//! A payload of an `Option` (or an enum) of data matched through a reference — `if let Some(y)
//! = obs` of `for obs in ys` over `&[Option<f64>]` (missing observations), `match m` of `m:
//! &Option<f64>`, `if let Some(y) = &ys[i]`, `Mode::Damp(c)` of `for md in modes` — is an
//! `&f64` in Rust. The first was rejected at `*y` ("dereferencing is supported for ..; pass
//! the value itself", which does not compile in the plain function), its guard `Some(y) if *y
//! > 1.0` was rustc's "type `f64` cannot be dereferenced" inside the generated code (the loop's
//! item is a value there), and the others were rustc's "`f64` and `&f64` cannot be combined"
//! at `a * y`. The match is now made through the reference as in Rust, and the arm reads the
//! payload as its value, `*y` too.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Missing observations in a Kalman filter: `&[Option<f64>]` matched through the loop's item.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Filter {
    m: f64,
    p: f64,
}

#[differentiate]
impl Filter {
    fn predict(&mut self, a: f64, q: f64) {
        self.m = a * self.m;
        self.p = a * a * self.p + q;
    }

    fn update(&mut self, y: f64, r: f64) {
        let s = self.p + r;
        let k = self.p / s;
        self.m += k * (y - self.m);
        self.p *= 1.0 - k;
    }
}

/// Log-likelihood of an AR(1) state observed with noise, with gaps: the innovation `v = y − m`
/// and its variance `s = p + r` of each observed step give `−½(ln s + v²/s)`.
#[differentiate(wrt(a, log_q, log_r))]
fn ssm_ll(a: f64, log_q: f64, log_r: f64, ys: &[Option<f64>]) -> f64 {
    let q = log_q.exp();
    let r = log_r.exp();
    let mut f = Filter { m: 0.0, p: 1.0 };
    let mut ll = 0.0;
    for obs in ys {
        f.predict(a, q);
        if let Some(y) = obs {
            let s = f.p + r;
            let v = y - f.m;
            ll -= 0.5 * (s.ln() + v * v / s);
            f.update(*y, r);
        }
    }
    ll
}

/// One observed step from `m = 0`, `p = 1`: `s = a² + q + r`, `v = y`, so
/// `∂ll/∂a = −a/s + a·y²/s²`, `∂ll/∂ln q = q·(−1/s + y²/s²)/2` and the same with `r`.
#[test]
fn kalman_filter_with_missing_observations() {
    let ys = [Some(0.3), None, Some(0.2), Some(0.9), None, None, Some(1.1)];
    let p = (0.8, -1.0, -0.5);
    let (v, g) = ssm_ll_grad(p.0, p.1, p.2, &ys);
    close("value", v, ssm_ll(p.0, p.1, p.2, &ys), TOL);
    fd3("ssm_ll", |a, b, c| ssm_ll(a, b, c, &ys), p, g);

    let (a, q, r, y) = (0.8f64, (-1.0f64).exp(), (-0.5f64).exp(), 0.7);
    let s = a * a + q + r;
    let (_, g) = ssm_ll_grad(a, -1.0, -0.5, &[Some(y)]);
    close("∂a", g.0, -a / s + a * y * y / (s * s), TOL);
    close("∂ln q", g.1, q * (-1.0 / s + y * y / (s * s)) / 2.0, TOL);
    close("∂ln r", g.2, r * (-1.0 / s + y * y / (s * s)) / 2.0, TOL);
    // A gap only predicts: the same as the step alone.
    let (_, g2) = ssm_ll_grad(a, -1.0, -0.5, &[None, Some(y)]);
    let s2 = a * a * (a * a + q) + q + r;
    close(
        "∂ln r after a gap",
        g2.2,
        r * (-1.0 / s2 + y * y / (s2 * s2)) / 2.0,
        TOL,
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The other ways a payload is bound through a reference.
// ---------------------------------------------------------------------------------------------

fn shifted(y: f64) -> f64 {
    y + 1.0
}

#[derive(Clone, Copy)]
enum Mode {
    Keep,
    Damp(f64),
}

/// `f = Σᵢ i·a·(yᵢ + 1) [yᵢ present] − a·#missing + Σ a·yᵢ [yᵢ > 1, under a guard]
///      + Σ a·yᵢ [through &ys[i]] + a·c [modes] + a²·z [m],`
/// so `∂f/∂a` is each term over `a` (and `2a·z` for the last).
#[differentiate(wrt(a))]
fn payloads(a: f64, ys: &[Option<f64>], modes: &[Mode], m: &Option<f64>) -> f64 {
    let mut s = 0.0;
    for (i, obs) in ys.iter().enumerate() {
        match obs {
            Some(y) => s += a * shifted(*y) * i as f64,
            None => s -= a,
        }
    }
    for obs in ys.iter() {
        match obs {
            Some(y) if *y > 1.0 => s += a * y,
            _ => {}
        }
    }
    for i in 0..ys.len() {
        if let Some(y) = &ys[i] {
            s += (*y) * a;
        }
    }
    for md in modes {
        if let Mode::Damp(c) = md {
            s += a * *c;
        }
    }
    if let Some(z) = m {
        s += a * a * z;
    }
    s
}

#[test]
fn payloads_bound_through_references() {
    let ys = [Some(2.0), None, Some(0.5), Some(1.5)];
    let modes = [Mode::Keep, Mode::Damp(0.25)];
    let a = 1.5;
    let (v, g) = payloads_grad(a, &ys, &modes, &Some(3.0));
    close("value", v, payloads(a, &ys, &modes, &Some(3.0)), TOL);
    // Σ i·(yᵢ + 1) = 0·3 + 2·1.5 + 3·2.5 = 10.5; one missing; guarded 2 + 1.5; all 4; c 0.25
    let want = 10.5 - 1.0 + 3.5 + 4.0 + 0.25 + 2.0 * a * 3.0;
    close("∂a", g, want, TOL);
    fd("payloads", |a| payloads(a, &ys, &modes, &Some(3.0)), a, g);
    let (_, g) = payloads_grad(a, &ys, &modes, &None);
    close("∂a without m", g, want - 2.0 * a * 3.0, TOL);
    let (_, t) = payloads_jvp(a, &ys, &modes, &Some(3.0), 2.0);
    close("tangent", t, 2.0 * want, TOL);
}

// ---------------------------------------------------------------------------------------------
// 3. `let .. else` and a `match` that leaves, on such payloads.
// ---------------------------------------------------------------------------------------------

/// `f = Σ a·yᵢ [yᵢ > 0.1] + Σ a²·yᵢ [yᵢ > 0.1] + a·c` (`Mode::Keep` returns before the last
/// term), so `∂f/∂a = Σ yᵢ (1 + 2a) [yᵢ > 0.1] + c`.
#[differentiate(wrt(a))]
fn leaving_payloads(a: f64, ys: &[Option<f64>], m: &Mode) -> f64 {
    let mut s = 0.0;
    for obs in ys {
        let y = match obs {
            Some(y) if *y > 0.1 => *y,
            _ => continue,
        };
        s += a * y;
        let Some(z) = obs else { continue };
        s += a * a * *z;
    }
    let c = match m {
        Mode::Damp(c) => c * a,
        Mode::Keep => return s,
    };
    s + c
}

#[test]
fn let_else_and_leaving_match_through_references() {
    let ys = [Some(2.0), None, Some(0.05), Some(0.5)];
    let a = 1.5;
    for (m, c) in [(Mode::Damp(3.0), 3.0), (Mode::Keep, 0.0)] {
        let (v, g) = leaving_payloads_grad(a, &ys, &m);
        close("value", v, leaving_payloads(a, &ys, &m), TOL);
        close("∂a", g, 2.5 * (1.0 + 2.0 * a) + c, TOL);
        fd("leaving_payloads", |a| leaving_payloads(a, &ys, &m), a, g);
    }
}

/// Squared errors of the observed points of a line through the origin, the observation a
/// payload of a zipped item: `∂/∂a Σ (a·xᵢ − yᵢ)² = Σ 2xᵢ(a·xᵢ − yᵢ)`.
#[differentiate(wrt(a))]
fn observed_sse(a: f64, xs: &[f64], ys: &[Option<f64>]) -> f64 {
    let mut s = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        if let Some(y) = y {
            s += (a * x - *y).powi(2);
        }
    }
    s
}

#[test]
fn payload_of_a_zipped_item() {
    let xs = [1.0, 2.0, 3.0];
    let ys = [Some(0.5), None, Some(2.0)];
    let a = 0.7;
    let (_, g) = observed_sse_grad(a, &xs, &ys);
    close("∂a", g, 2.0 * (a - 0.5) + 6.0 * (3.0 * a - 2.0), TOL);
    fd("observed_sse", |a| observed_sse(a, &xs, &ys), a, g);
}

// ---------------------------------------------------------------------------------------------
// 4. A struct pattern of a reference to an element: `let Obs { arm, reward } = &obs[i];`.
// ---------------------------------------------------------------------------------------------

/// The arms of a Gaussian bandit, each a mean and a log standard deviation.
#[derive(Clone, Differentiable)]
struct Arm {
    mu: f64,
    log_sd: f64,
}

/// A pulled arm and the reward it paid.
struct Pull {
    arm: usize,
    reward: f64,
}

/// `ll = Σ −½zᵢ² − ln σ_{kᵢ}`, `zᵢ = (rᵢ − μ_{kᵢ})/σ_{kᵢ}`, so `∂ll/∂μₖ = Σ_{kᵢ = k} zᵢ/σₖ` and
/// `∂ll/∂ln σₖ = Σ_{kᵢ = k} (zᵢ² − 1)`. The names of `let Pull { arm, reward } = &pulls[i];`
/// are references, as in Rust; they were copies, and `*arm` was rejected.
#[differentiate(wrt(arms))]
fn bandit_ll(arms: &[Arm], pulls: &[Pull]) -> f64 {
    let mut t = 0.0;
    for i in 0..pulls.len() {
        let Pull { arm, reward } = &pulls[i];
        let Arm { mu, log_sd } = &arms[*arm];
        let z = (*reward - *mu) / log_sd.exp();
        t += -0.5 * z * z - *log_sd;
    }
    t
}

/// Two arms and three pulls, two of the first arm.
fn bandit() -> (Vec<Arm>, Vec<Pull>) {
    let arms = vec![
        Arm {
            mu: 0.1,
            log_sd: -0.2,
        },
        Arm {
            mu: 1.0,
            log_sd: 0.3,
        },
    ];
    let pulls = vec![
        Pull {
            arm: 0,
            reward: 0.5,
        },
        Pull {
            arm: 1,
            reward: 2.0,
        },
        Pull {
            arm: 0,
            reward: -0.7,
        },
    ];
    (arms, pulls)
}

#[test]
fn struct_pattern_of_a_reference_to_an_element() {
    let (arms, pulls) = bandit();
    let (v, g) = bandit_ll_grad(&arms, &pulls);
    close("value", v, bandit_ll(&arms, &pulls), TOL);
    for (k, a) in arms.iter().enumerate() {
        let sd = a.log_sd.exp();
        let (mut dmu, mut dls) = (0.0, 0.0);
        for p in pulls.iter().filter(|p| p.arm == k) {
            let z = (p.reward - a.mu) / sd;
            dmu += z / sd;
            dls += z * z - 1.0;
        }
        close("∂μ", g[k].mu, dmu, TOL);
        close("∂ln σ", g[k].log_sd, dls, TOL);
    }
    let flat = |a: &[Arm]| vec![a[0].mu, a[0].log_sd, a[1].mu, a[1].log_sd];
    fd_vec(
        "bandit_ll",
        |x| {
            let a = [
                Arm {
                    mu: x[0],
                    log_sd: x[1],
                },
                Arm {
                    mu: x[2],
                    log_sd: x[3],
                },
            ];
            bandit_ll(&a, &pulls)
        },
        &flat(&arms),
        &flat(&g),
    );
}

/// As [`bandit_ll`], the pulls and the arms taken apart through the items of loops over
/// slices (`for p in pulls`, `arms.iter()`), whose names are references in Rust too.
#[differentiate(wrt(arms))]
fn bandit_ll_items(arms: &[Arm], pulls: &[Pull]) -> f64 {
    let mut t = 0.0;
    for p in pulls {
        let Pull { arm, reward } = p;
        for (k, a) in arms.iter().enumerate() {
            if k == *arm {
                let Arm { mu, log_sd } = a;
                let z = (*reward - *mu) / log_sd.exp();
                t += -0.5 * z * z - *log_sd;
            }
        }
    }
    t
}

#[test]
fn struct_pattern_of_a_loop_item() {
    let (arms, pulls) = bandit();
    let (v, g) = bandit_ll_items_grad(&arms, &pulls);
    let (w, h) = bandit_ll_grad(&arms, &pulls);
    close("value", v, w, TOL);
    for k in 0..2 {
        close("∂μ", g[k].mu, h[k].mu, TOL);
        close("∂ln σ", g[k].log_sd, h[k].log_sd, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. `as_ref()` of an `Option` of data.
// ---------------------------------------------------------------------------------------------

/// `f = Σ a·yᵢ` over the present observations, read through `o.as_ref()`: `∂f/∂a = Σ yᵢ`.
/// `as_ref()` was taken for a `Vec`'s (`&o[..]`), rustc's "cannot index into a value of type
/// `&Option<f64>`" inside the generated code; on data it now runs as written.
#[differentiate(wrt(a))]
fn observed_sum(a: f64, ys: &[Option<f64>]) -> f64 {
    let mut s = 0.0;
    for o in ys {
        if let Some(&y) = o.as_ref() {
            s += a * y;
        }
    }
    s
}

#[test]
fn as_ref_of_an_option_of_data() {
    let ys = [Some(0.5), None, Some(2.0)];
    let (v, g) = observed_sum_grad(0.7, &ys);
    close("value", v, observed_sum(0.7, &ys), TOL);
    close("∂a", g, 2.5, TOL);
    fd("observed_sum", |a| observed_sum(a, &ys), 0.7, g);
}

// ---------------------------------------------------------------------------------------------
// 6. A struct pattern in a `for` loop's header.
// ---------------------------------------------------------------------------------------------

/// `bandit_ll` with its struct patterns in the loops' headers, plus a prior `−½Σ(μ² + ln²σ)`
/// read through `for Arm { mu, log_sd } in arms` and the first pull's reward times its arm's
/// mean, through `for (i, &Pull { arm, reward }) in pulls.iter().enumerate()`. The header's
/// pattern was "this pattern is not supported here".
#[differentiate(wrt(arms))]
fn bandit_ll_headers(arms: &[Arm], pulls: &[Pull]) -> f64 {
    let mut t = 0.0;
    for Pull { arm, reward } in pulls {
        let Arm { mu, log_sd } = &arms[*arm];
        let z = (*reward - *mu) / log_sd.exp();
        t += -0.5 * z * z - *log_sd;
    }
    for Arm { mu, log_sd } in arms {
        t -= 0.5 * (mu * mu + log_sd * log_sd);
    }
    for (i, &Pull { arm, reward }) in pulls.iter().enumerate() {
        if i == 0 {
            t += reward * arms[arm].mu;
        }
    }
    t
}

#[test]
fn struct_patterns_in_loop_headers() {
    // The gradient is `bandit_ll`'s, less (μ_k, ln σ_k) for the prior, plus the first reward at
    // its arm's μ.
    let (arms, pulls) = bandit();
    let (v, g) = bandit_ll_headers_grad(&arms, &pulls);
    close("value", v, bandit_ll_headers(&arms, &pulls), TOL);
    let (_, h) = bandit_ll_grad(&arms, &pulls);
    for k in 0..2 {
        let first = if pulls[0].arm == k {
            pulls[0].reward
        } else {
            0.0
        };
        close("∂μ", g[k].mu, h[k].mu - arms[k].mu + first, TOL);
        close("∂ln σ", g[k].log_sd, h[k].log_sd - arms[k].log_sd, TOL);
    }
}
