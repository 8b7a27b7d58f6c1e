use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    'outer: for &a in x {
        let t = loop {
            if a > 1.0 {
                break 'outer;
            }
            break a * 2.0;
        };
        s += t;
    }
    s
}

fn main() {}
