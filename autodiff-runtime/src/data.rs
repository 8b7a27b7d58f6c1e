//! Data standardization, the lecture's "centering and whitening" of input features.
//!
//! Gradient methods converge faster when every feature has mean 0 and variance 1: the loss's
//! level sets are then closer to round, and one step size suits every weight. [`Standardizer`]
//! learns each column's mean and standard deviation from training data (`fit`) and applies the
//! same affine map to any later data (`transform`), or undoes it (`inverse_transform`), as
//! scikit-learn's `StandardScaler` does.
//!
//! Full whitening (decorrelating the features with the covariance's eigenvectors) is not here:
//! it needs an eigendecomposition, and this crate has no linear-algebra dependency.
//!
//! Problems are reported, not papered over: every method returns a [`StandardizeError`] for
//! input it cannot standardize — no rows, a non-finite value, a constant column (whose scaled
//! value would be 0/0), or the wrong number of columns.

use std::fmt;

use ndarray::{Array1, Array2, ArrayBase, Axis, Data, Ix2};

/// Why data could not be standardized.
#[derive(Debug, Clone, PartialEq)]
pub enum StandardizeError {
    /// `fit` was given a matrix with no rows.
    NoRows,
    /// `fit` met a NaN or infinite value.
    NonFinite {
        /// Row of the value.
        row: usize,
        /// Column of the value.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A column of the training data is constant, so it cannot be scaled to variance 1. Drop
    /// it: it carries no information for a model.
    ZeroVariance {
        /// The column.
        column: usize,
        /// Its (constant) mean value.
        value: f64,
    },
    /// The matrix has a different number of columns from the data the standardizer was fitted
    /// on.
    ShapeMismatch {
        /// Columns of the training data.
        expected: usize,
        /// Columns given.
        found: usize,
    },
}

impl fmt::Display for StandardizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StandardizeError::NoRows => write!(f, "cannot standardize a matrix with no rows"),
            StandardizeError::NonFinite { row, column, value } => write!(
                f,
                "cannot standardize a non-finite value: {value} at row {row}, column {column}"
            ),
            StandardizeError::ZeroVariance { column, value } => write!(
                f,
                "column {column} is constant ({value}) and cannot be scaled to variance 1; \
                 drop it"
            ),
            StandardizeError::ShapeMismatch { expected, found } => write!(
                f,
                "expected {expected} columns, as in the data the standardizer was fitted on, \
                 found {found}"
            ),
        }
    }
}

impl std::error::Error for StandardizeError {}

/// Per-column standardization `z = (x − μ) / σ`, fitted on training data.
///
/// `μ` is each column's mean and `σ` its population standard deviation (dividing by `n`, as
/// scikit-learn's `StandardScaler`). Rows are examples, columns features.
///
/// ```
/// use autodiff_runtime::data::Standardizer;
/// use ndarray::array;
///
/// let train = array![[1.0, 100.0], [2.0, 300.0], [3.0, 200.0]];
/// let (scaler, z) = Standardizer::fit_transform(&train)?;
/// assert!(z.column(0).sum().abs() < 1e-12);          // centred
/// assert!((z.column(1).mapv(|v| v * v).sum() / 3.0 - 1.0).abs() < 1e-12); // unit variance
///
/// let test = array![[2.0, 250.0]];
/// let z_test = scaler.transform(&test)?;              // the training data's μ and σ
/// assert!((scaler.inverse_transform(&z_test)? - &test).iter().all(|d| d.abs() < 1e-12));
/// # Ok::<(), autodiff_runtime::data::StandardizeError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Array1<f64>,
    std: Array1<f64>,
}

