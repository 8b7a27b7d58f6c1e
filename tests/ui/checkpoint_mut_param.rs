use autodiff::differentiate;

#[differentiate]
fn fill(x: f64, buf: &mut [f64]) -> f64 {
    #[checkpoint(snapshots = 2)]
    for i in 0..buf.len() {
        buf[i] = x * i as f64;
    }
    buf[0]
}

#[differentiate(checkpoint(snapshots = 2))]
fn read(x: f64, buf: &mut [f64]) -> f64 {
    buf[0] = x;
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * x;
    }
    s
}

fn main() {
    let mut b = [0.0; 3];
    let _ = fill_grad(1.0, &mut b);
    let _ = read_grad(1.0, &mut b);
}
