//! Activity analysis: which values need a derivative.
//!
//! A value is *varied* when it depends on an active parameter, *useful* when the result depends
//! on it, and *active* when it is both and its kind is not discrete. Only active values get
//! adjoints; only instructions with an active result are differentiated. Both properties are
//! computed to a fixed point, since loops carry values around.

use crate::ir::*;

#[derive(Clone)]
pub struct Activity {
    pub active: Vec<bool>,
    /// Depends on an active parameter.
    pub varied: Vec<bool>,
    /// The result depends on it.
    pub useful: Vec<bool>,
    /// The block each instruction sits in.
    pub inst_block: Vec<Block>,
    /// The block that owns each block (its parent), `None` for the body.
    pub parent: Vec<Option<Block>>,
}

impl Activity {
    pub fn is_active(&self, v: Value) -> bool {
        self.active[v.index()]
    }

    /// The block a value is defined in.
    pub fn def_block(&self, f: &Func, v: Value) -> Block {
        match f.value(v).def {
            ValueDef::Param(_) | ValueDef::Tangent(_) => f.body(),
            ValueDef::BlockParam(b, _) => b,
            ValueDef::Result(i, _) => self.inst_block[i.index()],
        }
    }

    /// Whether block `inner` is `outer` or nested inside it.
    pub fn within(&self, inner: Block, outer: Block) -> bool {
        let mut cur = Some(inner);
        while let Some(b) = cur {
            if b == outer {
                return true;
            }
            cur = self.parent[b.index()];
        }
        false
    }
}

fn structure(f: &Func) -> (Vec<Block>, Vec<Option<Block>>) {
    let mut inst_block = vec![Block(0); f.insts.len()];
    let mut parent = vec![None; f.blocks.len()];
    fn walk(f: &Func, b: Block, ib: &mut Vec<Block>, pa: &mut Vec<Option<Block>>) {
        for &i in &f.block(b).insts {
            ib[i.index()] = b;
            for nb in f.inst_blocks(i) {
                pa[nb.index()] = Some(b);
                walk(f, nb, ib, pa);
            }
        }
        for nb in f.term_blocks(b) {
            pa[nb.index()] = Some(b);
            walk(f, nb, ib, pa);
        }
    }
    if let Some(body) = f.body {
        walk(f, body, &mut inst_block, &mut parent);
    }
    (inst_block, parent)
}

/// The terminators that leave an `if`/`match` (its arms' `yield`s) or a loop (its body's
/// `continue`/`break`): after [`crate::structurize`], one per arm and one per loop body.
pub fn exits_of(f: &Func, i: Inst) -> Vec<&Term> {
    let mut out = Vec::new();
    let mut stack = f.inst_blocks(i);
    while let Some(b) = stack.pop() {
        match &f.block(b).term {
            Term::Branch { .. } | Term::Switch { .. } => stack.extend(f.term_blocks(b)),
            t => out.push(t),
        }
    }
    out
}

pub fn analyze(f: &Func) -> Activity {
    analyze_with(f, false, false)
}

/// The activity with the values that decide a branch by a comparison counted as mattering
/// (`a` in `let a = x * 2.0; if a > 0.0 { x } else { 0.0 }`, and the operands of comparisons in
/// `match` guards), whether or not the result reads them: exact mode at kinks
/// ([`crate::kinks`]) needs their tangents to decide ties. Without them the comparison kept
/// its plain result at a tie, and the derivative was that of the wrong piece.
pub fn analyze_deciding(f: &Func) -> Activity {
    analyze_with(f, false, true)
}

/// The activity as if code run as written (an [`InstKind::Opaque`]) passed on what it reads:
/// its results vary with what it reads, and what it reads matters where its results do. Not
/// what the derivatives follow, but what `check` needs to see a differentiated value reach the
/// result through a chain of such code (`let p = P { x }; let q = Q { p: p.x };`), each link of
/// which alone reads no differentiated value or feeds nothing that matters.
pub fn analyze_through_opaque(f: &Func) -> Activity {
    analyze_with(f, true, false)
}

