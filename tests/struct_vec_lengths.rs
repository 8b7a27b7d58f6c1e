//! `Vec`s of parameter structs whose length changes or that a loop rebuilds: a time loop that
//! replaces the `Vec` by a new one each step (`balls = balls.iter().map(|b| b.step(..)).collect()`,
//! or built with `push`), forces collected before an N-body update, and `truncate`, `clear`,
//! `resize`, `fill` and an unread `pop` on a `Vec` of structs the macro does not see to be
//! structs. Their adjoints make zero elements from the length alone, which a struct of floats
//! (and of float arrays and such structs) has without a shape. (A struct with an ndarray field
//! has no such zero, which is a build error: the compile-fail example in the documentation of
//! `#[differentiate]`; trybuild's `cargo check` does not instantiate the code that reports it.)
//!
//! Each gradient is checked against central finite differences through `autodiff::check`, and
//! each value against the plain function's.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
struct Ball {
    y: f64,
    v: f64,
}

#[differentiate]
impl Ball {
    fn step(self, g: f64, dt: f64) -> Ball {
        Ball {
            y: self.y + self.v * dt,
            v: self.v - g * dt,
        }
    }

    fn energy(&self, g: f64) -> f64 {
        0.5 * self.v * self.v + g * self.y * self.y
    }
}

/// The functional update a JAX user writes: the `Vec` is a new one each step.
#[differentiate]
fn rebuilt_by_collect(balls0: &[Ball], g: f64) -> f64 {
    let mut balls: Vec<Ball> = balls0.to_vec();
    for _ in 0..4 {
        balls = balls.iter().map(|b| b.step(g, 0.1)).collect();
    }
    balls.iter().map(|b| b.energy(g)).sum()
}

/// The same with the new `Vec` built by `push`.
#[differentiate]
fn rebuilt_by_push(balls0: &[Ball], g: f64) -> f64 {
    let mut balls: Vec<Ball> = balls0.to_vec();
    for _ in 0..4 {
        let mut next: Vec<Ball> = Vec::new();
        for b in &balls {
            next.push(b.step(g, 0.1));
        }
        balls = next;
    }
    balls.iter().map(|b| b.energy(g)).sum()
}

/// Balls that leave the floor are dropped: the length changes inside the loop.
#[differentiate]
fn dropped_when_low(balls0: &[Ball], g: f64) -> f64 {
    let mut balls: Vec<Ball> = balls0.to_vec();
    for _ in 0..5 {
        balls = balls
            .iter()
            .map(|b| b.step(g, 0.2))
            .filter(|b| b.y > 0.0)
            .collect();
    }
    balls.iter().map(|b| b.energy(g)).sum::<f64>() + balls.len() as f64
}

fn balls() -> Vec<Ball> {
    vec![
        Ball { y: 1.0, v: 0.5 },
        Ball { y: 2.0, v: -0.3 },
        Ball { y: 0.4, v: -1.1 },
    ]
}

type BallsLoss = fn(&[Ball], f64) -> f64;
type BallsGrad = fn(&[Ball], f64) -> (f64, (Vec<Ball>, f64));

#[track_caller]
fn check_balls(what: &str, f: BallsLoss, f_grad: BallsGrad, b: &[Ball], g: f64) {
    let (y, grad) = f_grad(b, g);
    assert_eq!(y.to_bits(), f(b, g).to_bits(), "{what}: value");
    let r = gradcheck(|p: &(Vec<Ball>, f64)| f(&p.0, p.1), &(b.to_vec(), g), &grad);
    assert!(r.passed(), "{what}: {r}");
}

