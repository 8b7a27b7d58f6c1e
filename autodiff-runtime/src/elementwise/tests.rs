//! The rules against their definitions on small arrays: values, gradients (`ȳ ⊙ ∂f/∂x`, sums
//! for captures), tangents and second-order terms, and the shape checks.

use ndarray::{Array2, array};

use super::*;

/// y = x·w + sin(x) on each element, with a captured w: ∂y/∂x = w + cos x, ∂y/∂w = x.
fn affine_sin(w: f64) -> impl Fn([f64; 1]) -> (f64, [f64; 1], (f64,)) {
    move |[x]| (x * w + x.sin(), [w + x.cos()], (x,))
}

#[test]
fn vjp_gradients_and_capture_sums() {
    let x = array![[0.5, -1.0], [2.0, 0.0]];
    let w = 3.0;
    let (y, pb) = map_vjp([elems(&x)], affine_sin(w));
    assert_eq!(y, x.mapv(|v| v * w + v.sin()));
    let g = array![[1.0, 2.0], [-1.0, 0.5]];
    let ([dx], (dw,)) = pb.apply(g.clone());
    assert_eq!(dx, &g * &x.mapv(|v| w + v.cos()));
    assert_eq!(dw, (&g * &x).sum());
}

#[test]
fn layouts_are_visited_in_logical_order() {
    // A transposed view and a standard array, zipped: elementwise products in logical order.
    let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let b: Array2<f64> = array![[1.0, 10.0], [100.0, 1000.0], [1e4, 1e5]];
    let bt = b.t();
    let (y, pb) = map_vjp([elems(&a), bt], |[x, z]: [f64; 2]| (x * z, [z, x], ()));
    assert_eq!(y, &a * &bt);
    // A cotangent in column-major layout.
    let g = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]].reversed_axes();
    let ([da, db], ()) = pb.apply(g.to_owned());
    assert_eq!(da, &g * &bt);
    assert_eq!(db, &g * &a);
}

#[test]
fn jvp_is_the_derivative_along_the_tangents() {
    let x = array![0.5, -1.0, 2.0];
    let dx = array![1.0, 0.0, -2.0];
    let (y, dy) = map_jvp([elems(&x)], [elems(&dx)], |[v]: [f64; 1], [d]: [f64; 1]| {
        (v.exp(), v.exp() * d)
    });
    assert_eq!(y, x.mapv(f64::exp));
    assert_eq!(dy, x.mapv(f64::exp) * &dx);
}

#[test]
fn second_order_pullback_adds_the_hessian_terms() {
    // y = x²·w per element, direction (ẋ, ẇ): ∂y/∂x = 2xw, ∂y/∂w = x², H·v = (2wẋ + 2xẇ, 2xẋ).
    let x = array![1.0, -2.0];
    let dx = array![0.5, 1.0];
    let (w, dw) = (3.0, -1.0);
    let (y, dy, pb) = map_vjp_jvp([elems(&x)], [elems(&dx)], |[v]: [f64; 1], [d]: [f64; 1]| {
        (
            v * v * w,
            2.0 * v * w * d + v * v * dw,
            [2.0 * v * w],
            (v * v,),
            [2.0 * w * d + 2.0 * v * dw],
            (2.0 * v * d,),
        )
    });
    assert_eq!(y, array![3.0, 12.0]);
    assert_eq!(
        dy,
        array![2.0 * 3.0 * 0.5 - 1.0, 2.0 * -2.0 * 3.0 * 1.0 - 4.0]
    );
    let (g, g_dot) = (array![1.0, 2.0], array![0.0, 1.0]);
    let (([gx], (gw,)), ([hx], (hw,))) = pb.apply(g.clone(), g_dot.clone());
    let d1 = x.mapv(|v| 2.0 * v * w);
    assert_eq!(gx, &g * &d1);
    assert_eq!(gw, (&g * &x * &x).sum());
    let h1 = dx.mapv(|d| 2.0 * w * d) + x.mapv(|v| 2.0 * v * dw);
    assert_eq!(hx, &g_dot * &d1 + &g * &h1);
    assert_eq!(hw, (&g_dot * &x * &x).sum() + (&g * &x * &dx * 2.0).sum());
}

#[test]
#[should_panic(expected = "map_vjp: the arrays have shapes [2] and [3]")]
fn arrays_of_different_shapes_panic() {
    let (a, b) = (array![1.0, 2.0], array![1.0, 2.0, 3.0]);
    let _ = map_vjp([elems(&a), elems(&b)], |[x, z]: [f64; 2]| {
        (x * z, [z, x], ())
    });
}

#[test]
#[should_panic(expected = "map_vjp: the cotangent has shape [3]")]
fn cotangent_of_another_shape_panics() {
    let a = array![1.0, 2.0];
    let (_, pb) = map_vjp([elems(&a)], |[x]: [f64; 1]| (x, [1.0], ()));
    let _ = pb.apply(array![1.0, 2.0, 3.0]);
}

#[test]
fn captured_values_are_copied_or_borrowed() {
    let x = 2.5_f64;
    let v = vec![1.0, 2.0];
    let c = &x;
    let copied: f64 = (&Captured(c)).get();
    let borrowed: &Vec<f64> = (&Captured(&v)).get();
    assert_eq!(copied, 2.5);
    assert!(core::ptr::eq(borrowed, &v));
}
