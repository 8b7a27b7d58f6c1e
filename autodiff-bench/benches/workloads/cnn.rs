//! Workload 4b: one training-step gradient of a small CNN on 8×8 images (the digits example's
//! shape): conv 1→8 (3×3, padding 1) → relu → 2×2 max pool → conv 8→16 (3×3, padding 1) → relu
//! → flatten → dense 256→10 → softmax cross-entropy, batch 64.
//!
//! The hand-written gradient chains the same library pullbacks by hand (what a person writes
//! with a layer library), so ours/hand measures only what the generated code adds.

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::{Differentiable, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4};

use super::alloc::heap_kept_by;
use super::{Case, Method, RTOL_EXACT, Rng, Stored, assert_close, runner};

const BATCH: usize = 64;

#[derive(Clone, Differentiable)]
pub struct Cnn {
    k1: Array4<f64>,
    c1: Array1<f64>,
    k2: Array4<f64>,
    c2: Array1<f64>,
    w: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate(wrt(p))]
pub fn cnn_loss(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> f64 {
    let a1 = nn::relu(&conv::conv2d_nchw(x, &p.k1, &p.c1, 1, 1));
    let p1 = conv::max_pool2d(&a1, 2, 2);
    let a2 = nn::relu(&conv::conv2d_nchw(&p1, &p.k2, &p.c2, 1, 1));
    let h = conv::flatten(&a2);
    nn::cross_entropy(&(h.dot(&p.w) + &p.b), labels)
}

/// The same chain of library pullbacks, written out by hand.
pub fn cnn_hand(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> (f64, Cnn) {
    let (z1, pb_z1) = conv::conv2d_nchw_vjp(x, &p.k1, &p.c1, 1, 1);
    let (a1, pb_a1) = nn::relu_vjp(&z1);
    let (p1, pb_p1) = conv::max_pool2d_vjp(&a1, 2, 2);
    let (z2, pb_z2) = conv::conv2d_nchw_vjp(&p1, &p.k2, &p.c2, 1, 1);
    let (a2, pb_a2) = nn::relu_vjp(&z2);
    let (h, pb_h) = conv::flatten_vjp(&a2);
    let logits = h.dot(&p.w) + &p.b;
    let (loss, pb_loss) = nn::cross_entropy_vjp(&logits, labels);
    let dlogits = pb_loss(1.0);
    let dw = h.t().dot(&dlogits);
    let db = dlogits.sum_axis(ndarray::Axis(0));
    let dh = dlogits.dot(&p.w.t());
    let (dp1, dk2, dc2) = pb_z2(pb_a2(pb_h(dh)));
    let (_, dk1, dc1) = pb_z1(pb_a1(pb_p1(dp1)));
    (
        loss,
        Cnn {
            k1: dk1,
            c1: dc1,
            k2: dk2,
            c2: dc2,
            w: dw,
            b: db,
        },
    )
}

fn tensor4(rng: &mut Rng, shape: (usize, usize, usize, usize), scale: f64) -> Array4<f64> {
    Array4::from_shape_fn(shape, |_| scale * (2.0 * rng.uniform() - 1.0))
}

fn flat(p: &Cnn) -> Vec<f64> {
    let mut out = Vec::new();
    p.visit_leaves(&mut |leaf| out.extend_from_slice(leaf));
    out
}

pub fn cases() -> Vec<Case> {
    let name = "CNN step 8×8, conv8-pool-conv16-dense, batch 64";
    let mut rng = Rng::new(23);
    let p = Cnn {
        k1: tensor4(&mut rng, (8, 1, 3, 3), (6.0f64 / 9.0).sqrt()),
        c1: Array1::from_elem(8, 0.01),
        k2: tensor4(&mut rng, (16, 8, 3, 3), (6.0f64 / 72.0).sqrt()),
        c2: Array1::from_elem(16, 0.01),
        w: Array2::from_shape_fn((256, 10), |_| {
            (6.0f64 / 256.0).sqrt() * (2.0 * rng.uniform() - 1.0)
        }),
        b: Array1::zeros(10),
    };
    let x = tensor4(&mut rng, (BATCH, 1, 8, 8), 1.0);
    let labels: Vec<usize> = (0..BATCH).map(|i| (i * 3 + 1) % 10).collect();

    let (yh, gh) = cnn_hand(&p, &x, &labels);
    let (yo, go) = cnn_loss_grad(&p, &x, &labels);
    let yf = cnn_loss(&p, &x, &labels);
    assert_close(name, "value (ours)", &[yo], &[yh], RTOL_EXACT);
    assert_close(name, "value (function)", &[yf], &[yh], RTOL_EXACT);
    assert_close(name, "ours", &flat(&go), &flat(&gh), RTOL_EXACT);

    let (p1, x1, l1) = (p.clone(), x.clone(), labels.clone());
    let (p2, x2, l2) = (p.clone(), x.clone(), labels.clone());
    let (p3, x3, l3) = (p.clone(), x.clone(), labels.clone());
    vec![Case {
        name: name.into(),
        params: p.num_scalars(),
        ops: None,
        fd_scale: 1.0,
        runners: vec![
            (
                Method::Function,
                runner(move || cnn_loss(black_box(&p1), black_box(&x1), black_box(&l1))),
            ),
            (
                Method::Ours,
                runner(move || cnn_loss_grad(black_box(&p2), black_box(&x2), black_box(&l2))),
            ),
            (
                Method::Hand,
                runner(move || cnn_hand(black_box(&p3), black_box(&x3), black_box(&l3))),
            ),
        ],
        stored: Some(Box::new(move || {
            let ((_, pb), heap) = heap_kept_by(|| cnn_loss_vjp(&p, &x, &labels));
            Stored {
                closure: size_of_val(&pb),
                heap,
            }
        })),
    }]
}
