//! Ways out of loops, a three-dimensional stencil and integers cast from floats, as numerical
//! code writes them: a scan that returns at its first crossing from inside nested loops (after
//! a guard), labeled `break 'rows` / `continue 'rows` over a triangle whose bounds are
//! integers, a Newton iteration written as `loop { .. break y; }`, Horner's rule over
//! `while let Some(&c) = it.next()`, the energy of a 7-point Laplacian of an `Array3` with an
//! in-place Gauss–Seidel sweep, and a table read at an index cast from a float with a `powi`
//! exponent cast too, and an `Array3` built by `from_shape_fn`. Each function is checked against its analytic derivative (stated beside
//! it) and central finite differences, and its tangent and Hessian products where it has them.
//!
//! `Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| ..)` with a closure reading differentiated
//! values was an error (it was followed for `Array1` and `Array2` only); it is now the array of
//! zeros written in three loops, as the `Array2` form is in two.

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::Array3;

mod common;
use common::*;

/// The first grid point `s = (3i + j)/4` where `v = k·s − c` is positive, read from inside two
/// loops: `f = v² + k` there, so `∂f/∂k = 2 v s + 1`, `∂f/∂c = −2v`, and the Hessian is
/// `[[2s², −2s], [−2s, 2]]`. A guard returns `k·c` (gradient `(c, k)`) for `k > 10`, and a
/// scan that finds nothing returns `k·c` too.
#[differentiate(hessian)]
fn first_crossing(k: f64, c: f64) -> f64 {
    if k > 10.0 {
        return k * c;
    }
    for i in 0..4 {
        for j in 0..3 {
            let s = (3 * i + j) as f64 * 0.25;
            let v = k * s - c;
            if v > 0.0 {
                return v * v + k;
            }
        }
    }
    k * c
}

#[test]
fn a_return_from_inside_nested_loops_carries_the_crossing_value() {
    for &(k, c) in &[(0.9, 1.3), (2.5, 0.4), (0.3, 5.0), (11.0, 0.5)] {
        // The crossing, found the way the function scans.
        let s = (0..12).map(|n| n as f64 * 0.25).find(|s| k * s - c > 0.0);
        let (g, h) = match s {
            _ if k > 10.0 => ((c, k), [[0.0, 1.0], [1.0, 0.0]]),
            Some(s) => {
                let v = k * s - c;
                (
                    (2.0 * v * s + 1.0, -2.0 * v),
                    [[2.0 * s * s, -2.0 * s], [-2.0 * s, 2.0]],
                )
            }
            None => ((c, k), [[0.0, 1.0], [1.0, 0.0]]),
        };
        let (v, gr) = first_crossing_grad(k, c);
        assert_eq!(v, first_crossing(k, c));
        close2("∇f", gr, g);
        fd2("∇f", first_crossing, (k, c), gr);
        let (_, dv) = first_crossing_jvp(k, c, 0.5, -1.0);
        close("jvp", dv, 0.5 * g.0 - g.1, TOL);
        let (_, _, hv) = first_crossing_hvp(k, c, 1.0, 0.5);
        close("(H·v)₀", hv.0, h[0][0] + 0.5 * h[0][1], TOL);
        close("(H·v)₁", hv.1, h[1][0] + 0.5 * h[1][1], TOL);
        // The gradient's own differences along v.
        let e = 1e-6;
        let gp = first_crossing_grad(k + e, c + 0.5 * e).1;
        let gm = first_crossing_grad(k - e, c - 0.5 * e).1;
        close(
            "H·v by differences, 0",
            hv.0,
            (gp.0 - gm.0) / (2.0 * e),
            1e-6,
        );
        close(
            "H·v by differences, 1",
            hv.1,
            (gp.1 - gm.1) / (2.0 * e),
            1e-6,
        );
    }
}

/// A weighted sum over the triangle `j ≤ i` of `w·x[i]·x[j]`, a row left by `continue 'rows`
/// at column `skip`, the scan left by `break 'rows` once the sum passes `cap`: the sum is
/// linear in `w` along the visited cells, `∂f/∂w = Σ x[i]x[j]` over them and `∂f/∂x` gathers
/// `w·x[j]` and `w·x[i]` at each visited `(i, j)`; the cells visited are those of the plain
/// loop below.
#[differentiate(wrt(w, x), hessian)]
fn triangle(w: f64, x: &[f64], skip: usize, cap: f64) -> f64 {
    let mut s = 0.0;
    'rows: for i in 0..x.len() {
        for j in 0..(i + 1) {
            if j == skip {
                continue 'rows;
            }
            s += w * x[i] * x[j];
            if s > cap {
                break 'rows;
            }
        }
        s *= 0.5;
    }
    s
}

