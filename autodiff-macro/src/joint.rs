//! Which calls are differentiated *jointly*: their pullback is made where it is needed, by
//! calling `g_vjp` again in the pullback, rather than kept from the forward pass ("split").
//!
//! A kept pullback may borrow what the call lent it: `g(&h)` gives a pullback that can hold
//! `&h`. That is sound only while `h` outlives the pullback and nothing moves or changes it in
//! between. A pullback returned by `f_vjp` outlives every local of `f`; one kept in a loop's
//! record outlives the iteration's locals. For such calls the forward pass calls plain `g`
//! for the value, and the pullback calls `g_vjp` on the same arguments (which the save plan
//! then keeps like any other value the pullback reads) right before applying its pullback.
//! The callee's forward work is done twice; nothing borrowed escapes.
//!
//! The functions of the runtime's `nn` and `conv` modules are exempt: their pullbacks own what
//! they keep.

use std::collections::HashSet;

use crate::ir::*;
use crate::prim::Flags;

/// Where the pullback runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pullback {
    /// In a closure returned to the caller (`f_vjp`): it outlives the function's locals.
    Returned,
    /// Before the function returns (`f_grad`): it outlives nothing of the function's top level.
    Inline,
}

/// The calls that must be differentiated jointly when the pullback runs as `pb` says.
pub fn joint_calls(f: &Func, pb: Pullback) -> HashSet<Inst> {
    let mut def_block = vec![f.body(); f.values.len()];
    for b in f.blocks_within(f.body()) {
        for &p in &f.block(b).params {
            def_block[p.index()] = b;
        }
        for &i in &f.block(b).insts {
            for &r in &f.inst(i).results {
                def_block[r.index()] = b;
            }
        }
    }
    // Values something changes in place or moves: a borrow of them cannot be kept.
    let mut disturbed: HashSet<Value> = f.borrowed_mut_versions();
    for inst in &f.insts {
        match &inst.kind {
            // Read by reference (rules on arrays take references; floats are copied).
            InstKind::Ref(_)
            | InstKind::FieldRef(..)
            | InstKind::Index(..)
            | InstKind::Shape(_)
            | InstKind::TypeOf(_)
            | InstKind::Prim { .. }
            | InstKind::Const(_) => {}
            // An operator on data is written as the source wrote it, and a compound assignment
            // of an array of data (`w *= 2.0`) takes the array by value: a borrow lent to a call
            // before it cannot be kept.
            InstKind::Binary(..) | InstKind::Neg(_) => inst.kind.each_operand(&mut |v| {
                disturbed.insert(*v);
            }),
            InstKind::Method { args, .. } => disturbed.extend(args.iter().copied()),
            // Anything else may take its operands by value.
            k => k.each_operand(&mut |v| {
                disturbed.insert(*v);
            }),
        }
    }
    for b in f.blocks_within(f.body()) {
        // Returned, yielded or carried on: moved.
        disturbed.extend(f.term_operands(b));
    }
    // Blocks inside loops: a pullback kept there goes on a loop stack, which is declared
    // before every local of the function and so dropped after them.
    let mut looped: HashSet<Block> = HashSet::new();
    for inst in &f.insts {
        if let InstKind::Loop { body, .. } = &inst.kind {
            looped.extend(f.blocks_within(*body));
        }
    }
    let mut out = HashSet::new();
    for (n, inst) in f.insts.iter().enumerate() {
        // A call of exact mode at kinks (see `crate::kinks`) is in the primal as a forward-mode
        // call, its tangents the direction.
        let (InstKind::Call { path, args } | InstKind::CallJvp { path, args, .. }) = &inst.kind
        else {
            continue;
        };
        // The runtime's maps over array elements keep the partial derivatives they computed.
        if is_runtime_function(path) || f.elem_map(path).is_some() {
            continue;
        }
        let joint = args.iter().any(|&a| {
            if f.borrowed_mut_versions().contains(&a) {
                return true;
            }
            let Some((root, direct)) = borrow_root(f, a) else {
                return false;
            };
            let param = f.params.iter().find(|p| p.value == root);
            // A view or field of a reference parameter borrows what the caller lent `f`.
            if let Some(p) = param {
                if !direct && matches!(p.ty, syn::Type::Reference(ref r) if r.mutability.is_none())
                {
                    return false;
                }
            }
            match pb {
                Pullback::Returned => true,
                Pullback::Inline => {
                    // Kept on a loop stack, a pullback may borrow only what has no drop glue
                    // (a reference or an array parameter): the stack's drop, on the unwinding
                    // path too, may run the pullback's drop after a local `Vec` is gone.
                    let stacked = inst
                        .results
                        .first()
                        .is_some_and(|r| looped.contains(&def_block[r.index()]))
                        && !param.is_some_and(|p| {
                            matches!(p.ty, syn::Type::Reference(_) | syn::Type::Array(_))
                        });
                    stacked || def_block[root.index()] != f.body() || disturbed.contains(&root)
                }
            }
        });
        if joint {
            out.insert(Inst(n as u32));
        }
    }
    out
}

