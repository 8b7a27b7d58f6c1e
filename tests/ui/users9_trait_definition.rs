use autodiff::differentiate;

#[differentiate]
trait Shape {
    fn area(&self) -> f64;
    fn compactness(&self) -> f64 {
        4.0 * std::f64::consts::PI * self.area()
    }
}

fn main() {}
