use autodiff::differentiate;

// The best window of a signal would be a value the function goes on with, which a window is
// not: the error says to take its position and read the window there.
#[differentiate]
fn loudest(x: &[f64]) -> f64 {
    let w = x
        .windows(3)
        .max_by(|a, b| a.iter().sum::<f64>().total_cmp(&b.iter().sum::<f64>()))
        .unwrap();
    w[0] * w[1] + w[2]
}

// The same with its position kept beside it.
#[differentiate]
fn loudest_at(x: &[f64]) -> f64 {
    let (i, w) = x
        .chunks(2)
        .enumerate()
        .min_by(|a, b| a.1[0].total_cmp(&b.1[0]))
        .unwrap();
    w[0] * i as f64
}

fn main() {}
