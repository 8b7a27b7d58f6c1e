// A field lent `&mut` to a helper that writes into it (`axpy_into(&mut p.vel, &acc, dt)`, a
// state struct's velocity integrated in place) is not followed: the error says to copy the
// field into a local of its type, lend that and assign it back.
use autodiff::{Differentiable, differentiate};

#[differentiate]
fn axpy_into(x: &mut [f64], f: &[f64], dt: f64) {
    for i in 0..x.len() {
        x[i] += dt * f[i];
    }
}

#[derive(Clone, Differentiable)]
struct Body {
    pos: [f64; 2],
    vel: [f64; 2],
}

#[differentiate]
fn fall(b0: &Body, g: f64) -> f64 {
    let mut b = b0.clone();
    axpy_into(&mut b.vel, &[0.0, -g], 0.1);
    axpy_into(&mut b.pos, &b.vel, 0.1);
    b.pos[1]
}

#[derive(Clone, Differentiable)]
struct Cart {
    pos: Vec<f64>,
    vel: Vec<f64>,
}

#[differentiate]
impl Cart {
    fn step(&mut self, dt: f64) {
        axpy_into(&mut self.pos, &self.vel, dt);
    }
}

fn main() {
    let b = Body {
        pos: [0.0, 1.0],
        vel: [1.0, 0.0],
    };
    let _ = fall_grad(&b, 9.81);
    let mut c = Cart {
        pos: vec![0.0],
        vel: vec![1.0],
    };
    c.step(0.1);
}
