// The functions index slices inside range loops on purpose: that is what they test.
#![allow(clippy::needless_range_loop)]

use autodiff::differentiate;

#[differentiate]
fn dot_sq(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * y[i] * x[i];
    }
    s
}

#[differentiate]
fn arr(x: [f64; 3]) -> f64 {
    x[0] * x[1] + x[2].sin()
}

#[test]
fn slices() {
    let x = vec![1.0, 2.0, 3.0];
    let y = vec![0.5, -1.0, 2.0];
    let (_, (dx, dy)) = dot_sq_grad(&x, &y);
    assert_eq!(dx, vec![1.0, -4.0, 12.0]);
    assert_eq!(dy, vec![1.0, 4.0, 9.0]);
    let (_, d) = arr_grad([2.0, 3.0, 0.0]);
    assert_eq!(d, [3.0, 2.0, 1.0]);
}

#[differentiate]
fn iters(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += *v * w;
    }
    for &v in x.iter() {
        s += v * v;
    }
    for (i, v) in x.iter().enumerate() {
        s += (i as f64) * v;
    }
    let t: f64 = x.iter().sum();
    s * t
}

#[test]
fn slice_iteration() {
    let x = vec![1.0, 2.0, 3.0];
    let w = 0.5;
    let (v, (dx, dw)) = iters_grad(&x, w);
    let s = 6.0 * w + 14.0 + (0.0 + 2.0 + 6.0);
    assert_eq!(v, s * 6.0);
    // ds/dx_k = w + 2 x_k + k ; dt/dx_k = 1 ; d(s t)/dx_k = ds/dx_k * t + s
    for k in 0..3 {
        assert_eq!(dx[k], (w + 2.0 * x[k] + k as f64) * 6.0 + s, "{k}");
    }
    assert_eq!(dw, 6.0 * 6.0);
}

