use autodiff::differentiate;

// A block that may return, as an operand: the statements that may leave go before the
// expression (a `let`'s block value that declares nothing is followed).
#[differentiate]
fn f(x: f64) -> f64 {
    let y = x * {
        if x > 1.0 {
            return x;
        }
        x * 2.0
    };
    y
}

// A block value that declares a variable.
#[differentiate]
fn g(x: f64) -> f64 {
    let y = {
        let t = x * 3.0;
        if t > 1.0 {
            return x;
        }
        t * 2.0
    };
    y
}

fn main() {
    let _ = f_grad(1.0);
    let _ = g_grad(1.0);
}
