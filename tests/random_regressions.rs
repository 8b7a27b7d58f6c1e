//! The smallest forms of classes of failures that random-program testing
//! (`autodiff-random`) found beyond the CI seed: locals and parameters lent to a callee inside a
//! loop, array literals of differentiated values lent as slices, writes through `iter_mut`
//! inside a branch, and arrays and `Vec`s lent to the mutations that take a slice
//! (`copy_from_slice`, `clone_from_slice`, `extend_from_slice`), literals assigned to variables
//! whose type rustc infers (also where only constants gave it, then a method of the literal), variables shadowed inside a loop, a loop's item read by a predicate run as written, `return`/`break` in the `else` of an `if let`, `Vec::from` of differentiated values, and literals assigned over variables whose earlier value has a type only rustc knows (a call's result, a tuple's field), under `hessian` the pullback of a call whose cotangent no direction changes, and buffers that helpers write through `&mut` (an array written, then lent as a slice; a `Vec` pushed to in a `while` loop), and `*self`, `*x` and `*p` of parameters taken by reference under `hessian`. Each is checked against its analytic gradient (stated in a comment) and
//! central finite differences, and its tangent against the gradient; a local matrix written by
//! element and then iterated (`indexed_iter`, `iter()`) is checked the same way, and so are
//! windows read by a `filter`'s predicate, `step_by` after `filter`, and an array literal lent to
//! a callee taking a slice inside a branch or a loop under `hessian`. Deeply nested expressions of values
//! read once (whose expansion once took minutes) are checked against differences.

#![allow(
    clippy::assign_op_pattern,
    clippy::ptr_arg,
    clippy::vec_init_then_push,
    clippy::useless_vec,
    clippy::single_match,
    clippy::while_let_loop,
    clippy::needless_range_loop,
    unused_assignments
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// h(s, x) = s₀·x.
#[differentiate]
fn first_times(s: &[f64], x: f64) -> f64 {
    s[0] * x
}

/// Σᵢ a₀·aᵢ: ∂a₀ = Σᵢ aᵢ + a₀, ∂aₖ = a₀ (k > 0). The array parameter is lent in a loop.
#[differentiate]
fn array_lent_in_a_loop(a: [f64; 3]) -> f64 {
    let mut t = 0.0;
    for i in 0..a.len() {
        t += first_times(&a, a[i]);
    }
    t
}

/// 3 calls of x·x on a local `vec![x; 3]`: 3x², derivative 6x.
#[differentiate]
fn local_vec_lent_in_a_loop(x: f64) -> f64 {
    let v = vec![x; 3];
    let mut t = 0.0;
    for _ in 0..3 {
        t += first_times(&v, x);
    }
    t
}

/// Σ over 3 trips of v₀·x: ∂v₀ = 3x, ∂vₖ = 0 (k > 0), ∂x = 3v₀. A `Vec` parameter taken by
/// value and lent in a loop.
#[differentiate]
fn vec_parameter_lent_in_a_loop(v: Vec<f64>, x: f64) -> f64 {
    let mut t = 0.0;
    for _ in 0..3 {
        t += first_times(&v, x);
    }
    t
}

/// [x², 2x] lent as a slice: x²·x = x³, derivative 3x²; twice in a loop, 6x².
#[differentiate]
fn array_literal_lent(x: f64) -> f64 {
    let v = [x * x, 2.0 * x];
    let once = first_times(&v, x);
    let mut t = 0.0;
    for _ in 0..2 {
        t += first_times(&v, x);
    }
    once + t
}

/// With x ≥ 0 the loop scales every element by 0.3x: v₀' = 0.3·x·v₀, so ∂x = 0.3v₀,
/// ∂v₀ = 0.3x; with x < 0, v₀: ∂v₀ = 1.
#[differentiate]
fn iter_mut_in_a_branch(x: f64, v: Vec<f64>) -> f64 {
    let mut w = v.clone();
    if x < 0.0 {
    } else {
        for e in w.iter_mut() {
            *e = 0.3 * *e * x;
        }
    }
    w[0]
}

/// [sin(x)·x, sin(2x)·x] when x ≥ 0 (else [x, 2x]) plus v₀·(x + 0) (through an `enumerate`
/// in a `match` arm): for x ≥ 0, ∂x = (x cos x + sin x) + (2x cos 2x + sin 2x) + v₀,
/// for x < 0, ∂x = 3 + v₀; ∂v₀ = x.
#[differentiate]
fn for_each_and_enumerate_in_branches(x: f64, v: &[f64]) -> f64 {
    let mut a = [x, 2.0 * x];
    if x < 0.0 {
    } else {
        a.iter_mut().for_each(|e| *e = e.sin() * x);
    }
    let mut w = v.to_vec();
    match v.len() {
        0 => {}
        _ => {
            for (i, e) in w.iter_mut().enumerate() {
                *e *= x + i as f64;
            }
        }
    }
    a[0] + a[1] + w[0]
}

/// buf₀ scaled by x when x > 0, then times x: b₀x² (∂x = 2b₀x), else b₀x (∂x = b₀).
#[differentiate]
fn buffer_written_in_a_branch(x: f64, buf: &mut Vec<f64>) -> f64 {
    if x > 0.0 {
        for e in buf.iter_mut() {
            *e *= x;
        }
    }
    buf[0] * x
}

/// x = cos x₀ read, then x = -0.5 (a literal, in a loop), then x = -1.5:
/// t = sin(cos x₀) + tanh(cos x₀) + tanh(-0.5), the result t·tanh(-1.5), so
/// d/dx₀ = tanh(-1.5)·(cos(cos x₀) + sech²(cos x₀))·(-sin x₀).
#[differentiate]
fn literal_assigned_to_an_inferred_variable(x0: f64) -> f64 {
    let mut x = x0.cos();
    let mut t = x.sin();
    for _ in 0..2 {
        t += x.tanh();
        x = -0.5;
    }
    x = (-3.0) * 0.5;
    t * x.tanh()
}

/// sin(2x₀) + e¹ in `f32`: derivative 2cos(2x₀).
#[differentiate]
fn literal_assigned_in_f32(x0: f32) -> f32 {
    let mut x = x0 * 2.0;
    let t = x.sin();
    x = 1.0;
    t + x.exp()
}

/// The loop's `let mut s` shadows the slice parameter `s`, read after the loop. With x₁ > 0
/// the inner `while` leaves the local s at 1 and the second trip adds x₀·1: the result is
/// s_last·x₁ + x₀ (∂x₀ = 1, ∂x₁ = s_last, ∂s_last = x₁); with x₁ ≤ 0, s_last·x₁.
#[differentiate]
fn shadowed_in_a_loop(x0: f64, x1: f64, s: &[f64]) -> f64 {
    let mut k = 0;
    let mut t = 0.0;
    loop {
        let mut s: f64 = 0.0;
        while s < 1.0 && x1 > 0.0 {
            s += 1.0;
        }
        if k != 1 {
        } else {
            for _ in 0..1 {
                let mut h: Vec<f64> = Vec::new();
                h.push(x0);
                t += h[0] * s;
            }
        }
        k += 1;
        if k >= 4 {
            break;
        }
    }
    s.last().copied().unwrap() * x1 + t
}

#[test]
fn lent_in_loops() {
    let a = [0.7, -1.2, 0.4];
    let (y, g) = array_lent_in_a_loop_grad(a);
    assert_eq!(y, array_lent_in_a_loop(a));
    let s: f64 = a.iter().sum();
    for (k, (&d, e)) in g.iter().zip([s + a[0], a[0], a[0]]).enumerate() {
        close(&format!("array lent, ∂a{k}"), d, e, TOL);
    }
    let r = gradcheck(|a: &[f64; 3]| array_lent_in_a_loop(*a), &a, &g);
    assert!(r.passed(), "array lent in a loop: {r}");

    for x in [0.8, -1.3] {
        let (y, d) = local_vec_lent_in_a_loop_grad(x);
        assert_eq!(y, local_vec_lent_in_a_loop(x));
        close("local vec lent", d, 6.0 * x, TOL);
        fd("local vec lent", local_vec_lent_in_a_loop, x, d);
        let (yj, t) = local_vec_lent_in_a_loop_jvp(x, 1.0);
        assert_eq!(yj, y);
        close("local vec lent, tangent", t, d, TOL);
    }

    let (v, x) = (vec![0.9, -0.5], 1.7);
    let (y, (gv, gx)) = vec_parameter_lent_in_a_loop_grad(v.clone(), x);
    assert_eq!(y, vec_parameter_lent_in_a_loop(v.clone(), x));
    close("vec parameter lent, ∂v0", gv[0], 3.0 * x, TOL);
    close("vec parameter lent, ∂v1", gv[1], 0.0, TOL);
    close("vec parameter lent, ∂x", gx, 3.0 * v[0], TOL);
    let p = (v.clone(), x);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| vec_parameter_lent_in_a_loop(p.0.clone(), p.1),
        &p,
        &(gv.clone(), gx),
    );
    assert!(r.passed(), "vec parameter lent in a loop: {r}");
    let (dv, dx) = (vec![0.3, 2.0], -0.6);
    let (yj, t) = vec_parameter_lent_in_a_loop_jvp(v.clone(), x, dv.clone(), dx);
    assert_eq!(yj, y);
    close(
        "vec parameter lent, tangent",
        t,
        gv[0] * dv[0] + gv[1] * dv[1] + gx * dx,
        TOL,
    );
}

#[test]
fn array_literals_lent_as_slices() {
    for x in [0.6, -1.1] {
        let (y, d) = array_literal_lent_grad(x);
        assert_eq!(y, array_literal_lent(x));
        close("array literal lent", d, 9.0 * x * x, TOL);
        fd("array literal lent", array_literal_lent, x, d);
        let (_, t) = array_literal_lent_jvp(x, 1.0);
        close("array literal lent, tangent", t, d, TOL);
    }
}

#[test]
fn iter_mut_writes_inside_branches() {
    let v = vec![0.4, -0.3];
    for x in [0.5, -0.5] {
        let (y, (gx, gv)) = iter_mut_in_a_branch_grad(x, v.clone());
        assert_eq!(y, iter_mut_in_a_branch(x, v.clone()));
        let (ex, ev0) = if x < 0.0 {
            (0.0, 1.0)
        } else {
            (0.3 * v[0], 0.3 * x)
        };
        close("iter_mut in a branch, ∂x", gx, ex, TOL);
        close("iter_mut in a branch, ∂v0", gv[0], ev0, TOL);
        close("iter_mut in a branch, ∂v1", gv[1], 0.0, TOL);
        let r = gradcheck(
            |p: &(f64, Vec<f64>)| iter_mut_in_a_branch(p.0, p.1.clone()),
            &(x, v.clone()),
            &(gx, gv.clone()),
        );
        assert!(r.passed(), "iter_mut in a branch at {x}: {r}");

        let (y, (gx, gv)) = for_each_and_enumerate_in_branches_grad(x, &v);
        assert_eq!(y, for_each_and_enumerate_in_branches(x, &v));
        let ex = if x < 0.0 {
            3.0 + v[0]
        } else {
            x * x.cos() + x.sin() + 2.0 * x * (2.0 * x).cos() + (2.0 * x).sin() + v[0]
        };
        close("for_each and enumerate, ∂x", gx, ex, TOL);
        close("for_each and enumerate, ∂v0", gv[0], x, TOL);
        close("for_each and enumerate, ∂v1", gv[1], 0.0, TOL);
        let r = gradcheck(
            |p: &(f64, Vec<f64>)| for_each_and_enumerate_in_branches(p.0, &p.1),
            &(x, v.clone()),
            &(gx, gv.clone()),
        );
        assert!(r.passed(), "for_each and enumerate at {x}: {r}");

        let mut b = v.clone();
        let (y, (gx, _)) = buffer_written_in_a_branch_grad(x, &mut b);
        let mut b_plain = v.clone();
        assert_eq!(y, buffer_written_in_a_branch(x, &mut b_plain));
        assert_eq!(b, b_plain);
        let ex = if x > 0.0 { 2.0 * v[0] * x } else { v[0] };
        close("buffer written in a branch, ∂x", gx, ex, TOL);
        fd(
            "buffer written in a branch",
            |x| buffer_written_in_a_branch(x, &mut v.clone()),
            x,
            gx,
        );
    }
}

/// Σᵢ hᵢ·aᵢ with h a copy of a: Σ aᵢ², ∂aᵢ = 2aᵢ. An array parameter lent to `copy_from_slice`.
#[differentiate]
fn array_copied_into_a_vec(a: [f64; 3]) -> f64 {
    let mut h = vec![0.0; 3];
    h.copy_from_slice(&a);
    h[0] * a[0] + h[1] * a[1] + h[2] * a[2]
}

/// h = [x, a₀, a₁]: x·a₀ + a₁·x, ∂a = (x, x), ∂x = a₀ + a₁.
#[differentiate]
fn array_extends_a_vec(a: [f64; 2], x: f64) -> f64 {
    let mut h = vec![x];
    h.extend_from_slice(&a);
    h[0] * h[1] + h[2] * x
}

/// h = (v₀, v₁): v₀·x + v₁², ∂v = (x, 2v₁), ∂x = v₀. A `Vec` taken by value, lent to
/// `clone_from_slice` of an array.
#[differentiate]
fn vec_cloned_into_an_array(v: Vec<f64>, x: f64) -> f64 {
    let mut h = [0.0; 2];
    h.clone_from_slice(&v);
    h[0] * x + h[1] * h[1]
}

/// Three copies of a appended, s = 3(a₀ + a₁), s·a₀: ∂a₀ = 6a₀ + 3a₁, ∂a₁ = 3a₀. An array lent
/// by reference to `extend_from_slice` in a loop.
#[differentiate]
fn array_ref_extends_in_a_loop(a: &[f64; 2]) -> f64 {
    let mut h = Vec::new();
    for _ in 0..3 {
        h.extend_from_slice(a);
    }
    let s: f64 = h.iter().sum();
    s * a[0]
}

/// Array literals lent to mutations: h = [0, 0, x², 3x] gives h₂·h₃ = 3x³, k = [x, 2x] gives
/// k₀·k₁ = 2x²: 3x³ + 2x², derivative 9x² + 4x.
#[differentiate]
fn array_literals_lent_to_mutations(x: f64) -> f64 {
    let a = [x * x, 3.0 * x];
    let mut h = vec![0.0; 2];
    h.extend_from_slice(&a);
    let mut k = [0.0; 2];
    k.copy_from_slice(&[x, 2.0 * x]);
    h[2] * h[3] + k[0] * k[1]
}

/// buf = a, then buf₀·buf₁ = a₀·a₁: ∂a = (a₁, a₀). An array copied into a `&mut` buffer.
#[differentiate]
fn array_copied_into_a_buffer(a: [f64; 2], buf: &mut Vec<f64>) -> f64 {
    buf.copy_from_slice(&a);
    buf[0] * buf[1]
}

