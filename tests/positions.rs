//! The position of the best item, found by an iterator chain (`enumerate().max_by(..)
//! .map(|(i, _)| i)`, `min_by`, `find`), then used as an index: the position is run as written
//! (no derivative goes through it), the element it picks is differentiated. Each gradient is
//! checked against its analytic value and central finite differences (away from ties, where
//! the position is constant nearby). Tuples of a position and a value chosen by branches (an
//! argmax carried by hand or by `fold`) carry the position as an integer of its own.

#![allow(clippy::needless_range_loop, clippy::double_ended_iterator_last)] // written as users write them

use autodiff::differentiate;

mod common;
use common::{data, fd_vec};

/// `x_m²` with `m` the position of the largest: `∂/∂x_k = 2·x_m` at `k = m`, else 0.
#[differentiate]
fn square_of_largest(xs: &[f64]) -> f64 {
    let m = xs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .map(|(i, _)| i)
        .unwrap();
    xs[m].powi(2)
}

/// `2·x_m` with `m` the position of the smallest (0 for no items): `∂/∂x_m = 2`.
#[differentiate]
fn twice_smallest(xs: &[f64]) -> f64 {
    let m = xs
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    2.0 * xs[m]
}

/// `x_m·t` with `m` the first position where `x_m > t`, else `t²`: `∂/∂x_m = t`,
/// `∂/∂t = x_m` (or `2t`).
#[differentiate]
fn first_above(xs: &[f64], t: f64) -> f64 {
    match xs.iter().enumerate().find(|(_, v)| **v > t).map(|(i, _)| i) {
        Some(m) => xs[m] * t,
        None => t * t,
    }
}

/// Each entry `k` of the gradient `g` is `want(k)`, to 1e-12.
#[track_caller]
fn gradient_is(what: &str, g: &[f64], want: impl Fn(usize) -> f64) {
    for (k, gk) in g.iter().enumerate() {
        let want = want(k);
        assert!(
            (gk - want).abs() < 1e-12,
            "{what}, ∂/∂x_{k}: {gk} vs {want}"
        );
    }
}

#[test]
fn the_position_of_the_largest_picks_the_element_differentiated() {
    let xs = data(7, 0.4);
    let m = (0..7).fold(0, |m, k| if xs[k] > xs[m] { k } else { m });
    let (v, g) = square_of_largest_grad(&xs);
    assert_eq!(v, square_of_largest(&xs));
    for (k, gk) in g.iter().enumerate() {
        let want = if k == m { 2.0 * xs[m] } else { 0.0 };
        assert_eq!(*gk, want, "∂/∂x_{k}");
    }
    fd_vec("largest", square_of_largest, &xs, &g);
}

#[test]
fn the_position_of_the_smallest_with_a_default() {
    let xs = data(6, 2.1);
    let m = (0..6).fold(0, |m, k| if xs[k] < xs[m] { k } else { m });
    let (v, g) = twice_smallest_grad(&xs);
    assert_eq!(v, 2.0 * xs[m]);
    for (k, gk) in g.iter().enumerate() {
        assert_eq!(*gk, if k == m { 2.0 } else { 0.0 }, "∂/∂x_{k}");
    }
    fd_vec("smallest", twice_smallest, &xs, &g);
}

#[test]
fn the_first_position_found_or_none() {
    let xs = [0.3, -0.5, 0.8, 1.1];
    // Found at 2 (0.8 > 0.5): ∂/∂x_2 = t, ∂/∂t = x_2.
    let (v, (gx, gt)) = first_above_grad(&xs, 0.5);
    assert_eq!(v, 0.8 * 0.5);
    assert_eq!(gx, vec![0.0, 0.0, 0.5, 0.0]);
    assert_eq!(gt, 0.8);
    fd_vec("found", |p| first_above(p, 0.5), &xs, &gx);
    // None: t², ∂/∂t = 2t and nothing for the items.
    let (v, (gx, gt)) = first_above_grad(&xs, 5.0);
    assert_eq!(v, 25.0);
    assert_eq!(gx, vec![0.0; 4]);
    assert_eq!(gt, 10.0);
}

