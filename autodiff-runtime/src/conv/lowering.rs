//! The lowering of a convolution to matrix products, shared by every convolution of the module:
//! shape checks ([`Geometry::new`]), `im2col` and its transpose `col2im`, and the per-image
//! forward and backward passes built from them and ndarray's `general_mat_mul` (matrixmultiply's
//! blocked, vectorized GEMM).
//!
//! For one image of `C` channels, `im2col` lays the receptive field of every output pixel out as
//! a column: `cols` is `(C·kh·kw) × (Ho·Wo)`, row `(c, i, j)` holding the padded input at
//! `(c, oy·s + i, ox·s + j)` for every output pixel `(oy, ox)`. Then the convolution of the image
//! with the `K×C×kh×kw` filters, read as a `K × (C·kh·kw)` matrix `Wm`, is one product:
//!
//! ```text
//! Zₙ = Wm · cols(Xₙ)                     (K × Ho·Wo, which is exactly image n of NCHW output)
//! ∂Wm += Gₙ · cols(Xₙ)ᵀ                  (summed over the batch)
//! ∂Xₙ = col2im(Wmᵀ · Gₙ)                 (col2im = im2colᵀ: adds each column back in place)
//! ∂b  += row sums of Gₙ
//! ```
//!
//! The copies in `im2col` and `col2im` are done row segment by row segment: each `(c, i, j, oy)`
//! row of `cols` is one contiguous run of the input row `oy·s + i − p` (strided when `s > 1`),
//! with the zeros of the padding filled around it, so the only index arithmetic per element is an
//! iterator step. Outputs narrower than 16 columns (small images, or a later layer after
//! pooling), whose segments are a few elements each, copy through a table of positions in the
//! zero-padded image instead ([`Copier`]), which gives the same bits. A `1×1` filter with stride 1
//! and no padding needs no `im2col` at all: the image itself is the `C × H·W` matrix.
//!
//! A pullback keeps what the backward pass reads ([`Fields`]): the `cols` of every image, built
//! once by the forward pass, where they take at most [`KEEP_FIELDS_BYTES`]; the input otherwise,
//! from which the backward pass builds each image's `cols` again. Rebuilding them is a copy of
//! `C·kh·kw·Ho·Wo` elements per image, beside the two products of `K` times as many
//! multiply-adds; for the few filters of a first layer that copy was a tenth of the backward
//! pass.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::nn::NdReal;

/// The shapes of a batched, multi-channel convolution, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Geometry {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height and width (unpadded).
    pub h: usize,
    pub w: usize,
    /// Number of filters (output channels).
    pub k: usize,
    /// Filter height and width.
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub padding: usize,
    /// Output height and width.
    pub ho: usize,
    pub wo: usize,
}

impl Geometry {
    /// Checks the shapes of input `x` (`N×C×H×W`) and filters `w` (`K×C×kh×kw`) and computes the
    /// output size, `Ho = ⌊(H + 2p − kh)/s⌋ + 1` (the same for the width).
    ///
    /// # Panics
    ///
    /// With `what` (the public function's name) and the shapes in the message, if `stride` is 0,
    /// the channels differ, the filter is empty or larger than the padded input.
    #[track_caller]
    pub fn new(what: &str, x: [usize; 4], w: [usize; 4], stride: usize, padding: usize) -> Self {
        let [n, c, h, wd] = x;
        let [k, wc, kh, kw] = w;
        assert!(
            stride >= 1,
            "{what}: stride must be at least 1, got 0 (x {x:?}, w {w:?})"
        );
        assert!(
            c == wc,
            "{what}: x has {c} channels but the filters have {wc} \
             (x {x:?} is N×C×H×W, w {w:?} is K×C×kh×kw)"
        );
        assert!(
            kh >= 1 && kw >= 1,
            "{what}: the filters must not be empty, got {kh}×{kw} (w {w:?})"
        );
        let (hp, wp) = (h + 2 * padding, wd + 2 * padding);
        if kh > hp || kw > wp {
            if padding == 0 {
                panic!(
                    "{what}: the {kh}×{kw} filter is larger than the {h}×{wd} input \
                     (x {x:?}, w {w:?})"
                );
            }
            panic!(
                "{what}: the {kh}×{kw} filter is larger than the {h}×{wd} input padded to \
                 {hp}×{wp} (padding {padding}; x {x:?}, w {w:?})"
            );
        }
        Geometry {
            n,
            c,
            h,
            w: wd,
            k,
            kh,
            kw,
            stride,
            padding,
            ho: (hp - kh) / stride + 1,
            wo: (wp - kw) / stride + 1,
        }
    }

