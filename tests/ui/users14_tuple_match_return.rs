// A `match` on a tuple written in place binds its differentiated elements by name; where an
// element is more than a variable and an arm leaves the function, the parts must be taken out
// first (the rewrite would put the `return` inside a block).
use autodiff::differentiate;

#[differentiate]
fn shrink(x: f64, g: f64) -> f64 {
    let d = match (x.sin(), g) {
        (v, _) if v < -0.9 => return 0.0,
        (v, w) => v * w,
    };
    d * 2.0
}

fn main() {
    let _ = shrink(0.3, 1.0);
}
