//! Unit tests of the IR: lowering snapshots, the verifier, activity analysis.

use syn::parse_quote;

use crate::ir::verify;
use crate::ir::*;
use crate::{activity, lower};

fn lower_fn(item: syn::ItemFn) -> Func {
    let active: Vec<bool> = item
        .sig
        .inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(pt) => !crate::types::is_inactive_type(&pt.ty),
            syn::FnArg::Receiver(_) => false,
        })
        .collect();
    let l = lower::lower(&item, &active, quote::quote!(::autodiff));
    let msgs: Vec<String> = l.errors.iter().map(|e| e.to_string()).collect();
    assert!(msgs.is_empty(), "lowering errors: {msgs:?}");
    verify::verify(&l.f).expect("lowered function verifies");
    l.f
}

fn errors_of(item: syn::ItemFn) -> Vec<String> {
    let l = lower::lower(&item, &[true; 4], quote::quote!(::autodiff));
    l.errors.iter().map(|e| e.to_string()).collect()
}

#[test]
fn lecture_chain_snapshot() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 { 10.0 * (1.0 + (-2.0 * x).exp()).ln() }
    });
    let expected = "\
fn(v0 active: x):
  b0():
    v1 = const 10.0
    v2 = const 1.0
    v3 = const 2.0
    v4 = neg v3
    v5 = mul v4, v0
    v6 = exp v5
    v7 = add v2, v6
    v8 = ln v7
    v9 = mul v1, v8
    return v9
";
    assert_eq!(f.to_string(), expected);
}

#[test]
fn loop_and_branch_snapshot() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let mut s = 0.0;
            for i in 0..n {
                if i % 2 == 0 { s += x; } else { s -= x; }
            }
            s
        }
    });
    let expected = "\
fn(v0 active: x, v1: n):
  b0():
    v2 = const 0.0
    v3 = const 0
    v13 = for v3..v1 init v2
      b1(v4, v5):
        v6 = const 2
        v7 = rem v4, v6
        v8 = const 0
        v9 = opaque `__ad_a == __ad_b` v7, v8
        v12 = if v9
          b2():
            v10 = add v5, v0
            yield v10
          b3():
            v11 = sub v5, v0
            yield v11
        continue v12
    return v13
";
    assert_eq!(f.to_string(), expected);
}

#[test]
fn early_return_moves_the_rest_into_the_arm() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            if x < 0.0 { return -x; }
            let y = x * x;
            y + 1.0
        }
    });
    let text = f.to_string();
    // The statements after the `if` live in its else arm, which returns.
    assert!(text.contains("branch"), "{text}");
    assert_eq!(text.matches("return").count(), 2, "{text}");
    let body = f.block(f.body());
    assert!(matches!(body.term, Term::Branch { .. }));
}

#[test]
fn while_lowers_to_a_loop_with_a_branch() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            let mut y = x;
            let mut k = 0;
            while k < 3 { y = y * y; k += 1; }
            y
        }
    });
    let text = f.to_string();
    assert!(text.contains("loop init"), "{text}");
    assert!(text.contains("break"), "{text}");
    assert!(text.contains("continue"), "{text}");
}

#[test]
fn tuples_are_looked_through() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, y: f64) -> f64 {
            let (a, b) = (x * y, x + y);
            a * b
        }
    });
    let text = f.to_string();
    assert!(
        !text.contains("field"),
        "destructuring a literal tuple needs no field reads: {text}"
    );
}

#[test]
fn activity_excludes_discrete_and_useless_values() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let unused = x.sin();
            let k = n + 1;
            let c = (x * 2.0) as usize;
            x * (k as f64) + (c as f64)
        }
    });
    let act = activity::analyze(&f);
    let active_names: Vec<String> = (0..f.values.len())
        .filter(|&i| act.active[i])
        .map(|i| format!("v{i}"))
        .collect();
    // x (v0) and the product x·k are active; `unused`, `k`, `c` and the casts are not.
    assert!(act.is_active(Value(0)));
    assert!(!act.is_active(Value(1)), "n is an integer");
    for (i, v) in f.values.iter().enumerate() {
        if v.name.as_deref() == Some("unused") || v.name.as_deref() == Some("k") {
            assert!(
                !act.active[i],
                "{} is not active: {active_names:?}",
                v.name.as_deref().unwrap_or("")
            );
        }
    }
}

#[test]
fn loop_carried_activity_reaches_a_fixed_point() {
    // `b` becomes varied only in the second iteration, through `a`.
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            let mut a = 1.0;
            let mut b = 1.0;
            for _ in 0..3 { b = b * a; a = x; }
            b
        }
    });
    let act = activity::analyze(&f);
    let body = f.block(f.body());
    let Some(&loop_inst) = body.insts.last() else {
        panic!("no loop")
    };
    let InstKind::Loop { body: lb, .. } = &f.inst(loop_inst).kind else {
        panic!("not a loop")
    };
    let params = &f.block(*lb).params;
    assert!(params.iter().skip(1).all(|&p| act.is_active(p)), "{f}");
}

#[test]
fn verifier_rejects_use_before_definition() {
    let mut f = Func::default();
    let b = f.new_block();
    f.body = Some(b);
    let x = f.new_value(Some("x".into()), ValueDef::Param(0), Kind::Float);
    f.params.push(Param {
        ident: parse_quote!(x),
        ty: parse_quote!(f64),
        active: true,
        value: x,
    });
    let i = f.push_inst(
        b,
        InstKind::Const(quote::quote!(1.0)),
        1,
        Kind::Float,
        proc_macro2::Span::call_site(),
    );
    let c = f.inst(i).results[0];
    // `later` is defined after the instruction that reads it.
    let later = Value(c.0 + 2);
    f.push_inst(
        b,
        InstKind::Binary(BinOp::Mul, x, later),
        1,
        Kind::Float,
        proc_macro2::Span::call_site(),
    );
    f.push_inst(
        b,
        InstKind::Neg(c),
        1,
        Kind::Float,
        proc_macro2::Span::call_site(),
    );
    f.block_mut(b).term = Term::Return(c);
    let err = verify::verify(&f).expect_err("use before definition");
    assert!(err.contains("not visible"), "{err}");
}

#[test]
fn verifier_rejects_wrong_yield_arity() {
    let mut f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 { let y = if x > 0.0 { x } else { 2.0 * x }; y }
    });
    let arm = f
        .blocks
        .iter()
        .position(|b| matches!(b.term, Term::Yield(ref v) if v.len() == 1))
        .expect("an arm");
    f.blocks[arm].term = Term::Yield(vec![]);
    assert!(verify::verify(&f).is_err());
}

#[test]
fn lowering_collects_every_error() {
    let errs = errors_of(parse_quote! {
        fn f(x: f64) -> f64 {
            let c = |t: f64| t;
            let y = apply(c, x);
            let a = [x, x];
            for v in (0..3).cycle().take(2) {}
            let s = async { x };
            unsafe { x }
        }
    });
    // The array literal is built element by element (it is differentiated); the other four are
    // errors, each reported once.
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(errs[0].contains("closure passed to `apply`"), "{errs:?}");
}

#[test]
fn match_arms_bind_their_patterns() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, k: u32) -> f64 {
            let y = match k {
                0 => x,
                n if n > 3 => x * 2.0,
                _ => -x,
            };
            y
        }
    });
    let text = f.to_string();
    assert!(text.contains("match v1"), "{text}");
    // Three arms, each yielding one value; the guarded arm's `n` names the whole scrutinee, so
    // it is the scrutinee's value, not a block parameter (a differentiated scrutinee stays
    // differentiated through it).
    assert_eq!(text.matches("yield").count(), 3, "{text}");
    let guarded = f
        .insts
        .iter()
        .find_map(|i| match &i.kind {
            InstKind::Match { arms, .. } => Some(arms[1].clone()),
            _ => None,
        })
        .expect("a match");
    assert!(guarded.bindings.is_empty());
    assert!(guarded.guard.is_some());
    assert_eq!(
        guarded
            .guard_uses
            .iter()
            .map(|(n, v)| (n.to_string(), *v))
            .collect::<Vec<_>>(),
        [("n".to_string(), f.params[1].value)]
    );
    assert!(f.block(guarded.block).params.is_empty());
}

