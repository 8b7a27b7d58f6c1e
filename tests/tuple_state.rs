//! Tuples kept in a `mut` variable and carried by loops, as people write them: the index and
//! value of the best item so far (`best = (i, d)`), a running sum beside a count, a pair of
//! states updated together. Each field is its own variable for the derivative, assigned
//! together where the tuple is.
//!
//! Each gradient is checked against the analytic derivative (stated beside the function) and
//! against central finite differences through `autodiff::check`.

// Loops index slices as people write them.
#![allow(clippy::needless_range_loop)]

use autodiff::check::gradcheck;
use autodiff::differentiate;
use num_traits::Float;

mod common;
use common::*;

#[track_caller]
fn fd_vec(f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{r}");
}

/// The squared distance of the item nearest 0.5 plus a tenth of the item after it:
/// `(x_b − ½)² + x_{b+1}/10` with `b` the nearest item's index (fixed near the point), so
/// ∂/∂x_b = 2(x_b − ½), ∂/∂x_{b+1} = 1/10.
#[differentiate(hessian)]
fn nearest_half(x: &[f64]) -> f64 {
    let mut best = (0usize, f64::MAX);
    for (i, &v) in x.iter().enumerate() {
        let d = (v - 0.5).powi(2);
        if d < best.1 {
            best = (i, d);
        }
    }
    best.1 + x[(best.0 + 1) % x.len()] * 0.1
}

/// The mean square of the positive items, a sum and a count carried as one tuple:
/// `Σ_{x_i>0} x_i² / m`, ∂/∂x_i = 2x_i/m for the positive ones.
#[differentiate]
fn positive_mean_square(x: &[f64]) -> f64 {
    let mut acc = (0.0, 0usize);
    for &v in x {
        if v > 0.0 {
            acc = (acc.0 + v * v, acc.1 + 1);
        }
    }
    acc.0 / acc.1 as f64
}

/// A pair of states stepped together, with a field updated on its own and the whole tuple
/// destructured at the end (declared with its type).
#[differentiate(hessian)]
fn coupled(x: &[f64]) -> f64 {
    let mut st: (f64, f64) = (1.0, 0.0);
    for &v in x {
        st = (st.0 * v.cos() - st.1 * 0.5, st.0 * 0.5 + st.1 * v.sin());
        st.1 += 0.01 * v;
    }
    let (a, b) = st;
    a * a + b
}

/// The generic version of the nearest item, over `f32` too.
#[differentiate]
fn nearest_generic<F: Float>(x: &[F]) -> F {
    let half = F::from(0.5).unwrap();
    let mut best = (0usize, F::max_value());
    for i in 0..x.len() {
        let d = (x[i] - half) * (x[i] - half);
        if d < best.1 {
            best = (i, d);
        }
    }
    best.1 * F::from(best.0 + 1).unwrap()
}

#[test]
fn the_best_index_and_value_carried_as_a_tuple() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (y, g) = nearest_half_grad(&x);
    close("value", y, nearest_half(&x), TOL);
    // The nearest item is x₃ = 0.4, the one after it x₀.
    close_all("gradient", &g, &[0.1, 0.0, 0.0, 2.0 * (0.4 - 0.5)]);
    fd_vec(nearest_half, &x, &g);
    let (_, _, hv) = nearest_half_hvp(&x, &vec![0.0, 0.0, 0.0, 1.0]);
    close_all("hvp", &hv, &[0.0, 0.0, 0.0, 2.0]);

    let (y, g) = nearest_generic_grad(&x[..]);
    close("generic", y, 4.0 * 0.01, 1e-12);
    close_all(
        "generic gradient",
        &g,
        &[0.0, 0.0, 0.0, 4.0 * 2.0 * (0.4 - 0.5)],
    );
    let x32 = [0.7f32, -1.3, 2.1, 0.4];
    let (_, g32) = nearest_generic_grad(&x32[..]);
    assert!(
        (g32[3] - 4.0 * 2.0 * (0.4f32 - 0.5)).abs() < 1e-5,
        "{g32:?}"
    );
}

#[test]
fn a_sum_and_a_count_carried_as_a_tuple() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (y, g) = positive_mean_square_grad(&x);
    let m = 3.0;
    close("value", y, (0.49 + 4.41 + 0.16) / m, TOL);
    close_all(
        "gradient",
        &g,
        &[2.0 * 0.7 / m, 0.0, 2.0 * 2.1 / m, 2.0 * 0.4 / m],
    );
    fd_vec(positive_mean_square, &x, &g);
}

