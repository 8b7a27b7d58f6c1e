use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    // The loop's value inside an expression: bound, assigned or a block's value it is followed.
    let z = 2.0 * loop {
        y = y * 2.0;
        if y > 10.0 {
            break y;
        }
    };
    z
}

fn main() {
    let _ = f_grad(1.0);
}