/// The cells `triangle` visits and the factor each contribution is scaled by at the end (the
/// `s *= 0.5` of every row finished after it).
fn triangle_cells(w: f64, x: &[f64], skip: usize, cap: f64) -> Vec<(usize, usize, f64)> {
    let mut cells: Vec<(usize, usize, f64)> = Vec::new();
    let mut s = 0.0;
    'rows: for i in 0..x.len() {
        for j in 0..(i + 1) {
            if j == skip {
                continue 'rows;
            }
            s += w * x[i] * x[j];
            cells.push((i, j, 1.0));
            if s > cap {
                break 'rows;
            }
        }
        s *= 0.5;
        for c in cells.iter_mut() {
            c.2 *= 0.5;
        }
    }
    cells
}

#[test]
fn labeled_break_and_continue_over_a_triangle_keep_the_visited_cells() {
    let x = data(6, 0.4);
    for &(w, skip, cap) in &[(0.8, 3, 0.9), (1.3, 9, 0.3), (-0.6, 2, 5.0), (0.5, 1, 0.05)] {
        let cells = triangle_cells(w, &x, skip, cap);
        let mut dw = 0.0;
        let mut dx = vec![0.0; x.len()];
        for &(i, j, m) in &cells {
            dw += m * x[i] * x[j];
            dx[i] += m * w * x[j];
            dx[j] += m * w * x[i];
        }
        let (v, (gw, gx)) = triangle_grad(w, &x, skip, cap);
        assert_eq!(v, triangle(w, &x, skip, cap));
        close("∂f/∂w", gw, dw, TOL);
        close_all("∂f/∂x", &gx, &dx);
        fd("∂f/∂w", |w| triangle(w, &x, skip, cap), w, gw);
        fd_vec("∂f/∂x", |x| triangle(w, x, skip, cap), &x, &gx);
        // f is bilinear in (w, x) on the visited cells: H·(1, 0) = (0, ∂²f/∂x∂w) = (0, dx / w).
        let zero = vec![0.0; x.len()];
        let (_, _, (hw, hx)) = triangle_hvp(w, &x, skip, cap, 1.0, &zero);
        close("(H·e_w)_w", hw, 0.0, TOL);
        let dxw: Vec<f64> = dx.iter().map(|d| d / w).collect();
        close_all("(H·e_w)_x", &hx, &dxw);
    }
}

/// Newton's iteration for `√a` written as a `loop` whose value is the iterate, left after six
/// steps or once a step moves it by less than `1e-3`: the iterate is a rational function of
/// `a`, and `∂/∂a` of the value is that of the same iteration differentiated step by step,
/// `y' ← ½(y' + 1/y − a·y'/y²)` from `y' = 1/2` (`y₀ = (a + 1)/2`), times `k` plus the
/// iterate for `∂(k·y)/∂k`.
#[differentiate]
fn newton_sqrt(a: f64, k: f64) -> f64 {
    let mut y = 0.5 * (a + 1.0);
    let mut n = 0;
    let r = loop {
        let next = 0.5 * (y + a / y);
        n += 1;
        if n >= 6 || (next - y).abs() < 1e-3 {
            break next * k;
        }
        y = next;
    };
    r
}

#[test]
fn a_loop_that_breaks_with_a_value_is_differentiated_through_its_steps() {
    for &(a, k) in &[(2.0, 1.5), (0.3, -0.7), (9.0, 0.25)] {
        let (mut y, mut dy): (f64, f64) = (0.5 * (a + 1.0), 0.5);
        let mut n = 0;
        let (val, dval) = loop {
            let next = 0.5 * (y + a / y);
            let dnext = 0.5 * (dy + 1.0 / y - a * dy / (y * y));
            n += 1;
            if n >= 6 || (next - y).abs() < 1e-3 {
                break (next, dnext);
            }
            (y, dy) = (next, dnext);
        };
        let (v, (ga, gk)) = newton_sqrt_grad(a, k);
        close("value", v, val * k, TOL);
        close("∂/∂a", ga, dval * k, TOL);
        close("∂/∂k", gk, val, TOL);
        // Converged: the derivative of √a.
        close("∂/∂a against 1/(2√a)", ga, k * 0.5 / a.sqrt(), 1e-6);
        fd2("∇", newton_sqrt, (a, k), (ga, gk));
        let (_, dv) = newton_sqrt_jvp(a, k, 1.0, 2.0);
        close("jvp", dv, ga + 2.0 * gk, TOL);
    }
}

