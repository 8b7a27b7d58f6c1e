use autodiff::differentiate;

#[differentiate]
fn no_arguments(x: f64) -> f64 {
    let mut y = x;
    #[checkpoint]
    for _ in 0..3 {
        y = y * x;
    }
    y
}

#[differentiate]
fn unknown_key(x: f64) -> f64 {
    let mut y = x;
    #[checkpoint(snaps = 3)]
    for _ in 0..3 {
        y = y * x;
    }
    y
}

#[differentiate]
fn not_a_number(x: f64) -> f64 {
    let mut y = x;
    #[checkpoint(snapshots = many)]
    for _ in 0..3 {
        y = y * x;
    }
    y
}

#[differentiate]
fn twice(x: f64) -> f64 {
    let mut y = x;
    #[checkpoint(snapshots = 2)]
    #[checkpoint(snapshots = 3)]
    for _ in 0..3 {
        y = y * x;
    }
    y
}

#[differentiate(checkpoint)]
fn option_without_arguments(x: f64) -> f64 {
    x
}

#[differentiate(checkpoint(snapshots = 4), checkpoint(snapshots = 4))]
fn option_twice(x: f64) -> f64 {
    x
}

fn main() {}