#[test]
fn return_inside_a_loop_is_carried_out() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            let mut s = x;
            for _ in 0..10 {
                s = s * 2.0;
                if s > 5.0 { return s; }
            }
            s
        }
    });
    // The loop carries the returned value and its flag besides `s`, and a branch on the flag
    // after the loop returns one or the other.
    let lp = f
        .insts
        .iter()
        .find(|i| matches!(i.kind, InstKind::Loop { .. }))
        .expect("a loop");
    assert_eq!(lp.results.len(), 3, "{f}");
    assert!(matches!(f.block(f.body()).term, Term::Branch { .. }), "{f}");
    assert_eq!(f.to_string().matches("return v").count(), 2, "{f}");
}

#[test]
fn element_writes_make_new_versions() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            let mut h = vec![0.0; 2];
            h[0] = x;
            h[1] += x * x;
            h[0] + h[1]
        }
    });
    let text = f.to_string();
    assert_eq!(text.matches("indexset").count(), 2, "{text}");
    let act = activity::analyze(&f);
    // The vector literal is not varied; the versions written with x are.
    let sets: Vec<Value> = f
        .insts
        .iter()
        .filter(|i| matches!(i.kind, InstKind::IndexSet { .. }))
        .map(|i| i.results[0])
        .collect();
    assert!(sets.iter().all(|&v| act.is_active(v)), "{text}");
}

/// Reverse mode as `expand` runs it, up to the plan, with the function's checkpoint option.
fn reversed(item: syn::ItemFn, checkpoint: Option<usize>) -> Func {
    reversed_with(item, checkpoint, false)
}

/// [`reversed`], with reduction loops run in place or not.
fn reversed_with(item: syn::ItemFn, checkpoint: Option<usize>, fuse: bool) -> Func {
    let mut f = lower_fn(item);
    crate::structurize::structurize(&mut f);
    let act = activity::analyze(&f);
    let default = checkpoint.map(|n| (n, proc_macro2::Span::call_site()));
    let errors = crate::checkpoint::select(&mut f, &act, default, false);
    assert!(
        errors.is_empty(),
        "{:?}",
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    let tys = crate::scalars::analyze(&f);
    let (f, _, _, _) = crate::reverse_mode(f, tys, act, &Default::default(), fuse);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}\n{}", f.pullback_text()));
    f
}

#[test]
fn a_local_array_read_two_loops_down_is_kept_as_its_elements() {
    // `xc` is made anew in each iteration of the outer loop and read in a nest of two loops
    // below it: the pullback keeps its elements once per outer iteration and reads them again,
    // instead of keeping every one of the d(d − 1)/2 reads. `w[j]` is an element of a
    // parameter, read again too; the product of the nest is the only other thing kept.
    let item: syn::ItemFn = parse_quote! {
        fn f(w: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut s = 0.0;
            for r in 0..n {
                for i in 0..d {
                    xc[i] = x[r * d + i] * w[i];
                }
                for i in 0..d {
                    for j in i + 1..d {
                        s += xc[i] * xc[j];
                    }
                }
            }
            s
        }
    };
    let (f, plan) = planned(item);
    let text = plan.to_text(&f);
    assert_eq!(plan.flat.len(), 1, "{text}");
    assert_eq!(
        text.matches("its elements, on the stack").count(),
        1,
        "{text}"
    );
    assert!(text.contains("(xc): its elements"), "{text}");
    // The pullback's pop of it is where its elements are read from.
    assert_eq!(plan.flat_pops.len(), 1, "{text}");
}

#[test]
fn a_call_result_lent_to_a_call_is_kept_for_its_type_only() {
    // `a` is what a call returned (its type unseen), lent to another call: the gradient that
    // call gives back for it is converted by `a`'s type, which is all the pullback reads of
    // `a`. The forward pass keeps a witness of the type, of no size, and not the array (an
    // intermediate activation, kept for nothing). `b` is read whole by `b * b`'s rule.
    let item: syn::ItemFn = parse_quote! {
        fn f(x: &Array1<f64>, n: usize) -> f64 {
            let a = nn::relu(x);
            let b = pool(&a, 2);
            let mut s = 0.0;
            for i in 0..n {
                let c = nn::relu(&b);
                s += pool(&c, i).sum();
            }
            s
        }
    };
    let (f, plan) = planned(item);
    let text = plan.to_text(&f);
    assert!(text.contains("(a): type only"), "{text}");
    assert!(text.contains("(c): type only"), "{text}");
    assert!(!text.contains("(a): captured"), "{text}");
    assert!(!text.contains("(c): on the stack"), "{text}");
}

#[test]
fn a_local_float_array_read_one_loop_down_is_kept_as_its_elements_too() {
    // One loop below the iteration that makes `xc`: about as many reads as elements, and a
    // copy of the elements into a buffer that grows once costs no more than keeping each.
    let item: syn::ItemFn = parse_quote! {
        fn f(w: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut s = 0.0;
            for r in 0..n {
                for i in 0..d {
                    xc[i] = x[r * d + i] * w[i];
                }
                for i in 0..d {
                    s += xc[i] * xc[i] * w[i];
                }
            }
            s
        }
    };
    let (f, plan) = planned(item);
    assert_eq!(plan.flat.len(), 1, "{}", plan.to_text(&f));
}

#[test]
fn an_element_adjoint_fixed_in_a_loop_is_summed_in_a_scalar() {
    // `xc[i]` is read in every iteration of the `j` loop: its adjoint's contributions go to a
    // scalar sum, added to `xc̄[i]` once after the reversed `j` loop. `w[j]`'s vary with `j`
    // and stay element updates.
    let (f, _) = planned(parse_quote! {
        fn f(w: &[f64], d: usize) -> f64 {
            let mut xc = vec![0.0; d];
            for i in 0..d {
                xc[i] = w[i] * w[i];
            }
            let mut s = 0.0;
            for i in 0..d {
                for j in i + 1..d {
                    s += xc[i] * w[j];
                }
            }
            s
        }
    });
    let pb = f.pullback_text();
    let lines: Vec<&str> = pb.lines().map(str::trim).collect();
    // `wS = 0.0` before the `j` loop, `wS += ..` in it, `g = get wS; xc̄[i] += g` after it.
    let zero = lines.iter().position(|l| l.ends_with("= const 0.0 as f64"));
    let zero = zero.unwrap_or_else(|| panic!("{pb}"));
    let sum = lines[zero].split(' ').next().unwrap();
    let init = format!("= {sum}");
    let var = lines[zero + 1].strip_suffix(&*init).map(str::trim);
    let var = var.unwrap_or_else(|| panic!("{pb}"));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with(&format!("{var} += ")))
            .count(),
        1,
        "{pb}"
    );
    let get = lines
        .iter()
        .position(|l| l.ends_with(&format!("= get {var}")));
    let get = get.unwrap_or_else(|| panic!("{pb}"));
    let g = lines[get].split(' ').next().unwrap();
    assert!(
        lines[get + 1].contains("] += ") && lines[get + 1].ends_with(g),
        "{pb}"
    );
}

