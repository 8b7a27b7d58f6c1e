//! Writes that add to an element, `y[i] += e`, in loops: the pullback reads the element's
//! adjoint where it used to take it and give it back (see `simplify::read_restored_elements`).
//! Every gradient is checked against an analytic formula (stated beside the function) and
//! central finite differences, including writes whose added term reads the same array at an
//! index that may equal the written one.

#![allow(clippy::needless_range_loop, clippy::extend_with_drain)] // written as users write them

use autodiff::differentiate;

mod common;
use common::{close_all as close, data, fd_vec, forward};

/// An `f32` gradient against the `f64` one, to `f32`'s precision.
#[track_caller]
fn close_f32(g32: &[f32], want: &[f64]) {
    assert_eq!(g32.len(), want.len());
    for (a, b) in g32.iter().zip(want) {
        assert!(
            (*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()),
            "f32: {a} vs {b}"
        );
    }
}

/// `s = Σ_i y_i²` with `y = A·x` summed element by element: `∂s/∂A_ij = 2·y_i·x_j`,
/// `∂s/∂x_j = Σ_i 2·y_i·A_ij`.
#[differentiate]
fn matvec_sq(a: &[f64], x: &[f64], n: usize) -> f64 {
    let mut y = vec![0.0; n];
    for i in 0..n {
        for j in 0..n {
            y[i] += a[i * n + j] * x[j];
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += y[i] * y[i];
    }
    s
}

#[test]
fn a_matrix_vector_product_summed_into_its_elements() {
    for n in [0, 1, 2, 5] {
        let a = data(n * n, 0.3);
        let x = data(n, 1.7);
        let (s, (ga, gx)) = matvec_sq_grad(&a, &x, n);
        assert_eq!(s, matvec_sq(&a, &x, n));
        let y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
            .collect();
        let want_a: Vec<f64> = (0..n * n).map(|ij| 2.0 * y[ij / n] * x[ij % n]).collect();
        let want_x: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|i| 2.0 * y[i] * a[i * n + j]).sum())
            .collect();
        close("A", &ga, &want_a);
        close("x", &gx, &want_x);
        fd_vec("A", |p| matvec_sq(p, &x, n), &a, &ga);
        fd_vec("x", |p| matvec_sq(&a, p, n), &x, &gx);
    }
}

/// `y_i ← y_i + 2·y_k` for each `i` in turn (so `y_k` itself doubles and adds twice when
/// `i = k`), starting from `y = x`; the result `y_0·y_1`. Checked by finite differences, for
/// `k` before, at and after the elements the result reads.
#[differentiate(wrt(x))]
fn add_another(x: &[f64], k: usize) -> f64 {
    let mut y = x.to_vec();
    for i in 0..y.len() {
        y[i] += 2.0 * y[k];
    }
    y[0] * y[1]
}

#[test]
fn an_element_added_to_from_the_same_array_at_any_index() {
    let x = data(4, 0.9);
    for k in 0..4 {
        let (v, g) = add_another_grad(&x, k);
        assert_eq!(v, add_another(&x, k));
        fd_vec(&format!("k = {k}"), |p| add_another(p, k), &x, &g);
    }
}

/// A triangle of updates, `q_j += L_{ij}·c_i` for `i < j` (the lower part's index carried by
/// a counter), then `s = Σ_j q_j²` with `q_j = c_j` to start: `q = (I + Lᵀ)·c` in effect,
/// `∂s/∂c = 2·(I + L)·q`, `∂s/∂L_{ij} = 2·q_j·c_i`.
#[differentiate]
fn triangle(c: &[f64], l: &[f64]) -> f64 {
    let d = c.len();
    let mut q = c.to_vec();
    let mut idx = 0;
    for i in 0..d {
        for j in i + 1..d {
            q[j] += l[idx] * c[i];
            idx += 1;
        }
    }
    let mut s = 0.0;
    for j in 0..d {
        s += q[j] * q[j];
    }
    s
}

#[test]
fn a_triangle_of_updates_with_a_carried_index() {
    for d in [1, 2, 4] {
        let c = data(d, 0.1);
        let l = data(d * (d - 1) / 2, 2.2);
        let (s, (gc, gl)) = triangle_grad(&c, &l);
        assert_eq!(s, triangle(&c, &l));
        let mut q = c.clone();
        let mut pos = Vec::new();
        let mut idx = 0;
        for i in 0..d {
            for j in i + 1..d {
                q[j] += l[idx] * c[i];
                pos.push((i, j));
                idx += 1;
            }
        }
        let mut want_c: Vec<f64> = q.iter().map(|qj| 2.0 * qj).collect();
        let mut want_l = vec![0.0; l.len()];
        for (p, &(i, j)) in pos.iter().enumerate() {
            want_c[i] += 2.0 * q[j] * l[p];
            want_l[p] = 2.0 * q[j] * c[i];
        }
        close("c", &gc, &want_c);
        close("L", &gl, &want_l);
        fd_vec("c", |p| triangle(p, &l), &c, &gc);
        fd_vec("L", |p| triangle(&c, p), &l, &gl);
    }
}

/// Writes into ranges, as users write them: `v[1..=2].fill(x₀·x₃)`, `v[3..].fill(2)`, then
/// `w[2..].copy_from_slice(&v[..3])` and `w[..2].copy_from_slice(&x[1..3])`, and a
/// `v[..2].iter_mut()` loop; the value is written out term by term in the test.
#[differentiate]
fn range_writes(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v[1..=2].fill(x[0] * x[3]);
    v[3..].fill(2.0);
    for e in v[..2].iter_mut() {
        *e = e.sin();
    }
    let mut w = [0.0; 5];
    w[2..].copy_from_slice(&v[..3]);
    w[..2].copy_from_slice(&x[1..3]);
    w.iter()
        .enumerate()
        .map(|(i, a)| a * a * (i as f64 + 1.0))
        .sum()
}

