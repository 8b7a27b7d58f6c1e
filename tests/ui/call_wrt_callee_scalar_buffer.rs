// A helper declared with `wrt(x)` that adds into a float its caller lends (`acc: &mut f64`, left
// out of the list) has no gradient entry for it, so a differentiated caller lending one cannot
// follow what the helper adds there: the error of a `wrt(..)` that leaves a parameter out, at the
// call (it was rustc's "cannot find `__ad_mutv_accumulate_vjp`").
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn accumulate(x: &[f64], acc: &mut f64) -> f64 {
    *acc += x[0] * x[1];
    x[0] + *acc
}

#[differentiate]
fn loss(x: &[f64]) -> f64 {
    let mut s = 0.5;
    let e = accumulate(x, &mut s);
    e + s
}

fn main() {
    let _ = loss_grad(&[0.3, 0.7]);
}
