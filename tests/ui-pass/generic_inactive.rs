//! A type parameter without a float bound is fine in a parameter left out of the
//! differentiation; float type parameters and their callers.
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn scaled<T: Into<f64>>(x: f64, scale: T) -> f64 {
    x * scale.into()
}

#[differentiate]
fn cube<T>(x: T) -> T
where
    T: num_traits::Float,
{
    x * x * x
}

fn slope<T: num_traits::Float + autodiff::Real>(x: T) -> T {
    cube_grad(x).1
}

fn main() {
    assert_eq!(scaled_grad(1.0, 2.0f32).1, 2.0);
    assert_eq!(slope(2.0f32), 12.0);
    assert_eq!(cube_grad::<f64>(1.0).1, 3.0);
}
