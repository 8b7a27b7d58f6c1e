// A helper declared with `wrt(x)` that fills a workspace struct its caller lends (`ws: &mut Ws`,
// left out of the list, so data with no by-value copy) cannot have its writes followed by a
// differentiated caller: an error at the call that says what to write (it was rustc's "cannot
// find `__ad_mutv_fill_ws_vjp`", with a suggestion naming the other generated function).
use autodiff::differentiate;

#[derive(Clone, Debug, Default)]
struct Ws {
    buf: Vec<f64>,
}

#[differentiate(wrt(x))]
fn fill_ws(x: &[f64], ws: &mut Ws) -> f64 {
    ws.buf.clear();
    for &v in x {
        ws.buf.push(v * v);
    }
    ws.buf.iter().sum()
}

#[differentiate]
fn loss(x: &[f64]) -> f64 {
    let mut ws = Ws::default();
    let e = fill_ws(x, &mut ws);
    e + ws.buf[0] * 3.0
}

fn main() {
    let _ = loss_grad(&[0.3, 0.7]);
}
