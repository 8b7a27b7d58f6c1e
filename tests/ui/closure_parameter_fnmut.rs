use autodiff::differentiate;

// A weight by position that counts its calls: an `impl FnMut` parameter, which the generated
// items would call through a shared borrow. `&mut dyn FnMut(..)` is followed, and so is
// `impl Fn(..)` (`tests/user_programs58.rs`).
#[differentiate]
fn weighted(x: &[f64], mut w: impl FnMut(usize) -> f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w(i) * x[i];
    }
    s
}

// A type parameter bounded by `FnMut` taken by value, also left out with `wrt(..)` (it was
// rustc's "cannot borrow `*w` as mutable" in the generated code); `w: &mut F` is followed.
#[differentiate(wrt(x))]
fn weighted2<F: FnMut(usize) -> f64>(x: &[f64], mut w: F) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w(i) * x[i];
    }
    s
}

// A boxed `FnMut` taken by value, the same.
#[differentiate]
fn weighted3(x: &[f64], mut w: Box<dyn FnMut(usize) -> f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w(i) * x[i];
    }
    s
}

fn main() {
    let _ = weighted_grad(&[1.0], |i| i as f64);
    let _ = weighted2_grad(&[1.0], |i| i as f64);
    let _ = weighted3_grad(&[1.0], Box::new(|i| i as f64));
}
