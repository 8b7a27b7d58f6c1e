// A method of the user's struct named like one of a library type (`norm`, ndarray-linalg's and
// a complex number's) on a field: the macro does not see the field's type, so it is taken for
// the library's, which has no rule, and the error says to call it through its type, naming the
// field as written (`Ty::norm(&self.vel)`, `Ty::norm(&s.body.vel)`).
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl Vec3 {
    fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y + self.z * self.z).sqrt()
    }
}

#[derive(Clone, Differentiable)]
struct Body {
    vel: Vec3,
}

#[differentiate]
impl Body {
    fn speed(&self) -> f64 {
        self.vel.norm()
    }
}

#[derive(Clone, Differentiable)]
struct System {
    body: Body,
}

#[differentiate]
fn speed_of(s: &System) -> f64 {
    s.body.vel.norm()
}

fn main() {}