#[test]
fn writes_into_ranges_are_index_loops() {
    let x = [0.7f64, -1.3, 2.1, 0.4];
    // v = [sin x₀, sin(x₀x₃), x₀x₃, 2]; w = [x₁, x₂, sin x₀, sin(x₀x₃), x₀x₃];
    // f = Σ (i+1)·wᵢ² = x₁² + 2x₂² + 3 sin²x₀ + 4 sin²(x₀x₃) + 5 (x₀x₃)².
    let p = x[0] * x[3];
    let ds = 4.0 * 2.0 * p.sin() * p.cos();
    let expected = [
        3.0 * 2.0 * x[0].sin() * x[0].cos() + ds * x[3] + 10.0 * p * x[3],
        2.0 * x[1],
        4.0 * x[2],
        ds * x[0] + 10.0 * p * x[0],
    ];
    let (v, g) = range_writes_grad(&x);
    assert_eq!(v, range_writes(&x));
    close("range writes", &g, &expected);
    fd_vec("range writes", range_writes, &x, &g);
}

/// Reorderings of ranges, as users write them: `v[1..].reverse()`, `v[..3].rotate_left(1)`,
/// `v[2..].swap(0, 1)` and a descending `sort_by` of a prefix; the order is worked out in the
/// test and each element's weight follows where its value ends.
#[differentiate(hessian)]
fn range_reorders(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|a| a * a).collect();
    v[1..].reverse();
    v[..3].rotate_left(1);
    let n = v.len();
    v[n - 2..].swap(0, 1);
    v[..3].sort_by(|a, b| b.partial_cmp(a).unwrap());
    v.iter()
        .enumerate()
        .map(|(i, a)| a * (i as f64 + 1.0))
        .sum()
}

#[test]
fn reorderings_of_ranges_move_the_adjoints_with_the_values() {
    for x in [[0.7f64, -1.3, 2.1, 0.4, 1.6], [1.0, 0.2, -0.5, 3.0, -2.2]] {
        // The same moves on the positions: the value at the end of position i is x_{p[i]}².
        let mut p: Vec<usize> = (0..5).collect();
        p[1..].reverse();
        p[..3].rotate_left(1);
        p[3..].swap(0, 1);
        p[..3].sort_by(|&a, &b| (x[b] * x[b]).partial_cmp(&(x[a] * x[a])).unwrap());
        // f = Σ (i+1)·x_{p[i]}²: ∂x_{p[i]} = 2(i+1)·x_{p[i]}.
        let mut expected = [0.0; 5];
        for (i, &k) in p.iter().enumerate() {
            expected[k] = 2.0 * (i as f64 + 1.0) * x[k];
        }
        let (v, g) = range_reorders_grad(&x);
        assert_eq!(v, range_reorders(&x));
        close("range reorders", &g, &expected);
        fd_vec("range reorders", range_reorders, &x, &g);
        // The Hessian is diagonal, 2(i+1) at x_{p[i]}.
        let dir = [0.3, -1.0, 0.5, 2.0, -0.7];
        let (_, g2, hv) = range_reorders_hvp(&x, &dir.to_vec());
        assert_eq!(g2, g);
        let want: Vec<f64> = (0..5).map(|k| expected[k] / x[k] * dir[k]).collect();
        close("range reorders H·v", &hv, &want);
    }
}

/// Rows of data beside rows of parameters in one `Vec<Vec<f64>>`: a `vec![..]` literal holding
/// both, a data row pushed, and a data row assigned over a row (each moved into the container
/// where forward mode still needed its zero tangent). f = x₀x₁² + 0.5·4² + x₂·3².
#[differentiate(hessian)]
fn rows_of_data(x: &[f64]) -> f64 {
    let mut rows: Vec<Vec<f64>> = vec![x[..2].to_vec(), vec![1.0, 2.0]];
    rows.push(vec![x[2], 3.0]);
    rows[1] = vec![0.5, 4.0];
    rows.iter().map(|r| r[0] * r[1] * r[1]).sum()
}

/// Double buffering with `mem::take`: each pass averages every element with the one before it
/// (the first with itself), y = M²x; f = |y|².
#[differentiate(hessian)]
fn smooth_by_take(x: &[f64]) -> f64 {
    let mut cur = x.to_vec();
    for _ in 0..2 {
        let prev = std::mem::take(&mut cur);
        for i in 0..prev.len() {
            let left = if i > 0 { prev[i - 1] } else { prev[i] };
            cur.push(0.5 * prev[i] + 0.5 * left);
        }
    }
    assert!(cur.len() == x.len());
    cur.iter().map(|c| c * c).sum()
}