#[test]
fn a_counter_carried_through_a_loop_is_computed_again_from_the_index() {
    // `idx` goes up by one per iteration of the `j` loop: the pullback computes it from `j`
    // and its value at the loop's start (kept once per `i`), and reads `w[idx]` again, instead
    // of keeping both per iteration.
    let (f, plan) = planned(parse_quote! {
        fn f(w: &[f64], x: &[f64], d: usize) -> f64 {
            let mut s = 0.0;
            let mut idx = 0;
            for i in 0..d {
                for j in i + 1..d {
                    s += w[idx] * x[i] * x[j];
                    idx += 1;
                }
            }
            s
        }
    });
    let text = plan.to_text(&f);
    assert!(f.to_string().contains("d::counter_at"), "{f}");
    assert!(text.contains("(idx): recomputed"), "{text}");
    // Kept: the counter at the start of each `i` iteration, and the product `w[idx]·x[i]`
    // (products are kept) — not the index or the read of `w`.
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("on the stack"))
        .collect();
    assert_eq!(kept.len(), 2, "{text}");
    assert_eq!(
        kept.iter().filter(|l| l.contains("(idx)")).count(),
        1,
        "{text}"
    );
}

#[test]
fn an_element_added_to_reads_its_adjoint_instead_of_taking_and_restoring_it() {
    // `y[i] += a[i·n + j]·x[j]`: the write takes ȳ[i] (the adjoint of the value written) and
    // the read `y[i]` inside it gives the same value back; the pair is one read of ȳ[i].
    let (f, _) = planned(parse_quote! {
        fn f(a: &[f64], x: &[f64], n: usize) -> f64 {
            let mut y = vec![0.0; n];
            for i in 0..n {
                for j in 0..n {
                    y[i] += a[i * n + j] * x[j];
                }
            }
            let mut s = 0.0;
            for i in 0..n {
                s += y[i] * y[i];
            }
            s
        }
    });
    let pb = f.pullback_text();
    assert!(!pb.contains("= take w"), "{pb}");
    let read = pb.lines().map(str::trim).find(|l| l.contains("= read w"));
    let read = read.unwrap_or_else(|| panic!("{pb}"));
    // `vR = read wY[vI]`: nothing adds to `wY[vI]` (the index of the write) any more.
    let (lhs, rhs) = read.split_once(" = read ").unwrap();
    let target = rhs.split('[').next().unwrap();
    let index = rhs.split('[').nth(1).unwrap().trim_end_matches(']');
    assert!(
        !pb.contains(&format!("[{index}] += {lhs}")),
        "{target}: {pb}"
    );
}

#[test]
fn a_loop_borrows_the_part_of_an_array_it_walks_once_before_it() {
    // The triangle of the Gaussian mixture: the backward pass of the loop over `l` reads
    // `ls`, `x` and `mu` at `base + l` and adds to the adjoints of `ls` and `mu` there; each
    // goes through a window borrowed before the loop, none through an indexed helper.
    let code = generated(parse_quote! {
        fn f(ls: &[f64], mu: &[f64], x: &[f64], d: usize) -> f64 {
            let mut f = 0.0;
            for j in 0..d {
                let row = (j * j - j) / 2;
                let mut t = 0.0;
                for l in 0..j {
                    t += ls[row + l] * (x[l] - mu[l]);
                }
                f += t * t;
            }
            f
        }
    });
    let pullback = code.pullback.to_string().replace(' ', "");
    assert!(!pullback.contains("acc_index"), "{pullback}");
    for w in [
        "&mutls_0_bar[",
        "&mutmu_1_bar[",
        "&ls_0[",
        "&x_2[",
        "&mu_1[",
    ] {
        assert!(pullback.contains(w), "{w}: {pullback}");
    }
    // A loop that may leave before the end of its range reads element by element: borrowing
    // `x[0..100]` would panic where the loop does not.
    let code = generated(parse_quote! {
        fn g(x: &[f64]) -> f64 {
            let mut s = 0.0;
            for l in 0..100 {
                if l >= x.len() {
                    break;
                }
                s += x[l] * x[l];
            }
            s
        }
    });
    let all = format!("{} {}", code.forward, code.pullback);
    assert!(!all.contains("__ad_win"), "{all}");
}

#[test]
fn a_counter_carried_by_a_loop_places_the_window_it_indexes() {
    // ADBench's packed triangle: `p[base + idx]` with `idx` going up by one per iteration of
    // the inner loop. Forward and backward read `p` through a window that starts at the
    // counter's first value, and the backward adds to `p̄` through one.
    let code = generated(parse_quote! {
        fn f(p: &[f64], u: &[f64], d: usize, base: usize) -> f64 {
            let mut s = 0.0;
            let mut idx = 0;
            for i in 0..d {
                for j in i + 1..d {
                    s += p[base + idx] * u[i] * u[j];
                    idx += 1;
                }
            }
            s
        }
    });
    let pullback = code.pullback.to_string().replace(' ', "");
    assert!(pullback.contains("&mutp_0_bar["), "{pullback}");
    assert!(pullback.contains("&p_0["), "{pullback}");
    assert!(pullback.contains("__ad_first"), "{pullback}");
    // A counter that goes down, or by two, walks no range of the array: element by element.
    for step in [quote::quote!(idx -= 1), quote::quote!(idx += 2)] {
        let code = generated(parse_quote! {
            fn g(p: &[f64], u: &[f64], d: usize) -> f64 {
                let mut s = 0.0;
                let mut idx = 0;
                for j in 0..d {
                    s += p[idx] * u[j];
                    #step;
                }
                s
            }
        });
        let all = format!("{} {}", code.forward, code.pullback);
        assert!(!all.contains("__ad_first"), "{all}");
    }
}

#[test]
fn an_inner_loop_goes_through_the_windows_of_the_loop_around_it() {
    // The mixture's triangle for one point: the loop over `j` reads `x[j]`, `mu[j]` and adds to
    // `mū[j]`; the loop over `l < j` inside it does the same at `l`, inside the range of `j`,
    // so it uses the `j` loop's windows and borrows only its own row of `ls` and `ls̄`.
    let code = generated(parse_quote! {
        fn f(ls: &[f64], mu: &[f64], e: &[f64], x: &[f64], d: usize) -> f64 {
            let mut f = 0.0;
            for j in 0..d {
                let mut t = e[j] * (x[j] - mu[j]);
                let row = (j * j - j) / 2;
                for l in 0..j {
                    t += ls[row + l] * (x[l] - mu[l]);
                }
                f += t * t;
            }
            f
        }
    });
    let pullback = code.pullback.to_string().replace(' ', "");
    assert!(!pullback.contains("acc_index"), "{pullback}");
    // Each window is borrowed once, written twice (`if lo < hi { &a[..] } else { &a[..0] }`).
    for borrow in [
        "&x_3[",
        "&mu_1[",
        "&mutmu_1_bar[",
        "&mutx_3_bar[",
        "&ls_0[",
        "&mutls_0_bar[",
    ] {
        assert_eq!(pullback.matches(borrow).count(), 2, "{borrow}: {pullback}");
    }
}

/// The generated code of reverse mode for `item`.
fn generated(item: syn::ItemFn) -> crate::codegen::Code {
    let mut f = lower_fn(item);
    crate::structurize::structurize(&mut f);
    let act = activity::analyze(&f);
    let tys = crate::scalars::analyze(&f);
    let (f, tys, plan, act) = crate::reverse_mode(f, tys, act, &Default::default(), false);
    crate::codegen::generate(&f, &tys, &plan, &act.active, &quote::quote!(::autodiff))
}

/// Reverse mode of `item` and its save plan.
fn planned(item: syn::ItemFn) -> (Func, crate::plan::Plan) {
    let mut f = lower_fn(item);
    crate::structurize::structurize(&mut f);
    let act = activity::analyze(&f);
    let tys = crate::scalars::analyze(&f);
    let (f, _, plan, _) = crate::reverse_mode(f, tys, act, &Default::default(), false);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}"));
    (f, plan)
}

