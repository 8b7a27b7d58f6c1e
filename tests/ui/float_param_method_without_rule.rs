use autodiff::differentiate;
use num_traits::Float;

// A method of `num_traits::Float` without a derivative rule, on a type parameter bounded by
// it: the error lists the methods that have one (it said the call went through a trait of the
// user's, and to give `x` the type of a struct).
#[allow(deprecated)]
#[differentiate]
fn gap<T: Float>(x: T, y: T) -> T {
    x.abs_sub(y) * x
}

fn main() {
    let _ = gap_grad(2.0, 1.0);
}
