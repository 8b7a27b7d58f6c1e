//! Elements of a local array changed in place the ways ndarray lets them be: through a
//! reference to one element, `let c = &mut m[[i, j]];`, and by `map_inplace` with a closure
//! that writes `*v`.

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2};

/// m_ij = (a_ij w)·w through `let c = &mut m[[i, j]]; *c += ..; *c *= w;`, f = Σ m_ij:
/// ∂f/∂a_ij = w², ∂f/∂w = 2 w Σ a_ij.
#[differentiate]
fn through_an_element_reference(a: &Array2<f64>, w: f64) -> f64 {
    let mut m = Array2::<f64>::zeros(a.raw_dim());
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            let c = &mut m[[i, j]];
            *c += a[[i, j]] * w;
            *c *= w;
        }
    }
    m.sum()
}

/// m = tanh(a w)·3 by `map_inplace` with an assignment and with a compound assignment,
/// f = Σ m_i: ∂f/∂a_i = 3 w (1 − tanh²(a_i w)), ∂f/∂w = 3 Σ a_i (1 − tanh²(a_i w)).
#[differentiate]
fn map_in_place(a: &Array1<f64>, w: f64) -> f64 {
    let mut m = a * w;
    m.map_inplace(|v| *v = v.tanh());
    m.map_inplace(|v: &mut f64| {
        let k = 1.5;
        *v *= k * 2.0;
    });
    m.sum()
}

#[test]
fn an_element_changed_through_a_reference_to_it() {
    let a = Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin());
    let w = 0.6;
    let (v, (ga, gw)) = through_an_element_reference_grad(&a, w);
    assert_eq!(v, through_an_element_reference(&a, w));
    for &g in ga.iter() {
        assert!((g - w * w).abs() < 1e-15);
    }
    assert!((gw - 2.0 * w * a.sum()).abs() < 1e-12);
    gradcheck(
        |a: &Array2<f64>| through_an_element_reference(a, w),
        &a,
        &ga,
    )
    .assert_ok();
}

#[test]
fn map_inplace_writing_the_element() {
    let a = Array1::from(vec![0.3, -0.5, 0.9, 1.2]);
    let w = 0.7;
    let (v, (ga, gw)) = map_in_place_grad(&a, w);
    assert_eq!(v, map_in_place(&a, w));
    let mut want_w = 0.0;
    for i in 0..4 {
        let t = (a[i] * w).tanh();
        assert!((ga[i] - 3.0 * w * (1.0 - t * t)).abs() < 1e-12);
        want_w += 3.0 * a[i] * (1.0 - t * t);
    }
    assert!((gw - want_w).abs() < 1e-12);
    gradcheck(|a: &Array1<f64>| map_in_place(a, w), &a, &ga).assert_ok();
}
