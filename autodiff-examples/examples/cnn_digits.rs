//! A small convolutional network trained on real handwritten digits: the 1,797 8×8 images of the
//! UCI "optical recognition of handwritten digits" set that `smartcore` ships, each a digit 0–9
//! written on a preprinted form, with pixel intensities 0–16.
//!
//! ```text
//! 1×8×8 ─conv 3×3, 16 filters, pad 1─ relu ─max pool 2×2─ 16×4×4
//!       ─conv 3×3, 32 filters, pad 1─ relu ─ flatten (512) ─ dense ─ 10 logits
//! ```
//!
//! The network and its loss, the mean cross-entropy of the logits, are plain Rust functions
//! under `#[differentiate]`: the gradient with respect to every filter, bias and weight is
//! generated at compile time and goes through the runtime's `conv::conv2d_nchw_vjp`,
//! `conv::max_pool2d_vjp`, `conv::flatten_vjp` and `nn` rules. The pixels are scaled to `[0, 1]`, the images split
//! 80/20 into training and test sets by a seeded shuffle, the weights He-initialized (seeded) and
//! trained with Adam on minibatches. A progress bar runs on standard error while training (it
//! hides itself when that is not a terminal); each epoch prints its test accuracy, and the
//! training loss and test accuracy per epoch are drawn to a PNG.
//!
//! Run with `cargo run --release --example cnn_digits [plot.png]` (the plot goes to
//! `target/cnn_digits.png` by default). It ends above 95% test accuracy in a few seconds, and
//! fails loudly if it does not.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use autodiff::init::{Rng, he_normal, seeded_rng};
use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::{Differentiable, conv, differentiate, nn};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array1, Array2, Array4, Axis};

mod common;
use common::permutation;

const SIDE: usize = 8;
const CLASSES: usize = 10;
/// Filters of the first and second convolutions.
const C1: usize = 16;
const C2: usize = 32;
/// 3×3 filters with one pixel of zero padding keep the image size; stride 1.
const K: usize = 3;
const STRIDE: usize = 1;
const PAD: usize = 1;
/// 2×2 max pooling, every 2 pixels: 8×8 → 4×4.
const POOL: usize = 2;
const FLAT: usize = C2 * (SIDE / POOL) * (SIDE / POOL);

const BATCH: usize = 32;
const EPOCHS: usize = 15;
const LR: f64 = 3e-3;
const TARGET_ACCURACY: f64 = 0.95;

/// The parameters: two convolutions (`K×C×kh×kw` filters and a bias per filter) and a dense
/// layer from the flattened feature maps to the logits.
#[derive(Clone, Differentiable)]
struct Cnn {
    w1: Array4<f64>,
    b1: Array1<f64>,
    w2: Array4<f64>,
    b2: Array1<f64>,
    w3: Array2<f64>,
    b3: Array1<f64>,
}

/// `filters` He-initialized `channels×K×K` filters: `N(0, 2/fan_in)` with
/// `fan_in = channels·K·K`, the inputs each output of the convolution sums over.
fn he_filters(filters: usize, channels: usize, rng: &mut impl Rng) -> Array4<f64> {
    let fan_in = channels * K * K;
    // `he_normal` draws a fan_in × fan_out matrix; filter k is its column k.
    he_normal(fan_in, filters, rng)
        .reversed_axes()
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((filters, channels, K, K))
        .expect("filters·channels·K·K weights")
}

impl Cnn {
    fn new(seed: u64) -> Self {
        let mut rng = seeded_rng(seed);
        Cnn {
            w1: he_filters(C1, 1, &mut rng),
            b1: Array1::zeros(C1),
            w2: he_filters(C2, C1, &mut rng),
            b2: Array1::zeros(C2),
            w3: he_normal(FLAT, CLASSES, &mut rng),
            b3: Array1::zeros(CLASSES),
        }
    }
}