#[test]
fn rows_of_data_and_buffers_taken() {
    let x = vec![0.7f64, -1.3, 2.1, 0.4];
    let expected = [x[1] * x[1], 2.0 * x[0] * x[1], 9.0, 0.0];
    let (v, g) = rows_of_data_grad(&x);
    assert_eq!(v, rows_of_data(&x));
    close("rows of data", &g, &expected);
    fd_vec("rows of data", rows_of_data, &x, &g);
    forward("rows of data").check(
        &x,
        |x| rows_of_data(x),
        |x, v| rows_of_data_jvp(x, v),
        |x, w| {
            let (y, back) = rows_of_data_vjp(x);
            (y, back(w))
        },
    );

    // M averages each element with the one before it; ∇f = 2 (M²)ᵀ M² x.
    let n = x.len();
    let m = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| 0.5 * v[i] + 0.5 * v[i.saturating_sub(1)])
            .collect()
    };
    let mt = |w: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; n];
        for i in 0..n {
            out[i] += 0.5 * w[i];
            out[i.saturating_sub(1)] += 0.5 * w[i];
        }
        out
    };
    let y = m(&m(&x));
    let expected: Vec<f64> = mt(&mt(&y)).iter().map(|g| 2.0 * g).collect();
    let (v, g) = smooth_by_take_grad(&x);
    assert_eq!(v, smooth_by_take(&x));
    assert_eq!(v, y.iter().map(|c| c * c).sum::<f64>());
    close("mem::take", &g, &expected);
    fd_vec("mem::take", smooth_by_take, &x, &g);
    // H = 2 (M²)ᵀ M²: H·d is the gradient's map applied to d.
    let d = vec![0.3, -1.0, 0.5, 2.0];
    let (_, _, hv) = smooth_by_take_hvp(&x, &d);
    let want: Vec<f64> = mt(&mt(&m(&m(&d)))).iter().map(|g| 2.0 * g).collect();
    close("mem::take H·v", &hv, &want);
}

/// `extend` from iterator chains and `append`/`drain(..)` between locals, as users grow
/// buffers: v = [x₀, x₁, 2x₀..2x₃, sin x₀..sin x₃, x₃..x₀]; then w (the sines) moves to the end
/// of v and w = [2x₃]. f = Σ (i+1)·vᵢ² + w₀·|w|.
#[differentiate(hessian)]
fn grown_by_extend(x: &[f64]) -> f64 {
    let mut v = x[..2].to_vec();
    let mut w: Vec<f64> = x.iter().map(|a| a.sin()).collect();
    v.extend(x.iter().map(|a| a * 2.0));
    v.extend(&w);
    v.extend(x.iter().rev().copied());
    v.extend(w.drain(..));
    w.push(x[3] * 2.0);
    v.iter()
        .enumerate()
        .map(|(i, a)| (i as f64 + 1.0) * a * a)
        .sum::<f64>()
        + w[0] * w.len() as f64
}

#[derive(Clone, autodiff::Differentiable)]
struct Node {
    a: f64,
    b: f64,
}

/// `append` of a `Vec` of structs: ps = [(x₀, 1), (x₁, x₂), (½, x₃)], qs left empty;
/// f = Σ aᵢbᵢ·(1 + |qs|) = x₀ + x₁x₂ + x₃/2.
#[differentiate]
fn appended_nodes(x: &[f64]) -> f64 {
    let mut ps = vec![Node { a: x[0], b: 1.0 }];
    let mut qs = vec![Node { a: x[1], b: x[2] }, Node { a: 0.5, b: x[3] }];
    ps.append(&mut qs);
    let t: f64 = ps.iter().map(|p| p.a * p.b).sum();
    t * (1.0 + qs.len() as f64)
}

#[test]
fn buffers_grown_by_extend_and_append() {
    let x = vec![0.7f64, -1.3, 2.1, 0.4];
    // Position weights: v₀ = x₀ (1), v₁ = x₁ (2), v₂₊ₖ = 2xₖ (3+k), v₆₊ₖ = sin xₖ (7+k),
    // v₁₀₊ₖ = x₃₋ₖ (11+k), v₁₄₊ₖ = sin xₖ (15+k); and 2x₃·1 from w.
    let mut expected = vec![0.0; 4];
    expected[0] += 2.0 * x[0];
    expected[1] += 2.0 * 2.0 * x[1];
    for k in 0..4 {
        let (s, c) = x[k].sin_cos();
        expected[k] += (3 + k) as f64 * 8.0 * x[k];
        expected[k] += ((7 + k) as f64 + (15 + k) as f64) * 2.0 * s * c;
        expected[3 - k] += (11 + k) as f64 * 2.0 * x[3 - k];
    }
    expected[3] += 2.0;
    let (v, g) = grown_by_extend_grad(&x);
    assert_eq!(v, grown_by_extend(&x));
    close("extend", &g, &expected);
    fd_vec("extend", grown_by_extend, &x, &g);
    forward("extend").check(
        &x,
        |x| grown_by_extend(x),
        |x, v| grown_by_extend_jvp(x, v),
        |x, w| {
            let (y, back) = grown_by_extend_vjp(x);
            (y, back(w))
        },
    );
    let d = vec![0.3, -1.0, 0.5, 2.0];
    let (_, _, hv) = grown_by_extend_hvp(&x, &d);
    let r = autodiff::check::hvpcheck(|x: &Vec<f64>| grown_by_extend_grad(x).1, &x, &d, &hv);
    assert!(r.passed(), "extend: {r}");

    let (v, g) = appended_nodes_grad(&x);
    assert_eq!(v, appended_nodes(&x));
    close("append", &g, &[1.0, x[2], x[1], 0.5]);
    fd_vec("append", appended_nodes, &x, &g);
}

/// Fixed arrays made by `std::array::from_fn`, of a type parameter and of rows: aᵢ = xᵢxᵢ₊₁,
/// b = [[x₀, x₀a₀], [x₁, x₁a₁]]; f = a₀ + a₂·b₁₁ + b₀₀ = x₀x₁ + x₂x₃·x₁·x₁x₂ + x₀.
#[differentiate]
fn from_fn_arrays<T: num_traits::Float>(x: &[T]) -> T {
    let a: [T; 3] = std::array::from_fn(|i| x[i] * x[i + 1]);
    let b: [[T; 2]; 2] = core::array::from_fn(|r| [x[r], x[r] * a[r]]);
    a[0] + a[2] * b[1][1] + b[0][0]
}

