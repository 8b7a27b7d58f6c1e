//! The macro never panics, whatever tokens it is given: `expand` runs on thousands of token
//! streams made by mutating the differentiated functions of the project's own tests (a token
//! deleted, repeated, swapped with its neighbour, replaced by another token of the corpus, a
//! group flattened or emptied), valid or not. Each must expand to tokens (the function with its
//! errors or its derivatives), never to a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;

/// Test sources whose `#[differentiate]` functions are the corpus.
const SOURCES: &[&str] = &[
    include_str!("../../tests/lecture.rs"),
    include_str!("../../tests/control_flow.rs"),
    include_str!("../../tests/places.rs"),
    include_str!("../../tests/slices.rs"),
    include_str!("../../tests/calls_tuples.rs"),
    include_str!("../../tests/iterators.rs"),
    include_str!("../../tests/closures.rs"),
    include_str!("../../tests/tensors.rs"),
    include_str!("../../tests/valid_programs.rs"),
];

/// `(attribute arguments, function)` of every `#[differentiate]` function in the sources.
fn corpus() -> Vec<(TokenStream, TokenStream)> {
    let mut out = Vec::new();
    for src in SOURCES {
        let file: syn::File = syn::parse_str(src).expect("test sources parse");
        for item in file.items {
            let syn::Item::Fn(mut f) = item else { continue };
            let Some(k) = f
                .attrs
                .iter()
                .position(|a| a.path().is_ident("differentiate"))
            else {
                continue;
            };
            let attr = f.attrs.remove(k);
            let args = match attr.meta {
                syn::Meta::List(l) => l.tokens,
                _ => TokenStream::new(),
            };
            out.push((args, f.to_token_stream()));
        }
    }
    out
}

/// SplitMix64: a seeded, dependency-free generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every token of a stream, groups included, for replacements.
fn all_tokens(ts: &TokenStream, out: &mut Vec<TokenTree>) {
    for t in ts.clone() {
        if let TokenTree::Group(g) = &t {
            all_tokens(&g.stream(), out);
        }
        out.push(t);
    }
}

/// One random change somewhere in the stream (at a random depth).
fn mutate(ts: TokenStream, rng: &mut Rng, pool: &[TokenTree]) -> TokenStream {
    let mut toks: Vec<TokenTree> = ts.into_iter().collect();
    if toks.is_empty() {
        return pool[rng.below(pool.len())].clone().into();
    }
    let k = rng.below(toks.len());
    // Go deeper half of the time when the token is a group.
    if let TokenTree::Group(g) = &toks[k] {
        if rng.below(2) == 0 {
            let mut ng = Group::new(g.delimiter(), mutate(g.stream(), rng, pool));
            ng.set_span(g.span());
            toks[k] = TokenTree::Group(ng);
            return toks.into_iter().collect();
        }
    }
    match rng.below(6) {
        0 => {
            toks.remove(k);
        }
        1 => {
            let t = toks[k].clone();
            toks.insert(k, t);
        }
        2 if k + 1 < toks.len() => toks.swap(k, k + 1),
        3 => toks[k] = pool[rng.below(pool.len())].clone(),
        4 => {
            if let TokenTree::Group(g) = toks.remove(k) {
                for (n, t) in g.stream().into_iter().enumerate() {
                    toks.insert(k + n, t);
                }
            }
        }
        _ => {
            if let TokenTree::Group(g) = &toks[k] {
                toks[k] = TokenTree::Group(Group::new(g.delimiter(), TokenStream::new()));
            } else {
                toks.insert(k, pool[rng.below(pool.len())].clone());
            }
        }
    }
    toks.into_iter().collect()
}

#[test]
fn expansion_never_panics_on_mutated_functions() {
    let corpus = corpus();
    assert!(corpus.len() > 100, "corpus of {} functions", corpus.len());
    let mut pool = Vec::new();
    for (_, f) in &corpus {
        all_tokens(f, &mut pool);
    }
    let mut rng = Rng(440);
    // Panics are caught and reported with the input; the default hook would print each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for round in 0..2500 {
        let (attr, f) = &corpus[rng.below(corpus.len())];
        let mut item = f.clone();
        let mut attr = attr.clone();
        for _ in 0..1 + rng.below(3) {
            if rng.below(8) == 0 {
                attr = mutate(attr, &mut rng, &pool);
            } else {
                item = mutate(item, &mut rng, &pool);
            }
        }
        let input = (attr.clone(), item.clone());
        if catch_unwind(AssertUnwindSafe(|| crate::expand(attr, item))).is_err() {
            failures.push(format!(
                "round {round}: #[differentiate({})] {}",
                input.0, input.1
            ));
        }
    }
    std::panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "{} of 2500 inputs made the macro panic; the first:\n{}",
        failures.len(),
        failures[0]
    );
}