#[test]
fn arrays_lent_to_mutations() {
    let a = [0.7, -1.2, 0.4];
    let (y, g) = array_copied_into_a_vec_grad(a);
    assert_eq!(y, array_copied_into_a_vec(a));
    for k in 0..3 {
        close(&format!("copy_from_slice, ∂a{k}"), g[k], 2.0 * a[k], TOL);
    }
    let r = gradcheck(|a: &[f64; 3]| array_copied_into_a_vec(*a), &a, &g);
    assert!(r.passed(), "copy_from_slice of an array: {r}");
    let da = [0.3, -0.8, 1.1];
    let (yj, t) = array_copied_into_a_vec_jvp(a, da);
    assert_eq!(yj, y);
    close("copy_from_slice, tangent", t, dot(&g, &da), TOL);

    let (a, x) = ([0.9, -0.4], 1.3);
    let (y, (ga, gx)) = array_extends_a_vec_grad(a, x);
    assert_eq!(y, array_extends_a_vec(a, x));
    close("extend_from_slice, ∂a0", ga[0], x, TOL);
    close("extend_from_slice, ∂a1", ga[1], x, TOL);
    close("extend_from_slice, ∂x", gx, a[0] + a[1], TOL);
    let r = gradcheck(
        |p: &([f64; 2], f64)| array_extends_a_vec(p.0, p.1),
        &(a, x),
        &(ga, gx),
    );
    assert!(r.passed(), "extend_from_slice of an array: {r}");
    let (da, dx) = ([0.5, 1.5], -0.7);
    let (yj, t) = array_extends_a_vec_jvp(a, x, da, dx);
    assert_eq!(yj, y);
    close(
        "extend_from_slice, tangent",
        t,
        dot(&ga, &da) + gx * dx,
        TOL,
    );

    let (v, x) = (vec![0.6, -1.4], 0.8);
    let (y, (gv, gx)) = vec_cloned_into_an_array_grad(v.clone(), x);
    assert_eq!(y, vec_cloned_into_an_array(v.clone(), x));
    close("clone_from_slice, ∂v0", gv[0], x, TOL);
    close("clone_from_slice, ∂v1", gv[1], 2.0 * v[1], TOL);
    close("clone_from_slice, ∂x", gx, v[0], TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| vec_cloned_into_an_array(p.0.clone(), p.1),
        &(v.clone(), x),
        &(gv.clone(), gx),
    );
    assert!(r.passed(), "clone_from_slice of a Vec: {r}");
    let (dv, dx) = (vec![-0.2, 0.9], 0.4);
    let (yj, t) = vec_cloned_into_an_array_jvp(v.clone(), x, dv.clone(), dx);
    assert_eq!(yj, y);
    close("clone_from_slice, tangent", t, dot(&gv, &dv) + gx * dx, TOL);

    let a = [0.35, -0.9];
    let (y, g) = array_ref_extends_in_a_loop_grad(&a);
    assert_eq!(y, array_ref_extends_in_a_loop(&a));
    close("extend in a loop, ∂a0", g[0], 6.0 * a[0] + 3.0 * a[1], TOL);
    close("extend in a loop, ∂a1", g[1], 3.0 * a[0], TOL);
    let r = gradcheck(|a: &[f64; 2]| array_ref_extends_in_a_loop(a), &a, &g);
    assert!(r.passed(), "extend_from_slice in a loop: {r}");
    let da = [1.2, 0.3];
    let (yj, t) = array_ref_extends_in_a_loop_jvp(&a, &da);
    assert_eq!(yj, y);
    close("extend in a loop, tangent", t, dot(&g, &da), TOL);

    for x in [0.7, -1.6] {
        let (y, d) = array_literals_lent_to_mutations_grad(x);
        assert_eq!(y, array_literals_lent_to_mutations(x));
        close("array literals lent", d, 9.0 * x * x + 4.0 * x, TOL);
        fd(
            "array literals lent",
            array_literals_lent_to_mutations,
            x,
            d,
        );
        let (yj, t) = array_literals_lent_to_mutations_jvp(x, 1.0);
        assert_eq!(yj, y);
        close("array literals lent, tangent", t, d, TOL);
    }

    let a = [1.1, -0.45];
    let mut buf = vec![0.0; 2];
    let (y, (g, _)) = array_copied_into_a_buffer_grad(a, &mut buf);
    let mut plain = vec![0.0; 2];
    assert_eq!(y, array_copied_into_a_buffer(a, &mut plain));
    assert_eq!(buf, plain);
    close("copy into a buffer, ∂a0", g[0], a[1], TOL);
    close("copy into a buffer, ∂a1", g[1], a[0], TOL);
    let r = gradcheck(
        |a: &[f64; 2]| array_copied_into_a_buffer(*a, &mut vec![0.0; 2]),
        &a,
        &g,
    );
    assert!(r.passed(), "copy of an array into a buffer: {r}");
}

/// Σᵢ gᵢ·dᵢ.
fn dot(g: &[f64], d: &[f64]) -> f64 {
    g.iter().zip(d).map(|(g, d)| g * d).sum()
}

#[test]
fn literals_assigned_to_variables_of_an_inferred_type() {
    for x0 in [0.4, -1.2] {
        let (y, d) = literal_assigned_to_an_inferred_variable_grad(x0);
        assert_eq!(y, literal_assigned_to_an_inferred_variable(x0));
        let c = x0.cos();
        let sech2 = 1.0 - c.tanh() * c.tanh();
        let e = (-1.5f64).tanh() * (c.cos() + sech2) * -x0.sin();
        close("literal assigned", d, e, TOL);
        fd(
            "literal assigned",
            literal_assigned_to_an_inferred_variable,
            x0,
            d,
        );
        let (yj, t) = literal_assigned_to_an_inferred_variable_jvp(x0, 1.0);
        assert_eq!(yj, y);
        close("literal assigned, tangent", t, d, TOL);

        let x = x0 as f32;
        let (y, d) = literal_assigned_in_f32_grad(x);
        assert_eq!(y, literal_assigned_in_f32(x));
        close(
            "literal assigned, f32",
            d as f64,
            2.0 * (2.0 * x0).cos(),
            1e-5,
        );
        fd32("literal assigned, f32", literal_assigned_in_f32, x, d);
    }
}

#[test]
fn a_variable_shadowed_inside_a_loop_is_not_carried() {
    let s = vec![0.8, -0.3];
    for x1 in [0.6, -0.6] {
        let x0 = 1.3;
        let (y, (g0, g1, gs)) = shadowed_in_a_loop_grad(x0, x1, &s);
        assert_eq!(y, shadowed_in_a_loop(x0, x1, &s));
        let on = if x1 > 0.0 { 1.0 } else { 0.0 };
        close("shadowed, ∂x0", g0, on, TOL);
        close("shadowed, ∂x1", g1, s[1], TOL);
        close("shadowed, ∂s0", gs[0], 0.0, TOL);
        close("shadowed, ∂s1", gs[1], x1, TOL);
        let r = gradcheck(
            |p: &(f64, f64, Vec<f64>)| shadowed_in_a_loop(p.0, p.1, &p.2),
            &(x0, x1, s.clone()),
            &(g0, g1, gs.clone()),
        );
        assert!(r.passed(), "shadowed in a loop at {x1}: {r}");
        let (yj, t) = shadowed_in_a_loop_jvp(x0, x1, &s, 0.5, -0.2, &vec![0.1, 0.7]);
        assert_eq!(yj, y);
        close(
            "shadowed, tangent",
            t,
            0.5 * g0 - 0.2 * g1 + 0.1 * gs[0] + 0.7 * gs[1],
            TOL,
        );
    }
}

/// Data (a local `Vec` nothing differentiated reaches) lent to `extend_from_slice`: in forward
/// mode its zero tangent was passed by value where the method takes a slice (E0308). With
/// h = [x0·x1, x1, 0.25, 0.5]: f = h₀ + h₃·x1 = x0·x1 + 0.5·x1, so ∂f/∂x0 = x1 and
/// ∂f/∂x1 = x0 + 0.5.
#[differentiate]
fn data_lent_to_extend_from_slice(x0: f32, x1: f32) -> f32 {
    let data: Vec<f32> = vec![0.25, 0.5];
    let mut h = vec![x0 * x1, x1];
    h.extend_from_slice(&data);
    h[0] + h[3] * x1
}

#[test]
fn data_lent_to_a_mutation_has_a_lent_zero_tangent() {
    let (x0, x1) = (1.25f32, -0.75f32);
    let (y, (g0, g1)) = data_lent_to_extend_from_slice_grad(x0, x1);
    assert_eq!(y, data_lent_to_extend_from_slice(x0, x1));
    close("lent data, ∂x0", g0 as f64, x1 as f64, 1e-6);
    close("lent data, ∂x1", g1 as f64, x0 as f64 + 0.5, 1e-6);
    fd32(
        "lent data, ∂x0",
        |x| data_lent_to_extend_from_slice(x, x1),
        x0,
        g0,
    );
    fd32(
        "lent data, ∂x1",
        |x| data_lent_to_extend_from_slice(x0, x),
        x1,
        g1,
    );
    let (yj, t) = data_lent_to_extend_from_slice_jvp(x0, x1, 0.5, -2.0);
    assert_eq!(yj, y);
    close(
        "lent data, tangent",
        t as f64,
        (0.5 * g0 - 2.0 * g1) as f64,
        1e-6,
    );
}

/// A constant item, whose type the macro cannot see (it meets floats like a literal).
const SCALE: f64 = 0.75;

/// A literal assigned over a variable whose value came from constants, then a method called on
/// it: `t = log10(2 + SCALE²)`, then `t = -0.25`, and f = x·log10(2 + SCALE²) + x·clamp(-0.25,
/// -1.5, 2). Neither value says `f64`, so the generated `(-0.25).clamp(..)` had an ambiguous
/// float type (E0689). f'(x) = log10(2 + SCALE²) - 0.25.
#[differentiate]
fn literal_over_a_constant(x: f64) -> f64 {
    let mut t = (2.0 + SCALE * SCALE).log10();
    let y = x * t;
    t = -0.25;
    y + x * t.clamp(-1.5, 2.0)
}

#[test]
fn a_method_of_a_literal_assigned_over_a_constant_takes_the_float_type() {
    for x in [0.7, -0.4] {
        let (y, d) = literal_over_a_constant_grad(x);
        assert_eq!(y, literal_over_a_constant(x));
        let e = (2.0 + SCALE * SCALE).log10() - 0.25;
        close("literal over a constant", d, e, TOL);
        fd("literal over a constant", literal_over_a_constant, x, d);
        let (yj, t) = literal_over_a_constant_jvp(x, 1.0);
        assert_eq!(yj, y);
        close("literal over a constant, tangent", t, d, TOL);
    }
}

/// A loop's item (`e`, a `&f64`) read by a predicate that runs as written: Σ over the items e of
/// s of s[j], j the first index with s_j·e > 0.5 (none: nothing added). The item is not
/// differentiated (only the index it decides is), and was emitted borrowed as a row of a nested
/// container, `let e: f64 = &s[i]` (E0308). At s = (0.3, 0.9, 0.7): no j for e = 0.3, j = 1 for
/// e = 0.9 and e = 0.7 (0.9·0.9, 0.9·0.7 > 0.5 > 0.3·e), so f = 2·s₁ and ∇f = (0, 2, 0).
#[differentiate]
fn item_read_by_a_predicate(s: &[f64]) -> f64 {
    let mut t = 0.0;
    for e in s {
        match s.iter().position(|&q| q * (*e) > 0.5) {
            Some(j) => t += s[j],
            None => {}
        }
    }
    t
}