#[test]
fn arrays_made_by_from_fn() {
    let x = [0.7f64, -1.3, 2.1, 0.4];
    // f = x₀x₁ + x₁²x₂²x₃ + x₀.
    let (x0, x1, x2, x3) = (x[0], x[1], x[2], x[3]);
    let want = [
        x1 + 1.0,
        x0 + 2.0 * x1 * x2 * x2 * x3,
        2.0 * x1 * x1 * x2 * x3,
        x1 * x1 * x2 * x2,
    ];
    let (v, g) = from_fn_arrays_grad(&x);
    assert_eq!(v, from_fn_arrays(&x));
    close("from_fn", &g, &want);
    fd_vec("from_fn", from_fn_arrays, &x, &g);
    let x32 = x.map(|v| v as f32);
    let (v32, g32) = from_fn_arrays_grad(&x32);
    assert_eq!(v32, from_fn_arrays(&x32));
    close_f32(&g32, &want);
}

/// Fixed arrays converted from slices, as a bundle adjustment's camera is read:
/// r = cam[..3], c = cam[3..6], t = cam[k..k + 2] (`k` = 4), d = cam[1..=2];
/// f = r₀r₁r₂ + c₀ + c₁c₂ + t₀t₁ + d₀d₁.
#[differentiate]
fn slices_converted(cam: &[f64], k: usize) -> f64 {
    let r: [f64; 3] = cam[..3].try_into().unwrap();
    let c = <[f64; 3]>::try_from(&cam[3..6]).unwrap();
    let t: [f64; 2] = cam[k..].try_into().expect("two entries from k");
    let d: [f64; 2] = cam[1..=2].try_into().unwrap();
    r[0] * r[1] * r[2] + c[0] + c[1] * c[2] + t[0] * t[1] + d[0] * d[1]
}

/// The whole slice, of a type parameter: Σ aᵢ² · a₀.
#[differentiate]
fn slice_converted_whole<T: num_traits::Float>(x: &[T]) -> T {
    let a: [T; 3] = x.try_into().unwrap();
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * a[0]
}

#[test]
fn arrays_converted_from_slices() {
    let cam = [0.7, -1.3, 2.1, 0.4, 1.5, -0.8];
    let [a0, a1, a2, _, a4, a5] = cam;
    let want = [a1 * a2, a0 * a2 + a2, a0 * a1 + a1, 1.0, a5 + a5, a4 + a4];
    let (v, g) = slices_converted_grad(&cam, 4);
    assert_eq!(v, slices_converted(&cam, 4));
    close("try_into", &g, &want);
    fd_vec("try_into", |x| slices_converted(x, 4), &cam, &g);
    let (_, pb) = slices_converted_vjp(&cam, 4);
    let scaled: Vec<f64> = want.iter().map(|d| 2.5 * d).collect();
    close("try_into, seed 2.5", &pb(2.5), &scaled);
    // A slice of another length panics, as the conversion's `unwrap` does.
    let short = std::panic::catch_unwind(|| slices_converted_grad(&cam, 3));
    assert!(short.is_err());

    let x = [0.7f64, -1.3, 2.1];
    let s = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    let want = [s + 2.0 * x[0] * x[0], 2.0 * x[1] * x[0], 2.0 * x[2] * x[0]];
    let (v, g) = slice_converted_whole_grad(&x);
    assert_eq!(v, slice_converted_whole(&x));
    close("try_into whole", &g, &want);
    let x32 = x.map(|v| v as f32);
    let (v32, g32) = slice_converted_whole_grad(&x32);
    assert_eq!(v32, slice_converted_whole(&x32));
    close_f32(&g32, &want);
    assert!(std::panic::catch_unwind(|| slice_converted_whole_grad(&[1.0f64; 4])).is_err());
}

/// A length that differs panics as the slice method does.
#[differentiate]
fn copy_prefix(x: &[f64], k: usize) -> f64 {
    let mut w = [1.0; 3];
    w[..2].copy_from_slice(&x[..k]);
    w[0] * w[1] * w[2]
}

#[test]
#[should_panic(expected = "source slice length does not match")]
fn a_range_copy_of_another_length_panics() {
    // ∂/∂x = (x₁, x₀, 0) where k = 2; with k = 3 the copy panics, as `copy_from_slice` does.
    let x = [0.5, 3.0, 7.0];
    let (_, g) = copy_prefix_grad(&x, 2);
    assert_eq!(g, vec![3.0, 0.5, 0.0]);
    let _ = copy_prefix_grad(&x, 3);
}

/// Elements written through `last_mut`, `first_mut` and `get_mut`, as users write them:
/// the derivative is stated in the test.
#[differentiate]
fn element_references(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = Vec::new();
    for &t in x {
        v.push(t * t);
        if let Some(l) = v.last_mut() {
            *l += t;
        }
    }
    for &t in &x[..3] {
        if let Some(l) = v.last_mut() {
            *l -= t;
        }
    }
    if let Some(e) = v.get_mut(1) {
        *e = (*e - x[1]).exp();
    } else {
        v.push(0.0);
    }
    let a = v.first_mut().unwrap();
    *a = x[2] * x[3];
    *a += 1.0;
    v.iter().sum()
}

#[test]
fn elements_written_through_mut_references() {
    let x = [0.7f64, -1.3, 2.1, 0.4];
    // Each push adds t then the three later loops take x₀..x₂ off the last element:
    // y₃ = x₃² + x₃ − x₀ − x₁ − x₂; y₂ = x₂² + x₂; y₁ = exp(x₁²); y₀ = x₂x₃ + 1.
    let e1 = (x[1] * x[1]).exp();
    let expected = [
        -1.0,
        2.0 * x[1] * e1 - 1.0,
        x[3] + 2.0 * x[2] + 1.0 - 1.0,
        x[2] + 2.0 * x[3] + 1.0,
    ];
    let (v, g) = element_references_grad(&x);
    assert_eq!(v, element_references(&x));
    close("mut references", &g, &expected);
    fd_vec("mut references", element_references, &x, &g);
}

