// A labeled block is not followed: the error says how to write it as a `loop`.
use autodiff::differentiate;

#[differentiate]
fn tiered_fee(notional: f64, rate: f64) -> f64 {
    let fee = 'fee: {
        if notional < 1e5 {
            break 'fee 10.0 + rate * notional;
        }
        200.0 + 0.5 * rate * notional
    };
    fee.sqrt()
}

fn main() {
    let _ = tiered_fee_grad(1e4, 0.01);
}
