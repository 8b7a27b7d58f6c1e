//! Quantum circuits written the way a Rust engineer writes them: complex numbers as a struct
//! `C { re, im }` with differentiated `Add`, `Sub` and `Mul`, 2×2 matrices as `[[C; 2]; 2]`,
//! a state vector as a `Vec<C>` updated gate by gate. Each gradient is checked against its
//! analytic value (stated beside the test) or the parameter-shift rule, and central finite
//! differences.
//!
//! What was wrong for these programs:
//! - an element of a container of containers of the struct (`m[i][k]` of `m: [[C; 2]; 2]`, and
//!   of a local declared so, `let u: [[C; 2]; 2] = ..;`) was not known to be the struct: `m[i][k]
//!   * v[k]` was the error "`*` with a `C` of yours on the right only" (whose advice, to write
//!   the struct on the left, was already followed), `acc + a[i][k] * b[k][j]` was rustc's
//!   "cannot be combined by an arithmetic operator" inside the generated code, and `let a =
//!   u[0][0]; a.conj()` was "no derivative rule for method `conj`"; of a local array of arrays
//!   built by a repeat (`let mut rho = [[C::ZERO; 2]; 2];`), `rho[i][j].norm_sqr()` was the
//!   error "`rho.norm_sqr(..)` may change `rho`";
//! - a product of what a method of the struct returned and the struct (`a.conj() * b`) was the
//!   "on the right only" error: a float on the left of a struct's product is not followed, so
//!   the left operand is the struct;
//! - the arithmetic assigned to an element of a `Vec` of the struct (`psi[i] = a.scale(c) -
//!   b.scale(s)`) or bound by a `let` declared with its type (`let d: C = ..`) was taken for
//!   float arithmetic, rustc's error inside the generated code: it is the struct's;
//! - the item of `for a in psi.iter_mut()` over a `Vec<C>` (local, or a buffer lent `&mut`)
//!   was not known to hold the struct: `*a = *a * ph` was the "on the right only" error, and
//!   `(*a).scale(k)` and, after the writes, `psi.iter().map(|a| a.norm_sqr())` of the buffer
//!   "no derivative rule". (`a.scale(k)` on the item itself is the `&mut self` method `scale` of
//!   the `Differentiable` trait, where it is imported: Rust finds it first on a `&mut C`.)
//! - a compound bit assignment of integers (`j ^= 1 << q`, `mask <<= 1`, flipping a basis
//!   state's bits) was an error: it is `j = j ^ (1 << q)`, as Rust computes it.
//! - a struct named by one letter (`C`) built by a constructor (`C::from_polar(r, phase)`) or
//!   started from its constant (`vec![C::ZERO; n]`, `fold(C::ZERO, ..)`) was not known to be the
//!   struct (a one-letter name was taken for a type parameter): it is, where the function and the
//!   `impl` around it declare no such parameter.

use autodiff::{Differentiable, differentiate};
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_2, PI};
use std::ops::{Add, Mul, Sub};

mod common;
use common::*;

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
struct C {
    re: f64,
    im: f64,
}

impl C {
    const ZERO: C = C { re: 0.0, im: 0.0 };
}

#[differentiate(hessian)]
impl Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

