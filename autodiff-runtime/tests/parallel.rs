//! `parallel`: how batches are cut into shards, the determinism of the combined result across
//! thread pools, and the errors of inconsistent batches. (The agreement of sharded and
//! single-call gradients of generated functions is tested in the `autodiff` crate's
//! `tests/parallel.rs`.)

use autodiff_runtime::parallel::{self, Batch, Shards};
use ndarray::{Array2, array};

#[test]
fn even_shards_differ_in_size_by_at_most_one_and_cover_the_batch_in_order() {
    assert_eq!(Shards::even(3).ranges(10), vec![0..4, 4..7, 7..10]);
    assert_eq!(Shards::even(1).ranges(5), vec![0..5]);
    assert_eq!(Shards::even(4).ranges(2), vec![0..1, 1..2, 2..2, 2..2]);
    assert_eq!(Shards::even(2).ranges(0), vec![0..0, 0..0]);
    for n in 0..40 {
        for k in 1..12 {
            let r = Shards::even(k).ranges(n);
            assert_eq!(r.len(), k);
            assert_eq!(r[0].start, 0);
            assert_eq!(r[k - 1].end, n);
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
            let (lo, hi) = (n / k, n.div_ceil(k));
            assert!(
                r.iter().all(|s| s.len() == lo || s.len() == hi),
                "{n} in {k}: {r:?}"
            );
        }
    }
    assert_eq!(Shards::per_thread().count(), parallel::threads());
}

#[test]
fn explicit_boundaries_are_the_shards() {
    let s = Shards::at([0, 0, 3, 3, 7]);
    assert_eq!(s.count(), 4);
    assert_eq!(s.ranges(7), vec![0..0, 0..3, 3..3, 3..7]);
}

#[test]
#[should_panic(expected = "the boundaries end at 7, but the batch has 8 examples")]
fn boundaries_must_end_at_the_batch_length() {
    parallel::sum(&Shards::at([0, 3, 7]), 0..8, |rows| rows.len() as f64);
}

#[test]
#[should_panic(expected = "must not decrease")]
fn boundaries_must_not_decrease() {
    Shards::at([0, 5, 3]);
}

#[test]
#[should_panic(expected = "at least one shard")]
fn zero_shards_are_rejected() {
    Shards::even(0);
}

#[test]
#[should_panic(expected = "must have the same number of examples, got [3, 2]")]
fn tuple_members_must_have_the_same_length() {
    let x: Array2<f64> = Array2::zeros((3, 2));
    let labels = [0usize, 1];
    parallel::mean(&Shards::even(2), (&x, &labels[..]), |(x, _)| x.sum());
}

#[test]
fn shards_of_arrays_are_their_rows_and_of_slices_their_subslices() {
    let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let v = vec![10, 20, 30];
    let view = x.t();
    assert_eq!((&x).shard(1..3), array![[3.0, 4.0], [5.0, 6.0]]);
    assert_eq!((&view).batch_len(), 2);
    assert_eq!((&view).shard(1..2), array![[2.0, 4.0, 6.0]]);
    assert_eq!((&v).shard(0..2), &[10, 20][..]);
    assert_eq!((5..9).shard(1..3), 6..8);
    assert_eq!((&x, &v[..]).shard(2..3), (array![[5.0, 6.0]], &[30][..]));
}

/// Values of very different magnitudes: their sum rounds differently in every order, so equal
/// bits below mean equal orders of addition.
fn terms(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let m = ((i * 7919) % 23) as i32 - 11;
            (i as f64 * 0.37).sin() * 10f64.powi(m)
        })
        .collect()
}

/// The mean of the terms and, as a "gradient", the mean of a 3-vector per term.
fn value_grad(t: &[f64]) -> (f64, Vec<f64>) {
    let n = t.len() as f64;
    let v = t.iter().sum::<f64>() / n;
    let g = vec![
        t.iter().map(|x| x * x).sum::<f64>() / n,
        t.iter().map(|x| x.cos()).sum::<f64>() / n,
        t.iter().map(|x| x.exp().min(1e300)).sum::<f64>() / n,
    ];
    (v, g)
}

