use autodiff::differentiate;
use num_traits::Float;
use std::collections::{BTreeMap, HashMap};

// A map that holds a differentiated value cannot be differentiated (a `HashMap` has no
// gradient type): one error at the first use, which says to use a `Vec` indexed by position,
// or to keep the map for data.

#[differentiate]
fn insert(x: f64) -> f64 {
    let k = 3usize;
    let mut m = HashMap::new();
    m.insert(k, x * 2.0);
    m[&k]
}

// The entry API, in a loop, in `f32`.
#[differentiate]
fn entry32(x: &[f32], labels: &[usize]) -> f32 {
    let mut sums: HashMap<usize, f32> = HashMap::new();
    for i in 0..x.len() {
        *sums.entry(labels[i]).or_insert(0.0) += x[i];
    }
    sums[&0] * sums[&1]
}

// `get` of a `BTreeMap`, generic over the float.
#[differentiate]
fn get<F: Float>(x: F) -> F {
    let mut m = BTreeMap::new();
    m.insert(1usize, x * x);
    *m.get(&1).unwrap()
}

// Under `hessian`.
#[differentiate(hessian)]
fn hess(x: f64) -> f64 {
    let mut m: HashMap<&str, f64> = HashMap::new();
    m.insert("a", x.sin());
    m["a"] * x
}

fn main() {
    let _ = insert_grad(0.5);
    let _ = entry32_grad(&[0.5], &[0]);
    let _ = get_grad(0.5);
    let _ = hess_grad(0.5);
}
