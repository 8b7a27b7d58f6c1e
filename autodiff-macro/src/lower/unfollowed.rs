//! Types the derivative does not follow: maps (`HashMap`, `BTreeMap`), queues (`VecDeque`,
//! `BinaryHeap`, `LinkedList`) and cells (`RefCell`, `Mutex`, `RwLock`, `Cell`, also inside an
//! `Rc` or an `Arc`). A local of one is followed as data: each statement that names it is
//! noted, and one through which a differentiated value reaches it is rejected by
//! `check::unfollowed` with an error that says what to write instead. A statement working on
//! one that the lowering rejects (`*m.entry(k).or_insert(0.0) += x`, `c.borrow_mut()[0] = x`)
//! has that error in place of the lowering's, which spoke of something else.

use super::*;

const MAPS: &[&str] = &["HashMap", "BTreeMap", "IndexMap"];
const QUEUES: &[&str] = &["VecDeque", "BinaryHeap", "LinkedList"];
const CELLS: &[&str] = &["RefCell", "Mutex", "RwLock", "Cell", "OnceCell"];
/// Owners whose contents are what matters (`Rc<RefCell<Vec<f64>>>`).
const OWNERS: &[&str] = &["Rc", "Arc", "Box"];

/// Where a statement's lowering started: its errors and instructions come after.
pub(super) struct Mark {
    errors: usize,
    insts: usize,
}

impl Lowering {
    /// Whether `e` names a map (`HashMap`, `BTreeMap`): a local built or declared as one, or a
    /// parameter of such a type (`&HashMap<char, usize>`).
    pub(super) fn names_map(&self, e: &Expr) -> bool {
        let Expr::Path(p) = chain::strip(e) else {
            return false;
        };
        let Some(slot) = p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
        else {
            return false;
        };
        if self.env[slot]
            .unfollowed
            .is_some_and(|(t, borrow)| !borrow && MAPS.contains(&t))
        {
            return true;
        }
        self.env[slot].value.is_some_and(|v| {
            matches!(self.f.value(v).def, ValueDef::Param(n)
                if type_named(match &self.f.params[n].ty {
                    syn::Type::Reference(r) => &r.elem,
                    t => t,
                })
                .is_some_and(|t| MAPS.contains(&t)))
        })
    }

    pub(super) fn unfollowed_enter(&self) -> Mark {
        Mark {
            errors: self.errors.len(),
            insts: self.f.insts.len(),
        }
    }