/// The network's logits for a batch of `N×1×8×8` images: `N×10`.
///
/// Differentiated in both arguments, although training needs only `p`: `loss` calls it with
/// `x`, and a call passes every float argument on to the callee's gradient, so a callee
/// declared `wrt(p)` would not compile there (see the README, "Calls"). The unused `∂x` costs
/// one small product per image in the first convolution's backward pass.
#[differentiate]
fn logits(p: &Cnn, x: &Array4<f64>) -> Array2<f64> {
    let h1 = nn::relu(&conv::conv2d_nchw(x, &p.w1, &p.b1, STRIDE, PAD));
    let h1 = conv::max_pool2d(&h1, POOL, POOL);
    let h2 = nn::relu(&conv::conv2d_nchw(&h1, &p.w2, &p.b2, STRIDE, PAD));
    conv::flatten(&h2).dot(&p.w3) + &p.b3
}

/// The mean cross-entropy of the network's logits on a batch.
#[differentiate(wrt(p))]
fn loss(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> f64 {
    nn::cross_entropy(&logits(p, x), labels)
}

/// The fraction of images whose largest logit is their label.
fn accuracy(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> f64 {
    let z = logits(p, x);
    let correct = z
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, label)| argmax(row.iter().copied()) == **label)
        .count();
    correct as f64 / labels.len() as f64
}

