use autodiff::differentiate;

pub struct Stats {
    pub calls: u32,
}

fn report(stats: Stats) {
    println!("{} calls", stats.calls);
}

#[differentiate(wrt(x))]
fn f(x: f64, mut stats: Stats) -> f64 {
    stats.calls = 1;
    report(stats);
    x * x
}

fn main() {
    let _ = f_grad(1.0, Stats { calls: 0 });
}
