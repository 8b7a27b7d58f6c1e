use autodiff::{Differentiable, differentiate};

// A state returned from inside the loop that steps it: the value is carried out of the loop
// in a variable that starts from `Default::default()`, which the struct does not derive.
#[derive(Clone, Copy, Differentiable)]
struct State {
    x: f64,
    v: f64,
}

#[differentiate]
fn fall(s0: State, dt: f64, steps: usize) -> State {
    let mut s = s0;
    for _ in 0..steps {
        s = State { x: s.x + s.v * dt, v: s.v - 9.81 * dt };
        if s.x < 0.0 {
            return s;
        }
    }
    s
}

fn main() {
    let _ = fall_vjp(State { x: 1.0, v: 0.0 }, 0.01, 100);
}
