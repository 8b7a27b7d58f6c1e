use autodiff::differentiate;

// The item code run as written takes out of a chain over differentiated values, carried to the
// pattern by a loop (`o = x.chunks(2).nth(k);` in a loop, matched after it), a field of a
// struct literal (`S { c: x.chunks(2).next() }`) or an element of an array (`[x.chunks(2).next(),
// x.chunks(2).last()]`, matched in a loop over it): the names the pattern binds would be data,
// a gradient of zero. The error is at the pattern.
#[differentiate]
fn last_of_two(x: &[f64]) -> f64 {
    let mut o = None;
    for k in 0..2 {
        o = x.chunks(2).nth(k);
    }
    match o {
        Some(c) => c[0] * c[1],
        None => 0.0,
    }
}

struct Pick<'a> {
    c: Option<&'a [f64]>,
}

#[differentiate]
fn in_a_struct(x: &[f64]) -> f64 {
    let s = Pick { c: x.chunks(2).next() };
    if let Some(c) = s.c { c[0] * c[1] } else { 0.0 }
}

#[differentiate]
fn in_an_array(x: &[f64]) -> f64 {
    let ends = [x.chunks(2).next(), x.chunks(2).last()];
    let mut s = 0.0;
    for o in ends {
        if let Some(c) = o {
            s += c[0] * c[1];
        }
    }
    s
}

// A position carried the same way indexes the slice: allowed.
#[differentiate]
fn at_last_start(x: &[f64]) -> f64 {
    let mut at = None;
    for k in 0..3 {
        if 2 * k + 1 < x.len() {
            at = Some(2 * k);
        }
    }
    match at {
        Some(i) => x[i] * x[i + 1],
        None => 0.0,
    }
}

fn main() {
    let _ = last_of_two_grad(&[1.0, 2.0]);
    let _ = in_a_struct_grad(&[1.0, 2.0]);
    let _ = in_an_array_grad(&[1.0, 2.0]);
    let _ = at_last_start_grad(&[1.0, 2.0]);
}
