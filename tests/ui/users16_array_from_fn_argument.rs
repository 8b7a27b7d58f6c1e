use autodiff::differentiate;

#[differentiate]
fn norm3(p: [f64; 3]) -> f64 {
    (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt()
}

// `from_fn` as an argument: the error says to bind it with its type first.
#[differentiate]
fn spread(x: f64) -> f64 {
    norm3(std::array::from_fn(|i| x * (i + 1) as f64))
}

fn main() {}
