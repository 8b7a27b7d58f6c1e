use autodiff::differentiate;

// A plain helper's `Option<usize>` of a differentiated argument, its payload used only through
// a cast: the error offers the declared form, `let i: usize = find_bin(..).unwrap_or(n);`.
fn find_bin(edges: &[f64], t: f64) -> Option<usize> {
    edges.iter().position(|&e| t < e)
}

#[differentiate]
fn mapped(x: f64) -> f64 {
    let edges = [-1.0, 0.0, 1.0];
    x * find_bin(&edges, x).map_or(0.5, |i| i as f64 * 0.25)
}

#[differentiate]
fn matched(x: f64) -> f64 {
    let edges = [-1.0, 0.0, 1.0];
    x * if let Some(i) = find_bin(&edges, x) {
        i as f64 * 0.25
    } else {
        0.5
    }
}

fn main() {
    let _ = mapped_grad(1.0);
    let _ = matched_grad(1.0);
}