#[test]
fn a_reduction_loop_runs_its_pullback_in_place() {
    let f = reversed_with(
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..xs.len() {
                    let r = a * xs[i] - 1.0;
                    let h = if r > 0.0 { r * r } else { r.exp() };
                    s += h;
                }
                2.0 * s
            }
        },
        None,
        true,
    );
    // No stack: the iteration's pullback reads the body's values, and the branch's record,
    // where they are.
    assert!(f.stacks.is_empty(), "{f}");
    let fw = f.to_string();
    assert_eq!(
        fw.matches("pullback of the iteration, in place").count(),
        1,
        "{fw}"
    );
    assert_eq!(fw.matches("match record").count(), 1, "{fw}");
    assert!(!fw.contains("push") && !fw.contains("pop"), "{fw}");
    // The pullback scales the sums of the iterations' contributions to `a` and `xs` (both
    // differentiated here).
    let pb = f.pullback_text();
    assert_eq!(pb.matches("scaled").count(), 2, "{pb}");
    assert!(!pb.contains("for"), "{pb}");
}

#[test]
fn loops_that_are_not_reductions_keep_their_records() {
    let cases: Vec<syn::ItemFn> = vec![
        // A product.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut p = 1.0;
                for i in 0..xs.len() { p *= a * xs[i]; }
                p
            }
        },
        // The accumulator read by the term.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..xs.len() { s += (s * a + xs[i]).sin(); }
                s
            }
        },
        // Two accumulators.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let (mut s, mut q) = (0.0, 0.0);
                for i in 0..xs.len() { s += (a * xs[i]).sin(); q += (a * xs[i]).cos(); }
                s * q
            }
        },
        // A loop inside.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..xs.len() {
                    let mut t = 0.0;
                    for j in 0..i { t += (a * xs[j]).sin(); }
                    s += t * t;
                }
                s
            }
        },
        // A `break`.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..xs.len() {
                    if xs[i] > 3.0 { break; }
                    s += (a * xs[i]).sin();
                }
                s
            }
        },
        // An element written in the body.
        parse_quote! {
            fn f(a: f64, xs: &[f64]) -> f64 {
                let mut v = vec![0.0; xs.len()];
                let mut s = 0.0;
                for i in 0..xs.len() { v[i] = a * xs[i]; s += v[i].sin(); }
                s + v[0]
            }
        },
    ];
    for item in cases {
        let f = reversed_with(item, None, true);
        let fw = f.to_string();
        assert!(!fw.contains("in place"), "{fw}");
        assert!(!f.stacks.is_empty(), "{fw}");
    }
}

#[test]
fn checkpoint_attribute_is_recorded_on_its_loop() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let mut s = x;
            #[checkpoint(snapshots = 4)]
            for _ in 0..n {
                s = s.sin();
            }
            let mut k = 0;
            while k < n {
                s = s * x;
                k += 1;
            }
            s
        }
    });
    let text = f.to_string();
    assert_eq!(text.matches("checkpoint 4").count(), 1, "{text}");
    assert_eq!(text.matches("checkpoint").count(), 1, "{text}");
}

#[test]
fn checkpointed_loop_keeps_no_records_of_its_own() {
    let item: syn::ItemFn = parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let mut s = x;
            for i in 0..n {
                let mut t = s;
                for _ in 0..i {
                    t = (t * x).sin();
                }
                if t > 0.0 { s = s * t; } else { s = s + t * x; }
            }
            s
        }
    };
    let recorded = reversed(item.clone(), None);
    let ck = reversed(item, Some(8));
    let owners =
        |f: &Func| -> Vec<String> { f.stacks.iter().map(|s| f.inst_text(s.owner)).collect() };
    // Recorded: the outer loop and the inner one each have a stack.
    assert_eq!(recorded.stacks.len(), 2, "{:?}", owners(&recorded));
    // Checkpointed outer loop: its iteration's pullback reads the record body directly; the
    // inner loop, recording inside the iteration, keeps its stack.
    assert_eq!(ck.stacks.len(), 1, "{:?}", owners(&ck));
    assert!(owners(&ck)[0].starts_with("for"), "{:?}", owners(&ck));
    let (fw, pb) = (ck.to_string(), ck.pullback_text());
    assert_eq!(fw.matches("checkpointer binomial").count(), 1, "{fw}");
    assert_eq!(fw.matches("offer").count(), 1, "{fw}");
    assert_eq!(fw.matches("finish").count(), 1, "{fw}");
    // The forward pass runs the plain body: no record of the branch, no push.
    assert!(!fw.contains("record") && !fw.contains("push"), "{fw}");
    assert_eq!(pb.matches("sweep").count(), 1, "{pb}");
    for label in ["advance:", "record:", "reverse:"] {
        assert_eq!(pb.matches(label).count(), 1, "{pb}");
    }
    // The branch's record is made in the record body and matched in the reverse one.
    assert_eq!(pb.matches("match record").count(), 1, "{pb}");
    assert_eq!(pb.matches("push").count(), 1, "{pb}");
    assert_eq!(pb.matches("pop").count(), 1, "{pb}");
}

#[test]
fn loops_with_break_get_the_online_schedule() {
    let f = reversed(
        parse_quote! {
            fn f(x: f64, n: usize) -> f64 {
                let mut s = x;
                for i in 0..n {
                    if s > 10.0 { break; }
                    s = s * x + i as f64;
                }
                let mut k = 0;
                while k < n {
                    s = s.sin() + x;
                    k += 1;
                }
                s
            }
        },
        Some(2),
    );
    let text = f.to_string();
    assert_eq!(text.matches("checkpointer online").count(), 2, "{text}");
    assert!(f.stacks.is_empty(), "{text}");
}

