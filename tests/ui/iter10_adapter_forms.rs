use autodiff::differentiate;

// The forms of `scan`, `flat_map`, `flatten`, `chunks_mut` and `rev` the derivative does not
// follow, each with what to write.
#[differentiate]
fn stops_early(x: &[f64]) -> f64 {
    x.iter()
        .scan(0.0, |acc, &v| {
            *acc += v;
            if *acc > 1.0 { None } else { Some(*acc) }
        })
        .sum()
}

#[differentiate]
fn inner_not_a_chain(x: &[f64]) -> f64 {
    x.iter().flat_map(|v| Some(*v)).sum()
}

#[differentiate]
fn chunk_iterated(x: &[f64], a: f64) -> f64 {
    let mut v = x.to_vec();
    for c in v.chunks_mut(2) {
        c.swap(0, 1);
        c[0] *= a;
    }
    v.iter().sum()
}

#[differentiate]
fn reversed_pairs(x: &[f64]) -> f64 {
    x.chunks(2).flat_map(|c| c.iter()).rev().sum()
}

#[differentiate]
fn mapped_then_flattened(x: &[f64]) -> f64 {
    x.iter().map(|v| vec![*v, 2.0 * v]).flatten().sum()
}

#[differentiate]
fn inner_with_lets(x: &[f64]) -> f64 {
    x.chunks(2)
        .flat_map(|c| {
            let m = c[0];
            c.iter().map(move |v| v - m)
        })
        .sum()
}

fn main() {
    let _ = mapped_then_flattened_grad(&[1.0]);
    let _ = inner_with_lets_grad(&[1.0]);
    let _ = stops_early_grad(&[1.0]);
    let _ = inner_not_a_chain_grad(&[1.0]);
    let _ = chunk_iterated_grad(&[1.0], 2.0);
    let _ = reversed_pairs_grad(&[1.0]);
}
