//! Data-parallel minibatch gradients: the batch cut into shards, one gradient per shard on the
//! cores of the machine, and the shards' results combined into the batch's.
//!
//! A generated `f_grad` runs on the thread that calls it, and a training step on a minibatch
//! therefore uses one core. The loss of a minibatch is almost always a mean (or a sum) over its
//! examples, and so is its gradient; cutting the batch into contiguous shards, differentiating
//! each shard on a thread of [rayon]'s pool and adding the results gives the batch's value and
//! gradient with all cores at work. Gradients and pullbacks are `Send` wherever the data they
//! keep is, so any `_grad` serves, and the results are combined through [`Differentiable`] —
//! `(value, gradient)` as `_grad` returns it is itself `Differentiable` — so parameter structs,
//! tuples of gradients, ndarray arrays and `Vec`s all work.
//!
//! # Weighting
//!
//! For a loss that is a mean over the batch's `n` examples, `L(θ) = (1/n) Σᵢ ℓᵢ(θ)`, a shard `k`
//! of `n_k` examples computes its own mean `L_k = (1/n_k) Σ_{i∈k} ℓᵢ`, and
//!
//! ```text
//! L = Σ_k (n_k/n) · L_k        ∇L = Σ_k (n_k/n) · ∇L_k
//! ```
//!
//! which is what [`mean`] computes: shards of unequal sizes are weighted by their sizes. [`sum`]
//! is for a loss that is a sum over the examples (weights 1). Either equals the single call on
//! the whole batch up to rounding — a few units in the last place, from adding in another
//! order. A term that does not depend on the examples, such as a weight penalty `λ‖θ‖²` added
//! inside the loss, is right under [`mean`] (the weights add up to 1) and counted once per
//! non-empty shard under [`sum`]. A loss that couples examples — batch normalization in training
//! mode, whose statistics are taken over the batch, or a contrastive loss over pairs — is not a
//! sum of per-example terms, and sharding changes what it computes.
//!
//! # Determinism
//!
//! For a fixed [`Shards`] (a fixed number of shards and the same batch), the result is the same
//! bit for bit from run to run, whatever the number of threads and however rayon schedules the
//! work: each shard is differentiated by one call of the user's function, and the shards'
//! results are added in a fixed binary tree — shards `0..k/2` and `k/2..k` summed recursively,
//! then the two sums added — that depends on the shards only. (Provided the user's
//! function is itself deterministic; the runtime's rules are.) Different shard counts give
//! results that differ by rounding, so [`Shards::per_thread`], whose count is the number of
//! threads, is reproducible on one machine but not across machines; use [`Shards::even`] with a
//! fixed count where results must match everywhere.
//!
//! # Threads
//!
//! The work runs in rayon's current pool: the global one (as many threads as cores, or
//! `RAYON_NUM_THREADS`), or the pool whose `install` the call runs in. A single shard runs on
//! the calling thread. A calling thread outside the pool — a training loop's main thread —
//! evaluates the first non-empty shard itself while the pool's threads take the others,
//! instead of handing every shard to the pool and sleeping until they are done: a step wakes
//! one thread fewer, and the first shard runs where the previous step ran, on memory the
//! previous step left in that core's caches. With [`Shards::per_thread`] one of the pool's
//! threads is then left idle, and the shards keep as many cores busy as the pool has threads;
//! with more shards than that, the calling thread's shard runs beside all of the pool's threads.
//! Empty shards (more shards than examples) are skipped, and an empty batch calls the function
//! once, on the empty batch, as the single call would.
//!
//! # Example
//!
//! Least squares `L(w) = (1/n) Σᵢ (w·xᵢ − yᵢ)²`, with a hand-written `loss_grad` standing in for
//! a `#[differentiate]`d function's `_grad` (the examples `deep_mlp` and the test
//! `tests/parallel.rs` of the `autodiff` crate use generated ones):
//!
//! ```
//! use autodiff_runtime::parallel::{self, Shards};
//!
//! /// The mean squared residual and its derivative `(2/n) Σᵢ (w·xᵢ − yᵢ)·xᵢ`.
//! fn loss_grad(w: f64, xs: &[f64], ys: &[f64]) -> (f64, f64) {
//!     let n = xs.len() as f64;
//!     let (mut loss, mut grad) = (0.0, 0.0);
//!     for (x, y) in xs.iter().zip(ys) {
//!         let r = w * x - y;
//!         loss += r * r / n;
//!         grad += 2.0 * r * x / n;
//!     }
//!     (loss, grad)
//! }
//!
//! let xs: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
//! let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x + 0.1).collect();
//! // Three shards of 334, 333 and 333 examples, on the pool's threads.
//! let (loss, grad) = parallel::mean(&Shards::even(3), (&xs, &ys), |(xs, ys)| {
//!     loss_grad(0.5, xs, ys)
//! });
//! let (loss_1, grad_1) = loss_grad(0.5, &xs, &ys);
//! assert!((loss - loss_1).abs() <= 1e-14 * loss_1.abs());
//! assert!((grad - grad_1).abs() <= 1e-14 * grad_1.abs());
//! ```
//!
//! With ndarray data, the shards of `&x` are owned copies of its rows (a generated gradient
//! takes `&Array2`), and a slice of labels gives subslices:
//! `parallel::mean(&Shards::per_thread(), (&x, &labels[..]), |(x, labels)| loss_grad(&params,
//! &x, labels))`. Any other indexable data can be sharded by its row numbers, a `Range<usize>`:
//! `parallel::mean(&shards, 0..n, |rows| loss_grad(&params, &examples[rows]))`.

