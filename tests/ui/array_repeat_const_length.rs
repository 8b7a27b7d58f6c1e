use autodiff::differentiate;

const K: usize = 3;

// `[x; N]` of a differentiated value with a const generic or a constant length: fill the
// array in a loop (`[x; 3]` with a literal length is supported).
#[differentiate]
fn spread<const N: usize>(x: f64) -> f64 {
    let a = [x; N];
    a.iter().sum::<f64>()
}

#[differentiate]
fn spread_k(x: f64) -> f64 {
    let a = [x * 2.0; K];
    a[0] + a[K - 1]
}

fn main() {}
