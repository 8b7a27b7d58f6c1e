use autodiff::differentiate;

// A loop variable bound by a pattern the derivative does not follow (a name bound with `@` to a
// struct pattern) is an error that lists the patterns it does, array patterns among them (`for
// &[l, r] in rows`). A struct pattern alone is the `let` it stands for, which is followed.
#[derive(Clone, Copy)]
struct Pair {
    a: f64,
    b: f64,
}

#[differentiate(wrt(k))]
fn total(pairs: &[Pair], k: f64) -> f64 {
    let mut t = 0.0;
    for p @ &Pair { a, b } in pairs {
        t += k * a * b * p.a;
    }
    t
}

fn main() {
    let _ = total_grad(&[Pair { a: 1.0, b: 2.0 }], 1.0);
}
