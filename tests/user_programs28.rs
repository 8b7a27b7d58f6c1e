//! Game, animation and recommender code as users write it: particle systems, arm chains and
//! factorisation models fitted by their gradients.
//!
//! A parameter shadowed by its own copy, `let mut ps = ps.to_vec();` of `ps: &[Particle]` (or
//! `let mut p = p;`), was read by the macro as the new variable rather than the one it copies,
//! so the copy's element type was unknown: a `&mut self` method on `for p in ps.iter_mut()` or
//! on `ps[i]` was an error that asked for the type to be declared, and `ps.iter().map(|p|
//! p.height())` an error that `height` had no rule. The initializer of a `let` now reads the
//! variables before it, as Rust does.
//!
//! A matrix mapped by a closure, `let e = scores.mapv(|s| s.exp());` (also `a.map(|&v| ..)`
//! and `Zip::from(&a).and(&b).map_collect(..)`), was of a rank the macro did not know, so
//! iterating its elements, `e.iter()` or `e.indexed_iter()` with `((i, j), v)`, was rustc's
//! error that the elements were "iterated here as a vector's", though the same map written
//! with a function's path of the array's rank was followed. A map has the shape of the arrays
//! it maps.
//!
//! A parameter holding `Option`s, `ratings: &[Option<f64>]` (the ratings a user has given,
//! `None` where there is none), was taken for a differentiated one: the gradient had an entry
//! `Vec<Option<f64>>` for it, and `if let Some(r) = r` of its elements was an error that the
//! pattern took a differentiated value out of an `Option`. An `Option` has no gradient type,
//! and neither has a container of them: such a parameter is data, as an `Option` is.
//!
//! A map or a set of data, an item's id to its row (`index: HashMap<u64, usize>`), was taken
//! for a differentiated value: as a field of a parameter struct it was rustc's
//! "`HashMap<u64, usize>` is not differentiable" at the derive, and as a parameter it had an
//! entry in the gradient. Maps and sets of data are data, as `Vec`s of them are.
//!
//! A range parameter, `frames: Range<usize>` (the frames of a clip), and a time step kept as a
//! `Duration` were taken for differentiated ones: rustc's "`Range<usize>` cannot be
//! differentiated" at the attribute, and for the step "`Duration` has no gradient type" and no
//! `as_secs_f64_vjp`. A range of positions and a time step are data.
//!
//! The item of a loop over a container of data, `id` of `for id in clicks` (an `&u64`), is its
//! element's value in the generated code, so where the source lends it to code run as written,
//! `seen.contains(id)`, `index.get(id)`, `row_of(id)` of `fn row_of(id: &u64)`, that code was
//! given a `u64`: rustc's "expected `&u64`, found `u64`" at the call, and for `let Some(&k) =
//! index.get(id) else { .. }`, "expected `u64`, found `usize`" at the key, read as a slice's
//! position. Such an item is now lent as the source lends it, and the test of `get(i)` is the
//! lookup itself.
//!
//! Each gradient is checked against its analytic form where it is short (stated beside the
//! function) and against central finite differences through `autodiff::check`.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array2, Zip};
use std::collections::{HashMap, HashSet};
use std::ops::{Range, RangeInclusive};
use std::time::Duration;

mod common;
use common::*;

#[derive(Clone, Copy, Debug, Default, Differentiable)]
struct Particle {
    pos: [f64; 2],
    vel: [f64; 2],
}

#[differentiate]
impl Particle {
    /// Gravity `g` and linear drag over one step of length `dt`, semi-implicit Euler.
    fn step(&mut self, g: f64, drag: f64, dt: f64) {
        self.vel[1] -= g * dt;
        self.vel[0] *= 1.0 - drag * dt;
        self.vel[1] *= 1.0 - drag * dt;
        self.pos[0] += self.vel[0] * dt;
        self.pos[1] += self.vel[1] * dt;
    }

    fn height(&self) -> f64 {
        self.pos[1]
    }
}

fn flat(ps: &[Particle]) -> Vec<f64> {
    ps.iter()
        .flat_map(|p| [p.pos[0], p.pos[1], p.vel[0], p.vel[1]])
        .collect()
}

fn particles(q: &[f64]) -> Vec<Particle> {
    q.chunks(4)
        .map(|c| Particle {
            pos: [c[0], c[1]],
            vel: [c[2], c[3]],
        })
        .collect()
}