/// Elements and rows written through `let e = &mut v[i];`, the reference taken by indexing, as
/// `get_mut(i).unwrap()` is: in a loop, at a computed index, taken again under the same name,
/// and a row of a grid. This was an error ("`&mut` is not supported").
#[differentiate]
fn indexed_references(x: &[f64], s: f64) -> f64 {
    let mut w = x.to_vec();
    for i in 0..w.len() {
        let e = &mut w[i];
        *e = *e * s + i as f64;
    }
    let j = 1;
    let e = &mut w[j + 1];
    *e *= *e;
    let e = &mut w[0];
    *e -= s;
    let mut m = [[1.0; 2]; 2];
    for i in 0..2 {
        let row = &mut m[i];
        row[0] *= x[i];
        row[1] += s * x[i + 1];
    }
    w.iter().sum::<f64>() + m[0][0] * m[1][1] + m[1][0] * m[0][1]
}

#[test]
fn elements_written_through_indexed_references() {
    let (x, s) = ([0.7f64, -1.3, 2.1], 1.6);
    // w = (x₀s − s, x₁s + 1, (x₂s + 2)²); m = [[x₀, 1 + s·x₁], [x₁, 1 + s·x₂]]:
    // f = x₀s − s + x₁s + 1 + (x₂s + 2)² + x₀(1 + s·x₂) + x₁(1 + s·x₁).
    let w2 = x[2] * s + 2.0;
    let expected_x = [
        s + 1.0 + s * x[2],
        s + 1.0 + 2.0 * s * x[1],
        2.0 * w2 * s + x[0] * s,
    ];
    let expected_s = x[0] - 1.0 + x[1] + 2.0 * w2 * x[2] + x[0] * x[2] + x[1] * x[1];
    let (v, (gx, gs)) = indexed_references_grad(&x, s);
    assert_eq!(v, indexed_references(&x, s));
    close("indexed references: x", &gx, &expected_x);
    close("indexed references: s", &[gs], &[expected_s]);
    let mut all = x.to_vec();
    all.push(s);
    let mut g = gx.clone();
    g.push(gs);
    fd_vec(
        "indexed references",
        |p| indexed_references(&p[..3], p[3]),
        &all,
        &g,
    );
    let (_, pullback) = indexed_references_vjp(&x, s);
    let (gx3, gs3) = pullback(3.0);
    close(
        "indexed references seeded",
        &gx3,
        &gx.iter().map(|d| 3.0 * d).collect::<Vec<_>>(),
    );
    close("indexed references seeded", &[gs3], &[3.0 * gs]);
}

/// `&mut v[i]` out of bounds panics, as the reference does.
#[differentiate]
fn indexed_reference_at(x: &[f64], k: usize) -> f64 {
    let mut w = x.to_vec();
    let e = &mut w[k];
    *e *= 2.0;
    w.iter().sum()
}

#[test]
#[should_panic(expected = "index out of bounds")]
fn an_indexed_reference_out_of_bounds_panics() {
    let x = [1.0, 2.0];
    assert_eq!(indexed_reference_at_grad(&x, 1), (5.0, vec![1.0, 2.0]));
    let _ = indexed_reference_at_grad(&x, 2);
}

#[derive(Clone, autodiff::Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

/// A field written through `last_mut().unwrap()` of a `Vec` of structs: ps₁.x = 2a·a, so
/// f = a·2a² + v-terms (constant) = 2a³, f′ = 6a².
#[differentiate]
#[allow(clippy::useless_vec)] // written as users write it
fn field_through_last_mut(a: f64) -> f64 {
    let mut ps = vec![
        Particle { x: a, v: 1.0 },
        Particle {
            x: 2.0 * a,
            v: -1.0,
        },
    ];
    let p = ps.last_mut().unwrap();
    p.x *= a;
    ps[0].x * ps[1].x + ps[0].v * ps[1].v
}

#[test]
fn a_field_written_through_last_mut() {
    for a in [0.5f64, -1.5, 2.0] {
        let (v, g) = field_through_last_mut_grad(a);
        assert_eq!(v, field_through_last_mut(a));
        close("field through last_mut", &[g], &[6.0 * a * a]);
        fd_vec(
            "field through last_mut",
            |p| field_through_last_mut(p[0]),
            &[a],
            &[g],
        );
    }
}

/// Double buffering with `mem::replace`, as time-stepping code writes it: three steps of
/// nextᵢ = ½curᵢ + curᵢ₊₁ (cyclic), `cur = mem::replace(&mut next, zeros)`, and a scalar
/// history `old = mem::replace(&mut a, a·xᵢ)`. Linear in x for the first part: f = Σ cur
/// after three steps = (3/2)³·Σxᵢ; the second adds Σᵢ oldᵢ² + a with oldᵢ = x₀·…·xᵢ₋₁.
#[differentiate]
fn double_buffer(x: &[f64]) -> f64 {
    let n = x.len();
    let mut cur = x.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..3 {
        for i in 0..n {
            next[i] = cur[i] * 0.5 + cur[(i + 1) % n];
        }
        cur = std::mem::replace(&mut next, vec![0.0; n]);
    }
    let mut a = x[0];
    let mut s = 0.0;
    for &t in &x[1..] {
        let new = a * t;
        let old = std::mem::replace(&mut a, new);
        s += old * old;
    }
    cur.iter().sum::<f64>() + s + a
}