#[test]
fn an_item_read_by_a_predicate_run_as_written_is_a_float() {
    let s = vec![0.3, 0.9, 0.7];
    let (y, g) = item_read_by_a_predicate_grad(&s);
    assert_eq!(y, item_read_by_a_predicate(&s));
    for (k, e) in [0.0, 2.0, 0.0].into_iter().enumerate() {
        close("item read by a predicate", g[k], e, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| item_read_by_a_predicate(p), &s, &g);
    assert!(r.passed(), "item read by a predicate: {r}");
    let v = vec![0.5, -1.0, 0.25];
    let (yj, t) = item_read_by_a_predicate_jvp(&s, &v);
    assert_eq!(yj, y);
    close("item read by a predicate, tangent", t, dot(&g, &v), TOL);
}

/// `break`, `continue` (and an arm's block) inside the arms of a `match` on an element taken out
/// of a container (`stack.pop()`, `x.iter().position(..)`) and in a `while let` body: the match
/// is rewritten as the emptiness test and the element read, and the arms' statements must stay
/// statements of that `if` (they were wrapped in a block expression, which the lowering
/// rejects). A work list drained from index n−1 by steps of 2 gives s = Σ_{j ≡ n−1 (mod 2)} x_j²;
/// the position search adds x_j for the first j with x_j·e > 0.5, for each item e (none: skip).
/// ∂s/∂x_j = 2x_j on the drained indices; ∂t/∂x_j = how often j is found.
#[differentiate]
fn work_list(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut stack: Vec<usize> = vec![x.len() - 1];
    loop {
        match stack.pop() {
            Some(j) => {
                if j >= 2 {
                    stack.push(j - 2);
                }
                s += x[j] * x[j];
                continue;
            }
            None => break,
        }
    }
    let mut t = 0.0;
    for e in x {
        match x.iter().position(|&q| q * (*e) > 0.5) {
            Some(j) => {
                t += x[j];
            }
            None => {
                continue;
            }
        }
    }
    while let Some(j) = stack.pop() {
        if j == 0 {
            break;
        }
        t += x[j];
    }
    s + t
}

#[test]
fn break_and_continue_in_the_arms_of_an_element_match() {
    let x = vec![0.5, 1.2, -0.7, 2.0, 0.9];
    let (y, g) = work_list_grad(&x);
    assert_eq!(y, work_list(&x));
    let n = x.len();
    let mut expected: Vec<f64> = (0..n)
        .map(|j| {
            if (n - 1 - j) % 2 == 0 {
                2.0 * x[j]
            } else {
                0.0
            }
        })
        .collect();
    for e in &x {
        if let Some(j) = x.iter().position(|&q| q * e > 0.5) {
            expected[j] += 1.0;
        }
    }
    for (k, e) in expected.iter().enumerate() {
        close("work list", g[k], *e, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| work_list(p), &x, &g);
    assert!(r.passed(), "work list: {r}");
    let v = vec![0.5, -1.0, 0.25, 1.0, -0.5];
    let (yj, t) = work_list_jvp(&x, &v);
    assert_eq!(yj, y);
    close("work list, tangent", t, dot(&g, &v), TOL);
}

/// `return`, `break` or `continue` in the `else` block of an `if let` (also nested in a `match`
/// there, and after an `else if let`): the `if let` is the `match` it stands for, and its
/// `else` block was wrapped in a second block, which put the statement inside a block
/// expression (a diagnostic on a valid program). For x = (x₀, x₁, x₂):
/// if some xⱼ > 1 (the first such j): xⱼ·x₀; else, if some xⱼ < −1 (the last): return xⱼ²;
/// else if x₂ > 0: return x₀x₂; else x₀x₁. Then, over three trips, t += x₀·xᵢ unless t > 1
/// after an element found (break) or none found.
#[differentiate]
fn diverging_else_of_if_let(x: &[f64]) -> f64 {
    let y;
    if let Some(j) = x.iter().position(|q| *q > 1.0) {
        y = x[j] * x[0];
    } else if let Some(k) = x.iter().rposition(|q| *q < -1.0) {
        return x[k] * x[k];
    } else {
        match x.iter().position(|q| *q > 0.0) {
            Some(2) => return x[0] * x[2],
            _ => {}
        }
        y = x[0] * x[1];
    }
    let mut t = 0.0;
    for i in 0..3 {
        if let Some(j) = x.iter().position(|q| *q > 5.0) {
            t += x[j];
        } else {
            if t > 1.0 {
                break;
            }
            t += x[0] * x[i];
        }
    }
    y + t
}

/// The same function written with `match` and `if`, as the analytic reference.
fn diverging_else_of_if_let_reference(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; 3];
    let big = x.iter().position(|q| *q > 1.0);
    let low = x.iter().rposition(|q| *q < -1.0);
    let pos = x.iter().position(|q| *q > 0.0);
    match (big, low, pos) {
        (Some(j), _, _) => {
            g[j] += x[0];
            g[0] += x[j];
        }
        (None, Some(k), _) => {
            g[k] += 2.0 * x[k];
            return g;
        }
        (None, None, Some(2)) => {
            g[0] += x[2];
            g[2] += x[0];
            return g;
        }
        _ => {
            g[0] += x[1];
            g[1] += x[0];
        }
    }
    let mut t = 0.0;
    for i in 0..3 {
        if t > 1.0 {
            break;
        }
        t += x[0] * x[i];
        g[0] += x[i];
        g[i] += x[0];
    }
    g
}

#[test]
fn return_break_and_continue_in_the_else_of_an_if_let() {
    for x in [
        vec![0.5, 1.6, -0.3],
        vec![0.4, -1.5, 0.2],
        vec![-0.4, -0.5, 0.7],
        vec![-0.4, 0.9, -0.7],
        vec![0.9, 0.8, 0.7],
    ] {
        let (y, g) = diverging_else_of_if_let_grad(&x);
        assert_eq!(y, diverging_else_of_if_let(&x));
        let e = diverging_else_of_if_let_reference(&x);
        for k in 0..3 {
            close(
                &format!("diverging else of if let at {x:?}, ∂x{k}"),
                g[k],
                e[k],
                TOL,
            );
        }
        let r = gradcheck(|p: &Vec<f64>| diverging_else_of_if_let(p), &x, &g);
        assert!(r.passed(), "diverging else of if let at {x:?}: {r}");
        let v = vec![0.5, -1.0, 0.25];
        let (yj, t) = diverging_else_of_if_let_jvp(&x, &v);
        assert_eq!(yj, y);
        close("diverging else of if let, tangent", t, dot(&g, &v), TOL);
    }
}

/// `Vec::from(..)` of an array, a slice, a range of one and a reference to an array of
/// differentiated values: the copy `.to_vec()` (there is no `Vec::from_vjp`; it was rustc's
/// E0599 in the generated code). v = (x₀, x₀x₁), w = s, u = (s₁, s₂), z = (x₁, s₀):
/// f = v₀v₁ + w₀·u₁ + z₀z₁ = x₀²x₁ + s₀s₂ + x₁s₀:
/// ∂x₀ = 2x₀x₁, ∂x₁ = x₀² + s₀, ∂s₀ = s₂ + x₁, ∂s₁ = 0, ∂s₂ = s₀.
#[differentiate]
fn vec_from_differentiated(x: [f64; 2], s: &[f64]) -> f64 {
    let v = Vec::from([x[0], x[0] * x[1]]);
    let w = Vec::from(s);
    let u = Vec::from(&s[1..3]);
    let a = [x[1], s[0]];
    let mut z = std::vec::Vec::from(&a);
    z.push(1.0);
    let k: Vec<usize> = Vec::from([0usize, 1]);
    v[k[0]] * v[k[1]] + w[0] * u[1] + z[0] * z[1]
}

#[test]
fn vec_from_an_array_or_slice_is_a_copy() {
    let (x, s) = ([0.7, -1.3], vec![0.4, 2.0, -0.6]);
    let (y, (gx, gs)) = vec_from_differentiated_grad(x, &s);
    assert_eq!(y, vec_from_differentiated(x, &s));
    close("Vec::from, ∂x0", gx[0], 2.0 * x[0] * x[1], TOL);
    close("Vec::from, ∂x1", gx[1], x[0] * x[0] + s[0], TOL);
    close("Vec::from, ∂s0", gs[0], s[2] + x[1], TOL);
    close("Vec::from, ∂s1", gs[1], 0.0, TOL);
    close("Vec::from, ∂s2", gs[2], s[0], TOL);
    let p = (x, s.clone());
    let r = gradcheck(
        |p: &([f64; 2], Vec<f64>)| vec_from_differentiated(p.0, &p.1),
        &p,
        &(gx, gs.clone()),
    );
    assert!(r.passed(), "Vec::from: {r}");
    let (dx, ds) = ([0.3, -0.8], vec![1.0, 0.5, -0.25]);
    let (yj, t) = vec_from_differentiated_jvp(x, &s, dx, &ds);
    assert_eq!(yj, y);
    close(
        "Vec::from, tangent",
        t,
        gx[0] * dx[0] + gx[1] * dx[1] + dot(&gs, &ds),
        TOL,
    );
}

/// A struct with `#[derive(Differentiable)]`, the state of a loop that grows a `Vec`.
#[derive(Clone, autodiff::Differentiable)]
struct Pt {
    a: f64,
    b: f64,
}

/// A struct carried through a loop beside a container the loop changes, and out of it by an
/// early `return`: the backward pass keeps the struct's shape, which structs did not have
/// (rustc's E0277 "`Pt` is not a value a differentiated function can compute with" in the
/// generated code). p = (x, s₀); each trip k returns p.a·p.b if vₖ > 1, else p = (p.b·x,
/// p.a + vₖ) and pushes p.b; the result p.a·p.b + v₃. Returned at k = 0: x·s₀ (∂x = s₀,
/// ∂s₀ = x).
#[differentiate]
fn struct_beside_a_growing_vec(x: f64, s: &[f64]) -> f64 {
    let mut v = s.to_vec();
    let mut p = Pt { a: x, b: s[0] };
    for k in 0..3 {
        if v[k] > 1.0 {
            return p.a * p.b;
        }
        p = Pt {
            a: p.b * x,
            b: p.a + v[k],
        };
        v.push(p.b);
    }
    p.a * p.b + v[3]
}

#[test]
fn a_struct_carried_beside_a_changing_container_has_a_shape() {
    let x = 0.8;
    let s = vec![1.2, 0.4, -0.3];
    let (y, (gx, gs)) = struct_beside_a_growing_vec_grad(x, &s);
    assert_eq!(y, struct_beside_a_growing_vec(x, &s));
    close("struct state, return at 0, ∂x", gx, s[0], TOL);
    close("struct state, return at 0, ∂s0", gs[0], x, TOL);
    for g in &gs[1..] {
        close("struct state, return at 0, ∂s", *g, 0.0, TOL);
    }
    for s in [
        vec![1.2, 0.4, -0.3],
        vec![0.3, 1.5, 0.2],
        vec![0.3, -0.4, 1.7],
        vec![0.3, -0.4, 0.2],
    ] {
        for x in [0.8, -1.1] {
            let (y, (gx, gs)) = struct_beside_a_growing_vec_grad(x, &s);
            assert_eq!(y, struct_beside_a_growing_vec(x, &s));
            let p = (x, s.clone());
            let r = gradcheck(
                |p: &(f64, Vec<f64>)| struct_beside_a_growing_vec(p.0, &p.1),
                &p,
                &(gx, gs.clone()),
            );
            assert!(r.passed(), "struct state at {x}, {s:?}: {r}");
            let (dx, ds) = (0.7, vec![-0.5, 1.0, 0.25]);
            let (yj, t) = struct_beside_a_growing_vec_jvp(x, &s, dx, &ds);
            assert_eq!(yj, y);
            close("struct state, tangent", t, gx * dx + dot(&gs, &ds), TOL);
        }
    }
}

/// Values swapped or rotated by a tuple assignment in a loop: the backward loop swaps their
/// adjoints, each read before either is written. The code generator folded each adjoint's read
/// into the assignment that used it, so the second assignment read the first one's result and
/// both adjoints came out equal (seed `0377bec41b00048c` of `--ci --seed 777 --f32 50`, a wrong
/// gradient with no error). Two swaps are the identity: `f = 3·x0 + x1`.
#[differentiate]
fn swapped_twice(mut x0: f64, x1: f64) -> f64 {
    let mut t1 = x1;
    for _ in 0..2 {
        (x0, t1) = (t1, x0);
    }
    x0 * 3.0 + t1
}

/// A rotation of three, `n` times: after `n` rotations `(a, b, c)` holds the inputs shifted by
/// `n mod 3`, so `∂f/∂` of each input is the weight of the place it ends in.
#[differentiate]
fn rotated(mut a: f64, mut b: f64, mut c: f64, n: usize) -> f64 {
    for _ in 0..n {
        (a, b, c) = (b, c, a);
    }
    a + 2.0 * b + 4.0 * c * c
}

/// The reduced case: a swap in a nested loop after an assignment that reads the other value.
#[differentiate]
fn swapped_in_a_nest(mut x0: f64, x1: f64) -> f64 {
    let mut t1 = x1;
    for _ in 0..3 {
        (t1, x0) = (x0, (t1.cos()) * 0.5);
        for _ in 0..4 {
            (x0, t1) = (t1, x0);
        }
    }
    (t1, x0) = (x0, t1);
    (x0 + x0).to_radians() + 0.0 * t1
}

#[test]
fn values_swapped_by_a_loop_swap_their_adjoints() {
    let (_, (g0, g1)) = swapped_twice_grad(0.3, -0.4);
    assert_eq!((g0, g1), (3.0, 1.0));
    for n in 0..7 {
        let (a, b, c) = (0.5, -1.5, 2.0);
        let (_, g) = rotated_grad(a, b, c, n);
        // After n rotations position k holds input (k + n) mod 3: input j sits at (j − n) mod 3.
        let values = [a, b, c];
        let weight = |pos: usize, v: f64| [1.0, 2.0, 8.0 * v][pos];
        let want: Vec<f64> = (0..3)
            .map(|j| weight((j + 3 - n % 3) % 3, values[j]))
            .collect();
        assert_eq!(vec![g.0, g.1, g.2], want, "n = {n}");
    }
    // The inner swaps cancel; after three iterations t1 = 0.5·cos(x0) of the input x0, and the
    // last swap returns it: f = cos(x0)·π/180 (plus 0·t1), ∂f/∂x0 = −sin(x0)·π/180.
    let (x0, x1) = (0.3, -0.4);
    let (_, (g0, _)) = swapped_in_a_nest_grad(x0, x1);
    let h = 1e-6;
    let fd = (swapped_in_a_nest(x0 + h, x1) - swapped_in_a_nest(x0 - h, x1)) / (2.0 * h);
    assert!((g0 - fd).abs() < 1e-8, "{g0} vs {fd}");
    let exact = -x0.sin() * std::f64::consts::PI / 180.0;
    assert!((g0 - exact).abs() < 1e-15, "{g0} vs {exact}");
}

// ---------------------------------------------------------------------------------------------
// A literal assigned over a variable whose earlier value has a type the macro cannot see (a
// call's result, a tuple's field), then a float method called on it. rustc types the variable by
// its first value; the versions of the variable in the generated code are separate, so the
// literal's version had the ambiguous type `{float}` (E0689). It takes the earlier version's
// type now (`typed_like(&t, 2.0)`).
// ---------------------------------------------------------------------------------------------

/// g(x) = x² + 1.
#[differentiate(hessian)]
fn lit_g(x: f64) -> f64 {
    x * x + 1.0
}

/// g(x) = x² + 1 in `f32`.
#[differentiate]
fn lit_g32(x: f32) -> f32 {
    x * x + 1.0
}

/// t = g(x), y = t·x, then t = 2: f = g(√2)·g(x)·x = 3(x³ + x), f' = 3(3x² + 1). The method's
/// result only goes to a call.
#[differentiate]
fn literal_over_a_call_passed_on(x: f64) -> f64 {
    let mut t = lit_g(x);
    let y = t * x;
    t = 2.0;
    lit_g(t.sqrt()) * y
}

/// The literal chosen by a branch: t = 2 for x > 0, else 0.5, and f = g(√t)·g(x)·x:
/// 3(x³ + x) or 1.5(x³ + x), f' = 3(3x² + 1) or 1.5(3x² + 1).
#[differentiate]
fn literal_branch_over_a_call(x: f64) -> f64 {
    let mut t = lit_g(x);
    let y = t * x;
    t = if x > 0.0 { 2.0 } else { 0.5 };
    lit_g(t.sqrt()) * y
}

/// Two literals in turn: f = g(ln 3)·g(√2)·g(x)·x = 3·g(ln 3)·(x³ + x), f' = 3·g(ln 3)·(3x² + 1).
#[differentiate]
fn literals_in_turn_over_a_call(x: f64) -> f64 {
    let mut t = lit_g(x);
    let y = t * x;
    t = 2.0;
    let a = lit_g(t.sqrt());
    t = 3.0;
    lit_g(t.ln()) * y * a
}

/// The literal's method in the result after an early return, in `f32`: for x > 2,
/// f = g(x)·x = x³ + x (f' = 3x² + 1); otherwise f = sin 0.5 (f' = 0).
#[differentiate]
fn literal_over_a_call_returned(x: f32) -> f32 {
    let mut t = lit_g32(x);
    if x > 2.0 {
        return t * x;
    }
    t = 0.5;
    t.sin()
}

/// The literal's method assigned to the variable, which is not read again: f = g(x)·x = x³ + x,
/// f' = 3x² + 1.
#[differentiate]
fn literal_over_a_call_dead_after(x: f64) -> f64 {
    let mut t2 = lit_g(x);
    let y = t2 * x;
    t2 = -1.75;
    t2 /= t2.cos().cosh();
    y
}

/// Over a value made of a tuple's fields, in `f32`: (s, c) = sin_cos(x/2), u = c + s², then
/// u = 1e-3: f = asinh(1e-3)·c + u·x with u = c + s², so
/// f' = −asinh(1e-3)·s/2 + (−s/2 + s·c)·x + c + s².
#[differentiate]
fn literal_over_a_tuple_field(x: f32) -> f32 {
    let (t1, t2) = (x * 0.5).sin_cos();
    let mut x0 = t2 + t1.powi(2);
    let y = x0 * x;
    x0 = 1e-3;
    x0.asinh() * t2 + y
}

/// In a loop, with the literal's method read by the pullback (the factor of x): three trips of
/// s += t·x; t = 0.5; s += sin(t)·x, with t = g(x) on the first trip only:
/// f = g(x)·x + 2·0.5·x + 3·sin(0.5)·x, f' = 3x² + 1 + 1 + 3·sin(0.5).
#[differentiate]
fn literal_over_a_call_in_a_loop(x: f64) -> f64 {
    let mut t = lit_g(x);
    let mut s = 0.0;
    for _ in 0..3 {
        s += t * x;
        t = 0.5;
        s += t.sin() * x;
    }
    s
}

/// Carried into a loop (seed `32f9dfef9df609b4` of `--ci --seed 9797`, minimized): t = g(x),
/// t = -2.75, then two trips of t = -0.25 - 0.25·tanh(t)·x, and f = t·x. With a = tanh(-2.75):
/// u = -0.25 - 0.25·a·x (u' = -0.25·a), v = -0.25 - 0.25·tanh(u)·x
/// (v' = -0.25·(sech²(u)·u'·x + tanh u)), f' = v'·x + v.
#[differentiate]
fn literal_over_a_call_carried_by_a_loop(x: f64) -> f64 {
    let mut t4 = lit_g(x);
    t4 = -2.75;
    for _ in 0..2 {
        let t8 = t4.tanh() * x;
        t4 = -0.25;
        t4 -= 0.25 * t8;
    }
    t4 * x
}

/// Forward over reverse: f = √2·(g(x)·x)², f' = 2√2·(x³ + x)(3x² + 1),
/// f'' = 2√2·((3x² + 1)² + 6x·(x³ + x)).
#[differentiate(hessian)]
fn literal_over_a_call_twice_differentiated(x: f64) -> f64 {
    let mut t = lit_g(x);
    let y = t * x;
    t = 2.0;
    t.sqrt() * y * y
}

#[test]
fn a_literal_assigned_over_a_call_result_has_its_type() {
    for x in [0.8, -1.3] {
        let check = |what: &str, f: fn(f64) -> f64, grad: fn(f64) -> (f64, f64), e: f64| {
            let (y, d) = grad(x);
            assert_eq!(y, f(x), "{what}: value");
            close(what, d, e, TOL);
            fd(what, f, x, d);
        };
        let (p, dp) = (x * x * x + x, 3.0 * x * x + 1.0);
        check(
            "literal passed on",
            literal_over_a_call_passed_on,
            literal_over_a_call_passed_on_grad,
            3.0 * dp,
        );
        let (_, t) = literal_over_a_call_passed_on_jvp(x, 1.0);
        close("literal passed on, tangent", t, 3.0 * dp, TOL);

        let k = if x > 0.0 { 3.0 } else { 1.5 };
        check(
            "literal chosen by a branch",
            literal_branch_over_a_call,
            literal_branch_over_a_call_grad,
            k * dp,
        );
        let (_, t) = literal_branch_over_a_call_jvp(x, 1.0);
        close("literal chosen by a branch, tangent", t, k * dp, TOL);

        let g3 = 3f64.ln() * 3f64.ln() + 1.0;
        check(
            "literals in turn",
            literals_in_turn_over_a_call,
            literals_in_turn_over_a_call_grad,
            3.0 * g3 * dp,
        );
        let (_, t) = literals_in_turn_over_a_call_jvp(x, 1.0);
        close("literals in turn, tangent", t, 3.0 * g3 * dp, TOL);

        check(
            "literal dead after",
            literal_over_a_call_dead_after,
            literal_over_a_call_dead_after_grad,
            dp,
        );
        let (_, t) = literal_over_a_call_dead_after_jvp(x, 1.0);
        close("literal dead after, tangent", t, dp, TOL);

        let e = dp + 1.0 + 3.0 * 0.5f64.sin();
        check(
            "literal in a loop",
            literal_over_a_call_in_a_loop,
            literal_over_a_call_in_a_loop_grad,
            e,
        );
        let (_, t) = literal_over_a_call_in_a_loop_jvp(x, 1.0);
        close("literal in a loop, tangent", t, e, TOL);

        let a = (-2.75f64).tanh();
        let (u, du) = (-0.25 - 0.25 * a * x, -0.25 * a);
        let v = -0.25 - 0.25 * u.tanh() * x;
        let dv = -0.25 * ((1.0 - u.tanh() * u.tanh()) * du * x + u.tanh());
        check(
            "literal carried by a loop",
            literal_over_a_call_carried_by_a_loop,
            literal_over_a_call_carried_by_a_loop_grad,
            dv * x + v,
        );
        let (_, t) = literal_over_a_call_carried_by_a_loop_jvp(x, 1.0);
        close("literal carried by a loop, tangent", t, dv * x + v, TOL);

        let r2 = 2f64.sqrt();
        let (y, d, h) = literal_over_a_call_twice_differentiated_hvp(x, 1.0);
        assert_eq!(y, literal_over_a_call_twice_differentiated(x));
        close("literal, twice: first", d, 2.0 * r2 * p * dp, TOL);
        close(
            "literal, twice: second",
            h,
            2.0 * r2 * (dp * dp + 6.0 * x * p),
            TOL,
        );
        fd(
            "literal, twice",
            literal_over_a_call_twice_differentiated,
            x,
            d,
        );
    }
    for x in [0.8f32, -1.3, 2.5] {
        let (y, d) = literal_over_a_call_returned_grad(x);
        assert_eq!(y, literal_over_a_call_returned(x));
        let e = if x > 2.0 { 3.0 * x * x + 1.0 } else { 0.0 };
        close("literal returned, f32", d as f64, e as f64, 1e-5);
        fd32("literal returned, f32", literal_over_a_call_returned, x, d);

        let (y, d) = literal_over_a_tuple_field_grad(x);
        assert_eq!(y, literal_over_a_tuple_field(x));
        let (s, c) = (x as f64 * 0.5).sin_cos();
        let e = -(1e-3f64).asinh() * s / 2.0 + (-s / 2.0 + s * c) * x as f64 + c + s * s;
        close("literal over a tuple field, f32", d as f64, e, 1e-5);
        fd32(
            "literal over a tuple field, f32",
            literal_over_a_tuple_field,
            x,
            d,
        );
        let (_, t) = literal_over_a_tuple_field_jvp(x, 1.0);
        close(
            "literal over a tuple field, tangent",
            t as f64,
            d as f64,
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A method of the user's struct named like a library method (`norm`), on a local built by a
// struct literal: the name was taken for ndarray's, and the call rejected ("no derivative rule
// for method `norm`"), though the local's type is seen.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
struct Pm {
    a: f64,
    b: f64,
}

impl Pm {
    /// √(a² + b² + 0.5).
    #[differentiate]
    fn norm(&self) -> f64 {
        (self.a * self.a + self.b * self.b + 0.5).sqrt()
    }

    /// a·tanh k + sin b.
    #[differentiate]
    fn mix(&self, k: f64) -> f64 {
        self.a * k.tanh() + self.b.sin()
    }
}

/// p = (2x, sin x), n = p.norm(), f = n·p.mix(n). With a = 2x, b = sin x:
/// n' = (2a + b·cos x)/n, f' = n'·(a·tanh n + sin b) + n·(2·tanh n + a·sech²n·n' + cos b·cos x).
#[differentiate]
fn struct_method_named_like_a_library_one(x: f64) -> f64 {
    let p = Pm {
        b: x.sin(),
        a: 2.0 * x,
    };
    p.norm() * p.mix(p.norm())
}

/// The local reassigned by a loop: after two trips p = (x², 2x²), and
/// f = √(5x⁴ + 0.5) + x²·tanh(x²) + sin(2x²), so
/// f' = 10x³/√(5x⁴ + 0.5) + 2x·tanh(x²) + 2x³·sech²(x²) + 4x·cos(2x²).
#[differentiate]
fn struct_method_on_a_reassigned_local(x: f64) -> f64 {
    let mut p = Pm { a: x, b: 2.0 * x };
    for _ in 0..2 {
        p = Pm { a: p.b, b: p.a * x };
    }
    p.norm() + p.mix(x * x)
}

/// The local built in an `else` block (a block expression), its method called there and in a
/// closure: for x ≤ 5, f = 2·(x·tanh x + sin 2x), f' = 2·(tanh x + x·sech²x + 2·cos 2x); the
/// method was "no derivative rule for method `mix`" (the `let` of a block expression did not
/// note the struct's type).
#[differentiate]
fn struct_method_in_an_else_block(x: f64) -> f64 {
    let mut t = 0.0;
    if x > 5.0 {
        t += x;
    } else {
        let p = Pm { a: x, b: 2.0 * x };
        t += p.mix(x);
        let mut add = |u: f64| t += p.mix(u);
        add(x);
    }
    t
}

#[test]
fn a_method_of_a_struct_built_by_a_literal_is_the_structs_whatever_its_name() {
    for x in [0.7, -1.2] {
        let (y, d) = struct_method_in_an_else_block_grad(x);
        assert_eq!(y, struct_method_in_an_else_block(x));
        let th = x.tanh();
        let e = 2.0 * (th + x * (1.0 - th * th) + 2.0 * (2.0 * x).cos());
        close("struct method in an else block", d, e, TOL);
        fd(
            "struct method in an else block",
            struct_method_in_an_else_block,
            x,
            d,
        );
        let (_, t) = struct_method_in_an_else_block_jvp(x, 1.0);
        close("struct method in an else block, tangent", t, d, TOL);
    }
    for x in [0.7, -1.2] {
        let (y, d) = struct_method_on_a_reassigned_local_grad(x);
        assert_eq!(y, struct_method_on_a_reassigned_local(x));
        let (x2, x3) = (x * x, x * x * x);
        let th = x2.tanh();
        let e = 10.0 * x3 / (5.0 * x2 * x2 + 0.5).sqrt()
            + 2.0 * x * th
            + 2.0 * x3 * (1.0 - th * th)
            + 4.0 * x * (2.0 * x2).cos();
        close("struct method on a reassigned local", d, e, TOL);
        fd(
            "struct method on a reassigned local",
            struct_method_on_a_reassigned_local,
            x,
            d,
        );
        let (_, t) = struct_method_on_a_reassigned_local_jvp(x, 1.0);
        close("struct method on a reassigned local, tangent", t, d, TOL);
    }
    for x in [0.7, -1.2] {
        let (y, d) = struct_method_named_like_a_library_one_grad(x);
        assert_eq!(y, struct_method_named_like_a_library_one(x));
        let (a, b) = (2.0 * x, x.sin());
        let n = (a * a + b * b + 0.5).sqrt();
        let dn = (2.0 * a + b * x.cos()) / n;
        let th = n.tanh();
        let e =
            dn * (a * th + b.sin()) + n * (2.0 * th + a * (1.0 - th * th) * dn + b.cos() * x.cos());
        close("struct method named norm", d, e, TOL);
        fd(
            "struct method named norm",
            struct_method_named_like_a_library_one,
            x,
            d,
        );
        let (_, t) = struct_method_named_like_a_library_one_jvp(x, 1.0);
        close("struct method named norm, tangent", t, d, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// A method of the user's struct taking `self` by value, written as a method (`p.scaled(k)`):
// the call went through the type with the receiver borrowed, `Pv::scaled(&p, k)`, which is
// right for `&self` and rustc's E0308 "expected `Pv`, found `&Pv`" in the generated code for
// `self`. The receiver now goes through the runtime's `receiver`, which rustc resolves from the
// generated function's first parameter: `&p` or a copy of `p`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
struct Pv {
    a: f64,
    b: f64,
}

#[derive(Clone, autodiff::Differentiable)]
struct Pw {
    inner: Pv,
}

impl Pv {
    /// tanh(a·k) + b, taking `self` by value.
    #[differentiate(hessian)]
    fn scaled(self, k: f64) -> f64 {
        (self.a * k).tanh() + self.b
    }

    /// √(a² + b² + 0.5), taking `&self`.
    #[differentiate(hessian)]
    fn norm(&self) -> f64 {
        (self.a * self.a + self.b * self.b + 0.5).sqrt()
    }

    /// n·k + tanh(a·k) + b with n the norm, taking `self` by value and calling a `&self` method
    /// and a by-value one on `self` (`self.norm()` was `Self::norm(self)`, E0308).
    #[differentiate]
    fn lifted(self, k: f64) -> f64 {
        self.norm() * k + self.scaled(k)
    }
}

/// On a local built by a literal: tanh(x/2) + 2x, derivative sech²(x/2)/2 + 2.
#[differentiate(hessian)]
fn by_value_method_on_a_local(x: f64) -> f64 {
    let p = Pv { a: x, b: 2.0 * x };
    p.scaled(0.5)
}

/// On a parameter taken by value: tanh(a·x) + b; ∂a = x·sech²(ax), ∂b = 1, ∂x = a·sech²(ax).
#[differentiate]
fn by_value_method_on_a_parameter(p: Pv, x: f64) -> f64 {
    p.scaled(x)
}

/// On a field of a parameter taken by value (moved out of it): tanh(a·x) + b of `o.inner`,
/// the same gradient as above in `o.inner`.
#[differentiate]
fn by_value_method_on_a_field(o: Pw, x: f64) -> f64 {
    o.inner.scaled(x)
}

/// On locals built in a loop, beside a `&self` method: Σₖ₌₁² (tanh(k·x) + x) + n with
/// n = √(x² + x² + 0.5) the norm of (x, x); derivative Σₖ k·sech²(kx) + 2 + 2x/n.
#[differentiate(hessian)]
fn by_value_method_in_a_loop(x: f64) -> f64 {
    let mut s = 0.0;
    for k in 1..3 {
        let p = Pv {
            a: k as f64 * x,
            b: x,
        };
        s += p.scaled(1.0);
    }
    let q = Pv { a: x, b: x };
    s + q.norm()
}

#[test]
fn a_method_taking_self_by_value_written_as_a_method() {
    let sech2 = |t: f64| 1.0 - t.tanh() * t.tanh();
    for x in [0.7, -1.2] {
        let (y, d) = by_value_method_on_a_local_grad(x);
        assert_eq!(y, by_value_method_on_a_local(x));
        close("by value, local", d, 0.5 * sech2(0.5 * x) + 2.0, TOL);
        fd("by value, local", by_value_method_on_a_local, x, d);
        let (_, t) = by_value_method_on_a_local_jvp(x, 1.0);
        close("by value, local, tangent", t, d, TOL);
        // Second derivative: −sech²(x/2)·tanh(x/2)/2.
        let (_, g, h) = by_value_method_on_a_local_hvp(x, 1.0);
        close("by value, local, hvp gradient", g, d, TOL);
        let th = (0.5 * x).tanh();
        close("by value, local, hvp", h, -0.5 * sech2(0.5 * x) * th, 1e-10);

        let (y, d) = by_value_method_in_a_loop_grad(x);
        assert_eq!(y, by_value_method_in_a_loop(x));
        let n = (2.0 * x * x + 0.5).sqrt();
        close(
            "by value, loop",
            d,
            sech2(x) + 2.0 * sech2(2.0 * x) + 2.0 + 2.0 * x / n,
            TOL,
        );
        fd("by value, loop", by_value_method_in_a_loop, x, d);
        let (_, t) = by_value_method_in_a_loop_jvp(x, 1.0);
        close("by value, loop, tangent", t, d, TOL);
        let (_, g, _) = by_value_method_in_a_loop_hvp(x, 1.0);
        close("by value, loop, hvp gradient", g, d, TOL);
    }
    for (a, b, x) in [(0.3, 0.7, 1.2), (-0.8, 0.1, 0.4)] {
        let s = sech2(a * x);
        let (y, (gp, gx)) = by_value_method_on_a_parameter_grad(Pv { a, b }, x);
        assert_eq!(y, by_value_method_on_a_parameter(Pv { a, b }, x));
        close("by value, parameter, ∂a", gp.a, x * s, TOL);
        close("by value, parameter, ∂b", gp.b, 1.0, TOL);
        close("by value, parameter, ∂x", gx, a * s, TOL);
        fd(
            "by value, parameter, along (a, b, x)",
            |t| by_value_method_on_a_parameter(Pv { a: a + t, b: b + t }, x + t),
            0.0,
            gp.a + gp.b + gx,
        );
        let (_, t) = by_value_method_on_a_parameter_jvp(Pv { a, b }, x, Pv { a: 1.0, b: 1.0 }, 1.0);
        close("by value, parameter, tangent", t, gp.a + gp.b + gx, TOL);

        // n·x + tanh(ax) + b: ∂a = a·x/n + x·sech²(ax), ∂b = b·x/n + 1, ∂x = n + a·sech²(ax).
        let n = (a * a + b * b + 0.5).sqrt();
        let (y, (gp, gx)) = Pv { a, b }.lifted_grad(x);
        assert_eq!(y, Pv { a, b }.lifted(x));
        close("self by value, ∂a", gp.a, a * x / n + x * s, TOL);
        close("self by value, ∂b", gp.b, b * x / n + 1.0, TOL);
        close("self by value, ∂x", gx, n + a * s, TOL);
        fd(
            "self by value, along (a, b, x)",
            |t| Pv { a: a + t, b: b + t }.lifted(x + t),
            0.0,
            gp.a + gp.b + gx,
        );
        let (_, t) = Pv { a, b }.lifted_jvp(x, Pv { a: 1.0, b: 1.0 }, 1.0);
        close("self by value, tangent", t, gp.a + gp.b + gx, TOL);

        let o = Pw { inner: Pv { a, b } };
        let (y, (go, gx)) = by_value_method_on_a_field_grad(o.clone(), x);
        assert_eq!(y, by_value_method_on_a_field(o.clone(), x));
        close("by value, field, ∂a", go.inner.a, x * s, TOL);
        close("by value, field, ∂b", go.inner.b, 1.0, TOL);
        close("by value, field, ∂x", gx, a * s, TOL);
        fd(
            "by value, field, along x",
            |t| by_value_method_on_a_field(o.clone(), t),
            x,
            gx,
        );
    }
}

/// A slice pattern on a local given a reference type: `let s: &[f64] = &v[..];`, then
/// `match s { [a, rest @ ..] => .. }`. f = a₀·x + ½·Σᵢ₌₁ aᵢ for two or more elements (a₀·x
/// for one, x for none): ∂x = a₀, ∂a₀ = x, ∂aᵢ = ½ (i > 0).
#[differentiate(hessian)]
fn slice_pattern_on_a_typed_reference(x: f64, v: Vec<f64>) -> f64 {
    let s: &[f64] = &v[..];
    match s {
        [] => x,
        [a] => *a * x,
        [a, rest @ ..] => *a * x + 0.5 * rest.iter().sum::<f64>(),
    }
}

/// The same reference read in a loop and after a return in a branch: f = Σₗ sₗ·x·(l + 1)
/// with s = v[1..3] (v₁x + 2v₂x), or v₀ if v₀ > 5: ∂x = v₁ + 2v₂, ∂v₁ = x, ∂v₂ = 2x.
#[differentiate(hessian)]
fn typed_reference_in_a_loop(x: f64, v: &Vec<f64>) -> f64 {
    let s: &[f64] = &v[1..3];
    if v[0] > 5.0 {
        return v[0];
    }
    let mut t = 0.0;
    for l in 0..s.len() {
        t += s[l] * x * (l as f64 + 1.0);
    }
    t
}

#[test]
fn a_local_given_a_reference_type_is_borrowed_again_by_the_pullback() {
    for (x, v) in [
        (0.7, vec![1.5, -0.4, 2.0]),
        (-1.3, vec![0.25]),
        (2.0, vec![]),
    ] {
        let (y, (gx, gv)) = slice_pattern_on_a_typed_reference_grad(x, v.clone());
        assert_eq!(y, slice_pattern_on_a_typed_reference(x, v.clone()));
        let (ex, ev): (f64, Vec<f64>) = match v.len() {
            0 => (1.0, vec![]),
            n => {
                let mut ev = vec![0.5; n];
                ev[0] = x;
                (v[0], ev)
            }
        };
        close("slice pattern, ∂x", gx, ex, TOL);
        close_all("slice pattern, ∂v", &gv, &ev);
        let mut p = v.clone();
        p.insert(0, x);
        let mut d = ev.clone();
        d.insert(0, ex);
        fd_vec(
            "slice pattern",
            |p| slice_pattern_on_a_typed_reference(p[0], p[1..].to_vec()),
            &p,
            &d,
        );
        let dv = vec![1.0; v.len()];
        let (_, t) = slice_pattern_on_a_typed_reference_jvp(x, v.clone(), 1.0, dv.clone());
        close("slice pattern, tangent", t, d.iter().sum::<f64>(), TOL);
        // Second derivatives: ∂²/∂x∂a₀ = 1, the others 0: H·(1, 1, ..) = (1, 1, 0, ..) for
        // one or more elements.
        let (_, (hgx, _), (hx, hv)) = slice_pattern_on_a_typed_reference_hvp(x, v.clone(), 1.0, dv);
        close("slice pattern, hvp gradient", hgx, ex, TOL);
        let mut eh = vec![0.0; v.len()];
        if !v.is_empty() {
            eh[0] = 1.0;
        }
        close(
            "slice pattern, hvp ∂x",
            hx,
            if v.is_empty() { 0.0 } else { 1.0 },
            TOL,
        );
        close_all("slice pattern, hvp ∂v", &hv, &eh);
    }
    for (x, v) in [(0.7, vec![1.5, -0.4, 2.0]), (1.1, vec![6.0, 0.3, -0.2])] {
        let (y, (gx, gv)) = typed_reference_in_a_loop_grad(x, &v);
        assert_eq!(y, typed_reference_in_a_loop(x, &v));
        let (ex, ev) = if v[0] > 5.0 {
            (0.0, vec![1.0, 0.0, 0.0])
        } else {
            (v[1] + 2.0 * v[2], vec![0.0, x, 2.0 * x])
        };
        close("typed reference, ∂x", gx, ex, TOL);
        close_all("typed reference, ∂v", &gv, &ev);
        let mut p = v.clone();
        p.insert(0, x);
        let mut d = ev.clone();
        d.insert(0, ex);
        fd_vec(
            "typed reference",
            |p| typed_reference_in_a_loop(p[0], &p[1..].to_vec()),
            &p,
            &d,
        );
        // ∂²/∂x∂v₁ = 1, ∂²/∂x∂v₂ = 2 (0 past the return): H·(1, 1, 1, 1) = (3, 0, 1, 2).
        let (_, _, (hx, hv)) = typed_reference_in_a_loop_hvp(x, &v, 1.0, &vec![1.0; 3]);
        let (ehx, ehv) = if v[0] > 5.0 {
            (0.0, vec![0.0; 3])
        } else {
            (3.0, vec![0.0, 1.0, 2.0])
        };
        close("typed reference, hvp ∂x", hx, ehx, TOL);
        close_all("typed reference, hvp ∂v", &hv, &ehv);
    }
}

/// A slice parameter copied into a local array under `hessian`: f = r₀·x + r₁ (the array's
/// first values are overwritten). ∂x = r₀, ∂r = (x, 1); the Hessian over (x, r₀, r₁) has
/// ∂²f/∂x∂r₀ = 1 and no other entry: H·(vx, v₀, v₁) = (v₀, vx, 0).
#[differentiate(hessian)]
fn slice_parameter_copied_into_an_array(x: f64, r: &[f64]) -> f64 {
    let mut a = [x, 2.0 * x];
    a.copy_from_slice(r);
    a[0] * x + a[1]
}

/// The same through `&Vec<f64>` and `extend_from_slice`: f = x·Σ(h) with h = [x] ++ r, so
/// f = x² + x·(r₀ + r₁); ∂x = 2x + r₀ + r₁, ∂rᵢ = x; H·(vx, v₀, v₁) = (2vx + v₀ + v₁, vx, vx).
#[differentiate(hessian)]
fn vec_parameter_extending_a_local(x: f64, r: &Vec<f64>) -> f64 {
    let mut h = vec![x];
    h.extend_from_slice(r);
    x * h.iter().sum::<f64>()
}

#[test]
fn a_slice_parameter_lent_to_a_mutation_under_hessian() {
    for (x, r) in [(0.5, vec![1.0, 2.0]), (-1.3, vec![0.25, -0.75])] {
        let (y, (gx, gr)) = slice_parameter_copied_into_an_array_grad(x, &r);
        assert_eq!(y, slice_parameter_copied_into_an_array(x, &r));
        close("copy, ∂x", gx, r[0], TOL);
        close_all("copy, ∂r", &gr, &[x, 1.0]);
        fd_vec(
            "copy",
            |p| slice_parameter_copied_into_an_array(p[0], &p[1..]),
            &[x, r[0], r[1]],
            &[gx, gr[0], gr[1]],
        );
        let (vx, v) = (0.3, vec![-0.7, 0.4]);
        let (y2, (hgx, hgr), (hx, hr)) = slice_parameter_copied_into_an_array_hvp(x, &r, vx, &v);
        assert_eq!(y2, y);
        close("copy, hvp gradient ∂x", hgx, gx, TOL);
        close_all("copy, hvp gradient ∂r", &hgr, &gr);
        close("copy, hvp ∂x", hx, v[0], TOL);
        close_all("copy, hvp ∂r", &hr, &[vx, 0.0]);

        let (y, (gx, gr)) = vec_parameter_extending_a_local_grad(x, &r);
        assert_eq!(y, vec_parameter_extending_a_local(x, &r));
        close("extend, ∂x", gx, 2.0 * x + r[0] + r[1], TOL);
        close_all("extend, ∂r", &gr, &[x, x]);
        fd_vec(
            "extend",
            |p| vec_parameter_extending_a_local(p[0], &p[1..].to_vec()),
            &[x, r[0], r[1]],
            &[gx, gr[0], gr[1]],
        );
        let (_, t) = vec_parameter_extending_a_local_jvp(x, &r, vx, &v);
        close(
            "extend, tangent",
            t,
            gx * vx + gr[0] * v[0] + gr[1] * v[1],
            TOL,
        );
        let (_, _, (hx, hr)) = vec_parameter_extending_a_local_hvp(x, &r, vx, &v);
        close("extend, hvp ∂x", hx, 2.0 * vx + v[0] + v[1], TOL);
        close_all("extend, hvp ∂r", &hr, &[vx, vx]);
    }
}

/// A helper for the next function: a₀·sin x.
#[differentiate(hessian)]
fn sine_scaled(a: &[f64], x: f64) -> f64 {
    a[0] * x.sin()
}

/// A call's result given its type and read only through `floor` in a branch: its cotangent
/// is a zero no direction changes, which forward over reverse gave a tangent made after the
/// call's pullback that reads it (an internal error, "invalid SSA"). With t = a₀·sin x and
/// x > 0, f = x²·⌊t⌋ + x, so ∂x = 2x⌊t⌋ + 1, ∂a = 0 (⌊t⌋ is constant between its jumps), and
/// H·(vx, va) = (2⌊t⌋·vx, 0); for x ≤ 0, f = x, ∂x = 1 and H = 0.
#[differentiate(hessian)]
fn call_read_through_floor_in_a_branch(a: &[f64], x: f64) -> f64 {
    let t: f64 = sine_scaled(a, x);
    let mut s = x;
    if x > 0.0 {
        s += x * x * t.floor();
    }
    s
}

/// The same through a closure mapped over an array, in a loop: t = Σ sin aᵢ,
/// f = 2x²·round(t) + x, so ∂x = 4x·round(t) + 1, ∂a = 0, H·(va, vx) = (0, 4·round(t)·vx).
#[differentiate(hessian)]
fn mapped_array_read_through_round_in_a_loop(a: &ndarray::Array1<f64>, x: f64) -> f64 {
    let t: f64 = a.mapv(|v| v.sin()).sum();
    let mut s = x;
    for _ in 0..2 {
        s += x * x * t.round();
    }
    s
}

#[test]
fn a_pullback_whose_cotangent_has_no_tangent_under_hessian() {
    for (a0, x) in [(2.5, 0.9), (-1.7, 1.2), (2.5, -0.6)] {
        let a = [a0];
        let fl = if x > 0.0 {
            (a0 * f64::sin(x)).floor()
        } else {
            0.0
        };
        let (y, (ga, gx)) = call_read_through_floor_in_a_branch_grad(&a, x);
        assert_eq!(y, call_read_through_floor_in_a_branch(&a, x));
        close("call, ∂x", gx, 2.0 * x * fl + 1.0, TOL);
        close_all("call, ∂a", &ga, &[0.0]);
        fd_vec(
            "call",
            |p| call_read_through_floor_in_a_branch(&p[..1], p[1]),
            &[a0, x],
            &[ga[0], gx],
        );
        let (va, vx) = (vec![0.4], -0.8);
        let (y2, (hga, hgx), (ha, hx)) = call_read_through_floor_in_a_branch_hvp(&a, x, &va, vx);
        assert_eq!(y2, y);
        close("call, hvp gradient ∂x", hgx, gx, TOL);
        close_all("call, hvp gradient ∂a", &hga, &ga);
        close("call, hvp ∂x", hx, 2.0 * fl * vx, TOL);
        close_all("call, hvp ∂a", &ha, &[0.0]);
        let r = autodiff::check::hvpcheck(
            |p: &Vec<f64>| {
                let (_, (ga, gx)) = call_read_through_floor_in_a_branch_grad(&p[..1], p[1]);
                vec![ga[0], gx]
            },
            &vec![a0, x],
            &vec![va[0], vx],
            &vec![ha[0], hx],
        );
        assert!(
            r.passed(),
            "call, hvp against differences of the gradient: {r}"
        );
    }
    for (a, x) in [(vec![0.3, 1.1, 0.2], 0.7), (vec![-0.9, 0.4, -1.2], -1.3)] {
        let arr = ndarray::Array1::from(a.clone());
        let rt = a.iter().map(|v: &f64| v.sin()).sum::<f64>().round();
        let (y, (ga, gx)) = mapped_array_read_through_round_in_a_loop_grad(&arr, x);
        assert_eq!(y, mapped_array_read_through_round_in_a_loop(&arr, x));
        close("map, ∂x", gx, 4.0 * x * rt + 1.0, TOL);
        close_all("map, ∂a", ga.as_slice().unwrap(), &[0.0; 3]);
        let mut p = a.clone();
        p.push(x);
        let mut g = ga.to_vec();
        g.push(gx);
        fd_vec(
            "map",
            |p| {
                mapped_array_read_through_round_in_a_loop(
                    &ndarray::Array1::from(p[..3].to_vec()),
                    p[3],
                )
            },
            &p,
            &g,
        );
        let (va, vx) = (ndarray::Array1::from(vec![0.5, -0.25, 1.0]), 0.6);
        let (y2, (hga, hgx), (ha, hx)) =
            mapped_array_read_through_round_in_a_loop_hvp(&arr, x, &va, vx);
        assert_eq!(y2, y);
        close("map, hvp gradient ∂x", hgx, gx, TOL);
        close_all("map, hvp gradient ∂a", hga.as_slice().unwrap(), &[0.0; 3]);
        close("map, hvp ∂x", hx, 4.0 * rt * vx, TOL);
        close_all("map, hvp ∂a", ha.as_slice().unwrap(), &[0.0; 3]);
    }
}

/// s₀·x, second order.
#[differentiate(hessian)]
fn lead_times(s: &[f64], x: f64) -> f64 {
    s[0] * x
}

/// s₀ ← s₀·w + x₀: a step in place on a pair its caller lends.
#[differentiate(hessian)]
fn pair_step_in_place(x: &[f64], w: f64, s: &mut [f64; 2]) {
    s[0] = s[0] * w + x[0];
}

/// out₀ ← p₀·w + out₀: an array taken by value beside a `Vec` buffer.
#[differentiate(hessian)]
fn array_into_buffer(p: [f64; 2], w: f64, out: &mut Vec<f64>) {
    out[0] += p[0] * w;
}

/// An array a helper wrote, then lent as a slice; a `Vec` a helper wrote beside an array it
/// took by value, then lent. z = [a·w + w, w], y₀ = z₀·w + a, and
/// f = z₀·w + y₀·a = 2a·w² + w² + a²·w² + a²:
/// ∂a = 2w² + 2a·w² + 2a, ∂w = 4a·w + 2w + 2a²·w;
/// H = [[2w² + 2, 4w + 4a·w], [4w + 4a·w, 4a + 2 + 2a²]].
#[differentiate(hessian)]
fn buffers_written_then_lent(a: f64, w: f64) -> f64 {
    let mut z = [a, w];
    pair_step_in_place(&[w], w, &mut z);
    let mut y = vec![a, w];
    array_into_buffer(z, w, &mut y);
    lead_times(&z, w) + lead_times(&y, a)
}

/// Pushes x₀·w onto the buffer.
#[differentiate(hessian)]
fn push_scaled<T: num_traits::Float>(x: &[T], w: T, out: &mut Vec<T>) {
    out.push(x[0] * w);
}

/// Three pushes of a₀·w² in a `while` loop: f = a₀ + a₁ + 3a₀·w²,
/// ∂a = [1 + 3w², 1], ∂w = 6a₀·w; H·(va, vw) = [6w·vw, 0], 6w·va₀ + 6a₀·vw.
#[differentiate(hessian)]
fn buffer_grown_in_a_while_loop(a: [f64; 2], w: f64) -> f64 {
    let mut y = a.to_vec();
    let mut c = 0;
    while c < 3 {
        push_scaled(&a, w * w, &mut y);
        c += 1;
    }
    y.iter().sum::<f64>()
}

/// Three pushes of a₀·w by a `loop` with a `break`, then Σ y²: f = a₀² + a₁² + 3a₀²·w²,
/// ∂a = [2a₀ + 6a₀·w², 2a₁], ∂w = 6a₀²·w.
#[differentiate]
fn buffer_grown_in_a_loop(a: &[f64], w: f64) -> f64 {
    let mut y = a.to_vec();
    let mut c = 0;
    loop {
        if c == 3 {
            break;
        }
        push_scaled(a, w, &mut y);
        c += 1;
    }
    y.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn buffers_written_by_helpers_then_lent_or_grown_in_loops() {
    for (a, w) in [(0.7, 1.3), (-1.1, 0.4)] {
        let (y, (ga, gw)) = buffers_written_then_lent_grad(a, w);
        assert_eq!(y, buffers_written_then_lent(a, w));
        close("lent, ∂a", ga, 2.0 * w * w + 2.0 * a * w * w + 2.0 * a, TOL);
        close("lent, ∂w", gw, 4.0 * a * w + 2.0 * w + 2.0 * a * a * w, TOL);
        fd2("lent", buffers_written_then_lent, (a, w), (ga, gw));
        let (va, vw) = (0.3, -0.8);
        let (yj, t) = buffers_written_then_lent_jvp(a, w, va, vw);
        assert_eq!(yj, y);
        close("lent, tangent", t, ga * va + gw * vw, TOL);
        let (yh, g, (ha, hw)) = buffers_written_then_lent_hvp(a, w, va, vw);
        assert_eq!(yh, y);
        close2("lent, hvp gradient", g, (ga, gw));
        let hab = 4.0 * w + 4.0 * a * w;
        close("lent, hvp ∂a", ha, (2.0 * w * w + 2.0) * va + hab * vw, TOL);
        close(
            "lent, hvp ∂w",
            hw,
            hab * va + (4.0 * a + 2.0 + 2.0 * a * a) * vw,
            TOL,
        );
    }
    for (a, w) in [([0.6, -0.2], 0.9), ([-1.3, 0.5], -0.35)] {
        let (y, (ga, gw)) = buffer_grown_in_a_while_loop_grad(a, w);
        assert_eq!(y, buffer_grown_in_a_while_loop(a, w));
        close_all("while, ∂a", &ga, &[1.0 + 3.0 * w * w, 1.0]);
        close("while, ∂w", gw, 6.0 * a[0] * w, TOL);
        fd_vec(
            "while",
            |p| buffer_grown_in_a_while_loop([p[0], p[1]], p[2]),
            &[a[0], a[1], w],
            &[ga[0], ga[1], gw],
        );
        let (va, vw) = ([0.5, -1.0], 0.25);
        let (yj, t) = buffer_grown_in_a_while_loop_jvp(a, w, va, vw);
        assert_eq!(yj, y);
        close(
            "while, tangent",
            t,
            ga[0] * va[0] + ga[1] * va[1] + gw * vw,
            TOL,
        );
        let (yh, (hga, hgw), (ha, hw)) = buffer_grown_in_a_while_loop_hvp(a, w, va, vw);
        assert_eq!(yh, y);
        close_all("while, hvp gradient ∂a", &hga, &ga);
        close("while, hvp gradient ∂w", hgw, gw, TOL);
        close_all("while, hvp ∂a", &ha, &[6.0 * w * vw, 0.0]);
        close("while, hvp ∂w", hw, 6.0 * w * va[0] + 6.0 * a[0] * vw, TOL);

        let s = a.to_vec();
        let (y, (ga, gw)) = buffer_grown_in_a_loop_grad(&s, w);
        assert_eq!(y, buffer_grown_in_a_loop(&s, w));
        close_all(
            "loop, ∂a",
            &ga,
            &[2.0 * a[0] + 6.0 * a[0] * w * w, 2.0 * a[1]],
        );
        close("loop, ∂w", gw, 6.0 * a[0] * a[0] * w, TOL);
        fd_vec(
            "loop",
            |p| buffer_grown_in_a_loop(&p[..2], p[2]),
            &[a[0], a[1], w],
            &[ga[0], ga[1], gw],
        );
    }
}

/// Positions of best items of an enumeration through adapters that pass its pairs on (run as
/// written, so discrete), then the elements there: j is the largest element above 0 (0 if none),
/// k the smallest but the last, f = x_j·w + x_k: ∂x_j = w, ∂x_k = 1 (added where j = k),
/// ∂w = x_j.
#[differentiate]
fn filtered_positions_of_best(x: &[f64], w: f64) -> f64 {
    let j = x
        .iter()
        .enumerate()
        .filter(|(_, q)| **q > 0.0)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let k = x
        .iter()
        .enumerate()
        .rev()
        .skip(1)
        .min_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .map(|(i, _)| i)
        .unwrap();
    x[j] * w + x[k]
}

#[test]
fn positions_of_best_items_after_a_filter() {
    for (x, w, j, k) in [
        (vec![0.3, -1.2, 0.9, 0.1], 0.7, 2, 1),
        (vec![-0.5, -0.2, 0.4], -1.3, 2, 0),
        (vec![-0.5, -0.2, -0.4], 0.6, 0, 0),
    ] {
        let (y, (gx, gw)) = filtered_positions_of_best_grad(&x, w);
        assert_eq!(y, filtered_positions_of_best(&x, w));
        let mut want = vec![0.0; x.len()];
        want[j] += w;
        want[k] += 1.0;
        close_all("∂x", &gx, &want);
        close("∂w", gw, x[j], TOL);
        let mut p = x.clone();
        p.push(w);
        let mut g = gx.clone();
        g.push(gw);
        let n = x.len();
        fd_vec("fd", |p| filtered_positions_of_best(&p[..n], p[n]), &p, &g);
        let (dx, dw) = (vec![0.25; n], -0.5);
        let (yj, t) = filtered_positions_of_best_jvp(&x, w, &dx, dw);
        assert_eq!(yj, y);
        let dot: f64 = gx.iter().zip(&dx).map(|(a, b)| a * b).sum::<f64>() + gw * dw;
        close("tangent", t, dot, TOL);
    }
}

/// A `Copy` state with a differentiated `+` and `* f64`, for the next test.
#[derive(Clone, Copy, autodiff::Differentiable)]
struct Osc {
    x: f64,
    y: f64,
}

#[differentiate(hessian)]
impl std::ops::Add for Osc {
    type Output = Osc;
    fn add(self, o: Osc) -> Osc {
        Osc {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
}

#[differentiate(hessian)]
impl std::ops::Mul<f64> for Osc {
    type Output = Osc;
    fn mul(self, k: f64) -> Osc {
        Osc {
            x: self.x * k,
            y: self.y * k,
        }
    }
}

#[differentiate(hessian)]
impl Osc {
    /// The rate of the oscillator x'' = -k x: (y, -k x).
    fn rate(&self, k: f64) -> Osc {
        Osc {
            x: self.y,
            y: -k * self.x,
        }
    }

    /// An explicit midpoint step through `*self`: s + h·rate(s + (h/2)·rate(s)). With
    /// c = 1 - k h²/2, it is (c x + h y, -k h x + c y).
    fn midpoint(&self, h: f64, k: f64) -> Osc {
        let k1: Osc = self.rate(k);
        let k2: Osc = (*self + k1 * (0.5 * h)).rate(k);
        *self + k2 * h
    }

    /// x·y read through `let s = *self;`.
    fn area(&self) -> f64 {
        let s = *self;
        s.x * s.y
    }
}

/// Two midpoint steps from (a, b), then x·y of the result: the same `*self` as the RK4 steps
/// that random programs call in loops.
#[differentiate(hessian)]
fn two_midpoint_steps(a: f64, b: f64, k: f64) -> f64 {
    let mut s = Osc { x: a, y: b };
    for _ in 0..2 {
        s = s.midpoint(0.25, k);
    }
    s.area()
}

/// x² · p.y through `*x` and `let q = *p;` of reference parameters: ∂x = 2x·p.y, ∂p = (0, x²),
/// H·(vx, vp) = (2p.y·vx + 2x·vp.y, (0, 2x·vx)).
#[differentiate(hessian)]
fn derefs_of_reference_parameters(x: &f64, p: &Osc) -> f64 {
    let q = *p;
    *x * *x * q.y
}

#[test]
fn dereferenced_reference_parameters_under_hessian() {
    // The step as a linear map M = [[c, h], [-k h, c]], c = 1 - k h²/2 (k fixed), applied
    // twice: (X, Y) = M²(a, b); f = X·Y, ∂(a, b) = Mᵀ²(Y, X).
    let step = |s: (f64, f64), k: f64| {
        let (h, c) = (0.25, 1.0 - k * 0.25 * 0.25 / 2.0);
        (c * s.0 + h * s.1, -k * h * s.0 + c * s.1)
    };
    let step_t = |g: (f64, f64), k: f64| {
        let (h, c) = (0.25, 1.0 - k * 0.25 * 0.25 / 2.0);
        (c * g.0 - k * h * g.1, h * g.0 + c * g.1)
    };
    for (a, b, k) in [(0.7, -1.3, 1.1), (-0.4, 0.9, 0.6)] {
        let (x2, y2) = step(step((a, b), k), k);
        let (y, (ga, gb, gk)) = two_midpoint_steps_grad(a, b, k);
        assert_eq!(y, two_midpoint_steps(a, b, k));
        close("midpoint, value", y, x2 * y2, 1e-12);
        let (ea, eb) = step_t(step_t((y2, x2), k), k);
        close("midpoint, ∂a", ga, ea, 1e-12);
        close("midpoint, ∂b", gb, eb, 1e-12);
        fd_vec(
            "midpoint",
            |p| two_midpoint_steps(p[0], p[1], p[2]),
            &[a, b, k],
            &[ga, gb, gk],
        );
        let v = vec![0.3, -0.5, 0.2];
        let (y3, g3, (ha, hb, hk)) = two_midpoint_steps_hvp(a, b, k, v[0], v[1], v[2]);
        assert_eq!(y3, y);
        close_all("midpoint, hvp gradient", &[g3.0, g3.1, g3.2], &[ga, gb, gk]);
        let r = autodiff::check::hvpcheck(
            |p: &Vec<f64>| {
                let (_, (ga, gb, gk)) = two_midpoint_steps_grad(p[0], p[1], p[2]);
                vec![ga, gb, gk]
            },
            &vec![a, b, k],
            &v,
            &vec![ha, hb, hk],
        );
        assert!(
            r.passed(),
            "midpoint, hvp against differences of the gradient: {r}"
        );
    }
    for (x, p) in [
        (0.9, Osc { x: 0.7, y: -1.3 }),
        (-1.2, Osc { x: 0.2, y: 0.4 }),
    ] {
        let (y, (gx, gp)) = derefs_of_reference_parameters_grad(&x, &p);
        assert_eq!(y, derefs_of_reference_parameters(&x, &p));
        close("deref, ∂x", gx, 2.0 * x * p.y, TOL);
        close_all("deref, ∂p", &[gp.x, gp.y], &[0.0, x * x]);
        fd_vec(
            "deref",
            |q| derefs_of_reference_parameters(&q[0], &Osc { x: q[1], y: q[2] }),
            &[x, p.x, p.y],
            &[gx, gp.x, gp.y],
        );
        let (vx, vp) = (0.2, Osc { x: 0.3, y: 0.5 });
        let (y2, _, (hx, hp)) = derefs_of_reference_parameters_hvp(&x, &p, &vx, &vp);
        assert_eq!(y2, y);
        close("deref, hvp ∂x", hx, 2.0 * p.y * vx + 2.0 * x * vp.y, TOL);
        close_all("deref, hvp ∂p", &[hp.x, hp.y], &[0.0, 2.0 * x * vx]);
    }
}

/// out[i] ← out[i]·w for each i.
#[differentiate]
fn scale_buffer(w: f64, out: &mut Vec<f64>) {
    for i in 0..out.len() {
        out[i] = out[i] * w;
    }
}

/// h = [cos x, x²], e = h.pop() = x²; y = [h[0], x] scaled by x = [x cos x, x²]:
/// f = e·y[1] + y[0] = x⁴ + x cos x, f' = 4x³ + cos x − x sin x.
#[differentiate]
fn pop_beside_a_buffer(x: f64) -> f64 {
    let mut h = vec![x.cos(), x * x];
    let mut e = 0.0;
    if let Some(v) = h.pop() {
        e = v;
    }
    let mut y = vec![h[0], x];
    scale_buffer(x, &mut y);
    e * y[1] + y[0]
}

/// y = [sin x, x] scaled by x = [x sin x, x²], then popped: f = 2x² + x sin x,
/// f' = 4x + sin x + x cos x.
#[differentiate]
fn pop_of_a_buffer(x: f64) -> f64 {
    let mut y = vec![x.sin(), x];
    scale_buffer(x, &mut y);
    let mut t = 0.0;
    if let Some(e) = y.pop() {
        t = e * 2.0;
    }
    t + y[0]
}

/// A `pop` in a function that lends a `Vec` to a buffer helper: the pop's adjoint was given the
/// zero kept of the popped `Vec` where it takes its old length (rustc's "expected
/// `&ShapeOf<_>`, found `&Vec<f64>`"), whether the popped `Vec` is the buffer or another one.
#[test]
fn pop_in_a_function_with_a_buffer_helper() {
    for x in [0.7, -1.3, 2.1] {
        let (y, g) = pop_beside_a_buffer_grad(x);
        assert_eq!(y, pop_beside_a_buffer(x));
        close(
            "pop beside a buffer",
            g,
            4.0 * x * x * x + x.cos() - x * x.sin(),
            TOL,
        );
        fd("pop beside a buffer", pop_beside_a_buffer, x, g);
        let (yj, t) = pop_beside_a_buffer_jvp(x, 1.0);
        assert_eq!(yj, y);
        close("pop beside a buffer, tangent", t, g, TOL);

        let (y, g) = pop_of_a_buffer_grad(x);
        assert_eq!(y, pop_of_a_buffer(x));
        close("pop of a buffer", g, 4.0 * x + x.sin() + x * x.cos(), TOL);
        fd("pop of a buffer", pop_of_a_buffer, x, g);
        let (yj, t) = pop_of_a_buffer_jvp(x, 1.0);
        assert_eq!(yj, y);
        close("pop of a buffer, tangent", t, g, TOL);
    }
}

/// Settings of an enum matched through a reference parameter (`m: &Mode`): the pattern binds
/// each payload as a `&f64` (`&f32`, `&T`), which the arithmetic now reads as the float. A
/// body that dereferences the binding itself (`*c`), a guard, a pattern taking the reference
/// apart (`&Mode::Scale(k)`) and a payload that is not `Copy` (a `Vec`) keep the reference.
#[derive(Clone, Copy)]
enum Mode {
    Keep,
    Damp(f64),
    Shift(f64, f64),
    Scale { k: f64 },
}

#[differentiate(wrt(x), hessian)]
fn apply_mode(x: f64, m: &Mode) -> f64 {
    match m {
        Mode::Keep => x * x,
        Mode::Damp(c) if *c > 1.0 => x / c,
        Mode::Damp(c) => x * c + c * x.sin(),
        Mode::Shift(a, b) => a * x.sin() + b,
        &Mode::Scale { k } => k * x * x,
    }
}

enum Table {
    Weights(Vec<f64>),
    Flat(f64),
}

#[differentiate(wrt(x))]
fn apply_table(x: &[f64], t: &Table) -> f64 {
    match t {
        Table::Weights(w) => x.iter().zip(w).map(|(a, b)| a * b).sum(),
        Table::Flat(c) => x.iter().map(|a| a * c).sum(),
    }
}

#[differentiate(wrt(x))]
fn apply_mode32(x: f32, m: &Mode32) -> f32 {
    match m {
        Mode32::Damp(c) => x * c * x,
        Mode32::Keep => x,
    }
}

#[derive(Clone, Copy)]
enum Mode32 {
    Keep,
    Damp(f32),
}

#[differentiate]
fn chain_of_modes(x: &[f64]) -> f64 {
    let modes = vec![
        Mode::Damp(0.5),
        Mode::Keep,
        Mode::Shift(2.0, 0.3),
        Mode::Scale { k: 1.5 },
    ];
    let mut s = 0.0;
    for i in 0..x.len() {
        s += apply_mode(x[i], &modes[i % 4]);
    }
    s
}

#[test]
fn enum_payloads_bound_through_a_reference_parameter() {
    let x = 0.7;
    // Keep: 2x; Damp(0.5): c + c·cos x; Damp(2): 1/c; Shift(a, b): a·cos x; Scale{k}: 2kx.
    let cases: [(Mode, f64); 5] = [
        (Mode::Keep, 2.0 * x),
        (Mode::Damp(0.5), 0.5 + 0.5 * x.cos()),
        (Mode::Damp(2.0), 0.5),
        (Mode::Shift(2.0, 0.3), 2.0 * x.cos()),
        (Mode::Scale { k: 1.5 }, 3.0 * x),
    ];
    for (m, expected) in cases {
        let (v, g) = apply_mode_grad(x, &m);
        assert_eq!(v, apply_mode(x, &m));
        close("enum payload", g, expected, TOL);
        fd("enum payload", |x| apply_mode(x, &m), x, g);
        let (_, _, h) = apply_mode_hvp(x, &m, 1.0);
        let r = autodiff::check::hvpcheck(|x: &f64| apply_mode_grad(*x, &m).1, &x, &1.0, &h);
        assert!(r.passed(), "enum payload hvp: {r}");
    }
    let xs = [0.7, -1.3, 2.1, 0.4];
    let w = Table::Weights(vec![1.0, 2.0, 3.0, 4.0]);
    let (_, g) = apply_table_grad(&xs, &w);
    close_all("vec payload", &g, &[1.0, 2.0, 3.0, 4.0]);
    let (_, g) = apply_table_grad(&xs, &Table::Flat(0.5));
    close_all("float payload of a table", &g, &[0.5; 4]);
    let (_, g) = apply_mode32_grad(0.5f32, &Mode32::Keep);
    assert_eq!(g, 1.0, "f32, Keep");
    let (_, g) = apply_mode32_grad(0.5f32, &Mode32::Damp(3.0));
    // ∂(3x²)/∂x = 6x = 3 at x = ½.
    assert!((g - 3.0).abs() < 1e-6, "f32 payload: {g}");
    fd32(
        "f32 payload",
        |x| apply_mode32(x, &Mode32::Damp(3.0)),
        0.5,
        g,
    );
    let (v, g) = chain_of_modes_grad(&xs);
    assert_eq!(v, chain_of_modes(&xs));
    let e = [
        0.5 + 0.5 * xs[0].cos(),
        2.0 * xs[1],
        2.0 * xs[2].cos(),
        3.0 * xs[3],
    ];
    close_all("a chain of modes", &g, &e);
    fd_vec("a chain of modes", chain_of_modes, &xs, &g);
}

/// Each element of `out` is `(vᵢ·k + i/4).tanh()`: a helper generic over the array's length,
/// as the random programs write it.
#[differentiate(hessian)]
fn repeat_mapped<const N: usize>(v: [f64; N], k: f64) -> [f64; N] {
    let mut out = [0.0; N];
    for i in 0..N {
        out[i] = (v[i] * k + (i as f64) * 0.25).tanh();
    }
    out
}

/// `[x·y; 3]` and `[x; 2]` (a repeat of a differentiated value with a literal length) beside
/// `[2usize; 2]` (data): f = (xy)² + 2x + 3xy, ∂x = 2xy² + 2 + 3y, ∂y = 2x²y + 3x;
/// H = [[2y², 4xy + 3], [4xy + 3, 2x²]].
#[differentiate(hessian)]
fn repeated_value(x: f64, y: f64) -> f64 {
    let a = [x * y; 3];
    let b = [2usize; 2];
    let c = [x; 2];
    a[0] * a[2] + c[1] * (b[1] as f64) + a.iter().sum::<f64>()
}

/// `[x; 3]` lent to a helper over `[f64; N]`, twice: f = Σᵢ tanh(x·y + i/4) · y, so
/// ∂x = y² Σᵢ sech²(xy + i/4), ∂y = Σᵢ [tanh(xy + i/4) + xy·sech²(xy + i/4)].
#[differentiate(hessian)]
fn repeated_into_a_helper(x: f64, y: f64) -> f64 {
    let a = [x; 3];
    let m = repeat_mapped(a, y);
    let mut t = 0.0;
    for e in m {
        t += e * y;
    }
    t
}

#[test]
fn array_repeat_of_a_differentiated_value() {
    let (x, y) = (0.7, 1.3);
    let (v, g) = repeated_value_grad(x, y);
    assert_eq!(v, repeated_value(x, y));
    close2(
        "[x; n]",
        g,
        (2.0 * x * y * y + 2.0 + 3.0 * y, 2.0 * x * x * y + 3.0 * x),
    );
    fd2("[x; n]", repeated_value, (x, y), g);
    let hessian = [
        [2.0 * y * y, 4.0 * x * y + 3.0],
        [4.0 * x * y + 3.0, 2.0 * x * x],
    ];
    for (dx, dy) in [(1.0, 0.0), (0.3, -0.8)] {
        let (yj, t) = repeated_value_jvp(x, y, dx, dy);
        assert_eq!(yj, v);
        close("[x; n] tangent", t, g.0 * dx + g.1 * dy, 1e-12);
        let (_, gh, h) = repeated_value_hvp(x, y, dx, dy);
        close2("[x; n] hvp gradient", gh, g);
        close2(
            "[x; n] hvp",
            h,
            (
                hessian[0][0] * dx + hessian[0][1] * dy,
                hessian[1][0] * dx + hessian[1][1] * dy,
            ),
        );
    }
    let (v, g) = repeated_into_a_helper_grad(x, y);
    assert_eq!(v, repeated_into_a_helper(x, y));
    let sech2 = |u: f64| 1.0 - u.tanh() * u.tanh();
    let us: Vec<f64> = (0..3).map(|i| x * y + i as f64 * 0.25).collect();
    let ex = y * y * us.iter().map(|&u| sech2(u)).sum::<f64>();
    let ey = us.iter().map(|&u| u.tanh() + x * y * sech2(u)).sum::<f64>();
    close2("[x; 3] into a helper", g, (ex, ey));
    fd2("[x; 3] into a helper", repeated_into_a_helper, (x, y), g);
    let (_, t) = repeated_into_a_helper_jvp(x, y, 0.4, -0.6);
    close(
        "[x; 3] into a helper, tangent",
        t,
        0.4 * ex - 0.6 * ey,
        1e-12,
    );
    let (_, _, h) = repeated_into_a_helper_hvp(x, y, 0.4, -0.6);
    let r = autodiff::check::hvpcheck(
        |p: &(f64, f64)| repeated_into_a_helper_grad(p.0, p.1).1,
        &(x, y),
        &(0.4, -0.6),
        &h,
    );
    assert!(r.passed(), "[x; 3] into a helper, hvp: {r}");
}

/// x²·k with k = trunc(2x) (piecewise constant): ∂x = 2kx, H = 2k; k = 2 at x = 1.328.
#[differentiate(hessian)]
fn truncated_factor(x: f64) -> f64 {
    x * x * ((x * 2.0) as i32 as f64)
}

/// The same through an integer variable and `usize`: f = x²·k + x·j with k = trunc(2x) and
/// j = trunc(x) as usize; ∂x = 2kx + j, H = 2k.
#[differentiate(hessian)]
fn truncated_through_integers(x: f64) -> f64 {
    let k = (x * 2.0) as i32;
    let j = x as usize;
    x * x * (k as f64) + x * (j as f64)
}

#[test]
fn hvp_of_a_cast_to_an_integer() {
    // The tangent of `(x * 2.0) as i32` under `hessian` was the tangent cast, `(2v) as i32`:
    // H·v wrong wherever |2v| ≥ 1 (a wrong Hessian-vector product, right for small v).
    let x = 1.328;
    let (k, j) = (2.0, 1.0);
    for v in [1.0, -0.8, 0.17, 3.0] {
        let (y, g, h) = truncated_factor_hvp(x, v);
        assert_eq!(y, truncated_factor(x));
        close("trunc, gradient", g, 2.0 * k * x, TOL);
        close("trunc, H·v", h, 2.0 * k * v, TOL);
        let r = autodiff::check::hvpcheck(|p: &f64| truncated_factor_grad(*p).1, &x, &v, &h);
        assert!(r.passed(), "trunc H·v: {r}");
        let (_, t) = truncated_factor_jvp(x, v);
        close("trunc, tangent", t, 2.0 * k * x * v, TOL);
        let (y, g, h) = truncated_through_integers_hvp(x, v);
        assert_eq!(y, truncated_through_integers(x));
        close("integers, gradient", g, 2.0 * k * x + j, TOL);
        close("integers, H·v", h, 2.0 * k * v, TOL);
        let r =
            autodiff::check::hvpcheck(|p: &f64| truncated_through_integers_grad(*p).1, &x, &v, &h);
        assert!(r.passed(), "integers H·v: {r}");
    }
    let (_, g) = truncated_factor_grad(x);
    fd("trunc", truncated_factor, x, g);
    let (_, g) = truncated_through_integers_grad(x);
    fd("integers", truncated_through_integers, x, g);
}

/// m = [[x·i + y·j]] (2×3) written by element in two loops, then read by `indexed_iter` and
/// `iter()`: f = Σᵢⱼ mᵢⱼ·(i − j) + x·Σᵢⱼ mᵢⱼ = −7y + 3x² + 6xy (Σ i(i − j) = 0, Σ j(i − j) =
/// −7, Σ i = 3, Σ j = 6); ∂x = 6x + 6y, ∂y = 6x − 7, H = [[6, 6], [6, 0]].
#[differentiate(hessian)]
fn matrix_written_then_iterated(x: f64, y: f64) -> f64 {
    let mut m: ndarray::Array2<f64> = ndarray::Array2::zeros((2, 3));
    for i in 0..2 {
        for j in 0..3 {
            m[[i, j]] = x * (i as f64) + y * (j as f64);
        }
    }
    let mut t = 0.0;
    for ((i, j), &v) in m.indexed_iter() {
        t += v * (i as f64 - j as f64);
    }
    for v in m.iter() {
        t += v * x;
    }
    t
}

/// One element written in a branch, then `for ((i, j), v)` with `v` a reference: for x > 0,
/// m₁₀ = x², f = 2x² (the weight of (1, 0) is 1 + 2·0 + 1); ∂x = 4x, H = 4.
#[differentiate(hessian)]
fn matrix_written_in_a_branch_iterated(x: f64) -> f64 {
    let mut m = ndarray::Array2::<f64>::zeros((2, 2));
    if x > 0.0 {
        m[[1, 0]] = x * x;
    } else {
        m[[0, 1]] = x;
    }
    let mut t = 0.0;
    for ((i, j), v) in m.indexed_iter() {
        t += v * ((i + 2 * j) as f64 + 1.0);
    }
    t
}

#[test]
fn matrix_written_by_element_then_iterated() {
    // Iterating a local matrix after an element write was rustc's "the trait bound `usize:
    // NdIndex<Dim<[usize; 2]>>` is not satisfied" in generated code: the written version of
    // the matrix was taken for a vector and read by one index.
    let (x, y) = (0.7, -0.4);
    let (v, g) = matrix_written_then_iterated_grad(x, y);
    assert_eq!(v, matrix_written_then_iterated(x, y));
    close2("written matrix", g, (6.0 * x + 6.0 * y, 6.0 * x - 7.0));
    fd2("written matrix", matrix_written_then_iterated, (x, y), g);
    for (dx, dy) in [(1.0, 0.0), (0.3, -0.8)] {
        let (yj, t) = matrix_written_then_iterated_jvp(x, y, dx, dy);
        assert_eq!(yj, v);
        close("written matrix tangent", t, g.0 * dx + g.1 * dy, 1e-12);
        let (_, gh, h) = matrix_written_then_iterated_hvp(x, y, dx, dy);
        close2("written matrix hvp gradient", gh, g);
        close2("written matrix hvp", h, (6.0 * dx + 6.0 * dy, 6.0 * dx));
    }
    let (v, g) = matrix_written_in_a_branch_iterated_grad(x);
    assert_eq!(v, matrix_written_in_a_branch_iterated(x));
    close("branch", v, 2.0 * x * x, 1e-12);
    close("branch gradient", g, 4.0 * x, 1e-12);
    fd("branch", matrix_written_in_a_branch_iterated, x, g);
    let (_, t) = matrix_written_in_a_branch_iterated_jvp(x, -0.6);
    close("branch tangent", t, -0.6 * 4.0 * x, 1e-12);
    let (_, gh, h) = matrix_written_in_a_branch_iterated_hvp(x, -0.6);
    close("branch hvp gradient", gh, g, 1e-12);
    close("branch hvp", h, -0.6 * 4.0, 1e-12);
}

/// v = [x, 2x, x²]: the windows (x, 2x) and (2x, x²) both pass `w[1] > 0` for x > 0, f = 2x² +
/// 2x³; f' = 4x + 6x², f'' = 4 + 12x. The predicate reads the window of a local `Vec`.
#[differentiate(hessian)]
fn windows_filtered(x: f64) -> f64 {
    let v = vec![x, 2.0 * x, x * x];
    v.windows(2)
        .filter(|&w| w[1] > 0.0)
        .map(|w| w[0] * w[1])
        .sum::<f64>()
}

/// a = [x, y, xy] zipped with the windows of b = [y, x, 1]: (x, [y, x]) and (y, [x, 1]) both
/// pass the filter for small values, f = x·x + y·1 = x² + y; ∂x = 2x, ∂y = 1, H = [[2, 0], [0,
/// 0]]. The predicate takes the pair apart, `|&(p, w)|`, inside a loop.
#[differentiate(hessian)]
fn zip_windows_filtered(x: f64, y: f64) -> f64 {
    let a = vec![x, y, x * y];
    let b = vec![y, x, 1.0];
    let mut t = 0.0;
    for _ in 0..2 {
        t += a
            .iter()
            .copied()
            .zip(b.windows(2))
            .filter(|&(p, w)| w[0] * p < 10.0)
            .map(|(p, w)| p * w[1])
            .sum::<f64>();
    }
    t * 0.5
}

#[test]
fn windows_read_by_a_predicate() {
    // The window given to `filter`'s predicate was made of the container moved into the
    // predicate's code: rustc's E0382 "use of moved value" in generated code, in every loop a
    // chain over `windows(2)` with a `filter` makes.
    for x in [0.4, 1.3] {
        let (v, g) = windows_filtered_grad(x);
        assert_eq!(v, windows_filtered(x));
        close("windows filtered", v, 2.0 * x * x + 2.0 * x * x * x, 1e-12);
        close("windows filtered gradient", g, 4.0 * x + 6.0 * x * x, 1e-12);
        fd("windows filtered", windows_filtered, x, g);
        let (_, t) = windows_filtered_jvp(x, -0.7);
        close("windows filtered tangent", t, -0.7 * g, 1e-12);
        let (_, gh, h) = windows_filtered_hvp(x, -0.7);
        close("windows filtered hvp gradient", gh, g, 1e-12);
        close("windows filtered hvp", h, -0.7 * (4.0 + 12.0 * x), 1e-12);
    }
    let (x, y) = (0.6, -0.3);
    let (v, g) = zip_windows_filtered_grad(x, y);
    assert_eq!(v, zip_windows_filtered(x, y));
    close("zip windows", v, x * x + y, 1e-12);
    close2("zip windows gradient", g, (2.0 * x, 1.0));
    fd2("zip windows", zip_windows_filtered, (x, y), g);
    let (_, t) = zip_windows_filtered_jvp(x, y, 0.5, -1.0);
    close("zip windows tangent", t, 0.5 * g.0 - g.1, 1e-12);
    let (_, gh, h) = zip_windows_filtered_hvp(x, y, 0.5, -1.0);
    close2("zip windows hvp gradient", gh, g);
    close2("zip windows hvp", h, (2.0 * 0.5, 0.0));
}

/// xs = [x, −1, 2x, −2, 3x, x]; for x > 0 the filter keeps [x, 2x, 3x, x] and `step_by(2)`
/// [x, 3x]: f = x² + 9x² = 10x²; f' = 20x, f'' = 20.
#[differentiate(hessian)]
fn filtered_then_stepped(x: f64) -> f64 {
    let xs = vec![x, -1.0, 2.0 * x, -2.0, 3.0 * x, x];
    xs.iter()
        .filter(|&&u| u > 0.0)
        .step_by(2)
        .map(|&u| u * u)
        .sum()
}

/// The same kept items skipped by one, [2x, 3x, x], stepped by 2, [2x, x], and enumerated in a
/// `for` loop adding u·(i + 1)·x + x: f = 2x·1·x + x·2·x + 2x = 4x² + 2x; f' = 8x + 2, f'' = 8.
#[differentiate(hessian)]
fn filtered_skipped_stepped_enumerated(x: f64) -> f64 {
    let xs = vec![x, -1.0, 2.0 * x, -2.0, 3.0 * x, x];
    let mut t = 0.0;
    for (i, &u) in xs
        .iter()
        .filter(|&&u| u > 0.0)
        .skip(1)
        .step_by(2)
        .enumerate()
    {
        t += u * (i as f64 + 1.0) * x + x;
    }
    t
}

#[test]
fn step_by_after_a_filter() {
    // `step_by` after `filter` (or any adapter that drops items) was an error that said to put
    // it before; it now keeps every n-th item that reaches it, counted in the loop.
    for x in [0.5, 1.7] {
        let (v, g) = filtered_then_stepped_grad(x);
        assert_eq!(v, filtered_then_stepped(x));
        close("stepped", v, 10.0 * x * x, 1e-12);
        close("stepped gradient", g, 20.0 * x, 1e-12);
        fd("stepped", filtered_then_stepped, x, g);
        let (_, t) = filtered_then_stepped_jvp(x, 0.3);
        close("stepped tangent", t, 0.3 * g, 1e-12);
        let (_, gh, h) = filtered_then_stepped_hvp(x, 0.3);
        close("stepped hvp gradient", gh, g, 1e-12);
        close("stepped hvp", h, 0.3 * 20.0, 1e-12);

        let (v, g) = filtered_skipped_stepped_enumerated_grad(x);
        assert_eq!(v, filtered_skipped_stepped_enumerated(x));
        close("skipped", v, 4.0 * x * x + 2.0 * x, 1e-12);
        close("skipped gradient", g, 8.0 * x + 2.0, 1e-12);
        fd("skipped", filtered_skipped_stepped_enumerated, x, g);
        let (_, gh, h) = filtered_skipped_stepped_enumerated_hvp(x, -1.1);
        close("skipped hvp gradient", gh, g, 1e-12);
        close("skipped hvp", h, -1.1 * 8.0, 1e-12);
    }
}

#[differentiate(hessian)]
fn pair_product(xs: &[f64]) -> f64 {
    xs[0] * xs[1]
}

/// x > 0.5: f = x; otherwise the array literal [x, 2x] lent to a helper taking a slice, f =
/// 2x². f' = 1 or 4x, f'' = 0 or 4.
#[differentiate(hessian)]
fn literal_lent_in_a_branch(x: f64) -> f64 {
    let mut t = 0.0;
    if x > 0.5 {
        t += x;
    } else {
        t += pair_product(&[x, 2.0 * x]);
    }
    t
}

/// A struct whose method takes a slice, given `&[x, x]` in a branch: for x ≤ 0.5, f = k·x² with
/// k = x, f = x³; f' = 3x², f'' = 6x. Otherwise f = k = x.
#[derive(Clone, autodiff::Differentiable)]
struct Weigher {
    k: f64,
}

#[differentiate(hessian)]
impl Weigher {
    fn weigh(&self, xs: &[f64]) -> f64 {
        self.k * xs[0] * xs[1]
    }
}

#[differentiate(hessian)]
fn method_given_a_literal_in_a_branch(x: f64) -> f64 {
    let s = Weigher { k: x };
    if x > 0.5 { s.k } else { s.weigh(&[x, x]) }
}

#[test]
fn array_literal_lent_in_a_branch_under_hessian() {
    // Under `hessian`, the pullback read the array back from what the branch kept and gave the
    // callee its tangent as an array where the callee takes a slice: rustc's E0277 "the
    // tangents of this forward rule do not match the call's differentiable arguments".
    for (x, d, h) in [(0.3, 4.0 * 0.3, 4.0), (0.8, 1.0, 0.0)] {
        let (v, g) = literal_lent_in_a_branch_grad(x);
        assert_eq!(v, literal_lent_in_a_branch(x));
        close("lent in a branch gradient", g, d, 1e-12);
        fd("lent in a branch", literal_lent_in_a_branch, x, g);
        let (_, gh, hv) = literal_lent_in_a_branch_hvp(x, 0.6);
        close("lent in a branch hvp gradient", gh, g, 1e-12);
        close("lent in a branch hvp", hv, 0.6 * h, 1e-12);
    }
    for (x, d, h) in [(0.3, 3.0 * 0.09, 6.0 * 0.3), (0.8, 1.0, 0.0)] {
        let (v, g) = method_given_a_literal_in_a_branch_grad(x);
        assert_eq!(v, method_given_a_literal_in_a_branch(x));
        close("method gradient", g, d, 1e-12);
        fd("method", method_given_a_literal_in_a_branch, x, g);
        let (_, t) = method_given_a_literal_in_a_branch_jvp(x, -0.4);
        close("method tangent", t, -0.4 * d, 1e-12);
        let (_, gh, hv) = method_given_a_literal_in_a_branch_hvp(x, -0.4);
        close("method hvp gradient", gh, g, 1e-12);
        close("method hvp", hv, -0.4 * h, 1e-12);
    }
}

/// The array literal [x, (k + 1)·x] lent to a helper taking a slice, in a loop of three trips:
/// f = Σₖ (k + 1)·x² = 6x², f' = 12x, f'' = 12.
#[differentiate(hessian)]
fn literal_lent_in_a_loop(x: f64) -> f64 {
    let mut t = 0.0;
    for k in 0..3 {
        t += pair_product(&[x, (k + 1) as f64 * x]);
    }
    t
}

/// A local array written in a loop and lent after each write: a = [x, 1] then [x, 2x],
/// f = x + 2x², f' = 1 + 4x, f'' = 4.
#[differentiate(hessian)]
fn array_written_and_lent_in_a_loop(x: f64) -> f64 {
    let mut a = [1.0, 1.0];
    let mut t = 0.0;
    for k in 0..2 {
        a[k] = x * (k as f64 + 1.0);
        t += pair_product(&a);
    }
    t
}

/// The literal [vᵢ, x] lent in a `map`'s closure: f = x·Σᵢ vᵢ, ∂vᵢ = x, ∂x = Σᵢ vᵢ; the
/// Hessian's only entries are ∂²f/∂x∂vᵢ = 1.
#[differentiate(hessian)]
fn literal_lent_in_a_map(v: &[f64], x: f64) -> f64 {
    v.iter().map(|&e| pair_product(&[e, x])).sum()
}

#[test]
fn array_literal_lent_in_a_loop_under_hessian() {
    // Under `hessian`, the pullback popped the array off the loop's stack and gave the callee
    // its tangent as an array where the callee takes a slice: rustc's E0277 "the tangents of
    // this forward rule do not match the call's differentiable arguments".
    for x in [0.3, -1.2, 0.8] {
        let (v, g) = literal_lent_in_a_loop_grad(x);
        assert_eq!(v, literal_lent_in_a_loop(x));
        close("lent in a loop gradient", g, 12.0 * x, 1e-12);
        fd("lent in a loop", literal_lent_in_a_loop, x, g);
        let (_, t) = literal_lent_in_a_loop_jvp(x, 0.6);
        close("lent in a loop tangent", t, 0.6 * g, 1e-12);
        let (_, gh, hv) = literal_lent_in_a_loop_hvp(x, 0.6);
        close("lent in a loop hvp gradient", gh, g, 1e-12);
        close("lent in a loop hvp", hv, 0.6 * 12.0, 1e-12);

        let (v, g) = array_written_and_lent_in_a_loop_grad(x);
        assert_eq!(v, array_written_and_lent_in_a_loop(x));
        close("written in a loop gradient", g, 1.0 + 4.0 * x, 1e-12);
        fd("written in a loop", array_written_and_lent_in_a_loop, x, g);
        let (_, gh, hv) = array_written_and_lent_in_a_loop_hvp(x, -0.4);
        close("written in a loop hvp gradient", gh, g, 1e-12);
        close("written in a loop hvp", hv, -0.4 * 4.0, 1e-12);

        let e = [0.5, -0.25, 2.0];
        let (v, (gv, gx)) = literal_lent_in_a_map_grad(&e, x);
        assert_eq!(v, literal_lent_in_a_map(&e, x));
        close_all("lent in a map ∂v", &gv, &[x, x, x]);
        close("lent in a map ∂x", gx, 2.25, 1e-12);
        let (_, back) = literal_lent_in_a_map_vjp(&e, x);
        let (bv, bx) = back(-2.5);
        close_all(
            "lent in a map seeded ∂v",
            &bv,
            &[-2.5 * x, -2.5 * x, -2.5 * x],
        );
        close("lent in a map seeded ∂x", bx, -2.5 * 2.25, 1e-12);
        let dv = vec![0.1, 0.2, -0.3];
        let (_, _, (hv_v, hv_x)) = literal_lent_in_a_map_hvp(&e, x, &dv, 0.7);
        close_all("lent in a map hvp ∂v", &hv_v, &[0.7, 0.7, 0.7]);
        close("lent in a map hvp ∂x", hv_x, 0.0, 1e-12);
    }
}

/// A chain of 28 calls, each read once: printed as one nested expression.
#[differentiate]
#[rustfmt::skip]
fn long_call_chain(x: f64) -> f64 {
    x.sin().cos().tanh().atan().sin().cos().tanh().atan().sin().cos().tanh().atan().sin().cos()
        .tanh().atan().sin().cos().tanh().atan().sin().cos().tanh().atan().sin().cos().tanh().atan()
}

/// Values read once each, nested in one another's expressions through quotients, `mul_add`
/// and `acosh` (the shape of a random program's locals).
#[differentiate]
fn nested_once_read_values(x: f64, y: f64) -> f64 {
    let a = x.sin();
    let b = (a * y).atan() * 0.6;
    let c = a * b;
    let d = (a / ((b + c).tanh()).cosh()).tanh();
    (c.mul_add(b / (d.abs() + 1.0), (1.5 + a * a).acosh())).atan() * 0.6
}

#[test]
fn deeply_nested_expressions_expand() {
    // Deciding whether a value is folded into its read asked again, for each operand, what the
    // operand's own expression reads: time exponential in the depth of the nesting. These two
    // took minutes each to expand (a random program's function never finished compiling).
    for x in [-0.8, 0.3, 1.7] {
        let (v, g) = long_call_chain_grad(x);
        assert_eq!(v, long_call_chain(x));
        fd("long call chain", long_call_chain, x, g);
        for y in [-1.1, 0.6] {
            let (v, (gx, gy)) = nested_once_read_values_grad(x, y);
            assert_eq!(v, nested_once_read_values(x, y));
            fd2(
                "nested once-read values",
                nested_once_read_values,
                (x, y),
                (gx, gy),
            );
            let (_, t) = nested_once_read_values_jvp(x, y, 0.4, -0.9);
            close(
                "nested once-read values tangent",
                t,
                0.4 * gx - 0.9 * gy,
                1e-12,
            );
        }
    }
}

/// `e₀ = x`, `eₖ₊₁ = sin(eₖ/2 + x·y)`, 300 levels written as one expression nested 300 deep.
#[differentiate]
#[rustfmt::skip]
fn nested_300_deep(x: f64, y: f64) -> f64 {
        ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((
        ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((
        ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((
        x
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
         * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin() * 0.5 + x * y).sin()
}

#[test]
fn an_expression_nested_300_deep() {
    // The passes over the function recurse through its expressions; at this depth they took
    // more than the compiler thread's stack (rustc stopped by SIGSEGV). The derivative by the
    // recurrence: dₖ₊₁ = cos(uₖ)·(dₖ/2 + y) for x, cos(uₖ)·(dₖ/2 + x) for y.
    for (x, y) in [(0.3, 0.7), (-1.2, 0.4), (0.9, -1.5)] {
        let (mut e, mut dx, mut dy) = (x, 1.0, 0.0);
        for _ in 0..300 {
            let u: f64 = e * 0.5 + x * y;
            let c = u.cos();
            (dx, dy) = (c * (0.5 * dx + y), c * (0.5 * dy + x));
            e = u.sin();
        }
        let (v, (gx, gy)) = nested_300_deep_grad(x, y);
        assert_eq!(v, nested_300_deep(x, y));
        close("300 deep value", v, e, 1e-12);
        close("300 deep d/dx", gx, dx, 1e-10);
        close("300 deep d/dy", gy, dy, 1e-10);
        let (_, t) = nested_300_deep_jvp(x, y, -0.3, 0.8);
        close("300 deep tangent", t, -0.3 * gx + 0.8 * gy, 1e-10);
    }
}

/// A `match` of 24 arms in a loop, each keeping a float for the pullback: `sₖ₊₁ = sin(sₖ·y +
/// m)` with `m = 7k mod 25` (no arm for 24: `s` is kept).
#[differentiate(hessian)]
fn many_armed_match(x: f64, y: f64) -> f64 {
    let mut s = x;
    for k in 0..6usize {
        s = match k * 7 % 25 {
            0 => (s * y + 0.0).sin(),
            1 => (s * y + 1.0).sin(),
            2 => (s * y + 2.0).sin(),
            3 => (s * y + 3.0).sin(),
            4 => (s * y + 4.0).sin(),
            5 => (s * y + 5.0).sin(),
            6 => (s * y + 6.0).sin(),
            7 => (s * y + 7.0).sin(),
            8 => (s * y + 8.0).sin(),
            9 => (s * y + 9.0).sin(),
            10 => (s * y + 10.0).sin(),
            11 => (s * y + 11.0).sin(),
            12 => (s * y + 12.0).sin(),
            13 => (s * y + 13.0).sin(),
            14 => (s * y + 14.0).sin(),
            15 => (s * y + 15.0).sin(),
            16 => (s * y + 16.0).sin(),
            17 => (s * y + 17.0).sin(),
            18 => (s * y + 18.0).sin(),
            19 => (s * y + 19.0).sin(),
            20 => (s * y + 20.0).sin(),
            21 => (s * y + 21.0).sin(),
            22 => (s * y + 22.0).sin(),
            23 => (s * y + 23.0).sin(),
            _ => s,
        };
    }
    s
}

#[test]
fn a_match_of_many_arms_in_a_loop() {
    // Its record was an enum with a type parameter per arm, each arm's value leaving the
    // others to rustc's inference (a minute of type checking for 200 arms); the types of
    // floats are now written out. The derivative by the recurrence.
    for (x, y) in [(0.3, 0.7), (-1.2, 0.4), (0.9, -1.5)] {
        let (mut s, mut dx, mut dy) = (x, 1.0, 0.0);
        for k in 0..6usize {
            let m = k * 7 % 25;
            if m < 24 {
                let u: f64 = s * y + m as f64;
                (dx, dy) = (u.cos() * dx * y, u.cos() * (dy * y + s));
                s = u.sin();
            }
        }
        let (v, (gx, gy)) = many_armed_match_grad(x, y);
        assert_eq!(v, many_armed_match(x, y));
        close("many arms value", v, s, 1e-12);
        close("many arms d/dx", gx, dx, 1e-10);
        close("many arms d/dy", gy, dy, 1e-10);
        let (_, back) = many_armed_match_vjp(x, y);
        let (bx, by) = back(-2.5);
        close("many arms seeded pullback", bx, -2.5 * gx, 1e-12);
        close("many arms seeded pullback", by, -2.5 * gy, 1e-12);
        fd2("many arms", many_armed_match, (x, y), (gx, gy));
        // Hessian-vector product along (0.6, -0.8) against differences of the gradient.
        let (_, _, (hx, hy)) = many_armed_match_hvp(x, y, 0.6, -0.8);
        let h = 1e-6;
        let (_, (px, py)) = many_armed_match_grad(x + 0.6 * h, y - 0.8 * h);
        let (_, (mx, my)) = many_armed_match_grad(x - 0.6 * h, y + 0.8 * h);
        close("many arms hvp x", hx, (px - mx) / (2.0 * h), 1e-5);
        close("many arms hvp y", hy, (py - my) / (2.0 * h), 1e-5);
    }
}
