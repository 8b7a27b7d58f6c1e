use autodiff::differentiate;

fn product3(r: [f64; 3]) -> f64 {
    r[0] * r[1] * r[2]
}

#[differentiate]
fn rotation(cam: &[f64]) -> f64 {
    product3(cam[..3].try_into().unwrap())
}

#[differentiate]
fn center(cam: &[f64]) -> f64 {
    <[f64; 3]>::try_from(&cam[3..6]).unwrap().iter().sum()
}

#[differentiate]
fn joined(a: &[f64], b: &[f64]) -> f64 {
    let v = [a, b].concat();
    v.iter().map(|x| x * x).sum()
}

#[differentiate]
fn twice(x: &[f64]) -> f64 {
    let v = x.repeat(2);
    v[0] * v[v.len() - 1]
}

fn main() {
    let _ = rotation_grad(&[1.0; 6]);
    let _ = center_grad(&[1.0; 6]);
    let _ = joined_grad(&[1.0], &[2.0]);
    let _ = twice_grad(&[1.0]);
}
