#![deny(warnings)]
//! `#[differentiate]` on associated functions: the generated items are associated functions
//! beside the original, and `Self::..` calls go through `Self::.._vjp`.
use autodiff::differentiate;

struct Model;

impl Model {
    #[differentiate]
    fn square(x: f64) -> f64 {
        x * x
    }

    #[differentiate]
    fn energy(x: f64, y: f64) -> f64 {
        Self::square(x) + 3.0 * Self::square(y)
    }
}

fn main() {
    let (v, (dx, dy)) = Model::energy_grad(1.0, 2.0);
    assert_eq!(v, 13.0);
    assert_eq!((dx, dy), (2.0, 12.0));
}
