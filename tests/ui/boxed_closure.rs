use autodiff::differentiate;

// A closure put in a `Box<dyn Fn>` (as a Python port keeps an activation in a variable):
// the error says to bind the closure itself and call it, which is followed, rather than to
// give `Box::new` a `#[differentiate]`.
#[differentiate]
fn layer(w: f64, x: f64) -> f64 {
    let act: Box<dyn Fn(f64) -> f64> = Box::new(|v| v.tanh());
    act(w * x)
}

fn main() {}
