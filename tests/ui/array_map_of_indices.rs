// A Rust array of indices mapped by a closure that reads differentiated values
// (`t.map(|i| pts[i])`): not followed, and the error says to build the array with
// `std::array::from_fn` bound by a typed `let`, which is followed.
use autodiff::differentiate;

#[differentiate(wrt(pts))]
fn mesh_area(pts: &[[f64; 2]], tris: &[[usize; 3]]) -> f64 {
    let mut s = 0.0;
    for t in tris {
        let [a, b, c] = t.map(|i| pts[i]);
        s += 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]));
    }
    s
}

fn main() {
    let _ = mesh_area_grad(&[[0.0; 2]; 3], &[[0, 1, 2]]);
}
