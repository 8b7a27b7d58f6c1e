use autodiff::differentiate;

pub struct State {
    pub x: f64,
    pub v: f64,
}

// A field of a struct without `#[derive(Differentiable)]` assigned a differentiated value: the
// error says to derive it.
#[differentiate(wrt(v))]
fn step(v: f64, mut s: State) -> f64 {
    s.v = 2.0 * v;
    s.v * v
}

fn main() {
    let _ = step_grad(1.0, State { x: 0.0, v: 0.0 });
}
