// A method of the user's struct named like one of a library type (`cumsum`, an ndarray
// array's) on a field: the macro does not see the field's type, so it is
// taken for the library's, which has no rule, and the error says to call it through its type,
// naming the field as written (`Ty::cumsum(&self.vel)`, `Ty::cumsum(&s.body.vel)`).
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl Vec3 {
    fn cumsum(&self) -> Vec3 {
        Vec3 {
            x: self.x,
            y: self.x + self.y,
            z: self.x + self.y + self.z,
        }
    }
}

#[derive(Clone, Differentiable)]
struct Body {
    vel: Vec3,
}

#[differentiate]
impl Body {
    fn volume(&self) -> f64 {
        self.vel.cumsum().z
    }
}

#[derive(Clone, Differentiable)]
struct System {
    body: Body,
}

#[differentiate]
fn volume_of(s: &System) -> f64 {
    s.body.vel.cumsum().z
}

fn main() {}
