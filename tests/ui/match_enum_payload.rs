use autodiff::differentiate;

#[derive(Clone, Copy)]
enum Shape {
    Circle(f64),
    Rect { w: f64, h: f64 },
}

// An enum has no gradient type: its payloads taken out by a `match` on a differentiated
// parameter are an error that says to leave the parameter out with `wrt`.
#[differentiate]
fn area(s: Shape, k: f64) -> f64 {
    match s {
        Shape::Circle(r) => 3.14 * r * r * k,
        Shape::Rect { w, h } => w * h * k,
    }
}

fn main() {}
