//! The rules of exact mode at kinks (`#[differentiate(kinks = exact)]`, see [`crate::kinks`])
//! of the smooth functions here: convolutions, average pooling and the reshapes are linear or
//! bilinear, so the direction has no kink to decide. Max pooling's rule, which decides ties, is
//! [`max_pool2d_vjp_along`](super::max_pool2d_vjp_along).

use super::*;
use crate::kinks::smooth_along;

smooth_along! {
    conv2d_vjp_along = conv2d_jvp + conv2d_vjp of "conv2d";
    <S1, S2, T> (x: &ArrayBase<S1, Ix2>, w: &ArrayBase<S2, Ix2>)
    (dx: &Array2<T>, dw: &Array2<T>) -> Array2<T>,
    |Array2<T>| -> (Array2<T>, Array2<T>), use<S1, S2, T>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, T: NdReal;

    conv1d_vjp_along = conv1d_jvp + conv1d_vjp of "conv1d";
    <S1, S2, T> (x: &ArrayBase<S1, Ix1>, w: &ArrayBase<S2, Ix1>)
    (dx: &Array1<T>, dw: &Array1<T>) -> Array1<T>,
    |Array1<T>| -> (Array1<T>, Array1<T>), use<S1, S2, T>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, T: NdReal;

    conv2d_nchw_vjp_along = conv2d_nchw_jvp + conv2d_nchw_vjp of "conv2d_nchw";
    <S1, S2, S3, T>
    (x: &ArrayBase<S1, Ix4>, w: &ArrayBase<S2, Ix4>, b: &ArrayBase<S3, Ix1>, stride: usize,
     padding: usize)
    (dx: &Array4<T>, dw: &Array4<T>, db: &Array1<T>) -> Array4<T>,
    |Array4<T>| -> (Array4<T>, Array4<T>, Array1<T>), use<S1, S2, S3, T>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, S3: Data<Elem = T>, T: NdReal;

    conv2d_nchw_no_bias_vjp_along = conv2d_nchw_no_bias_jvp + conv2d_nchw_no_bias_vjp
        of "conv2d_nchw_no_bias";
    <S1, S2, T>
    (x: &ArrayBase<S1, Ix4>, w: &ArrayBase<S2, Ix4>, stride: usize, padding: usize)
    (dx: &Array4<T>, dw: &Array4<T>) -> Array4<T>,
    |Array4<T>| -> (Array4<T>, Array4<T>), use<S1, S2, T>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, T: NdReal;

    flatten_vjp_along = flatten_jvp + flatten_vjp of "flatten";
    <S, T> (x: &ArrayBase<S, Ix4>) (dx: &Array4<T>) -> Array2<T>,
    |Array2<T>| -> Array4<T>, use<S, T>
    where S: Data<Elem = T>, T: NdReal;

    unflatten_vjp_along = unflatten_jvp + unflatten_vjp of "unflatten";
    <S, T> (x: &ArrayBase<S, Ix2>, channels: usize, height: usize, width: usize)
    (dx: &Array2<T>) -> Array4<T>,
    |Array4<T>| -> Array2<T>, use<S, T>
    where S: Data<Elem = T>, T: NdReal;

    avg_pool2d_vjp_along = avg_pool2d_jvp + avg_pool2d_vjp of "avg_pool2d";
    <S, T> (x: &ArrayBase<S, Ix4>, size: usize, stride: usize)
    (dx: &Array4<T>) -> Array4<T>,
    |Array4<T>| -> Array4<T>, use<S, T>
    where S: Data<Elem = T>, T: NdReal;
}