    /// After statement `stmt`: marks a variable it binds to a map, a queue or a cell (or to a
    /// borrow of one, `let b = c.borrow_mut();`), and notes the statement where it names one.
    pub(super) fn unfollowed_leave(&mut self, mark: Mark, stmt: &Stmt) {
        if let Stmt::Local(local) = stmt {
            let (pat, declared) = match &local.pat {
                Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                p => (p, None),
            };
            if let (Pat::Ident(pi), Some(init)) = (pat, &local.init) {
                let ty = declared
                    .and_then(type_named)
                    .or_else(|| built(&init.expr))
                    .map(|t| (t, false))
                    .or_else(|| {
                        let slot = self.lookup(&alias_root(&init.expr)?)?;
                        Some((self.env[slot].unfollowed?.0, true))
                    });
                if let Some(ty) = ty {
                    if let Some(b) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                        b.unfollowed = Some(ty);
                    }
                }
            }
        }
        // The names a `let` binds are not uses.
        let tokens = match stmt {
            Stmt::Local(l) => l
                .init
                .as_ref()
                .map_or_else(TokenStream::new, |i| i.expr.to_token_stream()),
            s => s.to_token_stream(),
        };
        let mut idents = Vec::new();
        written::collect_idents(tokens, &mut idents);
        let mut first: Option<(syn::Ident, (&'static str, bool))> = None;
        let mut values = Vec::new();
        // A `let` that makes one is its first use (`let c = RefCell::new(x);`).
        let mut defining = false;
        if let Stmt::Local(local) = stmt {
            let pat = match &local.pat {
                Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            if let Some(b) = self.env.last().filter(|b| b.unfollowed.is_some()) {
                if let (Pat::Ident(pi), Some(ty)) = (pat, b.unfollowed) {
                    if pi.ident == b.name {
                        values.extend(b.value);
                        first = Some((pi.ident.clone(), ty));
                        defining = true;
                    }
                }
            }
        }
        for id in idents {
            let Some(slot) = self.lookup(&id.to_string()) else {
                continue;
            };
            let Some(ty) = self.env[slot].unfollowed else {
                continue;
            };
            values.extend(self.env[slot].value);
            if first.is_none() {
                first = Some((id, ty));
            }
        }
        let Some((id, ty)) = first else {
            return;
        };
        let name = id.to_string();
        // The errors of the `let` that makes one are about how it is made (`collect` into a
        // `VecDeque`): they stay.
        if self.errors.len() > mark.errors && defining {
            return;
        }
        if self.errors.len() > mark.errors && is_leaf(stmt) {
            self.errors.truncate(mark.errors);
            // One error for the variable, at its first use that cannot be followed.
            let msg = unfollowed_message(&name, ty.0, ty.1, false);
            if !self.errors.iter().any(|e| e.to_string() == msg) {
                self.err(id.span(), msg);
            }
            return;
        }
        let target = match stmt {
            Stmt::Local(l) => l.init.as_ref().map(|i| &*i.expr),
            Stmt::Expr(e, _) => Some(e),
            _ => None,
        };
        let rooted = target.is_some_and(|e| self.rooted(e, true).is_some());
        let insts = if rooted {
            mark.insts..self.f.insts.len()
        } else {
            0..0
        };
        self.f.unfollowed.push(Unfollowed {
            name,
            ty: ty.0,
            borrow: ty.1,
            span: id.span(),
            values,
            insts,
        });
    }

    /// The type of the marked variable `e` works on (`m.insert(k, v)`, `*m.entry(k)..`,
    /// `b[0] = x`, with `index`: also an element read, `m[&k]`).
    fn rooted(&self, e: &Expr, index: bool) -> Option<(&'static str, bool)> {
        let name = root(e, index)?;
        let slot = self.lookup(&name)?;
        self.env[slot].unfollowed
    }
}

/// The error for variable `name` of type `ty`; `reached` says that a differentiated value
/// reaches it (otherwise the lowering could not follow its use).
pub fn unfollowed_message(name: &str, ty: &str, borrow: bool, reached: bool) -> String {
    let is = if borrow { "borrows" } else { "is" };
    let what = if reached {
        format!("`{name}` {is} a `{ty}`, and a differentiated value reaches it")
    } else {
        format!("`{name}` {is} a `{ty}`, and this use of it cannot be followed")
    };
    if MAPS.contains(&ty) {
        format!(
            "{what}: the derivative follows `Vec`s, arrays and ndarray arrays, not maps; keep \
             the floats in a `Vec` indexed by position (`let mut v = vec![0.0; n]; v[k] += x;`, \
             each key turned into its position first), and a map for data only (counts, \
             indices), read by `get` or an index and changed by `insert` (`let c = \
             {name}.get(&k).copied().unwrap_or(0); {name}.insert(k, c + 1);`)"
        )
    } else if QUEUES.contains(&ty) {
        format!(
            "{what}: the derivative follows `Vec`s, arrays and ndarray arrays, not queues; use \
             a `Vec`, with `push` for `push_back` and a position for the front (`let a = \
             q[head]; head += 1;` for `pop_front`), or `pop` where the order may be last in, \
             first out"
        )
    } else {
        format!(
            "{what}: interior mutability is not followed (what is written into a `{ty}` and \
             read back later is a path the gradient would miss); keep the value in a local \
             variable (`let mut v = vec![0.0; 3]; v[0] = x;`, `let mut acc = 0.0; acc += x;`) \
             and pass it, or a reference to it, where it is needed"
        )
    }
}

/// The map, queue or cell a declared type names (`HashMap<usize, f64>`,
/// `Rc<RefCell<Vec<f64>>>`). `Cell` is one only by its path (`std::cell::Cell<f64>`): the
/// name alone may be a struct of the user's.
fn type_named(ty: &syn::Type) -> Option<&'static str> {
    let syn::Type::Path(tp) = ty else {
        return None;
    };
    let last = tp.path.segments.last()?;
    let s = last.ident.to_string();
    if OWNERS.contains(&s.as_str()) {
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        return match a.args.first()? {
            syn::GenericArgument::Type(t) => type_named(t),
            _ => None,
        };
    }
    let known = known(&s)?;
    (known != "Cell" || tp.path.segments.len() > 1).then_some(known)
}

/// The map, queue or cell an expression builds: `HashMap::new()`, `VecDeque::from(v)`,
/// `Rc::new(RefCell::new(..))`, `Cell::new(0.0)` (one argument: a struct of the user's named
/// `Cell` may have a `new` of its own).
fn built(e: &Expr) -> Option<&'static str> {
    let Expr::Call(call) = chain::strip(e) else {
        return None;
    };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let [.., ty, f] = segs.as_slice() else {
        return None;
    };
    if OWNERS.contains(&ty.as_str()) && f == "new" {
        return call.args.first().and_then(built);
    }
    let known = known(ty)?;
    let builds = matches!(
        f.as_str(),
        "new" | "with_capacity" | "from" | "from_iter" | "default" | "new_in"
    );
    (builds && (known != "Cell" || call.args.len() == 1)).then_some(known)
}

/// Sets, whose items are read through iterators only.
const SETS: &[&str] = &["HashSet", "BTreeSet", "IndexSet"];

