// A macro of unknown effect that reads a differentiated value may store it anywhere.
use autodiff::differentiate;

macro_rules! stash {
    ($v:ident, $x:expr) => {
        $v[0] = $x
    };
}

#[differentiate]
fn f(x: f64) -> f64 {
    let mut h = [0.0; 2];
    stash!(h, x * 2.0);
    h[0] + x
}

fn main() {
    let _ = f_grad(1.0);
}
