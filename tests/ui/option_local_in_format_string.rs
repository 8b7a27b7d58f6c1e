use autodiff::differentiate;

// A local `Option<f64>` named inside a format string, `println!("{prev:?}")`, is named by the
// macro as `println!("{:?}", prev)` is: the rewrite of local `Option`s leaves it as written, and
// the error is at the macro and says what to write (the name inside the string was no token of
// the macro's: the `Option` was rewritten away under it, and rustc said "cannot find value
// `prev`" in the generated code).
#[differentiate]
fn jumps(xs: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut total = 0.0;
    for &x in xs {
        if let Some(p) = prev {
            total += (x - p) * (x - p);
        }
        println!("{prev:?} {total:.3}");
        prev = Some(x);
    }
    total
}

fn main() {}
