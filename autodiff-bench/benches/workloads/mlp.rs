//! Workload 4: one training-step gradient of the lecture's deep network, batch 64, layers
//! 64 → 128 → 128 → 128 → 128 → 10, ReLU hidden layers with biases, softmax cross-entropy.
//!
//! The hand-written gradient is textbook backpropagation: `dZ₅ = (softmax(Z₅) − Y)/N`, then per
//! layer `dW = Hᵀ·dZ`, `db = Σ_rows dZ`, `dH = dZ·Wᵀ`, `dZ = dH ⊙ [Z > 0]`; two matrix products per
//! layer, as ours. There is no tape or finite-difference column: a scalar tape over 50 k
//! parameters and matrix products would measure the tape's allocator, and finite differences
//! would take 100 k loss evaluations.
//!
//! `#[differentiate(wrt(p), hessian)]` also generates `mlp_loss_hvp`, timed along one random
//! direction after a check against central differences of the hand-written gradient. Forward
//! over reverse differentiates every product of the gradient by the product rule: the 14
//! products of `_grad` (5 forward, 9 backward) gain 26 tangent products, 40 in all against the
//! function's 5.

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::check::random_direction;
use autodiff::{Differentiable, differentiate, from_flat, nn, to_flat};
use ndarray::{Array1, Array2, Axis};

use super::alloc::heap_kept_by;
use super::{Case, Method, RTOL_EXACT, Rng, Stored, assert_close, check_hvp, runner};

const BATCH: usize = 64;
const SIZES: [usize; 6] = [64, 128, 128, 128, 128, 10];

#[derive(Clone, Differentiable)]
pub struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
    w3: Array2<f64>,
    b3: Array1<f64>,
    w4: Array2<f64>,
    b4: Array1<f64>,
    v: Array2<f64>,
    c: Array1<f64>,
}

#[differentiate(wrt(p), hessian)]
pub fn mlp_loss(p: &Mlp, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let h1 = nn::relu(&(x.dot(&p.w1) + &p.b1));
    let h2 = nn::relu(&(h1.dot(&p.w2) + &p.b2));
    let h3 = nn::relu(&(h2.dot(&p.w3) + &p.b3));
    let h4 = nn::relu(&(h3.dot(&p.w4) + &p.b4));
    nn::cross_entropy(&(h4.dot(&p.v) + &p.c), labels)
}

/// [`mlp_loss`] in exact mode at kinks: every ReLU decides its piece along the seeded direction
/// (`nn::relu_vjp_along`), so the forward pass also carries the direction's tangent through every
/// layer — one more matrix product per layer.
#[differentiate(wrt(p), kinks = exact)]
pub fn mlp_loss_exact(p: &Mlp, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let h1 = nn::relu(&(x.dot(&p.w1) + &p.b1));
    let h2 = nn::relu(&(h1.dot(&p.w2) + &p.b2));
    let h3 = nn::relu(&(h2.dot(&p.w3) + &p.b3));
    let h4 = nn::relu(&(h3.dot(&p.w4) + &p.b4));
    nn::cross_entropy(&(h4.dot(&p.v) + &p.c), labels)
}

fn relu_mask(z: &Array2<f64>, dh: Array2<f64>) -> Array2<f64> {
    let mut dz = dh;
    dz.zip_mut_with(z, |d, &z| {
        if z <= 0.0 {
            *d = 0.0
        }
    });
    dz
}

/// Backpropagation written by hand: the value and the gradient.
pub fn mlp_hand(p: &Mlp, x: &Array2<f64>, labels: &[usize]) -> (f64, Mlp) {
    let z1 = x.dot(&p.w1) + &p.b1;
    let h1 = z1.mapv(|v| v.max(0.0));
    let z2 = h1.dot(&p.w2) + &p.b2;
    let h2 = z2.mapv(|v| v.max(0.0));
    let z3 = h2.dot(&p.w3) + &p.b3;
    let h3 = z3.mapv(|v| v.max(0.0));
    let z4 = h3.dot(&p.w4) + &p.b4;
    let h4 = z4.mapv(|v| v.max(0.0));
    let z5 = h4.dot(&p.v) + &p.c;
    // Softmax cross-entropy, row by row, stable.
    let n = x.nrows() as f64;
    let mut dz5 = z5.clone();
    let mut loss = 0.0;
    for (mut row, &label) in dz5.rows_mut().into_iter().zip(labels) {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        loss += s.ln() - (row[label].ln());
        row.mapv_inplace(|v| v / s / n);
        row[label] -= 1.0 / n;
    }
    let dv = h4.t().dot(&dz5);
    let dc = dz5.sum_axis(Axis(0));
    let dz4 = relu_mask(&z4, dz5.dot(&p.v.t()));
    let dw4 = h3.t().dot(&dz4);
    let db4 = dz4.sum_axis(Axis(0));
    let dz3 = relu_mask(&z3, dz4.dot(&p.w4.t()));
    let dw3 = h2.t().dot(&dz3);
    let db3 = dz3.sum_axis(Axis(0));
    let dz2 = relu_mask(&z2, dz3.dot(&p.w3.t()));
    let dw2 = h1.t().dot(&dz2);
    let db2 = dz2.sum_axis(Axis(0));
    let dz1 = relu_mask(&z1, dz2.dot(&p.w2.t()));
    let dw1 = x.t().dot(&dz1);
    let db1 = dz1.sum_axis(Axis(0));
    let grad = Mlp {
        w1: dw1,
        b1: db1,
        w2: dw2,
        b2: db2,
        w3: dw3,
        b3: db3,
        w4: dw4,
        b4: db4,
        v: dv,
        c: dc,
    };
    (loss / n, grad)
}