#[test]
fn double_buffering_with_mem_replace() {
    let x = [0.7f64, -1.3, 2.1];
    // s + a = x₀² + (x₀x₁)² + x₀x₁x₂.
    let c = 1.5f64.powi(3);
    let expected = [
        c + 2.0 * x[0] + 2.0 * x[0] * x[1] * x[1] + x[1] * x[2],
        c + 2.0 * x[0] * x[0] * x[1] + x[0] * x[2],
        c + x[0] * x[1],
    ];
    let (v, g) = double_buffer_grad(&x);
    assert_eq!(v, double_buffer(&x));
    close("mem::replace", &g, &expected);
    fd_vec("mem::replace", double_buffer, &x, &g);
}

/// A `Vec` of structs extended by listed elements (`extend([..])`, `extend(vec![..])`,
/// `extend_from_slice(&[..])`): f = ps₀.x·ps₁.x + ps₂.v·ps₃.x = a·2a + a²·3a = 2a² + 3a³,
/// f′ = 4a + 9a².
#[differentiate]
fn extended_structs(a: f64) -> f64 {
    let mut ps: Vec<Particle> = Vec::new();
    ps.extend([
        Particle { x: a, v: 1.0 },
        Particle {
            x: 2.0 * a,
            v: -1.0,
        },
    ]);
    ps.extend(vec![Particle { x: 0.0, v: a * a }]);
    ps.extend_from_slice(&[Particle { x: 3.0 * a, v: 0.0 }]);
    ps[0].x * ps[1].x + ps[2].v * ps[3].x
}

#[test]
fn a_vec_of_structs_extended_by_listed_elements() {
    for a in [0.5f64, -1.5, 2.0] {
        let (v, g) = extended_structs_grad(a);
        assert_eq!(v, extended_structs(a));
        close("extended structs", &[g], &[4.0 * a + 9.0 * a * a]);
        fd_vec("extended structs", |p| extended_structs(p[0]), &[a], &[g]);
    }
}

#[derive(autodiff::Differentiable, Clone, Debug)]
struct Buffers {
    w: Vec<f64>,
    k: f64,
}

/// `mem::swap` and `mem::replace` of elements, rows and fields of locals: elements of two
/// `Vec`s exchanged where a test says so, a row of one grid exchanged with a row of another, a
/// row and a field replaced with the old value read after. Each is the exchange or the copy and
/// assignment it stands for (`(a[i], b[i]) = (b[i], a[i])`, `let old = s.w.clone(); s.w = ..`);
/// they were the error "`&mut` is not supported in differentiated functions", which said
/// nothing of what to write, though the same calls on variables are followed.
#[differentiate]
fn places_swapped_and_replaced(x: &[f64]) -> f64 {
    let mut s = Buffers {
        w: x[..3].to_vec(),
        k: x[3],
    };
    let old = std::mem::replace(&mut s.w, vec![x[4], x[5] * x[4], 1.0]);
    let mut a = x.to_vec();
    let mut b = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    for i in 0..6 {
        if a[i] > 0.0 {
            std::mem::swap(&mut a[i], &mut b[i]);
        }
        b[i] *= a[i];
    }
    let mut grid = vec![vec![x[0], x[1]], vec![x[2], x[3]]];
    let mut other = vec![vec![x[4], x[5]], vec![1.0, 2.0]];
    std::mem::swap(&mut grid[0], &mut other[1]);
    let prev = std::mem::replace(&mut grid[1], vec![x[5], 3.0]);
    grid[0][1] *= prev[0];
    old[0] * s.w[1]
        + old[2] * s.k
        + s.w[0]
        + a.iter().sum::<f64>()
        + b.iter().map(|v| v * v).sum::<f64>()
        + grid[0][0] * 2.0
        + grid[0][1]
        + grid[1][0] * other[1][1]
        + other[1][0]
        + prev[1]
}

#[test]
fn elements_rows_and_fields_swapped_and_replaced() {
    for x in [
        data(6, 0.3),
        vec![0.7, -0.4, 1.3, -1.2, 0.9, 0.35],
        vec![-0.5, 0.8, -1.1, 0.6, -0.2, 1.4],
    ] {
        let (v, g) = places_swapped_and_replaced_grad(&x);
        assert_eq!(v, places_swapped_and_replaced(&x));
        fd_vec("places swapped", places_swapped_and_replaced, &x, &g);
        let (_, pullback) = places_swapped_and_replaced_vjp(&x);
        let g2: Vec<f64> = g.iter().map(|d| -1.5 * d).collect();
        close("places swapped, seed −1.5", &pullback(-1.5), &g2);
    }
}

// ---------------------------------------------------------------------------------------------
// A compound assignment whose value or index changes a variable: Rust computes the value
// first, then the place, once (for floats and integers), so the element read and written is
// the one the index names after the value, and the old value read is the one the value left.
// ---------------------------------------------------------------------------------------------

/// A decaying accumulator written as one statement: the value halves `ema`, then the place
/// adds to the halved one, `ema_k = ema_{k−1}/2 + x_k·k/2` from `ema_0 = x_0`: with `n` the
/// length, ∂/∂x_0 = 2^−(n−1) and ∂/∂x_k = k/2 · 2^−(n−1−k).
#[differentiate]
fn accumulator_changed_by_its_value(x: &[f64]) -> f64 {
    let mut ema = x[0];
    for k in 1..x.len() {
        ema += {
            ema *= 0.5;
            0.5 * x[k] * k as f64
        };
    }
    ema
}

