use autodiff::differentiate;

// A block that may return, as an operand: bind it to a variable first (a block statement and
// a `let`'s block value are followed).
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

fn main() {
    let _ = f_grad(1.0);
}
