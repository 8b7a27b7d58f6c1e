use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    // The loop's value inside an expression, after a read of a variable the loop assigns:
    // binding the loop first would change what `y` reads.
    let z = y * loop {
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