/// Horner's rule over `while let Some(&c) = it.next()`, stopped at the first coefficient
/// above `stop`: `p(x) = Σ_{i<m} c_i x^{m−1−i}` over the `m` coefficients read, so
/// `∂p/∂x = Σ_{i<m} (m−1−i) c_i x^{m−2−i}`, `∂p/∂c_i = x^{m−1−i}` (0 past them), and
/// `∂²p/∂x² = Σ (m−1−i)(m−2−i) c_i x^{m−3−i}`.
#[differentiate(wrt(x, cs), hessian)]
fn horner(x: f64, cs: &[f64], stop: f64) -> f64 {
    let mut it = cs.iter();
    let mut p = 0.0;
    while let Some(&c) = it.next() {
        if c > stop {
            break;
        }
        p = p * x + c;
    }
    p
}

#[test]
fn horner_over_a_slice_iterator_with_an_early_break() {
    let cs = [0.5, -1.25, 0.75, 2.5, 0.3];
    for &(x, stop) in &[(0.7f64, 1.0), (-1.3, 3.0), (1.9, 0.6)] {
        let m = cs.iter().position(|&c| c > stop).unwrap_or(cs.len());
        let pw = |e: i32| if e < 0 { 0.0 } else { x.powi(e) };
        let e = |i: usize| m as i32 - 1 - i as i32;
        let dx: f64 = (0..m).map(|i| e(i) as f64 * cs[i] * pw(e(i) - 1)).sum();
        let dc: Vec<f64> = (0..cs.len())
            .map(|i| if i < m { pw(e(i)) } else { 0.0 })
            .collect();
        let dxx: f64 = (0..m)
            .map(|i| (e(i) * (e(i) - 1)) as f64 * cs[i] * pw(e(i) - 2))
            .sum();
        let (v, (gx, gc)) = horner_grad(x, &cs, stop);
        assert_eq!(v, horner(x, &cs, stop));
        close("∂p/∂x", gx, dx, TOL);
        close_all("∂p/∂c", &gc, &dc);
        fd("∂p/∂x", |x| horner(x, &cs, stop), x, gx);
        fd_vec("∂p/∂c", |c| horner(x, c, stop), &cs, &gc);
        let (_, dv) = horner_jvp(x, &cs, stop, 1.0, &vec![0.0; 5]);
        close("jvp", dv, dx, TOL);
        let (_, _, (hx, hc)) = horner_hvp(x, &cs, stop, 1.0, &vec![0.0; 5]);
        close("∂²p/∂x²", hx, dxx, TOL);
        // ∂²p/∂c_i∂x = (m−1−i) x^{m−2−i}.
        let dcx: Vec<f64> = (0..cs.len())
            .map(|i| {
                if i < m {
                    e(i) as f64 * pw(e(i) - 1)
                } else {
                    0.0
                }
            })
            .collect();
        close_all("∂²p/∂c∂x", &hc, &dcx);
    }
}