fn two_particles() -> Vec<Particle> {
    vec![
        Particle {
            pos: [0.0, 1.0],
            vel: [1.0, 2.0],
        },
        Particle {
            pos: [0.5, 0.0],
            vel: [-1.0, 3.0],
        },
    ]
}

/// A particle emitter stepped in place through the items of `iter_mut()` of the parameter's
/// shadowing copy: `f = Σ x_p² + y_p` after `steps` steps.
#[differentiate(wrt(drag, ps))]
fn emitter(ps: &[Particle], drag: f64, steps: usize) -> f64 {
    let mut ps = ps.to_vec();
    for _ in 0..steps {
        for p in ps.iter_mut() {
            p.step(9.8, drag, 0.05);
        }
    }
    ps.iter().map(|p| p.pos[0] * p.pos[0] + p.pos[1]).sum()
}

/// The same copy stepped by index and read through a method: with drag `c` and step `h`,
/// `y₁ = y₀ + h·(1 − c h)(v₀ − g h)`, so `∂y₀ = 1`, `∂v_y = h(1 − c h)`, and `x` does not count.
#[differentiate(wrt(ps))]
fn stepped_heights(ps: &[Particle]) -> f64 {
    let mut ps = ps.to_vec();
    for i in 0..ps.len() {
        ps[i].step(9.8, 0.1, 0.1);
    }
    ps.iter().map(|p| p.height()).sum()
}

#[test]
fn a_slice_parameter_shadowed_by_its_copy_keeps_its_structs() {
    let ps = two_particles();
    let (y, (gp, gd)) = emitter_grad(&ps, 0.3, 4);
    close("emitter", y, emitter(&ps, 0.3, 4), TOL);
    let r = gradcheck(
        |q: &(Vec<f64>, f64)| emitter(&particles(&q.0), q.1, 4),
        &(flat(&ps), 0.3),
        &(flat(&gp), gd),
    );
    assert!(r.passed(), "{r}");

    let (y, gp) = stepped_heights_grad(&ps);
    close("heights", y, stepped_heights(&ps), TOL);
    let (h, c) = (0.1, 0.1);
    for g in &gp {
        close_all(
            "∂ of a particle",
            &[g.pos[0], g.pos[1], g.vel[0], g.vel[1]],
            &[0.0, 1.0, 0.0, h * (1.0 - c * h)],
        );
    }
    fd_vec(
        "heights",
        |q| stepped_heights(&particles(q)),
        &flat(&ps),
        &flat(&gp),
    );
}

fn matrix(r: usize, c: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_vec((r, c), data(r * c, seed)).unwrap()
}

/// Item scores exponentiated by a closure and weighted by their position: `f = Σ_ij (i + 2j)
/// e^{s_ij}`, `∂s_ij = (i + 2j) e^{s_ij}`.
#[differentiate]
fn position_weighted(scores: &Array2<f64>) -> f64 {
    let e = scores.mapv(|s| s.exp());
    let mut acc = 0.0;
    for ((i, j), v) in e.indexed_iter() {
        acc += (i + 2 * j) as f64 * v;
    }
    acc
}

/// The other maps of a matrix, iterated: `f = Σ_k (k + 1) tanh a_k + Σ_ij (1 + i + 3j) a_ij
/// e^{b_ij} + Σ_k sin² b_k`, `k` the row-major position.
#[differentiate]
fn mapped_sums(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let t = a.map(|&v| v.tanh());
    let z = Zip::from(a).and(b).map_collect(|&x, &y| x * y.exp());
    let s = b.mapv(|v| v.sin());
    let s1: f64 = t
        .iter()
        .enumerate()
        .map(|(k, v)| (k as f64 + 1.0) * v)
        .sum();
    let mut s2 = 0.0;
    for ((i, j), &v) in z.indexed_iter() {
        s2 += (1 + i + 3 * j) as f64 * v;
    }
    let s3 = s.iter().fold(0.0, |acc, v| acc + v * v);
    s1 + s2 + s3
}