/// `a[i] += { i += 1; a[i] * 2.0 }` writes `a[1] = 3·x_1`, and `a[{ k += 1; k }] *= ..`
/// computes its index once: `a[2] *= x_0` (k from 1 to 2). With `a = [x0, x1, x2, 1]`:
/// f = a0 + 2·a1 + 3·a2 = x0 + 6·x1 + 3·x2·x0.
#[differentiate]
fn element_named_after_the_value(x: &[f64]) -> f64 {
    let mut a = [x[0], x[1], x[2], 1.0];
    let mut i = 0;
    a[i] += {
        i += 1;
        a[i] * 2.0
    };
    let mut k = 1;
    a[{
        k += 1;
        k
    }] *= x[0];
    a[0] + 2.0 * a[1] + 3.0 * a[2] + a[3] * k as f64
}

/// A row's element: `m[1][j] += { j += 1; m[0][j] * 3.0 }` is `m[1][1] += 3·m[0][1]`; and
/// `t -= t * { t = x2; 2.0 }` is `t = x2 − 2·x0` (the value reads the old `t`, the place the
/// new one). With `m = [[x0, x1], [x0·x1, 1]]`: f = m[1][0] + 2·m[1][1] + t
/// = x0·x1 + 2 + 6·x1 + x2 − 2·x0.
#[differentiate]
fn row_element_and_variable_changed_by_the_value(x: &[f64]) -> f64 {
    let mut m = [[x[0], x[1]], [x[0] * x[1], 1.0]];
    let mut j = 0;
    m[1][j] += {
        j += 1;
        m[0][j] * 3.0
    };
    let mut t = x[0];
    t -= t * {
        t = x[2];
        2.0
    };
    m[1][0] + 2.0 * m[1][1] + t
}

#[derive(Clone, autodiff::Differentiable)]
struct Pair {
    f: f64,
    g: f64,
}

/// Fields changed by the value of their own compound assignment: `p.f *= { p.f += p.g; p.f }`
/// is `p.f = (x0 + x1)²` (it did not compile: the field was borrowed across the value), and
/// `t.0 += { t.0 *= t.1; t.0 }` is `t.0 = 2·x0·x1`: f = (x0 + x1)² + x1 + 2·x0·x1.
#[differentiate]
fn fields_changed_by_the_value(x: &[f64]) -> f64 {
    let mut p = Pair { f: x[0], g: x[1] };
    p.f *= {
        p.f += p.g;
        p.f
    };
    let mut t = (x[0], x[1]);
    t.0 += {
        t.0 *= t.1;
        t.0
    };
    p.f + p.g + t.0
}

