use autodiff::{Differentiable, differentiate};
use num_traits::Float;

#[derive(Clone, Differentiable)]
pub struct Linear<T> {
    pub w: Vec<T>,
    pub b: T,
}

#[differentiate]
impl<T: Float> Linear<T> {
    fn predict(&self, x: &[T]) -> T {
        self.w.iter().zip(x).fold(self.b, |a, (&w, &v)| a + w * v)
    }
    fn n_params(&self) -> usize {
        self.w.len() + 1
    }
}

// A count returned by a method of the differentiated struct, converted by `T::from(..)` without
// its type: the macro cannot tell it from a float, and the error says to bind it as a `usize`
// first; the same for a conversion of a float, which is not followed.
#[differentiate(wrt(m))]
fn per_param<T: Float>(m: &Linear<T>, x: &[T]) -> T {
    m.predict(x) / T::from(m.n_params()).unwrap()
}

#[differentiate]
fn converted<T: Float>(y: T) -> T {
    let z: T = T::from(y * y).unwrap();
    z
}

fn main() {
    let m = Linear { w: vec![1.0], b: 0.0 };
    let _ = per_param_grad(&m, &[1.0]);
    let _ = converted_grad(1.0);
}
