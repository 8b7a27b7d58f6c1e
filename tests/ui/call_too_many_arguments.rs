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

#[allow(clippy::too_many_arguments)]
fn g_jvp(
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
    d0: f64,
    d1: f64,
    d2: f64,
    d3: f64,
    d4: f64,
    d5: f64,
    d6: f64,
    d7: f64,
    d8: f64,
    d9: f64,
    d10: f64,
    d11: f64,
    d12: f64,
    d13: f64,
    d14: f64,
    d15: f64,
    d16: f64,
) -> (f64, f64) {
    (
        g(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16),
        d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11 + d12 + d13 + d14 + d15 + d16,
    )
}

#[differentiate]
fn f(x: f64) -> f64 {
    g(x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x)
}

fn main() {
    let _ = f_grad(1.0);
}
