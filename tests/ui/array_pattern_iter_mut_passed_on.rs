// An array pattern over items taken by mutable reference, `for [x, v] in s.iter_mut()`, is
// followed where the body reads each name as `*x` or calls a method on it; a name passed on
// (`scale(v)`, which may write through it) is not such a read: the error says to name the item
// and write its elements by position.
use autodiff::differentiate;

fn scale(e: &mut f64) {
    *e *= 2.0;
}

#[differentiate]
fn g(s0: &[[f64; 2]], k: f64) -> f64 {
    let mut s = s0.to_vec();
    for [x, v] in s.iter_mut() {
        *x += k * *v;
        scale(v);
    }
    s[0][0] + s[0][1]
}

fn main() {
    let _ = g_grad(&[[1.0, 2.0]], 0.5);
}
