use autodiff::differentiate;

// A global setting kept in a `static mut` and read in an `unsafe` block: the error says to
// pass the value in as a parameter or make it a `const`.
static mut SCALE: f64 = 2.0;

#[differentiate]
fn scaled(x: f64) -> f64 {
    x * unsafe { SCALE }
}

fn main() {}
