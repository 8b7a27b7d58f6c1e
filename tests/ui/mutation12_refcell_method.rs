use autodiff::differentiate;
use std::cell::RefCell;

/// A log that records values through `&self`.
pub struct Log {
    v: RefCell<Vec<f64>>,
}

impl Log {
    pub fn record(&self, x: f64) {
        self.v.borrow_mut().push(x)
    }
    pub fn latest(&self) -> f64 {
        *self.v.borrow().last().unwrap()
    }
}

// The method of a parameter left out with `wrt`, given a differentiated value it stores, and
// a later read of it; and the same through a local built from data, dropped by `let _`.
#[differentiate(wrt(x))]
fn f(x: f64, log: &Log) -> f64 {
    log.record(x * x);
    log.latest() + x
}

#[differentiate]
fn g(x: f64) -> f64 {
    let log = Log { v: RefCell::new(Vec::new()) };
    let _ = log.record(x.sin());
    log.latest() * x
}

fn main() {
    let log = Log { v: RefCell::new(Vec::new()) };
    let _ = f_grad(0.5, &log);
    let _ = g_grad(0.5);
}
