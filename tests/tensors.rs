use autodiff::{check, differentiate, nn};
use ndarray::{Array1, Array2, Axis, array};

mod common;
use common::seeded;

#[differentiate(wrt(w1, b1, v))]
fn mlp_loss(
    w1: &Array2<f64>,
    b1: &Array1<f64>,
    v: &Array2<f64>,
    x: &Array2<f64>,
    y: &Array2<f64>,
) -> f64 {
    let z = x.dot(w1) + b1;
    let h = nn::relu(&z);
    let out = h.dot(v);
    nn::mse(&out, y)
}

#[differentiate]
fn elementwise(a: &Array2<f64>, s: f64) -> f64 {
    let b = (a * s).exp() + a.tanh() * 2.0 - a / 3.0;
    let c = b.sum_axis(Axis(0));
    let m = b.mean().unwrap();
    c.sum() * m + a.t().dot(a).sum()
}

#[test]
fn mlp() {
    let x = array![[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]];
    let y = array![[1.0], [-1.0]];
    let w1 = array![
        [0.1, -0.2, 0.3, 0.05],
        [0.4, 0.1, -0.5, 0.2],
        [-0.3, 0.2, 0.1, 0.1]
    ];
    let b1 = array![0.01, -0.02, 0.03, 0.5];
    let v = array![[0.3], [-0.1], [0.2], [0.7]];
    let (l, (gw, gb, gv)) = mlp_loss_grad(&w1, &b1, &v, &x, &y);
    assert_eq!(l, mlp_loss(&w1, &b1, &v, &x, &y));
    check::assert_gradient(|w: &Array2<f64>| mlp_loss(w, &b1, &v, &x, &y), &w1, &gw);
    check::assert_gradient(|b: &Array1<f64>| mlp_loss(&w1, b, &v, &x, &y), &b1, &gb);
    check::assert_gradient(|vv: &Array2<f64>| mlp_loss(&w1, &b1, vv, &x, &y), &v, &gv);
}

#[test]
fn elementwise_and_reductions() {
    let a = array![[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]];
    let (_, (ga, gs)) = elementwise_grad(&a, 0.7);
    check::assert_gradient(|a: &Array2<f64>| elementwise(a, 0.7), &a, &ga);
    check::assert_gradient(|s: &f64| elementwise(&a, *s), &0.7, &gs);
}

/// A DenseNet-style block: every layer sees all previous activations. Concatenating them and
/// multiplying by one matrix is the same as summing products with one block of rows each, which
/// is how it is written here: h₃ = relu(x·W₃₀ + h₁·W₃₁ + h₂·W₃₂).
#[differentiate(wrt(w10, w20, w21, w30, w31, w32))]
fn dense_block(
    w10: &Array2<f64>,
    w20: &Array2<f64>,
    w21: &Array2<f64>,
    w30: &Array2<f64>,
    w31: &Array2<f64>,
    w32: &Array2<f64>,
    x: &Array2<f64>,
) -> f64 {
    let h1 = nn::relu(&x.dot(w10));
    let h2 = nn::relu(&(x.dot(w20) + h1.dot(w21)));
    let h3 = nn::relu(&(x.dot(w30) + h1.dot(w31) + h2.dot(w32)));
    (&h3 * &h3).sum()
}

/// A ResNet block: a² = relu(W² relu(W¹ a⁰)) + a⁰ (row-vector convention).
#[differentiate(wrt(w1, w2))]
fn resnet_block(w1: &Array2<f64>, w2: &Array2<f64>, a0: &Array2<f64>) -> f64 {
    let a1 = nn::relu(&a0.dot(w1));
    let a2 = nn::relu(&a1.dot(w2)) + a0;
    a2.sin().sum()
}

#[test]
fn densenet_block_gradients() {
    let x = seeded(4, 3, 1);
    let ws = [
        seeded(3, 5, 2),
        seeded(3, 5, 3),
        seeded(5, 5, 4),
        seeded(3, 2, 5),
        seeded(5, 2, 6),
        seeded(5, 2, 7),
    ];
    let (value, grads) = dense_block_grad(&ws[0], &ws[1], &ws[2], &ws[3], &ws[4], &ws[5], &x);
    assert_eq!(
        value,
        dense_block(&ws[0], &ws[1], &ws[2], &ws[3], &ws[4], &ws[5], &x)
    );
    let grads = [grads.0, grads.1, grads.2, grads.3, grads.4, grads.5];
    for k in 0..6 {
        let f = |w: &Array2<f64>| {
            let mut p = ws.clone();
            p[k] = w.clone();
            dense_block(&p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &x)
        };
        check::assert_gradient(f, &ws[k], &grads[k]);
    }
}

