//! Sequence models over text, written as an NLP pipeline writes them: token pairs kept as
//! strings and looked up in a vocabulary built outside the differentiated function.
//!
//! A loop or a chain over a slice of tuples of data that are not `Copy` (`pairs: &[(String,
//! String)]` of (center, context) words, read by `for (c, o) in pairs` or `pairs.iter().map(|(c,
//! o)| ..)`) was rustc's "cannot move out of type `[(String, String)]`, a non-copy slice" inside
//! the generated code: each item was moved out of the slice to be taken apart. The item is now
//! borrowed and each field of data copied out of it.
//!
//! A table of floats built outside the function and passed as a map (`counts: &HashMap<String,
//! f64>` of word counts, `probs: &BTreeMap<(usize, usize), f64>` of bigram probabilities) was
//! taken for a differentiated parameter, as a `Vec` of floats is: rustc's "`HashMap<String,
//! f64>` cannot be differentiated" at the first read, or, for `counts.get(w)`, the macro's
//! "`.get(..)` on a differentiated slice", which named neither the map nor the fix. A map or a
//! set has no gradient type: like an `Option`, it is data unless named in `wrt(..)`, where it
//! is an error that says to keep the floats in a `Vec` beside a map to their positions.
//!
//! A token's id looked up in a vocabulary kept in the parameter struct, with the id of the
//! unknown word as the default (`m.vocab.get(w).copied().unwrap_or(unk)` of `vocab:
//! HashMap<String, usize>`, `let unk = m.logits.len() - 1;`), was read as the element of a
//! vector at position `w` (rustc's "expected `usize`, found `&str`" inside the generated code):
//! the macro does not see the field's type. A default that is an integer (a literal, or a
//! variable declared or computed as one) makes the read an integer's, which is run as written.
//!
//! A chain over the words or characters of a string whose closures read differentiated values
//! (`text.split(' ').map(|t| w[vocab[t]]).sum()`, a bag of words scored in one line) was
//! taken for ndarray's elementwise `map`: rustc's "`std::str::Split<'_, char>` is not an
//! ndarray array" inside the generated code (or, with `.sum::<f64>()`, an error that said to
//! collect the items first). The items are collected into a `Vec` first, as a loop over them
//! is, and the chain goes over it.
//!
//! The words of sentences kept as `&[Vec<&str>]`, taken by value with `for &t in sent` and
//! compared with a marker (`t == "<unk>"`), were bound as the reference to the item: rustc's
//! "can't compare `&str` with `str`" inside the generated code. `&t` of an item that is a
//! reference binds what it borrows, as in Rust. And an id read out of a vocabulary by
//! dereferencing a lookup with a default (`*vocab.get(t).unwrap_or(&0)` of `vocab:
//! &HashMap<&str, usize>`) was the macro's error that dereferencing is supported for the items
//! of loops only: a chain of methods of a data parameter with data arguments runs as written.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![deny(warnings)]

use autodiff::{Differentiable, differentiate};
use std::collections::{BTreeMap, HashMap};

mod common;
use common::*;

#[differentiate]
fn log_sigmoid(x: f64) -> f64 {
    -(1.0 + (-x).exp()).ln()
}

/// Skip-gram with negative sampling: input and output embedding tables.
#[derive(Clone, Differentiable)]
struct Sgns {
    input: Vec<Vec<f64>>,
    output: Vec<Vec<f64>>,
}

// Σ_k −ln σ(u_c·v_o) − Σ_n ln σ(−u_c·v_n), with u = input[vocab[c]], v = output[..]:
// ∂/∂u_c = −(1 − σ(u·v_o)) v_o + Σ_n σ(u·v_n) v_n, and symmetrically for the v's.
#[differentiate(wrt(m))]
fn sgns_loss(
    m: &Sgns,
    vocab: &HashMap<String, usize>,
    pairs: &[(String, String)],
    negs: &[Vec<usize>],
) -> f64 {
    let mut loss = 0.0;
    for (k, (c, o)) in pairs.iter().enumerate() {
        let ci = vocab[c];
        let oi = vocab[o];
        let u = &m.input[ci];
        let pos: f64 = u.iter().zip(&m.output[oi]).map(|(a, b)| a * b).sum();
        loss -= log_sigmoid(pos);
        for &n in &negs[k] {
            let s: f64 = u.iter().zip(m.output[n].iter()).map(|(a, b)| a * b).sum();
            loss -= log_sigmoid(-s);
        }
    }
    loss / pairs.len() as f64
}

