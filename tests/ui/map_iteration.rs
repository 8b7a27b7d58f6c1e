use autodiff::differentiate;
use std::collections::{BTreeMap, HashMap, HashSet};

// The entries of a map or a set are not read by position, as loops and iterator chains here
// read their items: one error at the source, which says to collect the keys into a `Vec`
// first and read each value by its key (it was rustc's errors in the generated code).

// Sparse counts of features, a `for` loop over `iter()`.
#[differentiate(wrt(w))]
fn sparse_dot(w: &[f64], counts: &HashMap<usize, f64>) -> f64 {
    let mut s = 0.0;
    for (&k, &c) in counts.iter() {
        s += c * w[k].exp();
    }
    s
}

// An iterator chain over a `BTreeMap` taken by reference.
#[differentiate(wrt(w))]
fn weighted(w: &[f64], pairs: &BTreeMap<usize, f64>) -> f64 {
    pairs.iter().map(|(&k, &c)| c * w[k]).sum::<f64>()
}

// The keys alone.
#[differentiate(wrt(w))]
fn keyed(w: &[f64], counts: &HashMap<usize, usize>) -> f64 {
    let mut s = 0.0;
    for &k in counts.keys() {
        s += w[k].exp();
    }
    s
}

// A set of indices.
#[differentiate(wrt(w))]
fn chosen(w: &[f64], picked: &HashSet<usize>) -> f64 {
    let mut s = 0.0;
    for &k in picked {
        s += w[k] * w[k];
    }
    s
}

fn main() {}