#[test]
fn resnet_block_gradients() {
    let a0 = seeded(3, 4, 11);
    let (w1, w2) = (seeded(4, 4, 12), seeded(4, 4, 13));
    let (_, (g1, g2)) = resnet_block_grad(&w1, &w2, &a0);
    check::assert_gradient(|w: &Array2<f64>| resnet_block(w, &w2, &a0), &w1, &g1);
    check::assert_gradient(|w: &Array2<f64>| resnet_block(&w1, w, &a0), &w2, &g2);
    // With W² = 0 the block is the identity plus relu(0) = 0: a² = a⁰.
    let zero = Array2::zeros((4, 4));
    let (v, _) = resnet_block_grad(&w1, &zero, &a0);
    assert!((v - a0.mapv(f64::sin).sum()).abs() < 1e-12);
}

/// Slices and inserted axes: reads of regions, exact in both directions.
#[differentiate]
fn regions(a: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let top = a.slice(ndarray::s![0..2, ..]);
    let col = a.slice(ndarray::s![.., 1]);
    let row = v.view().insert_axis(Axis(0));
    let p = row.dot(&top.t());
    (&p * &p).sum() + col.sum() * 3.0
}

#[test]
fn slices_and_inserted_axes() {
    let a = seeded(3, 4, 21);
    let v = Array1::from_vec(vec![0.5, -1.0, 2.0, 0.25]);
    let (value, (ga, gv)) = regions_grad(&a, &v);
    assert_eq!(value, regions(&a, &v));
    check::assert_gradient(|a: &Array2<f64>| regions(a, &v), &a, &ga);
    check::assert_gradient(|v: &Array1<f64>| regions(&a, v), &v, &gv);
    // The third row of `a` is read only through the column: its gradient there is 3, else 0.
    assert_eq!(ga.row(2).to_vec(), vec![0.0, 3.0, 0.0, 0.0]);
}

/// Element reads `a[[i, j]]`, `mean_axis`, `mean`, vector·vector and matrix·vector products.
#[differentiate]
fn reads_and_reductions(a: &Array2<f64>, u: &Array1<f64>) -> f64 {
    let corner = a[[0, 0]] * a[[1, 2]];
    let col_means = a.mean_axis(Axis(0)).unwrap();
    let av = a.dot(u);
    let uu = u.dot(u);
    corner + col_means.dot(&col_means) + av.sum() * uu + a.mean().unwrap()
}

/// Batch normalization in training mode inside a differentiated function.
#[differentiate(wrt(x, gamma, beta))]
fn normalized_energy(x: &Array2<f64>, gamma: &Array1<f64>, beta: &Array1<f64>) -> f64 {
    let y = nn::batch_norm(x, gamma, beta, 1e-5);
    let s = nn::sigmoid(&y);
    (&s * &s).sum()
}

/// `Vec<f64>` and `&Vec<f64>` parameters: gradients are `Vec<f64>`.
#[allow(clippy::ptr_arg)] // `&Vec<f64>` is the parameter type under test
#[differentiate]
fn vec_params(owned: Vec<f64>, borrowed: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..owned.len() {
        s += owned[i] * borrowed[i] * borrowed[i];
    }
    s
}

#[test]
fn element_reads_reductions_and_products() {
    let a = seeded(2, 3, 31);
    let u = Array1::from_vec(vec![0.3, -0.8, 1.1]);
    let (_, (ga, gu)) = reads_and_reductions_grad(&a, &u);
    check::assert_gradient(|a: &Array2<f64>| reads_and_reductions(a, &u), &a, &ga);
    check::assert_gradient(|u: &Array1<f64>| reads_and_reductions(&a, u), &u, &gu);
}

#[test]
fn batch_norm_in_a_differentiated_function() {
    let x = seeded(5, 3, 41);
    let gamma = Array1::from_vec(vec![1.0, 0.5, -2.0]);
    let beta = Array1::from_vec(vec![0.1, 0.0, -0.3]);
    let (_, (gx, gg, gb)) = normalized_energy_grad(&x, &gamma, &beta);
    check::assert_gradient(
        |x: &Array2<f64>| normalized_energy(x, &gamma, &beta),
        &x,
        &gx,
    );
    check::assert_gradient(
        |g: &Array1<f64>| normalized_energy(&x, g, &beta),
        &gamma,
        &gg,
    );
    check::assert_gradient(
        |b: &Array1<f64>| normalized_energy(&x, &gamma, b),
        &beta,
        &gb,
    );
}

#[test]
fn vec_parameters() {
    let (o, b) = (vec![1.0, 2.0, 3.0], vec![0.5, -1.0, 2.0]);
    let (_, (go, gb)) = vec_params_grad(o.clone(), &b);
    // d/d owned_i = b_i², d/d borrowed_i = 2 owned_i b_i
    assert_eq!(go, vec![0.25, 1.0, 4.0]);
    assert_eq!(gb, vec![1.0, -4.0, 12.0]);
}

