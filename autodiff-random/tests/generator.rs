//! The generator itself: a seed names one program, and every program is syntactically valid
//! Rust (parsed with `syn`; that it also type-checks as plain Rust is what the driver's first
//! step and the CI test show).

use autodiff_random::{Config, generate, rng::case_seed};

#[test]
fn a_seed_names_one_program() {
    for config in [Config::default(), Config::ci()] {
        for i in 0..50 {
            let seed = case_seed(7, i);
            let a = generate(seed, &config);
            let b = generate(seed, &config);
            assert_eq!(a, b, "seed {seed:x}");
            assert_eq!(a.module(), b.module());
        }
    }
    // Different seeds give different programs.
    let c = Config::default();
    assert_ne!(
        generate(case_seed(7, 0), &c).program(),
        generate(case_seed(7, 1), &c).program()
    );
}

#[test]
fn programs_and_check_modules_parse() {
    for config in [Config::default(), Config::ci()] {
        for i in 0..200 {
            let case = generate(case_seed(11, i), &config);
            let file = syn::parse_file(&case.module())
                .unwrap_or_else(|e| panic!("{e}\n{}", case.module()));
            assert_eq!(file.items.len(), 1);
            syn::parse_file(&case.plain_module()).expect("the plain module parses");
            // Each function carries the attribute (and so do the struct's methods, indented,
            // and the impl blocks of `V2`, with its RK4 step's impl block and two functions),
            // the plain module none; the entry function comes last. A case declared `hessian`
            // has that attribute everywhere and checks `_hvp`.
            let n = case.functions.len()
                + if case.program().contains("struct V2") {
                    5
                } else {
                    0
                }
                + if case.program().contains("fn v2_rk4") {
                    3
                } else {
                    0
                }
                + usize::from(case.program().contains("struct Acc"))
                + usize::from(case.program().contains("struct Net"))
                + usize::from(case.program().contains("struct Fit"))
                + usize::from(case.program().contains("struct Cfg"))
                + usize::from(case.program().contains("struct Stat"));
            let program = case.program();
            let attr = if case.hessian {
                "#[differentiate(hessian)]"
            } else {
                "#[differentiate]"
            };
            assert_eq!(program.lines().filter(|l| *l == attr).count(), n);
            let methods = if program.contains("impl Pt {") { 3 } else { 0 };
            assert_eq!(program.matches(&format!("    {attr}")).count(), methods);
            assert!(!case.plain_module().contains("#[differentiate"));
            assert_eq!(case.module().contains("check_hvp"), case.hessian);
            assert!(
                !(case.hessian && config == Config::ci()),
                "no `hessian` in CI"
            );
            assert!(case.entry().name.starts_with("f_"));
            assert!(case.entry().params.iter().any(|p| p.kind.active()));
        }
    }
}

#[test]
fn the_ci_configuration_leaves_out_what_it_says() {
    for i in 0..200 {
        let p = generate(case_seed(3, i), &Config::ci()).program();
        assert!(!p.contains("::cos(1.0)"), "{p}");
    }
    // The full configuration does generate it.
    assert!((0..200).any(|i| {
        generate(case_seed(3, i), &Config::default())
            .program()
            .contains("::cos(1.0)")
    }));
}

/// The forms users write that the macro follows are all generated, in the CI configuration
/// too: `Option`s of indices matched, work lists drained by `pop`, range patterns, closures
/// taking references, literals assigned over variables, extremes read inside expressions,
/// `while let`/`if let` on a `Vec` of differentiated values, the mutations `rotate_left`,
/// `split_off` and `first_mut` writes, a struct literal and its methods, array patterns, range
/// slices and literals chosen by a condition; grids written element by element, `let .. else`,
/// `mem::replace`, `retain`, struct updates, a `static` table and a `loop`'s value.
#[test]
fn the_forms_users_write_are_generated() {
    let forms = [
        ".iter().position(|",
        ".iter().rposition(|",
        "None => break,",
        "while !stack",
        "0..=1 =>",
        "..=0 =>",
        "1..3 =>",
        ": &f64| ",
        "(&",
        "max_by(|a, b| a.total_cmp(b)).unwrap()",
        ".expect(\"",
        "while let Some(",
        "if let Some(",
        ".rotate_left(",
        ".split_off(",
        ".first_mut().unwrap() = ",
        "Pt { ",
        "let [",
        ".split_at(",
        "..].iter().sum::<",
        ".norm()",
        ".mix(",
        "Pt::norm(&",
        "Pt::mix(&",
        " else { -0.25 };",
        "> = vec![vec![0.0; 2]; ",
        ".iter_mut() {",
        "].swap(0, 1);",
        "let Some(&",
        "std::mem::replace(&mut ",
        ".retain(|",
        "WEIGHTS[",
        "..p",
        "= loop {",
    ];
    // The full configuration's mix spreads over more kinds than CI's: it is sampled twice as
    // long, for its rarer forms (a literal chosen by a condition).
    for (config, count) in [(Config::default(), 800), (Config::ci(), 400)] {
        let programs: Vec<String> = (0..count)
            .map(|i| generate(case_seed(5, i), &config).program())
            .collect();
        for form in forms {
            assert!(
                programs.iter().any(|p| p.contains(form)),
                "no program writes `{form}`"
            );
        }
        // A call's result bound `let mut`, for literals to be assigned over it.
        assert!(programs.iter().any(|p| {
            p.lines()
                .any(|l| l.trim().starts_with("let mut t") && l.contains(" = h0_"))
        }));
    }
}

