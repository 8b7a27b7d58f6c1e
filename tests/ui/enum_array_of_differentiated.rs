use autodiff::differentiate;

#[derive(Clone, Copy)]
pub enum Act {
    Id,
    Leaky(f64),
}

// An array of an enum's values, one built from a differentiated value, whose payload a pattern
// takes out in a loop or by index: the payload would be data, a gradient of zero. The error
// is at the variant built.
#[differentiate]
fn in_a_loop(x: f64) -> f64 {
    let acts = [Act::Leaky(x), Act::Id];
    let mut s = 0.0;
    for a in acts {
        if let Act::Leaky(c) = a {
            s += c * c;
        }
    }
    s
}

#[differentiate]
fn by_index(x: f64) -> f64 {
    let acts = [Act::Leaky(x), Act::Id];
    match acts[0] {
        Act::Leaky(c) => c * 3.0,
        Act::Id => 0.0,
    }
}

// Built from data, the payload is a constant: allowed.
#[differentiate]
fn from_data(x: f64) -> f64 {
    let acts = [Act::Leaky(0.1), Act::Id];
    let mut s = 0.0;
    for a in acts {
        s += match a {
            Act::Leaky(c) => c * x,
            Act::Id => x,
        };
    }
    s
}

fn main() {
    let _ = in_a_loop_grad(1.0);
    let _ = by_index_grad(1.0);
    let _ = from_data_grad(1.0);
}