#[test]
fn results_are_bit_identical_across_thread_pools_for_fixed_shards() {
    let t = terms(1001);
    for shards in [
        Shards::even(7),
        Shards::even(64),
        Shards::at([0, 1, 500, 500, 1001]),
    ] {
        let reference = parallel::mean(&shards, &t[..], value_grad);
        for threads in [1, 2, 3, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            for _ in 0..4 {
                let got = pool.install(|| parallel::mean(&shards, &t[..], value_grad));
                assert_eq!(
                    got.0.to_bits(),
                    reference.0.to_bits(),
                    "{shards:?} on {threads} threads"
                );
                assert!(
                    got.1
                        .iter()
                        .zip(&reference.1)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{shards:?} on {threads} threads: {:?} vs {:?}",
                    got.1,
                    reference.1
                );
            }
        }
    }
    // The data is sensitive to the order of addition: another shard count changes the bits.
    let a = parallel::mean(&Shards::even(7), &t[..], value_grad);
    let b = parallel::mean(&Shards::even(8), &t[..], value_grad);
    assert_ne!(a, b);
    assert!((a.0 - b.0).abs() <= 1e-12 * a.0.abs());
}

#[test]
fn a_single_shard_runs_on_the_calling_thread() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a thread pool");
    let caller = std::thread::current().id();
    let t = terms(10);
    pool.install(|| {
        let here = std::thread::current().id();
        parallel::mean(&Shards::even(1), &t[..], |t| {
            assert_eq!(std::thread::current().id(), here);
            value_grad(t)
        })
    });
    // Outside any pool, too.
    parallel::mean(&Shards::even(1), &t[..], |t| {
        assert_eq!(std::thread::current().id(), caller);
        value_grad(t)
    });
}

#[test]
fn a_caller_outside_the_pool_evaluates_the_first_shard_and_the_pool_the_others() {
    let caller = std::thread::current().id();
    assert_eq!(
        rayon::current_thread_index(),
        None,
        "the test runs outside rayon's pools"
    );
    let t = terms(40);
    for shards in [Shards::even(2), Shards::even(5), Shards::at([0, 0, 3, 40])] {
        // The first example of each evaluated shard, the thread that evaluated it and whether
        // that thread is one of the pool's.
        let ran = std::sync::Mutex::new(Vec::new());
        let got = parallel::mean(&shards, &t[..], |s| {
            let first = (s.as_ptr() as usize - t.as_ptr() as usize) / size_of::<f64>();
            let thread = (std::thread::current().id(), rayon::current_thread_index());
            ran.lock().unwrap().push((first, thread));
            value_grad(s)
        });
        let mut ran = ran.into_inner().unwrap();
        ran.sort_by_key(|&(first, _)| first);
        let nonempty: Vec<usize> = shards
            .ranges(t.len())
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|r| r.start)
            .collect();
        assert_eq!(
            ran.iter().map(|&(first, _)| first).collect::<Vec<_>>(),
            nonempty,
            "{shards:?}: every non-empty shard once"
        );
        assert_eq!(ran[0].1, (caller, None), "{shards:?}: the first shard");
        for &(first, (thread, index)) in &ran[1..] {
            assert!(
                thread != caller && index.is_some(),
                "{shards:?}: the shard at {first} ran on {thread:?}, not on a thread of the pool"
            );
        }
        // The same bits as the tree of additions inside a pool.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool");
        let inside = pool.install(|| parallel::mean(&shards, &t[..], value_grad));
        assert_eq!(got.0.to_bits(), inside.0.to_bits(), "{shards:?}");
        assert!(
            got.1
                .iter()
                .zip(&inside.1)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{shards:?}"
        );
    }
}
