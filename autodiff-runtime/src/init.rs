//! Weight initialization, "small but different" (the lecture's training tricks).
//!
//! Weights must differ, or every hidden unit of a layer computes the same thing and receives the
//! same gradient forever; and they must be small, or activations and gradients grow (or vanish)
//! geometrically with depth. The initializers here draw i.i.d. weights with zero mean and a
//! variance chosen from the layer's fan-in and fan-out so that the variance of activations
//! (Glorot) or of ReLU activations (He) stays roughly constant from layer to layer:
//!
//! | initializer | distribution | variance |
//! | --- | --- | --- |
//! | [`glorot_uniform`] | `U(−a, a)`, `a = √(6 / (fan_in + fan_out))` | `2 / (fan_in + fan_out)` |
//! | [`glorot_normal`] | `N(0, σ²)` | `σ² = 2 / (fan_in + fan_out)` |
//! | [`he_uniform`] | `U(−a, a)`, `a = √(6 / fan_in)` | `2 / fan_in` |
//! | [`he_normal`] | `N(0, σ²)` | `σ² = 2 / fan_in` |
//!
//! (Glorot & Bengio, 2010, eq. 16; He, Zhang, Ren & Sun, 2015, §2.2. The normal variants are
//! untruncated, as PyTorch's `xavier_normal_` and `kaiming_normal_`.)
//!
//! Each returns an `Array2<f64>` of shape `(fan_in, fan_out)`, the weight matrix `W` of a layer
//! computing `x·W` for a row of inputs `x`, and draws from the random number generator it is
//! given, in row-major order. For reproducible runs pass [`seeded_rng`]: the same seed gives the
//! same weights (for a given version of the `rand` crate, whose `StdRng` algorithm may change
//! between major versions).
//!
//! ```
//! use autodiff_runtime::init::{he_normal, seeded_rng};
//!
//! let mut rng = seeded_rng(42);
//! let w1 = he_normal(784, 128, &mut rng);
//! let w2 = he_normal(128, 10, &mut rng);
//! assert_eq!(w1.dim(), (784, 128));
//! assert_eq!(w2.dim(), (128, 10));
//! assert_eq!(w1, he_normal(784, 128, &mut seeded_rng(42)));
//! ```

use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Uniform};

pub use rand::Rng;
pub use rand::rngs::StdRng;