/// A layer applied in a loop: each iteration's pullback (a closure of `nn::relu_vjp`) is kept on
/// the loop's stack and called in reverse.
#[differentiate(wrt(w, b))]
fn repeated_layer(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, depth: usize) -> f64 {
    let mut h = x.to_owned();
    for _ in 0..depth {
        h = nn::relu(&(h.dot(w) + b)) + &h;
    }
    h.sum()
}

/// f32 arrays go through the same rules.
#[differentiate]
fn single_precision(a: &Array2<f32>, s: f32) -> f32 {
    let z = a.dot(&a.t()) * s;
    (z.tanh() + a.sum()).sum()
}

#[test]
fn pullbacks_kept_per_iteration() {
    let x = seeded(3, 4, 51);
    let (w, b) = (
        seeded(4, 4, 52) * 0.5,
        Array1::from_vec(vec![0.1, -0.2, 0.05, 0.0]),
    );
    for depth in [0, 1, 3] {
        let (v, (gw, gb)) = repeated_layer_grad(&w, &b, &x, depth);
        assert_eq!(v, repeated_layer(&w, &b, &x, depth));
        check::assert_gradient(|w: &Array2<f64>| repeated_layer(w, &b, &x, depth), &w, &gw);
        check::assert_gradient(|b: &Array1<f64>| repeated_layer(&w, b, &x, depth), &b, &gb);
    }
}

#[test]
fn f32_tensors() {
    let a = seeded(2, 3, 61).mapv(|v| v as f32);
    let (_, (ga, gs)) = single_precision_grad(&a, 0.3);
    check::assert_gradient(|a: &Array2<f32>| single_precision(a, 0.3), &a, &ga);
    check::assert_gradient(|s: &f32| single_precision(&a, *s), &0.3, &gs);
}

/// `into_shape_with_order(..).unwrap()` between layers: the elements keep their order.
#[differentiate]
fn reshaped(a: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let flat = a.to_owned().into_shape_with_order(6).unwrap();
    let back = (&flat * &flat).into_shape_with_order((3, 2)).unwrap();
    back.dot(w).sum()
}

#[test]
fn reshapes() {
    let a = seeded(2, 3, 71);
    let w = Array1::from_vec(vec![0.5, -1.5]);
    let (v, (ga, gw)) = reshaped_grad(&a, &w);
    assert_eq!(v, reshaped(&a, &w));
    check::assert_gradient(|a: &Array2<f64>| reshaped(a, &w), &a, &ga);
    check::assert_gradient(|w: &Array1<f64>| reshaped(&a, w), &w, &gw);
}

/// Float methods on arrays through the elementwise rules: `powf` with an active scalar exponent
/// (whose cotangent sums over the elements), `to_degrees`, `abs`, `sqrt`.
#[differentiate]
fn elementwise_methods(a: &Array2<f64>, p: f64) -> f64 {
    (a.powf(p) + a.to_degrees() - a.abs().sqrt()).sum()
}

#[test]
fn elementwise_float_methods() {
    let a = seeded(3, 4, 81).mapv(|v| 0.5 + v.abs());
    let p = 1.3;
    let (value, (ga, gp)) = elementwise_methods_grad(&a, p);
    assert_eq!(value, elementwise_methods(&a, p));
    // ∂/∂aᵢⱼ = p·aᵢⱼ^(p−1) + 180/π − 1/(2√aᵢⱼ) (aᵢⱼ > 0); ∂/∂p = Σ aᵢⱼ^p·ln aᵢⱼ.
    for (g, &x) in ga.iter().zip(&a) {
        let expected = p * x.powf(p - 1.0) + 180.0 / std::f64::consts::PI - 0.5 / x.sqrt();
        assert!(
            (g - expected).abs() <= 1e-12 * expected.abs().max(1.0),
            "{g} vs {expected}"
        );
    }
    let expected_p: f64 = a.iter().map(|&x| x.powf(p) * x.ln()).sum();
    assert!((gp - expected_p).abs() <= 1e-12 * expected_p.abs().max(1.0));
    check::assert_gradient(|a: &Array2<f64>| elementwise_methods(a, p), &a, &ga);
    check::assert_gradient(|p: &f64| elementwise_methods(&a, *p), &p, &gp);
}

/// ndarray's `array![..]` of differentiated values, of one and two dimensions: the
/// `arr1(&[..])` and `arr2(&[..])` it expands to.
#[differentiate]
fn array_literals(a: f64, b: f64) -> f64 {
    let v: Array1<f64> = array![0.25 * a.exp(), b * b];
    let m: Array2<f64> = array![[a, 1.0], [b, a * b]];
    v.sum() + m.dot(&v).sum()
}

#[test]
fn array_macro_literals_are_followed() {
    let (y, g) = array_literals_grad(0.3, 2.0);
    assert_eq!(y, array_literals(0.3, 2.0));
    let r = check::gradcheck(|p: &(f64, f64)| array_literals(p.0, p.1), &(0.3, 2.0), &g);
    assert!(r.passed(), "{r}");
}
