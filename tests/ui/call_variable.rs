use autodiff::differentiate;

#[differentiate(wrt(x))]
fn f(x: f64, g: fn(f64) -> f64) -> f64 {
    g(x) * 2.0
}

pub struct Cfg {
    pub act: fn(f64) -> f64,
}

// A function pointer in a field, and a generic closure, given differentiated values.
#[differentiate(wrt(x))]
fn by_field(x: &[f64], cfg: &Cfg) -> f64 {
    x.iter().map(|&v| (cfg.act)(v)).sum()
}

#[differentiate(wrt(x))]
fn by_generic<F: Fn(f64) -> f64>(x: f64, act: F) -> f64 {
    act(x * 2.0)
}

fn main() {
    let _ = f_grad(1.0, f64::sin);
    let _ = by_field(&[1.0], &Cfg { act: f64::tanh });
    let _ = by_generic(1.0, f64::tanh);
}