/// The forms of the `early_exit`, `stencil3` and `int_casts` kinds are written (weighted up;
/// CI leaves them out): returns from nested loops in a helper, labeled jumps,
/// `while let` over a slice iterator, `Array3` built both ways and read by a stencil, and
/// integers cast from floats.
#[test]
fn the_exits_stencils_and_casts_are_generated() {
    let forms = [
        "    return acc * b + q;",
        "                return acc + v * b;",
        "continue 'eo",
        "break 'e",
        "= loop {",
        "while let Some(&ev",
        "ndarray::Array3::from_shape_fn((",
        "ndarray::Array3::zeros((",
        ".indexed_iter_mut() {",
        " - 1, ",
        "* 7.0).floor() as i64;",
        ".rem_euclid(4) as usize;",
        ".signum() as i32",
        "as usize).min(3);",
    ];
    assert_written(
        5,
        &[("early_exit", 20), ("stencil3", 20), ("int_casts", 20)],
        &forms,
    );
    assert_ci_writes_none(&["Array3", "'eo"]);
}

/// The forms of the `nd_zip` and `row_copy` kinds are written (weighted up; CI leaves them
/// out): `Zip::indexed` and `azip!` with an index, `return;` in the closure, a transposed
/// producer, a length read off a shape, `map_inplace`, a reference to an element, rows copied
/// out by index, by a pattern and by reference, and scans with a count that stop early.
#[test]
fn the_zip_idioms_and_copied_rows_are_generated() {
    let forms = [
        "ndarray::Zip::indexed(&mut zo",
        "ndarray::azip!((index (",
        "ndarray::azip!((index i",
        "        return;",
        ".t()).for_each(|(",
        ".shape()[0];",
        ".map_inplace(|v| {",
        "= &mut zo",
        "ndarray::Array3<",
        "let [rp",
        "= &rt",
        ": [[[",
        "return None;",
        "(0usize, ",
    ];
    assert_written(5, &[("nd_zip", 20), ("row_copy", 20)], &forms);
    assert_ci_writes_none(&["Zip::indexed", "azip!"]);
}

/// The forms of the `self_borrow`, `closure_env` and `iter_shapes` kinds are written (weighted
/// up; CI leaves them out): a struct whose methods borrow a field and call each other, one
/// returned by a method and called on, a `&mut self` step of a clone, a helper taking it by
/// reference; closures capturing a local array (also `move`), returning a pair, calling
/// another closure, taking a slice and changing a captured accumulator; `chunks_exact`, a zip
/// of three, `rev().step_by(..)`, `skip(..).take(..)`, arrays filled by index then reduced, and
/// `match` on tuples of a float and an integer.
#[test]
fn the_borrowing_methods_closures_and_iterator_shapes_are_generated() {
    let forms = [
        "let fb",
        ".scaled(",
        ": Fit = ",
        ".nudge(",
        "(m: &Fit, xs: &[",
        "Fit::spread(&",
        "let w = self.weights();",
        "= &fb",
        "move |u: ",
        "-> (f64, f64) { (u * ",
        ", 1) * 0.5 + ce",
        "|q: &[",
        "let mut ce",
        ".chunks_exact(2).zip(",
        ".chunks_exact(3)",
        ")).zip(",
        ".rev().step_by(",
        ".take(",
        "|((&p, &q), &r)|",
        "(0..is",
        "Array3::from_elem((2, ",
        "Array2::<f64>::zeros((2, 3));",
        ".sum_axis(ndarray::Axis(2)).fold(0.0, |s, &v| s + v * v)",
        "(v, 0) if v > 0.25 =>",
        "if let (w, 1..=2) = (",
    ];
    assert_written(
        5,
        &[
            ("self_borrow", 20),
            ("closure_env", 20),
            ("iter_shapes", 20),
        ],
        &forms,
    );
    assert_ci_writes_none(&["Fit {", "chunks_exact", "move |u"]);
}

