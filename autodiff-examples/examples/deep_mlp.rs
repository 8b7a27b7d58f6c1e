//! The lecture's deep network, ŷ = vᵀh(W⁴h(W³h(W²h(W¹x)))), with bias variables, trained on
//! the red-wine quality data (1,599 wines, 11 physico-chemical measurements, quality scored
//! 3–8) that `linfa-datasets` ships, beside the residual variant whose hidden layers add their
//! input back: a^{l+1} = h(W^{l+1} a^l + b^{l+1}) + a^l.
//!
//! The features are standardized on the training split (the lecture's "centering"), the weights
//! start "small but different" (He initialization, seeded), the gradient of the minibatch loss
//! comes from `#[differentiate]`, and Adam takes the steps.
//!
//! Each network is trained twice from the same start, epoch by epoch side by side: once with
//! the minibatch gradient on one thread, once data-parallel with `autodiff::parallel::mean`
//! (each minibatch cut into one shard of rows per core, the shards' gradients computed in
//! parallel and combined, weighted by their shares of the rows since the loss is a mean). The
//! two see the same gradients up to rounding and print the same errors; the time per epoch of
//! each is printed at the end. These networks are small (3,585 parameters, minibatches of 64),
//! so a step takes tens of microseconds and handing half of it to another thread costs a good
//! part of what it saves: data-parallel gradients pay on larger steps, such as the 59,146
//! parameters of `cargo bench --bench report`'s MLP at batch 256.
//!
//! Run with `cargo run --release --example deep_mlp`.

use std::time::{Duration, Instant};

use autodiff::init::{StdRng, he_normal, seeded_rng};
use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::parallel::{self, Shards};
use autodiff::{Differentiable, differentiate, nn};
use ndarray::{Array1, Array2, Axis};

mod common;
use common::{Split, permutation, split_standardized};

const HIDDEN: usize = 32;
const BATCH: usize = 64;
const EPOCHS: usize = 30;

/// Four hidden layers with biases, then a linear output.
#[derive(Clone, Differentiable)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
    w3: Array2<f64>,
    b3: Array1<f64>,
    w4: Array2<f64>,
    b4: Array1<f64>,
    v: Array2<f64>,
    c: Array1<f64>,
}

impl Mlp {
    /// He-initialized weights, zero hidden biases, and the output bias at the mean target so
    /// that training starts from the mean prediction.
    fn new(inputs: usize, mean_target: f64, seed: u64) -> Self {
        let mut rng = seeded_rng(seed);
        Mlp {
            w1: he_normal(inputs, HIDDEN, &mut rng),
            b1: Array1::zeros(HIDDEN),
            w2: he_normal(HIDDEN, HIDDEN, &mut rng),
            b2: Array1::zeros(HIDDEN),
            w3: he_normal(HIDDEN, HIDDEN, &mut rng),
            b3: Array1::zeros(HIDDEN),
            w4: he_normal(HIDDEN, HIDDEN, &mut rng),
            b4: Array1::zeros(HIDDEN),
            // A small output layer: the first predictions are near the mean quality.
            v: he_normal(HIDDEN, 1, &mut rng) * 0.1,
            c: Array1::from_elem(1, mean_target),
        }
    }
}

/// Mean squared error of the plain network on a batch (rows of `x`, targets `y` as a column).
#[differentiate(wrt(p))]
fn plain_loss(p: &Mlp, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h1 = nn::relu(&(x.dot(&p.w1) + &p.b1));
    let h2 = nn::relu(&(h1.dot(&p.w2) + &p.b2));
    let h3 = nn::relu(&(h2.dot(&p.w3) + &p.b3));
    let h4 = nn::relu(&(h3.dot(&p.w4) + &p.b4));
    let out = h4.dot(&p.v) + &p.c;
    nn::mse(&out, y)
}

/// The same network with skip connections around hidden layers 2–4 (ResNet-style).
#[differentiate(wrt(p))]
fn residual_loss(p: &Mlp, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let a1 = nn::relu(&(x.dot(&p.w1) + &p.b1));
    let a2 = nn::relu(&(a1.dot(&p.w2) + &p.b2)) + &a1;
    let a3 = nn::relu(&(a2.dot(&p.w3) + &p.b3)) + &a2;
    let a4 = nn::relu(&(a3.dot(&p.w4) + &p.b4)) + &a3;
    let out = a4.dot(&p.v) + &p.c;
    nn::mse(&out, y)
}

type LossGrad = fn(&Mlp, &Array2<f64>, &Array2<f64>) -> (f64, Mlp);
type Loss = fn(&Mlp, &Array2<f64>, &Array2<f64>) -> f64;

/// The training and test sets: features, and targets as a column.
type Data = (Array2<f64>, Array2<f64>, Array2<f64>, Array2<f64>);

/// One training run with Adam on minibatches.
struct Trainer {
    params: Mlp,
    adam: Adam,
    /// Shuffles the training set each epoch.
    rng: StdRng,
    grad: LossGrad,
    /// `None`: each minibatch's gradient on the calling thread; else data-parallel over these.
    shards: Option<Shards>,
    /// The time each epoch's gradients and steps took.
    epoch_times: Vec<Duration>,
}

