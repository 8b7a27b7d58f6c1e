use autodiff::differentiate;

// Fast inverse square root: the first guess is rebuilt from the bits of `x`, which the
// derivative cannot follow (it was silently zero through `y`).
#[differentiate]
fn fast_rsqrt(x: f64) -> f64 {
    let i = 0x5fe6_eb50_c7b5_37a9u64 - (x.to_bits() >> 1);
    let y = f64::from_bits(i);
    y * (1.5 - 0.5 * x * y * y)
}

// The absolute value by masking the sign bit: the rebuilt float is all the result depends on
// (its gradient was silently zero, as `x` itself was not active).
#[differentiate]
fn abs_by_bits(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !(1u64 << 63))
}

fn main() {
    let _ = fast_rsqrt(2.0);
    let _ = abs_by_bits(-2.0);
}