#[test]
fn compound_assignments_whose_value_or_index_changes_a_variable() {
    let x = [0.7, -1.3, 0.4, 1.1, -0.6];
    let n = x.len();
    // (what, the function, its value, its gradient at `x`)
    type Case = (&'static str, fn(&[f64]) -> f64, f64, Vec<f64>);
    let cases: [Case; 4] = [
        (
            "accumulator",
            accumulator_changed_by_its_value,
            (1..n).fold(x[0], |ema, k| ema / 2.0 + x[k] * k as f64 / 2.0),
            (0..n)
                .map(|k| match k {
                    0 => 0.5f64.powi(n as i32 - 1),
                    k => k as f64 / 2.0 * 0.5f64.powi((n - 1 - k) as i32),
                })
                .collect(),
        ),
        (
            "element",
            element_named_after_the_value,
            x[0] + 6.0 * x[1] + 3.0 * x[2] * x[0] + 2.0,
            vec![1.0 + 3.0 * x[2], 6.0, 3.0 * x[0], 0.0, 0.0],
        ),
        (
            "row element",
            row_element_and_variable_changed_by_the_value,
            x[0] * x[1] + 2.0 + 6.0 * x[1] + x[2] - 2.0 * x[0],
            vec![x[1] - 2.0, x[0] + 6.0, 1.0, 0.0, 0.0],
        ),
        (
            "fields",
            fields_changed_by_the_value,
            (x[0] + x[1]).powi(2) + x[1] + 2.0 * x[0] * x[1],
            vec![
                2.0 * (x[0] + x[1]) + 2.0 * x[1],
                2.0 * (x[0] + x[1]) + 1.0 + 2.0 * x[0],
                0.0,
                0.0,
                0.0,
            ],
        ),
    ];
    let grads = [
        accumulator_changed_by_its_value_grad(&x),
        element_named_after_the_value_grad(&x),
        row_element_and_variable_changed_by_the_value_grad(&x),
        fields_changed_by_the_value_grad(&x),
    ];
    let pullbacks = [
        accumulator_changed_by_its_value_vjp(&x).1(-1.5),
        element_named_after_the_value_vjp(&x).1(-1.5),
        row_element_and_variable_changed_by_the_value_vjp(&x).1(-1.5),
        fields_changed_by_the_value_vjp(&x).1(-1.5),
    ];
    for (((what, f, value, expected), (v, g)), pulled) in
        cases.into_iter().zip(grads).zip(pullbacks)
    {
        assert_eq!(v, f(&x), "{what}: value");
        common::close(what, v, value, 1e-12);
        close(what, &g, &expected);
        fd_vec(what, f, &x, &g);
        let scaled: Vec<f64> = g.iter().map(|d| -1.5 * d).collect();
        close(&format!("{what}, seed −1.5"), &pulled, &scaled);
    }
    let x = x.to_vec();
    forward("accumulator").check(
        &x,
        |x| accumulator_changed_by_its_value(x),
        |x, v| accumulator_changed_by_its_value_jvp(x, v),
        |x, w| {
            let (y, back) = accumulator_changed_by_its_value_vjp(x);
            (y, back(w))
        },
    );
    forward("element").check(
        &x,
        |x| element_named_after_the_value(x),
        |x, v| element_named_after_the_value_jvp(x, v),
        |x, w| {
            let (y, back) = element_named_after_the_value_vjp(x);
            (y, back(w))
        },
    );
}

/// `mem::take` of an element and of a struct's field of a local: the old value read, the
/// place left at its default (zero), as `mem::replace(&mut v[i], Default::default())`. It was
/// an error that said `&mut` is not supported.
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Halves {
    a: f64,
    b: f64,
}

#[differentiate]
fn taken_places(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let taken = std::mem::take(&mut v[2]);
    let mut s = Halves {
        a: x[0],
        b: x[2] * x[3],
    };
    let t = std::mem::take(&mut s.b);
    taken * x[1] + v.iter().sum::<f64>() + t * s.a + s.b
}

#[test]
fn mem_take_of_an_element_and_a_field() {
    let x = [0.7f64, -1.3, 2.1, 0.4];
    // v₂ = 0 and s.b = 0 after the takes: f = x₂x₁ + x₀ + x₁ + x₃ + x₂x₃x₀.
    let want = x[2] * x[1] + x[0] + x[1] + x[3] + x[2] * x[3] * x[0];
    let expected = [
        1.0 + x[2] * x[3],
        x[2] + 1.0,
        x[1] + x[3] * x[0],
        1.0 + x[2] * x[0],
    ];
    let (v, g) = taken_places_grad(&x);
    assert!((v - want).abs() < 1e-12, "{v} vs {want}");
    close("mem::take", &g, &expected);
    fd_vec("mem::take", taken_places, &x, &g);
}

// `mem::take(&mut t)` and `mem::replace(&mut t, e)` of a local inside an expression, of a float,
// a tuple and a parameter taken by value, and of a type parameter: the value moves out and the
// local holds its type's default (or `e`). `take` of a float was an error saying `&mut t` is a
// second name for `t`, and `replace` inside an expression was the same error.

/// A running sum flushed through `sin` whenever it passes 1.
#[differentiate]
fn flushed(x: &[f64], w: f64) -> f64 {
    let mut t = 0.0;
    let mut s = 0.0;
    for v in x {
        t += v * w;
        if t > 1.0 {
            s += std::mem::take(&mut t).sin();
        }
    }
    s + t
}

/// sᵢ = tᵢ₋₁·xᵢw with t₀ = w and tᵢ = xᵢw: Σ = w·x₀w + Σᵢ₌₁ xᵢ₋₁w·xᵢw.
#[differentiate]
fn replaced_inside(x: &[f64], w: f64) -> f64 {
    let mut t = w;
    let mut s = 0.0;
    for v in x {
        s += std::mem::replace(&mut t, v * w) * t;
    }
    s
}

/// A tuple taken every step, and the parameter `w` taken by value.
#[differentiate]
fn taken_locals(x: &[f64], mut w: f64) -> f64 {
    let mut t = (0.0, w);
    let mut s = 0.0;
    for v in x {
        t.0 += v * w;
        let old = std::mem::take(&mut t);
        s += old.0 * old.1 + std::mem::take(&mut w) * v;
        w += v * s;
        t.1 = w;
    }
    s * w
}

/// The same flush over a float type parameter.
#[differentiate]
fn flushed_generic<T: num_traits::Float + Default>(x: &[T], w: T) -> T {
    let mut t: T = w;
    let mut s = T::zero();
    for v in x {
        s = s + core::mem::take(&mut t) * *v;
        t = t + w * *v;
    }
    s + t
}

#[test]
fn mem_take_and_replace_of_locals_inside_expressions() {
    let x = [0.9, 0.4, 1.3, -0.2, 0.8];
    let w = 0.7;
    let cases: [(
        &str,
        fn(&[f64], f64) -> f64,
        fn(&[f64], f64) -> (f64, (Vec<f64>, f64)),
    ); 4] = [
        ("take of a float", flushed, flushed_grad),
        (
            "replace inside an expression",
            replaced_inside,
            replaced_inside_grad,
        ),
        (
            "take of a tuple and a parameter",
            taken_locals,
            taken_locals_grad,
        ),
        (
            "take of a type parameter",
            flushed_generic,
            flushed_generic_grad,
        ),
    ];
    for (what, f, g) in cases {
        let (v, (dx, dw)) = g(&x, w);
        assert_eq!(v, f(&x, w), "{what}");
        let mut p = x.to_vec();
        p.push(w);
        let mut d = dx.clone();
        d.push(dw);
        fd_vec(what, |p| f(&p[..5], p[5]), &p, &d);
    }
    // replace: ∂/∂xᵢ and ∂/∂w by hand.
    let (_, (dx, dw)) = replaced_inside_grad(&x, w);
    let n = x.len();
    let mut want = vec![0.0; n];
    want[0] = w * w + x[1] * w * w;
    for i in 1..n {
        want[i] = x[i - 1] * w * w + if i + 1 < n { x[i + 1] * w * w } else { 0.0 };
    }
    close("replace ∂x", &dx, &want);
    let sum: f64 = 2.0 * w * x[0] + (1..n).map(|i| 2.0 * w * x[i - 1] * x[i]).sum::<f64>();
    close("replace ∂w", &[dw], &[sum]);
    let x32 = x.map(|v| v as f32);
    let (v32, (dx32, _)) = flushed_generic_grad(&x32, 0.7);
    assert_eq!(v32, flushed_generic(&x32, 0.7));
    let (_, (dx64, _)) = flushed_generic_grad(&x, w);
    close_f32(&dx32, &dx64);
}
