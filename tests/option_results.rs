//! The `Option` of an iterator chain's `reduce`, `max_by`, `min_by` (and their kin) taken apart
//! by `if let Some(m) = ..` or `match`, given a default by `unwrap_or`, and tested by
//! `.is_some()`: the value where the chain
//! finds one is differentiated, the other arm is the empty case. Each gradient is compared with
//! its analytic value and with central finite differences.

use autodiff::differentiate;

mod common;
use common::{close_all, fd_vec};

/// `max² + max + 2·min` where `x` has elements, else `1`:
/// `∂/∂x_argmax = 2·max + 1`, `∂/∂x_argmin = 2`. Written with `if let` and `match` on
/// purpose (not `unwrap_or`, tested below).
#[allow(clippy::manual_unwrap_or)]
#[differentiate]
fn extremes(x: &[f64]) -> f64 {
    let a = if let Some(m) = x.iter().cloned().reduce(f64::max) {
        m * m
    } else {
        0.0
    };
    let b = match x.iter().max_by(|p, q| p.partial_cmp(q).unwrap()) {
        Some(&v) => v,
        None => 1.0,
    };
    let c = if let Some(v) = x.iter().map(|v| v * 2.0).min_by(|p, q| p.total_cmp(q)) {
        v
    } else {
        0.0
    };
    a + b + c
}

#[test]
fn if_let_and_match_on_a_chain_that_may_find_nothing() {
    let x = [0.4, 1.7, -0.3, 0.9];
    let (y, g) = extremes_grad(&x);
    close_all("value", &[y], &[1.7 * 1.7 + 1.7 - 0.6]);
    close_all("gradient", &g, &[0.0, 2.0 * 1.7 + 1.0, 2.0, 0.0]);
    fd_vec("extremes", extremes, &x, &g);
    let (y, g) = extremes_grad(&[]);
    close_all("empty", &[y], &[1.0]);
    assert!(g.is_empty());
}