/// A random number generator seeded with `seed`, for reproducible initialization.
pub fn seeded_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Glorot/Xavier uniform: weights from `U(−a, a)` with `a = √(6 / (fan_in + fan_out))`, so
/// `Var = 2 / (fan_in + fan_out)`. Shape `(fan_in, fan_out)`.
///
/// # Panics
///
/// If `fan_in` or `fan_out` is `0`.
#[track_caller]
pub fn glorot_uniform<R: Rng + ?Sized>(fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<f64> {
    check_fans("glorot_uniform", fan_in, fan_out);
    uniform(fan_in, fan_out, glorot_variance(fan_in, fan_out), rng)
}

/// Glorot/Xavier normal: weights from `N(0, 2 / (fan_in + fan_out))`. Shape `(fan_in, fan_out)`.
///
/// # Panics
///
/// If `fan_in` or `fan_out` is `0`.
#[track_caller]
pub fn glorot_normal<R: Rng + ?Sized>(fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<f64> {
    check_fans("glorot_normal", fan_in, fan_out);
    normal(fan_in, fan_out, glorot_variance(fan_in, fan_out), rng)
}

/// He/Kaiming uniform: weights from `U(−a, a)` with `a = √(6 / fan_in)`, so `Var = 2 / fan_in`,
/// for layers followed by a ReLU. Shape `(fan_in, fan_out)`.
///
/// # Panics
///
/// If `fan_in` or `fan_out` is `0`.
#[track_caller]
pub fn he_uniform<R: Rng + ?Sized>(fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<f64> {
    check_fans("he_uniform", fan_in, fan_out);
    uniform(fan_in, fan_out, he_variance(fan_in), rng)
}

/// He/Kaiming normal: weights from `N(0, 2 / fan_in)`, for layers followed by a ReLU. Shape
/// `(fan_in, fan_out)`.
///
/// # Panics
///
/// If `fan_in` or `fan_out` is `0`.
#[track_caller]
pub fn he_normal<R: Rng + ?Sized>(fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<f64> {
    check_fans("he_normal", fan_in, fan_out);
    normal(fan_in, fan_out, he_variance(fan_in), rng)
}

fn glorot_variance(fan_in: usize, fan_out: usize) -> f64 {
    2.0 / (fan_in + fan_out) as f64
}

fn he_variance(fan_in: usize) -> f64 {
    2.0 / fan_in as f64
}

#[track_caller]
fn check_fans(who: &str, fan_in: usize, fan_out: usize) {
    assert!(
        fan_in > 0 && fan_out > 0,
        "{who}: needs fan_in ≥ 1 and fan_out ≥ 1, got ({fan_in}, {fan_out})"
    );
}

/// `U(−a, a)` with `a² / 3 = variance`.
fn uniform<R: Rng + ?Sized>(rows: usize, cols: usize, variance: f64, rng: &mut R) -> Array2<f64> {
    let a = (3.0 * variance).sqrt();
    let dist = Uniform::new_inclusive(-a, a).expect("a is finite and positive");
    Array2::from_shape_simple_fn((rows, cols), || dist.sample(rng))
}

/// `N(0, variance)`.
fn normal<R: Rng + ?Sized>(rows: usize, cols: usize, variance: f64, rng: &mut R) -> Array2<f64> {
    let dist = Normal::new(0.0, variance.sqrt()).expect("σ is finite and positive");
    Array2::from_shape_simple_fn((rows, cols), || dist.sample(rng))
}

#[cfg(test)]
mod tests {
    //! Moment checks. For n i.i.d. weights with mean 0 and variance σ², the mean square
    //! `ms = Σw²/n` estimates σ² with standard error `√(Var(w²)/n)`, where
    //! `Var(w²) = E[w⁴] − σ⁴` is `2σ⁴` for a normal and `a⁴/5 − a⁴/9 = 0.8σ⁴` for `U(−a, a)`;
    //! the mean estimates 0 with standard error `σ/√n`. The tests allow 5 standard errors (a
    //! false alarm has probability below 10⁻⁶ for a fresh seed; the seeds are fixed anyway).
    use super::*;

    const FAN_IN: usize = 300;
    const FAN_OUT: usize = 200;

    /// Checks the mean and the mean square of `w` against variance `var`, with `kurt` =
    /// `E[w⁴]/σ⁴` (3 for a normal, 1.8 for a uniform).
    fn check_moments(w: &Array2<f64>, var: f64, kurt: f64) {
        let n = w.len() as f64;
        let mean = w.sum() / n;
        let ms = w.mapv(|x| x * x).sum() / n;
        let se_mean = (var / n).sqrt();
        let se_ms = var * ((kurt - 1.0) / n).sqrt();
        assert!(
            mean.abs() < 5.0 * se_mean,
            "mean {mean} vs 0, 5 SE = {}",
            5.0 * se_mean
        );
        assert!(
            (ms - var).abs() < 5.0 * se_ms,
            "mean square {ms} vs variance {var}, 5 SE = {}",
            5.0 * se_ms
        );
    }

    /// Fraction of |w| < σ: 0.6827 for a normal, 1/√3 ≈ 0.5774 for a uniform; standard error
    /// √(p(1−p)/n). Tells the two families apart.
    fn check_within_one_sigma(w: &Array2<f64>, var: f64, p: f64) {
        let n = w.len() as f64;
        let sigma = var.sqrt();
        let frac = w.iter().filter(|x| x.abs() < sigma).count() as f64 / n;
        let se = (p * (1.0 - p) / n).sqrt();
        assert!(
            (frac - p).abs() < 5.0 * se,
            "fraction within 1σ {frac} vs {p}, 5 SE = {}",
            5.0 * se
        );
    }

    const P_NORMAL_1SIGMA: f64 = 0.682_689_492_137_086;

    #[test]
    fn glorot_uniform_shape_bounds_and_variance() {
        let w = glorot_uniform(FAN_IN, FAN_OUT, &mut seeded_rng(1));
        assert_eq!(w.dim(), (FAN_IN, FAN_OUT));
        let var = 2.0 / (FAN_IN + FAN_OUT) as f64;
        let a = (6.0 / (FAN_IN + FAN_OUT) as f64).sqrt();
        assert!(w.iter().all(|x| x.abs() <= a));
        check_moments(&w, var, 1.8);
        check_within_one_sigma(&w, var, 1.0 / 3f64.sqrt());
    }

    #[test]
    fn glorot_normal_shape_and_variance() {
        let w = glorot_normal(FAN_IN, FAN_OUT, &mut seeded_rng(2));
        assert_eq!(w.dim(), (FAN_IN, FAN_OUT));
        let var = 2.0 / (FAN_IN + FAN_OUT) as f64;
        check_moments(&w, var, 3.0);
        check_within_one_sigma(&w, var, P_NORMAL_1SIGMA);
    }

    #[test]
    fn he_uniform_shape_bounds_and_variance() {
        let w = he_uniform(FAN_IN, FAN_OUT, &mut seeded_rng(3));
        assert_eq!(w.dim(), (FAN_IN, FAN_OUT));
        let var = 2.0 / FAN_IN as f64;
        let a = (6.0 / FAN_IN as f64).sqrt();
        assert!(w.iter().all(|x| x.abs() <= a));
        check_moments(&w, var, 1.8);
        check_within_one_sigma(&w, var, 1.0 / 3f64.sqrt());
    }

    #[test]
    fn he_normal_shape_and_variance() {
        let w = he_normal(FAN_IN, FAN_OUT, &mut seeded_rng(4));
        assert_eq!(w.dim(), (FAN_IN, FAN_OUT));
        let var = 2.0 / FAN_IN as f64;
        check_moments(&w, var, 3.0);
        check_within_one_sigma(&w, var, P_NORMAL_1SIGMA);
    }

    #[test]
    fn non_square_shapes_follow_fan_in_and_fan_out() {
        let w = he_uniform(3, 7, &mut seeded_rng(0));
        assert_eq!(w.dim(), (3, 7));
        let w = glorot_normal(7, 3, &mut seeded_rng(0));
        assert_eq!(w.dim(), (7, 3));
    }

    #[test]
    fn same_seed_same_weights_different_seed_different_weights() {
        type Init = fn(usize, usize, &mut StdRng) -> Array2<f64>;
        let inits: [(&str, Init); 4] = [
            ("glorot_uniform", glorot_uniform),
            ("glorot_normal", glorot_normal),
            ("he_uniform", he_uniform),
            ("he_normal", he_normal),
        ];
        for (name, init) in inits {
            let a = init(20, 10, &mut seeded_rng(7));
            let b = init(20, 10, &mut seeded_rng(7));
            let c = init(20, 10, &mut seeded_rng(8));
            assert_eq!(a, b, "{name}: same seed");
            assert_ne!(a, c, "{name}: different seeds");
            // "Small but different": no two weights of one matrix coincide.
            let mut v: Vec<f64> = a.iter().copied().collect();
            v.sort_by(f64::total_cmp);
            assert!(
                v.windows(2).all(|p| p[0] != p[1]),
                "{name}: repeated weight"
            );
            // Successive draws from one generator differ.
            let mut rng = seeded_rng(7);
            let first = init(20, 10, &mut rng);
            let second = init(20, 10, &mut rng);
            assert_ne!(first, second, "{name}: successive draws");
        }
    }

    #[test]
    #[should_panic(expected = "he_normal: needs fan_in ≥ 1 and fan_out ≥ 1, got (0, 5)")]
    fn zero_fan_in_is_rejected() {
        let _ = he_normal(0, 5, &mut seeded_rng(0));
    }
}