impl Standardizer {
    /// Learns each column's mean and standard deviation from `x` (rows are examples).
    ///
    /// A column counts as constant when its variance is at most `(n·ε·|μ|)²` (`ε` the machine
    /// epsilon): the rounding error that computing the mean of `n` equal values can leave.
    ///
    /// # Errors
    ///
    /// [`NoRows`](StandardizeError::NoRows) for an empty matrix,
    /// [`NonFinite`](StandardizeError::NonFinite) for a NaN or infinite entry (the first in
    /// row-major order), [`ZeroVariance`](StandardizeError::ZeroVariance) for a constant column
    /// (the first such; a single row makes every column constant).
    pub fn fit<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Result<Self, StandardizeError> {
        let (rows, cols) = x.dim();
        if rows == 0 {
            return Err(StandardizeError::NoRows);
        }
        if let Some(((row, column), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(StandardizeError::NonFinite { row, column, value });
        }
        let n = rows as f64;
        let mean = x.sum_axis(Axis(0)) / n;
        // Two passes (mean, then squared deviations) for accuracy.
        let mut var = Array1::<f64>::zeros(cols);
        for row in x.rows() {
            for ((v, &xi), &mu) in var.iter_mut().zip(row).zip(&mean) {
                let d = xi - mu;
                *v += d * d;
            }
        }
        var /= n;
        for (column, (&v, &mu)) in var.iter().zip(&mean).enumerate() {
            let rounding = n * f64::EPSILON * mu.abs();
            if v <= rounding * rounding {
                return Err(StandardizeError::ZeroVariance { column, value: mu });
            }
        }
        Ok(Self {
            mean,
            std: var.mapv(f64::sqrt),
        })
    }

    /// `z = (x − μ) / σ`, column by column, with the fitted `μ` and `σ`. NaNs stay NaN.
    ///
    /// # Errors
    ///
    /// [`ShapeMismatch`](StandardizeError::ShapeMismatch) if `x` has a different number of
    /// columns from the training data.
    pub fn transform<S: Data<Elem = f64>>(
        &self,
        x: &ArrayBase<S, Ix2>,
    ) -> Result<Array2<f64>, StandardizeError> {
        self.check_columns(x.ncols())?;
        Ok((x - &self.mean) / &self.std)
    }

    /// `x = z·σ + μ`: undoes [`transform`](Self::transform).
    ///
    /// # Errors
    ///
    /// [`ShapeMismatch`](StandardizeError::ShapeMismatch) if `z` has a different number of
    /// columns from the training data.
    pub fn inverse_transform<S: Data<Elem = f64>>(
        &self,
        z: &ArrayBase<S, Ix2>,
    ) -> Result<Array2<f64>, StandardizeError> {
        self.check_columns(z.ncols())?;
        Ok(z * &self.std + &self.mean)
    }

    /// [`fit`](Self::fit) on `x`, then [`transform`](Self::transform) it.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit).
    pub fn fit_transform<S: Data<Elem = f64>>(
        x: &ArrayBase<S, Ix2>,
    ) -> Result<(Self, Array2<f64>), StandardizeError> {
        let s = Self::fit(x)?;
        let z = s.transform(x)?;
        Ok((s, z))
    }

    /// The fitted column means `μ`.
    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }

    /// The fitted column standard deviations `σ` (all positive).
    pub fn std(&self) -> &Array1<f64> {
        &self.std
    }

    /// The number of columns (features) fitted.
    pub fn num_features(&self) -> usize {
        self.mean.len()
    }

