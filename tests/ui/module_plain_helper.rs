use autodiff::differentiate;

// In a module that carries the attribute, a function left without it is not differentiated:
// called on differentiated values, it is an error that says to mark it. Called on data it runs
// as written, and one with its own `_vjp` and `_jvp` is a custom derivative.
#[differentiate]
mod model {
    use autodiff::differentiate;

    pub fn square(x: f64) -> f64 {
        x * x
    }

    pub fn softclip(x: f64) -> f64 {
        x.tanh()
    }

    pub fn softclip_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
        let t = x.tanh();
        (t, move |g: f64| g * (1.0 - t * t))
    }

    pub fn softclip_jvp(x: f64, dx: f64) -> (f64, f64) {
        let t = x.tanh();
        (t, dx * (1.0 - t * t))
    }

    #[differentiate(wrt(w))]
    pub fn loss(w: f64, x: f64) -> f64 {
        square(w) + softclip(w * x) + square(x)
    }
}

fn main() {
    let _ = model::loss_grad(0.5, 2.0);
}