use core::ops::Range;

use ndarray::{ArrayBase, Axis, Data, Dimension, Slice};

use crate::{Differentiable, Real};

/// How a batch is cut into contiguous shards of examples (rows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shards(Split);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Split {
    /// This many shards, as even as possible.
    Even(usize),
    /// Shard `k` is `bounds[k]..bounds[k + 1]`.
    At(Vec<usize>),
}

impl Shards {
    /// `count` shards of sizes as equal as possible: a batch of `n` gives the first `n % count`
    /// shards `⌈n/count⌉` examples and the others `⌊n/count⌋` (so some are empty when
    /// `count > n`). Panics if `count` is 0.
    pub fn even(count: usize) -> Self {
        assert!(count > 0, "Shards::even: at least one shard is needed");
        Shards(Split::Even(count))
    }

    /// One shard per thread of rayon's current pool, as [`even`](Self::even). The count follows
    /// the machine (or `RAYON_NUM_THREADS`), and with it the rounding of the result: see the
    /// [module documentation](self#determinism).
    pub fn per_thread() -> Self {
        Self::even(rayon::current_num_threads())
    }

    /// Shards with the given boundaries: shard `k` holds examples `bounds[k]..bounds[k + 1]`.
    /// `bounds` starts at 0, never decreases, and must end at the batch's length (checked when
    /// the shards are used). Equal neighbours make an empty shard.
    pub fn at(bounds: impl Into<Vec<usize>>) -> Self {
        let bounds = bounds.into();
        assert!(
            bounds.len() >= 2 && bounds[0] == 0,
            "Shards::at: the boundaries must start at 0 and have at least two entries, got \
             {bounds:?}"
        );
        assert!(
            bounds.windows(2).all(|w| w[0] <= w[1]),
            "Shards::at: the boundaries must not decrease, got {bounds:?}"
        );
        Shards(Split::At(bounds))
    }

    /// The number of shards (empty ones included).
    pub fn count(&self) -> usize {
        match &self.0 {
            Split::Even(k) => *k,
            Split::At(bounds) => bounds.len() - 1,
        }
    }

    /// The examples of each shard of a batch of `n`, in order. Panics if the boundaries given
    /// to [`at`](Self::at) do not end at `n`.
    pub fn ranges(&self, n: usize) -> Vec<Range<usize>> {
        match &self.0 {
            Split::Even(k) => {
                let (base, extra) = (n / k, n % k);
                let mut start = 0;
                (0..*k)
                    .map(|i| {
                        let len = base + usize::from(i < extra);
                        start += len;
                        start - len..start
                    })
                    .collect()
            }
            Split::At(bounds) => {
                let end = bounds[bounds.len() - 1];
                assert!(
                    end == n,
                    "Shards::at: the boundaries end at {end}, but the batch has {n} examples"
                );
                bounds.windows(2).map(|w| w[0]..w[1]).collect()
            }
        }
    }
}