/// An argmax carried by hand, a tuple of the position and the value chosen by an `if`:
/// `3·x_m + max` with `m` the position of the largest, `∂/∂x_m = 4`.
#[differentiate]
fn argmax_by_hand(xs: &[f64]) -> f64 {
    let mut bi = 0;
    let mut bv = f64::NEG_INFINITY;
    for i in 0..xs.len() {
        let (ni, nv) = if xs[i] > bv { (i, xs[i]) } else { (bi, bv) };
        bi = ni;
        bv = nv;
    }
    3.0 * xs[bi] + bv
}

/// The same by `fold` over `(position, value)`: `x_m²`, `∂/∂x_m = 2·x_m`.
#[differentiate]
fn argmax_by_fold(xs: &[f64]) -> f64 {
    let (m, best) = xs
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        });
    xs[m] * best
}

/// `fold` over `(Σx, Σx², n)`: the variance `Σx²/n − (Σx/n)²`,
/// `∂/∂x_k = 2x_k/n − 2m/n` with `m` the mean.
#[differentiate]
fn variance_by_fold(xs: &[f64]) -> f64 {
    let (s, s2, n) = xs.iter().fold((0.0, 0.0, 0usize), |(s, s2, n), &x| {
        (s + x, s2 + x * x, n + 1)
    });
    let m = s / n as f64;
    s2 / n as f64 - m * m
}

/// A `match` whose arms give a count and a value: `n·v`, with `(n, v) = (2, sin x)` for
/// `k = 1`: `∂/∂x = 2·cos x`.
#[differentiate]
fn count_and_value(x: f64, k: u8) -> f64 {
    let (n, v) = match k {
        0 => (1usize, x * x),
        1 => (2, x.sin()),
        _ => (3, x),
    };
    v * n as f64
}

#[test]
fn tuples_of_a_position_and_a_value_chosen_by_branches() {
    let xs = data(7, 1.3);
    let m = (0..7).fold(0, |m, k| if xs[k] > xs[m] { k } else { m });
    let (v, g) = argmax_by_hand_grad(&xs);
    assert_eq!(v, argmax_by_hand(&xs));
    for (k, gk) in g.iter().enumerate() {
        assert_eq!(*gk, if k == m { 4.0 } else { 0.0 }, "by hand, ∂/∂x_{k}");
    }
    fd_vec("by hand", argmax_by_hand, &xs, &g);
    let (v, g) = argmax_by_fold_grad(&xs);
    assert_eq!(v, xs[m] * xs[m]);
    for (k, gk) in g.iter().enumerate() {
        assert_eq!(
            *gk,
            if k == m { 2.0 * xs[m] } else { 0.0 },
            "fold, ∂/∂x_{k}"
        );
    }
    fd_vec("fold", argmax_by_fold, &xs, &g);
    let (v, g) = variance_by_fold_grad(&xs);
    assert_eq!(v, variance_by_fold(&xs));
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    gradient_is("variance", &g, |k| 2.0 * xs[k] / n - 2.0 * mean / n);
    fd_vec("variance", variance_by_fold, &xs, &g);
    for k in 0..3u8 {
        let (v, d) = count_and_value_grad(0.5, k);
        assert_eq!(v, count_and_value(0.5, k));
        let want = [2.0 * 0.5, 2.0 * 0.5f64.cos(), 3.0][k as usize];
        assert!((d - want).abs() < 1e-12, "k = {k}: {d} vs {want}");
    }
}

/// The best of pairs a `map` builds, a position beside a differentiated cost:
/// `c_m + x_m` with `c_k = (x_k − k/10)²` and `m` the position of the smallest cost,
/// `∂/∂x_m = 2·(x_m − m/10) + 1`. The pair is kept as its two values (a `(usize, f64)`
/// carried whole would be given an adjoint, which a position does not have).
#[differentiate]
fn cheapest_pair(xs: &[f64]) -> f64 {
    let (m, c) = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| (i, (v - 0.1 * i as f64).powi(2)))
        .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap())
        .unwrap();
    c + xs[m]
}

