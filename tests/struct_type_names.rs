//! A struct of the user's named by one capital letter (`P`, as a particle or a point often is):
//! in a free function, and in the methods of an `impl` block the attribute is on, it is the
//! struct, its methods and operators the struct's. Only where the macro sees a method without
//! its block may `P` be the block's type parameter; there the signature's `P` is an error that
//! says what to write (`tests/ui/impl_type_parameter.rs`).
//!
//! Each gradient is checked against central finite differences through `autodiff::check`.

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct P {
    pub x: f64,
    pub m: f64,
}

#[differentiate]
impl P {
    fn energy(&self) -> f64 {
        self.m * self.x * self.x
    }
    fn scaled(&self, k: f64) -> P {
        P {
            x: self.x * k,
            m: self.m,
        }
    }
}

#[differentiate]
impl std::ops::Add for P {
    type Output = P;
    fn add(self, o: P) -> P {
        P {
            x: self.x + o.x,
            m: self.m + o.m,
        }
    }
}

/// The struct by its one-letter name: a slice's elements, a closure's parameter, a declared
/// local, a method's result, an operator's operands.
#[differentiate]
fn total(ps: &[P], k: f64) -> f64 {
    let e = |p: &P| p.energy();
    let mut s = 0.0;
    for p in ps.iter() {
        let q: P = p.scaled(k);
        s += q.energy() + e(p);
    }
    let first: P = ps[0];
    let both = first + ps[1];
    s + first.scaled(2.0).energy() + both.energy()
}

#[test]
fn a_struct_named_by_one_letter() {
    let ps = vec![P { x: 1.0, m: 2.0 }, P { x: -1.5, m: 3.1 }];
    let (y, g) = total_grad(&ps, 0.5);
    assert_eq!(y, total(&ps, 0.5));
    let r = gradcheck(
        |(ps, k): &(Vec<P>, f64)| total(ps, *k),
        &(ps.clone(), 0.5),
        &g,
    );
    assert!(r.passed(), "{r}");
    // ps[1].x: m x² (k² + 1) + (m0 + m1)(x0 + x1)².
    let both = 2.0 * (2.0 + 3.1) * (1.0 - 1.5);
    assert!((g.0[1].x - (3.1 * 2.0 * -1.5 * 1.25 + both)).abs() < 1e-12);
}

/// A complex number built by associated constructors named as Rust code names them
/// (`from_polar`, `identity`), whose locals are then the struct for its operators.
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct C2 {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl std::ops::Mul for C2 {
    type Output = C2;
    fn mul(self, b: C2) -> C2 {
        C2 {
            re: self.re * b.re - self.im * b.im,
            im: self.re * b.im + self.im * b.re,
        }
    }
}

#[differentiate]
impl C2 {
    fn from_polar(r: f64, th: f64) -> C2 {
        C2 {
            re: r * th.cos(),
            im: r * th.sin(),
        }
    }
    fn identity() -> C2 {
        C2 { re: 1.0, im: 0.0 }
    }
}

#[differentiate]
fn rotated_re(r: f64, a: f64, b: f64) -> f64 {
    let p = C2::from_polar(r, a);
    let q = C2::from_polar(1.0, b);
    let one = C2::identity();
    let z = p * q * one;
    z.re
}

#[test]
fn locals_built_by_constructors_named_as_rust_names_them() {
    let (y, (gr, ga, gb)) = rotated_re_grad(2.0, 0.3, 0.4);
    // re(r e^{i(a+b)}) = r cos(a + b).
    assert!((y - 2.0 * 0.7f64.cos()).abs() < 1e-15);
    assert!((gr - 0.7f64.cos()).abs() < 1e-15);
    assert!((ga + 2.0 * 0.7f64.sin()).abs() < 1e-15);
    assert!((gb + 2.0 * 0.7f64.sin()).abs() < 1e-15);
}