/// Times the macro's phases on a long straight-line function (run with `--ignored --nocapture`):
/// the macro runs unoptimised in users' `cargo check`, so each phase must stay linear.
#[test]
#[ignore]
fn phase_times() {
    use std::time::Instant;
    let n: usize = std::env::var("AD_PHASE_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut body = String::new();
    let mut names = vec!["x0".to_string(), "x1".into(), "x2".into(), "x3".into()];
    for i in 0..n {
        let a = &names[names.len() - 1 - (i * 7 % names.len().min(8))];
        let b = &names[i * 13 % names.len()];
        let e = match i % 6 {
            0 => format!("{a} * {b}"),
            1 => format!("{a} + {b}"),
            2 => format!("{a}.sin()"),
            3 => format!("{a}.cos()"),
            4 => format!("{a}.tanh()"),
            _ => format!("(1.0 + {a} * {a}).ln()"),
        };
        body.push_str(&format!("let t{i} = {e};\n"));
        names.push(format!("t{i}"));
    }
    let src = format!(
        "fn f(x0: f64, x1: f64, x2: f64, x3: f64) -> f64 {{ {body} t{} }}",
        n - 1
    );
    let t = Instant::now();
    let item: syn::ItemFn = syn::parse_str(&src).unwrap();
    eprintln!("parse      {:?}", t.elapsed());
    let t = Instant::now();
    let mut f = lower::lower(&item, &[true; 4], quote::quote!(::autodiff)).f;
    eprintln!("lower      {:?}", t.elapsed());
    let t = Instant::now();
    verify::verify(&f).unwrap();
    eprintln!("verify     {:?}", t.elapsed());
    let t = Instant::now();
    crate::structurize::structurize(&mut f);
    let mut act = activity::analyze(&f);
    eprintln!("activity   {:?}", t.elapsed());
    let t = Instant::now();
    let mut tys = crate::scalars::analyze(&f);
    eprintln!("scalars    {:?}", t.elapsed());
    let t = Instant::now();
    let mut fj = f.clone();
    let mut tys_j = tys.clone();
    crate::forward::jvp(&mut fj, &act.active, &mut tys_j);
    eprintln!("jvp        {:?}", t.elapsed());
    let t = Instant::now();
    let code = crate::codegen::generate(
        &fj,
        &tys_j,
        &crate::plan::Plan::default(),
        &act.active,
        &quote::quote!(::autodiff),
    );
    eprintln!("codegen j  {:?}", t.elapsed());
    let t = Instant::now();
    let s = code.forward.to_string().len();
    eprintln!("to_string  {:?} ({s} bytes)", t.elapsed());
    let t = Instant::now();
    let rev = crate::reverse::reverse(&mut f, &mut act, &mut tys, &Default::default(), false);
    eprintln!("reverse    {:?}", t.elapsed());
    let t = Instant::now();
    let plan = crate::plan::plan(&mut f, &act, &mut tys, &rev);
    eprintln!("plan       {:?}", t.elapsed());
    let t = Instant::now();
    verify::verify(&f).unwrap();
    eprintln!("verify     {:?}", t.elapsed());
    let t = Instant::now();
    let code = crate::codegen::generate(&f, &tys, &plan, &act.active, &quote::quote!(::autodiff));
    eprintln!("codegen    {:?}", t.elapsed());
    let t = Instant::now();
    let s = code.forward.to_string().len() + code.pullback.to_string().len();
    eprintln!("to_string  {:?} ({s} bytes)", t.elapsed());
}

/// The instructions of a function, by kind name, for assertions about what a lowering made.
fn kinds(f: &Func) -> Vec<&'static str> {
    f.insts
        .iter()
        .map(|i| match &i.kind {
            InstKind::Loop { .. } => "loop",
            InstKind::Index(..) => "index",
            InstKind::Call { .. } => "call",
            InstKind::Mutate { .. } => "mutate",
            InstKind::If { .. } => "if",
            InstKind::IndexSet { .. } => "index_set",
            InstKind::Binary(..) => "binary",
            InstKind::Opaque { .. } => "opaque",
            _ => "other",
        })
        .collect()
}

#[test]
fn zip_map_sum_is_one_index_loop() {
    let f = lower_fn(parse_quote! {
        fn f(x: &[f64], y: &[f64]) -> f64 {
            x.iter().zip(y).map(|(a, b)| a * b).sum()
        }
    });
    let k = kinds(&f);
    assert_eq!(k.iter().filter(|k| **k == "loop").count(), 1, "{f}");
    assert_eq!(k.iter().filter(|k| **k == "index").count(), 2, "{f}");
    // The closure is expanded: no call remains.
    assert!(!k.contains(&"call"), "{f}");
}

#[test]
fn local_closures_are_expanded_where_called() {
    let f = lower_fn(parse_quote! {
        fn f(a: f64, b: f64, w: f64) -> f64 {
            let g = |v: f64| v * w;
            g(a) + g(b)
        }
    });
    let k = kinds(&f);
    assert!(!k.contains(&"call"), "{f}");
    // Two products (one per call) and the sum.
    assert_eq!(k.iter().filter(|k| **k == "binary").count(), 3, "{f}");
}

#[test]
fn filter_skips_the_rest_of_the_iteration() {
    let f = lower_fn(parse_quote! {
        fn f(x: &[f64]) -> f64 {
            x.iter().filter(|v| **v > 0.0).sum()
        }
    });
    let text = f.to_string();
    assert!(text.contains("branch"), "{text}");
}

#[test]
fn vec_of_a_differentiated_value_is_pushed_in_a_loop() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let v = vec![x; n];
            v[0]
        }
    });
    let k = kinds(&f);
    assert!(k.contains(&"loop") && k.contains(&"mutate"), "{f}");
    let g = lower_fn(parse_quote! {
        fn g(x: f64, y: f64) -> f64 {
            let a = [x, y];
            a[0] * a[1]
        }
    });
    assert_eq!(
        kinds(&g).iter().filter(|k| **k == "index_set").count(),
        2,
        "{g}"
    );
}

#[test]
fn and_or_evaluate_their_right_side_as_rust_does() {
    let f = lower_fn(parse_quote! {
        fn f(x: &[f64], i: usize) -> f64 {
            if i < x.len() && x[i] > 0.0 { x[i] } else { 0.0 }
        }
    });
    // `x[i] > 0.0` is read inside the `if` that `&&` becomes, not before it.
    let text = f.to_string();
    let first_if = text.find("if").expect("an if");
    let first_index = text.find("index").expect("an index");
    assert!(first_index > first_if, "{text}");
}

#[test]
fn deferred_tuple_declarations_are_assigned_in_arms() {
    let f = lower_fn(parse_quote! {
        fn f(x: f64) -> f64 {
            let (a, b);
            if x > 0.0 { a = x; b = 2.0; } else { a = -x; b = 3.0; }
            a * b
        }
    });
    // The `if` yields both variables.
    let text = f.to_string();
    assert!(text.contains("yield v"), "{text}");
    let ifs: Vec<&InstData> = f
        .insts
        .iter()
        .filter(|i| matches!(i.kind, InstKind::If { .. }))
        .collect();
    assert_eq!(ifs.last().map(|i| i.results.len()), Some(2), "{text}");
}

#[test]
fn iter_mut_loops_are_index_loops_with_element_writes() {
    let f = lower_fn(parse_quote! {
        fn f(x: &[f64], w: f64) -> f64 {
            let mut v = x.to_vec();
            for (i, e) in v.iter_mut().enumerate() {
                *e += w * i as f64;
            }
            v[0]
        }
    });
    let k = kinds(&f);
    assert_eq!(k.iter().filter(|k| **k == "loop").count(), 1, "{f}");
    // The element is read and written back; the loop carries the vector.
    assert_eq!(k.iter().filter(|k| **k == "index_set").count(), 1, "{f}");
    let carried = f.insts.iter().find_map(|i| match &i.kind {
        InstKind::Loop { init, .. } => Some(init.len()),
        _ => None,
    });
    assert_eq!(carried, Some(1), "{f}");
    // The items of a `&mut` parameter iterated as itself or by `into_iter` are mutable too.
    for g in [
        parse_quote! { fn g(buf: &mut [f64], w: f64) -> f64 { for e in buf.into_iter() { *e *= w; } w } },
        parse_quote! { fn g(buf: &mut Vec<f64>, w: f64) -> f64 { for e in buf { *e *= w; } w } },
    ] {
        let g = lower_fn(g);
        assert!(kinds(&g).contains(&"index_set"), "{g}");
    }
}

/// The errors `check` reports for `item`, all of its parameters active.
fn check_errors(item: syn::ItemFn) -> Vec<String> {
    let f = lower_fn(item);
    let act = activity::analyze(&f);
    crate::check::check(&f, &act)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn reads_of_a_mutable_vector_are_not_mutations() {
    let errs = check_errors(parse_quote! {
        fn f(x: &[f64]) -> f64 {
            let mut v = x.to_vec();
            let n = v.len();
            let e = v.is_empty();
            let c = v.contains(&x[0]);
            let o = v.first();
            v.push(n as f64);
            *v.last().unwrap() * v.first().copied().unwrap()
        }
    });
    assert!(errs.is_empty(), "{errs:?}");
    let errs = check_errors(parse_quote! {
        fn f(x: &[f64]) -> f64 {
            let mut v = x.to_vec();
            v.dedup();
            v[0]
        }
    });
    assert_eq!(errs.len(), 1, "{errs:?}");
    // The error lists what is followed and says what to write instead.
    for part in [
        "`v.dedup(..)` may change `v`",
        "rotate_left",
        "split_off",
        "instead",
    ] {
        assert!(errs[0].contains(part), "{part}: {errs:?}");
    }
}

/// The primal SSA, the save plan and the forward pass with its pullback, as `dump` prints
/// them, after the passes `expand` runs for `_vjp`.
fn pipeline_text(item: syn::ItemFn) -> String {
    let mut f = lower_fn(item);
    crate::structurize::structurize(&mut f);
    crate::simplify::remove_dead(&mut f);
    let primal = f.to_string();
    let act = activity::analyze(&f);
    let tys = crate::scalars::analyze(&f);
    let joint = crate::joint::joint_calls(&f, crate::joint::Pullback::Returned);
    let (f, _, plan, _) = crate::reverse_mode(f, tys, act, &joint, false);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}\n{}", f.pullback_text()));
    format!(
        "SSA\n{primal}\nsave plan\n{}\nforward pass\n{f}\n{}",
        plan.to_text(&f),
        f.pullback_text()
    )
}

