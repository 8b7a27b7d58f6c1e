use autodiff::differentiate;
use num_traits::Float;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Mutex;

// Interior mutability is not followed: what is written into a cell and read back later is a
// path from `x` to the result that the gradient would miss. Each is one error at the first use
// the derivative cannot follow, which says to keep the value in a local.

// A write through `borrow_mut()` and a read through `borrow()`.
#[differentiate]
fn refcell(x: f64) -> f64 {
    let c = RefCell::new(vec![0.0; 3]);
    c.borrow_mut()[0] = x;
    c.borrow()[0] * 2.0
}

// The same through a guard kept in a variable, in `f32`: the write is through the guard.
#[differentiate]
fn guard32(x: f32) -> f32 {
    let c = RefCell::new(vec![0.0f32; 3]);
    {
        let mut b = c.borrow_mut();
        b[0] = x;
    }
    c.borrow()[0] * 2.0
}

// A shared cell made from a differentiated value, generic over the float.
#[differentiate]
fn shared<F: Float>(x: F) -> F {
    let c = Rc::new(RefCell::new(vec![x, F::one()]));
    let v = c.borrow()[0] * x;
    v + v
}

// A `Mutex` written in a loop.
#[differentiate]
fn mutex(x: &[f64]) -> f64 {
    let m = Mutex::new(0.0);
    for &v in x {
        *m.lock().unwrap() += v * v;
    }
    let s = *m.lock().unwrap();
    s
}

// A `Cell` made from a differentiated value, under `hessian`.
#[differentiate(hessian)]
fn cell(x: f64) -> f64 {
    let c = Cell::new(x);
    c.get() * x
}

fn main() {
    let _ = refcell_grad(0.5);
    let _ = guard32_grad(0.5);
    let _ = shared_grad(0.5);
    let _ = mutex_grad(&[0.5]);
    let _ = cell_grad(0.5);
}
