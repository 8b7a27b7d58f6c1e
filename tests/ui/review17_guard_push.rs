use autodiff::differentiate;
use std::cell::RefCell;

#[differentiate]
fn stored(x: f64, c: &RefCell<Vec<f64>>) -> f64 {
    c.borrow_mut().push(x * 2.0);
    x * c.borrow()[c.borrow().len() - 1]
}

fn main() {}
