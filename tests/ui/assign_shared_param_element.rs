use autodiff::differentiate;

// Writing into a parameter taken by shared reference, in a loop (the variable the loop carries
// is not the parameter's own value there) and outside one: an error at the write that says to
// work on a copy, rather than rustc's errors about the generated code's own bindings.
#[differentiate]
fn centred_energy(x: &[f64]) -> f64 {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let mut e = 0.0;
    for i in 0..x.len() {
        x[i] -= mean;
        e += x[i] * x[i];
    }
    e
}

#[differentiate]
fn clipped(x: &[f64]) -> f64 {
    x[0] = x[0].min(1.0);
    x[0] + x[1]
}

fn main() {}