/// The operator of the lowering's comparison of two operands, `__ad_a < __ad_b` (also `<=`,
/// `>`, `>=`, and operands compared through references, `(*__ad_a) > __ad_b`), if `tokens` are
/// one.
pub fn ordering(tokens: &proc_macro2::TokenStream) -> Option<syn::BinOp> {
    let Ok(syn::Expr::Binary(bin)) = syn::parse2::<syn::Expr>(tokens.clone()) else {
        return None;
    };
    fn is(e: &syn::Expr, name: &str) -> bool {
        match e {
            syn::Expr::Path(p) => p.path.is_ident(name),
            syn::Expr::Paren(p) => is(&p.expr, name),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is(&u.expr, name),
            _ => false,
        }
    }
    (matches!(
        bin.op,
        syn::BinOp::Lt(_) | syn::BinOp::Le(_) | syn::BinOp::Gt(_) | syn::BinOp::Ge(_)
    ) && is(&bin.left, "__ad_a")
        && is(&bin.right, "__ad_b"))
    .then_some(bin.op)
}

fn analyze_with(f: &Func, through_opaque: bool, deciding: bool) -> Activity {
    let (inst_block, parent) = structure(f);
    let n = f.values.len();
    let discrete = |v: Value| f.value(v).kind == Kind::Discrete;

    // ---- varied: forward dataflow from the active parameters.
    let mut varied = vec![false; n];
    for p in &f.params {
        if p.active {
            varied[p.value.index()] = true;
        }
    }
    loop {
        let mut changed = false;
        let mut set = |v: Value, on: bool, varied: &mut Vec<bool>| {
            if on && !varied[v.index()] && !discrete(v) {
                varied[v.index()] = true;
                changed = true;
            }
        };
        for (idx, inst) in f.insts.iter().enumerate() {
            let i = Inst(idx as u32);
            match &inst.kind {
                InstKind::Opaque { .. } if through_opaque => {
                    let on = f.operands(i).iter().any(|v| varied[v.index()]);
                    for &r in &inst.results {
                        set(r, on, &mut varied);
                    }
                }
                InstKind::Opaque { .. } | InstKind::Const(_) => {}
                // The earlier value is read for its type only.
                InstKind::TypedLike { value, .. } => {
                    set(inst.results[0], varied[value.index()], &mut varied);
                }
                InstKind::If { .. } | InstKind::Match { .. } => {
                    for t in exits_of(f, i) {
                        if let Term::Yield(vals) = t {
                            for (k, v) in vals.iter().enumerate() {
                                if let Some(&r) = inst.results.get(k) {
                                    set(r, varied[v.index()], &mut varied);
                                }
                            }
                        }
                    }
                }
                InstKind::Loop { init, body, .. } => {
                    let params = &f.block(*body).params;
                    let carried = &params[params.len() - init.len()..];
                    for (k, &v) in init.iter().enumerate() {
                        set(carried[k], varied[v.index()], &mut varied);
                    }
                    for t in exits_of(f, i) {
                        if let Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } =
                            t
                        {
                            for (k, v) in vals.iter().enumerate() {
                                set(carried[k], varied[v.index()], &mut varied);
                            }
                        }
                    }
                    for (k, &r) in inst.results.iter().enumerate() {
                        set(r, varied[carried[k].index()], &mut varied);
                    }
                }
                _ => {
                    let any = f.operands(i).iter().any(|v| varied[v.index()]);
                    for &r in &inst.results {
                        set(r, any, &mut varied);
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }

    // ---- useful: backward dataflow from the returned values.
    let mut useful = vec![false; n];
    loop {
        let mut changed = false;
        let mut mark = |v: Value, useful: &mut Vec<bool>| {
            if !useful[v.index()] {
                useful[v.index()] = true;
                changed = true;
            }
        };
        for b in &f.blocks {
            if let Term::Return(v) = b.term {
                mark(v, &mut useful);
            }
        }
        if deciding {
            for inst in &f.insts {
                match &inst.kind {
                    InstKind::Opaque {
                        tokens,
                        uses,
                        mac: None,
                    } if uses.len() == 2 && ordering(tokens).is_some() => {
                        for (_, v) in uses {
                            mark(*v, &mut useful);
                        }
                    }
                    InstKind::Match { arms, .. } => {
                        for (_, v) in arms.iter().flat_map(|a| &a.guard_uses) {
                            mark(*v, &mut useful);
                        }
                    }
                    _ => {}
                }
            }
        }
        for (idx, inst) in f.insts.iter().enumerate().rev() {
            let i = Inst(idx as u32);
            match &inst.kind {
                InstKind::If { .. } | InstKind::Match { .. } => {
                    for t in exits_of(f, i) {
                        if let Term::Yield(vals) = t {
                            for (k, &v) in vals.iter().enumerate() {
                                if inst.results.get(k).is_some_and(|r| useful[r.index()]) {
                                    mark(v, &mut useful);
                                }
                            }
                        }
                    }
                    // What an arm's pattern binds (`Some(v) => v * t`) is a part of the
                    // scrutinee: where it matters, so does the scrutinee (code run as written
                    // that computes it from differentiated values is then an error, instead of
                    // a derivative of zero through the binding).
                    if let InstKind::Match { scrutinee, arms } = &inst.kind {
                        let binds_useful = arms
                            .iter()
                            .any(|arm| f.block(arm.block).params.iter().any(|p| useful[p.index()]));
                        if binds_useful {
                            mark(*scrutinee, &mut useful);
                        }
                    }
                }
                InstKind::Loop { init, body, .. } => {
                    let params = &f.block(*body).params;
                    let carried = &params[params.len() - init.len()..];
                    for (k, &r) in inst.results.iter().enumerate() {
                        if useful[r.index()] {
                            mark(carried[k], &mut useful);
                        }
                    }
                    let live: Vec<bool> = carried.iter().map(|p| useful[p.index()]).collect();
                    for (k, &v) in init.iter().enumerate() {
                        if live[k] {
                            mark(v, &mut useful);
                        }
                    }
                    for t in exits_of(f, i) {
                        if let Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } =
                            t
                        {
                            for (k, &v) in vals.iter().enumerate() {
                                if live[k] {
                                    mark(v, &mut useful);
                                }
                            }
                        }
                    }
                }
                InstKind::Opaque { .. } | InstKind::Const(_) if !through_opaque => {}
                InstKind::Const(_) => {}
                // The earlier value is read for its type only.
                InstKind::TypedLike { value, .. } => {
                    if useful[inst.results[0].index()] {
                        mark(*value, &mut useful);
                    }
                }
                // An integer read out of a value (`l.idx[t]`, `e.0` of an edge `(usize,
                // usize)`, `v.len()`) carries no derivative back to it: the value matters only
                // through its other uses. Else a container of integers that a loop reads by
                // element (`for &i in &l.idx`, a field of a parameter struct) was given an
                // adjoint, rustc's "`usize` is not differentiable" in the generated code.
                _ if !matches!(inst.kind, InstKind::Opaque { .. })
                    && !inst.results.is_empty()
                    && inst.results.iter().all(|&r| discrete(r)) => {}
                _ => {
                    if inst.results.iter().any(|r| useful[r.index()]) {
                        for v in f.operands(i) {
                            mark(v, &mut useful);
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }

    let active = (0..n)
        .map(|k| varied[k] && useful[k] && f.values[k].kind != Kind::Discrete)
        .collect();
    Activity {
        active,
        varied,
        useful,
        inst_block,
        parent,
    }
}
