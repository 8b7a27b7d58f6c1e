use autodiff::differentiate;

// A closure called with `&mut` is expanded as code that takes the variable's value and gives
// back its new value, which needs the parameter's name; a pattern there (`&mut v`) is an error
// that says to bind it to a name.
#[differentiate]
fn f(x: f64) -> f64 {
    let twice = |&mut v: &mut f64| v * 2.0;
    let mut a = x;
    twice(&mut a) + a
}

fn main() {
    let _ = f_grad(1.0);
}
