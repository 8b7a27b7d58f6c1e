// A method of the user's struct named like an array rule (`dot`) on a field of a struct given
// a field: the macro does not see a field's type (it may be an array), so it is the array rule,
// and the error's note says what is followed and what to write instead:
// `Vec3::dot(&self.vel, &self.vel)`.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl Vec3 {
    fn dot(&self, o: &Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
}

#[derive(Clone, Differentiable)]
struct Body {
    vel: Vec3,
    m: f64,
}

#[differentiate]
impl Body {
    fn kinetic(&self) -> f64 {
        0.5 * self.m * self.vel.dot(&self.vel)
    }
}

#[differentiate]
fn relative(body: &Body, other: &Body) -> f64 {
    body.vel.dot(&other.vel)
}

fn main() {}
