use autodiff::differentiate;

// Fast inverse square root: the first guess is rebuilt from the bits of `x`, which the
// derivative cannot follow (it was silently zero through `y`).
#[differentiate]
fn fast_rsqrt(x: f64) -> f64 {
    let i = 0x5fe6_eb50_c7b5_37a9u64 - (x.to_bits() >> 1);
    let y = f64::from_bits(i);
    y * (1.5 - 0.5 * x * y * y)
}

fn main() {
    let _ = fast_rsqrt(2.0);
}