#[test]
fn a_mapped_matrix_is_iterated_as_a_matrix() {
    let s = matrix(2, 3, 0.3);
    let (y, g) = position_weighted_grad(&s);
    close("weighted", y, position_weighted(&s), TOL);
    for ((i, j), &v) in s.indexed_iter() {
        close("∂s", g[[i, j]], (i + 2 * j) as f64 * v.exp(), TOL);
    }
    let r = gradcheck(|x: &Array2<f64>| position_weighted(x), &s, &g);
    assert!(r.passed(), "{r}");

    let (a, b) = (matrix(2, 3, 0.7), matrix(2, 3, 1.9));
    let (y, (ga, gb)) = mapped_sums_grad(&a, &b);
    close("mapped sums", y, mapped_sums(&a, &b), TOL);
    for ((i, j), &v) in a.indexed_iter() {
        let k = (3 * i + j) as f64;
        let w = (1 + i + 3 * j) as f64;
        let bij = b[[i, j]];
        close(
            "∂a",
            ga[[i, j]],
            (k + 1.0) * (1.0 - v.tanh().powi(2)) + w * bij.exp(),
            TOL,
        );
        close(
            "∂b",
            gb[[i, j]],
            w * v * bij.exp() + 2.0 * bij.sin() * bij.cos(),
            TOL,
        );
    }
    let r = gradcheck(
        |x: &(Array2<f64>, Array2<f64>)| mapped_sums(&x.0, &x.1),
        &(a.clone(), b.clone()),
        &(ga.clone(), gb.clone()),
    );
    assert!(r.passed(), "{r}");
    let (da, db) = (matrix(2, 3, 4.1), matrix(2, 3, 5.3));
    let (_, t) = mapped_sums_jvp(&a, &b, &da, &db);
    let along: f64 = (&ga * &da).sum() + (&gb * &db).sum();
    close("tangent", t, along, 1e-12);
}

/// A user's vector fitted to the ratings given, `None` for the items not rated: `f = Σ_{i rated}
/// (u·v_i − r_i)²`, `∂u = Σ 2e_i v_i`, `∂v_i = 2e_i u` for a rated item and 0 otherwise.
#[differentiate]
fn observed_error(u: &[f64], items: &[Vec<f64>], ratings: &[Option<f64>]) -> f64 {
    let mut l = 0.0;
    for (i, r) in ratings.iter().enumerate() {
        if let Some(r) = r {
            let p: f64 = u.iter().zip(&items[i]).map(|(a, b)| a * b).sum();
            l += (p - r).powi(2);
        }
    }
    l
}

/// The same by index, with the element copied out of the slice: `if let Some(r) = ratings[i]`.
#[differentiate(wrt(u))]
fn observed_error_indexed(u: &[f64], items: &[Vec<f64>], ratings: &[Option<f64>]) -> f64 {
    let mut l = 0.0;
    for i in 0..ratings.len() {
        if let Some(r) = ratings[i] {
            let p: f64 = u.iter().zip(&items[i]).map(|(a, b)| a * b).sum();
            l += (p - r).powi(2);
        }
    }
    l
}

#[test]
fn a_slice_of_options_is_data() {
    let u = data(2, 0.5);
    let items: Vec<Vec<f64>> = (0..3).map(|i| data(2, 2.0 + i as f64)).collect();
    let ratings = vec![Some(1.0), None, Some(-0.3)];
    let (y, (gu, gi)) = observed_error_grad(&u, &items, &ratings);
    close("observed", y, observed_error(&u, &items, &ratings), TOL);
    let mut want_u = [0.0; 2];
    for (i, r) in ratings.iter().enumerate() {
        let Some(r) = r else {
            close_all("∂ an item not rated", &gi[i], &[0.0, 0.0]);
            continue;
        };
        let e = u[0] * items[i][0] + u[1] * items[i][1] - r;
        close_all("∂ a rated item", &gi[i], &[2.0 * e * u[0], 2.0 * e * u[1]]);
        want_u[0] += 2.0 * e * items[i][0];
        want_u[1] += 2.0 * e * items[i][1];
    }
    close_all("∂u", &gu, &want_u);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<Vec<f64>>)| observed_error(&p.0, &p.1, &ratings),
        &(u.clone(), items.clone()),
        &(gu.clone(), gi),
    );
    assert!(r.passed(), "{r}");
    let (_, g) = observed_error_indexed_grad(&u, &items, &ratings);
    close_all("∂u by index", &g, &gu);
    let (_, t) = observed_error_jvp(
        &u,
        &items,
        &ratings,
        &vec![1.0, 0.0],
        &vec![vec![0.0; 2]; 3],
    );
    close("tangent along u₀", t, gu[0], TOL);
}

/// Item embeddings with the map from an item's id to its row kept beside them.
#[derive(Clone, Debug, Differentiable)]
struct Catalog {
    emb: Vec<Vec<f64>>,
    index: HashMap<u64, usize>,
}