/// A log-sum-exp that is 0 for no input: `m + ln Σ exp(xᵢ − m)`, `∂/∂xᵢ = softmax(x)ᵢ`.
#[differentiate]
fn lse_or_zero(x: &[f64]) -> f64 {
    if x.iter().cloned().reduce(f64::max).is_none() {
        return 0.0;
    }
    let m = x.iter().cloned().reduce(f64::max).unwrap();
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn an_option_only_tested_is_data() {
    let x = [0.2, -1.0, 0.7];
    let (y, g) = lse_or_zero_grad(&x);
    let z: f64 = x.iter().map(|v| v.exp()).sum();
    close_all("value", &[y], &[z.ln()]);
    let soft: Vec<f64> = x.iter().map(|v| v.exp() / z).collect();
    close_all("gradient", &g, &soft);
    fd_vec("lse_or_zero", lse_or_zero, &x, &g);
    close_all("empty", &[lse_or_zero_grad(&[]).0], &[0.0]);
}

/// `max_by(..).unwrap_or(d)`: `maxᵢ xᵢ·w`, or `w` for no input. `∂/∂x_argmax = w`,
/// `∂/∂w = max` (or 1).
#[differentiate]
fn best_or(x: &[f64], w: f64) -> f64 {
    x.iter()
        .map(|v| v * w)
        .max_by(|a, b| a.total_cmp(b))
        .unwrap_or(w)
}

#[test]
fn unwrap_or_gives_the_default_where_the_chain_finds_nothing() {
    let x = [0.5, -0.2, 1.1];
    let (y, (gx, gw)) = best_or_grad(&x, 2.0);
    close_all("value", &[y], &[2.2]);
    close_all(
        "gradient",
        &[gx.as_slice(), &[gw]].concat(),
        &[0.0, 0.0, 2.0, 1.1],
    );
    let f = |p: &[f64]| best_or(&p[..3], p[3]);
    fd_vec(
        "best_or",
        f,
        &[0.5, -0.2, 1.1, 2.0],
        &[gx.as_slice(), &[gw]].concat(),
    );
    let (y, (gx, gw)) = best_or_grad(&[], 2.0);
    close_all("empty", &[y, gw], &[2.0, 1.0]);
    assert!(gx.is_empty());
}

/// An element's `Option` mapped before its default, as users write it: `first().map(..)
/// .unwrap_or(d)`, `last().copied().map(..)`, `get(i).map_or(d, |&v| ..)`, a `get` past the
/// end that takes its default, and `unwrap_or_default()`.
/// f = 2x₀·sin(xₙ₋₁) + x₂² + x₁ + 3x₁ (n ≥ 3).
#[differentiate]
fn mapped_options(x: &[f64]) -> f64 {
    let first = x.first().map(|v| v * 2.0).unwrap_or(0.0);
    let last = x.last().copied().map(|v| v.sin()).unwrap_or(1.0);
    let mid = x.get(2).map_or(0.5, |&v| v * v);
    let none = x.get(x.len()).map(|v| v.exp()).unwrap_or(x[1]);
    let second = x.get(1).copied().unwrap_or_default();
    first * last + mid + none + 3.0 * second
}

#[test]
fn options_mapped_before_their_defaults() {
    for x in [vec![0.7, -1.3, 2.1, 0.4], vec![1.5, 0.2, -0.6]] {
        let n = x.len();
        let (v, g) = mapped_options_grad(&x);
        assert_eq!(v, mapped_options(&x));
        let mut want = vec![0.0; n];
        want[0] += 2.0 * x[n - 1].sin();
        want[n - 1] += 2.0 * x[0] * x[n - 1].cos();
        want[2] += 2.0 * x[2];
        want[1] += 1.0 + 3.0;
        close_all("mapped options", &g, &want);
        fd_vec("mapped options", mapped_options, &x, &g);
    }
}

/// Found items with defaults: a position mapped to its element, a best item copied out
/// (`min_by(..).copied().unwrap_or(d)`, `max_by(..).cloned().unwrap()`), and a default computed
/// by `unwrap_or_else`. At x = (0.7, −1.3, 2.1, 0.4): the first element over 1 is x₂, the least
/// x₁, the greatest x₂, and no element is over 100: f = x₂x₁ + x₂ + x₀/2.
#[differentiate]
fn found_items(x: &[f64]) -> f64 {
    let p = x.iter().position(|&v| v > 1.0).map(|i| x[i]).unwrap_or(0.0);
    let q = x
        .iter()
        .min_by(|a, b| a.total_cmp(b))
        .copied()
        .unwrap_or(0.0);
    let s = x.iter().max_by(|a, b| a.total_cmp(b)).cloned().unwrap();
    let t = x
        .iter()
        .position(|&v| v > 100.0)
        .map(|i| x[i])
        .unwrap_or_else(|| x[0] * 0.5);
    p * q + s + t
}

#[test]
fn found_items_with_their_defaults() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (v, g) = found_items_grad(&x);
    assert_eq!(v, found_items(&x));
    close_all("found items", &g, &[0.5, x[2], x[1] + 1.0, 0.0]);
    fd_vec("found items", found_items, &x, &g);
}

/// A local `Option` assigned the value of an `if` (and of a `match` with an `else if` in an
/// arm), each arm `Some(..)` or `None`: the assignment is made in each arm. This was the error
/// "this pattern takes a differentiated value out of an `Option`".
/// s = Σ p·v over the items after a kept one, plus the last kept value (1 if none).
#[differentiate]
fn previous_kept(x: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = prev {
            s += p * v;
        }
        prev = if v > 0.0 { Some(v * 2.0) } else { None };
    }
    s + prev.unwrap_or(1.0)
}

#[differentiate]
fn previous_by_position(x: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for (i, &v) in x.iter().enumerate() {
        if let Some(p) = prev {
            s += p * v;
        }
        prev = match i % 3 {
            0 => Some(v.sin()),
            1 => None,
            _ => {
                if v > 0.5 {
                    Some(v)
                } else if v > 0.0 {
                    Some(2.0 * v)
                } else {
                    None
                }
            }
        };
    }
    s + prev.unwrap_or(1.0)
}

