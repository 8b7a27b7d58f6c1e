use autodiff::differentiate;

// The median by a selection: sort the copy (followed) and read the middle element.
#[differentiate]
fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let mid = v.len() / 2;
    v.select_nth_unstable_by(mid, |a, b| a.partial_cmp(b).unwrap());
    v[mid]
}

fn main() {}
