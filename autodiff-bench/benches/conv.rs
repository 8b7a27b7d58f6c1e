//! Convolution benchmarks: `cargo bench --bench conv`.
//!
//! First a ratio table: for each conv layer, the backward pass (the pullback of
//! `conv::conv2d_nchw_vjp`, giving `∂x`, `∂w` and `∂b`) over the forward pass
//! (`conv::conv2d_nchw`), each the median over interleaved rounds of the ratio of two timings of
//! the same round, so that the drift of a shared machine cancels out. The target is a
//! backward pass of at most 3× the forward pass. Then criterion benches of the main layer
//! (`N=32, C=16, 28×28, K=32, 3×3, stride 1, padding 1`, `f32`) and of pooling.
//!
//! Arguments after `--` go to criterion (a filter such as `forward` selects its benches; the ratio
//! table always runs). Run without `--bench` (as `cargo test --benches` does), it checks one
//! gradient and runs every criterion bench once, timing nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use autodiff::conv;
use criterion::{BatchSize, Criterion};
use ndarray::{Array1, Array4};

/// A convolution layer: input `N×C×H×W`, `K` filters of `kh×kw`, stride, padding.
#[derive(Clone, Copy)]
struct Layer {
    name: &'static str,
    x: [usize; 4],
    k: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

const MAIN: Layer = Layer {
    name: "N32 C16 28x28 K32 3x3 s1 p1",
    x: [32, 16, 28, 28],
    k: 32,
    kernel: 3,
    stride: 1,
    padding: 1,
};

const LAYERS: [Layer; 5] = [
    MAIN,
    Layer {
        name: "N32 C16 28x28 K32 3x3 s2 p1",
        stride: 2,
        ..MAIN
    },
    Layer {
        name: "N32 C32 14x14 K64 1x1 s1 p0",
        x: [32, 32, 14, 14],
        k: 64,
        kernel: 1,
        stride: 1,
        padding: 0,
    },
    Layer {
        name: "N64 C1 8x8 K8 3x3 s1 p1 (digits)",
        x: [64, 1, 8, 8],
        k: 8,
        kernel: 3,
        stride: 1,
        padding: 1,
    },
    Layer {
        name: "N64 C8 4x4 K16 3x3 s1 p1 (digits)",
        x: [64, 8, 4, 4],
        k: 16,
        kernel: 3,
        stride: 1,
        padding: 1,
    },
];

/// Deterministic pseudo-random values in `[-1, 1)`.
fn filled<T: From<f32>>(shape: [usize; 4], seed: u32) -> Array4<T> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    Array4::from_shape_simple_fn(shape, || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        T::from((state >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
    })
}

struct Data<T> {
    x: Array4<T>,
    w: Array4<T>,
    b: Array1<T>,
    g: Array4<T>,
}

impl Layer {
    fn data<T: From<f32> + Clone>(&self) -> Data<T> {
        let [_, c, _, _] = self.x;
        let x = filled(self.x, 1);
        let w = filled([self.k, c, self.kernel, self.kernel], 2);
        let b = Array1::from_elem(self.k, T::from(0.1));
        let out = conv::Conv2dConfig::new(self.stride, self.padding)
            .output_size((self.x[2], self.x[3]), (self.kernel, self.kernel));
        let g = filled([self.x[0], self.k, out.0, out.1], 3);
        Data { x, w, b, g }
    }
}

/// Rounds of the ratio table.
const ROUNDS: usize = 31;

fn time<R>(f: impl FnOnce() -> R) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median over rounds of backward/forward and (vjp + backward)/forward, and the median forward
/// time, for one layer.
fn ratios<T>(layer: &Layer, rounds: usize) -> (f64, f64, Duration)
where
    T: conv::NdReal + From<f32>,
{
    let Data { x, w, b, g } = layer.data::<T>();
    let (s, p) = (layer.stride, layer.padding);
    // Small layers: time batches of calls, so that a sample is well above timer resolution.
    let once = time(|| conv::conv2d_nchw(&x, &w, &b, s, p));
    let reps = ((Duration::from_millis(2).as_secs_f64() / once.as_secs_f64().max(1e-9)) as usize)
        .clamp(1, 10_000);
    let (mut backward, mut full, mut forward_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let forward = || {
            time(|| {
                for _ in 0..reps {
                    black_box(conv::conv2d_nchw(&x, &w, &b, s, p));
                }
            })
        };
        let vjp_and_back = || {
            let cotangents: Vec<_> = (0..reps).map(|_| g.clone()).collect();
            let mut pullbacks = Vec::with_capacity(reps);
            let vjp = time(|| {
                for _ in 0..reps {
                    pullbacks.push(conv::conv2d_nchw_vjp(&x, &w, &b, s, p).1);
                }
            });
            let back = time(|| {
                for (pb, g) in pullbacks.into_iter().zip(cotangents) {
                    black_box(pb(g));
                }
            });
            (vjp, back)
        };
        // Alternate the order, so that neither always runs first.
        let (f, (v, bk)) = if round % 2 == 0 {
            let f = forward();
            (f, vjp_and_back())
        } else {
            let vb = vjp_and_back();
            (forward(), vb)
        };
        backward.push(bk.as_secs_f64() / f.as_secs_f64());
        full.push((v + bk).as_secs_f64() / f.as_secs_f64());
        forward_times.push(f.as_secs_f64() / reps as f64);
    }
    (
        median(backward),
        median(full),
        Duration::from_secs_f64(median(forward_times)),
    )
}

fn ratio_report(rounds: usize) {
    println!("conv2d_nchw: backward / forward, median over {rounds} interleaved rounds");
    println!(
        "{:<36} {:>5} {:>12} {:>16} {:>22}",
        "layer", "type", "forward", "backward/forward", "(vjp+backward)/forward"
    );
    for layer in &LAYERS {
        for ty in ["f32", "f64"] {
            let (back, full, fwd) = if ty == "f32" {
                ratios::<f32>(layer, rounds)
            } else {
                ratios::<f64>(layer, rounds)
            };
            println!(
                "{:<36} {:>5} {:>12} {:>16.2} {:>22.2}",
                layer.name,
                ty,
                format!("{fwd:.2?}"),
                back,
                full
            );
        }
    }
    println!();
}

fn criterion_benches(c: &mut Criterion) {
    let Data { x, w, b, g } = MAIN.data::<f32>();
    let (s, p) = (MAIN.stride, MAIN.padding);
    let mut group = c.benchmark_group(format!("conv2d_nchw f32 {}", MAIN.name));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("forward", |bch| {
        bch.iter(|| conv::conv2d_nchw(black_box(&x), &w, &b, s, p))
    });
    group.bench_function("vjp (forward, keeping x and w)", |bch| {
        bch.iter(|| conv::conv2d_nchw_vjp(black_box(&x), &w, &b, s, p).0)
    });
    group.bench_function("backward (pullback)", |bch| {
        bch.iter_batched(
            || (conv::conv2d_nchw_vjp(&x, &w, &b, s, p).1, g.clone()),
            |(pullback, g)| pullback(g),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let h = filled::<f32>([32, 32, 28, 28], 4);
    let gp = filled::<f32>([32, 32, 14, 14], 5);
    let mut group = c.benchmark_group("pool2d f32 N32 C32 28x28 2x2 s2");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("max forward", |bch| {
        bch.iter(|| conv::max_pool2d(black_box(&h), 2, 2))
    });
    group.bench_function("max backward", |bch| {
        bch.iter_batched(
            || (conv::max_pool2d_vjp(&h, 2, 2).1, gp.clone()),
            |(pullback, g)| pullback(g),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("avg forward", |bch| {
        bch.iter(|| conv::avg_pool2d(black_box(&h), 2, 2))
    });
    group.bench_function("avg backward", |bch| {
        bch.iter_batched(
            || (conv::avg_pool2d_vjp(&h, 2, 2).1, gp.clone()),
            |(pullback, g)| pullback(g),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Without `--bench`: the benched gradient is the right one (a spot check of `∂b`, which is the
/// sum of the cotangent per filter, and of `∂w` against a finite difference).
fn check() {
    let layer = Layer {
        x: [2, 3, 6, 5],
        k: 4,
        ..MAIN
    };
    let Data { x, w, b, g } = layer.data::<f64>();
    let (s, p) = (layer.stride, layer.padding);
    let (_, pullback) = conv::conv2d_nchw_vjp(&x, &w, &b, s, p);
    let (_, dw, db) = pullback(g.clone());
    for k in 0..layer.k {
        let expected: f64 = g.index_axis(ndarray::Axis(1), k).sum();
        assert!((db[k] - expected).abs() < 1e-12);
    }
    let loss = |w: &Array4<f64>| (conv::conv2d_nchw(&x, w, &b, s, p) * &g).sum();
    let (mut plus, mut minus) = (w.clone(), w.clone());
    plus[[1, 2, 0, 1]] += 1e-6;
    minus[[1, 2, 0, 1]] -= 1e-6;
    let numeric = (loss(&plus) - loss(&minus)) / 2e-6;
    assert!((numeric - dw[[1, 2, 0, 1]]).abs() < 1e-6);
}

fn main() {
    check();
    if std::env::args().any(|a| a == "--bench") {
        ratio_report(ROUNDS);
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
