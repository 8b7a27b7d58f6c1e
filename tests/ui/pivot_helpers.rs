use autodiff::differentiate;

// A pivoting step that swaps the rows it is lent and returns the pivot's row: the integer has
// no derivative, and the rows must be followed; find the row in a plain helper and swap in the
// caller.
#[differentiate]
fn swap_in_pivot(m: &mut Vec<Vec<f64>>, k: usize) -> usize {
    let mut p = k;
    for i in k + 1..m.len() {
        if m[i][k].abs() > m[p][k].abs() {
            p = i;
        }
    }
    m.swap(k, p);
    p
}

// The permutation lent beside the rows: change it in the caller.
#[differentiate]
fn pivot_perm(m: &mut [Vec<f64>], perm: &mut [usize], k: usize) {
    let p = perm[k];
    m.swap(k, p);
    perm.swap(k, p);
}

fn main() {}
