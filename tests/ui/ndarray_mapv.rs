// ndarray's closure methods other than mapv/map/mapv_into/mapv_inplace and Zip's map_collect
// are not differentiated; the error lists the ones that are.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate(wrt(a))]
fn f(a: &Array1<f64>, mask: &Array1<f64>) -> f64 {
    // On an inactive array, a closure just runs.
    let m = mask.mapv(|v| if v > 0.5 { 1.0 } else { 0.0 });
    // `zip_mut_with` writing a differentiated local through a closure other than one `*x = ..`
    // is not followed.
    let mut b = a * 2.0;
    b.zip_mut_with(&m, |x, &y| {
        if y > 0.5 {
            *x = x.max(y)
        }
    });
    b.sum()
}

fn main() {
    let a = Array1::from(vec![1.0, -2.0]);
    let _ = f_grad(&a, &a);
}