    fn check_columns(&self, found: usize) -> Result<(), StandardizeError> {
        if found == self.num_features() {
            Ok(())
        } else {
            Err(StandardizeError::ShapeMismatch {
                expected: self.num_features(),
                found,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use ndarray::array;

    #[test]
    fn fit_computes_population_mean_and_std() {
        // Column 0: 1, 2, 3, 6 → μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5.
        // Column 1: −2, −2, 0, 4 → μ = 0, σ² = (4 + 4 + 0 + 16)/4 = 6.
        let x = array![[1.0, -2.0], [2.0, -2.0], [3.0, 0.0], [6.0, 4.0]];
        let s = Standardizer::fit(&x).unwrap();
        assert_eq!(s.num_features(), 2);
        assert_relative_eq!(s.mean()[0], 3.0);
        assert_relative_eq!(s.mean()[1], 0.0);
        assert_relative_eq!(s.std()[0], 3.5f64.sqrt(), max_relative = 1e-15);
        assert_relative_eq!(s.std()[1], 6.0f64.sqrt(), max_relative = 1e-15);
    }

    #[test]
    fn transformed_training_data_has_zero_mean_and_unit_variance() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| {
            let t = i as f64;
            [1e4 + 3.0 * t, (t * 0.7).sin(), -1e-3 * t * t][j]
        });
        let (_, z) = Standardizer::fit_transform(&x).unwrap();
        for col in z.columns() {
            let mean = col.sum() / 50.0;
            let var = col.mapv(|v| (v - mean) * (v - mean)).sum() / 50.0;
            assert!(mean.abs() < 1e-12, "mean {mean}");
            assert_relative_eq!(var, 1.0, max_relative = 1e-12);
        }
    }

    #[test]
    fn inverse_transform_round_trips() {
        let x = array![[1.0, 10.0, -3.0], [4.0, 20.0, 5.0], [2.5, 15.0, 0.5]];
        let s = Standardizer::fit(&x).unwrap();
        let other = array![[0.0, 0.0, 0.0], [100.0, -7.0, 2.0]];
        let back = s.inverse_transform(&s.transform(&other).unwrap()).unwrap();
        for (a, b) in back.iter().zip(&other) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn transform_applies_the_training_statistics() {
        let s = Standardizer::fit(&array![[0.0], [2.0]]).unwrap(); // μ = 1, σ = 1
        assert_eq!(
            s.transform(&array![[5.0], [-1.0]]).unwrap(),
            array![[4.0], [-2.0]]
        );
    }

    #[test]
    fn views_are_accepted() {
        let x = array![[1.0, 2.0, 9.0], [3.0, 5.0, 9.0], [2.0, 8.0, 9.0]];
        let s = Standardizer::fit(&x.slice(ndarray::s![.., ..2])).unwrap();
        assert_eq!(s.num_features(), 2);
        assert!(s.transform(&x.t().slice(ndarray::s![.., ..2])).is_ok());
    }

    #[test]
    fn constant_column_is_an_error() {
        let x = array![[1.0, 0.25], [2.0, 0.25], [3.0, 0.25]];
        assert_eq!(
            Standardizer::fit(&x),
            Err(StandardizeError::ZeroVariance {
                column: 1,
                value: 0.25
            })
        );
    }

    #[test]
    fn constant_column_is_caught_despite_rounding() {
        // 0.1 is not exact in binary: the mean of 1000 copies differs from 0.1 in the last
        // bits, leaving a tiny nonzero variance that must still count as constant.
        let x = Array2::from_elem((1000, 1), 0.1);
        assert!(matches!(
            Standardizer::fit(&x),
            Err(StandardizeError::ZeroVariance { column: 0, .. })
        ));
    }

    #[test]
    fn single_row_is_a_zero_variance_error() {
        assert!(matches!(
            Standardizer::fit(&array![[1.0, 2.0]]),
            Err(StandardizeError::ZeroVariance { column: 0, .. })
        ));
    }

    #[test]
    fn empty_and_non_finite_inputs_are_errors() {
        assert_eq!(
            Standardizer::fit(&Array2::<f64>::zeros((0, 3))),
            Err(StandardizeError::NoRows)
        );
        let x = array![[1.0, 2.0], [3.0, f64::INFINITY]];
        assert_eq!(
            Standardizer::fit(&x),
            Err(StandardizeError::NonFinite {
                row: 1,
                column: 1,
                value: f64::INFINITY
            })
        );
    }

    #[test]
    fn wrong_number_of_columns_is_an_error() {
        let s = Standardizer::fit(&array![[1.0, 2.0], [3.0, 5.0]]).unwrap();
        let wrong = array![[1.0, 2.0, 3.0]];
        let expected = Err(StandardizeError::ShapeMismatch {
            expected: 2,
            found: 3,
        });
        assert_eq!(s.transform(&wrong), expected);
        assert_eq!(s.inverse_transform(&wrong), expected);
    }

    #[test]
    fn errors_explain_themselves() {
        let e = StandardizeError::ZeroVariance {
            column: 4,
            value: 1.5,
        };
        assert_eq!(
            e.to_string(),
            "column 4 is constant (1.5) and cannot be scaled to variance 1; drop it"
        );
        let e = StandardizeError::ShapeMismatch {
            expected: 2,
            found: 3,
        };
        assert_eq!(
            e.to_string(),
            "expected 2 columns, as in the data the standardizer was fitted on, found 3"
        );
    }
}
