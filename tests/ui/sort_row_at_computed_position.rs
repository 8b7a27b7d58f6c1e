use autodiff::differentiate;

// A row at a computed position sorted by a closure: the error names the row and says to sort a
// copy and write it back, which is followed (an index loop cannot sort); `rows[1].sort_by(..)`
// and `rows[i].sort_by(..)` are followed as they are.
#[differentiate]
fn sorted_row(x: &[f64], i: usize) -> f64 {
    let mut rows = vec![vec![x[0], x[1]], vec![x[2], x[3]]];
    rows[i + 1].sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows[1][0] * 3.0 + rows[1][1]
}

fn main() {}
