use autodiff::differentiate;

#[differentiate]
struct Model {
    w: f64,
}

fn main() {
    let m = Model { w: 1.0 };
    let _ = m.w;
}
