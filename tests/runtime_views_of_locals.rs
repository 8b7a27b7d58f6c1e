//! `nn` and `conv` functions given a view of a local array (`nn::softmax(&z.row(i))`, gates
//! sliced out of one product, `max_pool2d(&h.view(), ..)`). The runtime's pullback type names
//! the view's storage, so `_vjp` could not return a pullback that holds it: rustc's E0515 or
//! E0505 inside the generated code. The generated code now lends these functions an owned
//! copy of such a view. Checked against central differences, `_vjp` against `_grad`.

use autodiff::check::gradcheck;
use autodiff::{conv, differentiate, nn};
use ndarray::{Array2, Array4, s};

#[differentiate]
fn first_row_softmax(x: &Array2<f64>) -> f64 {
    let z = x * 2.0;
    nn::softmax(&z.row(0))[1]
}

/// LSTM-style gates sliced out of one product.
#[differentiate(wrt(w))]
fn gates(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let g = x.dot(w);
    let i = nn::sigmoid(&g.slice(s![.., 0..2]));
    let f = nn::sigmoid(&g.slice(s![.., 2..4]));
    (&i * &f).sum()
}

/// A row-wise softmax written into a buffer, in a loop.
#[differentiate]
fn rowwise_log_probs(x: &Array2<f64>) -> f64 {
    let z = x * 2.0;
    let mut probs = Array2::<f64>::zeros((3, 4));
    for i in 0..3 {
        probs.row_mut(i).assign(&nn::softmax(&z.row(i)));
    }
    probs.mapv(f64::ln).sum()
}

#[differentiate]
fn pooled(x: &Array4<f64>) -> f64 {
    let h = x * 2.0;
    conv::max_pool2d(&h.view(), 2, 2).mapv(|v| v * v).sum()
}

fn data(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * cols + j) as f64 * 0.731 + seed).sin()
    })
}

#[test]
fn views_of_local_arrays_lent_to_the_runtime() {
    let x = data(3, 4, 0.3);
    let (v, g) = first_row_softmax_grad(&x);
    assert_eq!(v, first_row_softmax(&x));
    gradcheck(|x: &Array2<f64>| first_row_softmax(x), &x, &g).assert_ok();
    let (v2, pb) = first_row_softmax_vjp(&x);
    assert_eq!((v2, pb(1.0)), (v, g));

    let (w, xs) = (data(3, 4, 1.1), data(5, 3, 2.0));
    let (v, g) = gates_grad(&w, &xs);
    assert_eq!(v, gates(&w, &xs));
    gradcheck(|w: &Array2<f64>| gates(w, &xs), &w, &g).assert_ok();

    let (v, g) = rowwise_log_probs_grad(&x);
    assert_eq!(v, rowwise_log_probs(&x));
    gradcheck(|x: &Array2<f64>| rowwise_log_probs(x), &x, &g).assert_ok();
    let (_, pb) = rowwise_log_probs_vjp(&x);
    assert_eq!(pb(1.0), g);

    // Distinct values, so no pooling window has a tie.
    let x4 = Array4::from_shape_fn((1, 2, 4, 4), |(_, c, i, j)| {
        ((c * 16 + i * 4 + j) as f64 * 1.37).sin() + 0.01 * (i * 4 + j) as f64
    });
    let (v, g) = pooled_grad(&x4);
    assert_eq!(v, pooled(&x4));
    gradcheck(|x: &Array4<f64>| pooled(x), &x4, &g).assert_ok();
}
