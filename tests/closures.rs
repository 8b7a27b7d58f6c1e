//! Closures expanded where they are called: bound to a local and called, capturing by
//! reference and by value (`move`), changing captured variables (`FnMut`), taking tuple and
//! reference patterns, and passed to iterator adapters by name.
//!
//! Each gradient is checked against the analytic derivative (stated beside the function) and
//! against central finite differences through `autodiff::check`.

#![allow(clippy::needless_range_loop, clippy::needless_return)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// f(v) = v·w called twice: y = a·w + b·w; ∂y/∂a = w, ∂y/∂b = w, ∂y/∂w = a + b.
#[differentiate]
fn called_twice(a: f64, b: f64, w: f64) -> f64 {
    let f = |v: f64| v * w;
    f(a) + f(b)
}

#[test]
fn a_local_closure_called_twice() {
    let (y, (da, db, dw)) = called_twice_grad(1.5, -2.0, 0.7);
    close("value", y, (1.5 - 2.0) * 0.7, TOL);
    close("∂a", da, 0.7, TOL);
    close("∂b", db, 0.7, TOL);
    close("∂w", dw, 1.5 - 2.0, TOL);
    let r = gradcheck(
        |p: &(f64, f64, f64)| called_twice(p.0, p.1, p.2),
        &(1.5, -2.0, 0.7),
        &(da, db, dw),
    );
    assert!(r.passed(), "{r}");
}

/// A closure sees the variables of where it was written, not later shadows of their names:
/// y = g(x) with g(v) = v·s, s = x²; then `s` is shadowed by 100 (unused by g):
/// y = x·x² = x³, dy/dx = 3x². A `move` closure keeps the value it captured: h() = 2t with
/// t = x before `t` is reassigned: z = 2x, dz/dx = 2.
#[differentiate]
fn scopes(x: f64) -> f64 {
    let s = x * x;
    let g = |v: f64| v * s;
    let s = 100.0;
    let mut t = x;
    let h = move || 2.0 * t;
    t = 0.0;
    g(x) + h() + s * t
}

#[test]
fn closures_see_the_scope_they_were_written_in() {
    let x = 1.3;
    let (y, d) = scopes_grad(x);
    close("value", y, x * x * x + 2.0 * x, TOL);
    close("d/dx", d, 3.0 * x * x + 2.0, TOL);
    fd("scopes", scopes, x, d);
}

/// An `FnMut` closure that adds to a captured sum, called in a loop: s = Σ wᵢ·xᵢ²;
/// ∂s/∂xᵢ = 2wᵢxᵢ.
#[differentiate]
fn accumulate(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut add = |v: f64, k: f64| s += k * v * v;
    for i in 0..x.len() {
        add(x[i], w[i]);
    }
    s
}

#[test]
fn fn_mut_closures_change_what_they_capture() {
    let x = [0.5, -1.0, 2.0];
    let w = [1.0, 2.0, 3.0];
    let (s, (dx, dw)) = accumulate_grad(&x, &w);
    close("value", s, 0.25 + 2.0 + 12.0, TOL);
    for i in 0..3 {
        close("∂x", dx[i], 2.0 * w[i] * x[i], TOL);
        close("∂w", dw[i], x[i] * x[i], TOL);
    }
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>)| accumulate(&p.0, &p.1),
        &(x.to_vec(), w.to_vec()),
        &(dx, dw),
    );
    assert!(r.passed(), "{r}");
}

/// Tuple and reference patterns, a block body, and a closure passed to `map` by name:
/// e = Σ (aᵢ·bᵢ + sin aᵢ); ∂/∂aᵢ = bᵢ + cos aᵢ, ∂/∂bᵢ = aᵢ.
#[differentiate]
fn patterns(a: &[f64], b: &[f64]) -> f64 {
    let term = |(&p, &q): (&f64, &f64)| {
        let prod = p * q;
        prod + p.sin()
    };
    a.iter().zip(b.iter()).map(term).sum()
}