/// The same `Option` declared with the value of an `if` or a `match` (`let scale:
/// Option<f64> = if .. { Some(..) } else { None };`): it was the error "this pattern takes a
/// differentiated value out of an `Option`".
#[differentiate]
fn optional_scale(x: &[f64]) -> f64 {
    let scale: Option<f64> = if x.len() > 3 { Some(x[3]) } else { None };
    let shift: Option<f64> = match x.len() {
        0..=2 => None,
        _ => Some(x[2].exp()),
    };
    let base = x[0] * x[1];
    let scaled = match scale {
        Some(s) => base * s,
        None => base,
    };
    scaled + shift.unwrap_or(0.5)
}

#[test]
fn an_option_assigned_the_value_of_an_if_or_match() {
    // x₀x₁x₃ + e^{x₂}; with two items x₀x₁ + 0.5.
    let x = [0.3, -1.2, 0.7, 2.0];
    let (v, g) = optional_scale_grad(&x);
    assert_eq!(v, optional_scale(&x));
    close_all(
        "optional_scale",
        &g,
        &[-1.2 * 2.0, 0.3 * 2.0, 0.7f64.exp(), 0.3 * -1.2],
    );
    assert_eq!(
        optional_scale_grad(&[0.3, -1.2]),
        (0.5 - 0.36, vec![-1.2, 0.3])
    );
    // x₀ > 0 keeps 2x₀; x₁ < 0 adds 2x₀·x₁ and keeps nothing; x₂ adds nothing and keeps 2x₂:
    // f = 2x₀x₁ + 2x₂, ∂ = (2x₁, 2x₀, 2).
    let x = [0.3, -1.2, 0.7];
    let (v, g) = previous_kept_grad(&x);
    assert_eq!(v, previous_kept(&x));
    close_all("previous_kept", &g, &[2.0 * -1.2, 2.0 * 0.3, 2.0]);
    for x in [
        vec![0.3, -1.2, 0.7, 1.9, 0.4, 0.05],
        vec![1.0, 0.2, -0.3, 0.6, 0.7],
    ] {
        let (v, g) = previous_by_position_grad(&x);
        assert_eq!(v, previous_by_position(&x));
        fd_vec("previous_by_position", previous_by_position, &x, &g);
        let (_, g) = previous_kept_grad(&x);
        fd_vec("previous_kept", previous_kept, &x, &g);
    }
}

/// The best score so far kept in an `Option`, tested by `map_or`: `max_k (x_k² − x_k)` (0 for
/// no items), `∂/∂x_m = 2·x_m − 1` at the best `m`. `best.map_or(true, |b| s > b)` and the
/// forms below were the error "`best.map_or(..)` may change `best`". Written as users write
/// it (`is_none_or` is tested below).
#[allow(clippy::unnecessary_map_or)]
#[differentiate]
fn best_score(x: &[f64]) -> f64 {
    let mut best: Option<f64> = None;
    for &v in x {
        let score = v * v - v;
        if best.map_or(true, |b| score > b) {
            best = Some(score);
        }
    }
    best.unwrap_or(0.0)
}

/// The largest by `is_none() || v > best.unwrap()`, then `expect`: `2·max`, `∂/∂x_m = 2`.
#[differentiate]
fn twice_the_largest(x: &[f64]) -> f64 {
    let mut best: Option<f64> = None;
    for &v in x {
        if best.is_none() || v > best.unwrap() {
            best = Some(v);
        }
    }
    2.0 * best.expect("no items")
}

/// Halvings of `x` while above 0.1, by `while let Some(v) = cur`: `k·Σ_j x/2^j` over the
/// `n` halvings taken (a count the point decides), `∂/∂x = k·Σ_j 2^−j`, `∂/∂k = Σ_j x/2^j`.
#[differentiate]
fn halvings(x: f64, k: f64) -> f64 {
    let mut cur: Option<f64> = Some(x);
    let mut s = 0.0;
    while let Some(v) = cur {
        s += v * k;
        cur = if v > 0.1 { Some(v * 0.5) } else { None };
    }
    s
}

/// The items above the one before (`is_some_and`), plus the last one squared (`map(..)
/// .unwrap_or(..)`): `Σ_{k: x_k > x_{k−1}} x_k + x_{n−1}²`.
#[differentiate]
fn rises(x: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if prev.is_some_and(|p| v > p) || prev.is_none_or(|p| p > 10.0) && s > 5.0 {
            s += v;
        }
        prev = Some(v);
    }
    s + prev.map(|p| p * p).unwrap_or(0.0)
}

