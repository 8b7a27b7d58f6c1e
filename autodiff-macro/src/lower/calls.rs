//! Calls and methods: primitives of the table, methods run as written, container mutations
//! of places (`v.push(x)`), calls of functions (differentiated through their `_vjp`).

use super::*;

/// Methods that ask for the shape of an array, slice or `Vec` (`nrows`, `dim`, `len`): their
/// results are discrete, whatever the receiver holds.
const SHAPE_QUERIES: &[&str] = &[
    "nrows",
    "ncols",
    "shape",
    "dim",
    "raw_dim",
    "ndim",
    "len",
    "len_of",
    "is_empty",
    "strides",
    "is_square",
    "is_standard_layout",
    "capacity",
];

/// Methods of ndarray's arrays, `Vec`s, slices and floats without a derivative rule: on a field
/// they are not a user's method (the message about a method without a rule says what to write).
pub(crate) const LIBRARY_METHODS: &[&str] = &[
    "row",
    "column",
    "rows",
    "columns",
    "axis_iter",
    "outer_iter",
    "lanes",
    "diag",
    "map",
    "map_axis",
    "fold",
    "fold_axis",
    "indexed_iter",
    "product",
    "var",
    "std",
    "var_axis",
    "std_axis",
    "norm",
    "argmax",
    "argmin",
    "reversed_axes",
    "broadcast",
    "select",
    "to_shape",
    "into_dimensionality",
    "into_shape",
    "reshape",
    "as_standard_layout",
    "outer",
    "split_at",
    "cumsum",
    "pow",
    "iter",
    "into_iter",
    "values",
    "concat",
    "sort",
    "sorted",
    "abs_sub",
];

/// Methods of `Vec`s and ndarray's arrays that change them in place and that the derivative
/// does not follow as mutations: called as a statement on an element (`rows[i].extend(..)`),
/// they are not taken for a `&mut self` method of the user's.
const IN_PLACE_METHODS: &[&str] = &[
    "extend",
    "append",
    "retain",
    "retain_mut",
    "dedup",
    "dedup_by",
    "dedup_by_key",
    "drain",
    "splice",
    "sort",
    "sort_unstable",
    "sort_by",
    "sort_unstable_by",
    "sort_by_key",
    "sort_unstable_by_key",
    "sort_by_cached_key",
    "resize_with",
    "fill_with",
    "reserve",
    "shrink_to_fit",
    "scaled_add",
    "zip_mut_with",
    "map_inplace",
    "mapv_inplace",
    "par_map_inplace",
    "par_mapv_inplace",
    "iter_mut",
    "for_each",
];

/// Whether `name` is a method a library type has (ndarray's, a `Vec`'s, a slice's), under
/// which a struct of the user's is not looked for (see [`LIBRARY_METHODS`] and
/// [`IN_PLACE_METHODS`]).
pub(crate) fn library_method(name: &str) -> bool {
    LIBRARY_METHODS.contains(&name) || IN_PLACE_METHODS.contains(&name)
}

/// Methods of the integer types that `f32` and `f64` do not have, with no derivative: on a
/// value whose type the macro does not see (a field of a derived struct, `self.n.count_ones()`),
/// run as written on the value checked to be an integer.
pub(crate) fn integer_method(name: &str) -> bool {
    const PREFIXES: &[&str] = &["wrapping_", "saturating_", "checked_", "overflowing_"];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || matches!(
            name,
            "count_ones"
                | "count_zeros"
                | "leading_zeros"
                | "trailing_zeros"
                | "leading_ones"
                | "trailing_ones"
                | "unsigned_abs"
                | "abs_diff"
                | "is_power_of_two"
                | "next_power_of_two"
                | "ilog"
                | "ilog2"
                | "ilog10"
                | "isqrt"
                | "swap_bytes"
                | "reverse_bits"
                | "is_positive"
                | "is_negative"
        )
}

/// Methods that integers and floats both have, taking the receiver's type: given integers
/// (`k.max(1)`, `n.clamp(0, 7)`), the receiver is an integer.
pub(crate) fn same_type_method(name: &str) -> bool {
    matches!(name, "max" | "min" | "clamp" | "rem_euclid" | "div_euclid")
}

/// The arguments of a container method that are positions in it, and so integers: both of
/// `v.swap(k, p)` (each part of ndarray's `m.swap((k, j), (p, j))` or `m.swap([k, j], [p,
/// j])`), and the one of `remove`, `swap_remove`, `truncate`, `split_off` and of ndarray's
/// `row`, `column`, `row_mut` and `column_mut`. A position is often what a plain helper
/// returned (`let p = pivot_row(&m, k);`, swapped into place). Not `insert`'s first: a
/// struct of the user's may insert at a float (`queue.insert(priority, item)`).
pub(crate) fn position_arguments<'e>(
    name: &str,
    args: &'e syn::punctuated::Punctuated<Expr, syn::Token![,]>,
) -> Vec<&'e Expr> {
    let positions: Vec<&Expr> = match (name, args.len()) {
        ("swap", 2) => args.iter().collect(),
        (
            "remove" | "swap_remove" | "truncate" | "split_off" | "row" | "column" | "row_mut"
            | "column_mut",
            1,
        ) => args.iter().collect(),
        _ => Vec::new(),
    };
    positions
        .into_iter()
        .flat_map(|a| match a {
            Expr::Tuple(t) => t.elems.iter().collect(),
            Expr::Array(t) => t.elems.iter().collect(),
            a => vec![a],
        })
        .collect()
}

/// Changes of a slice in place whose names the integer types' methods have too, with the same
/// arguments: `k.rotate_left(n)` of an integer returns the rotated value.
fn integer_named(name: &str) -> bool {
    matches!(name, "rotate_left" | "rotate_right")
}

/// Methods of the integer types that `std::time::Duration` has too (`d.saturating_sub(e)`):
/// integers' only on a field of a derived struct, which holds no `Duration`.
pub(crate) fn duration_method(name: &str) -> bool {
    matches!(
        name,
        "checked_add"
            | "checked_sub"
            | "checked_mul"
            | "checked_div"
            | "saturating_add"
            | "saturating_sub"
            | "saturating_mul"
            | "abs_diff"
            | "checked_duration_since"
            | "saturating_duration_since"
    )
}

/// Whether `mc` may be a method of the user's own struct: a name that is no primitive, shape
/// query, container read or mutation, without a turbofish.
pub(super) fn is_user_method(mc: &syn::ExprMethodCall) -> bool {
    let name = mc.method.to_string();
    mc.turbofish.is_none()
        && PrimId::method(&name).is_none()
        && !prim::is_discrete_method(&name)
        && !integer_method(&name)
        && !is_shape_query(&name)
        && !prim::places::is_read(&name)
        && MutId::find(&name).is_none()
}

/// A method of the user's that no library type has under that name either: what a call on a
/// variable of the user's struct, or one passing it buffers, is taken to be.
pub(super) fn is_own_method(mc: &syn::ExprMethodCall) -> bool {
    is_user_method(mc) && !LIBRARY_METHODS.contains(&mc.method.to_string().as_str())
}

/// Names that a float type is often aliased by: a parameter of such a type is not taken for a
/// struct whose operators are its own methods (see `Lowering::struct_type_of`).
const FLOAT_ALIASES: &[&str] = &[
    "Real",
    "Float",
    "Scalar",
    "Num",
    "Number",
    "Fp",
    "Flt",
    "Precision",
    "Prec",
    "Elem",
    "Value",
];

/// Whether `ty` is a bare name floats are often aliased by (`Real` of `type Real = f64;`): a
/// result of such a type has a `_grad` whose bound says so where the name is something else.
pub fn is_float_alias(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|id| FLOAT_ALIASES.contains(&id.to_string().as_str())))
}

/// The element type of a slice, array or `Vec` type (behind a shared reference).
pub(super) fn elem_type(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Reference(r) if r.mutability.is_none() => elem_type(&r.elem),
        syn::Type::Slice(s) => Some(&s.elem),
        syn::Type::Array(a) => Some(&a.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// The container a chain takes its items from, through the adapters that pass the elements
/// on as they are (`iter`, `copied`, `filter`, `rev`, `skip`, ..) and a borrow: `ps` of
/// `ps.iter().copied().filter(..)` or `(&ps).into_iter()`.
fn elements_root(e: &Expr) -> &Expr {
    let mut e = chain::strip(e);
    while let Expr::MethodCall(step) = e
        && matches!(
            step.method.to_string().as_str(),
            "iter"
                | "into_iter"
                | "copied"
                | "cloned"
                | "filter"
                | "rev"
                | "skip"
                | "take"
                | "step_by"
                | "skip_while"
                | "take_while"
        )
    {
        e = chain::strip(&step.receiver);
    }
    match e {
        Expr::Reference(r) => chain::strip(&r.expr),
        e => e,
    }
}

/// Whether `mc` may be a method of the user's own struct on a receiver known to be such a
/// struct (a parameter of a struct type, or `self`): besides what [`is_user_method`] takes, the
/// names of array rules (`dot`, `sum`, `mean`, `t`, ..), which a struct's own methods often
/// have and no array rule fits (`a.dot(&b)` of a `Vec3`). `clone` and `to_owned` stay the
/// copies they are.
fn is_struct_method(mc: &syn::ExprMethodCall) -> bool {
    let name = mc.method.to_string();
    is_user_method(mc)
        || (mc.turbofish.is_none()
            && !matches!(name.as_str(), "clone" | "to_owned")
            && (PrimId::method(&name).is_some_and(|p| !p.has(Flags::FLOAT_RESULT))
                || is_shape_query(&name)
                || prim::places::is_read(&name)))
}

/// The declared result type of the method a call `Ty::m(..)` names, or of the function a call
/// `f(..)` names, where the module marked `#[differentiate]` being expanded declares it (see
/// `types::module_method_return`).
fn module_method(path: &syn::Path) -> Option<syn::Type> {
    let n = path.segments.len();
    let ty = match n {
        0 => return None,
        1 => None,
        _ => Some(path.segments[n - 2].ident.to_string()),
    };
    let name = path.segments[n - 1].ident.to_string();
    crate::types::module_result(ty.as_deref(), &name)
}

/// What the module marked `#[differentiate]` being expanded says of the result of the call
/// `path` names (see [`module_method`]): `Some(Some(ty))` for a struct it declares (or the
/// method's own type, `Self`), `Some(None)` for a type that is no struct (a float, an integer,
/// an array, a `Vec`, a tuple), `None` where it does not say (a function it does not declare,
/// a type from elsewhere, which may be an alias).
pub(super) fn module_result(path: &syn::Path) -> Option<Option<syn::Path>> {
    let ret = module_method(path)?;
    match crate::types::struct_path(&ret) {
        None => Some(None),
        Some(_) => module_struct(&ret).map(Some),
    }
}

/// `ty` as a struct that the module marked `#[differentiate]` being expanded declares (see
/// `expand_mod`): `V3` of `pos: V3`, `Self` in one of its `impl` blocks. A reference's
/// referent; nothing else (an array, a float, a type from elsewhere).
pub(super) fn module_struct(ty: &syn::Type) -> Option<syn::Path> {
    let (path, _) = crate::types::struct_path(ty)?;
    let last = path.segments.last()?;
    (matches!(last.arguments, syn::PathArguments::None)
        && crate::types::is_module_struct(&last.ident.to_string()))
    .then_some(path)
}

/// Whether `path` names an operator of a struct called by its own name (`V3::__ad_mul_f64`,
/// see `Lowering::module_op`).
fn scalar_right_call(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|l| {
        let n = l.ident.to_string();
        ["add", "sub", "mul", "div"]
            .iter()
            .any(|op| n.starts_with(&format!("__ad_{op}_")))
    })
}

/// `recv.method(args)` as the call `ty::method(recv, args)`, the type spanned at the method: an
/// error about the call (no `method_vjp`, a callee without `hessian`) is reported there, not
/// where the type was read (the literal or constructor that made a local, `let m = Decay { .. };`).
fn method_as_call(mc: &syn::ExprMethodCall, ty: syn::Path, recv: Expr) -> syn::ExprCall {
    let method = &mc.method;
    let ty = respan_path(&ty, method.span());
    syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(syn::parse_quote_spanned!(method.span()=> #ty::#method)),
        paren_token: Default::default(),
        args: std::iter::once(recv)
            .chain(mc.args.iter().cloned())
            .collect(),
    }
}

/// Marks the call a method call on a struct of the user's becomes (`p.scaled(k)`, the call
/// `Pt::scaled(&p, k)`) with an empty turbofish, `Pt::scaled::<>(&p, k)`: code generation passes
/// its receiver through the runtime's `receiver`, which gives the method `&p` where it takes
/// `&self` and a copy of `p` where it takes `self` (the macro sees the call, not the method).
fn mark_receiver(call: &mut syn::ExprCall) {
    if let Expr::Path(p) = &mut *call.func {
        mark_path(&mut p.path);
    }
}

/// The mark of [`mark_receiver`] on a call's path.
pub(super) fn mark_path(path: &mut syn::Path) {
    if let Some(last) = path.segments.last_mut()
        && last.arguments.is_none()
    {
        last.arguments = syn::PathArguments::AngleBracketed(syn::AngleBracketedGenericArguments {
            colon2_token: Some(Default::default()),
            lt_token: Default::default(),
            args: Default::default(),
            gt_token: Default::default(),
        });
    }
}

/// `path` with every token spanned at `span`.
fn respan_path(path: &syn::Path, span: Span) -> syn::Path {
    let tokens: TokenStream = path
        .to_token_stream()
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect();
    syn::parse2(tokens).unwrap_or_else(|_| path.clone())
}

/// Whether a type's name may be a struct of the user's: capitalized, and none of the standard
/// containers or ndarray's arrays (`Vec::new()` is no constructor of a user's type).
fn is_user_type_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_uppercase())
        && !n.starts_with("Array")
        && !matches!(
            n,
            "Vec" | "VecDeque" | "Option" | "Result" | "Box" | "String" | "HashMap" | "BTreeMap"
        )
}