fn argmax(values: impl Iterator<Item = f64>) -> usize {
    values
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// The digits as `N×1×8×8` images with pixels scaled from 0–16 to `[0, 1]`, and their labels.
fn digits() -> (Array4<f64>, Vec<usize>) {
    let ds = smartcore::dataset::digits::load_dataset();
    assert_eq!(ds.num_features, SIDE * SIDE, "8×8 images");
    let pixels = ds.data.iter().map(|&v| f64::from(v) / 16.0).collect();
    let x = Array4::from_shape_vec((ds.num_samples, 1, SIDE, SIDE), pixels)
        .expect("one 8×8 image per sample");
    let labels = ds
        .target
        .iter()
        .map(|&t| {
            let label = t.round() as usize;
            assert!(label < CLASSES && t == label as f32, "label {t}");
            label
        })
        .collect();
    (x, labels)
}

/// One epoch's record.
struct Epoch {
    /// The mean minibatch loss over the epoch.
    train_loss: f64,
    test_accuracy: f64,
}

fn main() -> Result<(), Box<dyn Error>> {
    let plot_path = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/cnn_digits.png"), PathBuf::from);

    let (x, y) = digits();
    let n = x.len_of(Axis(0));
    let order = permutation(n, &mut seeded_rng(3));
    let (train_idx, test_idx) = order.split_at(n * 4 / 5);
    let x_train = x.select(Axis(0), train_idx);
    let y_train: Vec<usize> = train_idx.iter().map(|&i| y[i]).collect();
    let x_test = x.select(Axis(0), test_idx);
    let y_test: Vec<usize> = test_idx.iter().map(|&i| y[i]).collect();

    let mut params = Cnn::new(7);
    println!(
        "handwritten digits: {n} 8×8 images; {} train, {} test",
        train_idx.len(),
        test_idx.len()
    );
    println!(
        "CNN: conv {K}×{K}×{C1} → relu → max pool {POOL}×{POOL} → conv {K}×{K}×{C2} → relu → \
         dense {FLAT}→{CLASSES}; {} parameters",
        params.num_scalars()
    );
    println!(
        "before training: test accuracy {:.1}%\n",
        100.0 * accuracy(&params, &x_test, &y_test)
    );

    let mut adam = Adam::new(AdamConfig {
        lr: LR,
        ..Default::default()
    });
    let mut rng = seeded_rng(11);
    let batches = train_idx.len().div_ceil(BATCH);
    // Drawn on stderr, and hidden when stderr is not a terminal (CI, pipes, files).
    let bar = ProgressBar::new((EPOCHS * batches) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps, {elapsed}, {msg}")
            .expect("a valid template"),
    );
    let start = Instant::now();
    let mut history: Vec<Epoch> = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        let order = permutation(train_idx.len(), &mut rng);
        let mut total = 0.0;
        for batch in order.chunks(BATCH) {
            let xb = x_train.select(Axis(0), batch);
            let yb: Vec<usize> = batch.iter().map(|&i| y_train[i]).collect();
            let (value, grad) = loss_grad(&params, &xb, &yb);
            adam.step(&mut params, &grad);
            total += value * batch.len() as f64;
            bar.set_message(format!("epoch {epoch}/{EPOCHS}, loss {value:.3}"));
            bar.inc(1);
        }
        let record = Epoch {
            train_loss: total / train_idx.len() as f64,
            test_accuracy: accuracy(&params, &x_test, &y_test),
        };
        // `suspend` clears the bar, prints, and redraws it; it prints also when the bar is hidden.
        bar.suspend(|| {
            println!(
                "epoch {epoch:>2}: train loss {:.4}, test accuracy {:.1}%",
                record.train_loss,
                100.0 * record.test_accuracy
            );
        });
        history.push(record);
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let final_accuracy = history.last().expect("at least one epoch").test_accuracy;
    let correct = (final_accuracy * y_test.len() as f64).round();
    println!(
        "\ntest accuracy {:.1}% ({correct} of {} held-out digits) after {EPOCHS} epochs, \
         {seconds:.1} s of training",
        100.0 * final_accuracy,
        y_test.len()
    );
    plot(&history, &plot_path)?;
    println!(
        "plot of training loss and test accuracy: {}",
        plot_path.display()
    );

    assert!(
        final_accuracy >= TARGET_ACCURACY,
        "test accuracy {final_accuracy:.4} is below {TARGET_ACCURACY}"
    );
    Ok(())
}

/// Draws the training loss and the test accuracy per epoch, side by side, into a PNG.
///
/// The text is rendered by plotters' pure-Rust `ab_glyph` path with DejaVu Sans embedded in the
/// binary (the `dejavu` crate), so no system font library or font file is needed.
fn plot(history: &[Epoch], path: &std::path::Path) -> Result<(), Box<dyn Error>> {
    use plotters::prelude::*;

    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded DejaVu Sans font did not load")?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let epochs = history.len() as f64;
    let max_loss = history.iter().map(|e| e.train_loss).fold(0.0, f64::max);

    let mut chart = ChartBuilder::on(&left)
        .caption("training loss (cross-entropy)", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(1.0..epochs, 0.0..max_loss * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|e| format!("{e:.0}"))
        .y_desc("mean minibatch loss")
        .y_label_formatter(&|l| format!("{l:.1}"))
        .draw()?;
    chart.draw_series(LineSeries::new(
        history
            .iter()
            .enumerate()
            .map(|(i, e)| ((i + 1) as f64, e.train_loss)),
        BLUE.stroke_width(2),
    ))?;
    chart.draw_series(
        history
            .iter()
            .enumerate()
            .map(|(i, e)| Circle::new(((i + 1) as f64, e.train_loss), 3, BLUE.filled())),
    )?;

    let lowest = history.iter().map(|e| e.test_accuracy).fold(1.0, f64::min);
    let floor = (lowest * 100.0 / 5.0).floor() * 5.0;
    let mut chart = ChartBuilder::on(&right)
        .caption("test accuracy", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(1.0..epochs, floor.min(90.0)..100.0)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|e| format!("{e:.0}"))
        .y_desc("% of held-out digits")
        .y_label_formatter(&|a| format!("{a:.0}"))
        .draw()?;
    let target = 100.0 * TARGET_ACCURACY;
    chart
        .draw_series(LineSeries::new(
            [(1.0, target), (epochs, target)],
            BLACK.mix(0.5),
        ))?
        .label(format!("target {target:.0}%"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));
    chart
        .draw_series(LineSeries::new(
            history
                .iter()
                .enumerate()
                .map(|(i, e)| ((i + 1) as f64, 100.0 * e.test_accuracy)),
            RED.stroke_width(2),
        ))?
        .label("test accuracy")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart.draw_series(
        history
            .iter()
            .enumerate()
            .map(|(i, e)| Circle::new(((i + 1) as f64, 100.0 * e.test_accuracy), 3, RED.filled())),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
