use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Body {
    pub x: f64,
    pub v: f64,
}

#[derive(Clone, Differentiable)]
pub struct World {
    pub bodies: Vec<Body>,
    pub k: f64,
}

impl World {
    #[differentiate]
    fn kick_all(&mut self, dt: f64) {
        for i in 0..self.bodies.len() {
            self.bodies[i].v -= dt * self.k * self.bodies[i].x;
        }
    }
}

// A `&mut self` method called on a parameter taken by `&mut`, and a field of an element of a
// field of it assigned: the errors say to copy it into a local first.
#[differentiate]
fn step(w: &mut World, dt: f64) -> f64 {
    w.kick_all(dt);
    w.bodies[0].x += dt * w.bodies[0].v;
    w.bodies.iter().map(|b| b.v * b.v).sum()
}

fn main() {
    let mut w = World {
        bodies: vec![Body { x: 1.0, v: 0.0 }],
        k: 1.0,
    };
    let _ = step_grad(&mut w, 0.1);
}