/// Every statement kind, weighted to dominate, generates programs that parse, with the
/// generator's own integer arithmetic checked for overflow (this test runs unoptimized).
#[test]
fn every_kind_weighted_alone_generates() {
    for kind in autodiff_random::generate::STMT_KINDS {
        let mut config = Config::default();
        config.set_stmt_weight(kind, 300);
        for i in 0..20 {
            let case = generate(case_seed(13, i), &config);
            syn::parse_file(&case.module()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
}

/// The loops of the `counter` kind write what they are there for: counters of three integer
/// types stepped by 1, 2 and −1, reset in an outer loop or carried across it, the triangles
/// and their near misses, a `break` inside, and rows around the nest; generic helpers sum
/// from `T::zero()` and `T::one()` over triangles and counters.
#[test]
fn the_counter_loops_are_generated() {
    let forms = [
        ": usize = ",
        ": i64 = -",
        ": u32 = ",
        " += 1;",
        " += 2;",
        " -= 1;",
        " as usize]",
        "..wj",
        "(0..wj",
        " + 1..",
        "..=wj",
        "break;",
        "for wr",
        "let mut acc2 = T::one();",
        "let mut acc2 = T::zero();",
        "T::from(c).unwrap()",
        "acc = acc - ",
    ];
    assert_written(17, &[("counter", 40)], &forms);
}

/// Asserts that none of the CI configuration's first 200 programs (of seed 3) holds any of
/// `needles`: the kinds that write them are left out of CI.
fn assert_ci_writes_none(needles: &[&str]) {
    for i in 0..200 {
        let p = generate(case_seed(3, i), &Config::ci()).program();
        assert!(!needles.iter().any(|n| p.contains(n)), "{p}");
    }
}

/// Asserts that some of 300 programs of `seed`, with the statement kinds `weights` names
/// weighted so, writes each of `forms`.
fn assert_written(seed: u64, weights: &[(&str, u32)], forms: &[&str]) {
    let mut config = Config::default();
    for &(kind, w) in weights {
        config.set_stmt_weight(kind, w);
    }
    let programs: Vec<String> = (0..300)
        .map(|i| generate(case_seed(seed, i), &config).program())
        .collect();
    for form in forms {
        assert!(
            programs.iter().any(|p| p.contains(form)),
            "no program writes `{form}`"
        );
    }
}

/// The `vec2` and `matrix` kinds write what they are there for: the struct's operators and
/// its methods taking `&self`, `self` and `&mut self` on locals, elements of a `Vec` of it and
/// what operators return; matrices built three ways and reduced through the rules of two
/// dimensions.
#[test]
fn the_struct_and_matrix_forms_are_generated() {
    let forms = [
        "impl Sub for V2",
        "V2::new(",
        "V2 { x: ",
        "V2 { y: ",
        ": V2 = ",
        ".step(",
        ".turned(",
        ".dot(&",
        ".energy()",
        "V2::size(&",
        "let mut vs",
        ": Vec<V2> = Vec::new();",
        "vec![V2",
        ").size()",
        " += v",
        ".x = ",
        "while c",
        "Array2::from_shape_vec((",
        "Array2::from(vec![[",
        ".collect::<Vec<",
        ".rows()",
        ".sum_axis(Axis(0))",
        ".mean_axis(Axis(1))",
        ".slice(s![.., 1..])",
        ".t().dot(&",
        ".diag()",
        ".column(",
        ".row(",
        ".tanh().sum()",
    ];
    assert_written(19, &[("vec2", 30), ("matrix", 30)], &forms);
}

/// The `buffer`, `best` and `table` kinds write what they are there for: helpers writing into
/// a `&mut [F]`, `&mut Vec<F>` (pushing to it), `&mut F` and `&mut [F; 2]` their caller lends,
/// generic ones too, returning a value or not, passing the buffer on, called once, in `for`
/// and `while` loops; best items of chains taken apart where they are made; a `const` table.
#[test]
fn the_buffer_best_and_table_forms_are_generated() {
    let forms = [
        "out: &mut [",
        "out: &mut Vec<",
        "acc: &mut ",
        "s: &mut [",
        "out.push(",
        "<T: num_traits::Float>(x: &[T], w: T, out: &mut [T]) -> T",
        "*acc *= half;",
        "*acc = *acc * half;",
        "(x, w * half, out);",
        ", &mut y",
        ", &mut a",
        "for (i, o) in out.iter_mut().enumerate()",
        "for (o, &v) in out.iter_mut().zip(x.iter())",
        "return;",
        "while c",
        ".map(|(i, _)| i).unwrap();",
        ".map(|(i, _)| i).unwrap_or(0);",
        "let best",
        ".is_some() {",
        "None => ",
        "if let Some(&v",
        ".reduce(|a, b| ",
        "TABLE[",
        "TABLE.iter().zip(",
        "TABLE.iter().fold(",
    ];
    assert_written(23, &[("buffer", 30), ("best", 30), ("table", 15)], &forms);
    // Buffer helpers come before the functions that call them; the entry function is last.
    let mut config = Config::default();
    config.set_stmt_weight("buffer", 30);
    for i in 0..100 {
        let case = generate(case_seed(29, i), &config);
        let program = case.program();
        for f in &case.functions {
            if f.name.starts_with('b') {
                let def = program.find(&format!("fn {}", f.name)).expect("defined");
                assert_eq!(program.find(&f.name), Some(def + 3), "{}", f.name);
                assert!(program[def + 3..].matches(&f.name).count() > 1, "called");
            }
        }
        assert!(case.entry().name.starts_with("f_"));
    }
}

/// The kinds `table_dp` and `acc` write what they are there for: min-plus and linear
/// recurrences in `Vec<Vec<F>>` tables, a matrix squared by a triple loop and symmetrized
/// through `p[j][i]`, a relaxation to a tolerance, helpers concrete and generic returning a
/// float or a pair destructured; the accumulator's `&mut self` methods that call each other,
/// in loops, in a `Vec<Acc>` through `iter_mut`, and its readers.
#[test]
fn the_tables_and_accumulators_are_generated() {
    let forms = [
        "].min(dd",
        "let cost = cost * cost;",
        "[l] * pm",
        "] = sy * ",
        ".swap(0, ",
        "while dl",
        "<T: num_traits::Float>(a: T, b: T)",
        "where\n    T: num_traits::Float,",
        "::<f64>(",
        "let (mut dp",
        "fold(T::zero(), |s, &v| s + v)",
        "Acc::new(",
        "Acc { m: ",
        ".add_two(",
        ".relax(",
        ".decay(0.75);",
        ".parts();",
        "Acc::value(&",
        "Vec<Acc> = Vec::new();",
        ".iter_mut() {",
        ".s += ",
    ];
    assert_written(17, &[("table_dp", 30), ("acc", 30)], &forms);
}

/// The helpers returning pairs and triples and the helpers over fixed-length arrays write the
/// forms their kinds name: a destructured call, a field of a call, chains whose closures call
/// a helper (with `enumerate`, `zip`, `skip`, `step_by`, `rev`), a fold carrying a pair, a
/// closure holding a closure, a `match` on a pair of integers; `const N: usize` helpers,
/// concrete and generic, with and without a turbofish, carried by a loop and read back.
#[test]
fn the_tuple_and_const_array_helpers_are_generated() {
    let forms = [
        "-> (f64, f64) {",
        "-> (T, T, T)",
        "return ((a - b).tanh(), ",
        "match (k % 2, k / 2) {",
        "match (k % 3, a > b) {",
        ".iter().enumerate().rev().skip(1).map(|(",
        ".iter().skip(1).step_by(2)",
        ".iter().zip(",
        ".fold((0.0, 1.0), |(",
        "::<f64>(",
        "(0, _) => {",
        "<const N: usize>(v: [f64; N], k: f64) -> [f64; N] {",
        "<T: num_traits::Float, const N: usize>(v: [T; N], k: T) -> [T; N]",
        "v: &[f64; N], k: f64) -> f64",
        "::<f64, ",
        "out[N - 1 - i]",
        "let mut m = v[0];",
        // A closure holding a closure that calls the helper.
        "let tn",
    ];
    assert_written(19, &[("tuple_fn", 30), ("const_arr", 30)], &forms);
}

/// The ndarray programs with scalar loops and the shadowing chains write the forms their kinds
/// name: vectors and matrices of zeros filled by element writes, a recurrence from `x[i - 1]`,
/// `dot` both ways, a row broadcast over a matrix, `sum_axis`, loops over `iter()`,
/// `indexed_iter()` of a vector and of a matrix, writes into a local array inside such a loop,
/// a helper taking the arrays by reference; shadowing in blocks, `match` arms and branches, in a
/// loop body after assigning the outer variable, through a tuple, an array and a `Vec`, by a
/// closure's parameter and by a tuple pattern.
#[test]
fn the_array_loops_and_shadowing_chains_are_generated() {
    let forms = [
        "Array1::zeros(",
        "Array2::zeros((",
        "Array2::<f64>::zeros((",
        "]] = ",
        "]] += ",
        "[i - 1] * 0.5",
        ".dot(&nw",
        ".dot(&nq",
        ").sum_axis(Axis(0));",
        ".sum_axis(Axis(1)).mapv(",
        ".indexed_iter() {",
        "in nq",
        ".iter_mut().enumerate() {",
        "(x: &Array1<f64>, m: &Array2<f64>, k: f64) -> f64 {",
        "(x: &Array1<f32>, k: f32) -> f32 {",
        "1 | 2 => sh",
        "(_, false) => {",
        "let sh",
        ".0 * 0.5 + sh",
        ".iter().sum::<f64>() * 0.5;",
        ".len() as f64 * 0.125;",
        "let sg",
        "let mut sa",
        " = if let Some(&q",
    ];
    assert_written(23, &[("nd_loop", 30), ("shadow", 30)], &forms);
}

/// The `model` and `adapters` kinds write what they are there for: a model whose `&self`
/// methods call each other, built three ways, called in loops, branches and a `loop` with a
/// `break` value and passed to helpers by reference and by value; chains of several adapters
/// with nested patterns, reduced five ways, and a helper generic over its float type called
/// with both float types.
#[test]
fn the_models_and_adapter_chains_are_generated() {
    let forms = [
        "impl Net {",
        "Net { w: vec![",
        "Net { k: ",
        ".iter().map(|e| (e * u",
        ".w.push(u",
        ".settle(z) * 0.5;",
        "Net::act(&md",
        " = loop {",
        "break y * 0.5 + mq",
        ".grow(u",
        "(m: &Net, xs: &[f64], t: f64) -> f64 {",
        "(mut m: Net, t: f64) -> f64 {",
        "(m: Net, t: f32) -> f32 {",
        ".clone(), u",
        ".loss(&",
        ".enumerate()",
        ".step_by(",
        ".rev()",
        ".skip(",
        ".take(",
        ".copied().zip(",
        ".windows(2)",
        ".filter(|&(ai",
        ".filter(|&&az",
        ".product();",
        ".fold(u",
        ".max_by(|p, q| p.total_cmp(q)).unwrap_or(0.0);",
        ".min_by(|p, q| p.partial_cmp(q).unwrap()).unwrap();",
        "::<f32>(u",
        "::<f64>(u",
        ": Vec<f32> = ",
        "let h = T::from(0.5).unwrap();",
    ];
    assert_written(29, &[("model", 30), ("adapters", 30)], &forms);
}

/// The `running` and `guards` kinds write what they are there for: a struct whose `&mut self`
/// method returns nothing, fed in a `for` loop and in a `while` on its integer field and read
/// by `&self` methods in the loop; an `Option` local updated in a loop and read with
/// `unwrap_or`; guards on a float; `fold`, `scan` and `map`/`filter`/`sum` with closures
/// capturing an integer and floats.
#[test]
fn the_running_state_and_guards_are_generated() {
    let forms = [
        "struct Stat {",
        "fn push_sample(&mut self, x: f64) {",
        "fn push_sample(&mut self, x: f32) {",
        ".push_sample((",
        ".spread(0.5) * 0.25;",
        ".n < ",
        ".push_sample((rs",
        ": Option<f64> = None;",
        ": Option<f32> = None;",
        "Some(bv) if bv >= ",
        ".map_or(true, |bv| ",
        ".unwrap_or(0.0) * u",
        "x if x > 0.5 => x * x,",
        ".fold((0.0 as f64, 1.0 as f64), |(s, p), i| {",
        ".scan((u",
        "st.1 += i;",
        ".filter(|&(_, i)| i != gk",
    ];
    assert_written(31, &[("running", 30), ("guards", 30)], &forms);
}