#[track_caller]
fn assert_text(actual: &str, expected: &str) {
    assert_eq!(
        actual.trim(),
        expected.trim(),
        "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
    );
}

#[test]
fn pipeline_snapshot_of_a_loop() {
    let text = pipeline_text(parse_quote! {
        fn f(x: f64, n: usize) -> f64 {
            let mut s = x;
            for _ in 0..n {
                s = s.sin() * x;
            }
            s
        }
    });
    assert_text(
        &text,
        "\
SSA
fn(v0 active: x, v1: n):
  b0():
    v2 = const 0
    v7 = for v2..v1 init v0
      b1(v3, v4):
        v5 = sin v4
        v6 = mul v5, v0
        continue v6
    return v7

save plan
  v2: recomputed
  v1 (n): captured
  v0 (x): captured
  v5: on the stack of the loop i3
  v4 (s): on the stack of the loop i3

forward pass
fn(v0 active: x, v1: n):
  b0():
    v2 = const 0
    v7 = for v2..v1 init v0
      b1(v3, v4):
        v5 = sin v4
        v6 = mul v5, v0
        push s0 v4, v5
        continue v6
    return v7

pullback:
  b2(v8):
    v21 = const 0
    v9 = const 0.0
    w1 = v9
    w2 = v8
    for v21..v1 rev init 
      b3(v11):
        v22, v23 = pop s0
        v12 = get w2
        v14 = mul v12, v0
        v15 = mul v12, v23
        w1 += v15
        v17 = cos v22
        v18 = mul v14, v17
        w2 := v18
        continue 
    v19 = get w2
    w1 += v19
    v20 = get w1
    return v20",
    );
}

#[test]
fn pipeline_snapshot_of_a_branch() {
    let text = pipeline_text(parse_quote! {
        fn f(x: f64, y: f64) -> f64 {
            let z = if x > y { x * y } else { y.exp() };
            z + x
        }
    });
    assert_text(
        &text,
        "\
SSA
fn(v0 active: x, v1 active: y):
  b0():
    v2 = opaque `__ad_a > __ad_b` v0, v1
    v5 = if v2
      b1():
        v3 = mul v0, v1
        yield v3
      b2():
        v4 = exp v1
        yield v4
    v6 = add v5, v0
    return v6

save plan
  v11 (__ad_rec_3): captured
  v1 (y): captured
  v0 (x): captured
  v4: in the record of the branch i3

forward pass
fn(v0 active: x, v1 active: y):
  b0():
    v2 = opaque `__ad_a > __ad_b` v0, v1
    v5, v11 = if v2
      b1():
        v3 = mul v0, v1
        v20 = record i3.0 
        yield v3, v20
      b2():
        v4 = exp v1
        v21 = record i3.1 v4
        yield v4, v21
    v6 = add v5, v0
    return v6

pullback:
  b3(v7):
    w2 = v7
    v9 = const 0.0
    w3 = v9
    match record i3 v11
      b4():
        v13 = mul v7, v1
        w2 += v13
        v14 = mul v7, v0
        w3 += v14
        yield 
      b5(v22):
        v16 = mul v7, v22
        w3 += v16
        yield 
    v17 = get w2
    v18 = get w3
    v19 = tuple v17, v18
    return v19",
    );
}

#[test]
fn pipeline_snapshot_of_a_call() {
    let text = pipeline_text(parse_quote! {
        fn f(x: f64, v: &[f64]) -> f64 {
            let h = vec![x, 2.0 * x];
            g(&h, v) + g(v, v) * x
        }
    });
    assert_text(
        &text,
        "\
SSA
fn(v0 active: x, v1 active: v):
  b0():
    v2 = const 2.0
    v3 = mul v2, v0
    v4 = const 2usize
    v5 = opaque `:: std :: vec :: Vec :: with_capacity (__ad_n)` v4
    v6 = push v5, v0
    v7 = push v6, v3
    v8 = ref v7
    v9 = call g v8, v1
    v10 = call g v1, v1
    v11 = mul v10, v0
    v12 = add v9, v11
    return v12

save plan
  v9: shape only, as v46
  v11: shape only, as v47
  v0 (x): captured
  v10: captured
  v26 (__ad_pb_8): captured
  v27 (__ad_sel_8): captured
  v8: recomputed
  v1 (v): captured
  v2: recomputed
  v46 (__ad_sh___ad_v9): captured
  v47 (__ad_sh___ad_v11): captured
  v7 (__ad_vec): captured

forward pass
fn(v0 active: x, v1 active: v):
  b0():
    v2 = const 2.0
    v3 = mul v2, v0
    v4 = const 2usize
    v5 = opaque `:: std :: vec :: Vec :: with_capacity (__ad_n)` v4
    v6 = push v5, v0
    v7 = push v6, v3
    v8 = ref v7
    v9 = call g v8, v1
    v46 = shape v9
    v10, v26, v27 = call_vjp g v1, v1
    v11 = mul v10, v0
    v47 = shape v11
    v12 = add v9, v11
    return v12

pullback:
  b1(v13):
    v48 = const 2.0
    v49 = ref v7
    v17 = rule add_vjp_0 shape:v46, shape:v47, v13
    v20 = rule add_vjp_1 shape:v46, shape:v47, v13
    v22 = shape v10
    v23 = rule mul_vjp_0 shape:v22, v0, v20
    v24 = shape v0
    v25 = rule mul_vjp_1 v10, shape:v24, v20
    w4 = v25
    v29, v30 = pullback v26 v23 spread v27
    w5 = v29
    w5 += v30
    v32, v33, v34 = call_vjp g v49, v1
    v35, v36 = pullback v33 v17 spread v34
    w5 += v36
    w7 = v35
    v38 = w7 = push_adjoint(w7, )
    v39 = get w7
    w9 = v39
    v40 = w9 = push_adjoint(w9, )
    w4 += v40
    v42 = mul v38, v48
    w4 += v42
    v43 = get w4
    v44 = get w5
    v45 = tuple v43, v44
    return v45",
    );
}

#[test]
fn a_carried_vec_replaced_by_another_takes_its_adjoint_at_its_start_length() {
    // A `Vec` put in the place of a carried one may have another length: its adjoint is taken
    // at the length the iteration started with (`reverse::keeps_length` is false there).
    let replaced = generated(parse_quote! {
        fn f(x: &[f64], y: &[f64], n: usize) -> f64 {
            let mut best = x.to_vec();
            for k in 0..n {
                if k == 1 {
                    best = y.to_vec();
                }
            }
            best.iter().sum()
        }
    });
    let pullback = replaced.pullback.to_string().replace(' ', "");
    assert!(pullback.contains("take_to"), "{pullback}");
}