    /// The output shape `[N, K, Ho, Wo]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.k, self.ho, self.wo]
    }

    /// Rows of `cols`: `C·kh·kw`.
    fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output pixels per channel: `Ho·Wo`.
    fn plane(&self) -> usize {
        self.ho * self.wo
    }

    /// Elements of one input image: `C·H·W`.
    fn image(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Elements of one output image: `K·Ho·Wo`.
    fn output_image(&self) -> usize {
        self.k * self.plane()
    }

    /// A `1×1` filter with stride 1 and no padding: `cols(X) = X`.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.padding == 0
    }

    /// The output indices `o` whose input index `o·s + offset − p` lies in `0..len`, as a range
    /// `lo..hi` of `0..out` (empty when there are none).
    #[inline]
    fn valid(&self, offset: usize, len: usize, out: usize) -> (usize, usize) {
        let (s, p) = (self.stride, self.padding);
        // o·s + offset ≥ p  ⇔  o ≥ ⌈(p − offset)/s⌉
        let lo = if offset >= p {
            0
        } else {
            (p - offset).div_ceil(s)
        };
        // o·s + offset < len + p  ⇔  o < ⌈(len + p − offset)/s⌉
        let hi = if len + p > offset {
            (len + p - offset).div_ceil(s).min(out)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// The channel and filter offsets `(c, i, j)` of row `r` of `cols`.
    #[inline]
    fn row_coords(&self, r: usize) -> (usize, usize, usize) {
        (
            r / (self.kh * self.kw),
            (r / self.kw) % self.kh,
            r % self.kw,
        )
    }
}

/// Fills `cols` (`C·kh·kw × Ho·Wo`, row-major) with the receptive fields of one image `x`
/// (`C×H×W`, row-major); the padding reads as zero.
fn im2col<T: NdReal>(g: &Geometry, x: &[T], cols: &mut [T]) {
    let (h, w, s, p, wo) = (g.h, g.w, g.stride, g.padding, g.wo);
    debug_assert_eq!(x.len(), g.image());
    debug_assert_eq!(cols.len(), g.patch() * g.plane());
    for (r, row) in cols.chunks_exact_mut(g.plane()).enumerate() {
        let (c, i, j) = g.row_coords(r);
        let xc = &x[c * h * w..(c + 1) * h * w];
        let (y_lo, y_hi) = g.valid(i, h, g.ho);
        let (x_lo, x_hi) = g.valid(j, w, wo);
        let (top, rest) = row.split_at_mut(y_lo * wo);
        let (middle, bottom) = rest.split_at_mut((y_hi - y_lo) * wo);
        top.fill(T::ZERO);
        bottom.fill(T::ZERO);
        for (oy, out) in (y_lo..y_hi).zip(middle.chunks_exact_mut(wo)) {
            let y = oy * s + i - p;
            let x_row = &xc[y * w..(y + 1) * w];
            let (left, rest) = out.split_at_mut(x_lo);
            let (inside, right) = rest.split_at_mut(x_hi - x_lo);
            left.fill(T::ZERO);
            right.fill(T::ZERO);
            if inside.is_empty() {
                continue;
            }
            let x0 = x_lo * s + j - p;
            if s == 1 {
                inside.copy_from_slice(&x_row[x0..x0 + inside.len()]);
            } else {
                for (o, &v) in inside.iter_mut().zip(x_row[x0..].iter().step_by(s)) {
                    *o = v;
                }
            }
        }
    }
}

/// The transpose of [`im2col`]: adds every entry of `cols` to the input position it was read
/// from; what fell on the padding is dropped. `dx` (`C×H×W`) must be zeroed by the caller.
fn col2im<T: NdReal>(g: &Geometry, cols: &[T], dx: &mut [T]) {
    let (h, w, s, p, wo) = (g.h, g.w, g.stride, g.padding, g.wo);
    debug_assert_eq!(dx.len(), g.image());
    debug_assert_eq!(cols.len(), g.patch() * g.plane());
    for (r, row) in cols.chunks_exact(g.plane()).enumerate() {
        let (c, i, j) = g.row_coords(r);
        let dxc = &mut dx[c * h * w..(c + 1) * h * w];
        let (y_lo, y_hi) = g.valid(i, h, g.ho);
        let (x_lo, x_hi) = g.valid(j, w, wo);
        if x_lo == x_hi {
            continue;
        }
        let x0 = x_lo * s + j - p;
        for (oy, out) in (y_lo..y_hi).zip(row[y_lo * wo..].chunks_exact(wo)) {
            let y = oy * s + i - p;
            let dx_row = &mut dxc[y * w..(y + 1) * w];
            let inside = &out[x_lo..x_hi];
            if s == 1 {
                for (d, &v) in dx_row[x0..x0 + inside.len()].iter_mut().zip(inside) {
                    *d += v;
                }
            } else {
                for (d, &v) in dx_row[x0..].iter_mut().step_by(s).zip(inside) {
                    *d += v;
                }
            }
        }
    }
}

/// Outputs narrower than this many columns copy their receptive fields through a table
/// ([`Copier`]) rather than row segment by row segment: a segment is then a few elements, and
/// the per-segment work (the valid range, the zeros of the padding, a call to copy) costs more
/// than the copy.
const NARROW: usize = 16;

/// `im2col` and `col2im` of one geometry, image after image. For narrow outputs (fewer than
/// [`NARROW`] columns) it keeps a table of where each entry of `cols` lies in the image padded
/// with zeros, built once: `im2col` copies the image into the padded buffer and reads `cols`
/// from it entry by entry, `col2im` adds `cols` into the zeroed padded buffer entry by entry, in
/// the order [`col2im`] adds them, and adds its interior to `∂x`. Both give exactly what
/// [`im2col`] and [`col2im`] give. Otherwise (and for pointwise convolutions, which copy
/// nothing) the table is empty and those functions do the work.
struct Copier<T> {
    /// Per entry of `cols` (row-major), its position in the padded `C×(H+2p)×(W+2p)` image.
    table: Vec<usize>,
    /// The padded image, or the padded input gradient.
    padded: Vec<T>,
}

impl<T: NdReal> Copier<T> {
    fn new(g: &Geometry) -> Self {
        if g.pointwise() || g.wo >= NARROW {
            return Copier {
                table: Vec::new(),
                padded: Vec::new(),
            };
        }
        let (hp, wp, s) = (g.h + 2 * g.padding, g.w + 2 * g.padding, g.stride);
        let mut table = Vec::with_capacity(g.patch() * g.plane());
        for r in 0..g.patch() {
            let (c, i, j) = g.row_coords(r);
            for oy in 0..g.ho {
                let row = (c * hp + oy * s + i) * wp + j;
                table.extend((0..g.wo).map(|ox| row + ox * s));
            }
        }
        Copier {
            table,
            padded: vec![T::ZERO; g.c * hp * wp],
        }
    }

    /// The padded buffer's rows of the image's interior, with their image rows: row `y` of
    /// channel `c` for every `(c, y)`, as `(padded range, image range)`.
    fn interior(
        g: &Geometry,
    ) -> impl Iterator<Item = (core::ops::Range<usize>, core::ops::Range<usize>)> + use<T> {
        let (h, w, p) = (g.h, g.w, g.padding);
        let (hp, wp) = (h + 2 * p, w + 2 * p);
        (0..g.c * h).map(move |cy| {
            let (c, y) = (cy / h, cy % h);
            let start = (c * hp + y + p) * wp + p;
            (start..start + w, cy * w..(cy + 1) * w)
        })
    }

    /// Copies image `x` into the padded buffer, whose border is zero.
    fn pad(&mut self, g: &Geometry, x: &[T]) {
        self.padded.fill(T::ZERO);
        for (to, from) in Self::interior(g) {
            self.padded[to].copy_from_slice(&x[from]);
        }
    }

    /// [`im2col`] of image `x` into `cols`.
    fn im2col(&mut self, g: &Geometry, x: &[T], cols: &mut [T]) {
        if self.table.is_empty() {
            return im2col(g, x, cols);
        }
        self.pad(g, x);
        for (o, &k) in cols.iter_mut().zip(&self.table) {
            *o = self.padded[k];
        }
    }

    /// [`im2col`] of image `x`, appended to `all`.
    fn extend_cols(&mut self, g: &Geometry, x: &[T], all: &mut Vec<T>) {
        if self.table.is_empty() {
            let start = all.len();
            all.resize(start + g.patch() * g.plane(), T::ZERO);
            return im2col(g, x, &mut all[start..]);
        }
        self.pad(g, x);
        let padded = &self.padded;
        all.extend(self.table.iter().map(|&k| padded[k]));
    }

    /// [`col2im`]: adds `cols` into `dx`, which the caller zeroes (the sums start from the
    /// same `0` as there, so they are the same bits).
    fn col2im(&mut self, g: &Geometry, cols: &[T], dx: &mut [T]) {
        if self.table.is_empty() {
            return col2im(g, cols, dx);
        }
        self.padded.fill(T::ZERO);
        for (&v, &k) in cols.iter().zip(&self.table) {
            self.padded[k] += v;
        }
        for (from, to) in Self::interior(g) {
            for (d, &v) in dx[to].iter_mut().zip(&self.padded[from]) {
                *d += v;
            }
        }
    }
}

/// The convolution of a batch, `Zₙ = Wm · cols(xₙ) (+ b)` image by image: `x` is the
/// `N×C×H×W` input, `w` the `K×C×kh×kw` filters (read as the `K × C·kh·kw` matrix `Wm`), `bias`
/// one value per filter, all row-major; the result is the `N×K×Ho×Wo` output, row-major.
pub(super) fn forward<T: NdReal>(g: &Geometry, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    debug_assert_eq!(x.len(), g.n * g.image());
    let wm = filters(g, w);
    let mut out = vec![T::ZERO; g.n * g.output_image()];
    let mut ws = Workspace::new(g, true, false);
    for n in 0..g.n {
        let cols = ws.cols(g, image(x, n, g.image()));
        affine(
            g,
            &wm,
            &cols,
            bias,
            image_mut(&mut out, n, g.output_image()),
        );
    }
    out
}

/// [`forward`] and its tangent for the tangents `dx`, `dw` and `dbias` (`None` exactly when
/// `bias` is): the convolution is bilinear in `(x, w)` and affine in `b`, so
///
/// ```text
/// Żₙ = Ẇm · cols(xₙ) + Wm · cols(ẋₙ) + ḃ
/// ```
///
/// with `cols(xₙ)` built once for the value and its tangent. The value is computed exactly as
/// [`forward`] computes it.
pub(super) fn forward_tangent<T: NdReal>(
    g: &Geometry,
    (x, w, bias): (&[T], &[T], Option<&[T]>),
    (dx, dw, dbias): (&[T], &[T], Option<&[T]>),
) -> (Vec<T>, Vec<T>) {
    debug_assert_eq!(x.len(), g.n * g.image());
    debug_assert_eq!(dx.len(), x.len());
    let (wm, dwm) = (filters(g, w), filters(g, dw));
    let mut out = vec![T::ZERO; g.n * g.output_image()];
    let mut out_dot = vec![T::ZERO; g.n * g.output_image()];
    let mut ws = Workspace::new(g, true, false);
    for n in 0..g.n {
        let cols = ws.cols(g, image(x, n, g.image()));
        affine(
            g,
            &wm,
            &cols,
            bias,
            image_mut(&mut out, n, g.output_image()),
        );
        let zn_dot = image_mut(&mut out_dot, n, g.output_image());
        affine(g, &dwm, &cols, dbias, zn_dot);
        let cols = ws.cols(g, image(dx, n, g.image()));
        general_mat_mul(T::ONE, &wm, &cols, T::ONE, &mut output_matrix(g, zn_dot));
    }
    (out, out_dot)
}

/// The receptive fields that a pullback keeps in memory when they take at most this many bytes
/// (32 MiB: a batch of 64 images of 16 channels at 28×28 with 3×3 filters takes 58 MiB and is
/// rebuilt instead).
pub(super) const KEEP_FIELDS_BYTES: usize = 32 << 20;

/// What a convolution's forward pass keeps for its backward pass: the receptive fields of every
/// image, or the input to build them from again (see the module docs).
pub(super) enum Fields<T> {
    /// `N` blocks of `cols(xₙ)`, each `C·kh·kw × Ho·Wo`, row-major.
    Cols(Vec<T>),
    /// The input `N×C×H×W`, row-major: a pointwise convolution (whose `cols` is the image
    /// itself), or fields too large to keep.
    Input(Vec<T>),
}

/// [`forward`], keeping what [`backward`] reads: `x` is the input (row-major), copied only when
/// it is what is kept.
pub(super) fn forward_keeping<T: NdReal>(
    g: &Geometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
) -> (Vec<T>, Fields<T>) {
    debug_assert_eq!(x.len(), g.n * g.image());
    let len = g.patch() * g.plane();
    let bytes = g.n.saturating_mul(len).saturating_mul(size_of::<T>());
    forward_keeping_within(g, x, w, bias, bytes <= KEEP_FIELDS_BYTES)
}

/// [`forward_keeping`], keeping the receptive fields when `keep_fields` (and the convolution is
/// not pointwise), else the input.
fn forward_keeping_within<T: NdReal>(
    g: &Geometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    keep_fields: bool,
) -> (Vec<T>, Fields<T>) {
    let len = g.patch() * g.plane();
    if g.pointwise() || !keep_fields {
        let z = forward(g, x, w, bias);
        return (z, Fields::Input(x.to_vec()));
    }
    let wm = filters(g, w);
    let mut out = vec![T::ZERO; g.n * g.output_image()];
    let mut all = Vec::with_capacity(g.n * len);
    let mut copier = Copier::new(g);
    for n in 0..g.n {
        copier.extend_cols(g, image(x, n, g.image()), &mut all);
        let cols = ArrayView2::from_shape((g.patch(), g.plane()), image(&all, n, len))
            .expect("cols shape");
        affine(
            g,
            &wm,
            &cols,
            bias,
            image_mut(&mut out, n, g.output_image()),
        );
    }
    (out, Fields::Cols(all))
}

/// The gradients of [`forward`] for the cotangent `gz` (`N×K×Ho×Wo`, row-major), from what
/// [`forward_keeping`] kept: when `want_input`, `∂x` (`N×C×H×W`; empty otherwise), `∂w`
/// (`K×C×kh×kw`) and, when `want_bias`, `∂b` (the sums of `gz` per filter; empty otherwise),
/// all row-major. Without `∂x`, a layer over data skips the product `Wmᵀ·G` and `col2im`.
pub(super) fn backward<T: NdReal>(
    g: &Geometry,
    kept: &Fields<T>,
    w: &[T],
    gz: &[T],
    want_bias: bool,
    want_input: bool,
) -> [Vec<T>; 3] {
    debug_assert_eq!(gz.len(), g.n * g.output_image());
    let wm = filters(g, w);
    let [mut dx, mut dw, mut db] = gradients(g, want_bias, want_input);
    let mut dwm = ArrayViewMut2::from_shape((g.k, g.patch()), &mut dw[..]).expect("filter shape");
    let rebuild = matches!(kept, Fields::Input(_));
    let mut ws = Workspace::new(g, rebuild, want_input);
    let len = g.patch() * g.plane();
    for n in 0..g.n {
        let gn = cotangent(g, gz, n, &mut db);
        let cols = match kept {
            Fields::Cols(all) => ArrayView2::from_shape((g.patch(), g.plane()), image(all, n, len))
                .expect("cols shape"),
            Fields::Input(x) => ws.cols(g, image(x, n, g.image())),
        };
        general_mat_mul(T::ONE, &gn, &cols.t(), T::ONE, &mut dwm);
        if want_input {
            ws.input_gradient(g, &[(wm, gn)], image_mut(&mut dx, n, g.image()));
        }
    }
    [dx, dw, db]
}

/// [`backward`] and its tangent: for the cotangent `gz` and its tangent `gz_dot`, the gradients
/// `[∂x, ∂w, ∂b]` exactly as [`backward`] computes them, and their tangents along the tangents
/// `dx`, `dw` of the input and the filters. Each gradient is bilinear in the cotangent and one
/// of `(x, w)`, so, image by image,
///
/// ```text
/// ∂Ẇm += Ġₙ · cols(xₙ)ᵀ + Gₙ · cols(ẋₙ)ᵀ
/// ∂Ẋₙ  = col2im(Wmᵀ · Ġₙ + Ẇmᵀ · Gₙ)
/// ∂ḃ  += row sums of Ġₙ
/// ```
///
/// with `cols(xₙ)` built once for the gradient and its tangent.
pub(super) fn backward_tangent<T: NdReal>(
    g: &Geometry,
    (x, w): (&[T], &[T]),
    (dx, dw): (&[T], &[T]),
    (gz, gz_dot): (&[T], &[T]),
    want_bias: bool,
) -> ([Vec<T>; 3], [Vec<T>; 3]) {
    debug_assert_eq!(x.len(), g.n * g.image());
    debug_assert_eq!(dx.len(), x.len());
    debug_assert_eq!(gz.len(), g.n * g.output_image());
    debug_assert_eq!(gz_dot.len(), gz.len());
    let (wm, dwm) = (filters(g, w), filters(g, dw));
    let [mut x_bar, mut w_bar, mut b_bar] = gradients(g, want_bias, true);
    let [mut x_bar_dot, mut w_bar_dot, mut b_bar_dot] = gradients(g, want_bias, true);
    let shape = (g.k, g.patch());
    let mut w_bar_m = ArrayViewMut2::from_shape(shape, &mut w_bar[..]).expect("filter shape");
    let mut w_bar_dot_m =
        ArrayViewMut2::from_shape(shape, &mut w_bar_dot[..]).expect("filter shape");
    let mut ws = Workspace::new(g, true, true);
    for n in 0..g.n {
        let gn = cotangent(g, gz, n, &mut b_bar);
        let gn_dot = cotangent(g, gz_dot, n, &mut b_bar_dot);
        let cols = ws.cols(g, image(x, n, g.image()));
        general_mat_mul(T::ONE, &gn, &cols.t(), T::ONE, &mut w_bar_m);
        general_mat_mul(T::ONE, &gn_dot, &cols.t(), T::ONE, &mut w_bar_dot_m);
        let cols = ws.cols(g, image(dx, n, g.image()));
        general_mat_mul(T::ONE, &gn, &cols.t(), T::ONE, &mut w_bar_dot_m);
        ws.input_gradient(g, &[(wm, gn)], image_mut(&mut x_bar, n, g.image()));
        let terms = [(wm, gn_dot), (dwm, gn)];
        ws.input_gradient(g, &terms, image_mut(&mut x_bar_dot, n, g.image()));
    }
    ([x_bar, w_bar, b_bar], [x_bar_dot, w_bar_dot, b_bar_dot])
}

/// The `im2col` buffers of one convolution, reused image after image: `cols` for the receptive
/// fields of an image, `dcols` for a product `Wmᵀ·G` on its way through `col2im`. A pointwise
/// convolution needs neither: its `cols` is the image itself and its `col2im` the identity.
struct Workspace<T> {
    cols: Vec<T>,
    dcols: Vec<T>,
    copier: Copier<T>,
}

impl<T: NdReal> Workspace<T> {
    /// The buffers of a pass that builds `cols` (`cols`), propagates to the input (`dcols`), or
    /// both.
    fn new(g: &Geometry, cols: bool, input_gradient: bool) -> Self {
        let len = if g.pointwise() {
            0
        } else {
            g.patch() * g.plane()
        };
        Workspace {
            cols: vec![T::ZERO; if cols { len } else { 0 }],
            dcols: vec![T::ZERO; if input_gradient { len } else { 0 }],
            copier: Copier::new(g),
        }
    }

    /// `cols(xₙ)`, the `C·kh·kw × Ho·Wo` matrix of the receptive fields of image `xₙ`.
    fn cols<'a>(&'a mut self, g: &Geometry, xn: &'a [T]) -> ArrayView2<'a, T> {
        let cols = if g.pointwise() {
            xn
        } else {
            self.copier.im2col(g, xn, &mut self.cols);
            &self.cols[..]
        };
        ArrayView2::from_shape((g.patch(), g.plane()), cols).expect("cols shape")
    }

    /// `∂xₙ = col2im(Σₜ Aₜᵀ·Gₜ)` over the `terms` `(Aₜ, Gₜ)`, filters as `K × C·kh·kw` matrices
    /// and cotangents as `K × Ho·Wo`: the input gradient of image `n`, added into `dxn` (which
    /// the caller zeroes), or written straight into it for a pointwise convolution.
    fn input_gradient(
        &mut self,
        g: &Geometry,
        terms: &[(ArrayView2<'_, T>, ArrayView2<'_, T>)],
        dxn: &mut [T],
    ) {
        let shape = (g.patch(), g.plane());
        if g.pointwise() {
            let mut dxn = ArrayViewMut2::from_shape(shape, dxn).expect("input shape");
            sum_of_products(terms, &mut dxn);
        } else {
            let mut dcols =
                ArrayViewMut2::from_shape(shape, &mut self.dcols[..]).expect("cols shape");
            sum_of_products(terms, &mut dcols);
            self.copier.col2im(g, &self.dcols, dxn);
        }
    }
}

/// `out ← Σₜ Aₜᵀ·Gₜ`.
fn sum_of_products<T: NdReal>(
    terms: &[(ArrayView2<'_, T>, ArrayView2<'_, T>)],
    out: &mut ArrayViewMut2<'_, T>,
) {
    for (t, (a, gt)) in terms.iter().enumerate() {
        let beta = if t == 0 { T::ZERO } else { T::ONE };
        general_mat_mul(T::ONE, &a.t(), gt, beta, out);
    }
}

/// `zₙ ← A · cols (+ b)`: one image of a convolution's output (or of its tangent) from filters
/// `A` and the receptive fields `cols`.
fn affine<T: NdReal>(
    g: &Geometry,
    a: &ArrayView2<'_, T>,
    cols: &ArrayView2<'_, T>,
    bias: Option<&[T]>,
    zn: &mut [T],
) {
    match bias {
        Some(b) => {
            for (row, &bk) in zn.chunks_exact_mut(g.plane()).zip(b) {
                row.fill(bk);
            }
        }
        None => zn.fill(T::ZERO),
    }
    // The output starts as zeros or the bias, so β = 1 in both cases.
    general_mat_mul(T::ONE, a, cols, T::ONE, &mut output_matrix(g, zn));
}

/// Image `n` of a cotangent as its `K × Ho·Wo` matrix, after adding its row sums to `db` (the
/// bias gradient; nothing when `db` is empty).
fn cotangent<'a, T: NdReal>(
    g: &Geometry,
    gz: &'a [T],
    n: usize,
    db: &mut [T],
) -> ArrayView2<'a, T> {
    let gn = image(gz, n, g.output_image());
    for (d, row) in db.iter_mut().zip(gn.chunks_exact(g.plane())) {
        *d += row.iter().fold(T::ZERO, |s, &v| s + v);
    }
    ArrayView2::from_shape((g.k, g.plane()), gn).expect("cotangent shape")
}