/// Data that can be cut into shards of examples along its first axis: what [`mean`] and [`sum`]
/// take as the batch.
///
/// Implemented for a `Range<usize>` of example numbers (for any other indexable data: the
/// shard is a sub-range), slices and `Vec`s by reference (a subslice), ndarray arrays and views
/// by reference (an owned `Array` of the shard's rows, since generated gradients take `&Array`;
/// the copy is one pass over the batch), and tuples of these, whose members must have the same
/// length.
pub trait Batch: Sync {
    /// One shard of the batch, as the user's function receives it.
    type Shard;

    /// The number of examples.
    fn batch_len(&self) -> usize;

    /// The examples `rows` (a range within `0..self.batch_len()`).
    fn shard(&self, rows: Range<usize>) -> Self::Shard;
}

impl Batch for Range<usize> {
    type Shard = Range<usize>;
    fn batch_len(&self) -> usize {
        self.len()
    }
    fn shard(&self, rows: Range<usize>) -> Range<usize> {
        assert!(rows.end <= self.len(), "shard {rows:?} out of {self:?}");
        self.start + rows.start..self.start + rows.end
    }
}

impl<'a, T: Sync> Batch for &'a [T] {
    type Shard = &'a [T];
    fn batch_len(&self) -> usize {
        self.len()
    }
    fn shard(&self, rows: Range<usize>) -> &'a [T] {
        &self[rows]
    }
}

impl<'a, T: Sync> Batch for &'a Vec<T> {
    type Shard = &'a [T];
    fn batch_len(&self) -> usize {
        self.len()
    }
    fn shard(&self, rows: Range<usize>) -> &'a [T] {
        &self[rows]
    }
}

impl<A, S, D> Batch for &ArrayBase<S, D>
where
    A: Clone,
    S: Data<Elem = A> + Sync,
    D: Dimension,
{
    type Shard = ndarray::Array<A, D>;
    fn batch_len(&self) -> usize {
        self.len_of(Axis(0))
    }
    fn shard(&self, rows: Range<usize>) -> ndarray::Array<A, D> {
        self.slice_axis(Axis(0), Slice::from(rows)).to_owned()
    }
}

macro_rules! impl_batch_tuple {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Batch),+> Batch for ($($name,)+) {
            type Shard = ($($name::Shard,)+);
            fn batch_len(&self) -> usize {
                let lens = [$(self.$idx.batch_len()),+];
                assert!(
                    lens.iter().all(|&l| l == lens[0]),
                    "the members of a batch tuple must have the same number of examples, got \
                     {lens:?}"
                );
                lens[0]
            }
            fn shard(&self, rows: Range<usize>) -> Self::Shard {
                ($(self.$idx.shard(rows.clone()),)+)
            }
        }
    };
}
impl_batch_tuple!(A 0);
impl_batch_tuple!(A 0, B 1);
impl_batch_tuple!(A 0, B 1, C 2);
impl_batch_tuple!(A 0, B 1, C 2, D 3);

/// The batch's value (and gradient) for a loss that is a **mean** over the examples: `f` on
/// every shard of `batch` in parallel, each result weighted by its shard's share of the
/// examples, `n_k/n`, and the weighted results added.
///
/// `f` is typically a closure around a generated `_grad` (`R = (value, gradient)`), but any
/// [`Differentiable`] result works: a value alone, several gradients in a tuple. The result
/// equals `f` on the whole batch up to rounding, and is deterministic for fixed `shards`; see
/// the [module documentation](self) for the weighting, the determinism and the threads.
///
/// ```
/// use autodiff_runtime::parallel::{self, Shards};
/// use ndarray::{Array1, Array2};
///
/// // The mean of xᵢ·w over the rows and its gradient, the mean row: (value, gradient).
/// let value_grad = |x: &Array2<f64>, w: &Array1<f64>| {
///     (x.dot(w).mean().unwrap(), x.mean_axis(ndarray::Axis(0)).unwrap())
/// };
/// let x = Array2::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as f64);
/// let w = Array1::from(vec![1.0, -2.0, 0.5]);
/// // Shards of 1, 6 and 3 rows.
/// let (v, g) = parallel::mean(&Shards::at([0, 1, 7, 10]), &x, |x| value_grad(&x, &w));
/// let (v1, g1) = value_grad(&x, &w);
/// assert!((v - v1).abs() < 1e-12);
/// assert!((&g - &g1).iter().all(|d| d.abs() < 1e-12));
/// ```
pub fn mean<B, R, F>(shards: &Shards, batch: B, f: F) -> R
where
    B: Batch,
    R: Differentiable + Send,
    F: Fn(B::Shard) -> R + Sync,
{
    combine(shards, batch, f, Weights::Mean)
}

