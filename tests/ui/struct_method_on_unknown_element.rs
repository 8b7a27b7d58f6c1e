// A `&mut self` method of the user's called on an element of a `Vec` that a method returned,
// whose element type the macro does not see: the error says to declare the `Vec` of the struct
// (`let mut es: Vec<V2> = self.edges();` is followed).
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Default, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Poly {
    pts: Vec<V2>,
}

#[differentiate]
impl V2 {
    fn normalize(&mut self) {
        let n = (self.x * self.x + self.y * self.y).sqrt();
        self.x /= n;
        self.y /= n;
    }
}

#[differentiate]
impl Poly {
    fn edges(&self) -> Vec<V2> {
        let n = self.pts.len();
        (0..n)
            .map(|i| V2 {
                x: self.pts[(i + 1) % n].x - self.pts[i].x,
                y: self.pts[(i + 1) % n].y - self.pts[i].y,
            })
            .collect()
    }

    fn first_edge(&self) -> f64 {
        let mut es = self.edges();
        es[0].normalize();
        es[0].x
    }
}

fn main() {}