/// The logistic loss of the items a user clicked, ids not in the catalog skipped: `f = Σ
/// ln(1 + e^{−s})` with `s = u·e_k`, `∂u = Σ −σ(−s) e_k`, `∂e_k = Σ −σ(−s) u`.
#[differentiate(wrt(c, user))]
fn click_loss(c: &Catalog, user: &[f64], clicks: &[u64]) -> f64 {
    let mut l = 0.0;
    for &id in clicks {
        let Some(&k) = c.index.get(&id) else { continue };
        let s: f64 = user.iter().zip(&c.emb[k]).map(|(a, b)| a * b).sum();
        l += (-s).exp().ln_1p();
    }
    l
}

/// A map and a set as parameters, with the default activity: `f = Σ_{id ∉ seen} w_{row(id)}²`.
#[differentiate]
fn unseen_penalty(w: &[f64], rows: &HashMap<u64, usize>, seen: &HashSet<u64>, ids: &[u64]) -> f64 {
    let mut l = 0.0;
    for &id in ids {
        if seen.contains(&id) {
            continue;
        }
        if let Some(&k) = rows.get(&id) {
            l += w[k] * w[k];
        }
    }
    l
}

#[test]
fn maps_and_sets_of_data_are_data() {
    let index: HashMap<u64, usize> = [(100, 0), (7, 1), (205, 2)].into_iter().collect();
    let c = Catalog {
        emb: (0..3).map(|i| data(2, i as f64)).collect(),
        index: index.clone(),
    };
    let user = data(2, 5.0);
    let clicks = vec![100, 7, 999, 205, 100];
    let (y, (gc, gu)) = click_loss_grad(&c, &user, &clicks);
    close("clicks", y, click_loss(&c, &user, &clicks), TOL);
    assert_eq!(gc.index, c.index, "the gradient keeps the data field");
    let sigma = |x: f64| 1.0 / (1.0 + (-x).exp());
    let mut want_u = [0.0; 2];
    let mut want_e = vec![[0.0; 2]; 3];
    for id in &clicks {
        let Some(&k) = index.get(id) else { continue };
        let e = &c.emb[k];
        let w = -sigma(-(user[0] * e[0] + user[1] * e[1]));
        for j in 0..2 {
            want_u[j] += w * e[j];
            want_e[k][j] += w * user[j];
        }
    }
    close_all("∂user", &gu, &want_u);
    for k in 0..3 {
        close_all("∂emb", &gc.emb[k], &want_e[k]);
    }
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<f64>)| {
            let c = Catalog {
                emb: p.0.clone(),
                index: index.clone(),
            };
            click_loss(&c, &p.1, &clicks)
        },
        &(c.emb.clone(), user.clone()),
        &(gc.emb.clone(), gu.clone()),
    );
    assert!(r.passed(), "{r}");

    let w = data(3, 1.5);
    let seen: HashSet<u64> = [7].into_iter().collect();
    let (y, g) = unseen_penalty_grad(&w, &index, &seen, &clicks);
    close("unseen", y, unseen_penalty(&w, &index, &seen, &clicks), TOL);
    close_all("∂w", &g, &[4.0 * w[0], 0.0, 2.0 * w[2]]);
}

/// A clip's keys over a range of frames fitted to a pose: `f = Σ_{k ∈ frames} (x_k − t)²`,
/// `∂x_k = 2(x_k − t)` inside the range and 0 outside, `∂t = −Σ 2(x_k − t)`.
#[differentiate]
fn clip_error(keys: &[f64], frames: Range<usize>, target: f64) -> f64 {
    keys[frames].iter().map(|k| (k - target).powi(2)).sum()
}

/// The frames of an inclusive range looped over: `f = Σ_{k ∈ frames} sin x_k`.
#[differentiate]
fn clip_wave(keys: &[f64], frames: RangeInclusive<usize>) -> f64 {
    let mut s = 0.0;
    for k in frames {
        s += keys[k].sin();
    }
    s
}

#[test]
fn a_range_of_frames_is_data() {
    let keys = data(6, 0.3);
    let (y, (g, gt)) = clip_error_grad(&keys, 1..4, 0.2);
    close("clip", y, clip_error(&keys, 1..4, 0.2), TOL);
    let want: Vec<f64> = (0..6)
        .map(|k| {
            if (1..4).contains(&k) {
                2.0 * (keys[k] - 0.2)
            } else {
                0.0
            }
        })
        .collect();
    close_all("∂keys", &g, &want);
    close("∂target", gt, -want.iter().sum::<f64>(), TOL);
    let (_, g) = clip_wave_grad(&keys, 2..=4);
    let want: Vec<f64> = (0..6)
        .map(|k| {
            if (2..=4).contains(&k) {
                keys[k].cos()
            } else {
                0.0
            }
        })
        .collect();
    close_all("∂keys, inclusive", &g, &want);
    fd_vec("clip", |x| clip_wave(x, 2..=4), &keys, &g);
}