// Σ over pairs of w[vocab[c]]·w[vocab[o]]: ∂/∂w_i = Σ over pairs with c = i of w[vocab[o]],
// plus the same with the roles swapped.
#[differentiate(wrt(w))]
fn pair_products(w: &[f64], vocab: &HashMap<String, usize>, pairs: &[(String, String)]) -> f64 {
    let mut s = 0.0;
    for (c, o) in pairs.iter() {
        s += w[vocab[c]] * w[vocab[o]];
    }
    s
}

// The same sum written as a chain.
#[differentiate(wrt(w))]
fn pair_products_chain(
    w: &[f64],
    vocab: &HashMap<String, usize>,
    pairs: &[(String, String)],
) -> f64 {
    pairs.iter().map(|(c, o)| w[vocab[c]] * w[vocab[o]]).sum()
}

// A label read beside a count: Σ count·w[vocab[word]]; ∂/∂w_i = Σ counts of word i.
#[differentiate(wrt(w))]
fn weighted_words(w: &[f64], vocab: &HashMap<String, usize>, counts: &[(String, f64)]) -> f64 {
    counts.iter().map(|(word, c)| c * w[vocab[word]]).sum()
}

fn vocab_of(words: &[&str]) -> HashMap<String, usize> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), i))
        .collect()
}

