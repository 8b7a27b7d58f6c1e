// A differentiated call can have at most 16 arguments: a call of 17 is a plain error at the call
// that names the limit.
use autodiff::differentiate;

fn g(
    x0: f64,
    x1: f64,
    x2: f64,
    x3: f64,
    x4: f64,
    x5: f64,
    x6: f64,
    x7: f64,
    x8: f64,
    x9: f64,
    x10: f64,
    x11: f64,
    x12: f64,
    x13: f64,
    x14: f64,
    x15: f64,
    x16: f64,
) -> f64 {
    x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11 + x12 + x13 + x14 + x15 + x16
}

fn g_vjp(
    x0: f64,
    x1: f64,
    x2: f64,
    x3: f64,
    x4: f64,
    x5: f64,
    x6: f64,
    x7: f64,
    x8: f64,
    x9: f64,
    x10: f64,
    x11: f64,
    x12: f64,
    x13: f64,
    x14: f64,
    x15: f64,
    x16: f64,
) -> (
    f64,
    impl FnOnce(
        f64,
    ) -> (
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
    ),
) {
    (
        g(
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16,
        ),
        move |g: f64| (g, g, g, g, g, g, g, g, g, g, g, g, g, g, g, g, g),
    )
}

#[differentiate]
fn f(x: f64) -> f64 {
    g(x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x)
}

fn main() {
    let _ = f_grad(1.0);
}