/// The batch's value (and gradient) for a loss that is a **sum** over the examples: `f` on
/// every shard of `batch` in parallel, and the results added. As [`mean`] otherwise.
pub fn sum<B, R, F>(shards: &Shards, batch: B, f: F) -> R
where
    B: Batch,
    R: Differentiable + Send,
    F: Fn(B::Shard) -> R + Sync,
{
    combine(shards, batch, f, Weights::Sum)
}

#[derive(Clone, Copy)]
enum Weights {
    Mean,
    Sum,
}

fn combine<B, R, F>(shards: &Shards, batch: B, f: F, weights: Weights) -> R
where
    B: Batch,
    R: Differentiable + Send,
    F: Fn(B::Shard) -> R + Sync,
{
    let n = batch.batch_len();
    if n == 0 {
        return f(batch.shard(0..0));
    }
    let ranges = shards.ranges(n);
    let job = Job {
        batch: &batch,
        f: &f,
        n,
        weights,
    };
    job.run(&ranges)
        .expect("a non-empty batch has a non-empty shard")
}

/// What every shard's evaluation shares.
struct Job<'a, B, F> {
    batch: &'a B,
    f: &'a F,
    /// The batch's number of examples.
    n: usize,
    weights: Weights,
}

impl<B, F> Job<'_, B, F> {
    /// The weighted sum of `f` over the shards `ranges`, `None` if they are all empty: one
    /// shard evaluated here, more split in halves evaluated in parallel and added, left plus
    /// right, so that the order of additions depends on the shards only. On a thread of the
    /// pool the halves are a `rayon::join`; on a thread outside it, the left half is evaluated
    /// here and the right half spawned into the pool (so that this thread evaluates the first
    /// non-empty shard).
    fn run<R>(&self, ranges: &[Range<usize>]) -> Option<R>
    where
        B: Batch,
        R: Differentiable + Send,
        F: Fn(B::Shard) -> R + Sync,
    {
        match ranges {
            [] => None,
            [rows] if rows.is_empty() => None,
            [rows] => {
                let mut r = (self.f)(self.batch.shard(rows.clone()));
                if matches!(self.weights, Weights::Mean) && rows.len() != self.n {
                    r.scale(R::Scalar::of_f64(rows.len() as f64 / self.n as f64));
                }
                Some(r)
            }
            _ => {
                let (left, right) = ranges.split_at(ranges.len() / 2);
                let halves = if rayon::current_thread_index().is_some() {
                    rayon::join(|| self.run(left), || self.run(right))
                } else if left.iter().all(|rows| rows.is_empty()) {
                    // Nothing to evaluate on the left: the first non-empty shard is on the
                    // right, and so is the calling thread's work.
                    (None, self.run(right))
                } else {
                    // A thread outside the pool (a training loop's main thread) evaluates the
                    // left half itself while the pool evaluates the right, instead of handing
                    // both to the pool and sleeping.
                    let mut r = None;
                    let l = rayon::in_place_scope(|s| {
                        s.spawn(|_| r = self.run(right));
                        self.run(left)
                    });
                    (l, r)
                };
                match halves {
                    (Some(mut l), Some(r)) => {
                        l.add_assign(&r);
                        Some(l)
                    }
                    (l, r) => l.or(r),
                }
            }
        }
    }
}

/// The number of threads in rayon's current pool: what [`Shards::per_thread`] uses.
pub fn threads() -> usize {
    rayon::current_num_threads()
}