#[test]
fn vecs_of_structs_rebuilt_each_step() {
    let b = balls();
    check_balls(
        "collect",
        rebuilt_by_collect,
        rebuilt_by_collect_grad,
        &b,
        9.8,
    );
    check_balls("push", rebuilt_by_push, rebuilt_by_push_grad, &b, 9.8);
    let (a, ga) = rebuilt_by_collect_grad(&b, 9.8);
    let (p, gp) = rebuilt_by_push_grad(&b, 9.8);
    assert_eq!((a.to_bits(), ga.1.to_bits()), (p.to_bits(), gp.1.to_bits()));
    // The third ball falls below the floor after a few steps and is dropped.
    let (_, (gb, _)) = dropped_when_low_grad(&b, 1.0);
    assert_eq!(gb.len(), 3);
    check_balls("filtered", dropped_when_low, dropped_when_low_grad, &b, 1.0);
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct V3 {
    x: f64,
    y: f64,
    z: f64,
}

impl V3 {
    fn zero() -> V3 {
        V3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Body {
    p: V3,
    v: V3,
    m: [f64; 1],
}

#[differentiate]
impl Body {
    /// Symplectic Euler: the velocity kicked by the acceleration, then the position drifts.
    fn kicked(self, a: V3, dt: f64) -> Body {
        let v = V3 {
            x: self.v.x + a.x * dt,
            y: self.v.y + a.y * dt,
            z: self.v.z + a.z * dt,
        };
        Body {
            p: V3 {
                x: self.p.x + v.x * dt,
                y: self.p.y + v.y * dt,
                z: self.p.z + v.z * dt,
            },
            v,
            m: self.m,
        }
    }
}

/// The acceleration of body `i` from the others (softened gravity).
#[differentiate]
fn accel(b: &[Body], i: usize) -> V3 {
    let mut a = V3::zero();
    for j in 0..b.len() {
        if j != i {
            let dx = b[j].p.x - b[i].p.x;
            let dy = b[j].p.y - b[i].p.y;
            let dz = b[j].p.z - b[i].p.z;
            let r2 = dx * dx + dy * dy + dz * dz + 0.1;
            let s = b[j].m[0] / (r2 * r2.sqrt());
            a.x += s * dx;
            a.y += s * dy;
            a.z += s * dz;
        }
    }
    a
}

/// Every force first, then the update (Jacobi order), the forces collected in the time loop.
#[differentiate]
fn nbody_collected(b0: &[Body], dt: f64) -> f64 {
    let mut b: Vec<Body> = b0.to_vec();
    let n = b.len();
    for _ in 0..3 {
        let acc: Vec<V3> = (0..n).map(|i| accel(&b, i)).collect();
        for i in 0..n {
            b[i] = b[i].kicked(acc[i], dt);
        }
    }
    b.iter()
        .map(|q| q.m[0] * (q.v.x * q.v.x + q.v.y * q.v.y + q.v.z * q.v.z))
        .sum()
}

/// The same with the forces written into a `Vec` made by `vec![V3::zero(); n]`.
#[differentiate]
fn nbody_filled(b0: &[Body], dt: f64) -> f64 {
    let mut b: Vec<Body> = b0.to_vec();
    let n = b.len();
    for _ in 0..3 {
        let mut acc = vec![V3::zero(); n];
        for i in 0..n {
            acc[i] = accel(&b, i);
        }
        for i in 0..n {
            b[i] = b[i].kicked(acc[i], dt);
        }
    }
    b.iter()
        .map(|q| q.m[0] * (q.v.x * q.v.x + q.v.y * q.v.y + q.v.z * q.v.z))
        .sum()
}

fn bodies() -> Vec<Body> {
    let v = |x: f64, y: f64, z: f64| V3 { x, y, z };
    vec![
        Body {
            p: v(0.0, 0.1, -0.2),
            v: v(0.1, 0.0, 0.05),
            m: [1.0],
        },
        Body {
            p: v(1.0, -0.3, 0.4),
            v: v(-0.2, 0.1, 0.0),
            m: [0.5],
        },
        Body {
            p: v(-0.6, 0.8, 0.3),
            v: v(0.0, -0.1, 0.2),
            m: [2.0],
        },
    ]
}

#[test]
fn nbody_forces_collected_in_the_time_loop() {
    let b = bodies();
    for (what, f, f_grad) in [
        (
            "collected",
            nbody_collected as fn(&[Body], f64) -> f64,
            nbody_collected_grad as fn(&[Body], f64) -> (f64, (Vec<Body>, f64)),
        ),
        ("filled", nbody_filled, nbody_filled_grad),
    ] {
        let (y, grad) = f_grad(&b, 0.05);
        assert_eq!(y.to_bits(), f(&b, 0.05).to_bits(), "{what}: value");
        let r = gradcheck(
            |p: &(Vec<Body>, f64)| f(&p.0, p.1),
            &(b.clone(), 0.05),
            &grad,
        );
        assert!(r.passed(), "{what}: {r}");
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

#[differentiate]
fn particle(x0: f64, k: f64) -> Particle {
    Particle {
        x: x0 * k,
        v: x0 + k,
    }
}

/// The elements are what a function returned, so the macro does not see them to be structs:
/// `truncate`, `resize`, `clear` and an unread `pop` go through the runtime's zero elements.
#[differentiate]
fn truncated(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..4 {
        ps.push(particle(x0, i as f64));
    }
    ps.truncate(2);
    ps.iter().map(|p| p.x * p.v).sum()
}

#[differentiate]
fn resized(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..3 {
        ps.push(particle(x0, i as f64));
    }
    ps.resize(5, particle(x0, 7.0));
    let grown: f64 = ps.iter().map(|p| p.x * p.v).sum();
    ps.resize(2, particle(x0, 9.0));
    grown + ps.iter().map(|p| p.x * p.x).sum::<f64>()
}

#[differentiate]
fn cleared_and_popped(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..3 {
        ps.push(particle(x0, i as f64 + 1.0));
    }
    ps.pop();
    let before: f64 = ps.iter().map(|p| p.x * p.v).sum();
    ps.clear();
    ps.push(particle(x0 * x0, 2.0));
    before + ps[0].x * ps[0].v
}

#[differentiate]
fn filled(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..3 {
        ps.push(particle(x0, i as f64));
    }
    let first = ps[1].x * ps[1].v;
    ps.fill(particle(x0, 0.5));
    first + ps.iter().map(|p| p.x * p.v * p.v).sum::<f64>()
}

/// A loop that takes the particles off one by one.
#[differentiate]
fn drained_by_pop(x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..4 {
        ps.push(particle(x0, i as f64));
    }
    let mut s = 0.0;
    while let Some(p) = ps.pop() {
        s = s * 0.5 + p.x * p.v;
    }
    s
}

#[test]
fn length_changes_of_a_vec_of_function_results() {
    for (what, f, f_grad) in [
        (
            "truncate",
            truncated as fn(f64) -> f64,
            truncated_grad as fn(f64) -> (f64, f64),
        ),
        ("resize", resized, resized_grad),
        ("clear and pop", cleared_and_popped, cleared_and_popped_grad),
        ("fill", filled, filled_grad),
        ("while let pop", drained_by_pop, drained_by_pop_grad),
    ] {
        for x in [0.7, -1.3] {
            let (y, g) = f_grad(x);
            assert_eq!(y.to_bits(), f(x).to_bits(), "{what}: value");
            let r = gradcheck(|p: &f64| f(*p), &x, &g);
            assert!(r.passed(), "{what} at {x}: {r}");
        }
    }
}

/// The textbook leapfrog scheme for the 2-D wave equation: grids of rows rotated each step
/// (`prev = cur; cur = next;`). A row's zero needs its length, which the loop's carried adjoint
/// takes from the adjoint it replaces, of the same length.
#[differentiate]
fn leapfrog_grid(u0: &[Vec<f64>], c: f64, steps: usize) -> f64 {
    let (n, m) = (u0.len(), u0[0].len());
    let mut prev = u0.to_vec();
    let mut cur = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![vec![0.0; m]; n];
        for i in 1..n - 1 {
            for j in 1..m - 1 {
                let lap =
                    cur[i - 1][j] + cur[i + 1][j] + cur[i][j - 1] + cur[i][j + 1] - 4.0 * cur[i][j];
                next[i][j] = 2.0 * cur[i][j] - prev[i][j] + c * lap;
            }
        }
        prev = cur;
        cur = next;
    }
    cur[1][1] + cur[2][2] * cur[1][2]
}

#[derive(Clone, Debug, Differentiable)]
struct Cell {
    w: ndarray::Array1<f64>,
    b: f64,
}

/// A `Vec` of structs with an array field, rebuilt each step at the same length.
#[differentiate]
fn cells_rebuilt(cells0: &[Cell], k: f64) -> f64 {
    let mut cells: Vec<Cell> = cells0.to_vec();
    for _ in 0..3 {
        let mut next = Vec::new();
        for c in &cells {
            next.push(Cell {
                w: c.w.mapv(|v| v * k) + c.b,
                b: c.b * 0.5 + c.w.sum() * 0.1,
            });
        }
        cells = next;
    }
    cells.iter().map(|c| c.w.dot(&c.w) + c.b).sum()
}

#[test]
fn vecs_of_rows_and_of_array_structs_rebuilt_at_one_length() {
    let u0: Vec<Vec<f64>> = (0..4)
        .map(|i| (0..5).map(|j| ((i * 5 + j) as f64 * 0.37).sin()).collect())
        .collect();
    let (y, (gu, gc)) = leapfrog_grid_grad(&u0, 0.2, 3);
    assert_eq!(y.to_bits(), leapfrog_grid(&u0, 0.2, 3).to_bits());
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, f64)| leapfrog_grid(&p.0, p.1, 3),
        &(u0.clone(), 0.2),
        &(gu, gc),
    );
    assert!(r.passed(), "grid: {r}");

    let cells = vec![
        Cell {
            w: ndarray::array![0.3, -0.2],
            b: 0.1,
        },
        Cell {
            w: ndarray::array![1.0, 0.5],
            b: -0.4,
        },
    ];
    let (y, (gcells, gk)) = cells_rebuilt_grad(&cells, 0.9);
    assert_eq!(y.to_bits(), cells_rebuilt(&cells, 0.9).to_bits());
    let r = gradcheck(
        |p: &(Vec<Cell>, f64)| cells_rebuilt(&p.0, p.1),
        &(cells.clone(), 0.9),
        &(gcells, gk),
    );
    assert!(r.passed(), "cells: {r}");
}

/// Rows dropped one per step: the adjoint would need zero rows of lengths it does not know,
/// which is a panic that says so (not a gradient of the wrong shape).
#[differentiate]
fn rows_dropped(rows0: &[Vec<f64>]) -> f64 {
    let mut rows = rows0.to_vec();
    let mut s = 0.0;
    while rows.len() > 1 {
        s += rows[0][0] * rows[1][0];
        rows = rows[1..].to_vec();
    }
    s
}

#[test]
#[should_panic(
    expected = "a loop changes the length of a `Vec` of `alloc::vec::Vec<f64>` it carries"
)]
fn vec_of_rows_shortened_by_a_loop_panics() {
    let rows = vec![vec![1.0, 2.0], vec![3.0], vec![0.5, 0.5]];
    assert_eq!(rows_dropped(&rows), 1.0 * 3.0 + 3.0 * 0.5);
    let _ = rows_dropped_grad(&rows);
}