/// A body falling for `n` steps of `dt`, semi-implicit Euler: `h_n = h₀ + n t v₀ − g t²
/// n(n+1)/2`, so `∂h₀ = 1`, `∂v₀ = n t`.
#[differentiate]
fn fallen(h0: f64, v0: f64, dt: Duration, n: usize) -> f64 {
    let t = dt.as_secs_f64();
    let (mut h, mut v) = (h0, v0);
    for _ in 0..n {
        v -= 9.8 * t;
        h += v * t;
    }
    h
}

#[test]
fn a_time_step_is_data() {
    let dt = Duration::from_millis(16);
    let (y, (gh, gv)) = fallen_grad(1.0, 2.0, dt, 5);
    close("fallen", y, fallen(1.0, 2.0, dt, 5), TOL);
    close2("∂(h₀, v₀)", (gh, gv), (1.0, 5.0 * 0.016));
    fd2("fallen", |h, v| fallen(h, v, dt, 5), (1.0, 2.0), (gh, gv));
}

fn row_of(id: &u64) -> usize {
    (*id % 3) as usize
}

/// Items a user clicked, looked up by id through references to the loop's items: `f = Σ_{id ∉
/// seen} w_{row(id)}² + Σ_{id ∈ index} w_{index[id]}`.
#[differentiate(wrt(w))]
fn clicked(w: &[f64], index: &HashMap<u64, usize>, seen: &HashSet<u64>, clicks: &[u64]) -> f64 {
    let mut l = 0.0;
    for id in clicks {
        if seen.contains(id) {
            continue;
        }
        l += w[row_of(id)] * w[row_of(id)];
        let Some(&k) = index.get(id) else { continue };
        l += w[k];
    }
    l + clicks
        .iter()
        .filter(|id| index.contains_key(id))
        .map(|id| w[index[id]])
        .sum::<f64>()
}

/// The same lookup on a differentiated slice by position, with its second derivative: `f = v
/// w²` with `v = x_i`, `w = x_{i+1}`, or `v²` at the end.
#[differentiate(hessian)]
fn neighbour_product(x: &[f64], i: usize) -> f64 {
    let Some(&v) = x.get(i) else { return 0.0 };
    if let Some(&w) = x.get(i + 1) {
        v * w * w
    } else {
        v * v
    }
}

#[test]
fn items_of_data_are_lent_as_written() {
    let index: HashMap<u64, usize> = [(5, 1), (9, 0)].into_iter().collect();
    let seen: HashSet<u64> = [4].into_iter().collect();
    let clicks = vec![5, 9, 7, 4, 5];
    let w = data(3, 0.4);
    let (y, g) = clicked_grad(&w, &index, &seen, &clicks);
    close("clicked", y, clicked(&w, &index, &seen, &clicks), TOL);
    // Rows 5 % 3 = 2 (twice), 9 % 3 = 0, 7 % 3 = 1; looked up: 5 → 1 (twice, twice), 9 → 0.
    close_all("∂w", &g, &[2.0 * w[0] + 2.0, 2.0 * w[1] + 4.0, 4.0 * w[2]]);
    fd_vec("clicked", |x| clicked(x, &index, &seen, &clicks), &w, &g);

    let x = [1.0, 2.0, 3.0];
    let (y, g) = neighbour_product_grad(&x, 1);
    close("v w²", y, 18.0, TOL);
    close_all("∂(v w²)", &g, &[0.0, 9.0, 12.0]);
    let (_, g) = neighbour_product_grad(&x, 2);
    close_all("∂v²", &g, &[0.0, 0.0, 6.0]);
    let (_, g) = neighbour_product_grad(&x, 5);
    close_all("past the end", &g, &[0.0; 3]);
    let (_, _, h) = neighbour_product_hvp(&x, 1, &vec![0.0, 1.0, 1.0]);
    // H = [[0, 2w], [2w, 2v]] on (x₁, x₂), along (1, 1).
    close_all("H·(0, 1, 1)", &h, &[0.0, 6.0, 10.0]);
}
