//! Values written twice in the source and computed once by the generated code (`cse.rs`): the
//! same element read twice (`x[i] * x[i]`, `if a[i] > m { m = a[i]; }`), the same difference
//! squared (`(x[k] - m) * (x[k] - m)`), the same cast. Each function is checked against the
//! gradient written out by hand, central finite differences, `_jvp` and `_hvp`.

#![allow(clippy::needless_range_loop)]

use autodiff::check::hvpcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// The running maximum with the element read again in the arm that takes it: the read in the
/// condition (which alone needs no derivative) and the one in the arm are one value, whose
/// derivative the arm must still pass on.
#[differentiate]
fn running_max(a: &[f64]) -> f64 {
    let mut m = a[0];
    for i in 1..a.len() {
        if a[i] > m {
            m = a[i];
        }
    }
    m
}

#[test]
fn the_maximum_read_again_in_its_arm() {
    for (a, at) in [
        (vec![1.0, 3.0, 2.0], 1),
        (vec![4.0, 3.0, 2.0], 0),
        (vec![1.0, 2.0, 5.0], 2),
    ] {
        let (v, g) = running_max_grad(&a);
        assert_eq!(v, running_max(&a));
        let mut expected = vec![0.0; a.len()];
        expected[at] = 1.0;
        assert_eq!(g, expected, "max of {a:?}");
        fd_vec("running max", running_max, &a, &g);
    }
}

/// `Σₖ (xₖ − m)²·wₖ + x₀·x₀ + (x₁ − x₀)·(x₁ − x₀)`, each square written as a product of two
/// copies of the same expression; `(n as f64)` twice.
#[differentiate(wrt(x, m), hessian)]
fn squared_deviations(x: &[f64], m: f64, w: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for k in 0..n {
        s += (x[k] - m) * (x[k] - m) * w[k];
    }
    s / (n as f64) + x[0] * x[0] + (x[1] - x[0]) * (x[1] - x[0]) / (n as f64)
}

fn squared_deviations_by_hand(x: &[f64], m: f64, w: &[f64]) -> (Vec<f64>, f64) {
    let n = x.len() as f64;
    let mut gx: Vec<f64> = (0..x.len()).map(|k| 2.0 * (x[k] - m) * w[k] / n).collect();
    let gm: f64 = -gx.iter().sum::<f64>();
    gx[0] += 2.0 * x[0] - 2.0 * (x[1] - x[0]) / n;
    gx[1] += 2.0 * (x[1] - x[0]) / n;
    (gx, gm)
}

#[test]
fn squares_written_as_products_of_repeats() {
    let x = data(5, 1.0);
    let w = data(5, 2.0);
    let m = 0.3;
    let (v, (gx, gm)) = squared_deviations_grad(&x, m, &w);
    assert_eq!(v, squared_deviations(&x, m, &w));
    let (ex, em) = squared_deviations_by_hand(&x, m, &w);
    close_all("∂x", &gx, &ex);
    close("∂m", gm, em, 1e-12);
    let p = [x.clone(), vec![m]].concat();
    let f = |p: &[f64]| squared_deviations(&p[..5], p[5], &w);
    fd_vec(
        "squared deviations",
        f,
        &p,
        &[gx.clone(), vec![gm]].concat(),
    );
    forward("squared deviations").check(
        &p,
        |p| f(p),
        |p, v| squared_deviations_jvp(&p[..5], p[5], &w, &v[..5].to_vec(), v[5]),
        |p, s| {
            let (y, back) = squared_deviations_vjp(&p[..5], p[5], &w);
            let (a, b) = back(s);
            (y, [a, vec![b]].concat())
        },
    );
    let dir = data(6, 3.0);
    let (_, _, (hx, hm)) = squared_deviations_hvp(&p[..5], p[5], &w, &dir[..5].to_vec(), dir[5]);
    let grad = |p: &Vec<f64>| {
        let (_, (a, b)) = squared_deviations_grad(&p[..5], p[5], &w);
        [a, vec![b]].concat()
    };
    let r = hvpcheck(grad, &p, &dir, &[hx, vec![hm]].concat());
    assert!(r.passed(), "squared deviations hvp: {r}");
}