/// The same with `|&x|` on the elements and a two-argument closure: Σ aᵢ² + 3·Σ bᵢ.
#[differentiate]
fn ref_patterns(a: &[f64], b: &[f64]) -> f64 {
    let sq = |&x: &f64| x * x;
    let lin = |acc: f64, x: &f64| acc + 3.0 * x;
    let s: f64 = a.iter().map(sq).sum();
    s + b.iter().fold(0.0, lin)
}

#[test]
fn tuple_and_reference_patterns() {
    let a = [0.3, -0.8, 1.7];
    let b = [2.0, 0.5, -1.0];
    let (_, (da, db)) = patterns_grad(&a, &b);
    for i in 0..3 {
        close("∂a", da[i], b[i] + a[i].cos(), TOL);
        close("∂b", db[i], a[i], TOL);
    }
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>)| patterns(&p.0, &p.1),
        &(a.to_vec(), b.to_vec()),
        &(da, db),
    );
    assert!(r.passed(), "{r}");
    let (_, (da, db)) = ref_patterns_grad(&a, &b);
    for i in 0..3 {
        close("∂a", da[i], 2.0 * a[i], TOL);
        close("∂b", db[i], 3.0, TOL);
    }
}

/// A closure returning a tuple, destructured: (u, v) = (x·y, x + y); u·v:
/// ∂/∂x = y·(x + y) + x·y, ∂/∂y = x·(x + y) + x·y.
#[differentiate]
fn tuple_result(x: f64, y: f64) -> f64 {
    let both = |a: f64, b: f64| (a * b, a + b);
    let (u, v) = both(x, y);
    u * v
}

#[test]
fn closures_returning_tuples() {
    let (x, y) = (0.9, -1.4);
    let (_, d) = tuple_result_grad(x, y);
    close2(
        "tuple result",
        d,
        (y * (x + y) + x * y, x * (x + y) + x * y),
    );
    fd2("tuple result", tuple_result, (x, y), d);
}

/// A closure whose body is a statement (its value is `()`), changing a captured maximum:
/// m = max 2xᵢ, ∂m/∂xᵢ = 2 at the maximum. A closure that calls another, inside `map`:
/// ln Σ exp(xᵢ²), ∂/∂xᵢ = 2xᵢ·softmax(x²)ᵢ.
#[differentiate]
fn statement_body(x: &[f64]) -> f64 {
    let mut best = f64::NEG_INFINITY;
    let mut update = |v: f64| {
        if v > best {
            best = v;
        }
    };
    for &v in x {
        update(v * 2.0);
    }
    let sq = |v: f64| -> f64 { v.powi(2) };
    let lse = x.iter().map(|&v| sq(v).exp()).sum::<f64>().ln();
    best + lse
}