#[test]
fn an_option_read_by_unwrap_by_closures_and_by_while_let() {
    let x = [0.3, -1.2, 0.7, 1.9, -0.4, 0.05];
    let score = |v: f64| v * v - v;
    let m = (0..x.len()).fold(0, |m, k| if score(x[k]) > score(x[m]) { k } else { m });
    let (v, g) = best_score_grad(&x);
    assert_eq!(v, best_score(&x));
    assert_eq!(v, score(x[m]));
    let want: Vec<f64> = (0..x.len())
        .map(|k| if k == m { 2.0 * x[m] - 1.0 } else { 0.0 })
        .collect();
    close_all("best_score", &g, &want);
    fd_vec("best_score", best_score, &x, &g);
    assert_eq!(best_score_grad(&[]), (0.0, vec![]));

    let (v, g) = twice_the_largest_grad(&x);
    assert_eq!(v, 2.0 * 1.9);
    close_all("twice_the_largest", &g, &[0.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
    let (_, pullback) = twice_the_largest_vjp(&x);
    close_all("seed −3", &pullback(-3.0), &[0.0, 0.0, 0.0, -6.0, 0.0, 0.0]);

    for (x, k) in [(0.9, 1.5), (2.3, 0.7)] {
        let n = (0..).find(|&j| x / 2f64.powi(j) <= 0.1).unwrap() + 1;
        let sum: f64 = (0..n).map(|j| 0.5f64.powi(j)).sum();
        let (v, (dx, dk)) = halvings_grad(x, k);
        assert_eq!(v, halvings(x, k));
        close_all("halvings", &[dx, dk], &[k * sum, x * sum]);
    }

    let (v, g) = rises_grad(&x);
    assert_eq!(v, rises(&x));
    // rises at x₂, x₃, x₅; the last, x₅, also squared.
    close_all("rises", &g, &[0.0, 0.0, 1.0, 1.0, 0.0, 1.0 + 2.0 * 0.05]);
    fd_vec("rises", rises, &x, &g);
}

/// Items paired off as they come: a positive item waits in an `Option`, `take()`n by the next
/// item, which adds their product (`Σ` over the pairs of `p·v`). `if let Some(p) =
/// pending.take()` was the error "`pending.take(..)` may change `pending`".
#[differentiate]
fn paired_products(x: &[f64]) -> f64 {
    let mut pending: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = pending.take() {
            s += p * v;
        } else if v > 0.0 {
            pending = Some(v);
        }
    }
    s + pending.map_or(0.0, |p| p * p)
}

#[test]
fn an_option_taken() {
    // 0.3 waits, −1.2 takes it (0.3·−1.2); 0.7 waits, 1.9 takes it (0.7·1.9); −0.4 is not
    // kept; 0.05 waits and is left: + 0.05².
    let x = [0.3, -1.2, 0.7, 1.9, -0.4, 0.05];
    let (v, g) = paired_products_grad(&x);
    assert_eq!(v, paired_products(&x));
    close_all(
        "paired_products",
        &g,
        &[-1.2, 0.3, 1.9, 0.7, 0.0, 2.0 * 0.05],
    );
    fd_vec("paired_products", paired_products, &x, &g);
}

/// The best item of `x` and the least of `y`, two searches under one name, the second read
/// through a `let` of the same name: `max(x)·(min(y) + 1)`, `∂/∂x_argmax = min(y) + 1`,
/// `∂/∂y_argmin = max(x)`. The `let`s binding `best` again were the error "this pattern takes
/// a differentiated value out of an `Option`".
#[allow(clippy::unnecessary_map_or)]
#[differentiate]
fn two_searches(x: &[f64], y: &[f64]) -> f64 {
    let mut best: Option<f64> = None;
    for &v in x {
        if best.map_or(true, |b| v > b) {
            best = Some(v);
        }
    }
    let hi = best.unwrap_or(0.0);
    let mut best: Option<f64> = None;
    for &v in y {
        if best.map_or(true, |b| v < b) {
            best = Some(v);
        }
    }
    let best = best.unwrap_or(0.0) + 1.0;
    hi * best
}

#[test]
fn an_option_shadowed_by_a_later_let() {
    let (x, y) = ([0.3, 1.4, -0.2], [0.8, -0.6, 0.1, 0.5]);
    let (v, (gx, gy)) = two_searches_grad(&x, &y);
    assert_eq!(v, two_searches(&x, &y));
    close_all("value", &[v], &[1.4 * 0.4]);
    close_all("∂/∂x", &gx, &[0.0, 0.4, 0.0]);
    close_all("∂/∂y", &gy, &[0.0, 1.4, 0.0, 0.0]);
    common::fd_vec2("two_searches", two_searches, &x, &y, &gx, &gy);
    let (_, pb) = two_searches_vjp(&x, &y);
    let (px, py) = pb(-2.0);
    close_all("seed −2: ∂/∂x", &px, &[0.0, -0.8, 0.0]);
    close_all("seed −2: ∂/∂y", &py, &[0.0, -2.8, 0.0, 0.0]);
    let (w, t) = two_searches_jvp(&x, &y, &vec![1.0, 2.0, 3.0], &vec![0.5, 1.0, 0.0, 0.0]);
    assert_eq!(w, v);
    close_all("tangent", &[t], &[2.0 * 0.4 + 1.0 * 1.4]);
}

/// A local `Option<T>` of a float type parameter started from `None` (and one declared with
/// the value of an `if`, which is `None` then assigned): `Σ_{i≥1} k·(x_i − x_{i−1})²` over
/// consecutive elements, plus `k·x_2` where `x.len() > 2`. Both were the error "a local `Option`
/// of a differentiated float is followed only where every use of it is one of .. `unwrap_or(d)`"
/// at a use in that list: the rewrite took only `f32` and `f64` there, and a `T` started from
/// `Some(..)`.
#[differentiate(hessian)]
fn generic_jumps<T: num_traits::Float>(x: &[T], k: T) -> T {
    let mut prev: Option<T> = None;
    let mut total = T::zero();
    for &v in x {
        if let Some(p) = prev {
            total = total + k * (v - p) * (v - p);
        }
        prev = Some(v);
    }
    let third: Option<T> = if x.len() > 2 { Some(x[2]) } else { None };
    total + third.map_or(T::zero(), |t| k * t) + prev.unwrap_or(k) * T::zero()
}

#[test]
fn an_option_of_a_type_parameter_started_from_none() {
    let (x, k) = ([0.3, 1.1, -0.4, 0.6], 1.5);
    let (v, (gx, gk)) = generic_jumps_grad(&x, k);
    assert_eq!(v, generic_jumps(&x, k));
    let d = [0.8, -1.5, 1.0];
    close_all("value", &[v], &[k * (0.64 + 2.25 + 1.0) + k * -0.4]);
    close_all(
        "∂/∂x",
        &gx,
        &[
            -2.0 * k * d[0],
            2.0 * k * (d[0] - d[1]),
            2.0 * k * (d[1] - d[2]) + k,
            2.0 * k * d[2],
        ],
    );
    close_all("∂/∂k", &[gk], &[0.64 + 2.25 + 1.0 - 0.4]);
    fd_vec("generic_jumps", |p| generic_jumps(p, k), &x, &gx);
    let (_, pb) = generic_jumps_vjp(&x, k);
    let (px, pk) = pb(-2.0);
    close_all(
        "seed −2: ∂/∂x",
        &px,
        &gx.iter().map(|g| -2.0 * g).collect::<Vec<_>>(),
    );
    close_all("seed −2: ∂/∂k", &[pk], &[-2.0 * gk]);
    // f32 too, and the Hessian along k: ∂²/∂k∂x = ∂/∂x / k.
    let x32 = x.map(|v| v as f32);
    let (v32, _) = generic_jumps_grad(&x32, k as f32);
    assert!((f64::from(v32) - v).abs() < 1e-5, "{v32} against {v}");
    let (_, _, (hx, hk)) = generic_jumps_hvp(&x, k, &vec![0.0; 4], 1.0);
    close_all(
        "H·e_k: x",
        &hx,
        &gx.iter().map(|g| g / k).collect::<Vec<_>>(),
    );
    close_all("H·e_k: k", &[hk], &[0.0]);
}