/// Zeroed `[∂x, ∂w, ∂b]`, `∂x` empty unless `want_input`, `∂b` unless `want_bias`.
fn gradients<T: NdReal>(g: &Geometry, want_bias: bool, want_input: bool) -> [Vec<T>; 3] {
    [
        vec![T::ZERO; if want_input { g.n * g.image() } else { 0 }],
        vec![T::ZERO; g.k * g.patch()],
        vec![T::ZERO; if want_bias { g.k } else { 0 }],
    ]
}

/// The filters as the `K × C·kh·kw` matrix `Wm`.
fn filters<'a, T>(g: &Geometry, w: &'a [T]) -> ArrayView2<'a, T> {
    ArrayView2::from_shape((g.k, g.patch()), w).expect("filter shape checked")
}

/// One image of the output as its `K × Ho·Wo` matrix.
fn output_matrix<'a, T>(g: &Geometry, zn: &'a mut [T]) -> ArrayViewMut2<'a, T> {
    ArrayViewMut2::from_shape((g.k, g.plane()), zn).expect("output shape")
}

/// Image `n` of a batch stored as consecutive runs of `len` elements.
fn image<T>(batch: &[T], n: usize, len: usize) -> &[T] {
    &batch[n * len..(n + 1) * len]
}

/// [`image`], mutably.
fn image_mut<T>(batch: &mut [T], n: usize, len: usize) -> &mut [T] {
    &mut batch[n * len..(n + 1) * len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges() {
        // H = 5, kh = 3, p = 1, s = 2: Ho = 3, input rows 2o + i − 1.
        let g = Geometry::new("t", [1, 1, 5, 5], [1, 1, 3, 3], 2, 1);
        assert_eq!((g.ho, g.wo), (3, 3));
        // i = 0: rows −1, 1, 3 → o ∈ 1..3.
        assert_eq!(g.valid(0, 5, 3), (1, 3));
        // i = 1: rows 0, 2, 4 → all.
        assert_eq!(g.valid(1, 5, 3), (0, 3));
        // i = 2: rows 1, 3, 5 → o ∈ 0..2.
        assert_eq!(g.valid(2, 5, 3), (0, 2));
        // Padding wider than the filter: some outputs see only zeros.
        let g = Geometry::new("t", [1, 1, 1, 1], [1, 1, 1, 1], 1, 2);
        assert_eq!((g.ho, g.wo), (5, 5));
        assert_eq!(g.valid(0, 1, 5), (2, 3));
        // An empty input, padded: nothing valid.
        let g = Geometry::new("t", [1, 1, 0, 0], [1, 1, 1, 1], 1, 1);
        let (lo, hi) = g.valid(0, 0, g.ho);
        assert_eq!(lo, hi);
    }

    #[test]
    fn col2im_is_the_transpose_of_im2col() {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for arbitrary x and c.
        for (h, w, kh, kw, s, p) in [(5, 4, 3, 2, 1, 0), (6, 7, 3, 3, 2, 1), (3, 5, 2, 4, 3, 2)] {
            let g = Geometry::new("t", [1, 2, h, w], [1, 2, kh, kw], s, p);
            let x: Vec<f64> = (0..g.image()).map(|i| (i as f64 * 0.37).sin()).collect();
            let c: Vec<f64> = (0..g.patch() * g.plane())
                .map(|i| (i as f64 * 0.91).cos())
                .collect();
            let mut cols = vec![0.0; c.len()];
            im2col(&g, &x, &mut cols);
            let mut dx = vec![0.0; x.len()];
            col2im(&g, &c, &mut dx);
            let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
        }
    }

    #[test]
    fn the_table_copies_are_the_segment_copies_bit_for_bit() {
        // For narrow outputs `Copier` reads and adds `cols` through a table into a padded
        // buffer; `im2col` and `col2im` copy row segments. Same entries, same order of
        // additions, so the same bits: strides 1–3, padding 0–2, filters wider than the
        // stride (overlapping fields) and narrower (skipped pixels).
        for (h, w, kh, kw, s, p) in [
            (8, 8, 3, 3, 1, 1),
            (4, 4, 3, 3, 1, 1),
            (5, 4, 3, 2, 1, 0),
            (6, 7, 3, 3, 2, 1),
            (3, 5, 2, 4, 3, 2),
            (7, 9, 1, 2, 3, 0),
            (2, 2, 1, 1, 1, 2),
        ] {
            let g = Geometry::new("t", [1, 3, h, w], [1, 3, kh, kw], s, p);
            assert!(g.wo < NARROW);
            let mut copier = Copier::new(&g);
            assert!(!copier.table.is_empty());
            let len = g.patch() * g.plane();
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for round in 0..2 {
                // A second round reuses the buffers the first left behind.
                let x: Vec<f64> = (0..g.image())
                    .map(|i| ((i + round) as f64 * 0.37).sin())
                    .collect();
                let mut expected = vec![0.0; len];
                im2col(&g, &x, &mut expected);
                let mut cols = vec![f64::NAN; len];
                copier.im2col(&g, &x, &mut cols);
                assert_eq!(bits(&cols), bits(&expected));
                let mut all = vec![1.0];
                copier.extend_cols(&g, &x, &mut all);
                assert_eq!(bits(&all[1..]), bits(&expected));
                let c: Vec<f64> = (0..len)
                    .map(|i| ((i + round) as f64 * 0.91).cos() * 1e3f64.powi(i as i32 % 3))
                    .collect();
                // Zeroed, as the passes zero it (the sums start from the same 0).
                let mut dx_expected = vec![0.0; g.image()];
                col2im(&g, &c, &mut dx_expected);
                let mut dx = vec![0.0; g.image()];
                copier.col2im(&g, &c, &mut dx);
                assert_eq!(
                    bits(&dx),
                    bits(&dx_expected),
                    "{h}×{w}, {kh}×{kw}, s {s}, p {p}"
                );
            }
        }
        // Wide outputs and pointwise convolutions keep the segment copies.
        assert!(
            Copier::<f64>::new(&Geometry::new("t", [1, 1, 28, 28], [1, 1, 3, 3], 1, 1))
                .table
                .is_empty()
        );
        assert!(
            Copier::<f64>::new(&Geometry::new("t", [1, 2, 4, 4], [1, 2, 1, 1], 1, 0))
                .table
                .is_empty()
        );
    }

    #[test]
    fn kept_fields_and_a_rebuilt_input_give_the_same_pass() {
        // The backward pass reads the same `cols` whether the forward pass kept them or it
        // builds them again from the input; the forward value does not depend on the choice.
        for (shape, filt, s, p) in [
            ([2, 3, 6, 5], [4, 3, 3, 2], 1, 1),
            ([3, 2, 7, 7], [2, 2, 3, 3], 2, 0),
            ([2, 3, 4, 4], [5, 3, 1, 1], 1, 0),
        ] {
            let g = Geometry::new("t", shape, filt, s, p);
            let x: Vec<f64> = (0..g.n * g.image())
                .map(|i| (i as f64 * 0.37).sin())
                .collect();
            let w: Vec<f64> = (0..g.k * g.patch())
                .map(|i| (i as f64 * 0.53).cos())
                .collect();
            let b: Vec<f64> = (0..g.k).map(|i| 0.1 * i as f64).collect();
            let gz: Vec<f64> = (0..g.n * g.output_image())
                .map(|i| (i as f64 * 0.71).sin())
                .collect();
            let (z_kept, kept) = forward_keeping_within(&g, &x, &w, Some(&b), true);
            let (z_input, input) = forward_keeping_within(&g, &x, &w, Some(&b), false);
            assert!(matches!(input, Fields::Input(_)));
            assert_eq!(matches!(kept, Fields::Cols(_)), !g.pointwise());
            assert_eq!(z_kept, forward(&g, &x, &w, Some(&b)));
            assert_eq!(z_input, z_kept);
            assert_eq!(
                backward(&g, &kept, &w, &gz, true, true),
                backward(&g, &input, &w, &gz, true, true)
            );
            // Without the input gradient, the same filter and bias gradients.
            let [dx, dw, db] = backward(&g, &kept, &w, &gz, true, false);
            let [_, dw_all, db_all] = backward(&g, &kept, &w, &gz, true, true);
            assert!(dx.is_empty());
            assert_eq!((dw, db), (dw_all, db_all));
        }
    }
}
