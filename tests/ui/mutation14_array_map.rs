use autodiff::differentiate;

// `[f64; N]::map` of differentiated values was taken for ndarray's `map`, and the generated
// code was rustc's "`[f64; 3]` is not an ndarray array" with errors about gradients of lent
// arrays: it is an error that says how to build the array instead.
#[differentiate]
fn f(x: f64, y: f64) -> f64 {
    let a = [x, y, x * y];
    let b = a.map(|v| v * v);
    b[0] + b[1] + b[2]
}

// The same on an array parameter.
#[differentiate]
fn g(a: [f64; 3]) -> f64 {
    let b = a.map(|v| v.sin());
    b[0] * b[2]
}

fn main() {}
