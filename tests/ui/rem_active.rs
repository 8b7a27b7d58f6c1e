use autodiff::differentiate;
use num_traits::Float;

// `%` of a float type parameter's values: the macro writes the remainder's rule for `f64` and
// `f32` only, so it says to write the remainder from `trunc`.
#[differentiate]
fn f<T: Float>(x: T) -> T {
    (x % (T::one() + T::one())) * x
}

fn main() {
    let _ = f_grad(1.5f64);
}
