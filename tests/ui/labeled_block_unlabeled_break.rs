use autodiff::differentiate;

// A labeled block is followed as a loop left by `break`; one holding an unlabeled `break` of the
// loop around it (which Rust asks to label, E0695) stays an error, since the new loop would
// take that `break`.
#[differentiate]
fn first_large(xs: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for x in xs {
        'add: {
            if *x > t {
                break;
            }
            s += x * t;
        }
    }
    s
}

fn main() {
    let _ = first_large_grad(&[1.0, 2.0], 1.5);
}