#[test]
fn closures_with_unit_bodies_and_nested_calls() {
    let x = [0.5, 1.25, -0.75];
    let (v, d) = statement_body_grad(&x);
    let z: f64 = x.iter().map(|v| (v * v).exp()).sum();
    close("value", v, 2.5 + z.ln(), TOL);
    for i in 0..3 {
        let soft = 2.0 * x[i] * (x[i] * x[i]).exp() / z;
        let e = if i == 1 { 2.0 + soft } else { soft };
        close("∂x", d[i], e, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| statement_body(p), &x.to_vec(), &d);
    assert!(r.passed(), "{r}");
}

/// A local `FnMut` closure passed to `map` by name, counting its calls: s = Σ (i + 1)·xᵢ, plus
/// the count; ∂s/∂xᵢ = i + 1.
#[differentiate]
fn counting_map(x: &[f64]) -> f64 {
    let mut count = 0.0;
    let f = |v: f64| {
        count += 1.0;
        v * count
    };
    let s: f64 = x.iter().copied().map(f).sum();
    s + count
}

#[test]
fn a_counting_closure_passed_by_name() {
    let x = [1.0, 2.0, 3.0];
    let (v, d) = counting_map_grad(&x);
    close("value", v, 1.0 + 4.0 + 9.0 + 3.0, TOL);
    for i in 0..3 {
        close("∂x", d[i], (i + 1) as f64, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| counting_map(p), &x.to_vec(), &d);
    assert!(r.passed(), "{r}");
}

/// A closure taking `&mut` parameters, called with `&mut` of a local and of an element:
/// `bump(v, k)` adds `k·w` to `v`. `a = x + w + x·w`; each `c[i] = cᵢ + x·w` for
/// `c = (x, w, 1)`; y = a² + c₀·c₁·c₂. ∂a/∂x = 1 + w, ∂a/∂w = 1 + x.
#[differentiate]
fn lent_to_a_closure(x: f64, w: f64) -> f64 {
    let bump = |v: &mut f64, k: f64| *v += k * w;
    let mut a = x;
    bump(&mut a, 1.0);
    bump(&mut a, x);
    let mut c = [x, w, 1.0];
    for i in 0..3 {
        bump(&mut c[i], x);
    }
    a * a + c[0] * c[1] * c[2]
}

/// A closure writing through a `&mut [f64]` and pushing into a `&mut Vec<f64>` (a statement
/// whose value is dropped), and one returning a value beside the change:
/// h = (relu(x)·w, relu(x − 0.5)·w, relu(w)·w) twice over, `out` = w·(x, x + 1);
/// `step` returns the old `s` and sets `s ← s·w + k`.
#[differentiate]
fn lent_buffers_to_closures(x: f64, w: f64) -> f64 {
    let relu_scale = |v: &mut [f64]| {
        for e in v.iter_mut() {
            *e = e.max(0.0) * w;
        }
    };
    let emit = |out: &mut Vec<f64>, v: f64| out.push(v * w);
    let step = |s: &mut f64, k: f64| -> f64 {
        let old = *s;
        *s = *s * w + k;
        old
    };
    let mut h = vec![x, x - 0.5, w];
    relu_scale(&mut h);
    relu_scale(&mut h);
    let mut out = Vec::new();
    for k in 0..2 {
        emit(&mut out, x + k as f64);
    }
    let mut s = x;
    let first = step(&mut s, 1.0);
    let second = step(&mut s, first);
    h.iter().sum::<f64>() + out.iter().map(|o| o * o).sum::<f64>() + first * second * s
}

#[test]
fn closures_given_mut_references() {
    let (x, w) = (0.7, 1.3);
    let (y, d) = lent_to_a_closure_grad(x, w);
    let a = x + w + x * w;
    let c = [x + x * w, w + x * w, 1.0 + x * w];
    close("value", y, a * a + c[0] * c[1] * c[2], TOL);
    let dc = [(1.0 + w, x), (w, 1.0 + x), (w, x)];
    let prod_d = |k: usize| -> f64 {
        let mut s = 0.0;
        for i in 0..3 {
            let mut t = if k == 0 { dc[i].0 } else { dc[i].1 };
            for j in 0..3 {
                if j != i {
                    t *= c[j];
                }
            }
            s += t;
        }
        s
    };
    close2(
        "∂",
        d,
        (
            2.0 * a * (1.0 + w) + prod_d(0),
            2.0 * a * (1.0 + x) + prod_d(1),
        ),
    );
    fd2("lent to a closure", lent_to_a_closure, (x, w), d);
    let (_, pullback) = lent_to_a_closure_vjp(x, w);
    let (sx, sw) = pullback(-2.5);
    close2("pullback × −2.5", (sx, sw), (-2.5 * d.0, -2.5 * d.1));
    let (_, t) = lent_to_a_closure_jvp(x, w, 1.0, 0.0);
    close("tangent", t, d.0, 1e-9);
    for (x, w) in [(0.7, 1.3), (-0.4, 0.9), (1.2, -0.6)] {
        let (y, d) = lent_buffers_to_closures_grad(x, w);
        close("value", y, lent_buffers_to_closures(x, w), TOL);
        fd2("lent buffers", lent_buffers_to_closures, (x, w), d);
        let (_, t) = lent_buffers_to_closures_jvp(x, w, 0.0, 1.0);
        close("tangent", t, d.1, 1e-9);
    }
}

/// A function passed in and called on data only: a step-size schedule given as a generic
/// closure, a function pointer, or a field of a settings struct. Such a call runs as written
/// (it was "calling a variable is not supported" and, for `(s.schedule)(k)`, "only calls of
/// named functions are supported"); given a differentiated value it is an error
/// (`tests/ui/call_variable.rs`). `Σₖ w(k)·xₖ²`: `∂/∂xₖ = 2·w(k)·xₖ`.
#[differentiate(wrt(x))]
fn scheduled<F: Fn(usize) -> f64>(x: &[f64], w: F) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() {
        s += w(k) * x[k] * x[k];
    }
    s
}

#[differentiate(wrt(x))]
fn scheduled_by_pointer(x: &[f64], w: fn(usize) -> f64) -> f64 {
    x.iter().enumerate().map(|(k, v)| w(k) * v * v).sum()
}

pub struct Schedule {
    pub weight: fn(usize) -> f64,
}

#[differentiate(wrt(x))]
fn scheduled_by_field(x: &[f64], s: &Schedule) -> f64 {
    let mut t = 0.0;
    for k in 0..x.len() {
        let w = (s.weight)(k);
        t += w * x[k] * x[k];
    }
    t
}

fn halving(k: usize) -> f64 {
    0.5f64.powi(k as i32)
}

#[test]
fn functions_passed_in_run_as_written_on_data() {
    let x = vec![0.5, -1.25, 2.0];
    let want: Vec<f64> = (0..3).map(|k| 2.0 * halving(k) * x[k]).collect();
    let same = |g: &[f64]| {
        g.iter()
            .zip(&want)
            .all(|(a, b)| (a - b).abs() <= 1e-15 * b.abs())
    };
    let (v, g) = scheduled_grad(&x, halving);
    assert_eq!(v, scheduled(&x, halving));
    assert!(same(&g), "{g:?}");
    let (v, g) = scheduled_by_pointer_grad(&x, halving);
    assert_eq!(v, scheduled_by_pointer(&x, halving));
    assert!(same(&g), "{g:?}");
    let s = Schedule { weight: halving };
    let (v, g) = scheduled_by_field_grad(&x, &s);
    assert_eq!(v, scheduled_by_field(&x, &s));
    assert!(same(&g), "{g:?}");
    let (_, pb) = scheduled_by_field_vjp(&x, &s);
    gradcheck(|x: &Vec<f64>| scheduled_by_field(x, &s), &x, &pb(1.0)).assert_ok();
}

/// `return` inside closures: a clip, f = Σ clip(xᵢ·w) with clip(t) = 1 for t > 1, t
/// otherwise: ∂xᵢ = w, ∂w = xᵢ where xᵢ·w ≤ 1, 0 where it is clipped.
#[differentiate(hessian)]
fn clipped_sum(x: &[f64], w: f64) -> f64 {
    let clip = |t: f64| {
        if t > 1.0 {
            return 1.0;
        }
        t
    };
    x.iter().map(|&v| clip(v * w)).sum()
}

/// A `return` from a loop inside the closure, and one in a `map`'s closure:
/// g(t) = k·t for the first k in 1..=3 with k·t > 1, else t²; f = Σ g(xᵢ) + Σ h(xᵢ) with
/// h(t) = sin t for t < 0, t·w otherwise.
#[differentiate(hessian)]
fn early_returns(x: &[f64], w: f64) -> f64 {
    let g = |t: f64| -> f64 {
        for k in 1..4 {
            if t * k as f64 > 1.0 {
                return t * k as f64;
            }
        }
        t * t
    };
    let a: f64 = x.iter().map(|&t| g(t)).sum();
    let b: f64 = x
        .iter()
        .map(|&t| {
            if t < 0.0 {
                return t.sin();
            }
            t * w
        })
        .sum();
    a + b
}

/// A closure of `()` leaving early (`return;`) and one whose body is an `if` with a
/// `return` in one arm: acc = Σ_{xᵢ ≤ 1} xᵢ², f = acc + Σ s(xᵢ) with s(t) = ln t for t >
/// 0.5, t·w otherwise.
#[differentiate(hessian)]
fn unit_and_expression_bodies(x: &[f64], w: f64) -> f64 {
    let mut acc = 0.0;
    x.iter().for_each(|&t| {
        if t > 1.0 {
            return;
        }
        acc += t * t;
    });
    let s = |t: f64| if t > 0.5 { return t.ln() } else { t * w };
    acc + x.iter().map(|&t| s(t)).sum::<f64>()
}

#[test]
fn closures_that_return_early() {
    // `return` inside a closure was a compile error that said to make the closure's value
    // its last expression, which a `return` inside a loop of the closure cannot be.
    let x = [0.3, 2.5, -0.4, 0.9];
    for w in [0.8, 1.7] {
        let (y, (dx, dw)) = clipped_sum_grad(&x, w);
        close("clip value", y, clipped_sum(&x, w), TOL);
        let kept = |v: f64| v * w <= 1.0;
        let want_dx: Vec<f64> = x.iter().map(|&v| if kept(v) { w } else { 0.0 }).collect();
        let want_dw: f64 = x.iter().filter(|&&v| kept(v)).sum();
        close_all("clip ∂x", &dx, &want_dx);
        close("clip ∂w", dw, want_dw, TOL);
        let (_, back) = clipped_sum_vjp(&x, w);
        let (sx, sw) = back(-2.5);
        close_all(
            "clip seeded ∂x",
            &sx,
            &want_dx.iter().map(|d| -2.5 * d).collect::<Vec<_>>(),
        );
        close("clip seeded ∂w", sw, -2.5 * want_dw, TOL);
        // ∂²f/∂xᵢ∂w = 1 where kept: along (0, 1) the Hessian gives that on x and 0 on w.
        let (_, _, (hx, hw)) = clipped_sum_hvp(&x, w, &vec![0.0; 4], 1.0);
        let want_h: Vec<f64> = x.iter().map(|&v| if kept(v) { 1.0 } else { 0.0 }).collect();
        close_all("clip hvp x", &hx, &want_h);
        close("clip hvp w", hw, 0.0, TOL);
    }
    let g = |t: f64| -> (f64, f64) {
        for k in 1..4 {
            let k = k as f64;
            if t * k > 1.0 {
                return (t * k, k);
            }
        }
        (t * t, 2.0 * t)
    };
    for w in [0.6, -1.3] {
        let (y, (dx, dw)) = early_returns_grad(&x, w);
        close("early returns value", y, early_returns(&x, w), TOL);
        for (i, &t) in x.iter().enumerate() {
            let dh = if t < 0.0 { t.cos() } else { w };
            close(&format!("early returns ∂x[{i}]"), dx[i], g(t).1 + dh, TOL);
        }
        let want_dw: f64 = x.iter().filter(|&&t| t >= 0.0).sum();
        close("early returns ∂w", dw, want_dw, TOL);
        let (_, t) = early_returns_jvp(&x, w, &vec![0.0; 4], 1.0);
        close("early returns tangent", t, dw, TOL);
        let (_, gh, _) = early_returns_hvp(&x, w, &vec![1.0, 0.0, 0.0, 0.0], 0.0);
        close_all("early returns hvp gradient", &gh.0, &dx);
    }
    for w in [0.6, -1.3] {
        let (y, (dx, dw)) = unit_and_expression_bodies_grad(&x, w);
        close("bodies value", y, unit_and_expression_bodies(&x, w), TOL);
        for (i, &t) in x.iter().enumerate() {
            let da = if t > 1.0 { 0.0 } else { 2.0 * t };
            let ds = if t > 0.5 { 1.0 / t } else { w };
            close(&format!("bodies ∂x[{i}]"), dx[i], da + ds, TOL);
        }
        let want_dw: f64 = x.iter().filter(|&&t| t <= 0.5).sum();
        close("bodies ∂w", dw, want_dw, TOL);
        fd_vec(
            "bodies",
            |p| unit_and_expression_bodies(&p[..4], p[4]),
            &[&x[..], &[w]].concat(),
            &[&dx[..], &[dw]].concat(),
        );
    }
}
