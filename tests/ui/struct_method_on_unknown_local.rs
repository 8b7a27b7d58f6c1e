// A `mut` local bound to what a free function returned, whose type the macro does not see: a
// method called on it may be a container's mutation, so it is an error, which says that a
// struct of the user's is followed once the local is declared with its type.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Differentiable)]
struct Rot {
    c: f64,
    s: f64,
}

#[differentiate]
impl Rot {
    fn angle(&self) -> f64 {
        self.s.atan2(self.c)
    }
}

#[differentiate]
fn unit(a: f64) -> Rot {
    Rot { c: a.cos(), s: a.sin() }
}

#[differentiate]
fn doubled_angle(a: f64) -> f64 {
    let mut r = unit(a);
    if a > 1.0 {
        r = unit(2.0 * a);
    }
    r.angle()
}

fn main() {
    let _ = doubled_angle_grad(0.5);
}