#[test]
fn a_pair_of_states_stepped_together() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let (y, g) = coupled_grad(&x);
    close("value", y, coupled(&x), TOL);
    fd_vec(coupled, &x, &g);
    // Against the same recurrence written with two variables.
    let two = |x: &[f64]| {
        let (mut a, mut b) = (1.0, 0.0);
        for &v in x {
            let (na, nb) = (a * v.cos() - b * 0.5, a * 0.5 + b * v.sin());
            a = na;
            b = nb + 0.01 * v;
        }
        a * a + b
    };
    close("value against two variables", y, two(&x), TOL);
    // Hessian-vector products against differences of the gradient.
    let v = [0.3, -0.2, 0.5, 0.1];
    let (_, _, hv) = coupled_hvp(&x, &v.to_vec());
    let h = 1e-5;
    let plus: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - h * b).collect();
    let (gp, gm) = (coupled_grad(&plus).1, coupled_grad(&minus).1);
    for k in 0..4 {
        close(
            &format!("hvp[{k}]"),
            hv[k],
            (gp[k] - gm[k]) / (2.0 * h),
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Destructuring assignments with an array pattern (`[p, q] = [..]`, with `_`, `..` and nested
// arrays, into variables, elements and fields) and `_ = e`: the value is computed once, then
// each place assigned its element, as for a tuple pattern.
// ---------------------------------------------------------------------------------------------

/// Two steps of `[p, q] = [q + 1, 3p]` from `(x0, x1)`: `p = 3·x0 + 1`, `q = 3·(x1 + 1)`, so
/// `f = p·q`, ∂/∂x0 = 9·(x1 + 1), ∂/∂x1 = 3·(3·x0 + 1).
#[differentiate]
fn pair_stepped_by_an_array_pattern(x: &[f64]) -> f64 {
    let (mut p, mut q) = (x[0], x[1]);
    for _ in 0..2 {
        [p, q] = [q + 1.0, p * 3.0];
    }
    p * q
}

/// `a[0] = x0·x1`, `t.1 = 2·x2`; `t.0 = x1`, `a[2] = x3`; then, the value first,
/// `a[1] = t.0·t.1 = 2·x1·x2` and `t.1 = 2·x2 + x0`; `_ = ..` doubles `a[0]`:
/// f = a0 + a1·a2 + t.0·t.1 = 3·x0·x1 + 2·x1·x2·x3 + 2·x1·x2.
#[differentiate]
fn places_assigned_by_array_patterns(x: &[f64]) -> f64 {
    let mut a = [0.0; 3];
    let mut t = (0.0, 0.0);
    [a[0], _, t.1] = [x[0] * x[1], x[2], x[2] * 2.0];
    [t.0, .., a[2]] = [x[1], 0.0, 0.0, x[3]];
    [[a[1], _], [_, t.1]] = [[t.0 * t.1, 0.0], [0.0, t.1 + x[0]]];
    _ = {
        a[0] *= 2.0;
        a[0]
    };
    a[0] + a[1] * a[2] + t.0 * t.1
}

#[test]
fn places_assigned_by_array_patterns_and_underscore() {
    let x = [0.6, -1.1, 0.8, 1.7];
    let (v, g) = pair_stepped_by_an_array_pattern_grad(&x);
    assert_eq!(v, pair_stepped_by_an_array_pattern(&x));
    close("pair", v, (3.0 * x[0] + 1.0) * 3.0 * (x[1] + 1.0), 1e-12);
    close_all(
        "pair",
        &g,
        &[9.0 * (x[1] + 1.0), 3.0 * (3.0 * x[0] + 1.0), 0.0, 0.0],
    );
    fd_vec(pair_stepped_by_an_array_pattern, &x, &g);
    let (_, back) = pair_stepped_by_an_array_pattern_vjp(&x);
    let scaled: Vec<f64> = g.iter().map(|d| 2.5 * d).collect();
    close_all("pair, seed 2.5", &back(2.5), &scaled);

    let (v, g) = places_assigned_by_array_patterns_grad(&x);
    assert_eq!(v, places_assigned_by_array_patterns(&x));
    let (x0, x1, x2, x3) = (x[0], x[1], x[2], x[3]);
    close(
        "places",
        v,
        3.0 * x0 * x1 + 2.0 * x1 * x2 * x3 + 2.0 * x1 * x2,
        1e-12,
    );
    close_all(
        "places",
        &g,
        &[
            3.0 * x1,
            3.0 * x0 + 2.0 * x2 * x3 + 2.0 * x2,
            2.0 * x1 * x3 + 2.0 * x1,
            2.0 * x1 * x2,
        ],
    );
    fd_vec(places_assigned_by_array_patterns, &x, &g);
    let (_, back) = places_assigned_by_array_patterns_vjp(&x);
    let scaled: Vec<f64> = g.iter().map(|d| 2.5 * d).collect();
    close_all("places, seed 2.5", &back(2.5), &scaled);

    let x = x.to_vec();
    forward("pair").check(
        &x,
        |x| pair_stepped_by_an_array_pattern(x),
        |x, v| pair_stepped_by_an_array_pattern_jvp(x, v),
        |x, w| {
            let (y, back) = pair_stepped_by_an_array_pattern_vjp(x);
            (y, back(w))
        },
    );
    forward("places").check(
        &x,
        |x| places_assigned_by_array_patterns(x),
        |x, v| places_assigned_by_array_patterns_jvp(x, v),
        |x, w| {
            let (y, back) = places_assigned_by_array_patterns_vjp(x);
            (y, back(w))
        },
    );
}

/// The nearest item's index and squared distance read through a `let` of the same name, then
/// the value the name holds after it: `b = √((x_b − ½)² + b)` with `b` the nearest item's index
/// (fixed near the point), `∂/∂x_b = (x_b − ½)/b`. The `let best = ..` was rustc's
/// "`(usize, f64)` is not differentiable" inside the generated code (the tuple was left whole).
#[differentiate]
fn nearest_then_shadowed(x: &[f64]) -> f64 {
    let mut best = (0usize, f64::MAX);
    for (i, &v) in x.iter().enumerate() {
        let d = (v - 0.5).powi(2);
        if d < best.1 {
            best = (i, d);
        }
    }
    let best = best.1 + best.0 as f64;
    best.sqrt()
}

#[test]
fn a_tuple_shadowed_by_a_later_let() {
    let x = [0.1, 1.3, 0.7, -0.4];
    let (y, g) = nearest_then_shadowed_grad(&x);
    assert_eq!(y, nearest_then_shadowed(&x));
    let b = (0.2f64 * 0.2 + 2.0).sqrt();
    close_all("value", &[y], &[b]);
    close_all("gradient", &g, &[0.0, 0.0, 0.2 / b, 0.0]);
    fd_vec(nearest_then_shadowed, &x, &g);
    let (_, back) = nearest_then_shadowed_vjp(&x);
    close_all("seed 3", &back(3.0), &[0.0, 0.0, 0.6 / b, 0.0]);
    let (w, t) = nearest_then_shadowed_jvp(&x, &vec![1.0, 1.0, 2.0, 1.0]);
    assert_eq!(w, y);
    close_all("tangent", &[t], &[0.4 / b]);
}

/// A tuple of two floats carried by a loop and printed through a format string that names it,
/// `println!("{acc:?}")`: it stays a tuple there, as with `println!("{:?}", acc)` (the name
/// inside the string was no token of the macro's: each field became a variable of its own and
/// rustc said "cannot find value `acc`"). The variance `Σx²/n − (Σx/n)²`, ∂/∂x_i = 2x_i/n −
/// 2·mean/n.
#[differentiate]
fn printed_moments(x: &[f64]) -> f64 {
    let mut acc = (0.0, 0.0);
    for &v in x {
        acc = (acc.0 + v, acc.1 + v * v);
        println!("running sums {acc:?}, {n} items", n = x.len());
    }
    let n = x.len() as f64;
    acc.1 / n - (acc.0 / n).powi(2)
}

#[test]
fn a_tuple_named_in_a_format_string_stays_a_tuple() {
    let x = [0.5, -0.2, 0.9, 0.3];
    let (v, g) = printed_moments_grad(&x);
    assert_eq!(v, printed_moments(&x));
    let mean = x.iter().sum::<f64>() / 4.0;
    close_all("∂/∂x", &g, &x.map(|v| 2.0 * v / 4.0 - 2.0 * mean / 4.0));
    fd_vec(printed_moments, &x, &g);
}

/// The best score `w₀·xᵢ + w₁` over the items, named in `println!` and `format!` as the tuple
/// and as its fields: ∂/∂w₀ = 2·x_b, ∂/∂w₁ = 2, with `b` the best item's index.
#[differentiate(wrt(w), hessian)]
fn best_score_printed(w: &[f64], x: &[f64]) -> f64 {
    let mut best = (0usize, f64::NEG_INFINITY);
    for (i, xi) in x.iter().enumerate() {
        let s = w[0] * xi + w[1];
        if s > best.1 {
            best = (i, s);
        }
    }
    println!("best {:.3} at {}", best.1, best.0);
    let line = format!("{best:?}");
    assert!(line.starts_with('('), "{line}");
    best.1 * 2.0
}

#[test]
fn a_tuple_named_in_formatting_macros_is_carried_as_its_fields() {
    let (w, x) = ([0.5, 0.1], [1.0, 3.0, 2.0]);
    let (y, g) = best_score_printed_grad(&w, &x);
    close("value", y, best_score_printed(&w, &x), TOL);
    close_all("gradient", &g, &[2.0 * 3.0, 2.0]);
    fd_vec(|p| best_score_printed(p, &x), &w, &g);
    let (_, t) = best_score_printed_jvp(&w, &x, &vec![1.0, -1.0]);
    close("tangent", t, 6.0 - 2.0, TOL);
    let (_, _, hv) = best_score_printed_hvp(&w, &x, &vec![1.0, 1.0]);
    close_all("hvp (linear in w)", &hv, &[0.0, 0.0]);
}

/// A `scan` whose tuple state holds a count beside a float (rustc's "`usize` is not a value a
/// differentiated function can compute with" in the generated code: the state was carried as
/// one value, its fields all taken for floats). With s₀ = x, sₖ = sₖ₋₁/2 + b and cₖ = 0 + 1 + … +
/// k, f = Σₖ₌₀³ sₖ₊₁·cₖ where sₖ₊₁ = x/2ᵏ⁺¹ + 2b(1 − 1/2ᵏ⁺¹):
/// ∂f/∂x = Σ cₖ/2ᵏ⁺¹, ∂f/∂b = Σ 2cₖ(1 − 1/2ᵏ⁺¹).
#[differentiate(hessian)]
fn scan_with_count(x: f64, b: f64) -> f64 {
    (0..4usize)
        .scan((x, 0usize), |st, i| {
            st.0 = st.0 * 0.5 + b;
            st.1 += i;
            Some(st.0 * (st.1 as f64))
        })
        .sum()
}

/// A three-field state over a slice's items, typed and read whole: the running mean of the
/// items so far (mₖ) scaled by 1.1ᵏ⁺¹, squared and summed, times 2 (checked against central
/// differences), and a pair state replaced whole (`*st = (b, a + b / 2)`).
#[differentiate]
fn scan_of_items(x: &[f64], b: f64) -> f64 {
    let s: f64 = x
        .iter()
        .scan((b, 0usize, 1.0), |st: &mut (f64, usize, f64), &v| {
            st.0 = st.0 * 0.5 + v;
            st.1 += 1;
            st.2 *= 1.1;
            let m = st.0 / (st.1 as f64);
            Some(m * st.2)
        })
        .map(|t| t * t)
        .fold(0.0, |a, t| a + t);
    let v: Vec<f64> = (0..5)
        .scan((b, 1.0), |st, _| {
            let (p, q) = *st;
            *st = (q, p + q * 0.5);
            Some(p)
        })
        .collect();
    s * 2.0 + v.iter().sum::<f64>()
}

#[test]
fn a_scan_whose_tuple_state_holds_a_count() {
    let (x, b) = (0.3, 0.7);
    let (y, (gx, gb)) = scan_with_count_grad(x, b);
    close("value", y, scan_with_count(x, b), TOL);
    let (mut want_x, mut want_b, mut c) = (0.0, 0.0, 0.0);
    for k in 0..4 {
        c += k as f64;
        let h = 0.5f64.powi(k + 1);
        want_x += c * h;
        want_b += 2.0 * c * (1.0 - h);
    }
    close("∂f/∂x", gx, want_x, TOL);
    close("∂f/∂b", gb, want_b, TOL);
    gradcheck(
        |p: &(f64, f64)| scan_with_count(p.0, p.1),
        &(x, b),
        &(gx, gb),
    )
    .assert_ok();
    let (_, t) = scan_with_count_jvp(x, b, 1.0, -1.0);
    close("tangent", t, want_x - want_b, TOL);
    // f is linear in (x, b): its Hessian is zero.
    let (_, _, hv) = scan_with_count_hvp(x, b, 1.0, 1.0);
    close_all("hvp", &[hv.0, hv.1], &[0.0, 0.0]);
}

#[test]
fn scans_of_items_with_a_count_and_with_a_pair_replaced_whole() {
    let x = [0.3, -0.5, 0.9];
    let b = 0.7;
    let (y, (gx, gb)) = scan_of_items_grad(&x, b);
    close("value", y, scan_of_items(&x, b), TOL);
    fd_vec(|p| scan_of_items(p, b), &x, &gx);
    gradcheck(|b: &f64| scan_of_items(&x, *b), &b, &gb).assert_ok();
}