/// The reads of fill results left after [`crate::fills::forward_fills`]: (reads of a fill's
/// result before, after).
fn fill_reads(item: syn::ItemFn) -> (usize, usize) {
    let mut f = lower_fn(item);
    crate::structurize::structurize(&mut f);
    crate::simplify::remove_dead(&mut f);
    let count = |f: &Func| {
        // Results of loops whose body ends by writing its carried array at its index.
        let loops: Vec<Value> = f
            .insts
            .iter()
            .filter(|i| matches!(i.kind, InstKind::Loop { ref init, .. } if init.len() == 1))
            .map(|i| i.results[0])
            .collect();
        f.blocks_within(f.body())
            .iter()
            .flat_map(|&b| f.block(b).insts.clone())
            .filter(|&i| matches!(f.inst(i).kind, InstKind::Index(a, _) if loops.contains(&a)))
            .count()
    };
    let before = count(&f);
    crate::fills::forward_fills(&mut f);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}"));
    (before, count(&f))
}

#[test]
fn reads_of_a_filled_array_over_the_fill_range_are_the_values_written() {
    // `xc[i]` and `xc[j]` (loops over `0..d` and `i + 1..d`) read what the fill wrote; the fill
    // reads parameters only.
    let item: syn::ItemFn = parse_quote! {
        fn f(w: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut s = 0.0;
            for r in 0..n {
                for i in 0..d {
                    xc[i] = x[r * d + i] * w[i];
                }
                for i in 0..d {
                    for j in i + 1..d {
                        s += xc[i] * xc[j];
                    }
                }
            }
            s
        }
    };
    assert_eq!(fill_reads(item), (2, 0));
}

#[test]
fn reads_a_fill_may_not_have_written_are_left() {
    // `xc[i + 1]`, a read from a loop over `0..=m` or over another bound, a fill starting past
    // 0, a fill that reads its own array, and one whose source is written in place later.
    let item: syn::ItemFn = parse_quote! {
        fn f(x: &[f64], d: usize, m: usize) -> f64 {
            let mut xc = vec![0.0; d + 1];
            let mut y = x.to_vec();
            let mut s = 0.0;
            for i in 0..d {
                xc[i] = x[i] * 2.0;
            }
            for i in 0..d {
                s += xc[i + 1];
            }
            for i in 0..=m {
                s += xc[i];
            }
            for i in 0..m {
                s += xc[i];
            }
            let mut a = vec![0.0; d];
            for i in 1..d {
                a[i] = x[i];
            }
            for i in 1..d {
                s += a[i];
            }
            let mut b = vec![0.0; d];
            for i in 0..d {
                b[i] = b[i] + x[i];
            }
            for i in 0..d {
                s += b[i];
            }
            let mut c = vec![0.0; d];
            for i in 0..d {
                c[i] = y[i] * 2.0;
            }
            for i in 0..d {
                y[i] = y[i] * 0.5;
            }
            for i in 0..d {
                s += c[i] + y[i];
            }
            s
        }
    };
    let (before, after) = fill_reads(item);
    assert_eq!(before, after);
    assert!(before >= 5);
}

#[test]
fn a_loop_filling_two_arrays_and_a_sum_fills_both() {
    // `xc` and `qx` filled by one loop that also carries `s`; `qx[j]`'s value reads `xc[j]`,
    // which the iteration has just written. After the pass nothing reads either array's
    // result, nor `xc`'s new version inside the loop.
    let mut f = lower_fn(parse_quote! {
        fn f(mu: &[f64], q: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut qx = vec![0.0; d];
            let mut t = 0.0;
            for i in 0..n {
                let mut s = 0.0;
                for j in 0..d {
                    xc[j] = x[i * d + j] - mu[j];
                    qx[j] = q[j] * xc[j];
                    s += qx[j];
                }
                for j in 0..d {
                    for k in j + 1..d {
                        s += qx[j] * xc[k];
                    }
                }
                t += s;
            }
            t
        }
    });
    crate::structurize::structurize(&mut f);
    crate::simplify::remove_dead(&mut f);
    // Element reads of a loop's result or of a value an element write made.
    let reads = |f: &Func| {
        let made: Vec<Value> = f
            .insts
            .iter()
            .filter(|i| matches!(i.kind, InstKind::Loop { .. } | InstKind::IndexSet { .. }))
            .flat_map(|i| i.results.clone())
            .collect();
        f.blocks_within(f.body())
            .iter()
            .flat_map(|&b| f.block(b).insts.clone())
            .filter(|&i| matches!(f.inst(i).kind, InstKind::Index(a, _) if made.contains(&a)))
            .count()
    };
    // `xc[j]` inside the fill, `qx[j]` twice and `xc[k]` below it.
    assert_eq!(reads(&f), 4, "{f}");
    crate::fills::forward_fills(&mut f);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}"));
    assert_eq!(reads(&f), 0, "{f}");
}

#[test]
fn repeated_reads_and_differences_become_squares() {
    // `x[i] * x[i]`, `x[0] * x[0]`, `(x[1] - x[i]) * (x[1] - x[i])` and, in a loop, `(x[k] -
    // m) * (x[k] - m)`: each product's operands are one value once repeats are merged.
    let mut f = lower_fn(parse_quote! {
        fn f(x: &[f64], i: usize, m: f64) -> f64 {
            let mut s = x[i] * x[i] + x[0] * x[0] + (x[1] - x[i]) * (x[1] - x[i]);
            for k in 0..x.len() {
                s += (x[k] - m) * (x[k] - m);
            }
            s
        }
    });
    crate::structurize::structurize(&mut f);
    crate::simplify::remove_dead(&mut f);
    let squares = |f: &Func| {
        f.blocks_within(f.body())
            .iter()
            .flat_map(|&b| f.block(b).insts.clone())
            .filter(|&i| matches!(f.inst(i).kind, InstKind::Binary(BinOp::Mul, a, b) if a == b))
            .count()
    };
    assert_eq!(squares(&f), 0, "{f}");
    let tys = crate::scalars::analyze(&f);
    crate::cse::merge_repeats(&mut f, &tys);
    verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}"));
    assert_eq!(squares(&f), 4, "{f}");
}

#[test]
fn reads_of_data_a_method_may_change_are_not_merged() {
    // `w.shift()` of a `mut` data array may change it in place (the SSA form has no new
    // version of it): `w[i]` after it is not `w[i]` before it.
    let mut f = lower_fn(parse_quote! {
        fn f(x: f64, data: &[f64], i: usize) -> f64 {
            let mut w = data.to_vec();
            let a = w[i];
            w.shift();
            x * a * w[i]
        }
    });
    crate::structurize::structurize(&mut f);
    crate::simplify::remove_dead(&mut f);
    let reads = |f: &Func| {
        f.blocks_within(f.body())
            .iter()
            .flat_map(|&b| f.block(b).insts.clone())
            .filter(|&i| matches!(f.inst(i).kind, InstKind::Index(..)))
            .count()
    };
    let before = reads(&f);
    let tys = crate::scalars::analyze(&f);
    crate::cse::merge_repeats(&mut f, &tys);
    assert_eq!(reads(&f), before, "{f}");
    assert_eq!(before, 2);
}

#[test]
fn a_fill_a_printing_macro_reads_stays_a_fill_and_one_a_user_macro_gets_is_left() {
    // `println!` and `debug_assert_eq!` only read `xc`; `bump!(yc)` may change `yc` in place.
    let item: syn::ItemFn = parse_quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut yc = vec![0.0; d];
            for i in 0..d {
                xc[i] = x[i] * 2.0;
            }
            for i in 0..d {
                yc[i] = x[i] * 3.0;
            }
            println!("{:?}", xc);
            debug_assert_eq!(xc.len(), d);
            bump!(yc);
            let mut s = 0.0;
            for i in 0..d {
                s += xc[i] * yc[i];
            }
            s
        }
    };
    assert_eq!(fill_reads(item), (2, 1));
}

