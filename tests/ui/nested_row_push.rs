use autodiff::differentiate;

// A row whose length changes inside its container: the container's adjoint has the rows'
// last lengths, so these are errors that say how to build rows instead.
#[differentiate]
fn buckets(x: &[f64]) -> f64 {
    let mut rows: Vec<Vec<f64>> = vec![Vec::new(); 2];
    for i in 0..x.len() {
        rows[i % 2].push(x[i] * x[i]);
    }
    for row in rows.iter_mut() {
        row.truncate(1);
    }
    rows[0][0]
}

fn main() {
    let _ = buckets_grad(&[1.0, 2.0]);
}