fn pairs_of(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn skip_gram_pairs_of_strings_are_read_borrowed() {
    let vocab = vocab_of(&["the", "cat", "sat", "mat"]);
    let m = Sgns {
        input: (0..4).map(|i| vec![0.1 * i as f64, -0.2, 0.3]).collect(),
        output: (0..4)
            .map(|i| vec![0.2, 0.1 * i as f64 - 0.1, -0.3])
            .collect(),
    };
    let pairs = pairs_of(&[("cat", "sat"), ("the", "cat")]);
    let negs = vec![vec![3usize, 0], vec![2]];
    let (y, g) = sgns_loss_grad(&m, &vocab, &pairs, &negs);
    close("value", y, sgns_loss(&m, &vocab, &pairs, &negs), TOL);
    // ∂/∂input[cat] = (−(1 − σ(u·v_sat)) v_sat + σ(u·v_mat) v_mat + σ(u·v_the) v_the) / 2.
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let u = &m.input[1];
    for k in 0..3 {
        let e = (-(1.0 - sigmoid(dot(u, &m.output[2]))) * m.output[2][k]
            + sigmoid(dot(u, &m.output[3])) * m.output[3][k]
            + sigmoid(dot(u, &m.output[0])) * m.output[0][k])
            / 2.0;
        close("input[cat]", g.input[1][k], e, 1e-12);
    }
    // "mat" is never a center word.
    assert!(g.input[3].iter().all(|&v| v == 0.0));
    fd_any(
        "sgns",
        |p: &Sgns| sgns_loss(p, &vocab, &pairs, &negs),
        &m,
        &g,
    );
}

#[test]
fn a_loop_and_a_chain_over_pairs_of_strings() {
    let vocab = vocab_of(&["x", "y", "z"]);
    let pairs = pairs_of(&[("x", "y"), ("z", "y")]);
    let w = vec![0.5, -1.5, 2.0];
    // w_x w_y + w_z w_y: (w_y, w_x + w_z, w_y).
    let expected = vec![-1.5, 2.5, -1.5];
    let (_, g) = pair_products_grad(&w, &vocab, &pairs);
    close_all("loop", &g, &expected);
    let (_, g) = pair_products_chain_grad(&w, &vocab, &pairs);
    close_all("chain", &g, &expected);
    fd_any(
        "loop",
        |p: &Vec<f64>| pair_products(p, &vocab, &pairs),
        &w,
        &g,
    );
}

#[test]
fn a_string_beside_a_float_of_data() {
    let vocab = vocab_of(&["a", "b"]);
    let counts = vec![
        ("a".to_string(), 2.0),
        ("b".to_string(), 3.0),
        ("a".to_string(), 0.5),
    ];
    let w = vec![0.7, -0.4];
    let (y, g) = weighted_words_grad(&w, &vocab, &counts);
    close("value", y, 2.5 * 0.7 - 3.0 * 0.4, TOL);
    close_all("grad", &g, &[2.5, 3.0]);
}

// Lidstone-smoothed held-out negative log-likelihood, Σ_w −ln((c_w + α) / (N + αV)):
// ∂/∂α = Σ_w −1/(c_w + α) + |held|·V/(N + αV); ∂²/∂α² = Σ_w 1/(c_w + α)² − |held|·V²/(N + αV)².
#[differentiate(hessian)]
fn lidstone_nll(alpha: f64, counts: &HashMap<String, f64>, held: &[&str], vocab: usize) -> f64 {
    let n: f64 = counts.values().sum();
    let denom = n + alpha * vocab as f64;
    held.iter()
        .map(|w| {
            let c = counts.get(*w).copied().unwrap_or(0.0);
            -((c + alpha) / denom).ln()
        })
        .sum()
}

// −Σ ln(w[next]·p(next | prev)) over the text's bigrams, p from a table with a floor:
// ∂/∂w_i = −Σ over bigrams ending in i of 1/w_i.
#[differentiate]
fn bigram_nll(w: &[f64], probs: &BTreeMap<(usize, usize), f64>, text: &[usize]) -> f64 {
    let mut s = 0.0;
    for p in text.windows(2) {
        let q = probs.get(&(p[0], p[1])).copied().unwrap_or(1e-3);
        s -= (w[p[1]] * q).ln();
    }
    s
}

#[test]
fn a_map_of_floats_is_data() {
    let mut counts = HashMap::new();
    counts.insert("the".to_string(), 5.0);
    counts.insert("cat".to_string(), 2.0);
    let held = ["the", "dog", "cat", "the"];
    let a = 0.7;
    let cs = [5.0, 0.0, 2.0, 5.0];
    let g: f64 = cs.iter().map(|c| -1.0 / (c + a)).sum::<f64>() + 4.0 * 10.0 / (7.0 + a * 10.0);
    let h: f64 = cs.iter().map(|c| 1.0 / ((c + a) * (c + a))).sum::<f64>()
        - 4.0 * 100.0 / ((7.0 + a * 10.0) * (7.0 + a * 10.0));
    let (y, dy) = lidstone_nll_grad(a, &counts, &held, 10);
    close("value", y, lidstone_nll(a, &counts, &held, 10), TOL);
    close("grad", dy, g, 1e-12);
    fd("lidstone", |x| lidstone_nll(x, &counts, &held, 10), a, dy);
    let (_, dy, hv) = lidstone_nll_hvp(a, &counts, &held, 10, 1.0);
    close("hvp grad", dy, g, 1e-12);
    close("hvp", hv, h, 1e-10);
    let (_, t) = lidstone_nll_jvp(a, &counts, &held, 10, 1.0);
    close("jvp", t, g, 1e-12);

    let mut probs = BTreeMap::new();
    probs.insert((0, 1), 0.5);
    let w = vec![1.0, 2.0, 3.0];
    let (_, g) = bigram_nll_grad(&w, &probs, &[0, 1, 2, 1]);
    close_all("bigram", &g, &[0.0, -1.0, -1.0 / 3.0]);
    fd_any(
        "bigram",
        |p: &Vec<f64>| bigram_nll(p, &probs, &[0, 1, 2, 1]),
        &w,
        &g,
    );
}

/// A unigram language model with its vocabulary.
#[derive(Clone, Differentiable)]
struct Unigram {
    vocab: HashMap<String, usize>,
    logits: Vec<f64>,
}

// Perplexity exp(mean_w (lse − l_{id(w)})), unknown words mapped to the last id:
// ∂/∂l_k = ppl · (softmax(l)_k − count_k / n) where count_k counts the words with id k.
#[differentiate(wrt(m))]
fn unigram_ppl(m: &Unigram, text: &str) -> f64 {
    let mx = m.logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = mx + m.logits.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
    let unk = m.logits.len() - 1;
    let mut nll = 0.0;
    let mut n = 0;
    for w in text.split_whitespace() {
        let i = m.vocab.get(w).copied().unwrap_or(unk);
        nll += lse - m.logits[i];
        n += 1;
    }
    (nll / n as f64).exp()
}

// Σ_w l_{id(w)} with unknown words at id 0: ∂/∂l_k = count_k.
#[differentiate(wrt(m))]
fn id_sum(m: &Unigram, text: &str) -> f64 {
    let mut s = 0.0;
    for w in text.split(' ') {
        let i = m.vocab.get(w).copied().unwrap_or(0);
        s += m.logits[i];
    }
    s
}

#[test]
fn a_vocabulary_field_is_read_by_key() {
    let vocab: HashMap<String, usize> = [("the", 0usize), ("cat", 1), ("sat", 2)]
        .iter()
        .map(|(s, i)| (s.to_string(), *i))
        .collect();
    let m = Unigram {
        vocab,
        logits: vec![0.3, -0.2, 0.5, 0.1],
    };
    let text = "the cat sat on the mat";
    let (ppl, g) = unigram_ppl_grad(&m, text);
    let z: f64 = m.logits.iter().map(|v| v.exp()).sum();
    let counts = [2.0, 1.0, 1.0, 2.0];
    for k in 0..4 {
        let e = ppl * (m.logits[k].exp() / z - counts[k] / 6.0);
        close("ppl", g.logits[k], e, 1e-12);
    }
    assert_eq!(g.vocab.len(), 3);
    fd_any("ppl", |p: &Unigram| unigram_ppl(p, text), &m, &g);
    let (_, g) = id_sum_grad(&m, "cat x cat the");
    close_all("ids", &g.logits, &[2.0, 2.0, 0.0, 0.0]);
}

// Σ_t w[vocab[t]]² over the words: ∂/∂w_i = 2 count_i w_i.
#[differentiate(wrt(w))]
fn bag_of_words(w: &[f64], vocab: &HashMap<String, usize>, text: &str) -> f64 {
    text.split(' ').map(|t| w[vocab[t]] * w[vocab[t]]).sum()
}

// Σ_t w[vocab[t]] with `sum::<f64>()`: ∂/∂w_i = count_i.
#[differentiate(wrt(w))]
fn word_sum(w: &[f64], vocab: &HashMap<String, usize>, text: &str) -> f64 {
    text.split_whitespace().map(|t| w[vocab[t]]).sum::<f64>()
}

// Σ over the letters at positions i of sin(i·w[c mod 3]): ∂/∂w_k = Σ i cos(i·w_k) over the
// letters with c mod 3 = k.
#[differentiate(wrt(w))]
fn letters(w: &[f64], text: &str) -> f64 {
    text.chars()
        .enumerate()
        .filter(|(_, ch)| ch.is_alphabetic())
        .map(|(i, ch)| (w[ch as usize % 3] * i as f64).sin())
        .fold(0.0, |acc, x| acc + x)
}

// A chain over a string that reads data only is run as written: Σ_{ids} w_i, ∂/∂w_i = count_i.
#[differentiate(wrt(w))]
fn known_words(w: &[f64], vocab: &HashMap<String, usize>, text: &str) -> f64 {
    let ids: Vec<usize> = text
        .split_whitespace()
        .filter_map(|t| vocab.get(t).copied())
        .collect();
    ids.iter().map(|&i| w[i]).sum()
}

#[test]
fn a_chain_over_the_words_of_a_string() {
    let vocab = vocab_of(&["x", "y", "z"]);
    let w = vec![2.0, 3.0, 5.0];
    let (y, g) = bag_of_words_grad(&w, &vocab, "x y x");
    close("value", y, 4.0 + 9.0 + 4.0, TOL);
    close_all("bag", &g, &[8.0, 6.0, 0.0]);
    fd_any(
        "bag",
        |p: &Vec<f64>| bag_of_words(p, &vocab, "x y x"),
        &w,
        &g,
    );
    let (_, g) = word_sum_grad(&w, &vocab, "z y z z");
    close_all("sum", &g, &[0.0, 1.0, 3.0]);
    let (_, g) = known_words_grad(&w, &vocab, "x q y x");
    close_all("known", &g, &[2.0, 1.0, 0.0]);
    // a (97 mod 3 = 1) at 0, b (98 mod 3 = 2) at 1, c (99 mod 3 = 0) at 3.
    let (_, g) = letters_grad(&w, "ab1c");
    close_all(
        "letters",
        &g,
        &[3.0 * (3.0 * w[0]).cos(), 0.0, (w[2]).cos()],
    );
    fd_any("letters", |p: &Vec<f64>| letters(p, "ab1c"), &w, &g);
}

// Σ over sentences of ‖Σ_t emb[id(t)]‖, `<unk>` and unknown words at id 0:
// ∂/∂emb[i] = Σ over sentences of count_i(sentence) · s / ‖s‖, s the sentence's sum.
#[differentiate(wrt(emb))]
fn sentence_norms(emb: &[Vec<f64>], vocab: &HashMap<&str, usize>, sents: &[Vec<&str>]) -> f64 {
    let mut total = 0.0;
    for sent in sents {
        let mut acc = vec![0.0; emb[0].len()];
        for &t in sent {
            let id = if t == "<unk>" {
                0
            } else {
                *vocab.get(t).unwrap_or(&0)
            };
            for (a, e) in acc.iter_mut().zip(&emb[id]) {
                *a += e;
            }
        }
        total += acc.iter().map(|a| a * a).sum::<f64>().sqrt();
    }
    total
}

// Σ_t w[id(t)] over a slice of words: ∂/∂w_i = count_i.
#[differentiate(wrt(w))]
fn marked_ids(w: &[f64], vocab: &HashMap<&str, usize>, sent: &[&str]) -> f64 {
    let mut total = 0.0;
    for &t in sent {
        let id = if t == "<unk>" { 0 } else { vocab[t] };
        total += w[id];
    }
    total
}

#[test]
fn words_taken_by_value_compare_as_str() {
    let vocab: HashMap<&str, usize> = [("a", 1usize), ("b", 2)].into_iter().collect();
    let emb = vec![vec![0.3, -0.4], vec![0.5, 0.1], vec![-0.2, 0.7]];
    let sents = vec![vec!["a", "b", "<unk>"], vec!["b", "zzz", "b"]];
    let (_, g) = sentence_norms_grad(&emb, &vocab, &sents);
    let sum = |ids: &[usize]| -> Vec<f64> {
        (0..2)
            .map(|k| ids.iter().map(|&i| emb[i][k]).sum())
            .collect()
    };
    let (s1, s2) = (sum(&[1, 2, 0]), sum(&[2, 0, 2]));
    let (n1, n2) = (
        s1.iter().map(|v| v * v).sum::<f64>().sqrt(),
        s2.iter().map(|v| v * v).sum::<f64>().sqrt(),
    );
    let counts = [[1.0, 1.0], [1.0, 0.0], [1.0, 2.0]];
    for i in 0..3 {
        for k in 0..2 {
            let e = counts[i][0] * s1[k] / n1 + counts[i][1] * s2[k] / n2;
            close("emb", g[i][k], e, 1e-12);
        }
    }
    fd_any(
        "norms",
        |p: &Vec<Vec<f64>>| sentence_norms(p, &vocab, &sents),
        &emb,
        &g,
    );
    let (_, g) = marked_ids_grad(&[1.0, 2.0, 3.0], &vocab, &["a", "<unk>", "b", "a"]);
    close_all("ids", &g, &[1.0, 2.0, 1.0]);
}