#[differentiate]
fn local_writes(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    for i in 0..n {
        h[i] = x[i] * w;
    }
    for i in 1..n {
        h[i] += h[i - 1] * h[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += h[i] * h[i];
    }
    h[0] = 100.0;
    s + h[0]
}

#[test]
fn writes() {
    let x = vec![0.5, -1.0, 2.0, 0.3];
    let w = 0.7;
    let (_, (dx, dw)) = local_writes_grad(&x, w);
    let f = |x: &[f64], w: f64| local_writes(x, w);
    let h = 1e-6;
    for k in 0..x.len() {
        let mut xp = x.clone();
        xp[k] += h;
        let mut xm = x.clone();
        xm[k] -= h;
        let fd = (f(&xp, w) - f(&xm, w)) / (2.0 * h);
        assert!(
            (fd - dx[k]).abs() < 1e-6 * (1.0 + fd.abs()),
            "{k}: {fd} vs {}",
            dx[k]
        );
    }
    let fd = (f(&x, w + h) - f(&x, w - h)) / (2.0 * h);
    assert!((fd - dw).abs() < 1e-6 * (1.0 + fd.abs()), "{fd} vs {dw}");
}

/// `clone` copies: writing into the copy leaves the original as it was.
#[differentiate]
fn clone_then_write(x: &[f64]) -> f64 {
    let h = x.to_vec();
    let mut g = h.clone();
    g[0] *= 10.0;
    h[0] + g[0] + g[1]
}

#[test]
fn clones_are_copies() {
    let (v, d) = clone_then_write_grad(&[1.0, 2.0]);
    assert_eq!(v, 1.0 + 10.0 + 2.0);
    assert_eq!(d, vec![11.0, 1.0]);
}

/// `x.split_at(k)` with the position computed in the call: Σ_{i<h} x_i·x_{h+i} with
/// h = n/2, so ∂x_i = x_{h+i} and ∂x_{h+i} = x_i. (Only a variable or a literal position was
/// followed before; this was the error "no derivative rule for method `split_at`".)
#[differentiate]
fn halves_dot(x: &[f64]) -> f64 {
    let (a, b) = x.split_at(x.len() / 2);
    a.iter().zip(b.iter()).map(|(p, q)| p * q).sum::<f64>()
}

#[test]
fn split_at_a_computed_position() {
    let x = [0.3, -1.2, 0.7, 1.9, -0.4, 0.05];
    let (v, g) = halves_dot_grad(&x);
    assert_eq!(v, halves_dot(&x));
    assert_eq!(g, vec![1.9, -0.4, 0.05, 0.3, -1.2, 0.7]);
    // An odd length leaves the last element out of the product: its derivative is 0.
    let (_, g) = halves_dot_grad(&x[..5]);
    assert_eq!(g, vec![0.7, 1.9, 0.3, -1.2, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Locals annotated with a reference type (`let t: &f64 = ..`, `let r: &Vec<f64> = row;`): the
// same as unannotated. The annotation bound a value the lowering had read through the
// reference (up to 31 rustc errors in the generated code).
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn annotated_references(x: &[f64], rows: &[Vec<f64>], w: f64) -> f64 {
    let r: &f64 = &w;
    let best: &f64 = x.iter().max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap();
    let last: &f64 = x.last().unwrap();
    let mut s = *r * *r + best * 2.0 + x[0] * last;
    for row in rows {
        let v: &Vec<f64> = row;
        let head: &[f64] = &v[..1];
        s += head[0] * v[v.len() - 1];
    }
    s
}

#[test]
fn locals_annotated_with_reference_types() {
    let x = [0.5, 2.0, -1.0];
    let rows = vec![vec![1.0, 3.0], vec![2.0, 0.5, 4.0]];
    let w = 1.5;
    let (y, (gx, grows, gw)) = annotated_references_grad(&x, &rows, w);
    assert_eq!(y, annotated_references(&x, &rows, w));
    assert_eq!(y, w * w + 4.0 - 0.5 + 3.0 + 8.0);
    assert_eq!(gx, vec![-1.0, 2.0, 0.5]);
    assert_eq!(grows, vec![vec![3.0, 1.0], vec![4.0, 0.0, 2.0]]);
    assert_eq!(gw, 2.0 * w);
}

// ---------------------------------------------------------------------------------------------
// A `for` loop over an array literal of slices or `Vec`s (`for r in [a, b]`,
// `[a.to_vec(), b.to_vec()]`, `[&x[..k], &x[k..]]`): the array needed its elements to be `Copy`
// (rustc's `Vec<f64>: Copy`, `[&[f64]; 2]: IndexAdjoint`).
// ---------------------------------------------------------------------------------------------

/// s ← s/2 + Σ sin(rᵢ) over the two parts, then the halves of x.
#[differentiate]
fn over_parts(a: &[f64], b: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for r in [a, b] {
        s = s * 0.5 + r.iter().map(|v| v.sin()).sum::<f64>();
    }
    for r in [a.to_vec(), b.to_vec()] {
        s += r[0] * r[r.len() - 1];
    }
    let k = x.len() / 2;
    for h in [&x[..k], &x[k..]] {
        s += h.iter().sum::<f64>() * h[0];
    }
    s
}

#[test]
fn loops_over_arrays_of_slices() {
    let (a, b, x) = ([0.5, 1.0], [2.0], [1.0, 2.0, 3.0, 4.0]);
    let (y, (ga, gb, gx)) = over_parts_grad(&a, &b, &x);
    assert_eq!(y, over_parts(&a, &b, &x));
    let expected = 0.5 * (0.5f64.sin() + 1.0f64.sin()) + 2.0f64.sin() + 0.5 + 4.0 + 3.0 + 21.0;
    assert!((y - expected).abs() < 1e-12, "{y} vs {expected}");
    assert_eq!(ga, vec![0.5 * 0.5f64.cos() + 1.0, 0.5 * 1.0f64.cos() + 0.5]);
    assert_eq!(gb, vec![2.0f64.cos() + 2.0 * 2.0]);
    // (x₀ + x₁)·x₀ + (x₂ + x₃)·x₂.
    assert_eq!(gx, vec![2.0 * 1.0 + 2.0, 1.0, 2.0 * 3.0 + 4.0, 3.0]);
}

/// `v.as_slice()` and `v.as_ref()` of a `Vec` are the whole of it, `&v[..]` (they were "no
/// derivative rule for method `as_slice`").
#[differentiate]
fn squares_of(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

#[differentiate]
fn through_as_slice(x: &Vec<f64>) -> f64 {
    let y: Vec<f64> = x.iter().map(|a| a * 2.0).collect();
    squares_of(y.as_slice()) + squares_of(x.as_ref())
}

#[test]
fn as_slice_and_as_ref_of_a_vec() {
    let x = vec![1.0, 2.0];
    // Σ(2x)² + Σx² = 5Σx²: ∂/∂xᵢ = 10xᵢ.
    let (v, g) = through_as_slice_grad(&x);
    assert_eq!(v, 25.0);
    assert_eq!(g, vec![10.0, 20.0]);
}

/// A range slice as the value of an `if` or `match` arm (a split chosen by a flag), beside a
/// whole slice, passed to a helper, in a tuple, and of data in a loop: the copy the range
/// stands for outlives the arms (each was rustc's E0515 "cannot return value referencing
/// temporary value", E0716 or E0308 at the attribute).
#[differentiate]
fn cubes(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a * a).sum()
}

#[differentiate]
fn chosen_part(x: &[f64], y: &[f64], flag: bool) -> f64 {
    let src = if flag { &x[1..] } else { y };
    src.iter().map(|v| v * v).sum::<f64>() + x[0] * y[0]
}

#[differentiate]
fn chosen_case(x: &[f64], k: usize) -> f64 {
    let part = match k {
        0 => &x[..2],
        1 => &x[1..3],
        _ => &x[2..],
    };
    part.iter().sum::<f64>() * x[0] + cubes(if k == 0 { &x[1..] } else { &x[..1] })
}

#[differentiate]
fn swapped_halves(x: &[f64], flip: bool) -> f64 {
    let (a, b) = if flip {
        (&x[2..], &x[..2])
    } else {
        (&x[..2], &x[2..])
    };
    a.iter().sum::<f64>() * b.iter().map(|v| v * v).sum::<f64>()
}

#[differentiate(wrt(w))]
fn phases(w: f64, data: &[f64]) -> f64 {
    let mut total = 0.0;
    for phase in 0..2 {
        let part = if phase == 0 { &data[..1] } else { &data[1..] };
        total += part.iter().map(|d| w * w * d).sum::<f64>() * (phase as f64 + 1.0);
    }
    total
}

#[test]
fn range_slices_as_values_of_arms() {
    let x = [1.0, 2.0, 3.0];
    let y = [0.5, -1.0, 4.0];
    // flag: 2² + 3² + x₀y₀; else: Σy² + x₀y₀.
    assert_eq!(
        chosen_part_grad(&x, &y, true),
        (13.5, (vec![0.5, 4.0, 6.0], vec![1.0, 0.0, 0.0]))
    );
    assert_eq!(
        chosen_part_grad(&x, &y, false),
        (17.75, (vec![0.5, 0.0, 0.0], vec![2.0, -2.0, 8.0]))
    );
    // k = 0: (x₀ + x₁)·x₀ + x₁³ + x₂³; k = 1: (x₁ + x₂)·x₀ + x₀³; k = 2: x₂·x₀ + x₀³.
    assert_eq!(chosen_case_grad(&x, 0), (38.0, vec![4.0, 13.0, 27.0]));
    assert_eq!(chosen_case_grad(&x, 1), (6.0, vec![8.0, 1.0, 1.0]));
    assert_eq!(chosen_case_grad(&x, 2), (4.0, vec![6.0, 0.0, 1.0]));
    let v = [1.0, 2.0, 3.0, 4.0];
    // flip: (x₂ + x₃)(x₀² + x₁²); else: (x₀ + x₁)(x₂² + x₃²).
    assert_eq!(
        swapped_halves_grad(&v, true),
        (35.0, vec![14.0, 28.0, 5.0, 5.0])
    );
    assert_eq!(
        swapped_halves_grad(&v, false),
        (75.0, vec![25.0, 25.0, 18.0, 24.0])
    );
    // w²·d₀ + 2·w²·(d₁ + d₂): 2w·(d₀ + 2(d₁ + d₂)).
    assert_eq!(phases_grad(3.0, &[1.0, 2.0, 0.5]), (54.0, 36.0));
}

/// A slice variable assigned a range of a slice in a loop or a branch: a loop that eats the
/// front of its slice (`xs = &xs[1..]`), a parameter declared `mut` doing the same, a bisection
/// keeping one half, a part chosen by assignment in the arms of an `if` and passed to a
/// helper. Each was rustc's E0308, E0515 or E0716 in the generated code.
#[differentiate]
fn eats_its_front(x: &[f64]) -> f64 {
    let mut xs = x;
    let mut s = 0.0;
    while !xs.is_empty() {
        s += xs[0] * xs.iter().sum::<f64>();
        xs = &xs[1..];
    }
    s
}

#[differentiate]
fn neighbours(mut xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    while xs.len() > 1 {
        s += w * xs[0] * xs[1];
        xs = &xs[1..];
    }
    s + cubes(xs)
}

#[differentiate]
fn kept_half(x: &[f64], t: f64) -> f64 {
    let mut seg: &[f64] = x;
    for _ in 0..2 {
        let m = seg.len() / 2;
        if seg[m] > t {
            seg = &seg[..m];
        } else {
            seg = &seg[m..];
        }
    }
    let mut s = 0.0;
    for &v in seg {
        s += v * v;
    }
    s
}

#[differentiate]
fn assigned_part(x: &[f64], front: bool) -> f64 {
    let k = x.len() / 2;
    let part;
    if front {
        part = &x[..k];
    } else {
        part = &x[k..];
    }
    cubes(part) * x[0]
}

#[differentiate]
fn alternating(x: &[f64], y: &[f64], n: usize) -> f64 {
    let mut cur = x;
    let mut s = 0.0;
    for i in 0..n {
        s += cur.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        if i % 2 == 0 {
            cur = y;
        } else {
            cur = &x[1..];
        }
    }
    let twice = |k: usize| cur[k] * 2.0;
    s + twice(0)
}

#[differentiate]
fn shadowed_window(x: &[f64]) -> f64 {
    let xs = x[0];
    let mut s = xs * xs;
    {
        let mut xs = x;
        while xs.len() > 1 {
            s += xs[1] * xs[0];
            xs = &xs[1..];
        }
    }
    s
}

#[differentiate]
fn window_of_a_pattern(x: &[f64]) -> f64 {
    let (mut rest, first) = (x, x[0]);
    let mut s = first;
    while !rest.is_empty() {
        s += rest[0] * first;
        rest = &rest[1..];
    }
    s
}

#[differentiate]
fn head_and_rest(x: &[f64]) -> f64 {
    let mut xs = x;
    let mut s = 0.0;
    while let [first, rest @ ..] = xs {
        s += first * rest.len() as f64 + first * first;
        xs = rest;
    }
    s
}

#[differentiate]
fn split_off_first(x: &[f64], w: f64) -> f64 {
    let mut xs: &[f64] = x;
    let mut s = 0.0;
    while let Some((first, tail)) = xs.split_first() {
        s += w * first * tail.iter().sum::<f64>();
        xs = tail;
    }
    s
}

#[test]
fn slices_reassigned_to_ranges_in_loops_and_branches() {
    let x = [1.0, 2.0, 3.0];
    // x₀(x₀ + x₁ + x₂) + x₁(x₁ + x₂) + x₂²: ∂ = (2x₀ + x₁ + x₂, x₀ + 2x₁ + x₂, x₀ + x₁ + 2x₂).
    assert_eq!(eats_its_front_grad(&x), (25.0, vec![7.0, 8.0, 9.0]));
    // w(x₀x₁ + x₁x₂) + x₂³.
    let (v, (dx, dw)) = neighbours_grad(&x, 2.0);
    assert_eq!(v, 2.0 * 8.0 + 27.0);
    assert_eq!(dx, vec![4.0, 8.0, 4.0 + 27.0]);
    assert_eq!(dw, 8.0);
    let (v, (dx, dw)) = neighbours_grad(&[1.5], 2.0);
    assert_eq!((v, dx, dw), (3.375, vec![6.75], 0.0));
    // [1, 4, 2, 8, 5]: t = 3 keeps [2, 8, 5] (its middle 8 > 3), then [2]; t = 9 keeps [8, 5].
    let y = [1.0, 4.0, 2.0, 8.0, 5.0];
    assert_eq!(
        kept_half_grad(&y, 3.0),
        (4.0, (vec![0.0, 0.0, 4.0, 0.0, 0.0], 0.0))
    );
    assert_eq!(
        kept_half_grad(&y, 9.0),
        (89.0, (vec![0.0, 0.0, 0.0, 16.0, 10.0], 0.0))
    );
    // front: x₀³·x₀ = x₀⁴; else (x₁³ + x₂³)·x₀.
    assert_eq!(assigned_part_grad(&x, true), (1.0, vec![4.0, 0.0, 0.0]));
    assert_eq!(
        assigned_part_grad(&x, false),
        (35.0, vec![35.0, 12.0, 27.0])
    );
    let (v, back) = eats_its_front_vjp(&x);
    assert_eq!(v, 25.0);
    assert_eq!(back(0.5), vec![3.5, 4.0, 4.5]);
    // n = 3: x·y, then y·y, then x[1..]·y (zip stops at the shorter), plus 2·y₀ (`cur` is
    // `y` again after the last step).
    let y = [0.5, -1.0, 4.0];
    let (v, (dx, dy)) = alternating_grad(&x, &y, 3);
    assert_eq!(v, 10.5 + 17.25 - 2.0 + 1.0);
    assert_eq!(dx, vec![0.5, -1.0 + 0.5, 4.0 - 1.0]);
    assert_eq!(dy, vec![1.0 + 1.0 + 2.0 + 2.0, 2.0 - 2.0 + 3.0, 3.0 + 8.0]);
    // The window of the inner block is its own variable: x₀² + x₁x₀ + x₂x₁.
    assert_eq!(shadowed_window_grad(&x), (9.0, vec![4.0, 4.0, 2.0]));
    // x₀ + x₀(x₀ + x₁ + x₂).
    assert_eq!(
        window_of_a_pattern_grad(&x),
        (7.0, vec![1.0 + 2.0 + 5.0, 1.0, 1.0])
    );
}

/// A range of text in a differentiated function (`s = &s[1..]` of a `&str` parameter, a
/// string literal, a `String` through `as_str`) is data, run as written: it was rustc's "the
/// type `str` cannot be indexed by `usize`" in the generated code (the range was copied
/// element by element, as a slice of floats is).
#[differentiate(wrt(x))]
fn weighted_by_text(x: f64, name: &str, tag: String) -> f64 {
    let mut s = name;
    let mut t: &str = "abc";
    let mut k = 0.0;
    while !s.is_empty() {
        k += x * s.len() as f64;
        s = &s[1..];
    }
    while t.len() > 1 {
        t = &t[..t.len() - 1];
        k += x * x;
    }
    let head = &tag.as_str()[..1];
    if head == "w" { k * x } else { k }
}

#[test]
fn ranges_of_text_are_data() {
    // "hey": x·(3 + 2 + 1) + 2x² = 6x + 2x², times x for a tag starting with "w".
    assert_eq!(
        weighted_by_text_grad(2.0, "hey", "other".to_string()),
        (12.0 + 8.0, 6.0 + 8.0)
    );
    // Times x: 6x² + 2x³, ∂ = 12x + 6x².
    assert_eq!(
        weighted_by_text_grad(2.0, "hey", "w1".to_string()),
        (40.0, 48.0)
    );
}