impl Lowering {
    /// The map or set a loop's or a chain's source names, a parameter of such a type or a
    /// local made as one (`let m = HashMap::new();`), with its name: `counts` of
    /// `counts.iter()`, `&counts`, `*counts`.
    pub(super) fn map_variable(&self, e: &Expr) -> Option<(&'static str, String)> {
        let mut e = chain::strip(e);
        while let Expr::Reference(syn::ExprReference { expr, .. })
        | Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr,
            ..
        }) = e
        {
            e = chain::strip(expr);
        }
        let Expr::Path(p) = e else { return None };
        let id = p.path.get_ident()?;
        let slot = self.lookup(&id.to_string())?;
        let ty = match self.env[slot].unfollowed {
            Some((ty, _)) => ty,
            None => {
                let ValueDef::Param(n) = self.f.value(self.env[slot].value?).def else {
                    return None;
                };
                let mut ty = &self.f.params[n].ty;
                while let syn::Type::Reference(r) = ty {
                    ty = &r.elem;
                }
                let syn::Type::Path(tp) = ty else { return None };
                let last = tp.path.segments.last()?.ident.to_string();
                MAPS.iter().chain(SETS).find(|k| **k == last).copied()?
            }
        };
        (MAPS.contains(&ty) || SETS.contains(&ty)).then(|| (ty, id.to_string()))
    }
}

/// The error for a loop or an iterator chain over the map or set `name` of type `ty`.
pub(super) fn map_iteration_message(ty: &str, name: &str) -> String {
    let what = if SETS.contains(&ty) {
        format!(
            "the items of a `{ty}` are iterated as a slice: take them as one, `{name}: \
             &[usize]`, collected where the function is called \
             (`&{name}.iter().copied().collect::<Vec<_>>()`)"
        )
    } else {
        format!(
            "the entries of a `{ty}` are iterated through a `Vec` of its keys: collect them \
             first, `let keys: Vec<usize> = {name}.keys().copied().collect();` (`.cloned()` \
             for `String`s), loop over that and read each value by its key, `for &k in &keys \
             {{ let c = {name}[&k]; .. }}` (also `{name}.values().copied().collect()` for the \
             values alone)"
        )
    };
    format!(
        "{what}: loops and iterator chains here read their items by position, which a map \
         or a set does not have"
    )
}

fn known(s: &str) -> Option<&'static str> {
    MAPS.iter()
        .chain(QUEUES)
        .chain(CELLS)
        .find(|k| **k == s)
        .copied()
}

/// The variable an expression works on: the receiver of a method chain, the target of an
/// assignment, what a `*` or `&` reaches, the argument of `Rc::clone(&c)`; with `index`, also
/// the container of an element (`b[0] = x`, `m[&k]`).
fn root(e: &Expr, index: bool) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::MethodCall(mc) => root(&mc.receiver, index),
        Expr::Field(f) => root(&f.base, index),
        Expr::Index(i) if index => root(&i.expr, index),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => root(&u.expr, index),
        Expr::Reference(r) => root(&r.expr, index),
        Expr::Paren(p) => root(&p.expr, index),
        Expr::Try(t) => root(&t.expr, index),
        Expr::Assign(a) => root(&a.left, true),
        Expr::Binary(b) if super::is_compound_assign(&b.op) => root(&b.left, true),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return None;
            };
            let clone = p.path.segments.last().is_some_and(|s| s.ident == "clone");
            if clone && c.args.len() == 1 {
                root(&c.args[0], index)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The variable a `let` borrows or shares (`c.borrow_mut()`, `m.lock().unwrap()`,
/// `Rc::clone(&c)`, `&mut m`): a name bound to it works on the same map, queue or cell.
fn alias_root(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::MethodCall(mc)
            if matches!(
                mc.method.to_string().as_str(),
                "borrow"
                    | "borrow_mut"
                    | "try_borrow"
                    | "try_borrow_mut"
                    | "lock"
                    | "try_lock"
                    | "read"
                    | "write"
                    | "try_read"
                    | "try_write"
                    | "get_mut"
                    | "as_ref"
                    | "as_mut"
                    | "unwrap"
                    | "expect"
                    | "clone"
                    | "entry"
                    | "or_insert"
                    | "or_default"
                    | "or_insert_with"
            ) =>
        {
            alias_root(&mc.receiver)
        }
        Expr::Reference(r) => alias_root(&r.expr),
        Expr::Paren(p) => alias_root(&p.expr),
        Expr::Try(t) => alias_root(&t.expr),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return None;
            };
            let clone = p.path.segments.last().is_some_and(|s| s.ident == "clone");
            if clone && c.args.len() == 1 {
                alias_root(&c.args[0])
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A statement without blocks of its own: the errors its lowering reported are its own.
fn is_leaf(stmt: &Stmt) -> bool {
    fn braces(ts: TokenStream) -> bool {
        ts.into_iter().any(|tt| match tt {
            TokenTree::Group(g) => {
                g.delimiter() == proc_macro2::Delimiter::Brace || braces(g.stream())
            }
            _ => false,
        })
    }
    !braces(stmt.to_token_stream())
}
