// A `&mut self` method of the user's called on the item of a loop by mutable reference over a
// `Vec` a method returned, whose element type the macro does not see: the error says to
// declare it (`let mut es: Vec<V2> = self.edges();` is followed).
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

    fn turning(&self) -> f64 {
        let mut es = self.edges();
        for e in es.iter_mut() {
            e.normalize();
        }
        let n = es.len();
        (0..n)
            .map(|i| es[i].x * es[(i + 1) % n].y - es[i].y * es[(i + 1) % n].x)
            .sum()
    }
}

fn main() {}