impl Trainer {
    /// The same start for every run: seeded parameters and shuffling.
    fn new(data: &Data, grad: LossGrad, shards: Option<Shards>) -> Self {
        let mean = data.1.mean().expect("training targets");
        Trainer {
            params: Mlp::new(data.0.ncols(), mean, 7),
            adam: Adam::new(AdamConfig {
                lr: 1e-3,
                ..Default::default()
            }),
            rng: seeded_rng(11),
            grad,
            shards,
            epoch_times: Vec::new(),
        }
    }

    /// One pass over the training set in shuffled minibatches.
    fn epoch(&mut self, (x_train, y_train, ..): &Data) {
        let order = permutation(x_train.nrows(), &mut self.rng);
        let start = Instant::now();
        for batch in order.chunks(BATCH) {
            let xb = x_train.select(Axis(0), batch);
            let yb = y_train.select(Axis(0), batch);
            let (params, grad) = (&self.params, self.grad);
            let (_, g) = match &self.shards {
                None => grad(params, &xb, &yb),
                Some(shards) => parallel::mean(shards, (&xb, &yb), |(x, y)| grad(params, &x, &y)),
            };
            self.adam.step(&mut self.params, &g);
        }
        self.epoch_times.push(start.elapsed());
    }

    /// The median time of an epoch, in milliseconds.
    fn epoch_ms(&self) -> f64 {
        let mut t: Vec<f64> = self.epoch_times.iter().map(|d| d.as_secs_f64()).collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2] * 1e3
    }
}

/// Trains the network of `grad` on one thread and data-parallel, side by side; returns the
/// (train, test) loss after each epoch of each, and the two trainers.
fn train(name: &str, grad: LossGrad, loss: Loss, data: &Data) -> [(Vec<(f64, f64)>, Trainer); 2] {
    let (x_train, y_train, x_test, y_test) = data;
    let mut runs = [None, Some(Shards::per_thread())]
        .map(|shards| (Vec::new(), Trainer::new(data, grad, shards)));
    let p = &runs[0].1.params;
    println!(
        "{name}: {} parameters; before training: train {:.4}, test {:.4}",
        p.num_scalars(),
        loss(p, x_train, y_train),
        loss(p, x_test, y_test)
    );
    for epoch in 1..=EPOCHS {
        for (history, trainer) in &mut runs {
            trainer.epoch(data);
            let p = &trainer.params;
            history.push((loss(p, x_train, y_train), loss(p, x_test, y_test)));
        }
        if epoch % 5 == 0 {
            let [(a, _), (b, _)] = &runs;
            let ((tr1, te1), (tr2, te2)) = (a[epoch - 1], b[epoch - 1]);
            println!(
                "{name}: epoch {epoch:>3}: train MSE {tr1:.4} | {tr2:.4}, test MSE {te1:.4} | \
                 {te2:.4}   (1 thread | data-parallel)"
            );
        }
    }
    runs
}

/// The wine data as ndarray 0.17 arrays: features and quality as a column.
fn wine() -> (Array2<f64>, Array2<f64>) {
    let ds = linfa_datasets::winequality();
    let records = ds.records();
    let (n, d) = (records.nrows(), records.ncols());
    let x = Array2::from_shape_vec((n, d), records.iter().copied().collect())
        .expect("the records are n × d");
    let y = Array2::from_shape_vec((n, 1), ds.targets().iter().map(|&q| q as f64).collect())
        .expect("one target per record");
    (x, y)
}

fn main() {
    let (x, y) = wine();
    let n = x.nrows();
    let Split {
        x_train,
        y_train,
        x_test,
        y_test,
    } = split_standardized(&x, &y, 3);
    let n_train = x_train.nrows();
    let mean = y_train.mean().expect("training targets");
    let baseline = y_test
        .mapv(|q| (q - mean) * (q - mean))
        .mean()
        .expect("test targets");
    println!(
        "red wine quality: {n} wines, {} features; {n_train} train, {} test",
        x.ncols(),
        n - n_train
    );
    println!("predicting the training mean gives test MSE {baseline:.4}\n");
    let data = (x_train, y_train, x_test, y_test);

    let plain = train("plain   ", plain_loss_grad, plain_loss, &data);
    println!();
    let residual = train("residual", residual_loss_grad, residual_loss, &data);

    for (name, runs) in [("plain", &plain), ("residual", &residual)] {
        println!();
        for ((h, trainer), how) in runs.iter().zip(["1 thread", "data-parallel"]) {
            let (first, last) = (h[0], h[h.len() - 1]);
            assert!(
                last.0 < first.0,
                "{name}, {how}: the training loss must fall ({} -> {})",
                first.0,
                last.0
            );
            println!(
                "{name} ({how}): train MSE {:.4} -> {:.4}, test MSE {:.4} -> {:.4} (baseline \
                 {baseline:.4}); {:.2} ms per epoch",
                first.0,
                last.0,
                first.1,
                last.1,
                trainer.epoch_ms()
            );
        }
        let [(_, serial), (_, sharded)] = runs;
        println!(
            "{name}: data-parallel over {} shards on {} threads: {:.2}x the speed of 1 thread \
             (median epochs)",
            sharded.shards.as_ref().map_or(1, Shards::count),
            parallel::threads(),
            serial.epoch_ms() / sharded.epoch_ms()
        );
    }
}