/// The calls of the function being differentiated, `name`, inside it (`f(..)`, or
/// `Self::f(..)` in an `impl` block), in either mode at kinks. Made jointly in a returned
/// pullback: one kept from the forward pass would make the type of the pullback `f_vjp` returns
/// contain itself, which rustc rejects ("cannot resolve opaque type"). Made jointly, the
/// pullback of each level of the recursion calls `f_vjp` for the level below it, which runs
/// that level's forward pass again: a recursion `d` deep does `d²/2` levels' forward work.
pub fn calls_of_itself(f: &Func, name: &syn::Ident) -> HashSet<Inst> {
    let mut out = HashSet::new();
    for (n, inst) in f.insts.iter().enumerate() {
        let (InstKind::Call { path, .. } | InstKind::CallJvp { path, .. }) = &inst.kind else {
            continue;
        };
        let segs: Vec<&syn::Ident> = path.segments.iter().map(|s| &s.ident).collect();
        let itself = match segs.as_slice() {
            [g] => *g == name,
            [s, g] => *s == "Self" && *g == name,
            _ => false,
        };
        if itself {
            out.insert(Inst(n as u32));
        }
    }
    out
}

/// Whether `path` names a function of the runtime's `nn` or `conv` modules (as `nn::relu` or
/// `autodiff::nn::relu`): their pullbacks keep copies of what they need, never borrows, and each
/// has an exact rule `_vjp_along` (see [`crate::kinks`]). So do the joins `concatenate` and
/// `stack` that the lowering writes (`autodiff::__private::join2::concatenate`, see
/// `lower::join`), whose pullbacks keep only the pieces' lengths, and the region assignment
/// `autodiff::__private::region::assign` (see `lower::region`), whose pullback keeps the
/// region, and the extrema along an axis, `autodiff::__private::extremum::max_axis` (see
/// `lower::extremum`), whose pullback keeps the weights of the elements.
pub fn is_runtime_function(path: &syn::Path) -> bool {
    let first = path.segments.first().map(|s| s.ident.to_string());
    // `autodiff::__private::FieldTy::<Self, H, _>::forward`: a user's method on a field.
    let private = path.segments.iter().position(|s| s.ident == "__private");
    match private {
        None => matches!(first.as_deref(), Some("nn" | "conv" | "autodiff")),
        Some(k) => {
            path.segments.len() == k + 3
                && (crate::lower::is_join_module(&path.segments[k + 1].ident)
                    || path.segments[k + 1].ident == "region"
                    || path.segments[k + 1].ident == "extremum")
        }
    }
}

/// The value `v` borrows from, following references, field references and views, and whether
/// the last step is a reference taken of it directly (`&x`, not `x.view()` or `&x.field`,
/// which see through a reference `x`).
pub fn borrow_root(f: &Func, v: Value) -> Option<(Value, bool)> {
    let mut cur = v;
    let mut found = None;
    while let ValueDef::Result(i, 0) = f.value(cur).def {
        let (next, direct) = match &f.inst(i).kind {
            InstKind::Ref(u) => (*u, true),
            InstKind::FieldRef(u, _) => (*u, false),
            InstKind::Prim { prim, args, .. } if prim.has(Flags::VIEW) => (args[0], false),
            _ => break,
        };
        found = Some((next, direct));
        cur = next;
    }
    found
}

/// `g(&buf)` where `buf` is a `&mut` parameter (or a version of one): the call is given a copy
/// of the buffer's current contents instead (`&buf.to_owned()`). A pullback never holds on to
/// the caller's buffer, and the buffer may change after the call; the copy is an owned local
/// the save plan keeps like any other. Runs before activity analysis.
pub fn copy_lent_buffers(f: &mut Func) {
    let buffers = f.borrowed_mut_versions();
    if buffers.is_empty() {
        return;
    }
    let Some(to_owned) = crate::prim::PrimId::method("to_owned") else {
        return;
    };
    for b in f.blocks_within(f.body()) {
        let mut k = 0;
        while k < f.block(b).insts.len() {
            let i = f.block(b).insts[k];
            k += 1;
            let InstKind::Call { args, .. } = f.inst(i).kind.clone() else {
                continue;
            };
            for (n, a) in args.into_iter().enumerate() {
                let ValueDef::Result(r, 0) = f.value(a).def else {
                    continue;
                };
                let InstKind::Ref(buf) = f.inst(r).kind else {
                    continue;
                };
                if !buffers.contains(&buf) {
                    continue;
                }
                let span = f.inst(i).span;
                let kind = f.value(buf).kind;
                let copy = f.push_inst(
                    b,
                    InstKind::Prim {
                        prim: to_owned,
                        args: vec![buf],
                        unwrap: false,
                    },
                    1,
                    kind,
                    span,
                );
                let copy_v = f.inst(copy).results[0];
                let lent = f.push_inst(b, InstKind::Ref(copy_v), 1, kind, span);
                let lent_v = f.inst(lent).results[0];
                // Both just before the call.
                let insts = &mut f.block_mut(b).insts;
                insts.truncate(insts.len() - 2);
                let at = insts
                    .iter()
                    .position(|&x| x == i)
                    .expect("the call is in its block");
                insts.insert(at, lent);
                insts.insert(at, copy);
                k += 2;
                if let InstKind::Call { args, .. } = &mut f.insts[i.index()].kind {
                    args[n] = lent_v;
                }
            }
        }
    }
}