#[test]
fn drain_in_code_run_as_written_is_an_error_that_says_what_to_write() {
    // `w.drain(1..).collect()` runs as written on a copy of `w`: the drain would be lost.
    let errors = errors_of(parse_quote! {
        fn f(x: f64, d: &[f64]) -> f64 {
            let mut w = d.to_vec();
            let old: Vec<f64> = w.drain(1..).collect();
            x * old[0] * w[0]
        }
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("`w.drain(..)` changes `w`"),
        "{errors:?}"
    );
    assert!(errors[0].contains("split_off"), "{errors:?}");
}

#[test]
fn a_fill_inside_the_loop_that_reads_it_is_left() {
    // The fill runs in each iteration of the loop over `i` that reads `xc[i]`: the top of that
    // loop's body comes before `w` and the fill.
    let item: syn::ItemFn = parse_quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut s = 0.0;
            for i in 0..d {
                let w = x[i] * 2.0;
                for j in 0..d {
                    xc[j] = x[j] * w;
                }
                s += xc[i];
            }
            s
        }
    };
    assert_eq!(fill_reads(item), (1, 1));
}

/// The macro's output is a function of its input alone: its passes keep hash maps (whose
/// iteration order changes with each map's seed), and none of that order may reach the tokens.
/// Each function is expanded again several times in this process, every map seeded anew.
#[test]
fn expansion_is_the_same_every_time() {
    let cases: Vec<(proc_macro2::TokenStream, proc_macro2::TokenStream)> = vec![
        (
            quote::quote!(hessian),
            quote::quote! {
                fn chain(x: f64, v: &[f64], w: Option<&[f64]>) -> f64 {
                    let mut acc = 10.0 * (1.0 + (-2.0 * x).exp()).ln();
                    let mut best = v[0];
                    for (i, &a) in v.iter().enumerate() {
                        if a > best { best = a; }
                        acc += match w { Some(w) => a * a * w[i], None => a.sin() * x };
                    }
                    acc + best
                }
            },
        ),
        (
            quote::quote!(wrt(means, icf)),
            quote::quote! {
                fn triangle(means: &[f64], icf: &[f64], x: &[f64], d: usize, k: usize) -> f64 {
                    let sz = d * (d + 1) / 2;
                    let mut q = vec![0.0; d];
                    let mut total = 0.0;
                    for ik in 0..k {
                        for id in 0..d { q[id] = icf[ik * sz + id].exp() * (x[id] - means[ik * d + id]); }
                        let mut l = d;
                        for i in 0..d {
                            for j in i + 1..d {
                                q[j] += icf[ik * sz + l] * (x[i] - means[ik * d + i]);
                                l += 1;
                            }
                        }
                        total += q.iter().map(|v| v * v).sum::<f64>();
                    }
                    total
                }
            },
        ),
        (
            quote::quote!(),
            quote::quote! {
                fn layers(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>) -> f64 {
                    let mut h = x.dot(w) + b;
                    let mut hs = Vec::new();
                    for _ in 0..2 {
                        hs.push(h.clone());
                        h = h.mapv(|v| v.max(0.0)).dot(w) + b;
                    }
                    let m = h.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    hs.iter().map(|t| t.sum()).sum::<f64>() + m + h.mapv(|v| (v - m).exp()).sum().ln()
                }
            },
        ),
    ];
    for (attr, item) in cases {
        let first = crate::expand(attr.clone(), item.clone()).to_string();
        assert!(
            !first.contains("compile_error"),
            "expanded with errors: {first}"
        );
        assert!(
            first.contains("_vjp") && first.contains("_jvp"),
            "no derivatives: {first}"
        );
        for _ in 0..5 {
            let again = crate::expand(attr.clone(), item.clone()).to_string();
            assert!(again == first, "a second expansion differs from the first");
        }
    }
}

/// A literal read once is written where it is read (`i + 1`), not bound first (`let v = 1;`):
/// one inference variable and one local fewer for rustc per constant.
#[test]
fn literals_read_once_are_written_at_their_read() {
    let item: proc_macro2::TokenStream = quote::quote! {
        fn f(x: &[f64]) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() - 1 {
                s += x[i] * ((i + 7) as f64);
            }
            s
        }
    };
    let code = crate::expand(proc_macro2::TokenStream::new(), item).to_string();
    assert!(!code.contains("compile_error"), "{code}");
    assert!(code.contains(" + 7"), "i + 7 not written in place: {code}");
    assert!(
        !code.contains("= 7 ;"),
        "a literal read once is bound: {code}"
    );
}

/// A `.sum()` or `.product()` of `f64` terms is an `f64` from its first term: its additions are
/// plain arithmetic, not the runtime's rule traits that rustc resolves by inference. The start
/// keeps the runtime's function (its type is the caller's to infer).
#[test]
fn sums_and_products_of_floats_are_floats() {
    let item: proc_macro2::TokenStream = quote::quote! {
        fn f(xs: &[f64], a: f64) -> f64 {
            let s = xs.iter().map(|x| a * x * x).sum::<f64>();
            let p: f64 = xs.iter().map(|x| x + a).product();
            xs.iter().map(|x| (x - a).powi(2)).sum() + s * p
        }
    };
    let code = crate::expand(proc_macro2::TokenStream::new(), item).to_string();
    assert!(!code.contains("compile_error"), "{code}");
    assert!(code.contains("sum_start"), "{code}");
    assert!(code.contains("product_start"), "{code}");
    for rule in ["ArithRules", "shape_of"] {
        assert!(!code.contains(rule), "{rule} in: {code}");
    }
}

#[test]
fn a_square_gives_its_operand_one_contribution() {
    // `x * x`: the pullback adds `g * (x + x)` to x̄ once, not `g * x` twice, so the adjoint's
    // chain is one multiplication long; the tangent is `dx * (x + x)`.
    let item: syn::ItemFn = parse_quote! {
        fn f(x: f64, y: f64) -> f64 {
            let s = x * x;
            s * y
        }
    };
    let f = reversed(item.clone(), None);
    let pb = f.pullback_text();
    // `vA = add vX, vX`, then one product with it; `y * x * x` takes three products in all.
    let doubled: Vec<&str> = pb
        .lines()
        .filter_map(|l| {
            let (lhs, ops) = l.trim().split_once(" = add ")?;
            let (a, b) = ops.split_once(", ")?;
            (a == b).then_some(lhs)
        })
        .collect();
    assert_eq!(doubled.len(), 1, "{pb}");
    let by_doubled = format!(", {}", doubled[0]);
    assert!(
        pb.lines()
            .any(|l| l.contains("= mul ") && l.ends_with(&by_doubled)),
        "{pb}"
    );
    assert_eq!(pb.matches("= mul ").count(), 3, "{pb}");
    assert_eq!(pb.matches("= add ").count(), 1, "{pb}");

    let mut fj = lower_fn(item);
    crate::structurize::structurize(&mut fj);
    let act = activity::analyze(&fj);
    let mut tys = crate::scalars::analyze(&fj);
    crate::forward::jvp(&mut fj, &act.active, &mut tys);
    let text = fj.to_string();
    // The tangent of `x * x` is one product with `x + x`, not a sum of two products: five
    // products in all (`x * x`, its tangent, `s * y` and the two of its tangent).
    assert_eq!(text.matches("= mul ").count(), 5, "{text}");
    // The primal `x * x` names `x`; its tangent doubles it.
    let x = text.lines().find_map(|l| {
        let (_, ops) = l.trim().split_once(" = mul ")?;
        let (a, b) = ops.split_once(", ")?;
        (a == b).then(|| a.to_string())
    });
    let x = x.unwrap_or_else(|| panic!("{text}"));
    assert!(text.contains(&format!("= add {x}, {x}")), "{text}");
}
