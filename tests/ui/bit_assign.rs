use autodiff::differentiate;

// A compound bit assignment of integers is `x = x | y`, as Rust computes it (`flags |= 1`,
// `j ^= 1 << q`); one whose value changes a variable would read the place twice: an error that
// says to compute the value first.
#[differentiate]
fn f(x: f64, mut flags: u32) -> f64 {
    let mut k = 0;
    flags |= 1;
    flags |= {
        k += 1;
        k
    };
    x * flags as f64
}

fn main() {
    let _ = f_grad(1.0, 2);
}