/// A literal of a type that holds no float: an integer (not `7f64`), `bool`, `char` or string.
fn data_literal(e: &Expr) -> bool {
    match chain::strip(e) {
        Expr::Lit(l) => match &l.lit {
            syn::Lit::Int(i) => !i.suffix().starts_with('f'),
            syn::Lit::Bool(_) | syn::Lit::Char(_) | syn::Lit::Str(_) | syn::Lit::Byte(_) => true,
            _ => false,
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => data_literal(&u.expr),
        _ => false,
    }
}

/// Whether `fp(args)` calls a tuple struct's constructor: a type's name (`V`, `Self`,
/// `geom::V`), not an enum's variant (`Shape::Circle`) nor `Some`, `Ok`, `Err`, nor one of
/// ndarray's functions named like types that make a shape (`IxDyn(&[2, 2])`, `Dim(..)`,
/// `Ix2(r, c)`).
fn tuple_struct_call(fp: &syn::ExprPath, c: &syn::ExprCall) -> bool {
    let segs = &fp.path.segments;
    let Some(last) = segs.last().map(|s| s.ident.to_string()) else {
        return false;
    };
    let not_struct = matches!(
        &*last,
        "Some"
            | "Ok"
            | "Err"
            | "IxDyn"
            | "Dim"
            | "Ix0"
            | "Ix1"
            | "Ix2"
            | "Ix3"
            | "Ix4"
            | "Ix5"
            | "Ix6"
    );
    let ty = last == "Self" || (is_user_type_name(&last) && !not_struct);
    let enum_variant = segs.len() >= 2
        && segs[segs.len() - 2]
            .ident
            .to_string()
            .starts_with(|c: char| c.is_ascii_uppercase());
    fp.qself.is_none() && ty && !enum_variant && !c.args.is_empty()
}

/// `V(a, b)` (`Self(a, b)`, `geom::V(a, b)`): a tuple struct's constructor, as the literal
/// `V { 0: a, 1: b }` it stands for. A variant of an enum (`Shape::Circle(r)`) and `Some`,
/// `Ok`, `Err` are not.
fn tuple_struct_literal(fp: &syn::ExprPath, c: &syn::ExprCall) -> Option<syn::ExprStruct> {
    // Of integer literals only it holds nothing differentiated: a call as written (`Lcg(7)`).
    if !tuple_struct_call(fp, c) || c.args.iter().all(data_literal) {
        return None;
    }
    let path = &fp.path;
    let fields = c.args.iter().enumerate().map(|(i, a)| {
        let m = syn::Member::Unnamed(syn::Index::from(i));
        quote!(#m: #a)
    });
    syn::parse2(quote::quote_spanned!(c.span()=> #path { #(#fields),* })).ok()
}

/// Whether `path` calls one of the operator methods `ops` of a type: marked by
/// `struct_operator` (`V2::sub::<>`), or written through the type (`V2::sub(a, b)`).
fn operator_call(path: &syn::Path, ops: &[&str]) -> bool {
    path.segments.last().is_some_and(|l| {
        let plain = match &l.arguments {
            syn::PathArguments::None => true,
            syn::PathArguments::AngleBracketed(a) => a.args.is_empty(),
            syn::PathArguments::Parenthesized(_) => false,
        };
        plain && ops.iter().any(|m| l.ident == m)
    })
}

/// The user's struct that `e` builds, where it names it: a struct literal (`Neuron { .. }`) or
/// a constructor by its conventional name (`Neuron::new(..)`).
///
/// One whose fields are all integer, `bool`, `char` or string literals (`Noise { state: 7 }`,
/// `Lcg(7)`) has no float field, so it never holds a differentiated value: it is data, and its
/// methods run as written (a generator's `&mut self` `sample()`).
pub(super) fn built_struct(e: &Expr) -> Option<TokenStream> {
    match chain::strip(e) {
        Expr::Struct(es)
            if es.rest.is_some() || !es.fields.iter().all(|f| data_literal(&f.expr)) =>
        {
            let path = &es.path;
            Some(quote!(#path))
        }
        // A block whose value is a literal (`{ ..; S { ..s } }`, a struct update).
        Expr::Block(b) if b.label.is_none() => match b.block.stmts.last() {
            Some(Stmt::Expr(e, None)) => built_struct(e),
            _ => None,
        },
        // A unit struct's value, `let loss = Mse;`: a type's name (CamelCase, not a
        // constant's), as `Mse.loss(..)` is called through the type.
        Expr::Path(p)
            if p.qself.is_none()
                && p.path.get_ident().is_some_and(|id| {
                    let s = id.to_string();
                    is_user_type_name(&s)
                        && s.contains(|c: char| c.is_ascii_lowercase())
                        && s != "None"
                }) =>
        {
            let path = &p.path;
            Some(quote!(#path))
        }
        // `Quat::IDENTITY`, `V3::ZERO`: an associated constant named as a struct's special
        // values are (see `struct_constant_name`).
        Expr::Path(p) if p.qself.is_none() && struct_constant(&p.path) => {
            let n = p.path.segments.len() - 1;
            let ty = p.path.segments.iter().take(n);
            let lead = p.path.leading_colon;
            Some(quote!(#lead #(#ty)::*))
        }
        Expr::Call(c) => match chain::strip(&c.func) {
            Expr::Path(fp) if tuple_struct_literal(fp, c).is_some() => {
                let path = &fp.path;
                Some(quote!(#path))
            }
            Expr::Path(fp)
                if fp.qself.is_none()
                    && fp.path.segments.len() >= 2
                    && fp.path.segments.last().is_some_and(|s| {
                        let ty = fp.path.segments[fp.path.segments.len() - 2].ident.to_string();
                        s.ident == "new"
                            || (s.ident == "default" && c.args.is_empty())
                            || (constructor_name(&s.ident.to_string())
                                && (ty.len() > 1 || crate::types::one_letter_type(&ty))
                                && !FLOAT_ALIASES.contains(&ty.as_str()))
                    })
                    // `Default::default()` names the trait, not a type.
                    && fp.path.segments[fp.path.segments.len() - 2].ident != "Default"
                    && is_user_type_name(
                        &fp.path.segments[fp.path.segments.len() - 2]
                            .ident
                            .to_string(),
                    ) =>
            {
                let n = fp.path.segments.len() - 1;
                let ty = fp.path.segments.iter().take(n);
                let lead = fp.path.leading_colon;
                Some(quote!(#lead #(#ty)::*))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The name of an associated function that Rust code uses for a constructor returning `Self`
/// besides `new`: `new_unit`, `from_polar`, `from_axis_angle`, `with_mass`, `identity`,
/// `origin`, `unit_x`, `splat`, `polar`, `zero`. (A guess rustc checks: the struct's
/// operators are called through its type. Not on a type parameter or a float type's alias:
/// `T::from_f64(..)` is num-traits'.)
fn constructor_name(name: &str) -> bool {
    [
        "identity",
        "origin",
        "splat",
        "polar",
        "zero",
        "zeros",
        "one",
        "ones",
        "unit",
        "from",
        "diagonal",
        "rotation",
        "scaling",
        "translation",
    ]
    .contains(&name)
        || ["new_", "from_", "with_", "unit_"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// Whether `path` names an associated constant of a struct of the user's by a name such
/// constants have (`Quat::IDENTITY`, `geom::V3::ZERO`; see [`struct_constant_name`]): a value
/// of that struct, not a float constant.
pub fn struct_constant(path: &syn::Path) -> bool {
    let n = path.segments.len();
    n >= 2 && struct_constant_name(&path.segments[n - 1].ident.to_string()) && {
        let ty = path.segments[n - 2].ident.to_string();
        (ty.len() > 1 || crate::types::one_letter_type(&ty))
            && is_user_type_name(&ty)
            && !FLOAT_ALIASES.contains(&ty.as_str())
    }
}

/// The name of an associated constant that Rust code gives a struct's special values, of the
/// struct's type: `IDENTITY`, `ZERO`, `ONE`, `ORIGIN`, `ONES`, `ZEROS`, `UNIT_X`, `NEG_Y`
/// (glam's `Quat::IDENTITY`, `Vec3::ZERO`). Not a size (`Grid::N`, `Cam::N_PARAMS`), which
/// is no struct: a guess rustc checks, as [`constructor_name`]'s is.
fn struct_constant_name(name: &str) -> bool {
    matches!(
        name,
        "IDENTITY" | "ZERO" | "ZEROS" | "ONE" | "ONES" | "NEG_ONE" | "ORIGIN" | "UNIT"
    ) || (["UNIT_", "NEG_"].iter().any(|p| name.starts_with(p))
        && name.len() > 5
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
}

/// `s.w.b` of a variable or a chain of named fields of one, as the user wrote it.
pub(super) fn field_text(e: &Expr) -> Option<String> {
    match chain::strip(e) {
        Expr::Path(p) => Some(p.path.get_ident()?.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(m) => Some(format!("{}.{m}", field_text(&f.base)?)),
            syn::Member::Unnamed(i) => Some(format!("{}.{}", field_text(&f.base)?, i.index)),
        },
        _ => None,
    }
}

/// A row of a variable or of a field as written, `rows[i + 1]`, `s.rows[k]`.
pub(super) fn element_text(e: &Expr) -> Option<String> {
    match chain::strip(e) {
        Expr::Index(ix) => {
            let base = field_text(&ix.expr).or_else(|| element_text(&ix.expr))?;
            let index = ix.index.to_token_stream().to_string();
            Some(format!("{base}[{index}]"))
        }
        _ => None,
    }
}

/// Whether `e` is the receiver `self`.
fn is_self(e: &Expr) -> bool {
    matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident("self"))
}

/// Whether `name` is a shape query whose result the generated code checks to be a length, a
/// flag or a shape (the runtime's `ShapeQueryResult`): those whose results have one type on
/// every library type (not `dim` and `raw_dim`, whose types follow an array's dimension, which
/// may be generic, nor `strides`, also ndarray's builder of a shape with strides).
pub fn is_checked_shape_query(name: &str) -> bool {
    is_shape_query(name) && !matches!(name, "dim" | "raw_dim" | "strides")
}

/// Methods of `f32` and `f64` taking `self` or `&self` besides those with a float result (which
/// the primitives' table has): called through the type's path (`f64::sin_cos(x)`), they are the
/// method of their first argument.
const FLOAT_SELF_METHODS: &[&str] = &[
    "sin_cos",
    "total_cmp",
    "partial_cmp",
    "midpoint",
    "div_euclid",
    "abs_sub",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_sign_negative",
    "is_sign_positive",
    "classify",
    "to_bits",
];

/// Whether `name` is a shape query (see [`SHAPE_QUERIES`]).
pub fn is_shape_query(name: &str) -> bool {
    SHAPE_QUERIES.contains(&name)
}

impl Lowering {
    /// Whether `v.m(..)` has the arguments mutation `m` takes (else an error says so).
    pub(super) fn mutation_arity_ok(&mut self, mc: &syn::ExprMethodCall, m: MutId) -> bool {
        let def = m.def();
        if mc.args.len() == def.args.len() {
            return true;
        }
        // A set's `insert(x)` (`excluded.insert((i, j))` of a `HashSet` of pairs, data): a
        // `Vec`'s takes a position too, and a set holds no float (`f64` is not `Hash`, nor
        // `Ord`). It is made as written.
        if def.name == "insert" && mc.args.len() == 1 {
            return true;
        }
        self.err_at(
            &mc.method,
            format!(
                "`{}` takes {} argument(s) here, found {}",
                def.name,
                def.args.len(),
                mc.args.len()
            ),
        );
        false
    }

    /// Mutation `m` of `base` with the arguments of `mc`: the container's new version, then
    /// the value the method returns, if it returns one.
    pub(super) fn mutate(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        m: MutId,
        base: Value,
        unwrap: bool,
    ) -> Option<Vec<Value>> {
        let def = m.def();
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(self.expr(b, a, true)?);
        }
        let mut kind = self.kind(base);
        for (k, &a) in args.iter().enumerate() {
            if def.diff(k) {
                kind = kind.written(self.kind(a));
            }
        }
        let n = 1 + usize::from(def.returns());
        let i = self.f.push_inst(
            b,
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            },
            n,
            kind,
            mc.method.span(),
        );
        Some(self.f.inst(i).results.clone())
    }

    pub(super) fn method_call(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Value> {
        if let Some(e) = self.string_items_chain(mc) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = super::fields::element_or(mc).filter(|_| !self.map_get_or(mc)) {
            return self.expr(b, &e, true);
        }
        // A method of a window (`w.len()`, an ndarray vector's `w.mean()`), before the array
        // methods below take `w` for an array value.
        if mc.method != "iter"
            && mc.method != "into_iter"
            && self.window_named(&mc.receiver).is_some()
            && let Some(v) = self.window_method(b, mc)
        {
            return v;
        }
        if let Some(e) = self.data_row_mutation(mc) {
            return self.expr(b, &e, true);
        }
        // `c.borrow_mut().push(1.0)` (`m.lock().unwrap().push(..)`): a mutation through the
        // guard of a cell, which is data, run as written, the guard dropped at the end of the
        // statement as in the plain function (a differentiated value given to it is
        // `check::unfollowed`'s error).
        // So is a method of the user's on the guard (`self.rng.borrow_mut().next_f64()` of a
        // generator kept in a `RefCell` field): not one of the field's type.
        if (MutId::find(&mc.method.to_string()).is_some() || is_user_method(mc))
            && is_guard(&mc.receiver)
        {
            let tokens = Expr::MethodCall(mc.clone()).to_token_stream();
            let cell = guarded_cell(&mc.receiver);
            let root = match cell {
                Some(Expr::Path(p)) => p.path.get_ident().map(|id| id.to_string()),
                _ => None,
            };
            let outer = std::mem::replace(&mut self.guard_root, root);
            let v = self.opaque(b, tokens, Kind::Unknown, true, mc.method.span());
            self.guard_root = outer;
            if matches!(cell, Some(Expr::Field(_))) && mc.args.iter().all(|a| self.data_expr(a)) {
                let last = (0..self.f.insts.len())
                    .rev()
                    .find(|&k| matches!(self.f.insts[k].kind, InstKind::Opaque { .. }));
                self.f.data_guards.extend(last.map(|k| Inst(k as u32)));
            }
            return v;
        }
        if let Some(e) = view_from_shape(mc).filter(|(_, s)| !self.data_expr(s)) {
            return self.expr(b, &e.0, true);
        }
        if let Some(e) = array_from_shape_vec(mc, &self.krate) {
            return self.expr(b, &e, true);
        }
        if let Some(v) = self.join_method(b, mc) {
            return v;
        }
        if let Some(v) = self.fold_extremum(b, mc) {
            return v;
        }
        // `chain.reduce(f).is_some()` (`max_by`, …, `.is_none()`): whether the chain finds a
        // value, run as written; a test, data.
        if (mc.method == "is_some" || mc.method == "is_none")
            && mc.args.is_empty()
            && matches!(chain::strip(&mc.receiver), Expr::MethodCall(c) if {
                let c = match &*c.receiver {
                    Expr::MethodCall(inner) if c.method == "copied" || c.method == "cloned" => inner,
                    _ => c,
                };
                let name = c.method.to_string();
                (super::syntax::BEST_CONSUMERS.contains(&name.as_str()) || name == "last")
                    && matches!(&*c.receiver, Expr::MethodCall(_))
            })
        {
            let tokens = Expr::MethodCall(mc.clone()).to_token_stream();
            return self.opaque(b, tokens, Kind::Discrete, true, mc.method.span());
        }
        if super::fields::position_of_best(mc) {
            let tokens = Expr::MethodCall(mc.clone()).to_token_stream();
            return self.opaque(b, tokens, Kind::Discrete, true, mc.method.span());
        }
        let span = super::span::method_span(mc);
        let name = mc.method.to_string();
        // `layers.push(Neuron { .. })` on a local `Vec` whose elements' type is not known yet
        // (`Vec::new()`): it is a `Vec` of the struct, whose methods are followed on its
        // elements (`for l in &layers { l.fire(h) }`).
        if (name == "push" || name == "insert") && mc.turbofish.is_none() {
            if let (Expr::Path(p), Some(ty)) = (
                chain::strip(&mc.receiver),
                mc.args.last().and_then(|a| self.value_struct(a)),
            ) {
                let slot = p
                    .path
                    .get_ident()
                    .and_then(|id| self.lookup(&id.to_string()));
                if let Some(slot) = slot {
                    if self.env[slot].place_ty.is_none() && self.env[slot].elem_ty.is_none() {
                        self.env[slot].elem_ty = Some(ty);
                    }
                }
            }
        }
        // `v.as_slice()`, `v.as_ref()` of a `Vec` (ndarray's `as_slice` returns an `Option`,
        // whose `unwrap` is read below): the whole of it, `&v[..]`.
        if matches!(name.as_str(), "as_slice" | "as_ref")
            && mc.args.is_empty()
            && mc.turbofish.is_none()
            && !self.is_array_variable(&mc.receiver)
            && !self.read_from_data_param(&mc.receiver)
        {
            let recv = &mc.receiver;
            let e: Expr = syn::parse_quote_spanned!(span=> &#recv[..]);
            return self.expr(b, &e, true);
        }
        // `pos.as_flattened()` of rows of fixed-size arrays (`&[[f64; 3]]`): their elements in
        // order, the copy `pos.iter().flatten().copied().collect()` lent, whose chain is
        // followed (one allocation the plain function does not make).
        if name == "as_flattened"
            && mc.args.is_empty()
            && mc.turbofish.is_none()
            && !is_self(&mc.receiver)
            && self.known_struct_expr(&mc.receiver).is_none()
        {
            let recv = &mc.receiver;
            let e: Expr = syn::parse_quote_spanned!(span=> &{
                let __ad_flat: ::std::vec::Vec<_> = #recv.iter().flatten().copied().collect();
                __ad_flat
            });
            return self.expr(b, &e, true);
        }
        // `chain.max_by(..).unwrap()`, `x.mean().unwrap()`, `v.pop().unwrap()`.
        if (name == "unwrap" || name == "expect") && mc.turbofish.is_none() {
            if let Expr::MethodCall(inner) = &*mc.receiver {
                if let Some(v) = self.chain_consumer(b, inner, true) {
                    return v;
                }
                if let Some(m) = MutId::find(&inner.method.to_string()) {
                    if m.def().option() && inner.turbofish.is_none() {
                        return self.mutation(b, inner, m, true);
                    }
                }
                // `a.as_slice().unwrap()` of an array: its elements in row-major order as a
                // `Vec`, lent (`&a.flatten().to_vec()`), whose adjoint goes back through
                // `flatten`'s rule. (ndarray's returns `None` for an array not in standard
                // layout, where the copy has the elements all the same.)
                if inner.method == "as_slice" && inner.args.is_empty() && inner.turbofish.is_none()
                {
                    let recv = &inner.receiver;
                    let e: Expr = syn::parse_quote_spanned!(span=> &#recv.flatten().to_vec());
                    return self.expr(b, &e, true);
                }
                if (inner.method == "mean"
                    || inner.method == "mean_axis"
                    || inner.method == "into_shape_with_order"
                    || inner.method == "broadcast")
                    && inner.turbofish.is_none()
                {
                    let recv = self.place_expr(b, &inner.receiver)?;
                    let mut args = Vec::new();
                    for a in &inner.args {
                        args.push(self.expr(b, a, true)?);
                    }
                    let root = self.mutable_root(&inner.receiver);
                    return self.method(b, inner.method.clone(), recv, args, true, root, span);
                }
            }
        }
        // `a.product()` of an ndarray parameter is the product of its elements,
        // `a.iter().product::<A>()` with `A` its declared element type (in row-major order, the
        // same up to rounding), which is followed; `let p: f64 = a.product();` of any array is
        // written so where it is declared (see `stmts::typed_let`).
        if name == "product"
            && mc.args.is_empty()
            && mc.turbofish.is_none()
            && chain::parse_chain(&mc.receiver, false).is_none()
        {
            let elem = self
                .variable_value(&mc.receiver)
                .and_then(|v| match self.f.value(v).def {
                    ValueDef::Param(n) => crate::types::ndarray_elem(&self.f.params[n].ty),
                    _ => None,
                });
            if let Some(elem) = elem {
                let recv = &mc.receiver;
                let e: Expr = syn::parse_quote_spanned!(span=> #recv.iter().product::<#elem>());
                return self.expr(b, &e, true);
            }
            let local = self
                .variable_value(&mc.receiver)
                .is_none_or(|v| !matches!(self.f.value(v).def, ValueDef::Param(_)));
            if local && self.may_be_array(&mc.receiver) {
                self.err_at(
                    &mc.method,
                    "`a.product()` of an ndarray array is followed where the type of its elements \
                     is known: of a parameter declared with it (`x: &Array1<f64>`), or where the \
                     product is declared with its type (`let p: f64 = a.product();`); else \
                     write `a.iter().product::<f64>()`",
                );
                return None;
            }
        }
        // `a.reversed_axes()` (which takes `a` by value) is the transpose `a.t()` as an owned
        // array: the same elements at the same indices, differentiated by the `t` rule.
        if name == "reversed_axes"
            && mc.args.is_empty()
            && mc.turbofish.is_none()
            && self.may_be_array(&mc.receiver)
        {
            let recv = &mc.receiver;
            let e: Expr = syn::parse_quote_spanned!(span=> #recv.t().to_owned());
            return self.expr(b, &e, true);
        }
        // `a.slice(..).fold(init, |m, &v| ..)` (of a `row`, `column`, `view`, `t` or
        // `index_axis` too), a fold over the elements of an array view, and
        // `a.sum_axis(Axis(0)).fold(..)` (`mean_axis`, `mapv`, `dot`, `diag`, `to_owned` of an
        // array variable), a fold over a new array made from one: the fold of its elements in
        // row-major order, `{ let v = a.slice(..); v.iter().fold(..) }`, which is followed.
        if name == "fold" && mc.args.len() == 2 && mc.turbofish.is_none() {
            // ndarray's `fold` visits the elements in memory order where the array is
            // contiguous (column-major for a transposed or `.f()` array, backwards for a
            // reversed one): the same as `a.iter()` (row-major) only for a fold whose result
            // does not depend on the order. Any other is an error, not a gradient of a fold in
            // another order.
            let view = matches!(chain::strip(&mc.receiver), Expr::MethodCall(inner)
            if matches!(
                inner.method.to_string().as_str(),
                "slice" | "row" | "column" | "view" | "t" | "index_axis"
            ) || (matches!(
                inner.method.to_string().as_str(),
                "sum_axis" | "mean_axis" | "mapv" | "dot" | "diag" | "to_owned"
            ) && (self.is_array_variable(&inner.receiver)
                || self.is_local_array(&inner.receiver)
                // Methods only ndarray's arrays have, on an array made in the expression
                // (`a.mapv(f).mapv(g).fold(..)`).
                || matches!(
                    inner.method.to_string().as_str(),
                    "mapv" | "sum_axis" | "mean_axis" | "dot"
                ))))
                // An array made by arithmetic (`(&a * &b).fold(..)`: an iterator has none) or
                // by ndarray's constructors (`Array1::from_iter(..).fold(..)`).
                || matches!(chain::strip(&mc.receiver), Expr::Binary(_))
                || matches!(chain::strip(&mc.receiver), Expr::Call(c)
                    if matches!(&*c.func, Expr::Path(p) if p.path.segments.first().is_some_and(|s| {
                        let s = s.ident.to_string();
                        s.starts_with("Array") || s == "ndarray"
                    })));
            let followed =
                self.is_array_variable(&mc.receiver) || self.is_local_array(&mc.receiver) || view;
            if followed && !order_free_fold(&mc.args[1]) {
                self.err_at(
                    &mc.method,
                    "`a.fold(init, |m, &v| ..)` of an ndarray array visits the elements in an \
                     order ndarray does not promise (memory order: column-major for a \
                     transposed or `.f()` array, backwards for a reversed one), so only a fold \
                     whose result does not depend on the order is followed: `m + ..`, \
                     `m * ..`, `m - ..`, `m.max(..)`, `m.min(..)`, with `..` not reading `m`; \
                     for another fold write `a.iter().fold(init, |m, &v| ..)`, which visits \
                     the elements in row-major order",
                );
                return None;
            }
            // `a.fold(init, |m, &v| ..)` of a parameter of an ndarray type, or of a local
            // holding a differentiated array (the only differentiated local with a two-argument
            // `fold`: an iterator kept in a variable is written where it is used), is the
            // same fold over `a.iter()` (row-major order), which is followed.
            if self.is_array_variable(&mc.receiver) || self.is_local_array(&mc.receiver) {
                let (recv, args) = (&mc.receiver, &mc.args);
                let e: Expr = syn::parse_quote_spanned!(span=> #recv.iter().fold(#args));
                return self.expr(b, &e, true);
            }
            if view {
                let (recv, args) = (&mc.receiver, &mc.args);
                let v = syn::Ident::new("__ad_folded", span);
                let e: Expr = syn::parse_quote_spanned!(span=> {
                    let #v = #recv;
                    #v.iter().fold(#args)
                });
                return self.expr(b, &e, true);
            }
        }
        // `a.row(i)` and `a.column(j)` of a matrix are the regions `a.slice(s![i, ..])` and
        // `a.slice(s![.., j])`: the same views, differentiated by the `slice` rule. The index is
        // cast to `usize`, as `row` takes it: `s!` infers the view's dimension from the index's
        // type, and an integer literal (`a.row(0)`) would leave it open until the end of type
        // checking, too late for a method called on the view (`a.row(0).dot(&w)`).
        if (name == "row" || name == "column")
            && mc.args.len() == 1
            && mc.turbofish.is_none()
            && self.may_be_array(&mc.receiver)
        {
            let k = self.krate.clone();
            let index = &mc.args[0];
            let i: Expr = syn::parse_quote_spanned!(index.span()=> (#index) as usize);
            let region: Expr = match name.as_str() {
                "row" => syn::parse_quote_spanned!(span=> #k::__private::s![#i, ..]),
                _ => syn::parse_quote_spanned!(span=> #k::__private::s![.., #i]),
            };
            let mut slice = mc.clone();
            slice.method = syn::Ident::new("slice", mc.method.span());
            slice.args = std::iter::once(region).collect();
            return self.method_call(b, &slice);
        }
        // `a.diag()` of a matrix: the diagonal copied element by element, `d[i] = a[[i, i]]`,
        // so that its adjoint lands on the diagonal (the copy starts as the first column's
        // head, none where the matrix has no column, every element of which is then
        // overwritten).
        if name == "diag"
            && mc.args.is_empty()
            && mc.turbofish.is_none()
            && !matches!(chain::strip(&mc.receiver), Expr::Path(p) if p.path.is_ident("self"))
            && self.may_be_array(&mc.receiver)
        {
            let k = self.krate.clone();
            let recv = &mc.receiver;
            let a = syn::Ident::new("__ad_matrix", span);
            // A variable is named as it is, a field borrowed, anything else computed once.
            let bind: Stmt = match chain::strip(recv) {
                Expr::Path(_) => syn::parse_quote_spanned!(span=> let #a = &#recv;),
                Expr::Field(_) => syn::parse_quote_spanned!(span=> let #a = &#recv;),
                _ => syn::parse_quote_spanned!(span=> let #a = #recv;),
            };
            let diag: Expr = syn::parse_quote_spanned! {span=> {
                #bind
                let __ad_n = #a.nrows().min(#a.ncols());
                let mut __ad_diag = #a
                    .slice(#k::__private::s![..__ad_n, ..__ad_n.min(1)])
                    .to_owned()
                    .into_shape_with_order(__ad_n)
                    .unwrap();
                for __ad_i in 0..__ad_n {
                    __ad_diag[__ad_i] = #a[[__ad_i, __ad_i]];
                }
                __ad_diag
            }};
            return self.expr(b, &diag, true);
        }
        if let Some(e) = map_axis_of_matrix(mc, &self.krate) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = variance(mc, &self.krate) {
            return self.expr(b, &e, true);
        }
        if let Some(v) = self.sort_by(b, mc) {
            return v;
        }
        if let Some(v) = self.chain_consumer(b, mc, false) {
            return v;
        }
        if let Some(v) = self.window_method(b, mc) {
            return v;
        }
        if let Some(w) = super::array_windows::windows_call(&Expr::MethodCall(mc.clone()))
            && (w.method != "windows"
                || super::array_windows::of_array_of_axes(w)
                || self.known_rank(&w.receiver) >= 2)
        {
            self.err_at(&mc.method, super::array_windows::ARRAY_WINDOWS_FORM);
            return None;
        }
        if chain::parse_chain(&mc.receiver, false).is_some()
            || matches!(
                name.as_str(),
                "iter"
                    | "into_iter"
                    | "iter_mut"
                    | "windows"
                    | "chunks"
                    | "chunks_exact"
                    | "rchunks"
                    | "rchunks_exact"
            ) && !mc.args.iter().any(closures::is_closure_like)
                && chain::parse_chain(&Expr::MethodCall(mc.clone()), false).is_some()
        {
            self.err_at(
                &mc.method,
                format!(
                    "an iterator is supported where it is consumed: loop over it with `for`, or \
                     end the chain with a consumer in the same expression; one kept in a \
                     variable (`let it = x.iter().map(..);`) is followed where it is used once, \
                     later in the same block (`for v in it`, `while let Some(v) = it.next()`, \
                     `it.sum()`), and no name it reads is assigned, declared again, borrowed `&mut` \
                     or given to a method before that use; supported: {}",
                    chain::SUPPORTED
                ),
            );
            return None;
        }
        if let Some(v) = self.elementwise(b, mc) {
            return v;
        }
        if mc.turbofish.is_some() || mc.args.iter().any(closures::is_closure_like) {
            return self.method_as_written(b, mc);
        }
        if name == "extend" && mc.args.len() == 1 && self.mutable_root(&mc.receiver).is_some() {
            if let Some(c) = chain::parse_chain(&mc.args[0], true) {
                self.chain_extend(b, mc, &c);
                return None;
            }
        }
        // `v.reserve(n)`, `v.shrink_to_fit()`: the capacity alone changes, not one value; the
        // generated code has no use for them (its containers are its own).
        if matches!(
            name.as_str(),
            "reserve" | "reserve_exact" | "shrink_to_fit" | "shrink_to"
        ) && self.mutable_root(&mc.receiver).is_some()
        {
            return None;
        }
        if let Some(e) = self.struct_vec_resize(mc) {
            return self.expr(b, &e, false);
        }
        if let Some(m) = MutId::find(&name) {
            // Not on a variable holding a struct of the user's (`f.push(x)` of the struct's own
            // `fn push(&mut self, x: f64)`, on `let mut f = f0.clone();`), and not where the
            // value of a change that returns nothing is used: `w = w.rotate_left(1) & 15` is
            // the integer types' `rotate_left`, which returns the rotated value and leaves `w`
            // as it is (a slice's rotates in place and returns `()`).
            if (self.mutable_root(&mc.receiver).is_some()
                || self.cell_named(&mc.receiver).is_some())
                && !self.holds_user_struct(&mc.receiver)
                && (m.def().returns() || self.dropped_method || !integer_named(&name))
            {
                return self.mutation(b, mc, m, false);
            }
        }
        if is_self(&mc.receiver)
            && (PrimId::method(&name).is_none() || is_struct_method(mc))
            && !prim::is_discrete_method(&name)
            && !is_shape_query(&name)
        {
            // `self.g(x)` in a method is `Self::g(self, x)`: a call, differentiated through
            // `Self::g_vjp` like any other. The receiver is marked (see `mark_receiver`), since
            // `g` may take it otherwise than the method does: in a method taking `self` by
            // value, `g` may take `&self` (the receiver is lent), and in one taking `&self`, `g`
            // may take `self` by value (`fn omega(self)` of a `Copy` struct, which plain Rust
            // copies; the generated code was given `&Self` there).
            let ty: syn::Path = syn::parse_quote_spanned!(mc.method.span()=> Self);
            let owned = self
                .f
                .params
                .iter()
                .any(|p| p.ident == "self" && !matches!(p.ty, syn::Type::Reference(_)));
            let r = &mc.receiver;
            let recv: Expr = if owned {
                syn::parse_quote_spanned!(r.span()=> &#r)
            } else {
                (**r).clone()
            };
            let mut call = method_as_call(mc, ty, recv);
            mark_receiver(&mut call);
            return self.call(b, &call);
        }
        // On a struct built from data only, given data only: as written (see `data_method`).
        let data = self.data_method(mc);
        if let Some(mut call) = (!data)
            .then(|| self.struct_method(mc).or_else(|| self.field_method(mc)))
            .flatten()
        {
            mark_receiver(&mut call);
            return self.call(b, &call);
        }
        let recv = self.place_expr(b, &mc.receiver);
        if let (Some(r), Some(ty), false) = (recv, self.made_by_struct_method(recv, mc), data) {
            // `a.sub(b).norm()`, `let d = a.sub(b); d.norm()`: a method of the struct whose
            // method made the receiver, called through its type like one on a parameter, the
            // receiver lent (see `mark_receiver`).
            let k = self.kind(r);
            let mut args = vec![self.inst1(b, InstKind::Ref(r), k, span)];
            for a in &mc.args {
                // A loop variable that is a reference to the element (`x` of `for x in
                // xs.iter()`) is passed as one, as in any call (see `Lowering::call`).
                let mut v = self.expr(b, a, true)?;
                for _ in 0..self.path_refs(a) {
                    let k = self.kind(v);
                    v = self.inst1(b, InstKind::Ref(v), k, span);
                }
                args.push(v);
            }
            let mut call = method_as_call(mc, ty, (*mc.receiver).clone());
            mark_receiver(&mut call);
            let Expr::Path(fp) = &*call.func else {
                unreachable!("method_as_call makes a path call")
            };
            return Some(self.inst1(
                b,
                InstKind::Call {
                    path: fp.path.clone(),
                    args,
                },
                Kind::Unknown,
                span,
            ));
        }
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(match a {
                // `v.drain(1..)`, `v.get(1..3)`: a range of indices, run as written.
                Expr::Range(_) => self.opaque(b, a.to_token_stream(), Kind::Discrete, true, span),
                a => self.expr(b, a, true),
            });
        }
        let recv = recv?;
        let args = args.into_iter().collect::<Option<Vec<Value>>>()?;
        // A method of data given the item of a loop over a container of data (`id` of `for id
        // in clicks`, an `&u64` in Rust, its value here): lent as the source lends it,
        // `seen.contains(id)`.
        let args = if PrimId::method(&mc.method.to_string()).is_none() {
            self.lent_items(b, &mc.args, args, span)
        } else {
            args
        };
        let root = self.mutable_root(&mc.receiver);
        // A method called as a statement on an element or a field of a `mut` variable of data
        // (`rows[0].shift();` with the user's `fn shift(&mut self)`) may change it: the
        // element is read as an owned copy, which the method changes, and written back.
        // (Called on the element read, the method changed a copy that nothing wrote back.)
        // Not a float element, nor a method with a derivative rule.
        let name = mc.method.to_string();
        let dropped = std::mem::take(&mut self.dropped_method);
        if dropped
            && root.is_some()
            && match fields::strip_parens(&mc.receiver) {
                // Not a part, `v[1..]`.
                Expr::Index(ix) => !matches!(fields::strip_parens(&ix.index), Expr::Range(_)),
                Expr::Field(_) => true,
                _ => false,
            }
            && PrimId::method(&name).is_none()
            && !crate::ir::reads_only(&name)
            && self.kind(recv) != Kind::Float
        {
            let owned = self.owned_place(b, &mc.receiver)?;
            self.f.values[owned.index()].name = Some("__ad_elem".into());
            self.f.mutable_names.insert("__ad_elem".into());
            let r = self.method(b, mc.method.clone(), owned, args, false, root, span);
            self.assign_place(b, &mc.receiver, owned);
            return r;
        }
        self.method(b, mc.method.clone(), recv, args, false, root, span)
    }

    /// The struct of the user's that `v` is known to be of, for an operator on it: a parameter
    /// of a struct type, or what an operator of such a struct returned (`(a - b) * 2.0`). What
    /// its other methods return is not taken for one (a layer's `forward` returns an array,
    /// which `h + &b` adds to as such).
    pub(super) fn struct_type_of(&self, v: Value) -> Option<syn::Path> {
        if let Some((_, ty)) = self.struct_values.iter().find(|(u, _)| *u == v) {
            return Some(ty.clone());
        }
        // A value a loop carries, in the loop and after it, is of the type it had before the
        // loop (`let mut d = a - b;` then `d.x += ..` in a loop).
        if let Some(&(_, init)) = self.carried_init.iter().find(|(u, _)| *u == v) {
            return self.struct_type_of(init);
        }
        if let ValueDef::Result(i, k) = self.f.value(v).def
            && let InstKind::Loop { init, .. } = &self.f.inst(i).kind
        {
            return self.struct_type_of(*init.get(k)?);
        }
        match self.f.value(v).def {
            ValueDef::Param(n) => self.user_struct(&self.f.params.get(n)?.ty),
            // What an `if` or a `match` yields (`let mut s = if c { a } else { b };`): the
            // struct the branches that yield one give, where they agree (Rust gives every
            // branch one type, so a branch the macro knows nothing of, `V3::default()` beside
            // `ps[k]`, is of it too).
            ValueDef::Result(i, k)
                if matches!(
                    self.f.inst(i).kind,
                    InstKind::If { .. } | InstKind::Match { .. }
                ) =>
            {
                let tys: Vec<syn::Path> = self
                    .f
                    .inst_blocks(i)
                    .into_iter()
                    .filter_map(|b| self.f.yielded(b, k))
                    .filter_map(|y| self.struct_type_of(y))
                    .collect();
                let first = tys.first()?.clone();
                tys.iter().all(|t| *t == first).then_some(first)
            }
            ValueDef::Result(i, 0) => match &self.f.inst(i).kind {
                InstKind::Ref(u) | InstKind::Deref(u) => self.struct_type_of(*u),
                // A copy (`p.clone() - q.clone() * 0.5` of parameters taken by reference, the
                // usual way to apply a struct's operators to them).
                InstKind::Prim { prim, args, .. }
                    if matches!(prim.name(), "clone" | "to_owned") =>
                {
                    self.struct_type_of(*args.first()?)
                }
                // `ps[i] - ps[j]` of `ps: &[V2]` (a `Vec` or an array of them).
                InstKind::Index(base, _) => match self.f.value(*base).def {
                    ValueDef::Param(n) => self.user_struct(elem_type(&self.f.params.get(n)?.ty)?),
                    // `self.bodies[i]` of a field `bodies: Vec<Body>`, where the module marked
                    // `#[differentiate]` around the function declares the struct.
                    ValueDef::Result(j, 0) => match &self.f.inst(j).kind {
                        InstKind::FieldRef(owner, name) => {
                            let ty = self.module_field_type(*owner, name)?;
                            module_struct(elem_type(&ty)?)
                        }
                        // An element of what a function or method of the module returned
                        // (`p[i]` of `let p = self.corners();`), by its declared result.
                        _ => module_struct(elem_type(&self.module_value_type(*base)?)?),
                    },
                    _ => None,
                },
                // A field of a struct type (`b.pos` of `pos: V3`), where the module marked
                // `#[differentiate]` around the function declares both structs.
                InstKind::FieldRef(owner, name) => {
                    module_struct(&self.module_field_type(*owner, name)?)
                }
                // A result the module declares a float (a dot product written as `*`) is not
                // the struct.
                InstKind::Call { .. } if self.kind(v) == Kind::Float => None,
                InstKind::Call { path, .. }
                    if operator_call(path, &["add", "sub", "mul", "div", "neg"])
                        || scalar_right_call(path) =>
                {
                    self.struct_of_call(path)
                }
                // What a method or a function whose result type the module marked
                // `#[differentiate]` around the function declares returned (`self.u.cross(&p) *
                // 2.0`, `s + k1 * h` of `let k1 = rate(&s);`, `let q = p.moved(dt);`).
                InstKind::Call { path, .. } if module_result(path).is_some() => {
                    module_result(path)?
                }
                // A part of a tuple one returned (`let (e, q) = p.split(dt);`).
                InstKind::Field(base, member) => {
                    let ValueDef::Result(j, 0) = self.f.value(*base).def else {
                        return None;
                    };
                    let InstKind::Call { path, .. } = &self.f.inst(j).kind else {
                        return None;
                    };
                    let syn::Type::Tuple(t) = module_method(path)? else {
                        return None;
                    };
                    module_struct(t.elems.iter().nth(*member as usize)?)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The declared type of the field `name` of `owner`, where the module marked
    /// `#[differentiate]` around the function declares `owner`'s struct (see `expand_mod`).
    pub(super) fn module_field_type(&self, owner: Value, name: &syn::Ident) -> Option<syn::Type> {
        let owner = self.struct_type_of(owner)?;
        let owner = owner.segments.last()?.ident.to_string();
        crate::types::module_field_type(&owner, &name.to_string())
    }

    /// The struct of the module marked `#[differentiate]` around the function that the place
    /// `e` holds: a field of a struct type (`b.vel`, `self.pos`), an element of a field holding
    /// a container of one (`self.bodies[i]`), or a variable known to hold one. Outside such a
    /// module the macro sees no field's type, and this is `None`.
    pub(super) fn module_place_struct(&self, e: &Expr) -> Option<syn::Path> {
        module_struct(&self.module_place_type(e)?)
    }

    /// The type `v` has by the declarations the module marked `#[differentiate]` around the
    /// function shows: a struct [`Self::struct_type_of`] knows, a field of one by its declared
    /// type (`g.rows` of `rows: Vec<Vec<P2>>`), an element of such a field (`row` of
    /// `g.rows.iter().map(|row| ..)`, a `Vec<P2>` whose windows hold `P2`s), a borrow or a
    /// copy of one. `None` outside such a module.
    pub(super) fn module_value_type(&self, v: Value) -> Option<syn::Type> {
        if let Some(ty) = self.struct_type_of(v) {
            return module_struct(&syn::parse_quote!(#ty)).map(|p| syn::parse_quote!(#p));
        }
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return None;
        };
        match &self.f.inst(i).kind {
            InstKind::Ref(u) | InstKind::Deref(u) => self.module_value_type(*u),
            InstKind::Prim { prim, args, .. }
                if matches!(prim.name(), "clone" | "to_owned" | "to_vec") =>
            {
                self.module_value_type(*args.first()?)
            }
            InstKind::Index(base, _) => elem_type(&self.module_value_type(*base)?).cloned(),
            // What a function or method of the module returns, by its declared result.
            InstKind::Call { path, .. } => module_method(path),
            InstKind::FieldRef(owner, name) => self.module_field_type(*owner, name),
            _ => None,
        }
    }

    /// The declared type of the place `e` (see [`Self::module_place_struct`]).
    fn module_place_type(&self, e: &Expr) -> Option<syn::Type> {
        match chain::strip(e) {
            Expr::Path(_) => {
                let ty = (self.variable_value(e).and_then(|v| self.struct_type_of(v)))
                    .or_else(|| self.struct_var(e));
                match ty {
                    Some(ty) => Some(syn::parse_quote!(#ty)),
                    None => self.module_value_type(self.variable_value(e)?),
                }
            }
            Expr::Field(fe) => {
                let owner = self.module_place_type(&fe.base)?;
                let (owner, _) = crate::types::struct_path(&owner)?;
                let owner = owner.segments.last()?.ident.to_string();
                let field = match &fe.member {
                    syn::Member::Named(id) => id.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                crate::types::module_field_type(&owner, &field)
            }
            Expr::Index(ix) if !matches!(chain::strip(&ix.index), Expr::Range(_)) => {
                // An element of a container the macro knows the elements of (`qs[i]` of `let
                // mut qs = ps.to_vec();`), or of a field holding them (`w.bodies[i]`).
                if let Some(ty) = self.container_struct(&ix.expr) {
                    return Some(syn::parse_quote!(#ty));
                }
                elem_type(&self.module_place_type(&ix.expr)?).cloned()
            }
            _ => None,
        }
    }

    /// Whether `v` is what a struct's `*` or `/` of two structs returned, which may be a float
    /// rather than the struct (a dot product written as `*`, `impl Mul for V3 { type Output =
    /// f64; }`): beside a float in another operator (`d * d + 0.01`), it is taken for one. (A
    /// struct times a float, `v * dt`, is the struct.)
    pub(super) fn struct_product(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        matches!(&self.f.inst(i).kind, InstKind::Call { path, args }
            if operator_call(path, &["mul", "div"])
                && self.struct_of_call(path).is_some()
                && args.len() == 2
                && self.struct_type_of(args[1]).is_some())
    }

    /// The struct of the user's that an operand `e` (lowered to `v`) is known to be of, for
    /// an operator on it: what [`Self::struct_type_of`] knows of `v`, a variable holding one
    /// ([`Self::struct_var`]), an element of a local container of them
    /// ([`Self::element_struct`]), or a literal or constructor of one.
    pub(super) fn operand_struct(&self, v: Value, e: &Expr) -> Option<syn::Path> {
        self.struct_type_of(v)
            .or_else(|| self.struct_var(e))
            // A copy of such a variable (`s.clone() + k1.clone() * h` of locals of a
            // non-`Copy` struct).
            .or_else(|| match chain::strip(e) {
                Expr::MethodCall(mc)
                    if mc.args.is_empty()
                        && matches!(mc.method.to_string().as_str(), "clone" | "to_owned") =>
                {
                    self.struct_var(&mc.receiver)
                        .or_else(|| self.element_struct(&mc.receiver))
                }
                _ => None,
            })
            .or_else(|| self.element_struct(e))
            // Built where it is used: `V2::new(a, b) * 0.5`, `V2 { .. } - v`.
            .or_else(|| self.built_user_struct(&syn::parse2(built_struct(e)?).ok()?))
            // A field of a struct type in a module marked `#[differentiate]`, of an item of a
            // loop over a container of the struct (`b.pos` of `for b in bodies.iter()`).
            .or_else(|| self.module_place_struct(e))
    }

    /// The struct of the user's that `vs[i]` is, where `vs` is a local container whose
    /// elements the macro knows to be one (`let mut vs: Vec<V2> = Vec::new();`, `vec![V2 {
    /// .. }, ..]`, `vec![a, b]` of such locals, a push of one): `vs[0] - vs[1]` is then the
    /// struct's `Sub::sub`, as it is on the elements of a parameter `ps: &[V2]`.
    pub(super) fn element_struct(&self, e: &Expr) -> Option<syn::Path> {
        let Expr::Index(ix) = chain::strip(e) else {
            return None;
        };
        if matches!(chain::strip(&ix.index), Expr::Range(_)) {
            return None;
        }
        self.container_struct(&ix.expr)
    }

    /// The user's struct whose values a chain collected into a `Vec` gives: the elements of a
    /// container of it (`ps.iter().copied()`, `.filter(..)`), or what the last `map`'s closure
    /// makes of one where [`Self::value_struct`] sees it (`map(|&p| p - c)`, `map(|p|
    /// V3::new(..))`), or, over anything else, what the last `map` builds by a literal or a
    /// constructor.
    fn collected_struct(&mut self, recv: &Expr) -> Option<TokenStream> {
        let mut e = chain::strip(recv);
        let mut closure = None;
        if let Expr::MethodCall(m) = e
            && m.method == "map"
            && m.args.len() == 1
        {
            let Expr::Closure(c) = chain::strip(&m.args[0]) else {
                return None;
            };
            closure = Some(c);
            e = chain::strip(&m.receiver);
        }
        let root = elements_root(e);
        let Some(ty) = self.container_struct(root) else {
            // A chain over anything else whose last `map` builds the struct, by a literal or a
            // constructor (`qs.iter().map(|&a| Quat::from_axis_angle(ax, a))`).
            let ty: syn::Type = syn::parse2(built_struct(&closure?.body)?).ok()?;
            let ty = self.built_user_struct(&ty)?;
            return Some(quote!(#ty));
        };
        let Some(c) = closure else {
            return Some(quote!(#ty));
        };
        let [param] = &c.inputs.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let mut p = *param;
        loop {
            match p {
                Pat::Reference(r) => p = &r.pat,
                Pat::Type(t) => p = &t.pat,
                _ => break,
            }
        }
        let Pat::Ident(pi) = p else {
            return None;
        };
        // The closure's parameter, an element, while its body is read.
        let mut item = super::Binding::new(pi.ident.to_string(), None, false);
        item.struct_ty = Some(ty);
        self.env.push(item);
        let made = self.value_struct(&c.body);
        self.env.pop();
        made
    }

    /// The user's struct that the container `e` holds: a parameter `&[V2]`, a local
    /// `let vs: Vec<V2>` or one built by `push`/`vec![..]` of them, or a field of such a type.
    pub(super) fn container_struct(&self, e: &Expr) -> Option<syn::Path> {
        self.user_struct(&self.container_elem(e)?)
    }

    /// The element type of the container `e` (see [`Self::container_struct`]); of an element
    /// of a container of containers, its elements' (`m[i]` of `m: [[C; 2]; 2]` holds `C`s, so
    /// that `m[i][k] * v[k]` is `C`'s `Mul::mul`, as `v[k] * m[i][k]` is).
    fn container_elem(&self, e: &Expr) -> Option<syn::Type> {
        let p = match chain::strip(e) {
            Expr::Path(p) => p,
            Expr::Index(ix) if !matches!(chain::strip(&ix.index), Expr::Range(_)) => {
                return elem_type(&self.container_elem(&ix.expr)?).cloned();
            }
            _ => return None,
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let binding = &self.env[slot];
        if let Some(ValueDef::Param(n)) = binding.value.map(|v| self.f.value(v).def) {
            // A buffer lent `&mut` holds its elements too (`psi: &mut [C]`).
            let ty = match &self.f.params.get(n)?.ty {
                syn::Type::Reference(r) => &*r.elem,
                ty => ty,
            };
            return elem_type(ty).cloned();
        }
        // A window or chunk of a container of the struct (`w[0].lerp(w[1], t)` of `for w in
        // pts.windows(2)`): the container's elements, where the variable holding it says.
        if let Some(w) = &binding.window {
            let base = w.base;
            if let ValueDef::Param(n) = self.f.value(base).def {
                return elem_type(&self.f.params.get(n)?.ty).cloned();
            }
            // A field's elements by the type the module declares (`w[1] - w[0]` of `for w in
            // row.windows(2)` over a row of `rows: Vec<Vec<P2>>`).
            if let Some(ty) = self.module_value_type(base) {
                return elem_type(&ty).cloned();
            }
            let holder = self.env[..slot]
                .iter()
                .rposition(|b| b.value == Some(base) && b.window.is_none())?;
            let name = syn::Ident::new(&self.env[holder].name, p.span());
            return self.container_elem(&syn::parse_quote!(#name));
        }
        if let Some(elem) = &binding.elem_ty {
            return syn::parse2(elem.clone()).ok();
        }
        // A container whose type the module marked `#[differentiate]` around the function
        // declares: a copy of a field, or what one of its functions or methods returns (`let
        // p = self.corners();` of `fn corners(&self) -> [V2; 4]`).
        if let Some(ty) = binding.value.and_then(|v| self.module_value_type(v))
            && let Some(elem) = elem_type(&ty)
        {
            return Some(elem.clone());
        }
        // An array of arrays of the struct (`rho` of `[[C::ZERO; 2]; 2]`): its elements are
        // containers of it (a type read here, never written into the generated code).
        if let Some(ty) = &binding.inner_struct {
            return Some(syn::parse_quote!(::std::vec::Vec<#ty>));
        }
        let place: syn::Type = syn::parse2(binding.place_ty.clone()?).ok()?;
        elem_type(&place).cloned()
    }

    /// `ty` (or what it references) as a struct of the user's, for its operators: not a type
    /// parameter, nor a name a float is aliased by (`type Real = f64;`), whose operators are
    /// the float's.
    pub(super) fn user_struct(&self, ty: &syn::Type) -> Option<syn::Path> {
        let (ty, _) = crate::types::struct_path(ty)?;
        let name = ty.segments.last()?.ident.to_string();
        // A field's type named through the runtime's `Field` trait (`FieldTy<P, H, _>`, the
        // elements of `vec![p.w1.clone(), p.w2.clone()]`) may be an array: not known to be a
        // struct.
        let alias = crate::types::may_be_impl_param(&name, self.method)
            || self.type_params.contains(&name)
            || FLOAT_ALIASES.contains(&name.as_str())
            || name == "FieldTy";
        (!alias).then_some(ty)
    }

    /// `ty`, named by a struct literal or a constructor (`L { w: x }`, `L::new(x)`), as a
    /// struct of the user's: whatever its name, for a float has neither (a type parameter
    /// excepted, `T::new` being its own).
    fn built_user_struct(&self, ty: &syn::Type) -> Option<syn::Path> {
        let (ty, _) = crate::types::struct_path(ty)?;
        let name = ty.segments.last()?.ident.to_string();
        (!self.type_params.contains(&name) && !crate::types::is_float_param(&name)).then_some(ty)
    }

    /// The struct whose method made `recv`, when `mc` may be a method of the user's on it:
    /// `recv` is the result of a call `Ty::m(..)` of a struct `Ty` of the user's (a method
    /// followed on a parameter, `self` or a field, or a call written through the type), and
    /// the method takes the struct's type to be `Ty` too (as `sub`, `scale` or `cross` of a
    /// vector return one). A method of another type there is rustc's error at the call that
    /// `Ty` has no such function; calling it through its type says which (`V::norm(&d)`).
    fn made_by_struct_method(
        &self,
        recv: Option<Value>,
        mc: &syn::ExprMethodCall,
    ) -> Option<syn::Path> {
        let name = mc.method.to_string();
        // `norm`, `outer` and `pow` are in `LIBRARY_METHODS` for the crates that give arrays
        // them; on what a struct's method made, they are the struct's.
        if !is_user_method(mc)
            || (LIBRARY_METHODS.contains(&name.as_str())
                && !matches!(name.as_str(), "norm" | "outer" | "pow"))
        {
            // A float method's name on what the struct's `+`, `-` or unary `-` returned is the
            // struct's (see `Self::field_method`), also where the syntax does not show an
            // operand to be the struct (`(d - d.scale(0.5)).exp()`, `(b * b + c).sqrt()`): the
            // operator was called through the struct's type, and `Add`, `Sub` and `Neg` of a
            // type return the type. (Not `*` or `/`, whose result may be a float.)
            let float_named = mc.turbofish.is_none()
                && PrimId::method(&name).is_some_and(|p| p.has(Flags::FLOAT_RESULT));
            if float_named
                && let ValueDef::Result(i, 0) = self.f.value(recv?).def
                && let InstKind::Call { path, .. } = &self.f.inst(i).kind
                && operator_call(path, &["add", "sub", "neg"])
            {
                return self.struct_of_call(path);
            }
            // What an operator of the struct returned is the struct (as its operators are
            // taken to be): there, methods named like array rules are its own (`(a - b).dot(&c)`,
            // `let d = a - b; d.dot(&c)`), as they are on a parameter of its type.
            if !is_struct_method(mc) {
                return None;
            }
            // So they are on what another method of the struct made where an argument is
            // known to be a struct of the user's (`d.scale(w).dot(ps[0])`): an array a method
            // returned is not given one.
            return self.struct_type_of(recv?).or_else(|| {
                let ty = self.struct_of_made(recv?)?;
                mc.args
                    .iter()
                    .any(|a| self.known_struct_expr(a).is_some())
                    .then_some(ty)
            });
        }
        // What a closure returned that is known to be the struct (`mk(w).r()` of `let mk = |t|
        // P { .. };`, see `Lowering::closure_struct`), and any value known to be one (a local
        // a loop or a branch changed a field of, `d.x += ..; d.norm()`).
        if let Some(ty) = self.struct_type_of(recv?) {
            return Some(ty);
        }
        self.struct_of_made(recv?)
    }

    /// The struct `Ty` of a call `Ty::m(..)` that made `v`, or a part of the tuple it returned
    /// (`dir` of `let (len, dir) = p.decompose();`).
    pub(super) fn struct_of_made(&self, v: Value) -> Option<syn::Path> {
        let ValueDef::Result(mut i, 0) = self.f.value(v).def else {
            return None;
        };
        // A part of a tuple the method returned (`dir` of `let (len, dir) = p.decompose();`),
        // taken to be the struct like the whole result of one is.
        if let InstKind::Field(base, _) = self.f.inst(i).kind
            && let ValueDef::Result(j, 0) = self.f.value(base).def
        {
            i = j;
        }
        let InstKind::Call { path, .. } = &self.f.inst(i).kind else {
            return None;
        };
        self.struct_of_call(path)
    }

    /// The struct of the user's that an argument `e` (`&b`, `ps[0]`, `v`) is known to be, before
    /// it is lowered.
    fn known_struct_expr(&self, e: &Expr) -> Option<syn::Path> {
        let mut e = chain::strip(e);
        while let Expr::Reference(r) = e {
            e = chain::strip(&r.expr);
        }
        self.variable_value(e)
            .and_then(|v| self.struct_type_of(v))
            .or_else(|| self.struct_var(e))
            .or_else(|| self.element_struct(e))
            .or_else(|| self.module_place_struct(e))
    }

    /// `Ty` of a call `Ty::m(..)` of a struct `Ty` of the user's, whose result is taken to be a
    /// `Ty` too.
    fn struct_of_call(&self, path: &syn::Path) -> Option<syn::Path> {
        if path.segments.len() < 2 || crate::joint::is_runtime_function(path) {
            return None;
        }
        let mut ty = path.clone();
        ty.segments.pop();
        let mut ty = syn::Path {
            leading_colon: ty.leading_colon,
            segments: ty.segments.into_pairs().map(|p| p.into_value()).collect(),
        };
        let last = ty.segments.last()?.ident.to_string();
        if !last.starts_with(|c: char| c.is_ascii_uppercase())
            || crate::types::is_float_param(&last)
        {
            return None;
        }
        if ty.segments.iter().any(|s| !s.arguments.is_none()) {
            // A field's or an element's type named through the runtime's `Field` trait
            // (`FieldTy::<Self, H, _>`, see `field_method`).
            return Some(ty);
        }
        let as_ty: syn::Type = syn::parse_quote!(#ty);
        ty = crate::types::struct_path(&as_ty)?.0;
        // A method whose result type the module marked `#[differentiate]` around the function
        // declares (`fn rotate(&self, v: V3) -> V3` of `Quat`, a dot product written `impl Mul
        // for V3 { type Output = f64; .. }`): that type where it is a struct, nothing where it
        // is a float, an array or a tuple.
        if let Some(known) = module_result(path) {
            return known;
        }
        Some(ty)
    }

    /// The current value of the variable `e` names (`a`, `(a)`), if it names one.
    fn variable_value(&self, e: &Expr) -> Option<Value> {
        let Expr::Path(p) = chain::strip(e) else {
            return None;
        };
        p.path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .and_then(|slot| self.env[slot].value)
    }

    /// Whether `e` names a parameter declared with an ndarray type (`&Array1<f64>`,
    /// `ArrayView2<T>`). A local's type is not written, so a local is not one.
    fn is_array_variable(&self, e: &Expr) -> bool {
        self.variable_value(e)
            .is_some_and(|v| match self.f.value(v).def {
                ValueDef::Param(n) => crate::types::is_ndarray(&self.f.params[n].ty),
                // A local bound to a view of an array: `let r = x.row(i);`, and the lane a
                // `map_axis` closure is given (`s.map_axis(Axis(1), |r| r.fold(..))`).
                ValueDef::Result(i, 0) => matches!(
                    &self.f.inst(i).kind,
                    InstKind::Prim { prim, .. }
                        if matches!(prim.name(), "slice" | "t" | "view" | "index_axis")
                ),
                _ => false,
            })
    }

    /// Whether `e` names a local (not a parameter) holding a differentiated value, for
    /// `a.fold(init, |m, &v| ..)`: an ndarray array, as no other differentiated local has a
    /// two-argument `fold` (a `Vec` has none, an iterator kept in a variable is written where
    /// it is used).
    fn is_local_array(&self, e: &Expr) -> bool {
        self.variable_value(e).is_some_and(|v| {
            self.kind(v) != Kind::Discrete && !matches!(self.f.value(v).def, ValueDef::Param(_))
        })
    }

    /// Whether `e` may be an ndarray array, for `row`/`column`: anything but a variable known
    /// to hold discrete data or a parameter of a struct type of the user's, which keeps its own
    /// `row`/`column` methods.
    fn may_be_array(&self, e: &Expr) -> bool {
        let Some(v) = self.variable_value(e) else {
            return true;
        };
        if self.kind(v) == Kind::Discrete {
            return false;
        }
        match self.f.value(v).def {
            ValueDef::Param(n) => crate::types::struct_path(&self.f.params[n].ty).is_none(),
            _ => true,
        }
    }

    /// `model.forward(x)` of a differentiated parameter `model: &Model` (or `Model`, `&Mlp<T>`),
    /// a method of the user's struct: the call `Model::forward(model, x)` (`&model` when the
    /// parameter is owned), differentiated through `Model::forward_vjp` like `self.g(x)` is
    /// through `Self::g_vjp`, the gradient reaching the receiver when it is active.
    fn struct_method(&self, mc: &syn::ExprMethodCall) -> Option<syn::ExprCall> {
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        // A unit struct's value (`Mse.loss(&pred, y)`): a type's name (not a constant's,
        // `WEIGHTS.len()`) that no variable has, the method called through the type, the value
        // lent.
        if let Some(id) = p.path.get_ident()
            && p.qself.is_none()
            && is_user_type_name(&id.to_string())
            && id.to_string().contains(|c: char| c.is_ascii_lowercase())
            && self.lookup(&id.to_string()).is_none()
            && is_struct_method(mc)
        {
            let ty = respan_path(&p.path, mc.method.span());
            let recv = &mc.receiver;
            return Some(method_as_call(
                mc,
                ty,
                syn::parse_quote_spanned!(recv.span()=> &#recv),
            ));
        }
        let n = self.active_param(p).or_else(|| {
            // On data, only a method given arguments may need its derivative.
            (!mc.args.is_empty())
                .then(|| self.data_struct_param(p))
                .flatten()
        })?;
        // Methods named like float rules too (`v.abs()` of the struct's own `fn abs(&self)`,
        // a vector's length) where the parameter's type is a struct of the user's: a float's
        // methods are not a struct's.
        let float_named = mc.turbofish.is_none()
            && PrimId::method(&mc.method.to_string()).is_some_and(|p| p.has(Flags::FLOAT_RESULT))
            && self.user_struct(&self.f.params[n].ty).is_some();
        if !is_struct_method(mc) && !float_named {
            return None;
        }
        let (ty, owned) = crate::types::struct_path(&self.f.params[n].ty)?;
        // Spanned at the call: a struct without `forward_vjp` is reported there, not at the
        // parameter's type.
        let ty = respan_path(&ty, mc.method.span());
        let recv = &mc.receiver;
        let recv: Expr = match owned {
            true => syn::parse_quote_spanned!(recv.span()=> &#recv),
            false => (**recv).clone(),
        };
        Some(method_as_call(mc, ty, recv))
    }

    /// `self.layer.forward(x)`, `model.layers[i].forward(x)`: a method of the user's struct on
    /// a field (or an element of one) of `self` or of a differentiated parameter. The macro sees
    /// the method, not the struct, so it names the field's type through the runtime's `Field`
    /// trait, which `#[derive(Differentiable)]` implements per field:
    /// `FieldTy::<Self, H, _>::forward(&self.layer, x)`, differentiated through `forward_vjp` as
    /// the call `Layer::forward(&self.layer, x)` is.
    pub(super) fn field_method(&self, mc: &syn::ExprMethodCall) -> Option<syn::ExprCall> {
        let recv = chain::strip(&mc.receiver);
        let name = mc.method.to_string();
        // A float method's name (`z.exp()`, `z.abs()` of a complex number) is the struct's
        // too on a struct built there or a local known to hold one, as on a parameter.
        let float_named = mc.turbofish.is_none()
            && PrimId::method(&mc.method.to_string()).is_some_and(|p| p.has(Flags::FLOAT_RESULT));
        // On a field of a struct type (or an element of a field holding them) in a module
        // marked `#[differentiate]`, which declares the field's type: the struct's, whatever
        // the method's name (`b.vel.norm()`, `self.pos.dot(&o.pos)`, `b.q.exp()`).
        if (is_struct_method(mc) || float_named)
            && matches!(recv, Expr::Field(_) | Expr::Index(_))
            && let Some(ty) = self.module_place_struct(recv)
        {
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &#recv);
            return Some(method_as_call(mc, ty, recv));
        }
        // On what a struct's `+`, `-` or unary `-` returned (`(p + q).abs()`, `let h = p - q;
        // h.exp()`): `Add`, `Sub` and `Neg` of a type return the type. (Not `*` or `/`, whose
        // result may be a float: `(a * b).sqrt()` of a dot product.)
        if float_named && let Some(ty) = self.additive_struct(recv) {
            let ty = respan_path(&ty, mc.method.span());
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &(#recv));
            return Some(method_as_call(mc, ty, recv));
        }
        // On `*a` of the item of `for a in psi.iter_mut()` over a `Vec` of the struct
        // (`(*a).scale(k)`, written so where a trait's `&mut self` method of the same name would
        // be found first on `a`), the method is the struct's.
        if matches!(recv, Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)))
            && (is_struct_method(mc) || float_named)
            && let Some(ty) = self.struct_var(recv)
        {
            let ty = respan_path(&ty, mc.method.span());
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &(#recv));
            return Some(method_as_call(mc, ty, recv));
        }
        // On a struct built where it is called (`V2 { .. }.norm()`, `V2::new(a, b).turned(k)`),
        // the method is the struct's, as on a local it is bound to.
        if let Some(ty) = built_struct(recv).filter(|_| is_struct_method(mc) || float_named) {
            let ty: syn::Path = syn::parse2(ty).ok()?;
            let ty = respan_path(&ty, mc.method.span());
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &#recv);
            return Some(method_as_call(mc, ty, recv));
        }
        // On a local built by a struct literal the method is the struct's, whatever its name.
        // So it is on one known to hold a struct of the user's (`let mut r = q;` of such a `q`).
        let built = matches!(recv, Expr::Path(p) if p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .is_some_and(|slot| self.env[slot].built || self.env[slot].struct_ty.is_some()));
        // On a local built by a struct literal or an element of a container of structs, also
        // methods named like array rules (`a.dot(&b)` of `let a = V2 { .. };`, `vs[0].dot(&b)`),
        // as on a parameter of the struct's type.
        let named = if built || self.element_struct(recv).is_some() {
            is_struct_method(mc) || (built && float_named)
        } else {
            // On a field, also `norm`, `outer` and `pow` (in `LIBRARY_METHODS` for the crates
            // that give arrays them, with no rule here), as on what a struct's method made: a
            // vector's length is `self.vel.norm()`. Where the field is another type, rustc says
            // it has no `norm` (or `norm_vjp`).
            is_own_method(mc)
                || (matches!(recv, Expr::Field(_))
                    && is_user_method(mc)
                    && matches!(name.as_str(), "norm" | "outer" | "pow"))
        };
        // On a field, a method named like an array rule given a struct of the user's
        // (`self.r0.dot(&v)`, `m.r0.dot(&v)` of `v: V2`) is that struct's, as an array's `dot`
        // takes no struct.
        if !named && is_struct_method(mc) && matches!(recv, Expr::Field(_)) {
            let ty = mc.args.iter().find_map(|a| self.named_struct(a))?;
            let ty = respan_path(&ty, mc.method.span());
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &#recv);
            return Some(method_as_call(mc, ty, recv));
        }
        if !named {
            return None;
        }
        if matches!(recv, Expr::Path(p) if self.local_place_type(p).is_none()) {
            return None;
        }
        // An element of a window or chunk (`w[0]` of `pts.windows(2)`), which has no place
        // type of its own: the struct its container holds.
        if let Expr::Index(ix) = recv
            && let Expr::Path(wp) = chain::strip(&ix.expr)
            && wp
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .is_some_and(|slot| self.env[slot].window.is_some())
            && let Some(ty) = self.element_struct(recv)
        {
            let ty = respan_path(&ty, mc.method.span());
            let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &#recv);
            return Some(method_as_call(mc, ty, recv));
        }
        // An element of an array of arrays of the struct (`rho[i][j]` of `let mut rho =
        // [[C::ZERO; 2]; 2];`), which has no place type the macro can name either.
        let ty = match self.place_type(recv) {
            Some(ty) => ty,
            None => {
                let ty = self.element_struct(recv)?;
                quote!(#ty)
            }
        };
        let mut ty: syn::Path = syn::parse_quote_spanned!(mc.method.span()=> #ty);
        // In an expression, `FieldTy::<Self, H, _>::forward`.
        for seg in &mut ty.segments {
            if let syn::PathArguments::AngleBracketed(a) = &mut seg.arguments {
                a.colon2_token = Some(Default::default());
            }
        }
        let recv: Expr = syn::parse_quote_spanned!(recv.span()=> &#recv);
        Some(method_as_call(mc, ty, recv))
    }

    /// The user's struct that `e` is the sum, difference or negation of (`p + q`, `-p`, `(p -
    /// C::new(a, b))`, a local holding what one returned), where its operands are known to be
    /// of that struct: what `Add`, `Sub` and `Neg` of a type return.
    fn additive_struct(&self, e: &Expr) -> Option<syn::Path> {
        let operand = |e: &Expr| {
            self.named_struct(e)
                .or_else(|| self.built_user_struct(&syn::parse2(built_struct(e)?).ok()?))
                .or_else(|| self.additive_struct(e))
        };
        match chain::strip(e) {
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_) | syn::BinOp::Sub(_)) => {
                let ty = operand(&b.left)?;
                (operand(&b.right)? == ty).then_some(ty)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => operand(&u.expr),
            Expr::Path(p) => {
                let v = self.path_slot(p).and_then(|slot| self.env[slot].value)?;
                let ValueDef::Result(i, 0) = self.f.value(v).def else {
                    return None;
                };
                match &self.f.inst(i).kind {
                    InstKind::Call { path, .. } if operator_call(path, &["add", "sub", "neg"]) => {
                        self.struct_of_call(path)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The user's struct that a variable `e` (or a borrow of one) is known to hold: a
    /// parameter of its type, or a local known to be one (see [`Self::struct_var`]).
    fn named_struct(&self, e: &Expr) -> Option<syn::Path> {
        let mut e = chain::strip(e);
        while let Expr::Reference(r) = e {
            e = chain::strip(&r.expr);
        }
        let Expr::Path(p) = e else {
            // A field of a struct type in a module marked `#[differentiate]` (`&b.vel`).
            return self.module_place_struct(e);
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        match self.env[slot].value.map(|v| self.f.value(v).def) {
            Some(ValueDef::Param(n)) => self.user_struct(&self.f.params.get(n)?.ty),
            _ => self.struct_var(e),
        }
    }

    /// The type of `e`, a field or an element (`self.layers[i]`) of `self` or of a
    /// differentiated parameter of a struct type, spelled through the runtime's `Field` trait
    /// (see [`Self::field_method`]); `None` for anything else.
    pub(super) fn place_type(&self, e: &Expr) -> Option<TokenStream> {
        let pv = &self.krate;
        match chain::strip(e) {
            Expr::Path(p) => {
                if let Some(ty) = self.local_place_type(p) {
                    return Some(ty);
                }
                // Also a struct parameter `wrt` leaves out (a fixed model whose gradient with
                // respect to the input is asked for: `m.enc.layer.forward(x)` of `wrt(x)`).
                let n = self
                    .active_param(p)
                    .or_else(|| {
                        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
                        self.changed_param(slot)
                    })
                    .or_else(|| self.data_struct_param(p))
                    .or_else(|| self.data_structs_param(p))?;
                self.param_place_type(n)
            }
            // A field whose type the module marked `#[differentiate]` around the function
            // declares (`s.ps` of `ps: Vec<Particle>`): that type, so that a copy of it (`let
            // mut ps = s.ps.clone();`) holds the struct's values (`ps[i].pos - ps[j].pos`).
            Expr::Field(_) if let Some(ty) = self.module_place_type(e) => Some(quote!(#ty)),
            Expr::Field(f) => {
                let base = self.place_type(&f.base)?;
                let member = &f.member;
                let key = proc_macro2::Literal::u64_unsuffixed(crate::types::field_key(
                    &quote!(#member).to_string(),
                ));
                Some(quote!(#pv::__private::FieldTy<#base, #key, _>))
            }
            Expr::Index(ix) if !matches!(chain::strip(&ix.index), Expr::Range(_)) => {
                self.elem_type(&ix.expr)
            }
            // An element reached through an accessor, its methods called at once:
            // `self.layers.last().unwrap().forward(&h)` (`first`, `get(i)`, `.expect(..)`), as
            // `let l = self.layers.last().unwrap();` is.
            Expr::MethodCall(mc) if mc.method == "unwrap" || mc.method == "expect" => {
                match chain::strip(&mc.receiver) {
                    Expr::MethodCall(acc)
                        if matches!(acc.method.to_string().as_str(), "first" | "last" | "get") =>
                    {
                        self.elem_type(&acc.receiver)
                    }
                    _ => None,
                }
            }
            // A copy of one, its methods called at once: `opt.clone().bumped(0.01)`.
            Expr::MethodCall(mc)
                if mc.args.is_empty() && (mc.method == "clone" || mc.method == "to_owned") =>
            {
                self.copy_type(&mc.receiver)
            }
            _ => None,
        }
    }

    /// The type of a copy of `recv` (`recv.clone()`, `recv.to_owned()`): of a place
    /// [`Self::place_type`] knows, or of a struct parameter left out by `wrt`, whose copy's
    /// methods are differentiated where they are given differentiated arguments, as the
    /// parameter's are (`model.clone().with_temperature(t)` of `wrt(t)`).
    fn copy_type(&self, recv: &Expr) -> Option<TokenStream> {
        self.place_type(recv).or_else(|| match chain::strip(recv) {
            Expr::Path(p) => self.param_place_type(self.data_struct_param(p)?),
            _ => None,
        })
    }

    /// The type of the differentiated parameter `n` where it is a struct of the user's or a
    /// slice, array or `Vec` of them (see [`Self::place_type`]).
    pub(super) fn param_place_type(&self, n: usize) -> Option<TokenStream> {
        let param = &self.f.params[n];
        if param.ident == "self" {
            return Some(quote!(Self));
        }
        let mut ty = &param.ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        // A slice, array or `Vec` of the user's structs (`bodies: &[Body]`), whose
        // elements' methods are followed (`bodies.iter().map(|b| b.potential(g))`).
        let elem = match ty {
            syn::Type::Slice(sl) => Some(&*sl.elem),
            syn::Type::Array(a) => Some(&*a.elem),
            syn::Type::Path(tp) if tp.qself.is_none() => {
                match tp
                    .path
                    .segments
                    .last()
                    .map(|l| (l.ident == "Vec", &l.arguments))
                {
                    Some((true, syn::PathArguments::AngleBracketed(a))) => match a.args.first() {
                        Some(syn::GenericArgument::Type(t)) => Some(t),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        };
        match elem {
            Some(elem) => {
                crate::types::struct_path(elem)?;
            }
            None => {
                crate::types::struct_path(&param.ty)?;
            }
        }
        Some(quote!(#ty))
    }

    /// The user's struct that `e` is a value of, where the macro sees it: one built there
    /// ([`built_struct`]) or a copy of a parameter, a field or an element of a place
    /// (`layers[1].clone()`).
    fn value_struct(&self, e: &Expr) -> Option<TokenStream> {
        if let Some(ty) = built_struct(e) {
            return Some(ty);
        }
        match chain::strip(e) {
            // A variable known to hold one (`vec![a, b]`, `vs.push(a)`), and what an operator
            // of the struct makes of one (`vs.push(a - b)`, `-a`).
            // A parameter of the struct's type (`[a, b, c]` of `a: V3`) too.
            Expr::Path(p) => self
                .struct_var(e)
                .or_else(|| {
                    let slot = self.lookup(&p.path.get_ident()?.to_string())?;
                    let v = self.env[slot].value?;
                    matches!(self.f.value(v).def, ValueDef::Param(_))
                        .then(|| self.struct_type_of(v))
                        .flatten()
                })
                .map(|ty| quote!(#ty)),
            Expr::Binary(bin)
                if matches!(
                    bin.op,
                    syn::BinOp::Add(_)
                        | syn::BinOp::Sub(_)
                        | syn::BinOp::Mul(_)
                        | syn::BinOp::Div(_)
                ) =>
            {
                self.value_struct(&bin.left).or_else(|| {
                    matches!(bin.op, syn::BinOp::Add(_) | syn::BinOp::Sub(_))
                        .then(|| self.value_struct(&bin.right))
                        .flatten()
                })
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_) | syn::UnOp::Deref(_)) => {
                self.value_struct(&u.expr)
            }
            Expr::MethodCall(mc)
                if mc.args.is_empty() && (mc.method == "clone" || mc.method == "to_owned") =>
            {
                self.copy_type(&mc.receiver)
            }
            // What a local closure returns (`vs.push(at(t))` of `let at = |t| V3::new(..);`).
            Expr::Call(c) if self.closure_named(&c.func).is_some() => {
                let ty = self.closure_struct(&self.closure_named(&c.func)?.expr)?;
                Some(quote!(#ty))
            }
            _ => {
                let ty = self.module_expr_struct(e)?;
                Some(quote!(#ty))
            }
        }
    }

    /// The struct of the module marked `#[differentiate]` around the function that `e` is, by
    /// the module's declarations: a field or an element of one (`b.pos`, `w.bodies[i]`), or
    /// what one of its functions or methods returns (`acc.push(self.accel(i))` of `fn
    /// accel(&self, i: usize) -> V3`, `step(&s, dt)`). `None` outside such a module.
    pub(super) fn module_expr_struct(&self, e: &Expr) -> Option<syn::Path> {
        match chain::strip(e) {
            Expr::Field(_) | Expr::Index(_) => self.module_place_struct(e),
            Expr::Call(c) => {
                let Expr::Path(p) = chain::strip(&c.func) else {
                    return None;
                };
                module_struct(&module_method(&p.path)?)
            }
            Expr::MethodCall(mc) => {
                let recv = match chain::strip(&mc.receiver) {
                    Expr::Path(p) if p.path.is_ident("self") => {
                        crate::types::module_self().map(|s| syn::parse_str(&s).ok())??
                    }
                    r => self
                        .known_struct_expr(r)
                        .or_else(|| self.module_expr_struct(r))?,
                };
                let owner = recv.segments.last()?.ident.to_string();
                let ty = crate::types::module_result(Some(&owner), &mc.method.to_string())?;
                module_struct(&ty)
            }
            _ => None,
        }
    }

    /// The type of the elements of `e`, a container [`Self::place_type`] knows, or a local
    /// `Vec` of the user's structs built by `push` or `vec![..]`.
    pub(super) fn elem_type(&self, e: &Expr) -> Option<TokenStream> {
        if let Expr::Path(p) = chain::strip(e) {
            let slot = p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()));
            if let Some(ty) = slot.and_then(|slot| self.env[slot].elem_ty.clone()) {
                return Some(ty);
            }
        }
        // A range of a container (`&self.layers[1..]`, `self.layers[..n - 1].iter()`) holds
        // the container's elements.
        if let Expr::Index(ix) = chain::strip(e) {
            if matches!(chain::strip(&ix.index), Expr::Range(_)) {
                return self.elem_type(&ix.expr);
            }
        }
        let ty = self.place_type(e)?;
        let pv = &self.krate;
        Some(quote!(#pv::__private::Elem<#ty>))
    }

    /// The type of the elements of the container bound at `slot` (the variable an `iter_mut`
    /// walks), where [`Self::elem_type`] knows it.
    pub(super) fn slot_elem_type(&self, slot: usize) -> Option<TokenStream> {
        if let Some(ty) = self.env[slot].elem_ty.clone() {
            return Some(ty);
        }
        let id = syn::Ident::new(&self.env[slot].name, Span::call_site());
        // The name must still be the container's (not shadowed since).
        if self.lookup(&self.env[slot].name) != Some(slot) {
            return None;
        }
        if let Some(ty) = self.elem_type(&syn::parse_quote!(#id)) {
            return Some(ty);
        }
        let ty = self.param_place_type(self.changed_param(slot)?)?;
        let pv = &self.krate;
        Some(quote!(#pv::__private::Elem<#ty>))
    }

    /// The differentiated parameter the variable bound at `slot` is, where it has changed
    /// since the call began (`for b in bodies.iter_mut()` of `bodies: &mut [Body]`, or inside
    /// a loop that changes it): its binding is the first of its name, and its type is
    /// declared.
    fn changed_param(&self, slot: usize) -> Option<usize> {
        let first = self.env.iter().position(|b| b.name == self.env[slot].name);
        self.f
            .params
            .iter()
            .position(|p| p.active && p.ident == self.env[slot].name)
            .filter(|_| first == Some(slot))
    }

    /// The type of the field a local variable borrows (`l` after `let l = &self.layer;`).
    /// The element type recorded with the local `e` names (`rest` of `let rest =
    /// &self.layers[1..];`).
    fn local_elem_type(&self, e: &Expr) -> Option<TokenStream> {
        let Expr::Path(p) = chain::strip(e) else {
            return None;
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        self.env[slot].elem_ty.clone()
    }

    fn local_place_type(&self, p: &syn::ExprPath) -> Option<TokenStream> {
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        self.env[slot].place_ty.clone()
    }

    /// `let l = &self.layer;` (or `&model.layers[0]`): records the field's type with `l`; and
    /// `let s = State { .. };` the literal's type.
    pub(super) fn note_binding(&mut self, pat: &Pat, init: &Expr) {
        // The names the pattern binds are the new variables.
        self.note_struct_binding(pat);
        // `let [a, b, c] = bodies;` of an array of the user's structs (or declared so, `let [a,
        // b]: [Body; 2] = ..`): each name is an element, the struct (`a.energy()`).
        let (elems, declared) = match pat {
            Pat::Slice(sp) => (Some(&sp.elems), None),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Slice(sp) => (Some(&sp.elems), elem_type(&pt.ty)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        if let Some(elems) = elems
            && let Some(ty) = declared
                .and_then(|t| self.user_struct(t))
                .or_else(|| self.container_struct(init))
        {
            for p in elems {
                let Pat::Ident(pi) = p else { continue };
                if pi.subpat.is_some() || pi.by_ref.is_some() {
                    continue;
                }
                if let Some(slot) = self.lookup(&pi.ident.to_string()) {
                    self.declare_struct(slot, ty.clone());
                }
            }
        }
        // The names `init` reads are the variables before this `let`, also the one it shadows
        // (`let mut ps = ps.to_vec();` copies the parameter `ps`, a `Vec` of its structs).
        let id = match pat {
            Pat::Ident(pi) => Some(&pi.ident),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => Some(&pi.ident),
                _ => None,
            },
            _ => None,
        };
        self.binding_made = id.and_then(|id| {
            let last = self.env.len().checked_sub(1)?;
            (*id == self.env[last].name).then_some(last)
        });
        self.note_binding_read(pat, id, init);
        self.binding_made = None;
    }

    /// What the `let` of `pat` (`id`, where it is a single name) learns of its variables from
    /// `init`.
    fn note_binding_read(&mut self, pat: &Pat, id: Option<&syn::Ident>, init: &Expr) {
        if let Some(id) = id {
            let data = self.data_value(init);
            // A copy of a variable known to hold a struct of the user's (`let mut r = q;`,
            // `q.clone()`) holds one too.
            let copied = match chain::strip(init) {
                Expr::MethodCall(mc) if mc.args.is_empty() && mc.method == "clone" => {
                    self.struct_var(&mc.receiver)
                }
                // An element of a container of the user's structs (`let mut q = bodies[1];`).
                Expr::Index(ix) if !matches!(&*ix.index, Expr::Range(_)) => {
                    self.container_struct(&ix.expr)
                }
                e => self.struct_var(e),
            };
            let last = self
                .env
                .len()
                .checked_sub(1)
                .filter(|&s| *id == self.env[s].name);
            if let Some(slot) = last {
                self.env[slot].data = data;
                if let (None, Some(ty)) = (&self.env[slot].place_ty, copied) {
                    self.declare_struct(slot, ty);
                }
            }
        }
        // `let rel = ps.iter().map(|&p| p - c).collect::<Vec<_>>();` (also `let rel: Vec<_> =
        // ..`): a `Vec` of the struct the closure makes of an element of a container of it.
        if let Expr::MethodCall(mc) = chain::strip(init)
            && mc.method == "collect"
            && mc.args.is_empty()
        {
            let name = match pat {
                Pat::Ident(pi) => Some(&pi.ident),
                Pat::Type(pt) => match (&*pt.pat, &*pt.ty) {
                    (Pat::Ident(pi), syn::Type::Path(tp))
                        if tp.path.segments.last().is_some_and(|l| l.ident == "Vec")
                            && elem_type(&pt.ty)
                                .is_some_and(|t| matches!(t, syn::Type::Infer(_))) =>
                    {
                        Some(&pi.ident)
                    }
                    _ => None,
                },
                _ => None,
            };
            if let Some(name) = name
                && let Some(elem) = self.collected_struct(&mc.receiver)
            {
                if let Some(binding) = self.env.last_mut().filter(|b| *name == b.name) {
                    binding.place_ty = Some(quote!(::std::vec::Vec<#elem>));
                    binding.elem_ty = Some(elem);
                }
                return;
            }
        }
        // `let s: State = ..;`: the declared type, where it is a struct of the user's.
        if let Pat::Type(pt) = pat {
            // `let mut bodies: [Body; 3] = ..;`: an array of the user's structs, whose elements'
            // methods are followed as those of `[Body { .. }, ..]` written without the type.
            // `let u: [[C; 2]; 2] = ..;`: a container of containers of the user's structs,
            // whose elements' elements (`u[i][j]`) are the struct (see `container_elem`).
            if let Pat::Ident(pi) = &*pt.pat
                && let Some(inner) = elem_type(&pt.ty).and_then(elem_type)
                && let syn::Type::Path(e) = inner
                && e.qself.is_none()
                && e.path.segments.last().is_some_and(|l| {
                    let n = l.ident.to_string();
                    is_user_type_name(&n) && !crate::types::is_float_param(&n)
                })
                && self.user_struct(inner).is_some()
            {
                let ty = &pt.ty;
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.place_ty = Some(quote!(#ty));
                }
                return;
            }
            if let (Pat::Ident(pi), syn::Type::Array(arr)) = (&*pt.pat, &*pt.ty)
                && let syn::Type::Path(e) = &*arr.elem
                && e.qself.is_none()
                && e.path.segments.last().is_some_and(|l| {
                    let n = l.ident.to_string();
                    is_user_type_name(&n) && !crate::types::is_float_param(&n)
                })
                && let Some(elem) = self.user_struct(&arr.elem)
            {
                let ty = &pt.ty;
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.place_ty = Some(quote!(#ty));
                    binding.elem_ty = Some(quote!(#elem));
                }
                return;
            }
            if let (Pat::Ident(pi), syn::Type::Path(tp)) = (&*pt.pat, &*pt.ty) {
                let last = tp.path.segments.last().map(|s| s.ident.to_string());
                let user = last
                    .as_deref()
                    .is_some_and(|n| is_user_type_name(n) && !crate::types::is_float_param(n));
                // `let mut layers: Vec<Neuron> = ..`: a `Vec` of the user's structs, whose
                // elements' methods are followed (`for l in &layers { l.fire(h) }`).
                let vec_of_user = last.as_deref() == Some("Vec")
                    && tp.path.segments.last().is_some_and(|s| match &s.arguments {
                        syn::PathArguments::AngleBracketed(a) => {
                            matches!(a.args.first(), Some(syn::GenericArgument::Type(
                            syn::Type::Path(e))) if e.qself.is_none()
                                && e.path.segments.last().is_some_and(|l| {
                                    let n = l.ident.to_string();
                                    is_user_type_name(&n) && !crate::types::is_float_param(&n)
                                }))
                        }
                        _ => false,
                    });
                if tp.qself.is_none() && vec_of_user {
                    let ty = &tp.path;
                    if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                        binding.place_ty = Some(quote!(#ty));
                    }
                }
                if tp.qself.is_none() && user {
                    let ty = &tp.path;
                    if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                        binding.place_ty = Some(quote!(#ty));
                        // The type is named: its methods are the struct's whatever their names
                        // (`b.dot(&a)`), as on a local built by a literal.
                        binding.built = true;
                    }
                }
            }
            return;
        }
        // `let ps = vec![Particle { .. }; n];` (or a list of them): a `Vec` of the struct,
        // where an element says so (`vec![a.turned(k), a * 2.0]`: the second).
        if let (Pat::Ident(pi), Expr::Macro(m)) = (pat, chain::strip(init)) {
            if m.mac.path.is_ident("vec") {
                use syn::parse::Parser;
                let first = |input: syn::parse::ParseStream| {
                    let e: Expr = input.parse()?;
                    let _: TokenStream = input.parse()?;
                    Ok(vec![e])
                };
                let list = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
                let elem = list
                    .parse2(m.mac.tokens.clone())
                    .map(|l| l.into_iter().collect())
                    .or_else(|_| first.parse2(m.mac.tokens.clone()))
                    .ok()
                    .and_then(|es: Vec<Expr>| es.iter().find_map(|e| self.value_struct(e)));
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.elem_ty = elem;
                }
                return;
            }
        }
        // `let mut acc = [V3::default(); 4];` (or `[a, b, c]` of them): an array of the struct,
        // as the `vec![..]` above is a `Vec` of it.
        if let Pat::Ident(pi) = pat {
            let elem = match chain::strip(init) {
                Expr::Repeat(r) => self.value_struct(&r.expr),
                Expr::Array(a) => a.elems.iter().find_map(|e| self.value_struct(e)),
                _ => None,
            };
            if let Some(elem) = elem {
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.elem_ty = Some(elem);
                }
                return;
            }
            // `let mut rho = [[C::ZERO; 2]; 2];` (or `[[a, b], [c, d]]` of the struct's
            // values): an array of arrays of the struct, whose `rho[i][j]` is one.
            let inner = |e: &Expr| match chain::strip(e) {
                Expr::Repeat(r) => self.value_struct(&r.expr),
                Expr::Array(a) => a.elems.iter().find_map(|e| self.value_struct(e)),
                _ => None,
            };
            let inner = match chain::strip(init) {
                Expr::Repeat(r) => inner(&r.expr),
                Expr::Array(a) => a.elems.iter().find_map(inner),
                _ => None,
            };
            if let Some(ty) = inner.and_then(|t| syn::parse2::<syn::Type>(t).ok())
                && let Some(ty) = self.user_struct(&ty)
            {
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.inner_struct = Some(ty);
                }
                return;
            }
        }
        // `let rest = &self.layers[..n - 1];`: a range of a container holds its elements
        // (`for l in rest { h = l.forward(&h); }`).
        if let Pat::Ident(pi) = pat
            && let Some((ix, _)) = subslice::range_index(init)
            && (matches!(chain::strip(&ix.expr), Expr::Field(_))
                || self.container_struct(&ix.expr).is_some()
                || self.local_elem_type(&ix.expr).is_some())
        {
            let elem = self.elem_type(&Expr::Index(ix.clone()));
            if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                binding.elem_ty = elem;
            }
            return;
        }
        // `let bodies = bodies0.to_vec();`: a `Vec` of the elements of `bodies0`.
        if let (Pat::Ident(pi), Expr::MethodCall(mc)) = (pat, chain::strip(init)) {
            if mc.args.is_empty() && mc.method == "to_vec" {
                // The struct of the user's that `bodies0` holds, where it is known
                // (`bodies0: &[Body]`): its elements' operators are then the struct's (`pos[i] +
                // vel[i] * dt`), which the element type named through the runtime's `Elem`
                // does not say.
                let elem = match self.container_struct(&mc.receiver) {
                    Some(ty) => Some(quote!(#ty)),
                    None => self.elem_type(&mc.receiver),
                };
                if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                    binding.elem_ty = elem;
                }
                return;
            }
        }
        // `let s = State { .. };`: the literal names the type (`s.advance(dt)`); a copy of a
        // struct parameter or field (`let s = s0.clone();`) has its type.
        let built = matches!(
            chain::strip(init),
            Expr::Struct(_) | Expr::Call(_) | Expr::Block(_) | Expr::Path(_)
        ) && built_struct(init).is_some();
        // `let mut b = *balls.last().unwrap();`, `*b0`: the copy has the type of what is read.
        let read = match chain::strip(init) {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => chain::strip(&u.expr),
            e => e,
        };
        let ty = match (pat, read) {
            (Pat::Ident(_), Expr::Struct(_)) => built_struct(init).map(Some),
            (Pat::Ident(_), Expr::MethodCall(mc))
                if mc.args.is_empty() && (mc.method == "clone" || mc.method == "to_owned") =>
            {
                Some(self.copy_type(&mc.receiver))
            }
            // `let mut b = b0;` (`*b0`) of a parameter of a `Copy` struct: a copy of it.
            (Pat::Ident(_), Expr::Path(p)) if self.names_param(p) => Some(self.copy_type(read)),
            // `let mut acc = Quat::IDENTITY;`: a struct's associated constant.
            (Pat::Ident(_), Expr::Path(_)) if read == chain::strip(init) => {
                built_struct(init).map(Some)
            }
            // `let mut b = w.ball;`: a copy of a field.
            (Pat::Ident(_), Expr::Field(_)) => Some(self.copy_type(read)),
            // A copy of an element of a slice of them (`let mut b = balls[0];`), or another value
            // `struct_type_of` knows to be one (what the struct's operator returned,
            // `V2::sub(a, b)`): that type. (Not yet what any method of it returned.)
            (
                Pat::Ident(_),
                Expr::Index(_) | Expr::MethodCall(_) | Expr::Call(_) | Expr::If(_) | Expr::Match(_),
            ) if self.env.last().is_some_and(|b| b.struct_ty.is_some()) => {
                let ty = self.env.last().and_then(|b| b.struct_ty.clone());
                Some(ty.map(|t| quote!(#t)))
            }
            // `let s = State::new(..);` (`State::default()`): a constructor by its
            // conventional name returns the type it is called on (not `Vec::new()`).
            (Pat::Ident(_), Expr::Call(_)) => built_struct(init).map(Some),
            // A struct update, `let s = S { x, ..base };` (see `syntax::struct_update`).
            (Pat::Ident(_), Expr::Block(_)) => built_struct(init).map(Some),
            // `let l = self.layers.first().unwrap();` (`last`, `get(i)`, `.expect(..)`): an
            // element of a field.
            (Pat::Ident(_), Expr::MethodCall(mc))
                if mc.method == "unwrap" || mc.method == "expect" =>
            {
                match chain::strip(&mc.receiver) {
                    Expr::MethodCall(acc)
                        if matches!(acc.method.to_string().as_str(), "first" | "last" | "get") =>
                    {
                        Some(self.elem_type(&acc.receiver))
                    }
                    // The best or last item of a chain over a container of the user's structs
                    // (`let far = ps.iter().max_by(..).unwrap();`): one of its elements.
                    Expr::MethodCall(best)
                        if matches!(
                            best.method.to_string().as_str(),
                            "max_by" | "min_by" | "max_by_key" | "min_by_key" | "last" | "reduce"
                        ) =>
                    {
                        let ty = self.container_struct(elements_root(&best.receiver));
                        // An element, so a struct whose methods named like array rules are
                        // its own, as on `ps[i]`.
                        if let (Pat::Ident(pi), Some(ty)) = (pat, &ty)
                            && let Some(binding) =
                                self.env.last_mut().filter(|b| pi.ident == b.name)
                        {
                            binding.struct_ty = Some(ty.clone());
                        }
                        ty.map(|ty| Some(quote!(#ty)))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let (Pat::Ident(pi), Some(ty)) = (pat, ty) {
            // A struct of integers (`Lcg { state: seed }` of `seed: u64`) is data, as one of
            // integer literals is (see `built_struct`).
            let data = self.data_struct(init);
            let mut made = None;
            if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
                if !data {
                    binding.built = built && ty.is_some();
                    made = binding.value.filter(|_| binding.built).zip(ty.clone());
                    // Not unknown where a copy of a known struct says (see above).
                    binding.place_ty = ty.or(binding.place_ty.take());
                }
            }
            // The value a literal or constructor made is the struct (its own `clear`, `swap`,
            // `push` are its methods, not a `Vec`'s).
            if let Some((v, ty)) = made {
                if let Ok(path) = syn::parse2::<syn::Path>(ty) {
                    self.struct_values.push((v, path));
                }
            }
            return;
        }
        let (Pat::Ident(pi), Expr::Reference(r)) = (pat, chain::strip(init)) else {
            return;
        };
        if r.mutability.is_some() || matches!(chain::strip(&r.expr), Expr::Path(_)) {
            return;
        }
        let ty = self.place_type(&r.expr);
        if let Some(binding) = self.env.last_mut().filter(|b| pi.ident == b.name) {
            binding.place_ty = ty;
        }
    }

    /// A struct literal (or a tuple struct's constructor) whose fields are all integer,
    /// `bool`, `char` or string literals or variables holding integers: it has no float field.
    fn data_struct(&self, init: &Expr) -> bool {
        let data = |e: &Expr| {
            data_literal(e)
                || matches!(chain::strip(e), Expr::Path(p) if p.path.get_ident()
                    .and_then(|id| self.lookup(&id.to_string()))
                    .and_then(|slot| self.env[slot].value)
                    .is_some_and(|v| self.kind(v) == Kind::Discrete))
        };
        match chain::strip(init) {
            Expr::Struct(es) => es.rest.is_none() && es.fields.iter().all(|f| data(&f.expr)),
            Expr::Call(c) => {
                matches!(chain::strip(&c.func), Expr::Path(fp) if tuple_struct_call(fp, c))
                    && c.args.iter().all(data)
            }
            _ => false,
        }
    }

    /// Whether `e` holds nothing that may be differentiated, as far as its syntax shows: a
    /// literal (a float literal is a constant), a variable holding integers, `bool`s or the
    /// like or a struct built from data only (`Binding::data`), a constant item (`SEED`,
    /// `u64::MAX`), a cast to an integer type, a shape query (`v.len()`), a range, and
    /// arithmetic, comparisons and logic of them.
    pub(super) fn data_expr(&self, e: &Expr) -> bool {
        self.data_like(e, false)
    }

    /// Whether `e` is an integer, `bool`, `char` or string as its syntax shows: what
    /// [`Self::data_expr`] takes but a float literal or constant, a variable of floats that
    /// hold no derivative, a cast to a float and a range.
    pub(super) fn discrete_operand(&self, e: &Expr) -> bool {
        self.data_like(e, true)
    }

    /// [`Self::data_expr`], or with `discrete`, [`Self::discrete_operand`].
    fn data_like(&self, e: &Expr, discrete: bool) -> bool {
        let like = |e: &Expr| self.data_like(e, discrete);
        match chain::strip(e) {
            Expr::Lit(l) if discrete => matches!(
                l.lit,
                syn::Lit::Int(_) | syn::Lit::Bool(_) | syn::Lit::Char(_) | syn::Lit::Str(_)
            ),
            Expr::Lit(l) => !matches!(l.lit, syn::Lit::Verbatim(_)),
            Expr::Path(p) => match p.path.get_ident() {
                Some(id) => match self.lookup(&id.to_string()) {
                    Some(slot) => {
                        (self.env[slot].data && !discrete)
                            || self.env[slot]
                                .value
                                .is_some_and(|v| self.kind(v) == Kind::Discrete)
                    }
                    // Not a variable in scope: a constant item or a static (`SEED`, `N`), or,
                    // named in lower case, a variable the code being looked over declares
                    // itself (the item of `for &v in x`, a `let` inside a loop's body), which
                    // may hold a differentiated value.
                    None => {
                        !discrete
                            && p.qself.is_none()
                            && id.to_string().chars().any(|c| c.is_uppercase())
                    }
                },
                None => !discrete && p.qself.is_none(),
            },
            Expr::Cast(c) => crate::types::is_inactive_type(&c.ty) || (!discrete && like(&c.expr)),
            Expr::Unary(u) => like(&u.expr),
            Expr::Reference(r) => r.mutability.is_none() && like(&r.expr),
            Expr::Binary(bin) => match bin.op {
                syn::BinOp::Lt(_)
                | syn::BinOp::Le(_)
                | syn::BinOp::Gt(_)
                | syn::BinOp::Ge(_)
                | syn::BinOp::Eq(_)
                | syn::BinOp::Ne(_) => true,
                _ => like(&bin.left) && like(&bin.right),
            },
            Expr::Range(r) if !discrete => {
                r.start.as_deref().is_none_or(like) && r.end.as_deref().is_none_or(like)
            }
            Expr::MethodCall(mc) => mc.args.is_empty() && is_shape_query(&mc.method.to_string()),
            _ => false,
        }
    }

    /// A value of the user's struct built from data only, which holds no differentiated value:
    /// a literal or a tuple struct's constructor of data ([`Self::data_struct`]), or a call of
    /// a function of the type given data only (`Lcg::new(7)`, `Lcg::new(seed)` of `seed: u64`,
    /// `Rng::seeded(3)`, `Lcg::default()`). A constructor given a differentiated value
    /// (`Noise::new(sigma)`) is not.
    pub(super) fn data_value(&self, init: &Expr) -> bool {
        if self.data_struct(init) {
            return true;
        }
        let Expr::Call(c) = chain::strip(init) else {
            return false;
        };
        let Expr::Path(fp) = chain::strip(&c.func) else {
            return false;
        };
        let segs = &fp.path.segments;
        fp.qself.is_none()
            && segs.len() >= 2
            && is_user_type_name(&segs[segs.len() - 2].ident.to_string())
            && c.args.iter().all(|a| self.data_expr(a))
    }

    /// `ps.clear()`, `ps.truncate(n)` and `ps.resize(n, p)` of a local `Vec` of the user's
    /// structs (declared `Vec<P>`, or built by pushes or `vec![..]` of them), whose adjoints in
    /// the table make zeros of elements from a length alone, which a struct with an ndarray
    /// field does not have: the `Vec` replaced by a new one, `ps = Vec::new()`, `ps =
    /// ps[..n].to_vec()` where `n` is shorter, and for `resize` that or `vec![p; n]` with the
    /// old elements written over its first ones, which are followed (the elements dropped get
    /// no cotangent).
    fn struct_vec_resize(&self, mc: &syn::ExprMethodCall) -> Option<Expr> {
        let name = mc.method.to_string();
        if !matches!(name.as_str(), "clear" | "truncate" | "resize") || mc.turbofish.is_some() {
            return None;
        }
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        let id = p.path.get_ident()?;
        let slot = self.lookup(&id.to_string())?;
        let param = self.f.params.iter().any(|q| q.ident == *id);
        if param || !self.env[slot].mutable || self.container_struct(&mc.receiver).is_none() {
            return None;
        }
        let span = mc.method.span();
        let args = &mc.args;
        Some(match (name.as_str(), args.len()) {
            ("clear", 0) => syn::parse_quote_spanned!(span=> #id = ::std::vec::Vec::new()),
            ("truncate", 1) => {
                let n = &args[0];
                syn::parse_quote_spanned!(span=> {
                    let __ad_len: usize = #n;
                    if __ad_len < #id.len() {
                        #id = #id[..__ad_len].to_vec();
                    }
                })
            }
            ("resize", 2) => {
                let (n, c) = (&args[0], &args[1]);
                syn::parse_quote_spanned!(span=> {
                    let __ad_len: usize = #n;
                    if __ad_len <= #id.len() {
                        #id = #id[..__ad_len].to_vec();
                    } else {
                        let mut __ad_grown = ::std::vec![#c; __ad_len];
                        for __ad_i in 0..#id.len() {
                            __ad_grown[__ad_i] = #id[__ad_i].clone();
                        }
                        #id = __ad_grown;
                    }
                })
            }
            _ => return None,
        })
    }

    /// Whether `e` is a variable built from data only (see `Binding::data`).
    pub(super) fn data_var(&self, e: &Expr) -> bool {
        matches!(chain::strip(e), Expr::Path(p) if p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .is_some_and(|slot| self.env[slot].data))
    }

    /// `rng.next_f64()`, `rng.below(n)`: a method of the user's called on a variable built
    /// from data only, given data only. Nothing differentiated reaches it, so it runs as
    /// written (a `&mut self` one too), and the floats it returns are constants.
    pub(super) fn data_method(&self, mc: &syn::ExprMethodCall) -> bool {
        is_user_method(mc)
            && self.data_var(&mc.receiver)
            && mc.args.iter().all(|a| self.data_expr(a))
    }

    /// Records the struct of the user's a `let` binds a name to (see `Binding::struct_ty`); it
    /// runs before `note_binding` records a literal's or constructor's type, which it reads
    /// back at the end.
    fn note_struct_binding(&mut self, pat: &Pat) {
        // `let (p, q): (V2, V2) = s.ends();`: each name declared as the struct it is.
        if let Pat::Type(pt) = pat {
            if let (Pat::Tuple(t), syn::Type::Tuple(tt)) = (&*pt.pat, &*pt.ty) {
                for (p, ty) in t.elems.iter().zip(&tt.elems) {
                    let Pat::Ident(pi) = p else { continue };
                    let (Some(slot), Some(ty)) =
                        (self.lookup(&pi.ident.to_string()), self.user_struct(ty))
                    else {
                        continue;
                    };
                    self.declare_struct(slot, ty);
                }
                return;
            }
        }
        // `let (mut p, mut q) = (a, b);`: each name bound to what `struct_type_of` knows.
        if let Pat::Tuple(t) = pat {
            for p in &t.elems {
                let Pat::Ident(pi) = p else { continue };
                let Some(slot) = self.lookup(&pi.ident.to_string()) else {
                    continue;
                };
                let known = self.env[slot].value.and_then(|v| self.struct_type_of(v));
                if let (None, Some(ty)) = (&self.env[slot].struct_ty, known) {
                    self.declare_struct(slot, ty);
                }
            }
            return;
        }
        let id = match pat {
            Pat::Ident(pi) => &pi.ident,
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => &pi.ident,
                _ => return,
            },
            _ => return,
        };
        let Some(slot) = self
            .env
            .len()
            .checked_sub(1)
            .filter(|&s| *id == self.env[s].name)
        else {
            return;
        };
        let ty = match pat {
            Pat::Type(pt) => self.user_struct(&pt.ty),
            _ => self.env[slot].value.and_then(|v| self.struct_type_of(v)),
        };
        self.env[slot].struct_ty = ty;
    }

    /// `s.step(dt)` whose result is not used, on a `mut` variable `s` holding a struct of the
    /// user's: a method taking `&mut self`, which `#[differentiate]` on it writes as
    /// `__ad_mut_step(mut self, dt) -> Self` (see `crate::mut_self`); the assignment
    /// `s = State::__ad_mut_step(s, dt)`, differentiated as any call of a method taking
    /// `self`. `None` for anything else.
    pub(super) fn mut_self_call(&self, mc: &syn::ExprMethodCall) -> Option<Expr> {
        // Also a method named like a `Vec`'s mutation (`f.push(x)` of a filter's own `push`) on a
        // variable holding the struct.
        let own = is_own_method(mc)
            || (MutId::find(&mc.method.to_string()).is_some()
                && self.holds_user_struct(&mc.receiver));
        if !own || self.data_method(mc) {
            return None;
        }
        let f = quote::format_ident!("__ad_mut_{}", mc.method, span = mc.method.span());
        let args = &mc.args;
        let sep = if args.is_empty() { quote!() } else { quote!(,) };
        let recv = chain::strip(&mc.receiver);
        // An element of a container of the user's structs (`bodies[i].step(dt)`,
        // `self.bodies[i].step(dt)`), or the item of `for b in bodies.iter_mut()`: the new
        // state is written back where the old one was, through the element's type. (Not a
        // field, `s.v.extend(..)`, nor a method the standard library or ndarray has for
        // changing a container or an array in place: the element may be one.)
        let place = match recv {
            _ if IN_PLACE_METHODS.contains(&mc.method.to_string().as_str()) => None,
            Expr::Path(_) => self.cell_named(recv).and_then(|_| self.place_type(recv)),
            Expr::Index(_) => self.place_type(recv),
            _ => None,
        };
        if let Some(ty) = place {
            let mut ty: syn::Path = syn::parse_quote_spanned!(mc.method.span()=> #ty);
            for seg in &mut ty.segments {
                if let syn::PathArguments::AngleBracketed(a) = &mut seg.arguments {
                    a.colon2_token = Some(Default::default());
                }
            }
            let target: Expr = match recv {
                Expr::Path(_) => syn::parse_quote_spanned!(recv.span()=> *#recv),
                _ => recv.clone(),
            };
            return Some(syn::parse_quote_spanned! {super::span::method_span(mc)=>
                #target = #ty::#f((#target).clone() #sep #args)
            });
        }
        let (id, ty) = self.mut_local_struct(mc)?;
        Some(
            syn::parse_quote_spanned! {super::span::method_span(mc)=> #id = #ty::#f(#id #sep #args) },
        )
    }

    /// `opt.update(&mut w, &g)`, a method of the user's lent buffers on a `mut` local `opt`
    /// holding a struct of the user's: the call of the method's copy taking its receiver as a
    /// `&mut` parameter, `Opt::__ad_self_update(&mut opt, &mut w, &g)` (see
    /// `crate::mut_self::self_lent_copy`), which is then followed as a call lending buffers.
    /// `None` for anything else.
    pub(super) fn self_lent_call(&self, mc: &syn::ExprMethodCall) -> Option<Expr> {
        let own = is_own_method(mc)
            || (MutId::find(&mc.method.to_string()).is_some()
                && self.holds_user_struct(&mc.receiver));
        if !own || self.data_method(mc) {
            return None;
        }
        let (id, ty) = self.mut_local_struct(mc)?;
        let f = crate::mut_self::self_lent_name(&mc.method);
        let args = &mc.args;
        Some(syn::parse_quote_spanned! {super::span::method_span(mc)=>
            #ty::#f(&mut #id, #args)
        })
    }

    /// The `mut` local variable the method call `mc` is made on and the struct of the user's
    /// it holds (`Self` for `self`), where the macro knows it (see `mut_self_call`).
    fn mut_local_struct(&self, mc: &syn::ExprMethodCall) -> Option<(syn::Ident, syn::Path)> {
        let recv = chain::strip(&mc.receiver);
        let Expr::Path(p) = recv else {
            return None;
        };
        let id = p.path.get_ident()?;
        let slot = self.lookup(&id.to_string())?;
        if !self.env[slot].mutable || self.env[slot].value.is_none() {
            return None;
        }
        let name = mc.method.to_string();
        let own_name = is_own_method(mc)
            && MutId::find(&name).is_none()
            && !IN_PLACE_METHODS.contains(&name.as_str());
        let self_ty: Option<syn::Path> = (id == "self").then(|| syn::parse_quote!(Self));
        let ty = self_ty
            .or_else(|| self.struct_var(&mc.receiver))
            .or_else(|| {
                // Declared `let mut s: State = ..`; a field's type named through the runtime
                // below.
                let place = self.env[slot].place_ty.clone()?;
                if place.to_string().contains("__private") {
                    return None;
                }
                self.user_struct(&syn::parse2(place).ok()?)
            })
            .or_else(|| {
                // A copy of a field (`let mut a = pr.a;`, `pr.b.clone()`), whose type the
                // runtime names (`FieldTy::<..>`), as a method on it is called (see
                // `field_method`).
                let place = self.env[slot].place_ty.clone()?;
                if !own_name || !place.to_string().contains("__private") {
                    return None;
                }
                let mut ty: syn::Path = syn::parse_quote_spanned!(mc.method.span()=> #place);
                for seg in &mut ty.segments {
                    if let syn::PathArguments::AngleBracketed(a) = &mut seg.arguments {
                        a.colon2_token = Some(Default::default());
                    }
                }
                Some(ty)
            })
            // What a method of the struct returned (`let mut m = p.scaled(k);`), taken to be the
            // struct as a method called on it is (see `made_by_struct_method`): for a method of
            // the user's own name, not a `Vec`'s mutation (`v.push(x)` of a `Vec` a method made).
            .or_else(|| {
                own_name
                    .then(|| self.struct_of_made(self.env[slot].value?))
                    .flatten()
            })?;
        Some((id.clone(), ty))
    }

    /// `e.normalize();` of a method of the user's on the item of a loop by mutable reference
    /// (`for e in es.iter_mut()`) over a container whose element type the macro does not see
    /// (`let mut es = self.edges();`): the method may change the item, which needs the element
    /// type to be followed. The message to report, or `None` where the call is followed.
    pub(super) fn unknown_item_mut_call(&self, mc: &syn::ExprMethodCall) -> Option<String> {
        let recv = chain::strip(&mc.receiver);
        if !matches!(recv, Expr::Path(_))
            || !is_own_method(mc)
            || IN_PLACE_METHODS.contains(&mc.method.to_string().as_str())
            || self.data_method(mc)
            || self.place_type(recv).is_some()
        {
            return None;
        }
        let cell = self.cell_named(recv)?;
        let container = self.env[cell.slot].name.clone();
        let (item, m) = (quote!(#recv).to_string(), &mc.method);
        Some(format!(
            "`{item}.{m}(..)` is called on the item of a loop by mutable reference over \
             `{container}`, whose element type the macro does not see (a `Vec` that a function or \
             method returned), and `{m}` may change the item; declare it with its type, `let mut \
             {container}: Vec<YourStruct> = ..;`, and the call is followed"
        ))
    }

    /// A call passing `&mut` arguments (`matvec_into(a, x, &mut y)`, `self.fill(&mut y)`): a
    /// call of the copy that takes the buffers by value and returns them (see
    /// `crate::mut_self`), written as `y = __ad_mut_matvec_into(a, x, y)`, or `{ let t =
    /// __ad_mut_f(x, y, z); y = t.0; z = t.1; }` for several, or `{ let t = __ad_mutv_f(x, y);
    /// y = t.0; t.1 }` where the result is used; for a call that `passes_mut`. `None` after an
    /// error where an argument is not a `mut` variable. With the call, the buffers that are
    /// fixed-size arrays (`let mut y = [0.0; 3];`): the call is of the copy for arrays,
    /// `__ad_muta_matvec_into`.
    fn mut_buffer_call(&mut self, e: &Expr, want: bool) -> Option<(Expr, Vec<syn::Ident>)> {
        let args = match e {
            Expr::Call(c) => &c.args,
            Expr::MethodCall(mc) => &mc.args,
            _ => return None,
        };
        let mut buffers: Vec<syn::Ident> = Vec::new();
        // The fixed-size arrays lent: the call is of the copy taking `&mut [T]` as arrays.
        let mut arrays: Vec<syn::Ident> = Vec::new();
        let mut new_args: syn::punctuated::Punctuated<Expr, syn::Token![,]> =
            syn::punctuated::Punctuated::new();
        for a in args {
            let Expr::Reference(r) = a else {
                new_args.push(a.clone());
                continue;
            };
            if r.mutability.is_none() {
                new_args.push(a.clone());
                continue;
            }
            let var = match chain::strip(&r.expr) {
                Expr::Path(p) => p.path.get_ident().cloned(),
                _ => None,
            };
            let slot = var.as_ref().and_then(|v| self.lookup(&v.to_string()));
            let held = slot.and_then(|s| self.env[s].value.filter(|_| self.env[s].mutable));
            if held.is_some_and(|v| self.kind(v) == Kind::Discrete) {
                // A counter or flags: no derivative to carry, and no copy of the helper.
                let name = var.as_ref().map_or(String::new(), |v| format!(" `{v}`"));
                self.err(
                    r.mutability.span(),
                    format!(
                        "`&mut` of an integer or `bool`{name} (a counter, a generator's state) \
                         is not followed in a call: `&mut` buffers of floats, arrays and structs \
                         are; return the new value instead (`let (u, s) = next(seed); seed = \
                         s;`), or keep the state in a struct with a `&mut self` method \
                         (`rng.next()`), which runs as written"
                    ),
                );
                return None;
            }
            if let Expr::Field(place) = chain::strip(&r.expr) {
                let place = quote::quote!(#place).to_string().replace(" . ", ".");
                let callee = match e {
                    Expr::Call(c) => match &*c.func {
                        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    },
                    Expr::MethodCall(mc) => Some(mc.method.to_string()),
                    _ => None,
                }
                .unwrap_or_else(|| "f".into());
                self.err(
                    r.span(),
                    format!(
                        "a field lent `&mut` to a differentiated call (`&mut {place}`) is not \
                         followed: copy it into a local of its type, lend the local and assign \
                         it back (`let mut v: [f64; 2] = {place};`, `{place}.clone()` for a \
                         `Vec`, then `{callee}(.., &mut v, ..); {place} = v;`), which is followed"
                    ),
                );
                return None;
            }
            let Some(var) = var.filter(|_| held.is_some()) else {
                self.err(
                    r.span(),
                    "a `&mut` argument of a differentiated call must be a `mut` local variable \
                     (`let mut y = vec![0.0; n]; matvec_into(a, x, &mut y);`), or an element of \
                     one (`bump(&mut v[i], k);`, with plain indices, in a statement or a `let` \
                     of its own): the call is differentiated as one that takes the variable's \
                     value and gives back its new value",
                );
                return None;
            };
            let fixed = slot.is_some_and(|s| self.env[s].fixed_array);
            if fixed || held.is_some_and(|v| self.f.lent_array(v).is_some()) {
                arrays.push(var.clone());
            }
            buffers.push(var.clone());
            new_args.push(syn::parse_quote!(#var));
        }
        let array = !arrays.is_empty();
        let call: Expr = match e {
            Expr::Call(c) => {
                let mut c = c.clone();
                let Expr::Path(p) = &mut *c.func else {
                    self.err(
                        c.func.span(),
                        "call a function that takes `&mut` buffers by its name",
                    );
                    return None;
                };
                let last = p.path.segments.last_mut()?;
                last.ident = crate::mut_self::copy_name(&last.ident, want, array);
                c.args = new_args;
                Expr::Call(c)
            }
            Expr::MethodCall(mc) => {
                let mut mc = mc.clone();
                mc.method = crate::mut_self::copy_name(&mc.method, want, array);
                mc.args = new_args;
                Expr::MethodCall(mc)
            }
            _ => return None,
        };
        if let ([one], false) = (&buffers[..], want) {
            return Some((syn::parse_quote_spanned! {e.span()=> #one = #call }, arrays));
        }
        let t = quote::format_ident!("__ad_buffers");
        let parts = buffers.iter().enumerate().map(|(k, v)| {
            let k = syn::Index::from(k);
            quote::quote!(#v = #t.#k;)
        });
        let value = want.then(|| {
            let k = syn::Index::from(buffers.len());
            quote::quote!(#t.#k)
        });
        let call = syn::parse_quote_spanned! {e.span()=>
            { let #t = #call; #(#parts)* #value }
        };
        Some((call, arrays))
    }

    /// The call `e` passing `&mut` buffers, lowered as [`Lowering::mut_buffer_call`] writes it;
    /// the arrays it gives back are marked as such (`Func::array_buffers`), for the calls that
    /// lend them next.
    pub(super) fn buffer_call(&mut self, b: Block, e: &Expr, want: bool) -> Option<Value> {
        let src_args = match e {
            Expr::Call(c) => &c.args,
            Expr::MethodCall(mc) => &mc.args,
            _ => return None,
        };
        // A struct of data lent beside buffers that hold no derivative and data only
        // (`Lcg::__ad_self_fill(&mut rng, &mut eps)` of `rng.fill(&mut eps)`, a generator
        // filling a buffer of noise) stays data: nothing differentiated reaches it. (Its
        // methods given data then run as written, `rng.next_f64()`.)
        let data_structs: Vec<usize> = if src_args
            .iter()
            .all(|a| self.lent_constant(a) || self.data_expr(a))
        {
            src_args
                .iter()
                .filter_map(|a| match a {
                    Expr::Reference(r) if r.mutability.is_some() => self.path_slot_of(&r.expr),
                    _ => None,
                })
                .filter(|&slot| self.env[slot].data)
                .collect()
        } else {
            Vec::new()
        };
        let (call, arrays) = self.mut_buffer_call(e, want)?;
        let lent: Vec<usize> = src_args
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a, Expr::Reference(r) if r.mutability.is_some()))
            .map(|(k, _)| k)
            .collect();
        let n0 = self.f.insts.len();
        let v = self.expr(b, &call, want);
        self.record_buffer_call(n0, src_args.len(), lent);
        for slot in data_structs {
            self.env[slot].data = true;
        }
        for a in arrays {
            let new = self.lookup(&a.to_string()).and_then(|s| self.env[s].value);
            self.f.array_buffers.extend(new);
        }
        v
    }

    /// Marks the call of a by-value copy lowered since instruction `n0` (see
    /// [`Func::buffer_calls`]): `lent` are the positions of the `&mut` arguments among the
    /// source's last `n_src` (a method's receiver comes first in the call, before them; with
    /// `n_src` 0, `lent` are positions in the call).
    pub(super) fn record_buffer_call(&mut self, n0: usize, n_src: usize, lent: Vec<usize>) {
        let found = (n0..self.f.insts.len()).find_map(|n| match &self.f.insts[n].kind {
            InstKind::Call { path, args }
                if path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident.to_string().starts_with("__ad_mut")) =>
            {
                let offset = if n_src == 0 {
                    0
                } else {
                    args.len().saturating_sub(n_src)
                };
                Some((Inst(n as u32), offset))
            }
            // `rng.fill_noise(&mut noise)`: the receiver is not among the arguments.
            InstKind::Method { name, .. } if name.to_string().starts_with("__ad_mut") => {
                Some((Inst(n as u32), 0))
            }
            _ => None,
        });
        if let Some((i, offset)) = found {
            let lent = lent.into_iter().map(|k| k + offset).collect();
            self.f.buffer_calls.insert(i, lent);
        }
    }

    /// `s.step(dt)` whose result is not used, on a parameter `s: &mut State` of a struct of the
    /// user's: the parameter's name, for the error that says to call it on a local copy (a
    /// `&mut self` method's new state is not written back through the reference).
    pub(super) fn method_on_mut_param(&self, mc: &syn::ExprMethodCall) -> Option<String> {
        if !is_own_method(mc) {
            return None;
        }
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        let n = self.active_param(p)?;
        let param = &self.f.params[n];
        match &param.ty {
            syn::Type::Reference(r)
                if r.mutability.is_some() && crate::types::struct_path(&r.elem).is_some() =>
            {
                Some(param.ident.to_string())
            }
            _ => None,
        }
    }

    /// The user's struct the variable `e` names holds (see `Binding::struct_ty`), or that a
    /// literal or constructor built it as.
    /// The binding a path of one name refers to.
    fn path_slot(&self, p: &syn::ExprPath) -> Option<usize> {
        self.lookup(&p.path.get_ident()?.to_string())
    }

    /// `&mut x` of a variable whose value depends on no differentiated parameter as far as
    /// [`Self::constant_value`] sees (a buffer of noise, `let mut eps = vec![0.0; n];`, and
    /// what calls given such values only wrote into it).
    pub(super) fn lent_constant(&self, e: &Expr) -> bool {
        let Expr::Reference(r) = e else { return false };
        r.mutability.is_some()
            && self
                .path_slot_of(&r.expr)
                .and_then(|slot| self.env[slot].value)
                .is_some_and(|v| self.constant_value(v, 32))
    }

    /// Whether `v` depends on no differentiated parameter, as the instructions lowered so far
    /// show (`depth` bounds the search; a value a loop carries is taken as it was before the
    /// loop, and what a loop or a branch gives is not looked into).
    fn constant_value(&self, v: Value, depth: u32) -> bool {
        let v = self.before_loops(v);
        if self.kind(v) == Kind::Discrete {
            return true;
        }
        if depth == 0 {
            return false;
        }
        match self.f.value(v).def {
            ValueDef::Param(n) => !self.f.params[n].active,
            ValueDef::Result(i, _) => {
                !matches!(
                    self.f.inst(i).kind,
                    InstKind::Loop { .. } | InstKind::If { .. } | InstKind::Match { .. }
                ) && (self.f.operands(i).iter()).all(|&u| self.constant_value(u, depth - 1))
            }
            _ => false,
        }
    }

    /// The binding the expression `e`, a path of one name, refers to.
    fn path_slot_of(&self, e: &Expr) -> Option<usize> {
        match chain::strip(e) {
            Expr::Path(p) => self.path_slot(p),
            _ => None,
        }
    }

    /// Whether the value of the variable `e` is known to be a struct of the user's by how it
    /// was made ([`Self::struct_type_of`]: a copy of a parameter of the struct's type, `let mut
    /// f = f0.clone();` of `f0: &Fir`, or what its operators returned). Not by a declared type
    /// alone, which may be an alias (`let mut v: Vf = Vec::new();` of `type Vf = Vec<f64>;`,
    /// whose `push` is `Vec`'s).
    fn holds_user_struct(&self, e: &Expr) -> bool {
        let Expr::Path(p) = chain::strip(e) else {
            return false;
        };
        let Some(v) = self.path_slot(p).and_then(|slot| self.env[slot].value) else {
            return false;
        };
        self.struct_type_of(self.before_loops(v)).is_some()
    }

    /// What `v`, a value loops carry, was before them (`v` itself if no loop carries it).
    pub(super) fn before_loops(&self, mut v: Value) -> Value {
        while let Some(&(_, init)) = self.carried_init.iter().find(|(b, _)| *b == v) {
            v = init;
        }
        v
    }

    /// Records that the variable in `slot` holds the user's struct `ty`: its methods and
    /// operators are the struct's.
    pub(super) fn declare_struct(&mut self, slot: usize, ty: syn::Path) {
        self.env[slot].place_ty = Some(quote!(#ty));
        self.env[slot].struct_ty = Some(ty);
    }

    pub(super) fn struct_var(&self, e: &Expr) -> Option<syn::Path> {
        let p = match chain::strip(e) {
            Expr::Path(p) => p,
            // `*a` of the item of `for a in psi.iter_mut()` over a `Vec` of the struct.
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                let Expr::Path(p) = chain::strip(&u.expr) else {
                    return None;
                };
                let slot = self.lookup(&p.path.get_ident()?.to_string())?;
                if self.env[slot].cell.is_some() {
                    return self.env[slot].struct_ty.clone();
                }
                // `*v` of an item borrowing an element (`v` of `for (p, v) in
                // ps.iter_mut().zip(vs.iter())`, `(i, p)` of `.iter().enumerate()`): the
                // element, of the struct the item is (where its element type names one, not
                // the runtime's `Elem<..>` of a container the macro does not see through).
                let b = &self.env[slot];
                if let Some(ty) = &b.struct_ty {
                    return Some(ty.clone());
                }
                let ty: syn::Type = syn::parse2(b.place_ty.clone().filter(|_| b.built)?).ok()?;
                return self.user_struct(&ty);
            }
            _ => return None,
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let b = &self.env[slot];
        if let Some(ty) = &b.struct_ty {
            return Some(ty.clone());
        }
        if !b.built {
            return None;
        }
        let ty: syn::Type = syn::parse2(b.place_ty.clone()?).ok()?;
        self.built_user_struct(&ty)
    }

    /// The parameter a path names, if it is one left out by `wrt` whose type is a struct of
    /// the user's (`spring: &Spring`): its methods are called through the type too
    /// (`Spring::energy(spring, x)`), so that a differentiated argument is differentiated
    /// through `energy_vjp`, and with none the call runs as written.
    pub(super) fn data_struct_param(&self, p: &syn::ExprPath) -> Option<usize> {
        if p.path.is_ident("self") {
            return None;
        }
        let n = self.unchanged_param(p)?;
        let param = &self.f.params[n];
        let (ty, _) = crate::types::struct_path(&param.ty)?;
        let generic = ty.segments.len() == 1
            && self
                .type_params
                .iter()
                .any(|t| ty.segments[0].ident == t.as_str());
        (!param.active && !generic).then_some(n)
    }

    /// Whether a path names a parameter (not a local of that name since).
    fn names_param(&self, p: &syn::ExprPath) -> bool {
        self.path_slot(p)
            .and_then(|slot| self.env[slot].value)
            .is_some_and(|v| matches!(self.f.value(v).def, ValueDef::Param(_)))
    }

    /// The parameter a path names, if it is a slice, array or `Vec` of structs of the user's
    /// that `wrt` leaves out (`springs: &[Spring]`): its elements' methods are followed as on
    /// a differentiated one, and differentiated where given differentiated arguments.
    fn data_structs_param(&self, p: &syn::ExprPath) -> Option<usize> {
        let n = self.unchanged_param(p)?;
        let param = &self.f.params[n];
        self.user_struct(elem_type(&param.ty)?)?;
        (!param.active).then_some(n)
    }

    /// The parameter a path names through a binding that is not `mut` (so still its value).
    fn unchanged_param(&self, p: &syn::ExprPath) -> Option<usize> {
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        if self.env[slot].mutable {
            return None;
        }
        match self.f.value(self.env[slot].value?).def {
            ValueDef::Param(n) => Some(n),
            _ => None,
        }
    }

    /// Whether a path names a parameter left out of the derivative (by `wrt`, or by its type:
    /// a `Cell` parameter).
    /// Whether `e` names a variable read from a parameter left out of the derivative through
    /// element reads and references only (`o` of `for o in ys` with `ys: &[Option<f64>]` left
    /// out by `wrt`): data whose type the macro does not see, its methods run as written
    /// (`o.as_ref()` of an `Option`, not a `Vec`'s).
    pub(super) fn read_from_data_param(&self, e: &Expr) -> bool {
        // An element of data read in place, `data[i].as_ref()` of `data: &[D]`, as a loop's
        // item `row` of `for row in data` is.
        let p = match chain::strip(e) {
            Expr::Path(p) => p,
            Expr::Index(ix) => return self.read_from_data_param(&ix.expr),
            Expr::Reference(r) => return self.read_from_data_param(&r.expr),
            _ => return false,
        };
        let Some(mut v) = self.path_slot(p).and_then(|s| self.env[s].value) else {
            return false;
        };
        loop {
            match self.f.value(v).def {
                ValueDef::Param(n) => return !self.f.params[n].active,
                ValueDef::Result(i, 0) => match self.f.inst(i).kind {
                    InstKind::Index(base, _) | InstKind::Ref(base) | InstKind::Deref(base) => {
                        v = base
                    }
                    _ => return false,
                },
                _ => return false,
            }
        }
    }

    pub(super) fn inactive_param(&self, p: &syn::ExprPath) -> bool {
        let Some(slot) = self.path_slot(p) else {
            return false;
        };
        let Some(ValueDef::Param(n)) = self.env[slot].value.map(|v| self.f.value(v).def) else {
            return false;
        };
        !self.f.params[n].active && !self.env[slot].mutable
    }

    /// The parameter a path names, if it is a differentiated one (a parameter left out by
    /// `wrt`, or a type parameter `T: Into<f64>`, runs its methods as written).
    fn active_param(&self, p: &syn::ExprPath) -> Option<usize> {
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let ValueDef::Param(n) = self.f.value(self.env[slot].value?).def else {
            return None;
        };
        self.f.params[n].active.then_some(n)
    }

    /// `v.sort_by(|a, b| a.partial_cmp(b).unwrap())` (`sort_unstable_by`, `sort_by_key`,
    /// `sort_unstable_by_key`, `sort_by_cached_key`, a function for the closure:
    /// `v.sort_by(f64::total_cmp)`) on a variable `v` declared `mut` or a `&mut` parameter: a
    /// permutation. The positions in sorted order are found as written, by a stable sort of
    /// `0..v.len()` comparing the elements at them (for the unstable sorts, by the runtime's
    /// `unstable_sort_order`, which orders ties as the sort of the elements does); then
    /// `v[k] = old[perm[k]]`, so that each element's adjoint goes back to where the element
    /// came from. `None` for anything else.
    fn sort_by(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Option<Value>> {
        let name = mc.method.to_string();
        let by_key = match name.as_str() {
            "sort_by" | "sort_unstable_by" => false,
            "sort_by_key" | "sort_unstable_by_key" | "sort_by_cached_key" => true,
            _ => return None,
        };
        if mc.args.len() != 1 || mc.turbofish.is_some() {
            return None;
        }
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        let v = p.path.get_ident()?.clone();
        self.mutable_root(&mc.receiver)?;
        let span = mc.method.span();
        let (i, j) = (
            syn::Ident::new("__ad_i", span),
            syn::Ident::new("__ad_j", span),
        );
        let f = &mc.args[0];
        // An unstable sort orders ties of distinct elements as its path through its code
        // goes, so the positions are found by the runtime sorting them as the elements would be
        // (`unstable_sort_order`), given the comparison of the elements at two positions.
        if name.starts_with("sort_unstable") {
            let cmp: TokenStream = match (chain::strip(f), by_key) {
                (Expr::Closure(c), false) if c.inputs.len() == 2 => {
                    let (pa, pb, body) = (&c.inputs[0], &c.inputs[1], &c.body);
                    quote::quote_spanned! {span=>
                        |#i: &usize, #j: &usize| { let #pa = &#v[*#i]; let #pb = &#v[*#j]; #body }
                    }
                }
                (Expr::Closure(c), true) if c.inputs.len() == 1 => {
                    let (pa, body) = (&c.inputs[0], &c.body);
                    quote::quote_spanned! {span=>
                        |#i: &usize, #j: &usize| ::core::cmp::Ord::cmp(
                            &{ let #pa = &#v[*#i]; #body },
                            &{ let #pa = &#v[*#j]; #body },
                        )
                    }
                }
                (Expr::Closure(_), _) => return None,
                (f, false) => quote::quote_spanned! {span=>
                    |#i: &usize, #j: &usize| (#f)(&#v[*#i], &#v[*#j])
                },
                (f, true) => quote::quote_spanned! {span=>
                    |#i: &usize, #j: &usize| ::core::cmp::Ord::cmp(&(#f)(&#v[*#i]), &(#f)(&#v[*#j]))
                },
            };
            let k = &self.krate;
            let perm = quote::quote_spanned! {span=>
                #k::__private::unstable_sort_order(&#v[..], #cmp)
            };
            return self.apply_order(b, &v, perm, span);
        }
        let order: TokenStream = match (chain::strip(f), by_key) {
            (Expr::Closure(c), false) if c.inputs.len() == 2 => {
                let (pa, pb, body) = (&c.inputs[0], &c.inputs[1], &c.body);
                quote::quote_spanned! {span=>
                    __ad_perm.sort_by(|#i, #j| { let #pa = &#v[*#i]; let #pb = &#v[*#j]; #body })
                }
            }
            (Expr::Closure(c), true) if c.inputs.len() == 1 => {
                let (pa, body) = (&c.inputs[0], &c.body);
                quote::quote_spanned! {span=>
                    __ad_perm.sort_by_cached_key(|#i| { let #pa = &#v[*#i]; #body })
                }
            }
            (Expr::Closure(_), _) => return None,
            (f, false) => quote::quote_spanned! {span=>
                __ad_perm.sort_by(|#i, #j| (#f)(&#v[*#i], &#v[*#j]))
            },
            (f, true) => quote::quote_spanned! {span=>
                __ad_perm.sort_by_cached_key(|#i| (#f)(&#v[*#i]))
            },
        };
        let perm: TokenStream = quote::quote_spanned! {span=> {
            let mut __ad_perm: ::std::vec::Vec<usize> = (0..#v.len()).collect();
            #order;
            __ad_perm
        }};
        self.apply_order(b, &v, perm, span)
    }

    /// The sort of `v` found by `perm` (the positions in sorted order, found as written):
    /// `v[k] = old[perm[k]]`, element by element.
    fn apply_order(
        &mut self,
        b: Block,
        v: &syn::Ident,
        perm: TokenStream,
        span: Span,
    ) -> Option<Option<Value>> {
        let perm = self.opaque(b, perm, Kind::Discrete, true, span)?;
        self.bind("__ad_sorted_at".to_string(), Some(perm));
        let apply: Expr = syn::parse_quote_spanned! {span=> {
            let __ad_unsorted = #v.to_vec();
            for __ad_k in 0..__ad_unsorted.len() {
                #v[__ad_k] = __ad_unsorted[__ad_sorted_at[__ad_k]];
            }
        }};
        self.expr(b, &apply, false);
        Some(None)
    }

    /// A method with a turbofish (`s.parse::<u32>()`) or a closure argument (ndarray's
    /// `a.mapv(|v| ..)`), run as written: an error if it reads a differentiated value and its
    /// result matters (see `check`), or if it may change a variable declared `mut`.
    pub(super) fn method_as_written(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Value> {
        // Spanned at the method's name: what diagnostics about it underline.
        let span = mc.method.span();
        let name = mc.method.to_string();
        // `best.partition_point(|&b| b < v)`, `v.binary_search_by(..)`: searches that take
        // `&self` change nothing, whatever their closure.
        let reads = prim::is_discrete_method(&name) || prim::places::is_read(&name);
        if let Some(root) = self.mutable_root(&mc.receiver).filter(|_| !reads) {
            if mc.args.iter().any(closures::is_closure_like) {
                // `best.is_none_or(|b| ..)` of a local `Option` the rewrite of local `Option`s
                // left as written: the error is at the use that made it so.
                if let Some(e) = super::options::left_as_written(&root.to_string()) {
                    self.errors.extend(e);
                    return None;
                }
                let m = &mc.method;
                // `a.map(f)` changes nothing (an array's takes it by value, ndarray's borrows
                // it): a local array made by `from_fn` or written by element is `mut` here.
                if name == "map" {
                    self.err_at(
                        m,
                        format!(
                            "`{root}.map(..)` is not followed here: of a fixed-size array, build \
                             the new array element by element, `let b: [f64; 3] = \
                             std::array::from_fn(|i| {root}[i] * {root}[i]);`, or collect an \
                             iterator chain into a `Vec`, `{root}.iter().map(|v| v * v)\
                             .collect::<Vec<_>>()`; of an ndarray array, write `{root}.mapv(|v| \
                             ..)`"
                        ),
                    );
                    return None;
                }
                // Named as written (`self.w`, not `self`): the field is what changes.
                let place = field_text(&mc.receiver)
                    .or_else(|| element_text(&mc.receiver))
                    .unwrap_or_else(|| root.to_string());
                // ndarray's `mapv_inplace` is `mapv` assigned back, which is followed.
                let instead = if name == "mapv_inplace" {
                    format!("assign the mapped copy, `{place} = {place}.mapv(|v| ..);`")
                } else if name == "map_inplace" {
                    format!(
                        "write `*v` once on each path, in the closure's last statement, `*v = \
                         ..` (or `*v += ..`, `-=`, `*=`, `/=`), which is followed as \
                         `{place}.mapv_inplace(|v| ..)`, or \
                         assign the mapped copy, `{place} = {place}.mapv(|v| ..);`"
                    )
                } else if name == "zip_mut_with" {
                    // An ndarray array of any dimension: `Zip` writes through its closure's
                    // first argument, which is followed, where an index loop would need one
                    // index per axis.
                    format!(
                        "write `*e` once on each path, in the closure's last statement, `*e = \
                         ..` (or `*e += ..`, `-=`, `*=`, `/=`), which is followed as the `Zip` it \
                         stands for, \
                         `Zip::from(&mut {place}).and(&other).for_each(|e, &o| *e = ..);`"
                    )
                } else if name.starts_with("select_nth_unstable") {
                    // A median or a quantile: the sort is followed, its order going back
                    // to the elements' adjoints.
                    format!(
                        "sort it, `{place}.sort_by(|a, b| a.partial_cmp(b).unwrap());` (followed), \
                         and read the element at the position, `{place}[k]`"
                    )
                } else if name.starts_with("sort") && self.mut_ref_param(&root) {
                    // A field of a `&mut` parameter: the sort is followed on a local copy.
                    format!(
                        "copy the parameter into a local first (`let mut {root} = \
                         {root}.clone();`), where `{place}.{m}(..)` is followed, and return what \
                         the caller needs"
                    )
                } else if name.starts_with("sort") {
                    // A sort of a place the lowering of the sorts does not take (a row at a
                    // computed position): an index loop cannot say what it does, a sorted copy
                    // written back can.
                    format!(
                        "sort a copy and write it back (`let mut sorted = {place}.to_vec(); \
                         sorted.{m}(..); {place}.copy_from_slice(&sorted);`), whose sort is \
                         followed"
                    )
                } else {
                    format!(
                        "write an index loop (`for i in 0..{place}.len() {{ {place}[i] = .. }}`)"
                    )
                };
                self.err_at(
                    m,
                    format!(
                        "`{place}.{m}(..)` with a closure may change `{place}`, and the \
                         derivative cannot follow what the closure does there; {instead}"
                    ),
                );
                return None;
            }
        }
        // A position found by a closure that compares (`binary_search_by`) is discrete, and so
        // is the position taken out of its `Result`, `.unwrap_or_else(|e| e)`.
        let of_position = name == "unwrap_or_else"
            && matches!(chain::strip(&mc.receiver), Expr::MethodCall(r)
                if prim::is_discrete_method(&r.method.to_string()));
        let kind = if prim::is_discrete_method(&name) || of_position {
            Kind::Discrete
        } else {
            Kind::Unknown
        };
        self.opaque(
            b,
            Expr::MethodCall(mc.clone()).to_token_stream(),
            kind,
            true,
            span,
        )
    }

    /// A chain over the items of a string (`text.split_whitespace()`, `.chars()`, `.split(' ')`
    /// and data-only adapters after them) whose later adapters or consumer read differentiated
    /// values (`text.split(' ').map(|t| w[vocab[t]]).sum()`): `{ let __ad_items: Vec<_> =
    /// (items).collect(); __ad_items.into_iter().map(..).sum() }`, a chain over a `Vec`, as a
    /// loop over the items of a string is (see `string_items_loop`). `None` for anything else,
    /// a chain over a string that reads data only among it, which runs as written.
    fn string_items_chain(&self, mc: &syn::ExprMethodCall) -> Option<Expr> {
        let mut above = vec![mc];
        let mut recv = chain::strip(&mc.receiver);
        while !self.of_string_items(recv) {
            let Expr::MethodCall(inner) = recv else {
                return None;
            };
            above.push(inner);
            recv = chain::strip(&inner.receiver);
        }
        let mut idents = Vec::new();
        for call in &above {
            for a in &call.args {
                written::collect_idents(a.to_token_stream(), &mut idents);
            }
        }
        if idents.iter().all(|id| self.names_data(id)) {
            return None;
        }
        let span = recv.span();
        let items = quote::format_ident!("__ad_items", span = span);
        let mut e: Expr = syn::parse_quote_spanned!(span=> #items.into_iter());
        for call in above.iter().rev() {
            let mut c = (*call).clone();
            c.receiver = Box::new(e);
            e = Expr::MethodCall(c);
        }
        Some(syn::parse_quote_spanned! {span=>
            {
                let #items: ::std::vec::Vec<_> = (#recv).collect();
                #e
            }
        })
    }

    /// `m.get(k).copied().unwrap_or(d)` (`cloned`, `unwrap_or_default`) of a map `m`, whose key
    /// may be written without `&` (`q.get(names[i])` of `&str` keys): a map's lookup, run as
    /// written, not an element of a slice at a position.
    fn map_get_or(&self, mc: &syn::ExprMethodCall) -> bool {
        let Expr::MethodCall(inner) = chain::strip(&mc.receiver) else {
            return false;
        };
        let Expr::MethodCall(acc) = chain::strip(&inner.receiver) else {
            return false;
        };
        acc.method == "get" && (self.names_map(&acc.receiver) || self.integer_default(mc))
    }

    /// Whether the default of `x.get(k).copied().unwrap_or(d)` is an integer (a literal, or a
    /// variable declared or computed as one: `let unk = v.len() - 1;`): the element read is
    /// then an integer, with no derivative, and the receiver may be a map whose type the macro
    /// does not see (`m.vocab.get(w).copied().unwrap_or(unk)` of a parameter struct's
    /// `vocab: HashMap<String, usize>`), where a read by position would not compile.
    fn integer_default(&self, mc: &syn::ExprMethodCall) -> bool {
        if mc.method != "unwrap_or" || mc.args.len() != 1 {
            return false;
        }
        let d = &mc.args[0];
        if super::expr::is_int_literal(d) {
            return true;
        }
        let Expr::Path(p) = chain::strip(d) else {
            return false;
        };
        p.path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .and_then(|slot| self.env[slot].value)
            .is_some_and(|v| self.certainly_integer(v))
    }

    /// A mutation of a row of a container of data, `nbrs[i].retain(|&j| j != i)` or
    /// `nbrs[i].sort_by(..)` of a `Vec<Vec<usize>>` (a neighbour list): `{ let mut r =
    /// nbrs[i].clone(); r.retain(..); nbrs[i] = r; }`, the row's copy changed as a local's
    /// would be (closures and all, no derivative reaching it) and written back.
    fn data_row_mutation(&self, mc: &syn::ExprMethodCall) -> Option<Expr> {
        let name = mc.method.to_string();
        // The changes that return nothing: the followed ones (`push`, `insert`, `truncate`, …)
        // and `retain`, `dedup` and the sorts, which the table has no entry for.
        let unit = MutId::find(&name).is_some_and(|m| !m.def().returns())
            || matches!(name.as_str(), "retain" | "dedup")
            || name.starts_with("sort");
        if !unit || mc.turbofish.is_some() {
            return None;
        }
        let recv = chain::strip(&mc.receiver);
        if !matches!(recv, Expr::Index(_)) || subslice::range_index(recv).is_some() {
            return None;
        }
        let slot = self
            .mutable_root(recv)
            .and_then(|id| self.lookup(&id.to_string()))?;
        let v = self.env[slot].value?;
        if self.kind(v) != Kind::Discrete {
            return None;
        }
        let span = mc.method.span();
        let (m, args) = (&mc.method, &mc.args);
        // `retain` as the filter it is, which a local's `retain` statement becomes too.
        if name == "retain" && args.len() == 1 {
            let pred = &args[0];
            return Some(syn::parse_quote_spanned! {span=> {
                #recv = #recv.clone().into_iter().filter(#pred).collect::<::std::vec::Vec<_>>();
            }});
        }
        Some(syn::parse_quote_spanned! {span=> {
            let mut __ad_row = #recv.clone();
            __ad_row.#m(#args);
            #recv = __ad_row;
        }})
    }

    /// Whether `name` is a parameter taken by `&mut`, not declared again.
    fn mut_ref_param(&self, name: &syn::Ident) -> bool {
        let Some(slot) = self.lookup(&name.to_string()) else {
            return false;
        };
        self.f.params.iter().any(|p| {
            Some(p.value) == self.env[slot].value
                && matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some())
        })
    }

    /// `v.push(x)` and the other mutations of [`crate::prim::places`] on a variable declared
    /// `mut` or a `&mut` parameter: a new version of `v`.
    pub(super) fn mutation(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        m: MutId,
        unwrap: bool,
    ) -> Option<Value> {
        let span = super::span::method_span(mc);
        let def = m.def();
        if def.name == "assign" && mc.args.len() == 1 {
            if let Some(v) = self.region_assign(b, mc) {
                return v;
            }
        }
        // `a.row_mut(i).fill(c)` (`column_mut(j)`, `slice_mut(info)`, a boundary set to a
        // value) on a variable `a` is the region assigned an array of `c`, `a.row_mut(i)
        // .assign(&a.slice(s![i, ..]).mapv(|_| c))`, which is followed; `c` is evaluated once.
        if def.name == "fill"
            && mc.args.len() == 1
            && let Some((a, info)) = super::region::region(&mc.receiver, &self.krate)
        {
            let (recv, c) = (&mc.receiver, &mc.args[0]);
            let e: Expr = syn::parse_quote_spanned!(span=> {
                let __ad_fill = #c;
                let __ad_filled = #a.slice(#info).mapv(|_| __ad_fill);
                #recv.assign(&__ad_filled);
            });
            return self.expr(b, &e, false);
        }
        let element = matches!(&*mc.receiver, Expr::Index(_))
            && subslice::range_index(&mc.receiver).is_none()
            || self.cell_named(&mc.receiver).is_some();
        // A row of a container of data (`nbrs[i].push(j)` of `let mut nbrs: Vec<Vec<usize>> =
        // vec![Vec::new(); n];`, a neighbour list) has no adjoint: its length may change.
        // So is one of a container whose type is not seen (`vec![Vec::new(); n]`) given
        // integers: Rust gives the rows the pushed values' type.
        let root_kind = self
            .mutable_root(&mc.receiver)
            .and_then(|id| self.lookup(&id.to_string()))
            .and_then(|slot| self.env[slot].value)
            .map(|v| self.kind(v));
        let of_data = element
            && match root_kind {
                Some(Kind::Discrete) => true,
                // The value pushed or inserted (not an index: `rows[i].swap(0, 1)` says
                // nothing of the rows' elements).
                Some(Kind::Unknown) => match (def.name, mc.args.len()) {
                    ("push", 1) => self.discrete_operand(&mc.args[0]),
                    ("insert", 2) => self.discrete_operand(&mc.args[1]),
                    _ => false,
                },
                _ => false,
            };
        if element && def.changes_len() && !of_data {
            // The adjoint of a container's versions is one buffer, whose elements have the
            // shapes of the last version: a row whose length changes would meet an adjoint of
            // another length.
            self.err_at(
                &mc.receiver,
                format!(
                    "`.{}(..)` on an element of a container (`rows[i].{}(..)`, or the item of \
                     `iter_mut()`) changes the element's length, which the derivative does not \
                     follow; build each row in a variable and push it whole (`let mut row = \
                     Vec::new(); row.push(..); rows.push(row);`), change a copy of the row and \
                     write it back whole (`let mut r = rows[i].clone(); r.{}(..); rows[i] = \
                     r;`, or `*row = r` of the item of `iter_mut()`), or make the rows with \
                     their length (`vec![vec![0.0; m]; n]`) and write their elements \
                     (`rows[i][j] = ..`)",
                    def.name, def.name, def.name
                ),
            );
            return None;
        }
        let target = match &*mc.receiver {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => p.path.clone(),
            // `s.v.push(x)` on a field of a local: the field's new version is written back.
            Expr::Field(fe) if matches!(fe.member, syn::Member::Named(_)) => {
                return self.field_mutation(b, mc, fe, m, unwrap);
            }
            // `rows[i].push(x)` on an element of a local (a `Vec` of `Vec`s): the element's
            // new version is written back, as for a field.
            Expr::Index(ix) if subslice::range_index(&mc.receiver).is_none() => {
                return self.element_mutation(b, mc, ix, m, unwrap, of_data);
            }
            other if subslice::range_index(other).is_some() => {
                self.err_at(
                    other,
                    format!(
                        "`.{}(..)` on a range of a container is not followed by the derivative; \
                         write an index loop over the range (`for i in a..b {{ v[i] = .. }}`)",
                        def.name
                    ),
                );
                return None;
            }
            Expr::MethodCall(r)
                if matches!(
                    r.method.to_string().as_str(),
                    "row_mut" | "column_mut" | "slice_mut"
                ) =>
            {
                let a = r.receiver.to_token_stream().to_string();
                self.err_at(
                    &mc.method,
                    format!(
                        "`.{}(..)` on a region of an array (`{a}.{}(..)`) is not followed by \
                         the derivative; `assign` is, on a variable: compute the region's new \
                         values as an array and write `{a}.{}(..).assign(&new)`",
                        def.name, r.method, r.method
                    ),
                );
                return None;
            }
            other => {
                self.err_at(
                    other,
                    format!(
                        "`.{}(..)` is followed by the derivative only on a variable (`v.{}(..)` \
                         with `let mut v` or a `&mut` parameter `v`); bind the container to a \
                         variable first",
                        def.name, def.name
                    ),
                );
                return None;
            }
        };
        if !self.mutation_arity_ok(mc, m) {
            return None;
        }
        let base = self.expr(b, &mc.receiver, true)?;
        let results = self.mutate(b, mc, m, base, unwrap)?;
        // On the item of `for row in m.iter_mut()` (a cell), the new version is written back
        // into the container.
        self.assign_place(
            b,
            &Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: target,
            }),
            results[0],
        );
        let _ = span;
        results.get(1).copied()
    }

    /// `base.name(arg)` for a mutation of the table with one operand: the new version.
    pub(super) fn mutate1(
        &mut self,
        b: Block,
        name: &str,
        base: Value,
        arg: Value,
        span: Span,
    ) -> Option<Value> {
        let m = MutId::find(name)?;
        let kind = self.kind(base).join(self.kind(arg));
        let i = self.f.push_inst(
            b,
            InstKind::Mutate {
                m,
                base,
                args: vec![arg],
                unwrap: false,
            },
            1,
            kind,
            span,
        );
        Some(self.f.inst(i).results[0])
    }

    /// The arguments `args` (lowered from `written`) with each one that names the item of an
    /// iteration by reference over data (`id` of `for id in clicks` or `|id|` of
    /// `clicks.iter()`, an `&u64` in Rust and the element's value here) lent as many times as
    /// the source's type has references on it: a call run as written takes what the source
    /// passes (`seen.contains(id)`, `rows.get(id)`, `row_of(id)` of `fn row_of(id: &u64)`).
    pub(super) fn lent_items(
        &mut self,
        b: Block,
        written: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
        args: Vec<Value>,
        span: Span,
    ) -> Vec<Value> {
        args.into_iter()
            .zip(written)
            .map(|(v, a)| self.lent_item(b, a, v, span))
            .collect()
    }

    /// `v`, lowered from `written`, lent as the source lends it where `written` names the item
    /// of an iteration by reference over data (see [`Self::lent_items`]).
    pub(super) fn lent_item(&mut self, b: Block, written: &Expr, v: Value, span: Span) -> Value {
        let Expr::Path(p) = chain::strip(written) else {
            return v;
        };
        let Some(slot) = p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
        else {
            return v;
        };
        let refs = self.env[slot].refs;
        if refs == 0
            || self.env[slot].value != Some(v)
            || self.kind(v) != Kind::Discrete
            || self.is_reference(v)
        {
            return v;
        }
        (0..refs).fold(v, |r, _| {
            self.inst1(b, InstKind::Ref(r), Kind::Discrete, span)
        })
    }

    /// Whether `v` is a read of a struct's field (`self.n`, `q.shift`).
    fn is_field_read(&self, v: Value) -> bool {
        matches!(self.f.value(v).def,
            ValueDef::Result(d, 0) if matches!(self.f.inst(d).kind, InstKind::FieldRef(..)))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn method(
        &mut self,
        b: Block,
        name: syn::Ident,
        recv: Value,
        args: Vec<Value>,
        unwrap: bool,
        recv_mut: Option<syn::Ident>,
        span: Span,
    ) -> Option<Value> {
        let s = name.to_string();
        // `max`, `min`, `clamp`, `rem_euclid` and `div_euclid` given integers are an integer's
        // (a float's take floats), and so are the integer types' own methods (`count_ones`,
        // `wrapping_add`, see `integer_method`): on a value whose type the macro does not see,
        // a field of a derived struct (`self.n.max(1)`, `cfg.shift.clamp(-1, 1)`), they run as
        // written on the value, checked to be an integer, with no derivative (the float rules
        // do not take an integer).
        if self.kind(recv) != Kind::Discrete
            && ((same_type_method(&s)
                && !args.is_empty()
                && args.iter().all(|&a| self.certainly_integer(a))
                && !self.certainly_float(recv))
                || (integer_method(&s) && (!duration_method(&s) || self.is_field_read(recv))))
        {
            let recv = if self.is_field_read(recv) {
                let k = self.kind(recv);
                self.inst1(b, InstKind::Deref(recv), k, name.span())
            } else {
                recv
            };
            let k = &self.krate;
            let recv = self.int_op_kind(
                b,
                quote::quote_spanned!(span=> #k::__private::integer(__ad_a)),
                &[("__ad_a", recv)],
                Kind::Discrete,
                span,
            );
            return Some(self.inst1(
                b,
                InstKind::Method {
                    name,
                    recv,
                    args,
                    unwrap,
                    recv_mut: None,
                },
                Kind::Discrete,
                span,
            ));
        }
        if let Some(prim) = PrimId::method(&s) {
            if prim.n_args() != args.len() {
                self.err_at(
                    &name,
                    format!(
                        "`{s}` takes {} argument(s) here, found {}",
                        prim.n_args(),
                        args.len()
                    ),
                );
                return None;
            }
            // A float given for an integer operand (`x.powi(2.0)`): one error that says what to
            // write, not rustc's beside the many of the generated code.
            if let Some(k) = (0..args.len())
                .find(|&k| prim.fixed_type(k + 1).is_some() && self.certainly_float(args[k]))
            {
                let ty = prim.fixed_type(k + 1).unwrap_or("i32");
                self.err_at(
                    &name,
                    format!(
                        "`{s}` takes an `{ty}` exponent, and is given a float: write `x.{s}(2)`, \
                         or `x.powf(2.5)` for a float exponent"
                    ),
                );
                return None;
            }
            let kind = match self.kind(recv) {
                Kind::Discrete => Kind::Discrete,
                _ if prim.has(Flags::FLOAT_RESULT) => Kind::Float,
                k if prim.has(Flags::IDENTITY) => k,
                _ => Kind::Unknown,
            };
            // The float methods' rules are those of owned arrays: a view is copied first. A
            // field given integer arguments is an integer, read by value (`cfg.n.min(3)`): on
            // the reference `&cfg.n`, `min` is `Ord::min` of references.
            let integer_args =
                !args.is_empty() && args.iter().all(|&a| self.kind(a) == Kind::Discrete);
            let recv = match prim.def().rule {
                "FloatRules" | "FloatArgRules" => {
                    let recv = match self.f.value(recv).def {
                        ValueDef::Result(d, 0)
                            if matches!(self.f.inst(d).kind, InstKind::FieldRef(..))
                                && integer_args =>
                        {
                            let k = self.kind(recv);
                            self.inst1(b, InstKind::Deref(recv), k, name.span())
                        }
                        _ => recv,
                    };
                    self.owned_view(b, recv)
                }
                _ => recv,
            };
            let mut all = vec![recv];
            all.extend(args);
            // Spanned at the method's name: what diagnostics about it underline.
            return Some(self.inst1(
                b,
                InstKind::Prim {
                    prim,
                    args: all,
                    unwrap,
                },
                kind,
                name.span(),
            ));
        }
        let kind = if prim::is_discrete_method(&s) || is_shape_query(&s) {
            Kind::Discrete
        } else {
            Kind::Unknown
        };
        let recv = match &recv_mut {
            Some(id) if !crate::ir::reads_only(&s) => self.unshared(b, id, recv, span),
            _ => recv,
        };
        Some(self.inst1(
            b,
            InstKind::Method {
                name,
                recv,
                args,
                unwrap,
                recv_mut,
            },
            kind,
            span,
        ))
    }

    /// The value of the `mut` variable `id` that a method run as written may change in place
    /// (`p2.step(dt)` of the user's `fn step(&mut self, ..)`): where another variable holds
    /// the same value (`let mut p2 = st1;`), its own copy, which `id` holds from here on.
    /// (Changed in place, the value `st1` reads was changed too.)
    fn unshared(&mut self, b: Block, id: &syn::Ident, recv: Value, span: Span) -> Value {
        let Some(slot) = self.lookup(&id.to_string()) else {
            return recv;
        };
        let shared = self.env[slot].value == Some(recv)
            && (self.env.iter().enumerate()).any(|(k, e)| k != slot && e.value == Some(recv));
        if !shared {
            return recv;
        }
        // Bound anew, through a tuple: a copy of a `Copy` struct (a value of another type was
        // moved to `id`, and is not read through the other variable again).
        let k = self.kind(recv);
        let t = self.inst1(b, InstKind::Tuple(vec![recv]), k, span);
        let copy = self.inst1(b, InstKind::Field(t, 0), k, span);
        let name = id.to_string();
        self.f.values[copy.index()].name = Some(name.clone());
        self.f.mutable_names.insert(name);
        self.env[slot].value = Some(copy);
        copy
    }

    /// The variable a method receiver is rooted in (`v` in `v.push(..)`, `s.buf.push(..)`,
    /// `v[i].push(..)`, `v.iter_mut().next()`), if it is declared `mut` or is a `&mut`
    /// parameter: a method called there may change it. Not through a method that only reads
    /// (`v.last().unwrap_or(..)` borrows `v` shared, or copies from it).
    pub(super) fn mutable_root(&self, e: &Expr) -> Option<syn::Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?;
                let slot = self.lookup(&id.to_string())?;
                self.env[slot].mutable.then(|| id.clone())
            }
            Expr::Paren(p) => self.mutable_root(&p.expr),
            Expr::Group(g) => self.mutable_root(&g.expr),
            Expr::Field(f) => self.mutable_root(&f.base),
            Expr::Index(ix) => self.mutable_root(&ix.expr),
            // A search's position (`v.binary_search_by(..)`) is a new value, whatever is done
            // with it after (`.unwrap_or_else(|e| e)`).
            Expr::MethodCall(mc)
                if !prim::places::is_read(&mc.method.to_string())
                    && !prim::is_discrete_method(&mc.method.to_string()) =>
            {
                self.mutable_root(&mc.receiver)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.mutable_root(&u.expr),
            _ => None,
        }
    }

    /// An expression in a place that can borrow (`&e`, a method receiver, a field base, an
    /// indexed value): a field of a parameter struct stays a reference there.
    pub(super) fn place_expr(&mut self, b: Block, e: &Expr) -> Option<Value> {
        match e {
            Expr::Field(fe) if matches!(fe.member, syn::Member::Named(_)) => self.field_ref(b, fe),
            Expr::Paren(p) => self.place_expr(b, &p.expr),
            _ => self.expr(b, e, true),
        }
    }

    /// `base.name` as a reference to the field.
    pub(super) fn field_ref(&mut self, b: Block, fe: &syn::ExprField) -> Option<Value> {
        let syn::Member::Named(name) = &fe.member else {
            return self.expr(b, &Expr::Field(fe.clone()), true);
        };
        let base = self.place_expr(b, &fe.base)?;
        // The struct `base` is of, by name.
        let owner = (self.struct_var(&fe.base))
            .or_else(|| self.struct_type_of(base))
            .and_then(|ty| ty.segments.last().map(|s| s.ident.to_string()));
        let field = name.to_string();
        // A field marked `#[differentiable(data)]` in a struct that the module marked
        // `#[differentiate]` declares (`p.cfg` of `cfg: Settings`) is data, and so is what is
        // read out of it (`p.cfg.dt`).
        let marked =
            (owner.as_ref()).is_some_and(|ty| crate::types::module_field_is_data(ty, &field));
        // So is a field declared an integer (or a container of them) there (`r.head` of `head:
        // usize`), and a field a struct literal gave an integer or a container of them
        // (`Vec<usize>`), also once the struct holds floats beside it (`r.next.swap(i, j)`
        // after `r.buf[k] = x`). Else the field's kind is its struct's.
        let integer = owner.is_some_and(|ty| {
            crate::types::module_field_type(&ty, &field)
                .is_some_and(|t| crate::types::is_inactive_type(&t))
                || self.data_fields.contains(&(ty, field.clone()))
        });
        let data = marked || integer;
        let kind = match data {
            true => Kind::Discrete,
            false => self.kind(base),
        };
        let r = self.inst1(b, InstKind::FieldRef(base, name.clone()), kind, fe.span());
        if integer {
            self.int_field_refs.push(r);
        }
        Some(r)
    }

    /// `mem::replace(&mut t, e)` (`std::mem::`, `core::mem::`) of a local variable inside an
    /// expression (`s += mem::replace(&mut t, x)`), and `mem::take(&mut t)` of a local, as the
    /// block `{ let old = t; t = e; old }` (for `take`, the default of `t`'s type, which the
    /// generated code takes from `old`: an empty `Vec`, `0.0`), which is followed as
    /// assignments. A `replace` that is a statement of its own is rewritten before lowering
    /// (see `in_place::replace_lets`).
    fn mem_take_or_replace(&mut self, fp: &syn::ExprPath, c: &syn::ExprCall) -> Option<Expr> {
        let segs = &fp.path.segments;
        let n = segs.len();
        if n < 2 || segs[n - 2].ident != "mem" {
            return None;
        }
        let take = match (segs[n - 1].ident.to_string().as_str(), c.args.len()) {
            ("take", 1) => true,
            ("replace", 2) => false,
            _ => return None,
        };
        let Expr::Reference(r) = chain::strip(&c.args[0]) else {
            return None;
        };
        r.mutability?;
        let Expr::Path(p) = chain::strip(&r.expr) else {
            return None;
        };
        let id = p.path.get_ident()?;
        let slot = self.lookup(&id.to_string())?;
        // A local or a parameter taken by value (`mut t: f64`), not one taken by reference.
        if slot < self.f.params.len()
            && self.f.params[slot].ident == self.env[slot].name
            && matches!(self.f.params[slot].ty, syn::Type::Reference(_))
        {
            return None;
        }
        let span = segs[n - 1].ident.span();
        let old = syn::Ident::new("__ad_old", span);
        let new: Expr = if take {
            let pv = &self.krate;
            syn::parse_quote_spanned!(span=>
                #pv::__private::typed_like(&#old, ::core::default::Default::default()))
        } else {
            c.args[1].clone()
        };
        Some(syn::parse_quote_spanned! {span=> {
            let #old = #id;
            #id = #new;
            #old
        }})
    }

    pub(super) fn call(&mut self, b: Block, c: &syn::ExprCall) -> Option<Value> {
        let span = c.span();
        // A call of a value rather than of a named function: a function pointer or a closure
        // passed in (`lr(k)` of `lr: fn(usize) -> f64` or `F: Fn(usize) -> f64`, a field's
        // `(cfg.schedule)(k)`). Run as written, as on data it computes data; `check` reports
        // it where a differentiated value reaches it, as it has no derivative.
        let called_value = match &*c.func {
            Expr::Path(fp) => fp
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .is_some_and(|slot| {
                    self.env[slot].closure.is_none()
                        && !self.env[slot]
                            .value
                            .is_some_and(|v| self.poisoned.contains(&v))
                }),
            _ => true,
        };
        if called_value {
            // A function held in a field (`(l.act)(x)` of a parameter struct's `act: fn(f64) ->
            // f64` or `Rc<dyn Fn(f64) -> f64>`, data to its derive): the function is data
            // whatever struct holds it, so the call depends on differentiated values through
            // its arguments only. The field is read first, as data, and called by that name.
            if let Some(fe) = called_field(&c.func) {
                let callee = self.opaque(b, quote!(&#fe), Kind::Discrete, true, span)?;
                let name = "__ad_callee".to_string();
                self.env
                    .push(super::Binding::new(name, Some(callee), false));
                let slot = self.env.len() - 1;
                let args = &c.args;
                let r = self.opaque(b, quote!((__ad_callee)(#args)), Kind::Unknown, true, span);
                self.env.truncate(slot);
                return r;
            }
            return self.opaque(b, c.to_token_stream(), Kind::Unknown, true, span);
        }
        let Expr::Path(fp) = &*c.func else {
            unreachable!("a callee other than a path is a called value")
        };
        if let Some(v) = self.typed_like_call(b, fp, c) {
            return v;
        }
        if let Some(e) = self.mem_take_or_replace(fp, c) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = array_linspace(&fp.path, c, &self.krate) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = array_from_shape_fn(&fp.path, c) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = array_filled_any_rank(&fp.path, c, &self.krate)
            && !self.data_expr(&c.args[1])
        {
            return self.expr(b, &e, true);
        }
        if let Some(fill) = array_from_elem(&fp.path, c)
            && let Expr::Path(fill_path) = &*fill.func
            && let Some(e) = array_from_shape_fn(&fill_path.path, &fill)
        {
            return self.expr(b, &e, true);
        }
        if let Some(e) = self.array_of_elements(&fp.path, c) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = array_from_vec(&fp.path, c) {
            return self.expr(b, &e, true);
        }
        if let Some(e) = array_from_diag(&fp.path, c) {
            return self.expr(b, &e, true);
        }
        // `Vec::from_iter(chain)` is `chain.collect::<Vec<_>>()`, which is followed.
        let n = fp.path.segments.len();
        if n >= 2
            && c.args.len() == 1
            && fp.path.segments[n - 2].ident == "Vec"
            && fp.path.segments[n - 1].ident == "from_iter"
            && fp.path.segments[n - 1].arguments.is_none()
            && matches!(&c.args[0], Expr::MethodCall(_))
        {
            let chain = &c.args[0];
            let e: Expr = syn::parse_quote_spanned!(span=> #chain.collect::<::std::vec::Vec<_>>());
            return self.expr(b, &e, true);
        }
        if let Some(q) = &fp.qself {
            // `<f64>::exp(y)` is `f64::exp(y)`, and `<f64 as Float>::sqrt(x)` (`<T as
            // Float>::sqrt(x)`) the float method `f64::sqrt(x)`: lowered as the plain path.
            let ty = match &*q.ty {
                syn::Type::Path(tp) if tp.qself.is_none() => Some(&tp.path),
                _ => None,
            };
            let plain_type = ty.filter(|p| {
                p.segments
                    .iter()
                    .all(|s| matches!(s.arguments, syn::PathArguments::None))
            });
            // Through a trait, of a float type or a type parameter only: a type of the user's
            // may have a method of the same name besides the trait's.
            let float_type = ty.and_then(|p| p.get_ident()).is_some_and(|t| {
                t == "f64" || t == "f32" || self.type_params.contains(&t.to_string())
            });
            let float_trait = q.position == 0
                || float_type
                    && fp.path.segments.get(q.position - 1).is_some_and(|s| {
                        matches!(s.ident.to_string().as_str(), "Float" | "Real")
                            && matches!(s.arguments, syn::PathArguments::None)
                    });
            let rest: Vec<&syn::PathSegment> = fp.path.segments.iter().skip(q.position).collect();
            if let Some(ty) = plain_type {
                let segs = ty.segments.iter().chain(rest.iter().copied());
                let path: syn::Path = syn::parse_quote!(#(#segs)::*);
                if float_trait {
                    let mut plain = c.clone();
                    plain.func = Box::new(Expr::Path(syn::ExprPath {
                        attrs: Vec::new(),
                        qself: None,
                        path,
                    }));
                    return self.expr(b, &Expr::Call(plain), true);
                }
                let trait_ = fp
                    .path
                    .segments
                    .iter()
                    .take(q.position)
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::");
                let name = rest.last().map_or(String::new(), |s| s.ident.to_string());
                let ty = ty.to_token_stream().to_string().replace(' ', "");
                self.err_at(
                    &c.func,
                    format!(
                        "a qualified path is followed for a float method only (`<{ty}>::exp(y)`, \
                         `<{ty} as Float>::sqrt(x)`, which are `{ty}::exp(y)` and \
                         `{ty}::sqrt(x)`); `<{ty} as {trait_}>::{name}` is not: write the \
                         operation it stands for (`x * y` for `Mul::mul(x, y)`), or call a \
                         function of yours with `#[differentiate]` by its plain path"
                    ),
                );
                return None;
            }
            // `<[f64; 3]>::try_from(&x[..3])`: an array of a slice's elements.
            let last = fp.path.segments.last().map(|s| s.ident.to_string());
            if matches!(&*q.ty, syn::Type::Array(_)) && last.as_deref() == Some("try_from") {
                let ty = q.ty.to_token_stream().to_string().replace(" ;", ";");
                let ty = ty.replace("[ ", "[").replace(" ]", "]");
                self.err_at(
                    &c.func,
                    format!("`<{ty}>::try_from(..)` is not followed; {ARRAY_OF_SLICE}"),
                );
                return None;
            }
            self.err_at(
                &c.func,
                "qualified paths (`<T as Trait>::f`) of this type are not supported; call the \
                 function by its plain path (`module::f(x)`, `f64::exp(y)`)",
            );
            return None;
        }
        if let Some(es) = tuple_struct_literal(fp, c) {
            return self.struct_literal(b, &es, true);
        }
        if let Some(def) = self.closure_named(&c.func) {
            // A local closure: its body, with the arguments bound to its parameters.
            let mut items = Vec::new();
            for a in &c.args {
                let (e, refs) = match a {
                    Expr::Reference(r) if r.mutability.is_none() => (&*r.expr, 1),
                    e => (e, self.path_refs(e)),
                };
                items.push(Item::Val {
                    v: self.expr(b, e, true)?,
                    refs,
                });
            }
            let r = self.expand_closure(
                b,
                &def.expr,
                def.scope,
                def.captured.as_deref(),
                items,
                span,
            )?;
            return self.item_value(b, r, false, span);
        }
        let name = fp.path.segments.last().map(|s| s.ident.to_string());
        for a in &c.args {
            if closures::is_closure_like(a) || self.closure_named(a).is_some() {
                let array_fn = fp.path.segments.len() >= 2
                    && fp.path.segments[fp.path.segments.len() - 2].ident == "array";
                if name.as_deref() == Some("from_fn") && array_fn {
                    self.err_at(
                        a,
                        "`std::array::from_fn(|i| ..)` is followed where it is a variable's \
                         value declared with its type, `let v: [f64; 3] = \
                         std::array::from_fn(|i| ..);`, assigned to an array the function \
                         holds (`y = std::array::from_fn(|k| ..);`), or the value a function \
                         returning `[T; N]` ends with; write it so here, or fill the array in \
                         a loop \
                         (`let mut v = [0.0; 3]; for i in 0..3 { v[i] = ..; }`)"
                            .to_string(),
                    );
                    return None;
                }
                if matches!(name.as_deref(), Some("from_shape_fn" | "from_fn")) {
                    // ndarray's `Array2::from_shape_fn((r, c), |(i, j)| ..)`.
                    self.err_at(
                        a,
                        format!(
                            "a closure passed to `{}` here cannot be differentiated: it is \
                             followed as `Array1::from_shape_fn(n, |i| ..)`, \
                             `Array2::from_shape_fn((r, c), |(i, j)| ..)` and \
                             `Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| ..)` with the closure \
                             written in the call (no `return` in it); else build the array \
                             with `Array2::zeros((r, c))` (`Array1::zeros(n)`) and write its \
                             elements in loops (`m[[i, j]] = ..`), which is followed",
                            name.as_deref().unwrap_or("this function")
                        ),
                    );
                    return None;
                }
                if matches!(
                    name.as_deref(),
                    Some("successors" | "from_fn" | "repeat_with")
                ) {
                    self.err_at(
                        a,
                        format!(
                            "`std::iter::{}(..)` over differentiated values is not followed: \
                             write the sequence as a loop that carries its value, `let mut v = \
                             x; let mut s = 0.0; for _ in 0..n {{ s += v; v = v * 0.5; }}` \
                             (`break` where the closure would give `None`)",
                            name.as_deref().unwrap_or_default()
                        ),
                    );
                    return None;
                }
                // `Box::new(|v| ..)` (`Rc::new`, `Arc::new`): a closure made a trait object,
                // `let act: Box<dyn Fn(f64) -> f64> = Box::new(|v| v.tanh());`.
                let pointer = fp.path.segments.len() >= 2
                    && matches!(
                        fp.path.segments[fp.path.segments.len() - 2]
                            .ident
                            .to_string()
                            .as_str(),
                        "Box" | "Rc" | "Arc"
                    );
                if name.as_deref() == Some("new") && pointer {
                    let ptr = fp.path.segments[fp.path.segments.len() - 2]
                        .ident
                        .to_string();
                    self.err_at(
                        a,
                        format!(
                            "a closure put in a `{ptr}` (a `{ptr}<dyn Fn(..)>`) cannot be \
                             differentiated: closures are expanded where they are called, and \
                             a boxed one is a value the macro cannot see into; bind the closure \
                             itself, `let act = |v: f64| v.tanh();`, and call it, `act(x)` \
                             (to choose among several, bind each and branch on the choice)"
                        ),
                    );
                    return None;
                }
                self.err_at(
                    a,
                    format!(
                        "a closure passed to `{}` cannot be differentiated: closures are expanded \
                         where they are called (`let f = |x| ..; f(a)`) or given to iterator \
                         adapters (`map`, `filter`, `fold`, ..); write the computation here, or \
                         make `{0}` take values and give it `#[differentiate]`",
                        name.as_deref().unwrap_or("this function")
                    ),
                );
                return None;
            }
        }
        for a in &c.args {
            if self.cell_named(a).is_some() {
                self.err_at(
                    a,
                    format!(
                        "`{0}` is a mutable reference to an element of a container, and what \
                         `{1}` writes through it cannot be followed; pass the element's value and \
                         write the result back (`*{0} = {1}(*{0})`), or, where `{1}` only reads \
                         it (a parameter `&T`), lend it as `&*{0}`, which is followed",
                        a.to_token_stream(),
                        name.as_deref().unwrap_or("the function")
                    ),
                );
                return None;
            }
        }
        let mut args = Vec::new();
        for a in &c.args {
            args.push(self.expr(b, a, true));
        }
        let mut args = args.into_iter().collect::<Option<Vec<Value>>>()?;
        // `f64::exp(x)` is `x.exp()`.
        let segs: Vec<String> = fp
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        // `f64::exp(x)`, or `T::exp(x)` of a float type parameter `T`.
        if segs.len() == 2
            && (segs[0] == "f64" || segs[0] == "f32" || crate::types::is_float_param(&segs[0]))
        {
            let m = &fp.path.segments[1].ident;
            if PrimId::method(&segs[1]).is_some_and(|p| p.has(Flags::FLOAT_RESULT)) {
                if args.is_empty() {
                    self.err(
                        span,
                        format!("`{}::{m}` needs its receiver argument", segs[0]),
                    );
                    return None;
                }
                // The path says the receiver's type, which a literal does not.
                let ty: syn::Type = syn::parse_str(&segs[0]).expect("a float type");
                let value = args.remove(0);
                let kind = self.kind(value);
                let recv = self.inst1(b, InstKind::Ascribe { value, ty }, kind, span);
                return self.method(b, m.clone(), recv, args, false, None, span);
            }
            // `f64::sin_cos(x)`, `f64::total_cmp(&x, &c)`, `f64::div_euclid(x, m)`: another
            // method of the float types, called through its path, is the method of its first
            // argument (which the method then follows, or reports as it reports `x.m(..)`).
            if FLOAT_SELF_METHODS.contains(&segs[1].as_str()) && !args.is_empty() {
                let recv = args.remove(0);
                return self.method(b, m.clone(), recv, args, false, None, span);
            }
        }
        // `Float::max(x, y)`, `num_traits::Float::powi(x, 2)`: a float trait's method called
        // through the trait is the method of its first argument (whose type the trait does
        // not say).
        let n = segs.len();
        if n >= 2
            && crate::signature::FLOAT_TRAITS.contains(&segs[n - 2].as_str())
            && !args.is_empty()
            && PrimId::method(&segs[n - 1]).is_some_and(|p| p.has(Flags::FLOAT_RESULT))
        {
            let m = fp.path.segments[n - 1].ident.clone();
            let recv = args.remove(0);
            return self.method(b, m, recv, args, false, None, span);
        }
        // `Vec::from(a)` of an array, a slice or a `Vec` of differentiated values is the copy
        // `a.to_vec()`, which the derivative follows (`Vec` has no `from_vjp`).
        if segs.len() >= 2
            && segs[segs.len() - 2] == "Vec"
            && segs[segs.len() - 1] == "from"
            && fp.path.segments.iter().all(|s| s.arguments.is_none())
            && args.len() == 1
            && self.kind(args[0]) != Kind::Discrete
        {
            let m = syn::Ident::new("to_vec", fp.path.segments[segs.len() - 1].ident.span());
            return self.method(b, m, args[0], Vec::new(), false, None, span);
        }
        // `f64::from(x)` of a differentiated `f32` (or `f32::from(..)`) is the cast `x as f64`,
        // which the derivative follows (`f64` has no `from_vjp`); of data it runs as written.
        if let [to, from] = &segs[..] {
            if (to == "f64" || to == "f32")
                && from == "from"
                && fp.path.segments.iter().all(|s| s.arguments.is_none())
                && args.len() == 1
                && self.kind(args[0]) != Kind::Discrete
            {
                let ty: syn::Type = syn::parse_str(to).expect("a float type");
                return Some(self.inst1(
                    b,
                    InstKind::Cast { value: args[0], ty },
                    Kind::Float,
                    span,
                ));
            }
        }
        if let Some(local) = fp.path.get_ident() {
            if let Some(slot) = self.lookup(&local.to_string()) {
                if self.env[slot]
                    .value
                    .is_some_and(|v| self.poisoned.contains(&v))
                {
                    return None;
                }
                self.err_at(
                    &local,
                    format!("`{local}` is a variable; calling a variable is not supported: call a named function (with `#[differentiate]` or its own `_vjp`)"),
                );
                return None;
            }
        }
        // The shape of an ndarray constructor (`Array1::zeros(g.n_nodes)`, `Array2::ones((n,
        // m))`, `Array2::eye(n)`, the shape of `from_elem`) is integers: a field of a parameter
        // struct read for it is data, not a differentiated argument of the call.
        if n >= 2
            && crate::types::is_ndarray_name(&segs[n - 2])
            && matches!(
                segs[n - 1].as_str(),
                "zeros" | "ones" | "eye" | "from_elem" | "default" | "uninit"
            )
            && let Some(&shape) = args.first()
        {
            crate::scalars::mark_integer(&mut self.f, shape);
        }
        // `for x in xs.iter() { model.predict(x) }`: the loop variable is a reference to the
        // element, and the callee takes it as one.
        for (v, a) in args.iter_mut().zip(&c.args) {
            for _ in 0..self.path_refs(a) {
                let k = self.kind(*v);
                *v = self.inst1(b, InstKind::Ref(*v), k, span);
            }
        }
        Some(self.inst1(
            b,
            InstKind::Call {
                path: fp.path.clone(),
                args,
            },
            Kind::Unknown,
            span,
        ))
    }

    /// A method of a window (`w` in `for w in x.windows(2)`): `w.len()`; the others need the
    /// window as a slice, which is not supported. `None` when the receiver is not a window.
    fn window_method(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Option<Value>> {
        if subslice::range_index(&mc.receiver).is_some() {
            // `x[a..].len()`, `x[a..b].is_empty()`: measured, not copied.
            if !mc.args.is_empty() || !(mc.method == "len" || mc.method == "is_empty") {
                return None;
            }
            let Some(w) = self.range_window(b, &mc.receiver)? else {
                return Some(None);
            };
            return Some(Some(match mc.method == "len" {
                true => w.len,
                false => self.int_op(
                    b,
                    quote!(__ad_n == 0),
                    &[("__ad_n", w.len)],
                    super::span::method_span(mc),
                ),
            }));
        }
        let w = self.window_named(&mc.receiver)?;
        if mc.method == "len" && mc.args.is_empty() {
            return Some(Some(w.len));
        }
        if (mc.method == "to_vec" || mc.method == "to_owned") && mc.args.is_empty() {
            // `let mut sorted = w.to_vec();` (a median filter): the window's elements copied
            // into a `Vec`, as a range slice's copy is.
            let w = &mc.receiver;
            let copy: Expr = syn::parse_quote_spanned! {super::span::method_span(mc)=>
                #w.iter().cloned().collect::<::std::vec::Vec<_>>()
            };
            return Some(self.expr(b, &copy, true));
        }
        // Another method, of an ndarray vector's window (`for w in a.windows(3) { w.sum() }`,
        // `w.dot(&kernel)`, `w.mean()`): the method of the window's copy.
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        let copy = self.window_copy(p.path.get_ident()?, w, mc.method.span());
        let (m, args) = (&mc.method, &mc.args);
        let on_copy: Expr =
            syn::parse_quote_spanned!(super::span::method_span(mc)=> (#copy).#m(#args));
        Some(self.expr(b, &on_copy, true))
    }

    /// A copy of window `w` named `id`: an `Array1` of its elements where it is a window of an
    /// ndarray vector (`a.windows(3)`, whose items are views), else a `Vec`.
    pub(super) fn window_copy(&self, id: &syn::Ident, w: Window, span: Span) -> Expr {
        if self.min_rank(w.base, 0) >= 1 {
            let k = &self.krate;
            syn::parse_quote_spanned! {span=>
                #k::__private::arrays::Array1::from_vec(
                    #id.iter().copied().collect::<::std::vec::Vec<_>>()
                )
            }
        } else {
            syn::parse_quote_spanned!(span=> #id.iter().copied().collect::<::std::vec::Vec<_>>())
        }
    }

    /// The window bound to a plain name, if `e` is one.
    pub(super) fn window_named(&self, e: &Expr) -> Option<Window> {
        let Expr::Path(p) = e else { return None };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        self.env[slot].window
    }
}

impl Lowering {
    /// The runtime's `typed_like(&like, value)`, which the macro's own rewrites write (see
    /// [`array_linspace`]): `value` with the type of `like`, a constant where `value` is one,
    /// through which nothing flows back to `like`. `None` for any other call.
    fn typed_like_call(
        &mut self,
        b: Block,
        fp: &syn::ExprPath,
        c: &syn::ExprCall,
    ) -> Option<Option<Value>> {
        let n = fp.path.segments.len();
        if n < 2
            || fp.path.segments[n - 1].ident != "typed_like"
            || fp.path.segments[n - 2].ident != "__private"
            || c.args.len() != 2
        {
            return None;
        }
        let Expr::Reference(like) = &c.args[0] else {
            return None;
        };
        let Some(like) = self.expr(b, &like.expr, true) else {
            return Some(None);
        };
        let Some(value) = self.expr(b, &c.args[1], true) else {
            return Some(None);
        };
        Some(Some(self.inst1(
            b,
            InstKind::TypedLike { value, like },
            Kind::Float,
            c.span(),
        )))
    }

    /// An array built from its elements: ndarray's `arr1(&[x, y, 1.0])` as
    /// `Array1::from_vec(vec![x, y, 1.0])`, `arr2(&[[a, b], [c, d]])` as
    /// `Array2::from(vec![[a, b], [c, d]])`, each then filled element by element (see
    /// [`array_from_vec`]; `from_elem` is [`array_from_elem`]'s). `None` for any other call.
    fn array_of_elements(&self, path: &syn::Path, c: &syn::ExprCall) -> Option<Expr> {
        let last = path.segments.last()?;
        if !matches!(last.arguments, syn::PathArguments::None) {
            return None;
        }
        let k = &self.krate;
        let span = c.span();
        let elems = |e: &Expr| match chain::strip(e) {
            Expr::Reference(r) => match chain::strip(&r.expr) {
                Expr::Array(a) => Some(a.elems.clone()),
                _ => None,
            },
            _ => None,
        };
        // `ArrayView1::from(x)` (`ArrayView::from`) of a slice: the view `aview1(x)` is.
        let n = path.segments.len();
        let view_from = n >= 2
            && last.ident == "from"
            && matches!(
                path.segments[n - 2].ident.to_string().as_str(),
                "ArrayView1" | "ArrayView"
            )
            && matches!(path.segments[n - 2].arguments, syn::PathArguments::None);
        let name = if view_from {
            "aview1".to_string()
        } else {
            last.ident.to_string()
        };
        let e: Expr = match (name.as_str(), c.args.len()) {
            ("arr1", 1) => {
                let xs = elems(&c.args[0])?;
                syn::parse_quote_spanned!(span=>
                    #k::__private::arrays::Array1::from_vec(::std::vec![#xs]))
            }
            ("arr2", 1) => {
                let rows = elems(&c.args[0])?;
                if !rows.iter().all(|r| matches!(r, Expr::Array(_))) {
                    return None;
                }
                syn::parse_quote_spanned!(span=>
                    #k::__private::arrays::Array2::from(::std::vec![#rows]))
            }
            // A view of a slice (`aview1(&v)`) or of rows (`aview2(&rows)`) as an array of
            // copies of the elements, which every read of the view reads alike (of data, such
            // as a slice of `bool`s, which have no zero, as written).
            ("aview1", 1) if !self.data_expr(&c.args[0]) => {
                let x = &c.args[0];
                syn::parse_quote_spanned!(span=>
                    #k::__private::arrays::Array1::from_vec((#x).to_vec()))
            }
            ("aview2", 1) if !self.data_expr(&c.args[0]) => {
                let x = &c.args[0];
                syn::parse_quote_spanned!(span=>
                    #k::__private::arrays::Array2::from((#x).to_vec()))
            }
            _ => return None,
        };
        Some(e)
    }
}

/// `Array1::from(v)`, `Array1::from_vec(v)`, `Array::from(v)` (also by a longer path or with a
/// turbofish) as the array filled element by element from `v`:
/// `{ let v = ..; let mut a = Array1::zeros(v.len()); for i in .. { a[i] = v[i]; } a }`, whose
/// adjoint reads each element of `ā` back into `v̄`. `Array2::from(rows)`, and `Array::from` of
/// a `vec![[..], ..]` of rows, fill a matrix `a[[i, j]] = v[i][j]` the same way. `None` for any
/// other call.
fn array_from_vec(path: &syn::Path, c: &syn::ExprCall) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 1 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2].ident, &path.segments[n - 1]);
    // `Array1::from_iter(chain)`: the chain collected into a `Vec`, then as `Array1::from`.
    if func.ident == "from_iter"
        && matches!(func.arguments, syn::PathArguments::None)
        && (ty == "Array1" || ty == "Array")
        && matches!(&c.args[0], Expr::MethodCall(_))
    {
        let mut from = path.clone();
        if let Some(last) = from.segments.last_mut() {
            last.ident = syn::Ident::new("from", last.ident.span());
        }
        let chain = &c.args[0];
        let mut call: syn::ExprCall = syn::parse_quote_spanned!(c.span()=>
            #from(#chain.collect::<::std::vec::Vec<_>>())
        );
        call.attrs = c.attrs.clone();
        return array_from_vec(&from, &call);
    }
    if !matches!(func.arguments, syn::PathArguments::None)
        || !(func.ident == "from" || func.ident == "from_vec")
        || !(ty == "Array1" || ty == "Array" || ty == "Array2" && func.ident == "from")
    {
        return None;
    }
    let mut zeros = path.clone();
    if let Some(last) = zeros.segments.last_mut() {
        last.ident = syn::Ident::new("zeros", last.ident.span());
    }
    let v = &c.args[0];
    if ty != "Array1" && func.ident == "from" {
        if let Some(rows) = literal_rows(v) {
            // Filled from the literal's elements: a `Vec` of rows has no gradient type.
            let (r, cols) = (rows.len(), rows[0].len());
            let sets = rows.iter().enumerate().flat_map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .map(move |(j, e)| quote!(__ad_array[[#i, #j]] = #e;))
            });
            return Some(syn::parse_quote_spanned! {c.span()=> {
                let mut __ad_array = #zeros((#r, #cols));
                #(#sets)*
                __ad_array
            }});
        }
    }
    if ty == "Array2" {
        return Some(syn::parse_quote_spanned! {c.span()=> {
            let __ad_from = #v;
            let __ad_rows = __ad_from.len();
            let __ad_cols = if __ad_rows > 0 { __ad_from[0].len() } else { 0 };
            let mut __ad_array = #zeros((__ad_rows, __ad_cols));
            for __ad_i in 0..__ad_rows {
                for __ad_j in 0..__ad_cols {
                    __ad_array[[__ad_i, __ad_j]] = __ad_from[__ad_i][__ad_j];
                }
            }
            __ad_array
        }});
    }
    Some(syn::parse_quote_spanned! {c.span()=> {
        let __ad_from = #v;
        let mut __ad_array = #zeros(__ad_from.len());
        for __ad_i in 0..__ad_from.len() {
            __ad_array[__ad_i] = __ad_from[__ad_i];
        }
        __ad_array
    }})
}

/// `Array1::from_shape_fn(n, |i| ..)`, `Array2::from_shape_fn((r, c), |(i, j)| ..)` and
/// `Array3::from_shape_fn((n0, n1, n2), |(i, j, k)| ..)` (by a longer path too) as the array
/// of zeros written element by element in loops over the closure's parameters, `{ let mut a =
/// Array2::zeros((r, c)); for i in 0..r { for j in 0..c { a[[i, j]] = ..; } } a }`, which the
/// place model differentiates: the closure may read differentiated values. `None` for other
/// calls, closures with other patterns, and bodies with a `return` (which would leave the
/// function) or `?`.
fn array_from_shape_fn(path: &syn::Path, c: &syn::ExprCall) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 2 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if func.ident != "from_shape_fn" || !matches!(func.arguments, syn::PathArguments::None) {
        return None;
    }
    let Expr::Closure(cl) = chain::strip(&c.args[1]) else {
        return None;
    };
    if cl.inputs.len() != 1 || diverges(&cl.body) || has_try(&cl.body) {
        return None;
    }
    let plain = |p: &Pat| {
        matches!(p, Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none())
            || matches!(p, Pat::Wild(_))
    };
    let mut zeros = path.clone();
    if let Some(last) = zeros.segments.last_mut() {
        last.ident = syn::Ident::new("zeros", last.ident.span());
    }
    let (shape, body, span) = (&c.args[0], &cl.body, c.span());
    match &cl.inputs[0] {
        p if ty.ident == "Array1" && plain(p) => Some(syn::parse_quote_spanned! {span=> {
            let mut __ad_array = #zeros(#shape);
            let __ad_len = __ad_array.len();
            for #p in 0..__ad_len {
                __ad_array[#p] = #body;
            }
            __ad_array
        }}),
        Pat::Tuple(t)
            if ty.ident == "Array2" && t.elems.len() == 2 && t.elems.iter().all(plain) =>
        {
            let (i, j) = (&t.elems[0], &t.elems[1]);
            let index = |p: &Pat| match p {
                Pat::Wild(_) => None,
                p => Some(p.clone()),
            };
            // The loop variables as the closure names them; `_` as a name of the macro's own,
            // as the element's index needs both.
            let (ii, jj): (Pat, Pat) = (
                index(i).unwrap_or_else(|| syn::parse_quote!(__ad_i)),
                index(j).unwrap_or_else(|| syn::parse_quote!(__ad_j)),
            );
            Some(syn::parse_quote_spanned! {span=> {
                let mut __ad_array = #zeros(#shape);
                let (__ad_rows, __ad_cols) = __ad_array.dim();
                for #ii in 0..__ad_rows {
                    for #jj in 0..__ad_cols {
                        __ad_array[[#ii, #jj]] = #body;
                    }
                }
                __ad_array
            }})
        }
        Pat::Tuple(t)
            if ty.ident == "Array3" && t.elems.len() == 3 && t.elems.iter().all(plain) =>
        {
            // As for `Array2`, one loop more.
            let names = ["__ad_i", "__ad_j", "__ad_k"];
            let idx: Vec<Pat> = t
                .elems
                .iter()
                .zip(names)
                .map(|(p, n)| match p {
                    Pat::Wild(_) => {
                        let id = syn::Ident::new(n, p.span());
                        syn::parse_quote!(#id)
                    }
                    p => p.clone(),
                })
                .collect();
            let (ii, jj, kk) = (&idx[0], &idx[1], &idx[2]);
            Some(syn::parse_quote_spanned! {span=> {
                let mut __ad_array = #zeros(#shape);
                let (__ad_n0, __ad_n1, __ad_n2) = __ad_array.dim();
                for #ii in 0..__ad_n0 {
                    for #jj in 0..__ad_n1 {
                        for #kk in 0..__ad_n2 {
                            __ad_array[[#ii, #jj, #kk]] = #body;
                        }
                    }
                }
                __ad_array
            }})
        }
        _ => None,
    }
}

/// `Array1::linspace(a, b, n)` (`Array::linspace`, by a longer path too) of end points that
/// are not both literals or constants, as ndarray computes it, `tᵢ = a + step · i` with `step
/// = (b − a) / (n − 1)` (zero for `n < 2`), through [`array_from_shape_fn`]: the counts are
/// constants of the end points' type (`typed_like(&a, count_as(i))`), so the elements are
/// followed as any arithmetic on `a` and `b`. `None` for other calls.
fn array_linspace(path: &syn::Path, c: &syn::ExprCall, krate: &TokenStream) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 3 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if func.ident != "linspace"
        || !func.arguments.is_none()
        || !(ty.ident == "Array1" || ty.ident == "Array")
        || (constant_fill(&c.args[0]) && constant_fill(&c.args[1]))
    {
        return None;
    }
    let (a, e, len, span) = (&c.args[0], &c.args[1], &c.args[2], c.span());
    let k = krate;
    let count = |i: TokenStream| {
        quote::quote_spanned!(span=>
            #k::__private::typed_like(&__ad_lin_a, #k::__private::count_as(#i)))
    };
    let (steps, zero, at) = (
        count(quote::quote_spanned!(span=> __ad_lin_n - 1)),
        count(quote::quote_spanned!(span=> 0)),
        count(quote::quote_spanned!(span=> __ad_lin_i)),
    );
    Some(syn::parse_quote_spanned! {span=> {
        let __ad_lin_a = #a;
        let __ad_lin_b = #e;
        let __ad_lin_n: usize = #len;
        let __ad_lin_step = if __ad_lin_n > 1 {
            (__ad_lin_b - __ad_lin_a) / #steps
        } else {
            #zero
        };
        #k::__private::arrays::Array1::from_shape_fn(__ad_lin_n, |__ad_lin_i| {
            __ad_lin_a + __ad_lin_step * #at
        })
    }})
}

/// Whether a fill value is a literal or a constant (`0.5`, `-1.0`, `EPS`, the macro's own
/// `typed_like(&x, count_as(1))`), which needs no derivative.
fn constant_fill(fill: &Expr) -> bool {
    match chain::strip(fill) {
        Expr::Lit(_) => true,
        Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "typed_like")),
        Expr::Unary(u) => matches!(chain::strip(&u.expr), Expr::Lit(_)),
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().chars().all(|ch| !ch.is_lowercase())),
        _ => false,
    }
}

/// `Array3::from_elem(shape, x)`, `ArrayD::from_elem`, `Array::from_elem` (any type but
/// `Array1` and `Array2`, which [`array_from_elem`] writes element by element) of a value that
/// is not a literal or a constant, as the array of ones scaled by it, `from_elem(shape, 1) * x`,
/// the one a constant of `x`'s type: the product is followed for any rank (the caller leaves a
/// fill of data, a `bool` or an integer, as written). `None` for other calls.
fn array_filled_any_rank(path: &syn::Path, c: &syn::ExprCall, krate: &TokenStream) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 2 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if func.ident != "from_elem"
        || !func.arguments.is_none()
        || ty.ident == "Array1"
        || ty.ident == "Array2"
        || !ty.ident.to_string().starts_with("Array")
        || constant_fill(&c.args[1])
    {
        return None;
    }
    let (shape, fill, span, k) = (&c.args[0], &c.args[1], c.span(), krate);
    Some(syn::parse_quote_spanned! {span=> {
        let __ad_fill = #fill;
        #path(#shape, #k::__private::typed_like(&__ad_fill, #k::__private::count_as(1)))
            * __ad_fill
    }})
}

/// `Array1::from_elem(n, x)` and `Array2::from_elem((r, c), x)` (by a longer path too) of a
/// value that is not a literal or a constant (a bias broadcast from a differentiated scalar) as
/// `from_shape_fn(n, |i| x)` and `from_shape_fn((r, c), |(i, j)| x)`, which
/// [`array_from_shape_fn`] writes element by element. `None` for other calls.
fn array_from_elem(path: &syn::Path, c: &syn::ExprCall) -> Option<syn::ExprCall> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 2 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if func.ident != "from_elem" || !func.arguments.is_none() {
        return None;
    }
    let fill = &c.args[1];
    if constant_fill(fill) {
        return None;
    }
    let closure: Expr = match ty.ident.to_string().as_str() {
        "Array1" => syn::parse_quote_spanned!(fill.span()=> |__ad_i| #fill),
        "Array2" => syn::parse_quote_spanned!(fill.span()=> |(__ad_i, __ad_j)| #fill),
        _ => return None,
    };
    let mut path = path.clone();
    if let Some(last) = path.segments.last_mut() {
        last.ident = syn::Ident::new("from_shape_fn", last.ident.span());
    }
    let shape = &c.args[0];
    Some(syn::parse_quote_spanned!(c.span()=> #path(#shape, #closure)))
}

/// `Array2::from_diag(&d)` (by a longer path too) as the square matrix of zeros with `d`
/// written on its diagonal element by element, `m[[i, i]] = d[i]`, whose adjoint reads the
/// diagonal of `m̄` back into `d̄`. `None` for other calls.
fn array_from_diag(path: &syn::Path, c: &syn::ExprCall) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 1 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if ty.ident != "Array2" || func.ident != "from_diag" || !func.arguments.is_none() {
        return None;
    }
    let mut zeros = path.clone();
    if let Some(last) = zeros.segments.last_mut() {
        last.ident = syn::Ident::new("zeros", last.ident.span());
    }
    let (d, span) = (&c.args[0], c.span());
    Some(syn::parse_quote_spanned! {span=> {
        let __ad_diag = #d;
        let __ad_n = __ad_diag.len();
        let mut __ad_array = #zeros((__ad_n, __ad_n));
        for __ad_i in 0..__ad_n {
            __ad_array[[__ad_i, __ad_i]] = __ad_diag[__ad_i];
        }
        __ad_array
    }})
}

/// `a.map_axis(Axis(k), |lane| ..)` of a matrix (`k` 0 or 1, written as a literal) as the
/// vector of zeros written element by element in a loop over the lanes, each the region
/// `a.slice(s![i, ..])` (`Axis(1)`: the rows) or `a.slice(s![.., j])` (`Axis(0)`: the
/// columns) bound to the closure's parameter: `{ let mut y = Array1::zeros(n); for i in 0..n {
/// let lane = a.slice(s![i, ..]); y[i] = ..; } y }`. `None` for anything else.
fn map_axis_of_matrix(mc: &syn::ExprMethodCall, krate: &TokenStream) -> Option<Expr> {
    if mc.method != "map_axis" || mc.args.len() != 2 || mc.turbofish.is_some() {
        return None;
    }
    let Expr::Call(ax) = chain::strip(&mc.args[0]) else {
        return None;
    };
    let is_axis = matches!(&*ax.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Axis"));
    let along = match ax.args.first().map(chain::strip) {
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        })) if is_axis && ax.args.len() == 1 => n.base10_parse::<u8>().ok()?,
        _ => return None,
    };
    let Expr::Closure(cl) = chain::strip(&mc.args[1]) else {
        return None;
    };
    if cl.inputs.len() != 1 || diverges(&cl.body) || has_try(&cl.body) {
        return None;
    }
    let (lane, body, recv, span) = (
        &cl.inputs[0],
        &cl.body,
        &mc.receiver,
        super::span::method_span(mc),
    );
    let i = syn::Ident::new("__ad_lane_i", span);
    let (count, region) = match along {
        0 => (quote!(ncols), quote!(#krate::__private::s![.., #i])),
        1 => (quote!(nrows), quote!(#krate::__private::s![#i, ..])),
        _ => return None,
    };
    let bind: Stmt = match chain::strip(recv) {
        Expr::Path(_) | Expr::Field(_) => {
            syn::parse_quote_spanned!(span=> let __ad_lanes = &#recv;)
        }
        _ => syn::parse_quote_spanned!(span=> let __ad_lanes = #recv;),
    };
    Some(syn::parse_quote_spanned! {span=> {
        #bind
        let __ad_n = __ad_lanes.#count();
        let mut __ad_mapped = #krate::__private::arrays::Array1::zeros(__ad_n);
        for #i in 0..__ad_n {
            let #lane = __ad_lanes.slice(#region);
            __ad_mapped[#i] = #body;
        }
        __ad_mapped
    }})
}

/// ndarray's `x.var(ddof)`, `x.std(ddof)`, `x.var_axis(ax, ddof)` and `x.std_axis(ax, ddof)`
/// written out with the mean, which is followed: `Σ (x − μ)² / (n − ddof)` (along `ax` with
/// `mean_axis` and `sum_axis`), its square root for `std`. `None` for other calls.
fn variance(mc: &syn::ExprMethodCall, krate: &TokenStream) -> Option<Expr> {
    let name = mc.method.to_string();
    let along = match (name.as_str(), mc.args.len()) {
        ("var" | "std", 1) => None,
        ("var_axis" | "std_axis", 2) => Some(&mc.args[0]),
        _ => return None,
    };
    if mc.turbofish.is_some() {
        return None;
    }
    let (recv, ddof, span) = (&mc.receiver, mc.args.last()?, super::span::method_span(mc));
    let bind: Stmt = match chain::strip(recv) {
        Expr::Path(_) | Expr::Field(_) => {
            syn::parse_quote_spanned!(span=> let __ad_var_x = &#recv;)
        }
        _ => syn::parse_quote_spanned!(span=> let __ad_var_x = #recv;),
    };
    // Every name the expansion binds and reads has the call's span: a `quote!` (the attribute's
    // span) beside `quote_spanned!` would not see them where the body comes from a macro.
    let count = |n: TokenStream| quote::quote_spanned!(span=> #krate::__private::count_like(&__ad_ddof, #n));
    let var: Expr = match along {
        None => {
            let n = count(quote::quote_spanned!(span=> __ad_var_x.len()));
            syn::parse_quote_spanned! {span=> {
                #bind
                let __ad_ddof = #ddof;
                let __ad_mean = __ad_var_x.mean().unwrap();
                let __ad_dev = __ad_var_x.mapv(|__ad_v| __ad_v - __ad_mean);
                (&__ad_dev * &__ad_dev).sum() / (#n - __ad_ddof)
            }}
        }
        Some(ax) => {
            let n = count(quote::quote_spanned!(span=> __ad_var_x.len_of(__ad_axis)));
            syn::parse_quote_spanned! {span=> {
                #bind
                let __ad_axis = #ax;
                let __ad_ddof = #ddof;
                let __ad_mean = __ad_var_x.mean_axis(__ad_axis).unwrap().insert_axis(__ad_axis);
                let __ad_dev = __ad_var_x - &__ad_mean;
                (&__ad_dev * &__ad_dev).sum_axis(__ad_axis) / (#n - __ad_ddof)
            }}
        }
    };
    Some(match (name.starts_with("std"), along) {
        (false, _) => var,
        (true, None) => syn::parse_quote_spanned!(span=> (#var).sqrt()),
        (true, Some(_)) => syn::parse_quote_spanned!(span=> (#var).mapv(|__ad_v| __ad_v.sqrt())),
    })
}

/// Whether `e` has a `?` outside nested closures.
fn has_try(e: &Expr) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut f = Find(false);
    f.visit_expr(e);
    f.0
}

/// A cell's guard for writing: `c.borrow_mut()`, `m.lock().unwrap()`, `l.write().expect(..)`.
/// The cell the guard `e` borrows (`rng` of `rng.borrow_mut()`, `self.rng` of
/// `self.rng.lock().unwrap()`; see [`is_guard`]).
fn guarded_cell(e: &Expr) -> Option<&Expr> {
    match chain::strip(e) {
        Expr::MethodCall(mc) if mc.method == "unwrap" || mc.method == "expect" => {
            guarded_cell(&mc.receiver)
        }
        Expr::MethodCall(mc) if is_guard(e) => Some(chain::strip(&mc.receiver)),
        _ => None,
    }
}

pub(super) fn is_guard(e: &Expr) -> bool {
    match chain::strip(e) {
        Expr::MethodCall(mc) => match mc.method.to_string().as_str() {
            "borrow_mut" | "lock" | "write" => mc.args.is_empty(),
            "unwrap" | "expect" => is_guard(&mc.receiver),
            _ => false,
        },
        _ => false,
    }
}

/// `ArrayView2::from_shape(shape, &v[a..b]).unwrap()` (`ArrayView1`, `ArrayView`, any rank;
/// `.expect(..)`), NumPy's `reshape` of a flat parameter vector, as the array of copies
/// `Array2::from_shape_vec(shape, (&v[a..b]).to_vec()).unwrap()` (read alike, as `aview2` is),
/// with the slice written: the caller rewrites it where the slice is differentiated.
fn view_from_shape(mc: &syn::ExprMethodCall) -> Option<(Expr, Expr)> {
    let (c, fp) = unwrapped_call(mc)?;
    let path = &fp.path;
    let n = path.segments.len();
    if n < 2 || c.args.len() != 2 || fp.qself.is_some() {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    let owned = ty.ident.to_string().strip_prefix("ArrayView")?.to_string();
    if func.ident != "from_shape" || !matches!(func.arguments, syn::PathArguments::None) {
        return None;
    }
    let mut path = path.clone();
    path.segments[n - 2].ident = syn::Ident::new(&format!("Array{owned}"), ty.ident.span());
    // A view's type arguments (`ArrayView2::<f64>`) name a lifetime the copy has not.
    path.segments[n - 2].arguments = syn::PathArguments::None;
    path.segments[n - 1].ident = syn::Ident::new("from_shape_vec", func.ident.span());
    let (shape, v) = (&c.args[0], &c.args[1]);
    let (unwrap, args) = (&mc.method, &mc.args);
    let span = c.span();
    let e = syn::parse_quote_spanned! {span=>
        #path(#shape, (#v).to_vec()).#unwrap(#args)
    };
    Some((e, v.clone()))
}

/// `Array2::from_shape_vec((r, c), v).unwrap()` (`.expect(..)`; `Array1::from_shape_vec(n, v)`)
/// as the array filled element by element from `v`, `a[[i, j]] = v[p[[i, j]]]`, whose adjoint
/// reads each element of `ā` back into `v̄`. The positions `p` are `from_shape_vec` of the same
/// shape applied to `0..v.len()`, so that a column-major shape (`(r, c).f()`) or custom strides
/// take the elements ndarray takes (row-major order, `i * c + j`, only for a plain shape), and a
/// length that does not fit fails at the same `unwrap`. `None` for anything else.
fn array_from_shape_vec(mc: &syn::ExprMethodCall, krate: &TokenStream) -> Option<Expr> {
    let (c, fp) = unwrapped_call(mc)?;
    let path = &fp.path;
    let n = path.segments.len();
    // The positions' own call below (through the runtime's re-export) is left as written.
    let own = path.segments.iter().any(|s| s.ident == "__private");
    if n < 2 || c.args.len() != 2 || fp.qself.is_some() || own {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2], &path.segments[n - 1]);
    if func.ident != "from_shape_vec" || !matches!(func.arguments, syn::PathArguments::None) {
        return None;
    }
    let mut zeros = path.clone();
    if let Some(last) = zeros.segments.last_mut() {
        last.ident = syn::Ident::new("zeros", last.ident.span());
    }
    let (shape, v) = (&c.args[0], &c.args[1]);
    let span = c.span();
    let (unwrap, args) = (&mc.method, &mc.args);
    // Through the runtime's re-export, which this rewrite leaves as written (a qualified path
    // would be rejected by the lowering), so that the positions' own call is not rewritten.
    let positions = quote::quote_spanned! {span=>
        let __ad_from = #v;
        let __ad_pos = #krate::__private::arrays::Array::from_shape_vec(
            #shape,
            (0..__ad_from.len()).collect::<::std::vec::Vec<usize>>(),
        )
        .#unwrap(#args);
        // In the plain array's layout (column-major for `(r, c).f()`), so that what reads it
        // in memory order (`sum`) adds in the same order.
        let __ad_f = !__ad_pos.is_standard_layout() && __ad_pos.t().is_standard_layout();
        let mut __ad_array = #zeros(#krate::__private::arrays::ShapeBuilder::set_f(
            __ad_pos.raw_dim(),
            __ad_f,
        ));
    };
    if ty.ident == "Array1" {
        return Some(syn::parse_quote_spanned! {span=> {
            #positions
            for __ad_i in 0..__ad_array.len() {
                __ad_array[__ad_i] = __ad_from[__ad_pos[__ad_i]];
            }
            __ad_array
        }});
    }
    if ty.ident != "Array2" {
        // `Array::from_shape_vec(shape, v)`, `Array3::..`: the vector filled element by element
        // as above, then reshaped in row-major order as `from_shape_vec` reads it (a shape
        // with an order of its own, `(2, 3).f()`, is left as written).
        if !ty.ident.to_string().starts_with("Array") {
            return None;
        }
        if matches!(chain::strip(shape), Expr::MethodCall(_)) {
            // A shape with an order of its own (`(2, 2, 2).f()`, strides): the elements its
            // positions name, in row-major order, reshaped to its dimensions.
            return Some(syn::parse_quote_spanned! {span=> {
                let __ad_from = #v;
                let __ad_pos = #krate::__private::arrays::Array::from_shape_vec(
                    #shape,
                    (0..__ad_from.len()).collect::<::std::vec::Vec<usize>>(),
                )
                .#unwrap(#args);
                let __ad_at: ::std::vec::Vec<usize> = __ad_pos.flatten().to_vec();
                let mut __ad_flat = #krate::__private::arrays::Array1::zeros(__ad_at.len());
                for __ad_i in 0..__ad_at.len() {
                    __ad_flat[__ad_i] = __ad_from[__ad_at[__ad_i]];
                }
                __ad_flat.into_shape_with_order(__ad_pos.raw_dim()).unwrap()
            }});
        }
        return Some(syn::parse_quote_spanned! {span=> {
            let __ad_from = #v;
            let mut __ad_flat = #krate::__private::arrays::Array1::zeros(__ad_from.len());
            for __ad_i in 0..__ad_from.len() {
                __ad_flat[__ad_i] = __ad_from[__ad_i];
            }
            __ad_flat.into_shape_with_order(#shape).unwrap()
        }});
    }
    Some(syn::parse_quote_spanned! {span=> {
        #positions
        let (__ad_rows, __ad_cols) = __ad_array.dim();
        for __ad_i in 0..__ad_rows {
            for __ad_j in 0..__ad_cols {
                __ad_array[[__ad_i, __ad_j]] = __ad_from[__ad_pos[[__ad_i, __ad_j]]];
            }
        }
        __ad_array
    }})
}

/// The call of a function by its path that `mc` unwraps, `f(..).unwrap()` or
/// `f(..).expect(..)`: the call and the path.
pub(super) fn unwrapped_call(mc: &syn::ExprMethodCall) -> Option<(&syn::ExprCall, &syn::ExprPath)> {
    let unwraps = (mc.method == "unwrap" && mc.args.is_empty())
        || (mc.method == "expect" && mc.args.len() == 1);
    if !unwraps || mc.turbofish.is_some() {
        return None;
    }
    let Expr::Call(c) = chain::strip(&mc.receiver) else {
        return None;
    };
    let Expr::Path(fp) = chain::strip(&c.func) else {
        return None;
    };
    Some((c, fp))
}

/// The elements of `vec![[a, b], [c, d], ..]`, rows of one length, if `e` is that.
fn literal_rows(e: &Expr) -> Option<Vec<Vec<Expr>>> {
    let Expr::Macro(m) = chain::strip(e) else {
        return None;
    };
    if !m.mac.path.is_ident("vec") {
        return None;
    }
    let items = m
        .mac
        .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    let rows: Vec<Vec<Expr>> = items
        .into_iter()
        .map(|e| match e {
            Expr::Array(a) => Some(a.elems.into_iter().collect()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let cols = rows.first()?.len();
    rows.iter().all(|r| r.len() == cols).then_some(rows)
}

impl Lowering {
    /// A `&mut` parameter of a differentiated type passed on as it is to a function or a
    /// method of the user's (`fill(x, scratch)`): the callee may write through it, which the
    /// derivative cannot follow, so it is an error (a read is written `&scratch[..]`). `true`
    /// after reporting one.
    pub(super) fn lends_mut_param(&mut self, e: &Expr) -> bool {
        let (callee, args) = match e {
            Expr::Call(c) => (
                c.func.to_token_stream().to_string().replace(' ', ""),
                &c.args,
            ),
            Expr::MethodCall(mc) if is_own_method(mc) => (mc.method.to_string(), &mc.args),
            _ => return false,
        };
        for a in args {
            let Expr::Path(p) = a else { continue };
            let Some(id) = p.path.get_ident() else {
                continue;
            };
            let name = id.to_string();
            let Some(slot) = self.lookup(&name) else {
                continue;
            };
            // One left out of `wrt` (a generator, `fill_noise(rng, &mut noise)`) is lent as
            // it is: where nothing differentiated reaches the call, it runs as written, and
            // what it writes there is data; where something does, `check::lent_mut_params`
            // gives this error.
            let lent = self.f.params.iter().enumerate().any(|(n, prm)| {
                prm.ident == name
                    && slot == n
                    && prm.active
                    && !crate::types::is_inactive_type(&prm.ty)
                    && matches!(&prm.ty, syn::Type::Reference(r) if r.mutability.is_some())
            });
            if lent {
                let ty = self.f.params[slot].ty.clone();
                self.err(id.span(), lent_mut_param_message(&name, &callee, &ty));
                return true;
            }
        }
        false
    }
}

/// The error for the `&mut` parameter `name` lent as it is to `callee` where the derivative
/// would have to follow what `callee` writes through it.
pub(crate) fn lent_mut_param_message(name: &str, callee: &str, ty: &syn::Type) -> String {
    // A struct of the user's: a generator, or a workspace.
    let own_struct = match ty {
        syn::Type::Reference(r) => crate::types::struct_path(&r.elem).is_some(),
        _ => false,
    };
    if own_struct {
        return format!(
            "`{name}` is a `&mut` parameter lent as it is to `{callee}`, which a differentiated \
             value reaches: `{callee}` may write values depending on it into `{name}` (a \
             workspace's buffers), which would have no derivative where they are read after; \
             compute here what `{callee}` needs of `{name}` and pass the values (a generator's \
             noise: `let mut eps = vec![0.0; n]; {name}.fill_noise(&mut eps);`, a method that \
             runs as written, then `{callee}(.., &eps)`), or pass buffers of floats that \
             `{callee}` writes into (`&mut [f64]`), which are followed"
        );
    }
    format!(
        "`{name}` is a `&mut` parameter lent to `{callee}`, which may write through it, and the \
         derivative cannot follow what it writes: where `{callee}` only reads it, pass \
         `&{name}[..]`; where it writes, work on a local copy (`let mut b = {name}.to_vec(); \
         {callee}(.., &mut b);`, with `#[differentiate]` on `{callee}`) and write it back after \
         (`{name}.copy_from_slice(&b);`)"
    )
}

/// Whether a call of the user's passes a `&mut` argument (see `Lowering::mut_buffer_call`); not
/// the library's (`std::mem::swap(&mut a, &mut b)`, `v.append(&mut w)`), which stay errors.
pub(super) fn passes_mut(e: &Expr) -> bool {
    let args = match e {
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return false;
            };
            let first = p.path.segments.first().map(|s| s.ident.to_string());
            if matches!(
                first.as_deref(),
                Some("std" | "core" | "alloc" | "mem" | "ptr" | "ndarray" | "num_traits")
            ) {
                return false;
            }
            &c.args
        }
        Expr::MethodCall(mc)
            if is_own_method(mc)
                && !matches!(mc.method.to_string().as_str(), "append" | "swap_with_slice") =>
        {
            &mc.args
        }
        _ => return false,
    };
    args.iter()
        .any(|a| matches!(a, Expr::Reference(r) if r.mutability.is_some()))
}

/// Statements calling a function of the user's that is lent elements of containers
/// (`bump(&mut v[i], k);`, `let r = self.update(&mut w[i][j]);`): each element copied into a
/// local lent in its place and written back after the call, `let mut __ad_elem0 =
/// v[i].clone(); bump(&mut __ad_elem0, k); v[i] = __ad_elem0;`, which is followed as a call
/// lending a local is. Only where the container is a variable or a field and the indices
/// read variables and literals, so that evaluating them again reads the same element.
pub(super) fn lent_elements(stmts: &mut Vec<Stmt>) {
    fn lend(call: &mut Expr, copies: &mut Vec<Stmt>, backs: &mut Vec<Stmt>) {
        if !passes_mut(call) {
            return;
        }
        let args = match call {
            Expr::Call(c) => &mut c.args,
            Expr::MethodCall(mc) => &mut mc.args,
            _ => return,
        };
        for a in args.iter_mut() {
            let Expr::Reference(r) = &*a else {
                continue;
            };
            let place = chain::strip(&r.expr);
            if r.mutability.is_none() || !matches!(place, Expr::Index(_)) || !chain::plain(place) {
                continue;
            }
            let place = place.clone();
            let local = quote::format_ident!("__ad_elem{}", copies.len(), span = place.span());
            copies.push(syn::parse_quote_spanned!(place.span()=> let mut #local = #place.clone();));
            backs.push(syn::parse_quote_spanned!(place.span()=> #place = #local;));
            *a = syn::parse_quote_spanned!(a.span()=> &mut #local);
        }
    }
    let mut out = Vec::with_capacity(stmts.len());
    for mut s in std::mem::take(stmts) {
        let (mut copies, mut backs) = (Vec::new(), Vec::new());
        match &mut s {
            Stmt::Expr(e, Some(_)) => lend(e, &mut copies, &mut backs),
            Stmt::Local(l) => {
                if let Some(init) = l.init.as_mut().filter(|i| i.diverge.is_none()) {
                    lend(&mut init.expr, &mut copies, &mut backs);
                }
            }
            _ => {}
        }
        out.extend(copies);
        out.push(s);
        out.extend(backs);
    }
    *stmts = out;
}

/// Whether the closure of `a.fold(init, |m, v| ..)` gives a result that does not depend on the
/// order the elements are visited in (up to rounding): its body is `m + e`, `e + m`, `m - e`,
/// `m * e`, `e * m`, `m.max(e)`, `e.max(m)`, `m.min(e)` or `e.min(m)`, where `e` does not read
/// the accumulator `m`, or a chain of sums and differences from `m`, `m + e - f`.
pub(super) fn order_free_fold(closure: &Expr) -> bool {
    let Expr::Closure(c) = chain::strip(closure) else {
        return false;
    };
    let acc = match c.inputs.first() {
        Some(syn::Pat::Ident(pi)) => pi.ident.to_string(),
        Some(syn::Pat::Type(pt)) => match &*pt.pat {
            syn::Pat::Ident(pi) => pi.ident.to_string(),
            _ => return false,
        },
        _ => return false,
    };
    let is_acc = |e: &Expr| matches!(chain::strip(e), Expr::Path(p) if p.path.is_ident(&acc));
    let free = |e: &Expr| !super::syntax::idents_of(&quote::quote!(#e)).contains(&acc);
    // The value a block ends with, after `let`s that neither read nor bind `acc` (`{ let r =
    // (p - t).abs(); acc + w * r * r }`: each element's term computed first).
    let mut body = chain::strip(&c.body);
    while let Expr::Block(b) = body {
        match &b.block.stmts[..] {
            [lets @ .., syn::Stmt::Expr(e, None)]
                if lets
                    .iter()
                    .all(|s| matches!(s, syn::Stmt::Local(l) if free_local(l, &acc))) =>
            {
                body = chain::strip(e)
            }
            _ => return false,
        }
    }
    // `acc + a - b`, `acc - a + b`: sums and differences whose leftmost operand is `acc`, which
    // Rust groups as `(acc + a) - b`, add each element's terms as `acc + (a - b)` does.
    fn sum_chain(e: &Expr, is_acc: &dyn Fn(&Expr) -> bool, free: &dyn Fn(&Expr) -> bool) -> bool {
        match chain::strip(e) {
            Expr::Binary(bin) if matches!(bin.op, syn::BinOp::Add(_) | syn::BinOp::Sub(_)) => {
                (is_acc(&bin.left) || sum_chain(&bin.left, is_acc, free)) && free(&bin.right)
            }
            _ => false,
        }
    }
    match body {
        Expr::Binary(bin) => match bin.op {
            syn::BinOp::Add(_) | syn::BinOp::Mul(_) => {
                (is_acc(&bin.left) && free(&bin.right))
                    || (is_acc(&bin.right) && free(&bin.left))
                    || matches!(bin.op, syn::BinOp::Add(_)) && sum_chain(body, &is_acc, &free)
            }
            syn::BinOp::Sub(_) => sum_chain(body, &is_acc, &free),
            _ => false,
        },
        Expr::MethodCall(m)
            if (m.method == "max" || m.method == "min")
                && m.args.len() == 1
                && m.turbofish.is_none() =>
        {
            (is_acc(&m.receiver) && free(&m.args[0])) || (is_acc(&m.args[0]) && free(&m.receiver))
        }
        _ => false,
    }
}

/// Whether the `let` neither reads nor binds the name `acc` (and leaves nothing to run but its
/// value: no `else`).
fn free_local(l: &syn::Local, acc: &str) -> bool {
    l.init.as_ref().is_none_or(|init| init.diverge.is_none())
        && !super::syntax::idents_of(&quote::quote!(#l))
            .iter()
            .any(|i| i == acc)
}

/// The field a call's callee reads, `l.act` of `(l.act)(x)` (also `self.layers[i].act`): a
/// place rooted at a variable, without calls.
fn called_field(func: &Expr) -> Option<&syn::ExprField> {
    fn place(e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p.path.get_ident().is_some(),
            Expr::Field(f) => place(&f.base),
            Expr::Index(i) => place(&i.expr),
            Expr::Paren(p) => place(&p.expr),
            _ => false,
        }
    }
    match func {
        Expr::Paren(p) => called_field(&p.expr),
        Expr::Field(f) if place(&f.base) => Some(f),
        _ => None,
    }
}
