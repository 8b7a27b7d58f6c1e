use autodiff::differentiate;

// An iterator chain that starts from a string's characters is not followed (chains start from
// slices, `Vec`s, arrays and ranges): the error says to collect the characters first or to
// loop over them, which is followed. It said to annotate a variable.

#[differentiate(wrt(w))]
fn letters(w: &[f64], text: &str) -> f64 {
    text.chars().map(|c| w[c as usize % w.len()].powi(2)).sum::<f64>()
}

fn main() {}