/// The same read through the pair's fields, by `max_by` with `total_cmp`: `−c_m·x_m` for the
/// largest `−c_k`, `∂/∂x_m = −(2·(x_m − m/10)·x_m + c_m)`.
#[differentiate]
fn cheapest_pair_by_fields(xs: &[f64]) -> f64 {
    let best = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (v - 0.1 * i as f64).powi(2);
            (i, -c)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    best.1 * xs[best.0]
}

/// A flag beside the value: `±sin x_m` with `m` the position of the largest `sin x_k`, the
/// sign that of `x_m`: `∂/∂x_m = ±cos x_m`.
#[differentiate]
fn largest_sine_signed(xs: &[f64]) -> f64 {
    let best = xs
        .iter()
        .map(|&v| (v.sin(), v > 0.0))
        .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap())
        .unwrap();
    if best.1 { best.0 } else { -best.0 }
}

/// The last of such pairs, by `last()`: `c·x_{n−1}` with `c = (x_{n−1} − (n−1)/10)²`,
/// `∂/∂x_{n−1} = 2·(x_{n−1} − (n−1)/10)·x_{n−1} + c`.
#[differentiate]
fn last_pair(xs: &[f64]) -> f64 {
    let (i, c) = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| (i, (v - 0.1 * i as f64).powi(2)))
        .last()
        .unwrap();
    c * xs[i]
}

#[test]
fn the_best_of_pairs_a_map_builds() {
    let xs = data(7, 0.4);
    let cost = |k: usize| (xs[k] - 0.1 * k as f64).powi(2);
    let m = (0..7).fold(0, |m, k| if cost(k) < cost(m) { k } else { m });
    let (v, g) = cheapest_pair_grad(&xs);
    assert_eq!(v, cheapest_pair(&xs));
    gradient_is("min_by", &g, |k| {
        if k == m {
            2.0 * (xs[m] - 0.1 * m as f64) + 1.0
        } else {
            0.0
        }
    });
    fd_vec("min_by", cheapest_pair, &xs, &g);
    let (_, pullback) = cheapest_pair_vjp(&xs);
    let scaled = pullback(-2.5);
    for (k, (s, gk)) in scaled.iter().zip(&g).enumerate() {
        assert!((s - -2.5 * gk).abs() < 1e-12, "min_by, seed −2.5, ∂/∂x_{k}");
    }

    let (v, g) = cheapest_pair_by_fields_grad(&xs);
    assert_eq!(v, cheapest_pair_by_fields(&xs));
    gradient_is("max_by", &g, |k| {
        if k == m {
            -(2.0 * (xs[m] - 0.1 * m as f64) * xs[m] + cost(m))
        } else {
            0.0
        }
    });
    fd_vec("max_by", cheapest_pair_by_fields, &xs, &g);

    let m = (0..7).fold(0, |m, k| if xs[k].sin() >= xs[m].sin() { k } else { m });
    let (v, g) = largest_sine_signed_grad(&xs);
    assert_eq!(v, largest_sine_signed(&xs));
    let sign = if xs[m] > 0.0 { 1.0 } else { -1.0 };
    for (k, gk) in g.iter().enumerate() {
        let want = if k == m { sign * xs[m].cos() } else { 0.0 };
        assert!((gk - want).abs() < 1e-12, "flag, ∂/∂x_{k}: {gk} vs {want}");
    }
    fd_vec("flag", largest_sine_signed, &xs, &g);

    let n = xs.len() - 1;
    let (v, g) = last_pair_grad(&xs);
    assert_eq!(v, last_pair(&xs));
    for (k, gk) in g.iter().enumerate() {
        let want = if k == n {
            2.0 * (xs[n] - 0.1 * n as f64) * xs[n] + cost(n)
        } else {
            0.0
        };
        assert!((gk - want).abs() < 1e-12, "last, ∂/∂x_{k}: {gk} vs {want}");
    }
    fd_vec("last", last_pair, &xs, &g);
}

