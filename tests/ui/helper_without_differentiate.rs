use autodiff::differentiate;

// A helper declared in the body without `#[differentiate]`, called on differentiated values:
// the error names the attribute it needs (rustc would say "cannot find function
// `log_softmax_vjp`").
#[differentiate]
fn kl(p: &[f64], q: &[f64]) -> f64 {
    fn log_softmax(z: &[f64]) -> Vec<f64> {
        let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        z.iter().map(|v| v - lse).collect()
    }
    let (lp, lq) = (log_softmax(p), log_softmax(q));
    (0..lp.len()).map(|i| lp[i].exp() * (lp[i] - lq[i])).sum()
}

fn main() {
    let _ = kl_grad(&[0.1, 0.2], &[0.3, 0.1]);
}
