use autodiff::differentiate;
use num_traits::Float;

// A float trait of the user's: the macro reads the bounds as written and does not see that
// `Scalar` has `Float` as a supertrait. (With `T: Scalar + Float` the function differentiates.)
pub trait Scalar: Float + std::fmt::Debug {}
impl<T: Float + std::fmt::Debug> Scalar for T {}

#[differentiate]
fn f<T: Scalar>(x: T) -> T {
    x * x.sin()
}

// The same in a `where` clause, beside a trait of `std`.
#[differentiate]
fn g<T>(x: &[T]) -> T
where
    T: Copy + Scalar,
{
    x[0] * x[1]
}

fn main() {
    let _ = f_grad(1.0);
    let _ = g_grad(&[1.0, 2.0]);
}