/// `u[[i, j, k]] = a·φ + ψ` on a 4×3×5 grid (`φ = sin(i + 2j − k)`, `ψ = 0.1(i·j + k)`),
/// then one in-place Gauss–Seidel sweep along the first axis, `u[i] ← ½u[i] + ¼u[i−1]` for
/// `i ≥ 1` (each cell reads the one the sweep just wrote), then the energy of the 7-point
/// Laplacian over the interior, `E = Σ (Δu)²`. Every step is linear in `a`, so `u = a·U + V`
/// with `U`, `V` the sweep of `φ` and of `ψ`, `Δu = a·ΔU + ΔV`, `∂E/∂a = Σ 2(a ΔU + ΔV) ΔU` and
/// `∂²E/∂a² = Σ 2 (ΔU)²`.
#[differentiate(hessian)]
fn stencil_energy(a: f64) -> f64 {
    let (n0, n1, n2) = (4, 3, 5);
    let mut u: Array3<f64> = Array3::zeros((n0, n1, n2));
    for i in 0..n0 {
        for j in 0..n1 {
            for k in 0..n2 {
                let phi = ((i + 2 * j) as f64 - k as f64).sin();
                u[[i, j, k]] = a * phi + 0.1 * (i * j + k) as f64;
            }
        }
    }
    for i in 1..n0 {
        for j in 0..n1 {
            for k in 0..n2 {
                u[[i, j, k]] = 0.5 * u[[i, j, k]] + 0.25 * u[[i - 1, j, k]];
            }
        }
    }
    let mut e = 0.0;
    for i in 1..n0 - 1 {
        for j in 1..n1 - 1 {
            for k in 1..n2 - 1 {
                let lap = u[[i - 1, j, k]]
                    + u[[i + 1, j, k]]
                    + u[[i, j - 1, k]]
                    + u[[i, j + 1, k]]
                    + u[[i, j, k - 1]]
                    + u[[i, j, k + 1]]
                    - 6.0 * u[[i, j, k]];
                e += lap * lap;
            }
        }
    }
    e
}

/// The sweep and Laplacians of `stencil_energy`'s parts, `(ΔU, ΔV)` at each interior cell.
fn stencil_parts() -> Vec<(f64, f64)> {
    let (n0, n1, n2) = (4, 3, 5);
    let mut uu: Array3<f64> = Array3::zeros((n0, n1, n2));
    let mut vv: Array3<f64> = Array3::zeros((n0, n1, n2));
    for ((i, j, k), p) in uu.indexed_iter_mut() {
        *p = ((i + 2 * j) as f64 - k as f64).sin();
        vv[[i, j, k]] = 0.1 * (i * j + k) as f64;
    }
    for g in [&mut uu, &mut vv] {
        for i in 1..n0 {
            for j in 0..n1 {
                for k in 0..n2 {
                    g[[i, j, k]] = 0.5 * g[[i, j, k]] + 0.25 * g[[i - 1, j, k]];
                }
            }
        }
    }
    let lap = |g: &Array3<f64>, i: usize, j: usize, k: usize| {
        g[[i - 1, j, k]]
            + g[[i + 1, j, k]]
            + g[[i, j - 1, k]]
            + g[[i, j + 1, k]]
            + g[[i, j, k - 1]]
            + g[[i, j, k + 1]]
            - 6.0 * g[[i, j, k]]
    };
    let mut out = Vec::new();
    for i in 1..n0 - 1 {
        for j in 1..n1 - 1 {
            for k in 1..n2 - 1 {
                out.push((lap(&uu, i, j, k), lap(&vv, i, j, k)));
            }
        }
    }
    out
}

#[test]
fn a_seven_point_stencil_after_an_in_place_sweep_of_an_array3() {
    let parts = stencil_parts();
    for &a in &[0.7, -1.2, 0.05] {
        let e: f64 = parts.iter().map(|(l, m)| (a * l + m).powi(2)).sum();
        let d: f64 = parts.iter().map(|(l, m)| 2.0 * (a * l + m) * l).sum();
        let dd: f64 = parts.iter().map(|(l, _)| 2.0 * l * l).sum();
        let (v, g) = stencil_energy_grad(a);
        close("E", v, e, TOL);
        close("∂E/∂a", g, d, TOL);
        fd("∂E/∂a", stencil_energy, a, g);
        let (_, dv) = stencil_energy_jvp(a, 1.0);
        close("jvp", dv, d, TOL);
        let (_, _, hv) = stencil_energy_hvp(a, 1.0);
        close("∂²E/∂a²", hv, dd, TOL);
    }
}

/// A piecewise power read from a table at an index cast from the float: `q = ⌊4x⌋`,
/// `i = q mod 4`, `e = min(|q|, 3)`, `f = T[i]·x^e + (q as f64)·x` with a branch on `q`
/// choosing `+ sin x` for `q > 1` and `− x²/2` otherwise: `∂f/∂x = T[i]·e·x^{e−1} + q + cos x`
/// (or `− x`). Points are kept away from the jumps at multiples of ¼.
#[differentiate(hessian)]
fn table_power(x: f64) -> f64 {
    let table: [f64; 4] = [0.5, -1.5, 2.0, 0.75];
    let q = (x * 4.0).floor() as i64;
    let i = q.rem_euclid(4) as usize;
    let e = q.abs().min(3) as i32;
    let base = table[i] * x.powi(e) + (q as f64) * x;
    if q > 1 {
        base + x.sin()
    } else {
        base - 0.5 * x * x
    }
}

