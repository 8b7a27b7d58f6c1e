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