/// `reduce` over such pairs, the closure keeping the cheaper: `c_m + x_m` as in
/// [`cheapest_pair`] (the pair was carried whole, rustc's "`(usize, f64)` is not
/// differentiable").
#[differentiate]
fn cheapest_pair_by_reduce(xs: &[f64]) -> f64 {
    let (m, c) = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| (i, (v - 0.1 * i as f64).powi(2)))
        .reduce(|a, b| if a.1 <= b.1 { a } else { b })
        .unwrap();
    c + xs[m]
}

/// `reduce` over the enumeration itself: `x_m² + x_{(m+1) mod n}` with `m` the position of
/// the largest, `∂/∂x_m = 2·x_m`, `∂/∂x_{(m+1) mod n} = 1`. The position was taken for a
/// differentiated value (the error "`%` on a differentiated value").
#[differentiate]
fn largest_and_next(xs: &[f64]) -> f64 {
    let (m, v) = xs
        .iter()
        .enumerate()
        .reduce(|a, b| if a.1 >= b.1 { a } else { b })
        .unwrap();
    v * v + xs[(m + 1) % xs.len()]
}

/// `reduce` over a `zip` of a `zip`, kept as its three values: `a·b + c` for the item with the
/// largest `a·c`, where `((a, b), c) = ((x_k, y_k), x_{n−1−k})`.
#[differentiate]
fn best_of_zipped(xs: &[f64], ys: &[f64]) -> f64 {
    let ((a, b), c) = xs
        .iter()
        .zip(ys)
        .zip(xs.iter().rev())
        .reduce(|p, q| if p.0.0 * p.1 >= q.0.0 * q.1 { p } else { q })
        .unwrap();
    a * b + c
}

#[test]
fn reduce_keeps_a_pair_as_its_values() {
    let xs = data(7, 0.4);
    let n = xs.len();
    let cost = |k: usize| (xs[k] - 0.1 * k as f64).powi(2);
    let m = (0..n).fold(0, |m, k| if cost(k) < cost(m) { k } else { m });
    let (v, g) = cheapest_pair_by_reduce_grad(&xs);
    assert_eq!(v, cheapest_pair_by_reduce(&xs));
    gradient_is("reduce", &g, |k| {
        if k == m {
            2.0 * (xs[m] - 0.1 * m as f64) + 1.0
        } else {
            0.0
        }
    });
    fd_vec("reduce", cheapest_pair_by_reduce, &xs, &g);

    let m = (0..n).fold(0, |m, k| if xs[k] > xs[m] { k } else { m });
    let (v, g) = largest_and_next_grad(&xs);
    assert_eq!(v, largest_and_next(&xs));
    gradient_is("enumerate", &g, |k| {
        if k == m {
            2.0 * xs[m]
        } else if k == (m + 1) % n {
            1.0
        } else {
            0.0
        }
    });
    fd_vec("enumerate", largest_and_next, &xs, &g);
    let (_, pullback) = largest_and_next_vjp(&xs);
    for (k, (s, gk)) in pullback(0.5).iter().zip(&g).enumerate() {
        assert!(
            (s - 0.5 * gk).abs() < 1e-12,
            "enumerate, seed 0.5, ∂/∂x_{k}"
        );
    }

    let ys = data(7, 2.1);
    let k = (0..n).fold(0, |m, k| {
        if xs[m] * xs[n - 1 - m] >= xs[k] * xs[n - 1 - k] {
            m
        } else {
            k
        }
    });
    let (v, (gx, gy)) = best_of_zipped_grad(&xs, &ys);
    assert_eq!(v, best_of_zipped(&xs, &ys));
    assert_eq!(v, xs[k] * ys[k] + xs[n - 1 - k]);
    let mut want_x = vec![0.0; n];
    want_x[k] += ys[k];
    want_x[n - 1 - k] += 1.0;
    let mut want_y = vec![0.0; n];
    want_y[k] = xs[k];
    assert_eq!(gx, want_x);
    assert_eq!(gy, want_y);
}