#[test]
fn integers_cast_from_a_float_index_a_table_and_set_an_exponent() {
    let table = [0.5, -1.5, 2.0, 0.75];
    for &x in &[0.1, 0.37, 0.6, 0.9, -0.4, -0.85, 1.3] {
        let q = (x * 4.0_f64).floor() as i64;
        let (t, e) = (table[q.rem_euclid(4) as usize], q.abs().min(3) as i32);
        let pw = |k: i32| if k < 0 { 0.0 } else { x.powi(k) };
        let (d, dd) = if q > 1 {
            (
                t * e as f64 * pw(e - 1) + q as f64 + x.cos(),
                t * (e * (e - 1)) as f64 * pw(e - 2) - x.sin(),
            )
        } else {
            (
                t * e as f64 * pw(e - 1) + q as f64 - x,
                t * (e * (e - 1)) as f64 * pw(e - 2) - 1.0,
            )
        };
        let (v, g) = table_power_grad(x);
        assert_eq!(v, table_power(x));
        close("∂f/∂x", g, d, TOL);
        let r = gradcheck(|x: &f64| table_power(*x), &x, &g);
        assert!(r.passed(), "∂f/∂x at {x}: {r}");
        let (_, dv) = table_power_jvp(x, 1.0);
        close("jvp", dv, d, TOL);
        let (_, _, hv) = table_power_hvp(x, 1.0);
        close("∂²f/∂x²", hv, dd, TOL);
    }
}

/// A field built by `Array3::from_shape_fn`, `u_ijk = a·(i + k) + b·j`, and a second one whose
/// closure ignores two indices, `w_ijk = tanh(a·b + j)`: `E = Σ u² + a·Σ w`, so
/// `∂E/∂a = Σ 2u(i + k) + Σ w + a·b·Σ(1 − w²)`, `∂E/∂b = Σ 2u·j + a²·Σ(1 − w²)`, and the
/// Hessian of `Σ u²` is `Σ 2 [[(i+k)², (i+k)j], [(i+k)j, j²]]`.
#[differentiate(hessian)]
fn shaped_field(a: f64, b: f64) -> f64 {
    let u = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| a * (i + k) as f64 + b * j as f64);
    let w: Array3<f64> =
        ndarray::Array3::from_shape_fn((2, 2, 3), |(_, j, _)| (a * b + j as f64).tanh());
    u.mapv(|v| v * v).sum() + a * w.sum()
}

#[test]
fn an_array3_built_by_from_shape_fn_of_differentiated_values() {
    for &(a, b) in &[(0.6, -0.4), (-1.1, 0.9)] {
        let (mut da, mut db, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    let (p, q) = ((i + k) as f64, j as f64);
                    let u = a * p + b * q;
                    da += 2.0 * u * p;
                    db += 2.0 * u * q;
                    haa += 2.0 * p * p;
                    hab += 2.0 * p * q;
                    hbb += 2.0 * q * q;
                }
            }
        }
        // Six elements of `w` for each of j = 0, 1.
        for j in 0..2 {
            let w: f64 = (a * b + j as f64).tanh();
            let s = 1.0 - w * w;
            da += 6.0 * (w + a * b * s);
            db += 6.0 * a * a * s;
            // ∂/∂a of w + a·b·s and of a²·s, with ∂w/∂a = b·s, ∂s/∂a = −2w·b·s, ∂s/∂b = −2w·a·s.
            haa += 6.0 * (b * s + b * s + a * b * (-2.0 * w * b * s));
            hab += 6.0 * (2.0 * a * s + a * a * (-2.0 * w * b * s));
            hbb += 6.0 * a * a * (-2.0 * w * a * s);
        }
        let (_, g) = shaped_field_grad(a, b);
        close2("∇E", g, (da, db));
        fd2("∇E", shaped_field, (a, b), g);
        let (_, dv) = shaped_field_jvp(a, b, 1.0, -2.0);
        close("jvp", dv, da - 2.0 * db, TOL);
        let (_, _, hv) = shaped_field_hvp(a, b, 1.0, 0.5);
        close("(H·v)_a", hv.0, haa + 0.5 * hab, TOL);
        close("(H·v)_b", hv.1, hab + 0.5 * hbb, TOL);
    }
}
