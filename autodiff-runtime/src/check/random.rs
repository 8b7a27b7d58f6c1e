//! Seeded random directions for the checks, from a fixed generator so that a seed names the same
//! direction on every platform and in every version, and tests need no random-number crate.

use crate::differentiable::from_flat;
use crate::differentiable::{Differentiable, Real};

/// A value shaped like `like` whose scalars are uniform in `[−1, 1)`, determined by `seed`.
///
/// The scalars come from SplitMix64 (Steele, Lea and Flood, 2014) started at `seed`, in leaf
/// order: each 64-bit output `z` gives `2·⌊z/2¹¹⌋/2⁵³ − 1`. Different seeds give unrelated
/// directions; the same seed gives the same direction every time. Directions of unit scale suit
/// the default steps of [`jvpcheck`](super::jvpcheck) and [`hvpcheck`](super::hvpcheck) at
/// inputs of unit scale.
///
/// ```
/// use autodiff_runtime::check::random_direction;
/// use ndarray::Array2;
///
/// let like = (0.0, Array2::<f64>::zeros((2, 3)));
/// let v = random_direction(&like, 42);
/// assert_eq!(v.1.shape(), &[2, 3]);
/// assert!(v.1.iter().chain([&v.0]).all(|a| (-1.0..1.0).contains(a)));
/// assert_eq!(v, random_direction(&like, 42));
/// assert_ne!(v, random_direction(&like, 43));
/// ```
pub fn random_direction<P: Differentiable>(like: &P, seed: u64) -> P {
    let mut state = seed;
    let values: Vec<P::Scalar> = (0..like.num_scalars())
        .map(|_| P::Scalar::of_f64(uniform(splitmix64(&mut state))))
        .collect();
    from_flat(like, &values)
}

/// The next output of SplitMix64.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits of `z` as a float in `[−1, 1)`.
fn uniform(z: u64) -> f64 {
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_splitmix64() {
        // The first outputs from state 0 of the reference implementation.
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(uniform(0), -1.0);
        assert_eq!(uniform(u64::MAX), 1.0 - 2f64.powi(-52));
    }

    #[test]
    fn directions_are_seeded_uniform_and_shaped() {
        let like = vec![0.0f64; 20_000];
        let v = random_direction(&like, 7);
        assert_eq!(v, random_direction(&like, 7));
        let w = random_direction(&like, 8);
        assert!(v.iter().zip(&w).all(|(a, b)| a != b));
        assert!(v.iter().all(|a| (-1.0..1.0).contains(a)));
        // Uniform on [−1, 1): mean 0, variance 1/3; with n = 20000 the standard errors are
        // 0.004 and 0.002, so these bounds hold by more than five of them.
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 1.0 / 3.0).abs() < 0.012, "{var}");
        // f32 values are the f64 ones rounded.
        let v32 = random_direction(&vec![0.0f32; 4], 7);
        assert_eq!(v32, v[..4].iter().map(|&a| a as f32).collect::<Vec<f32>>());
    }

    #[test]
    fn nested_shapes_take_scalars_in_leaf_order() {
        let like = (0.0, [0.0; 2], vec![0.0; 3]);
        let v = random_direction(&like, 3);
        let flat = random_direction(&vec![0.0; 6], 3);
        assert_eq!(v.0, flat[0]);
        assert_eq!(v.1, [flat[1], flat[2]]);
        assert_eq!(v.2, flat[3..].to_vec());
    }
}