#[differentiate(hessian)]
impl Sub for C {
    type Output = C;
    fn sub(self, o: C) -> C {
        C {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

#[differentiate(hessian)]
impl Mul for C {
    type Output = C;
    fn mul(self, o: C) -> C {
        C {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}

#[differentiate(hessian)]
impl C {
    fn conj(&self) -> C {
        C {
            re: self.re,
            im: -self.im,
        }
    }
    fn norm_sqr(&self) -> f64 {
        self.re * self.re + self.im * self.im
    }
    fn scale(&self, k: f64) -> C {
        C {
            re: self.re * k,
            im: self.im * k,
        }
    }
    fn from_polar(r: f64, phase: f64) -> C {
        C {
            re: r * phase.cos(),
            im: r * phase.sin(),
        }
    }
}

fn c(re: f64, im: f64) -> C {
    C { re, im }
}

// ---------------------------------------------------------------------------------------------
// 2×2 matrices as `[[C; 2]; 2]`
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn matvec2(m: [[C; 2]; 2], v: [C; 2]) -> [C; 2] {
    [
        m[0][0] * v[0] + m[0][1] * v[1],
        m[1][0] * v[0] + m[1][1] * v[1],
    ]
}

#[differentiate]
fn rx(theta: f64) -> [[C; 2]; 2] {
    let (s, co) = ((theta / 2.0).sin(), (theta / 2.0).cos());
    [
        [C { re: co, im: 0.0 }, C { re: 0.0, im: -s }],
        [C { re: 0.0, im: -s }, C { re: co, im: 0.0 }],
    ]
}

#[differentiate]
fn rz(theta: f64) -> [[C; 2]; 2] {
    let (s, co) = ((theta / 2.0).sin(), (theta / 2.0).cos());
    [
        [C { re: co, im: -s }, C { re: 0.0, im: 0.0 }],
        [C { re: 0.0, im: 0.0 }, C { re: co, im: s }],
    ]
}

/// |⟨t|RZ(b) RX(a)|0⟩|², the state's type declared where a function returns it.
#[differentiate(wrt(a, b))]
fn fidelity(a: f64, b: f64, target: [C; 2]) -> f64 {
    let psi0 = [c(1.0, 0.0), c(0.0, 0.0)];
    let psi1 = matvec2(rx(a), psi0);
    let psi2: [C; 2] = matvec2(rz(b), psi1);
    let ov: C = target[0].conj() * psi2[0] + target[1].conj() * psi2[1];
    ov.norm_sqr()
}

#[test]
fn fidelity_through_matrices_of_complex_numbers() {
    // RZ(b)RX(a)|0⟩ = (e^{−ib/2} cos(a/2), −i e^{ib/2} sin(a/2)); with t = (0.6, 0.8i) the
    // fidelity is 0.5 − 0.14 cos a − 0.48 sin a cos b: ∂a = 0.14 sin a − 0.48 cos a cos b,
    // ∂b = 0.48 sin a sin b.
    let t = [c(0.6, 0.0), c(0.0, 0.8)];
    let (a, b) = (0.9, 0.4);
    let (v, g) = fidelity_grad(a, b, t);
    close(
        "value",
        v,
        0.5 - 0.14 * a.cos() - 0.48 * a.sin() * b.cos(),
        TOL,
    );
    close2(
        "gradient",
        g,
        (
            0.14 * a.sin() - 0.48 * a.cos() * b.cos(),
            0.48 * a.sin() * b.sin(),
        ),
    );
    fd2("fidelity", |a, b| fidelity(a, b, t), (a, b), g);
}

/// A product of 2×2 matrices, the accumulator a literal and the elements read by two indices.
#[differentiate]
fn matmul2(a: [[C; 2]; 2], b: [[C; 2]; 2]) -> [[C; 2]; 2] {
    let mut out = [[C::ZERO; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            let mut acc = C { re: 0.0, im: 0.0 };
            for k in 0..2 {
                acc = acc + a[i][k] * b[k][j];
            }
            out[i][j] = acc;
        }
    }
    out
}

/// ⟨X⟩ of RZ(γ) RX(β) RZ(α)|0⟩, the unitary's elements copied out of a declared local.
#[differentiate]
fn euler_expect_x(angles: [f64; 3]) -> f64 {
    let u: [[C; 2]; 2] = matmul2(rz(angles[2]), matmul2(rx(angles[1]), rz(angles[0])));
    let a = u[0][0];
    let b = u[1][0];
    let p = a.conj() * b;
    2.0 * p.re
}

#[test]
fn euler_rotation_by_products_of_matrices() {
    // ⟨X⟩ = sin β sin γ (RZ(α) only changes the phase of |0⟩): ∂α = 0, ∂β = cos β sin γ,
    // ∂γ = sin β cos γ.
    let ang = [0.3, 1.1, -0.7];
    let (v, g) = euler_expect_x_grad(ang);
    close("value", v, ang[1].sin() * ang[2].sin(), TOL);
    close_all(
        "gradient",
        &g,
        &[
            0.0,
            ang[1].cos() * ang[2].sin(),
            ang[1].sin() * ang[2].cos(),
        ],
    );
    fd3(
        "euler",
        |a, b, g| euler_expect_x([a, b, g]),
        (ang[0], ang[1], ang[2]),
        (g[0], g[1], g[2]),
    );
}

// ---------------------------------------------------------------------------------------------
// A three-qubit state vector as a `Vec<C>`, gate by gate
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Gate {
    Ry { q: usize, k: usize },
    Rz { q: usize, k: usize },
    Cz(usize, usize),
}

/// ⟨Z₀Z₂⟩ after a circuit given as data.
#[differentiate(wrt(theta))]
fn expect_z0z2(theta: &[f64], circuit: &[Gate]) -> f64 {
    let n = 8;
    let mut psi = vec![C::ZERO; n];
    psi[0] = C { re: 1.0, im: 0.0 };
    for g in circuit {
        match g {
            Gate::Ry { q, k } => {
                let (s, co) = ((theta[*k] / 2.0).sin(), (theta[*k] / 2.0).cos());
                for i in 0..n {
                    if i & (1 << q) == 0 {
                        let j = i | (1 << q);
                        let a = psi[i];
                        let b = psi[j];
                        psi[i] = a.scale(co) - b.scale(s);
                        psi[j] = a.scale(s) + b.scale(co);
                    }
                }
            }
            Gate::Rz { q, k } => {
                let half = theta[*k] / 2.0;
                for i in 0..n {
                    let ph = if i & (1 << q) == 0 { -half } else { half };
                    psi[i] = psi[i] * C::from_polar(1.0, ph);
                }
            }
            Gate::Cz(a, b) => {
                for i in 0..n {
                    if i & (1 << a) != 0 && i & (1 << b) != 0 {
                        psi[i] = psi[i].scale(-1.0);
                    }
                }
            }
        }
    }
    psi.iter()
        .enumerate()
        .map(|(i, amp)| {
            let z0 = if i & 1 == 0 { 1.0 } else { -1.0 };
            let z2 = if i & 4 == 0 { 1.0 } else { -1.0 };
            z0 * z2 * amp.norm_sqr()
        })
        .sum()
}

#[test]
fn three_qubit_expectation_matches_the_parameter_shift_rule() {
    let circuit = [
        Gate::Ry { q: 0, k: 0 },
        Gate::Ry { q: 1, k: 1 },
        Gate::Ry { q: 2, k: 2 },
        Gate::Cz(0, 1),
        Gate::Cz(1, 2),
        Gate::Ry { q: 0, k: 3 },
        Gate::Rz { q: 2, k: 4 },
        Gate::Ry { q: 2, k: 5 },
    ];
    let th = [0.3, 1.2, -0.4, 0.8, 0.5, -1.1];
    let (v, g) = expect_z0z2_grad(&th, &circuit);
    close("value", v, expect_z0z2(&th, &circuit), TOL);
    // Each angle enters one rotation e^{−iθP/2}: ∂θ⟨O⟩ = (⟨O⟩(θ + π/2) − ⟨O⟩(θ − π/2)) / 2,
    // exactly.
    let shift: Vec<f64> = (0..th.len())
        .map(|k| {
            let mut p = th.to_vec();
            p[k] += FRAC_PI_2;
            let plus = expect_z0z2(&p, &circuit);
            p[k] -= PI;
            0.5 * (plus - expect_z0z2(&p, &circuit))
        })
        .collect();
    for (k, (&a, &e)) in g.iter().zip(&shift).enumerate() {
        close(&format!("∂θ{k}"), a, e, 1e-12);
    }
    fd_vec("circuit", |p| expect_z0z2(p, &circuit), &th, &g);
}

/// |⟨a|b⟩|², the inner product a fold started from the struct's constant.
#[differentiate]
fn overlap_sq(a: &[C], b: &[C]) -> f64 {
    let ip = a
        .iter()
        .zip(b)
        .fold(C::ZERO, |acc, (x, y)| acc + x.conj() * *y);
    ip.norm_sqr()
}

#[test]
fn overlap_by_a_fold_from_the_constant() {
    let a = vec![c(0.5, 0.1), c(-0.2, 0.7)];
    let b = vec![c(0.3, -0.4), c(0.6, 0.2)];
    let (_, (ga, gb)) = overlap_sq_grad(&a, &b);
    // s = Σ conj(a_k) b_k and d|s|² = 2 Re(conj(s) ds): ∂Re a_k = 2 Re(conj(s) b_k),
    // ∂Im a_k = 2 Im(conj(s) b_k), ∂Re b_k = 2 Re(s a_k), ∂Im b_k = 2 Im(s a_k).
    let s = a.iter().zip(&b).fold(C::ZERO, |acc, (x, y)| {
        c(
            acc.re + x.re * y.re + x.im * y.im,
            acc.im + x.re * y.im - x.im * y.re,
        )
    });
    for k in 0..2 {
        // conj(s)·b_k
        let (p, q) = (
            s.re * b[k].re + s.im * b[k].im,
            s.re * b[k].im - s.im * b[k].re,
        );
        close(&format!("∂Re a{k}"), ga[k].re, 2.0 * p, TOL);
        close(&format!("∂Im a{k}"), ga[k].im, 2.0 * q, TOL);
        // s·a_k
        let (p, q) = (
            s.re * a[k].re - s.im * a[k].im,
            s.re * a[k].im + s.im * a[k].re,
        );
        close(&format!("∂Re b{k}"), gb[k].re, 2.0 * p, TOL);
        close(&format!("∂Im b{k}"), gb[k].im, 2.0 * q, TOL);
    }
    let flat = |v: &[C]| v.iter().flat_map(|z| [z.re, z.im]).collect::<Vec<f64>>();
    let unflat = |p: &[f64]| p.chunks(2).map(|z| c(z[0], z[1])).collect::<Vec<C>>();
    fd_vec("∂a", |p| overlap_sq(&unflat(p), &b), &flat(&a), &flat(&ga));
    fd_vec("∂b", |p| overlap_sq(&a, &unflat(p)), &flat(&b), &flat(&gb));
}

/// The fidelity of cos(θ/2)|0⟩ + e^{iφ} sin(θ/2)|1⟩ to |+i⟩, built by `C::from_polar`.
#[differentiate(hessian)]
fn bloch_fidelity(theta: f64, phi: f64) -> f64 {
    let a = C::from_polar((theta / 2.0).cos(), 0.0);
    let b = C::from_polar((theta / 2.0).sin(), phi);
    let t0 = C {
        re: FRAC_1_SQRT_2,
        im: 0.0,
    };
    let t1 = C {
        re: 0.0,
        im: FRAC_1_SQRT_2,
    };
    let ov = t0.conj() * a + t1.conj() * b;
    ov.norm_sqr()
}

#[test]
fn bloch_fidelity_and_its_hessian() {
    // F = (1 + sin θ sin φ)/2: ∂θ = cos θ sin φ / 2, ∂φ = sin θ cos φ / 2,
    // ∂²θ = −sin θ sin φ / 2, ∂θ∂φ = cos θ cos φ / 2.
    let (th, ph) = (0.9, 0.4);
    let (v, g) = bloch_fidelity_grad(th, ph);
    close("value", v, 0.5 * (1.0 + th.sin() * ph.sin()), TOL);
    close2(
        "gradient",
        g,
        (0.5 * th.cos() * ph.sin(), 0.5 * th.sin() * ph.cos()),
    );
    let (_, _, hv) = bloch_fidelity_hvp(th, ph, 1.0, 0.0);
    close2(
        "Hessian column",
        hv,
        (-0.5 * th.sin() * ph.sin(), 0.5 * th.cos() * ph.cos()),
    );
    fd2("bloch", bloch_fidelity, (th, ph), g);
}

// ---------------------------------------------------------------------------------------------
// A density matrix as a local array of arrays, `[[C::ZERO; 2]; 2]`
// ---------------------------------------------------------------------------------------------

/// tr(ρ²) + ⟨Z⟩/2 of ρ = (1 − p)|ψ⟩⟨ψ| + p·I/2, ψ = (cos(θ/2), i sin(θ/2)): the elements of
/// `rho`, built by a repeat of a repeat, are the struct (`rho[i][j].norm_sqr()`).
#[differentiate(hessian)]
fn noisy_purity(theta: f64, p: f64) -> f64 {
    let psi = [
        C {
            re: (theta / 2.0).cos(),
            im: 0.0,
        },
        C {
            re: 0.0,
            im: (theta / 2.0).sin(),
        },
    ];
    let mut rho = [[C::ZERO; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            let pure = psi[i] * psi[j].conj();
            let mixed = if i == j { 0.5 } else { 0.0 };
            rho[i][j] = pure.scale(1.0 - p)
                + C {
                    re: p * mixed,
                    im: 0.0,
                };
        }
    }
    let mut purity = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            purity += rho[i][j].norm_sqr();
        }
    }
    purity + 0.5 * (rho[0][0].re - rho[1][1].re)
}

#[test]
fn density_matrix_in_an_array_of_arrays() {
    // tr(ρ²) = 1 − p + p²/2 and ⟨Z⟩ = (1 − p) cos θ: ∂θ = −(1 − p) sin θ / 2,
    // ∂p = −1 + p − cos θ / 2, ∂p∂θ = sin θ / 2, ∂²p = 1.
    let (th, p) = (0.7, 0.2);
    let (v, g) = noisy_purity_grad(th, p);
    close(
        "value",
        v,
        1.0 - p + p * p / 2.0 + 0.5 * (1.0 - p) * th.cos(),
        TOL,
    );
    close2(
        "gradient",
        g,
        (-0.5 * (1.0 - p) * th.sin(), -1.0 + p - 0.5 * th.cos()),
    );
    let (_, _, hv) = noisy_purity_hvp(th, p, 0.0, 1.0);
    close2("Hessian column", hv, (0.5 * th.sin(), 1.0));
    fd2("purity", noisy_purity, (th, p), g);
}

// ---------------------------------------------------------------------------------------------
// Phases applied in place through `iter_mut()`
// ---------------------------------------------------------------------------------------------

/// Σ_k (k + 1)|a_k e^{iθ} + θ/10|²: each amplitude written through the item of `iter_mut()`, of
/// a local `Vec` declared `Vec<C>` or zipped with data, `*a = *a * ph + ..` (the item's `*a` is
/// the struct).
#[differentiate]
fn phase_declared(amps: &[C], t: f64) -> f64 {
    let mut psi: Vec<C> = amps.to_vec();
    for a in psi.iter_mut() {
        *a =
            *a * C {
                re: t.cos(),
                im: t.sin(),
            } + C {
                re: 0.1 * t,
                im: 0.0,
            };
    }
    psi.iter()
        .enumerate()
        .map(|(k, a)| (k as f64 + 1.0) * a.norm_sqr())
        .sum()
}

#[differentiate]
fn phase_zipped(amps: &[C], t: f64) -> f64 {
    let weights = [1.0f64, 2.0];
    let mut psi = amps.to_vec();
    for (a, &w) in psi.iter_mut().zip(&weights) {
        *a =
            *a * C {
                re: t.cos(),
                im: t.sin(),
            } + C {
                re: 0.1 * t,
                im: 0.0,
            };
        *a = (*a).scale(w.sqrt());
    }
    psi.iter().map(|a| a.norm_sqr()).sum()
}

/// The same through a buffer lent `&mut`, then read by `iter()`.
#[differentiate(wrt(t))]
fn phase_in_buffer(psi: &mut [C], t: f64) -> f64 {
    for a in psi.iter_mut() {
        *a =
            *a * C {
                re: t.cos(),
                im: t.sin(),
            } + C {
                re: 0.1 * t,
                im: 0.0,
            };
    }
    psi.iter()
        .enumerate()
        .map(|(k, a)| (k as f64 + 1.0) * a.norm_sqr())
        .sum()
}

#[test]
fn phases_written_through_iter_mut() {
    let amps = vec![c(0.5, 0.1), c(0.3, -0.6)];
    let t: f64 = 0.8;
    // |a e^{iθ} + θ/10|² = |a|² + θ Re(a e^{iθ})/5 + θ²/100; ∂θ = Re(a e^{iθ})/5 +
    // θ Re(i a e^{iθ})/5 + θ/50, ∂Re a = 2 Re a + (θ/5) cos θ, ∂Im a = 2 Im a − (θ/5) sin θ.
    let (mut ea, mut et) = (vec![c(0.0, 0.0); 2], 0.0);
    for (k, a) in amps.iter().enumerate() {
        let w = k as f64 + 1.0;
        let rot = c(
            a.re * t.cos() - a.im * t.sin(),
            a.re * t.sin() + a.im * t.cos(),
        );
        et += w * (rot.re / 5.0 - t * rot.im / 5.0 + t / 50.0);
        ea[k] = c(
            w * (2.0 * a.re + t / 5.0 * t.cos()),
            w * (2.0 * a.im - t / 5.0 * t.sin()),
        );
    }
    let (v, (ga, gt)) = phase_declared_grad(&amps, t);
    close("value", v, phase_declared(&amps, t), TOL);
    close("∂θ", gt, et, TOL);
    for k in 0..2 {
        close2(
            &format!("∂a{k}"),
            (ga[k].re, ga[k].im),
            (ea[k].re, ea[k].im),
        );
    }
    // Zipped with the weights 1 and 2, the same gradient.
    let (_, (gz, gtz)) = phase_zipped_grad(&amps, t);
    close("zipped ∂θ", gtz, et, TOL);
    for k in 0..2 {
        close2(
            &format!("zipped ∂a{k}"),
            (gz[k].re, gz[k].im),
            (ea[k].re, ea[k].im),
        );
    }
    let mut buf = amps.clone();
    let (vb, gb) = phase_in_buffer_grad(&mut buf, t);
    close("buffer value", vb, v, TOL);
    close("buffer ∂θ", gb, et, TOL);
    fd("∂θ", |t| phase_declared(&amps, t), t, gt);
}

// ---------------------------------------------------------------------------------------------
// A Hamiltonian as Pauli strings, the basis states flipped by `j ^= 1 << q`
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Pauli {
    I,
    X,
    Z,
}

/// ⟨ψ|H|ψ⟩ for H = Σ c·P₀⊗P₁ and ψ = RY(θ₀) ⊗ RY(θ₁)|00⟩ (real amplitudes): each term's matrix
/// elements found by flipping the bits of a basis state in place, `j ^= 1 << q`, and counting
/// signs with `mask <<= 1`.
#[differentiate(wrt(theta))]
fn vqe_pauli_strings(theta: &[f64], terms: &[(f64, Vec<Pauli>)]) -> f64 {
    let (s0, c0) = (theta[0] / 2.0).sin_cos();
    let (s1, c1) = (theta[1] / 2.0).sin_cos();
    let psi = [c0 * c1, s0 * c1, c0 * s1, s0 * s1];
    let mut e = 0.0;
    for (coef, string) in terms {
        let mut val = 0.0;
        for i in 0..4 {
            let mut j = i;
            let mut sign = 1.0;
            let mut mask = 1;
            for p in string {
                match p {
                    Pauli::I => {}
                    Pauli::X => j ^= mask,
                    Pauli::Z => {
                        if i & mask != 0 {
                            sign = -sign;
                        }
                    }
                }
                mask <<= 1;
            }
            val += sign * psi[j] * psi[i];
        }
        e += coef * val;
    }
    e
}

#[test]
fn pauli_strings_by_flipped_bits() {
    let terms = vec![
        (0.5, vec![Pauli::Z, Pauli::Z]),
        (-0.3, vec![Pauli::X, Pauli::I]),
        (0.8, vec![Pauli::I, Pauli::X]),
        (0.2, vec![Pauli::X, Pauli::Z]),
    ];
    let th = [0.6, -1.1];
    // ⟨Z⟩ = cos θ and ⟨X⟩ = sin θ per qubit: E = 0.5 cos θ₀ cos θ₁ − 0.3 sin θ₀ + 0.8 sin θ₁
    // + 0.2 sin θ₀ cos θ₁.
    let (a, b) = (th[0], th[1]);
    let (v, g) = vqe_pauli_strings_grad(&th, &terms);
    close(
        "value",
        v,
        0.5 * a.cos() * b.cos() - 0.3 * a.sin() + 0.8 * b.sin() + 0.2 * a.sin() * b.cos(),
        TOL,
    );
    close_all(
        "gradient",
        &g,
        &[
            -0.5 * a.sin() * b.cos() - 0.3 * a.cos() + 0.2 * a.cos() * b.cos(),
            -0.5 * a.cos() * b.sin() + 0.8 * b.cos() - 0.2 * a.sin() * b.sin(),
        ],
    );
    fd_vec("Pauli strings", |p| vqe_pauli_strings(p, &terms), &th, &g);
}