fn matrix(rng: &mut Rng, rows: usize, cols: usize, scale: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| scale * (2.0 * rng.uniform() - 1.0))
}

/// The parameters as one flat vector, in `visit_leaves` order.
pub fn flat(p: &Mlp) -> Vec<f64> {
    to_flat(p)
}

/// The network's parameters (He-scaled uniform weights, seeded) and a batch of `batch` random
/// inputs with their labels.
pub fn problem(batch: usize) -> (Mlp, Array2<f64>, Vec<usize>) {
    let mut rng = Rng::new(17);
    let he = |fan_in: usize| (6.0 / fan_in as f64).sqrt();
    let s = SIZES;
    let p = Mlp {
        w1: matrix(&mut rng, s[0], s[1], he(s[0])),
        b1: Array1::from_elem(s[1], 0.01),
        w2: matrix(&mut rng, s[1], s[2], he(s[1])),
        b2: Array1::from_elem(s[2], 0.01),
        w3: matrix(&mut rng, s[2], s[3], he(s[2])),
        b3: Array1::from_elem(s[3], 0.01),
        w4: matrix(&mut rng, s[3], s[4], he(s[3])),
        b4: Array1::from_elem(s[4], 0.01),
        v: matrix(&mut rng, s[4], s[5], he(s[4])),
        c: Array1::zeros(s[5]),
    };
    let x = matrix(&mut rng, batch, s[0], 1.0);
    let labels: Vec<usize> = (0..batch).map(|i| (i * 7 + 3) % s[5]).collect();
    (p, x, labels)
}

pub fn cases() -> Vec<Case> {
    vec![case(BATCH)]
}

/// The training step at batch size `batch`, its gradients checked.
pub fn case(batch: usize) -> Case {
    let name = &format!("MLP step 64→128⁴→10, batch {batch}");
    let (p, x, labels) = problem(batch);

    let (yh, gh) = mlp_hand(&p, &x, &labels);
    let (yo, go) = mlp_loss_grad(&p, &x, &labels);
    let yf = mlp_loss(&p, &x, &labels);
    assert_close(name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(name, "value (function)", &[yf], &[yh], RTOL_EXACT);
    assert_close(name, "ours", &flat(&go), &flat(&gh), RTOL_EXACT);
    let (ye, ge) = mlp_loss_exact_grad(&p, &x, &labels);
    assert_close(name, "value (exact at kinks)", &[ye], &[yh], RTOL_EXACT);
    assert_close(name, "exact at kinks", &flat(&ge), &flat(&gh), RTOL_EXACT);
    // The Hessian-vector product along a random direction: its value and gradient are the
    // hand-written ones, H·v the central difference of the hand-written gradient along v.
    let v = random_direction(&p, 1);
    let (ys, gs, hv) = mlp_loss_hvp(&p, &x, &labels, &v);
    assert_close(name, "value (hvp)", &[ys], &[yh], RTOL_EXACT);
    assert_close(name, "gradient (hvp)", &flat(&gs), &flat(&gh), RTOL_EXACT);
    check_hvp(
        name,
        |q| flat(&mlp_hand(&from_flat(&p, q), &x, &labels).1),
        &flat(&p),
        &flat(&v),
        &flat(&hv),
    );

    let (p1, x1, l1) = (p.clone(), x.clone(), labels.clone());
    let (p2, x2, l2) = (p.clone(), x.clone(), labels.clone());
    let (p3, x3, l3) = (p.clone(), x.clone(), labels.clone());
    let (p4, x4, l4) = (p.clone(), x.clone(), labels.clone());
    let (p5, x5, l5) = (p.clone(), x.clone(), labels.clone());
    Case {
        name: name.into(),
        params: p.num_scalars(),
        ops: None,
        fd_scale: 1.0,
        runners: vec![
            (
                Method::Function,
                runner(move || mlp_loss(black_box(&p1), black_box(&x1), black_box(&l1))),
            ),
            (
                Method::Ours,
                runner(move || mlp_loss_grad(black_box(&p2), black_box(&x2), black_box(&l2))),
            ),
            (
                Method::Hand,
                runner(move || mlp_hand(black_box(&p3), black_box(&x3), black_box(&l3))),
            ),
            (
                Method::Hvp,
                runner(move || mlp_loss_hvp(black_box(&p4), black_box(&x4), black_box(&l4), &v)),
            ),
            (
                Method::Exact,
                runner(move || mlp_loss_exact_grad(black_box(&p5), black_box(&x5), black_box(&l5))),
            ),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| mlp_loss_vjp(&p, &x, &labels));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }
}
