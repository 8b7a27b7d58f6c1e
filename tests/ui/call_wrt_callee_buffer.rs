// A helper declared with `wrt(x)` that scatters forces into a buffer its caller lends (`f: &mut
// [f64]`, left out of the list) has no gradient entry for the buffer, so a differentiated caller
// lending one cannot follow what the helper writes there: the error of a `wrt(..)` that leaves a
// parameter out, at the call (it was rustc's "cannot find `__ad_mutv_energy_forces_vjp`").
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn energy_forces(x: &[f64], tris: &[[usize; 3]], f: &mut [f64]) -> f64 {
    let mut e = 0.0;
    for tri in tris {
        let d = x[tri[1]] - x[tri[0]];
        e += 0.5 * d * d;
        f[tri[0]] += d;
        f[tri[1]] -= d;
    }
    e
}

#[differentiate(wrt(x))]
fn loss(x: &[f64], tris: &[[usize; 3]]) -> f64 {
    let mut f = vec![0.0; x.len()];
    let e = energy_forces(x, tris, &mut f);
    e + f.iter().map(|v| v * v).sum::<f64>()
}

fn main() {
    let _ = loss_grad(&[0.0, 1.0, 2.0], &[[0, 1, 2]]);
}
