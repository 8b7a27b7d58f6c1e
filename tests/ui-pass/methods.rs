#![deny(warnings)]
//! Methods: `&self` is a parameter like any other (active by default when its type derives
//! `Differentiable`; `wrt` leaves it out), and `self.field` reads work as on parameter structs.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

impl Line {
    /// Squared error of the line at one point: the gradient has a `Line` for `self`.
    #[differentiate]
    fn error(&self, x: f64, y: f64) -> f64 {
        let r = self.a * x + self.b - y;
        r * r
    }

    /// Only with respect to `x`.
    #[differentiate(wrt(x))]
    fn predict(&self, x: f64) -> f64 {
        self.a * x + self.b
    }
}

fn main() {
    let line = Line { a: 2.0, b: 1.0 };
    let (e, (g, dx, dy)) = line.error_grad(3.0, 5.0);
    // r = 2, e = 4; de/da = 2 r x = 12, de/db = 2 r = 4, de/dx = 2 r a = 8, de/dy = −2 r = −4
    assert_eq!(e, 4.0);
    assert_eq!((g.a, g.b, dx, dy), (12.0, 4.0, 8.0, -4.0));
    let (p, d) = line.predict_grad(3.0);
    assert_eq!((p, d), (7.0, 2.0));
}
