// A physics-informed residual taking `u_x` from the generated `u_jvp`: the derivative of a
// tangent is not generated, and the error says to write the inner derivative out.
use autodiff::differentiate;

#[differentiate(hessian)]
fn u(x: f64, th: f64) -> f64 {
    (th * x).tanh()
}

#[differentiate(wrt(th))]
fn residual(th: f64, x: f64) -> f64 {
    let (_, ux) = u_jvp(x, th, 1.0, 0.0);
    ux * ux
}

fn main() {
    let _ = residual_grad(1.0, 2.0);
}
