// A method of the user's struct named like an array rule (`dot`), called on what another of its
// methods returned, given another such value: the macro cannot tell either from an array (a
// method may return one), so it is the array rule, and the error says to call the struct's
// method through its type. (Given a parameter of the struct, `a.cross(b).dot(c)`, it is the
// struct's.)
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct V3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl V3 {
    fn cross(&self, o: &V3) -> V3 {
        V3 {
            x: self.y * o.z - self.z * o.y,
            y: self.z * o.x - self.x * o.z,
            z: self.x * o.y - self.y * o.x,
        }
    }
    fn dot(&self, o: &V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
}

#[differentiate]
fn triple(a: &V3, b: &V3, c: &V3) -> f64 {
    a.cross(b).dot(&b.cross(c))
}

fn main() {}
