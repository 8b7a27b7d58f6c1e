//! What the macro reads off a parameter's *declared* type: whether it is differentiable by
//! default, and the owned type its gradient has. Nothing else about types is decided here:
//! everything past the signature is rustc's job, through the runtime's traits.
//!
//! A type parameter of the function bounded by a float trait (`T: num_traits::Float`,
//! `T: autodiff::Real`) is a float type like `f64` here: the signature names those parameters
//! for the expansion at hand ([`set_float_params`]), so that `T`, `&[T]` and `Vec<T>` are float
//! types wherever the passes ask.

use std::cell::RefCell;

use quote::quote;
use syn::Type;

thread_local! {
    /// The type parameters of the function being expanded that stand for a float type.
    static FLOAT_PARAMS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// All the type parameters of the function being expanded, and whether it is a method
    /// (whose `impl` may have type parameters of its own): see [`is_type_name`].
    static TYPE_PARAMS: RefCell<(Vec<String>, bool)> = const { RefCell::new((Vec::new(), false)) };
    /// The type parameters of the `impl` block whose methods are being expanded, when the
    /// attribute is on the block (see `expand_impl`); `None` when the macro sees only the
    /// function.
    static IMPL_TYPE_PARAMS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    /// The methods of that block left without the attribute where others carry it: not
    /// differentiated, so a call of one on differentiated values has no `_vjp`.
    static UNMARKED_METHODS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Functions the expansion knows to be declared with `wrt(..)`, by the path a call names
    /// them with (`Self::forward` for a method of the block being expanded, `f` for the free
    /// function being expanded), each with its parameters' names (the receiver first) and
    /// whether the list keeps each.
    /// The functions of the module being expanded (see `expand_mod`) without the attribute
    /// and without a hand-written `_vjp`: not differentiated.
    static PLAIN_MODULE_FNS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static DECLARED_WRT: RefCell<Vec<(String, DeclaredParams)>> =
        const { RefCell::new(Vec::new()) };
    /// The `wrt(..)` of the `impl` block being expanded where it applies to its methods (no
    /// method carries the attribute): the list of a `Self::` method without its own.
    static BLOCK_WRT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// The structs the module being expanded declares (see `expand_mod`), each with its
    /// fields' declared types (a tuple struct's by position, `"0"`) and whether each is marked
    /// `#[differentiable(data)]`, and the type of the `impl`
    /// block of the module being expanded (what `Self` names there).
    static MODULE_STRUCTS: RefCell<ModuleStructs> = const { RefCell::new((Vec::new(), None)) };
    /// The operators of its structs that the module being expanded differentiates (see
    /// `expand_mod`).
    static MODULE_OPS: RefCell<Vec<ModuleOp>> = const { RefCell::new(Vec::new()) };
    /// The methods of the module being expanded, by their type's name and their own, with
    /// their declared result types (`Self` and `Self::Output` read as the types they name).
    static MODULE_METHODS: RefCell<Vec<(String, String, Type)>> = const { RefCell::new(Vec::new()) };
    /// Fields that a struct literal in the `impl` block being expanded gives integers, by the
    /// struct's name (`Self` too, for the block's own type) and the field's.
    static BLOCK_DATA_FIELDS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// The declared result of the function `name` (a method of `owner` where it is `Some`, `Self`
/// naming the type of the module's `impl` block being expanded) that the module being expanded
/// declares (see [`module_method_return`]).
pub fn module_result(owner: Option<&str>, name: &str) -> Option<Type> {
    module_method_return(&owner.map_or_else(String::new, module_type_name), name)
}

/// `name` with `Self` read as the type whose `impl` block of the module being expanded is being
/// expanded, where there is one.
pub fn module_type_name(name: &str) -> String {
    match (name, module_self()) {
        ("Self", Some(own)) => own,
        _ => name.to_string(),
    }
}

/// An operator of a struct of a module marked `#[differentiate]` that the module
/// differentiates (`#[differentiate] impl Mul<f64> for V3 { type Output = V3; .. }`): the
/// struct, the operator's method (`mul`), the right operand's type (the struct for `impl Mul
/// for V3`; `None` for `Neg`), the declared `Output`.
#[derive(Clone)]
pub struct ModuleOp {
    pub ty: String,
    pub op: String,
    pub rhs: Option<Type>,
    pub output: Type,
}

/// Sets the operators of the module being expanded (see [`MODULE_OPS`]); returns those set
/// before.
pub fn set_module_ops(ops: Vec<ModuleOp>) -> Vec<ModuleOp> {
    MODULE_OPS.with(|p| std::mem::replace(&mut *p.borrow_mut(), ops))
}

/// The operators set for the module being expanded.
pub fn module_ops_all() -> Vec<ModuleOp> {
    MODULE_OPS.with(|p| p.borrow().clone())
}

/// The differentiated impls of the operator `op` of the struct `ty` that the module being
/// expanded declares, whose right operand's type is named `rhs` (`f64`, `V3`; any where
/// `None`).
pub fn module_ops(ty: &str, op: &str, rhs: Option<&str>) -> Vec<ModuleOp> {
    MODULE_OPS.with(|p| {
        (p.borrow().iter())
            .filter(|o| o.ty == ty && o.op == op)
            .filter(|o| rhs.is_none_or(|r| o.rhs_name().as_deref() == Some(r)))
            .cloned()
            .collect()
    })
}

impl ModuleOp {
    /// The last name of the right operand's type (`f64`, `V3`).
    pub fn rhs_name(&self) -> Option<String> {
        match self.rhs.as_ref()? {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
    }

    /// The name of the associated function that stands for the operator where the module
    /// differentiates two impls of it for the struct (`Mul<f64>` or `Mul<Quat>` beside `Mul<V3>`
    /// for `Quat`, whose generated items would otherwise have one name): `__ad_mul_f64` for
    /// the impl whose right operand is not the struct itself; `None` for that one, and where
    /// there is one impl.
    pub fn own_name(&self) -> Option<String> {
        let rhs = self.rhs_name()?;
        // (A float's operator with a struct on the right is a function of the struct's, see
        // [`module_scalar_left`].)
        (rhs != self.ty
            && !is_primitive_scalar(&self.ty)
            && module_ops(&self.ty, &self.op, None).len() > 1)
            .then(|| format!("__ad_{}_{rhs}", self.op))
    }
}

/// The float type `s` has in `s op v` for a struct `v` of type `strukt`, where the module
/// being expanded differentiates `impl Op<strukt> for f64` (or `f32`; `f64` where both are)
/// with `Output = strukt`.
pub fn module_scalar_left(op: &str, strukt: &str) -> Option<String> {
    // The struct named without type arguments (as `scalar_left` makes the function for).
    let plain = |t: &Type| {
        matches!(t, Type::Path(p) if p.path.segments.last()
            .is_some_and(|s| s.ident == strukt && s.arguments.is_none()))
    };
    let gives = |o: &ModuleOp| plain(&o.output) && o.rhs.as_ref().is_some_and(plain);
    ["f64", "f32"]
        .into_iter()
        .find(|prim| module_ops(prim, op, Some(strukt)).iter().any(gives))
        .map(str::to_string)
}

/// The structs of a module marked `#[differentiate]` with their fields' types, and the type
/// whose `impl` block is being expanded in it.
pub type ModuleStructs = (Vec<(String, Vec<ModuleField>)>, Option<String>);

/// A field of a struct of the module: its name, its declared type, whether it is marked
/// `#[differentiable(data)]`.
pub type ModuleField = (String, Type, bool);

/// Sets the structs of the module being expanded (see [`MODULE_STRUCTS`]); returns those set
/// before.
pub fn set_module_structs(structs: Vec<(String, Vec<ModuleField>)>) -> ModuleStructs {
    MODULE_STRUCTS.with(|p| std::mem::replace(&mut *p.borrow_mut(), (structs, None)))
}

/// Adds the structs of the modules around the one being expanded (what [`set_module_structs`]
/// returned there), after its own.
pub fn extend_module_structs(outer: &ModuleStructs) {
    MODULE_STRUCTS.with(|p| p.borrow_mut().0.extend(outer.0.iter().cloned()));
}

/// The methods set for the module being expanded.
pub fn module_methods_all() -> Vec<(String, String, Type)> {
    MODULE_METHODS.with(|p| p.borrow().clone())
}

/// Puts back the structs [`set_module_structs`] returned.
pub fn restore_module_structs(before: ModuleStructs) {
    MODULE_STRUCTS.with(|p| *p.borrow_mut() = before);
}

/// Names the type whose `impl` block of the module is being expanded (`None` outside one);
/// returns the name set before.
pub fn set_module_self(name: Option<String>) -> Option<String> {
    MODULE_STRUCTS.with(|p| std::mem::replace(&mut p.borrow_mut().1, name))
}

/// The type whose `impl` block of the module being expanded is being expanded (what `Self`
/// and `self` are there).
pub fn module_self() -> Option<String> {
    MODULE_STRUCTS.with(|p| p.borrow().1.clone())
}

/// Whether `name` is a struct the module being expanded declares (`Self` in one of its `impl`
/// blocks naming the block's type).
pub fn is_module_struct(name: &str) -> bool {
    let name = module_type_name(name);
    MODULE_STRUCTS.with(|p| p.borrow().0.iter().any(|(n, _)| *n == name))
}

/// The declared type of the field `field` of the struct `owner` (`Self` in one of the module's
/// `impl` blocks naming the block's type), where the module being expanded declares it.
pub fn module_field_type(owner: &str, field: &str) -> Option<Type> {
    module_field(owner, field).map(|(_, t, _)| t)
}

/// Whether the field `field` of the struct `owner` is marked `#[differentiable(data)]`, where
/// the module being expanded declares the struct (a setting kept beside the parameters, `p.cfg`
/// of `#[differentiable(data)] cfg: Settings`: what is read out of it is data).
pub fn module_field_is_data(owner: &str, field: &str) -> bool {
    module_field(owner, field).is_some_and(|(_, _, data)| data)
}

fn module_field(owner: &str, field: &str) -> Option<ModuleField> {
    let owner = module_type_name(owner);
    MODULE_STRUCTS.with(|p| {
        let p = p.borrow();
        let (_, fields) = p.0.iter().find(|(n, _)| *n == owner)?;
        fields.iter().find(|(f, _, _)| f == field).cloned()
    })
}

/// Sets the methods of the module being expanded (see [`MODULE_METHODS`]); returns those set
/// before.
pub fn set_module_methods(methods: Vec<(String, String, Type)>) -> Vec<(String, String, Type)> {
    MODULE_METHODS.with(|p| std::mem::replace(&mut *p.borrow_mut(), methods))
}

/// The declared result type of the method `method` of the type `ty`, where the module being
/// expanded declares it in an `impl` block, and all its declarations there (one per impl of a
/// trait with type arguments: `Mul<f64>`, `Mul<V3>`) agree.
pub fn module_method_return(ty: &str, method: &str) -> Option<Type> {
    MODULE_METHODS.with(|p| {
        let p = p.borrow();
        let mut rets = (p.iter())
            .filter(|(t, m, _)| t == ty && m == method)
            .map(|(_, _, r)| r);
        let first = rets.next()?;
        let text = |t: &Type| quote!(#t).to_string();
        rets.all(|r| text(r) == text(first)).then(|| first.clone())
    })
}

/// Sets the fields of structs that a literal in the `impl` block being expanded gives integers
/// (see `lower::expr::integers_made`); returns the list set before.
pub fn set_block_data_fields(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    BLOCK_DATA_FIELDS.with(|p| std::mem::replace(&mut *p.borrow_mut(), fields))
}

/// The fields set by [`set_block_data_fields`].
pub fn block_data_fields() -> Vec<(String, String)> {
    BLOCK_DATA_FIELDS.with(|p| p.borrow().clone())
}

/// Sets the `wrt(..)` of the `impl` block being expanded that applies to its methods (empty
/// for none); returns the list set before.
pub fn set_block_wrt(names: Vec<String>) -> Vec<String> {
    BLOCK_WRT.with(|p| std::mem::replace(&mut *p.borrow_mut(), names))
}

/// The `wrt(..)` of the `impl` block being expanded, where it applies to its methods.
pub fn block_wrt() -> Vec<String> {
    BLOCK_WRT.with(|p| p.borrow().clone())
}

/// A function's parameters (the receiver first), each with whether its `wrt(..)` keeps it.
pub type DeclaredParams = Vec<(String, bool)>;

/// Adds functions declared with `wrt(..)` whose calls the expansion may meet (see
/// [`DECLARED_WRT`]); returns the length before, for [`forget_declared_wrt`].
pub fn declare_wrt(known: impl IntoIterator<Item = (String, DeclaredParams)>) -> usize {
    DECLARED_WRT.with(|p| {
        let mut p = p.borrow_mut();
        let before = p.len();
        p.extend(known);
        before
    })
}

/// Forgets the functions declared after the list had length `len`.
pub fn forget_declared_wrt(len: usize) {
    DECLARED_WRT.with(|p| p.borrow_mut().truncate(len));
}

/// The parameters of the function a call names (`Self::g`, or `g`), each with whether its
/// `wrt(..)` keeps it, when the expansion knows its declaration: a call's gradient has an entry
/// for those kept only. `None` for any other function, whose gradient has an entry per argument
/// of a differentiable type.
pub fn declared_wrt(path: &syn::Path) -> Option<DeclaredParams> {
    let key = match elem_method(path) {
        Some(key) => key,
        None => (path.segments.iter())
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
    };
    // `f_grad` (called inside a differentiated function, followed through `f_grad_vjp`) has
    // `f`'s parameters and gradient, and so its list.
    // A method of another block of the module's type, called as `Self::f` (`self.f(x)`), is
    // declared under the type's name.
    let of_type = key
        .strip_prefix("Self::")
        .map(|rest| format!("{}::{rest}", module_type_name("Self")));
    let keys: Vec<String> = [Some(key.clone()), of_type]
        .into_iter()
        .flatten()
        .flat_map(|k| {
            let of_grad = k.strip_suffix("_grad").map(str::to_string);
            [Some(k), of_grad]
        })
        .flatten()
        .collect();
    DECLARED_WRT.with(|p| {
        let p = p.borrow();
        keys.iter()
            .find_map(|key| (p.iter().rev()).find(|(k, _)| k == key))
            .map(|(_, a)| a.clone())
    })
}

/// `Ty::name` of a method called on an element of a container of `Ty` (`l.forward(x)` of `for
/// l in &self.layers`, `layers: Vec<Affine>`), which the lowering names through the element
/// type of the container's, `::autodiff::__private::Elem::<Vec<Affine>>::forward`: the method's
/// list is the one `Ty`'s block declares.
fn elem_method(path: &syn::Path) -> Option<String> {
    let n = path.segments.len();
    if n < 3 || path.segments[n - 2].ident != "Elem" || path.segments[n - 3].ident != "__private" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(a) = &path.segments[n - 2].arguments else {
        return None;
    };
    let [syn::GenericArgument::Type(container)] = &a.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let (ty, _) = last_ident(container_elem(container)?)?;
    Some(format!("{ty}::{}", path.segments[n - 1].ident))
}

/// Names the methods of the `impl` block being expanded that are not differentiated because
/// other methods carry the attribute (see `expand_impl`); returns the names set before.
pub fn set_unmarked_methods(names: Vec<String>) -> Vec<String> {
    UNMARKED_METHODS.with(|p| std::mem::replace(&mut *p.borrow_mut(), names))
}

/// Whether `name` is a method of the block being expanded left without the attribute beside
/// marked ones.
pub fn is_unmarked_method(name: &str) -> bool {
    UNMARKED_METHODS.with(|p| p.borrow().iter().any(|n| n == name))
}

/// Names the functions of the module being expanded that are not differentiated (see
/// `expand_mod`); returns the names set before.
pub fn set_plain_module_fns(names: Vec<String>) -> Vec<String> {
    PLAIN_MODULE_FNS.with(|p| std::mem::replace(&mut *p.borrow_mut(), names))
}

/// Whether `name` is a function of the module being expanded that is not differentiated.
pub fn is_plain_module_fn(name: &str) -> bool {
    PLAIN_MODULE_FNS.with(|p| p.borrow().iter().any(|n| n == name))
}

/// Names the type parameters of the `impl` block around the functions expanded until the next
/// call (`None`: the macro sees no block); returns the names set before.
pub fn set_impl_type_params(names: Option<Vec<String>>) -> Option<Vec<String>> {
    IMPL_TYPE_PARAMS.with(|p| std::mem::replace(&mut *p.borrow_mut(), names))
}

/// Whether the function being expanded is a method of an `impl` block the attribute is on (see
/// `expand_impl`).
pub fn in_impl_block() -> bool {
    IMPL_TYPE_PARAMS.with(|p| p.borrow().is_some())
}

/// Whether `sig` is a method's (a receiver, or `Self` named): the `impl` around it may have
/// type parameters.
pub fn in_impl(sig: &syn::Signature) -> bool {
    sig.receiver().is_some()
        || quote!(#sig)
            .to_string()
            .split_whitespace()
            .any(|w| w == "Self")
}

/// Whether `name`, named in a function but declared neither on it nor in its `where` clause,
/// may be a type parameter of the `impl` around it: a single capital letter in a method
/// (`method`, see [`in_impl`]) whose block the macro does not see, or a parameter of the block
/// it sees. A free function's `P`, or a method's `P` in a block without one, is a type of the
/// user's.
pub fn may_be_impl_param(name: &str, method: bool) -> bool {
    IMPL_TYPE_PARAMS.with(|p| match &*p.borrow() {
        Some(params) => params.iter().any(|n| n == name),
        None => method && name.len() == 1 && name.chars().all(|c| c.is_ascii_uppercase()),
    })
}

/// Names the type parameters of the function being expanded that stand for floats (see
/// [`crate::signature::Generic`]); every expansion sets them, before lowering.
pub fn set_float_params(names: Vec<String>) {
    FLOAT_PARAMS.with(|p| *p.borrow_mut() = names);
}

/// Names the type parameters of the function being expanded, and whether it is a method (see
/// [`in_impl`]); every expansion sets them, before lowering.
pub fn set_type_params(names: Vec<String>, method: bool) {
    TYPE_PARAMS.with(|p| *p.borrow_mut() = (names, method));
}

/// Whether `name`, a single capital letter (`C` of `C::ZERO`, `C::from_polar(..)`), names a
/// type of the user's rather than a type parameter: one neither the function nor the `impl`
/// around it declares (see [`may_be_impl_param`]).
pub fn one_letter_type(name: &str) -> bool {
    TYPE_PARAMS.with(|p| {
        let (names, method) = &*p.borrow();
        !names.iter().any(|n| n == name) && !may_be_impl_param(name, *method)
    })
}

/// Whether `name` is a type parameter that stands for a float.
pub fn is_float_param(name: &str) -> bool {
    FLOAT_PARAMS.with(|p| p.borrow().iter().any(|n| n == name))
}

/// A type parameter standing for a float, written as a bare path (`T`).
fn float_param(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|i| is_float_param(&i.to_string())),
        _ => false,
    }
}

const INTEGERS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

/// Whether `name` names a type of data: an integer, `bool`, `char`, `str` or `String`.
fn is_discrete_name(name: &str) -> bool {
    INTEGERS.contains(&name) || matches!(name, "bool" | "char" | "str" | "String")
}

/// Whether `ty` is an integer type by its name (`usize`, `i32`, .., not by a path).
pub fn is_integer(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| INTEGERS.contains(&i.to_string().as_str())))
}

/// Whether `name` is a primitive scalar type: a float, an integer, `bool` or `char`.
pub fn is_primitive_scalar(name: &str) -> bool {
    matches!(name, "f32" | "f64" | "bool" | "char") || INTEGERS.contains(&name)
}

fn last_ident(ty: &Type) -> Option<(String, Option<&syn::PathArguments>)> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .map(|s| (s.ident.to_string(), Some(&s.arguments))),
        _ => None,
    }
}

fn first_type_arg(args: Option<&syn::PathArguments>) -> Option<&Type> {
    match args? {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Integers, `bool`, `char`, strings, functions (a function pointer `fn(usize) -> f64`, a
/// closure `&dyn Fn(usize) -> f64` or `Box<dyn FnMut(f64) -> f64>`: a window or a schedule
/// passed in, which has no gradient), and references, slices, arrays, `Vec`s, `Option`s,
/// `Box`es and ndarray arrays and views (`Array1<usize>`) of them, and maps and sets of them
/// (`HashMap<u64, usize>`, `BTreeSet<u32>`, `VecDeque<usize>`).
pub fn is_inactive_type(ty: &Type) -> bool {
    match ty {
        Type::FnPtr(_) => true,
        Type::TraitObject(t) => t.bounds.iter().any(is_fn_bound),
        Type::ImplTrait(t) => t.bounds.iter().any(is_fn_bound),
        Type::Reference(r) => is_inactive_type(&r.elem),
        Type::Slice(s) => is_inactive_type(&s.elem),
        Type::Array(a) => is_inactive_type(&a.elem),
        Type::Paren(p) => is_inactive_type(&p.elem),
        Type::Group(g) => is_inactive_type(&g.elem),
        Type::Tuple(t) => !t.elems.is_empty() && t.elems.iter().all(is_inactive_type),
        _ => match last_ident(ty) {
            Some((name, args))
                if matches!(
                    name.as_str(),
                    "Vec" | "Option" | "Box" | "Rc" | "Arc" | "Cow"
                ) || is_ndarray_name(&name) =>
            {
                first_type_arg(args).is_some_and(is_inactive_type)
            }
            // Maps and sets of data (an item's id to its row, `HashMap<u64, usize>`; the ids
            // seen, `HashSet<u32>`): every type argument is data.
            Some((name, Some(syn::PathArguments::AngleBracketed(a))))
                if matches!(
                    name.as_str(),
                    "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "VecDeque"
                ) =>
            {
                let types: Vec<&Type> = (a.args.iter())
                    .filter_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                // A map's key and value, a set's or a queue's element (a hasher after them,
                // `HashMap<u64, usize, S>`, is no value of the container's).
                let values = if name.ends_with("Map") { 2 } else { 1 };
                !types.is_empty() && types.iter().take(values).all(|t| is_inactive_type(t))
            }
            // A range of positions (`frames: Range<usize>`, a clip's frames).
            Some((name, args)) if RANGES.contains(&name.as_str()) => {
                first_type_arg(args).is_none_or(is_inactive_type)
            }
            Some((name, _)) => is_discrete_name(&name),
            None => false,
        },
    }
}

/// A time step or a frame time kept as `std::time`'s (`dt: Duration`, read as
/// `dt.as_secs_f64()`), or a moment, also behind a reference: a parameter of no float to
/// differentiate. (Not data in a parameter struct, where the macro would not see the field's
/// type at `c.frame_time.as_secs_f64()`: the derive's error says to pass it on its own.)
pub fn is_time(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_time(&r.elem),
        Type::Paren(p) => is_time(&p.elem),
        Type::Group(g) => is_time(&g.elem),
        _ => last_ident(ty).is_some_and(|(name, args)| {
            matches!(name.as_str(), "Duration" | "Instant" | "SystemTime")
                && matches!(args, None | Some(syn::PathArguments::None))
        }),
    }
}

/// `std::ops`' ranges, by the name of their type.
pub const RANGES: &[&str] = &[
    "Range",
    "RangeInclusive",
    "RangeFrom",
    "RangeTo",
    "RangeToInclusive",
    "RangeFull",
];

/// A bound `Fn(..)`, `FnMut(..)` or `FnOnce(..)` (by any path, `std::ops::Fn(..)`).
pub(crate) fn is_fn_bound(b: &syn::TypeParamBound) -> bool {
    match b {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce")),
        _ => false,
    }
}

/// A bound `Fn(..)` (by any path), which a closure called through a shared borrow meets.
pub(crate) fn is_fn_bound_shared(b: &syn::TypeParamBound) -> bool {
    match b {
        syn::TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Fn"),
        _ => false,
    }
}

/// `Box<dyn FnMut(..)>` (or `FnOnce`): a closure taken by value that must be called mutably.
pub fn boxed_fn_mut(ty: &Type) -> bool {
    match ty {
        Type::Paren(p) => boxed_fn_mut(&p.elem),
        Type::Group(g) => boxed_fn_mut(&g.elem),
        _ => match last_ident(ty) {
            Some((name, args)) if name == "Box" => {
                matches!(first_type_arg(args), Some(Type::TraitObject(t))
                    if t.bounds.iter().any(is_fn_bound)
                        && !t.bounds.iter().any(is_fn_bound_shared))
            }
            _ => false,
        },
    }
}

/// The type of a parameter taken by value or by reference that is a type of the user's own,
/// named by a path without generic arguments (`Activation`, `&config::Mode`): not a float, not
/// a type parameter, not `Self`, not a type the macro knows, and not an item declared in the
/// body (which a check outside it cannot name).
pub fn own_type_to_check<'t>(ty: &'t Type, func: &syn::ItemFn) -> Option<&'t Type> {
    let inner = match ty {
        Type::Reference(r) => &*r.elem,
        t => t,
    };
    let Type::Path(p) = inner else { return None };
    if p.qself.is_some() || p.path.segments.iter().any(|s| !s.arguments.is_empty()) {
        return None;
    }
    let last = p.path.segments.last()?.ident.to_string();
    let known = matches!(last.as_str(), "f32" | "f64" | "Self")
        || is_discrete_name(&last)
        || is_ndarray_name(&last)
        || is_float_param(&last)
        || func.sig.generics.type_params().any(|g| g.ident == last)
        || !last.starts_with(|c: char| c.is_ascii_uppercase());
    let declared_in_body = func.block.stmts.iter().any(|s| match s {
        syn::Stmt::Item(syn::Item::Struct(i)) => i.ident == last,
        syn::Stmt::Item(syn::Item::Enum(i)) => i.ident == last,
        syn::Stmt::Item(syn::Item::Type(i)) => i.ident == last,
        _ => false,
    });
    (!known && !declared_in_body).then_some(inner)
}

/// An ndarray array or view type, or a reference to one (`&Array2<f64>`, `ArrayView1<'_, T>`).
pub fn is_ndarray(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_ndarray(&r.elem),
        t => last_segment(t).is_some_and(|s| is_ndarray_name(&s.ident.to_string())),
    }
}

/// The element type of an ndarray type (`f64` of `&Array1<f64>`, `T` of `ArrayView2<T>`):
/// its first type argument.
pub fn ndarray_elem(ty: &Type) -> Option<Type> {
    if let Type::Reference(r) = ty {
        return ndarray_elem(&r.elem);
    }
    let s = last_segment(ty).filter(|s| is_ndarray_name(&s.ident.to_string()))?;
    let syn::PathArguments::AngleBracketed(a) = &s.arguments else {
        return None;
    };
    a.args.iter().find_map(|g| match g {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// ndarray's owned array and view types, whose first type argument is the element type.
pub fn is_ndarray_name(name: &str) -> bool {
    let dims = |rest: &str| {
        rest.is_empty() || rest == "D" || (rest.len() == 1 && rest.as_bytes()[0].is_ascii_digit())
    };
    name.strip_prefix("ArrayView").is_some_and(dims) || name.strip_prefix("Array").is_some_and(dims)
}

/// An `Option` of anything, or a reference to one.
pub fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_option(&r.elem),
        Type::Paren(p) => is_option(&p.elem),
        Type::Group(g) => is_option(&g.elem),
        _ => last_ident(ty).is_some_and(|(name, _)| name == "Option"),
    }
}

/// A cell (`Cell<T>`, `RefCell<T>`, `Mutex<T>`, `RwLock<T>`, `OnceCell<T>`), also behind a
/// reference or in an `Rc` or an `Arc`: shared state, which has no gradient type.
pub fn is_cell(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_cell(&r.elem),
        Type::Paren(p) => is_cell(&p.elem),
        Type::Group(g) => is_cell(&g.elem),
        _ => match last_ident(ty) {
            Some((name, args)) if name == "Rc" || name == "Arc" => {
                first_type_arg(args).is_some_and(is_cell)
            }
            // With its type argument: a struct of the user's may be named `Cell` (an LSTM
            // cell), which was taken for std's and silently left out of the gradient.
            Some((name, args)) => CELLS.contains(&name.as_str()) && first_type_arg(args).is_some(),
            None => false,
        },
    }
}

/// An `Option`, or a tuple or container holding one at some depth (`(f64, Option<f64>)`,
/// `Vec<Option<f64>>`): a type without a gradient type.
pub fn holds_option(ty: &Type) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.iter().any(holds_option),
        _ => is_option(ty) || container_elem(ty).is_some_and(holds_option),
    }
}

/// A map or a set (`HashMap<String, f64>`, `BTreeMap<(usize, usize), f64>`, `HashSet<u32>`),
/// or a reference, a tuple or a container holding one (`&[HashMap<String, f64>]`): a type
/// without a gradient type, whose floats are data (the counts or probabilities of a table
/// built outside the differentiated function).
pub fn holds_map(ty: &Type) -> bool {
    holds_named(
        ty,
        &[
            "HashMap", "BTreeMap", "HashSet", "BTreeSet", "IndexMap", "IndexSet",
        ],
    )
}

/// Whether `ty` is a `Result` (`Result<f64, E>`, `io::Result<f64>`, an alias's own name
/// `anyhow::Result<f64>`), or a tuple or a container holding one.
pub fn holds_result(ty: &Type) -> bool {
    holds_named(ty, &["Result"])
}

/// Whether `ty` is a type whose last segment is one of `names`, or a reference, a tuple or a
/// container holding one.
fn holds_named(ty: &Type, names: &[&str]) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.iter().any(|e| holds_named(e, names)),
        Type::Reference(r) => holds_named(&r.elem, names),
        Type::Paren(p) => holds_named(&p.elem, names),
        Type::Group(g) => holds_named(&g.elem, names),
        _ => {
            last_ident(ty).is_some_and(|(name, _)| names.contains(&name.as_str()))
                || container_elem(ty).is_some_and(|e| holds_named(e, names))
        }
    }
}

/// The element type of a slice, array or `Vec` (or of a reference to one), if `ty` is one.
fn container_elem(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Reference(r) => container_elem(&r.elem),
        Type::Paren(p) => container_elem(&p.elem),
        Type::Group(g) => container_elem(&g.elem),
        Type::Slice(s) => Some(&s.elem),
        Type::Array(a) => Some(&a.elem),
        _ => match last_ident(ty) {
            Some((name, args)) if name == "Vec" => first_type_arg(args),
            _ => None,
        },
    }
}

/// A slice, array or `Vec` whose elements, at some depth, are references: `&[&[f64]]`,
/// `[&[f64]; 2]`, `Vec<Vec<&f64>>`. Its gradient type would hold references, so it has none.
/// Containers of owned containers (`&[Vec<f64>]`, `&[[f64; 3]]`) have one: the same nested
/// container, owned.
pub fn holds_references(ty: &Type) -> bool {
    let mut cur = container_elem(ty);
    while let Some(e) = cur {
        let e = match e {
            Type::Paren(p) => &*p.elem,
            Type::Group(g) => &*g.elem,
            e => e,
        };
        if matches!(e, Type::Reference(_)) {
            return true;
        }
        cur = container_elem(e);
    }
    false
}

/// A tuple holding a borrow (a reference or an ndarray view), at any depth of references,
/// slices, arrays and `Vec`s: `(&[f64], &[f64])`, `&[(&[f64], f64)]`. Its gradient type would
/// hold the borrow, so it has none.
pub fn holds_borrowing_tuple(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => holds_borrowing_tuple(&r.elem),
        Type::Paren(p) => holds_borrowing_tuple(&p.elem),
        Type::Group(g) => holds_borrowing_tuple(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(borrows),
        _ => container_elem(ty).is_some_and(holds_borrowing_tuple),
    }
}

/// A tuple that holds an integer (or another type without a derivative) beside a float, at any
/// depth of references, slices, arrays and `Vec`s: `&[(usize, f64)]`. It has no gradient type.
pub fn holds_mixed_tuple(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => holds_mixed_tuple(&r.elem),
        Type::Paren(p) => holds_mixed_tuple(&p.elem),
        Type::Group(g) => holds_mixed_tuple(&g.elem),
        Type::Tuple(t) => {
            (t.elems.iter().any(is_inactive_type) && !t.elems.iter().all(is_inactive_type))
                || t.elems.iter().any(holds_mixed_tuple)
        }
        _ => container_elem(ty).is_some_and(holds_mixed_tuple),
    }
}

/// A type that borrows (a reference, an ndarray view, a type with a lifetime argument), or a
/// tuple holding one: `&[f64]`, `&'a Layer`, `ArrayView1<'_, f64>`, `(&[f64], f64)`. As a
/// result it has no gradient type a pullback could take, and the generated items, which make
/// the result from values of their own, could not return it.
pub fn borrows(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Paren(p) => borrows(&p.elem),
        Type::Group(g) => borrows(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(borrows),
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            if last.ident.to_string().starts_with("ArrayView") {
                return true;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                    syn::GenericArgument::Lifetime(_) => true,
                    syn::GenericArgument::Type(t) => borrows(t),
                    _ => false,
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `f32`, `f64`, a type parameter standing for a float, and references, slices, arrays and
/// `Vec`s of them.
pub fn is_float_type(ty: &Type) -> bool {
    if float_param(ty) {
        return true;
    }
    match ty {
        Type::Reference(r) => is_float_type(&r.elem),
        Type::Slice(s) => is_float_type(&s.elem),
        Type::Array(a) => is_float_type(&a.elem),
        Type::Paren(p) => is_float_type(&p.elem),
        Type::Group(g) => is_float_type(&g.elem),
        _ => match last_ident(ty) {
            Some((name, args)) if name == "Vec" => first_type_arg(args).is_some_and(is_float_type),
            Some((name, _)) => name == "f32" || name == "f64",
            None => false,
        },
    }
}

/// The owned type of a gradient: `&T` → `T`, `[T]` → `Vec<T>`, an ndarray view → the owned
/// array of its element type and dimension (`ArrayView1<'_, f64>` → `Array1<f64>`, named
/// through the runtime at `krate`, as the user's crate may not import it), otherwise the type
/// itself.
pub fn owned(ty: &Type, krate: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match ty {
        Type::Reference(r) => owned(&r.elem, krate),
        Type::Slice(s) => {
            let e = &s.elem;
            quote!(::std::vec::Vec<#e>)
        }
        Type::Paren(p) => owned(&p.elem, krate),
        Type::Group(g) => owned(&g.elem, krate),
        t => match view_owned(t) {
            Some((name, args)) => quote!(#krate::__private::arrays::#name #args),
            None => quote!(#t),
        },
    }
}

/// The owned type of a result that borrows (`&[f64]` → `Vec<f64>`, `ArrayView1<'_, f64>` →
/// `Array1<f64>`, element by element in a tuple), if it has one that borrows nothing.
pub fn owned_result(ty: &Type, krate: &proc_macro2::TokenStream) -> Option<Type> {
    let t: Type = match ty {
        Type::Tuple(t) => {
            let elems = t
                .elems
                .iter()
                .map(|e| owned_result(e, krate))
                .collect::<Option<Vec<_>>>()?;
            syn::parse_quote!((#(#elems,)*))
        }
        Type::Paren(p) => return owned_result(&p.elem, krate),
        Type::Group(g) => return owned_result(&g.elem, krate),
        t => syn::parse2(owned(t, krate)).ok()?,
    };
    (!borrows(&t)).then_some(t)
}

/// ndarray's view type `name` (`ArrayView1`, `ArrayView`, `ArrayViewD`, `ArrayViewMut2`): the
/// name of the owned array of the same dimension and whether the view is mutable.
fn view_name(name: &str) -> Option<(String, bool)> {
    let (rest, mutable) = match name.strip_prefix("ArrayViewMut") {
        Some(r) => (r, true),
        None => (name.strip_prefix("ArrayView")?, false),
    };
    let dim = matches!(rest, "" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "D");
    dim.then(|| (format!("Array{rest}"), mutable))
}

/// The last segment of a path type, if `ty` is one (not through references).
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

/// The owned array type a shared ndarray view type stands for, as its name and the view's
/// arguments less its lifetime: `ArrayView1<'_, f64>` → `Array1`, `<f64>`;
/// `ndarray::ArrayView<'a, T, Ix2>` → `Array`, `<T, Ix2>`. `None` for other types.
fn view_owned(ty: &Type) -> Option<(syn::Ident, syn::PathArguments)> {
    let seg = last_segment(ty)?;
    let (owned, false) = view_name(&seg.ident.to_string())? else {
        return None;
    };
    let mut args = seg.arguments.clone();
    if let syn::PathArguments::AngleBracketed(a) = &mut args {
        a.args = std::mem::take(&mut a.args)
            .into_iter()
            .filter(|g| !matches!(g, syn::GenericArgument::Lifetime(_)))
            .collect();
    }
    Some((syn::Ident::new(&owned, seg.ident.span()), args))
}

/// An ndarray view type (`ArrayView1<'_, f64>`, `ArrayViewMut2<f64>`), or a reference to one:
/// `Some(true)` for a mutable view.
pub fn view_kind(ty: &Type) -> Option<bool> {
    match ty {
        Type::Reference(r) => view_kind(&r.elem),
        t => last_segment(t).and_then(|s| view_name(&s.ident.to_string()).map(|(_, m)| m)),
    }
}

/// `ty` with the elided lifetime of an ndarray view in it (`ArrayView1<'_, f64>`,
/// `ArrayView1<f64>`, `&ArrayView1<f64>`) made `lt`; `None` where it has none.
pub fn name_view_lifetime(ty: &Type, lt: &syn::Lifetime) -> Option<Type> {
    match ty {
        Type::Reference(r) => {
            let mut r = r.clone();
            *r.elem = name_view_lifetime(&r.elem, lt)?;
            Some(Type::Reference(r))
        }
        Type::Path(p) => {
            view_name(&last_segment(ty)?.ident.to_string())?;
            let mut p = p.clone();
            let last = p.path.segments.last_mut()?;
            let named: syn::GenericArgument = syn::GenericArgument::Lifetime(lt.clone());
            match &mut last.arguments {
                syn::PathArguments::AngleBracketed(a) => match a.args.first_mut() {
                    Some(syn::GenericArgument::Lifetime(l)) if l.ident == "_" => {
                        *l = lt.clone();
                    }
                    Some(syn::GenericArgument::Lifetime(_)) => return None,
                    _ => a.args.insert(0, named),
                },
                _ => return None,
            }
            Some(Type::Path(p))
        }
        _ => None,
    }
}

/// `ty` with each elided lifetime `'_` written in it (`Cow<'_, [f64]>`, `&Batch<'_>`) made `lt`,
/// outside `&mut` and function types; and whether there was one.
pub fn name_elided_lifetimes(ty: &Type, lt: &syn::Lifetime) -> (Type, bool) {
    use syn::visit_mut::VisitMut;
    struct Named<'l>(&'l syn::Lifetime, bool);
    impl VisitMut for Named<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident == "_" {
                *l = self.0.clone();
                self.1 = true;
            }
        }
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.mutability.is_none() {
                syn::visit_mut::visit_type_reference_mut(self, r);
            }
        }
        fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}
        fn visit_type_trait_object_mut(&mut self, _: &mut syn::TypeTraitObject) {}
        fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
    }
    let mut t = ty.clone();
    let mut v = Named(lt, false);
    v.visit_type_mut(&mut t);
    (t, v.1)
}

/// `f32` or `f64` (possibly by path, `core::primitive::f64`), or a type parameter standing for a
/// float: the results `_grad` is generated for. Other results get only `_vjp`.
pub fn is_scalar_float(ty: &Type) -> bool {
    if float_param(ty) {
        return true;
    }
    match ty {
        Type::Paren(p) => is_scalar_float(&p.elem),
        Type::Group(g) => is_scalar_float(&g.elem),
        _ => matches!(last_ident(ty), Some((n, _)) if n == "f32" || n == "f64"),
    }
}

/// The type of a method's receiver as a parameter type: `&self` is `&Self`, `self` is `Self`,
/// `self: T` is `T`. `Err` for `&mut self`, which a differentiated function cannot take.
pub fn receiver_type(r: &syn::Receiver) -> Result<Type, ()> {
    match &r.kind {
        syn::ReceiverKind::Reference(_, _, Some(_)) => Err(()),
        syn::ReceiverKind::Reference(_, lifetime, None) => Ok(match lifetime {
            Some(l) => syn::parse_quote!(&#l Self),
            None => syn::parse_quote!(&Self),
        }),
        syn::ReceiverKind::Typed(_, ty) => Ok((**ty).clone()),
        _ => Ok(syn::parse_quote!(Self)),
    }
}

/// Containers and numbers of std and ndarray: types whose methods are not a user's
/// differentiated methods.
const LIBRARY: &[&str] = &[
    "Vec",
    "Option",
    "Box",
    "Rc",
    "Arc",
    "Cell",
    "RefCell",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "BinaryHeap",
    "VecDeque",
    "LinkedList",
    "Cow",
    "Mutex",
    "RwLock",
    "Array",
    "ArrayBase",
    "ArcArray",
    "CowArray",
    "ArrayD",
    "ArrayViewD",
];

/// The path of a user's struct (or `Self`) that a parameter of type `ty` holds, by reference or
/// by value (the `bool`: by value), with its generic arguments left to inference: `&Model` →
/// `(Model, false)`, `Mlp<T>` → `(Mlp, true)`. `None` for floats, integers, containers, arrays
/// and ndarray's types, whose methods are not user methods.
pub fn struct_path(ty: &Type) -> Option<(syn::Path, bool)> {
    let (ty, owned) = match ty {
        Type::Reference(r) if r.mutability.is_none() => (&*r.elem, false),
        Type::Reference(_) => return None,
        ty => (ty, true),
    };
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || is_float_type(ty) || is_inactive_type(ty) {
        return None;
    }
    let last = p.path.segments.last()?;
    let name = last.ident.to_string();
    let ndarray = ["Array", "ArrayView", "ArrayViewMut"]
        .iter()
        .any(|a| name.strip_prefix(a).is_some_and(|d| d.len() <= 1));
    // A library type with its type arguments; one without is the user's (`struct Cell`, a
    // herd's `struct Cow`).
    let generic =
        matches!(&last.arguments, syn::PathArguments::AngleBracketed(a) if !a.args.is_empty());
    if ndarray
        || (LIBRARY.contains(&name.as_str())
            && (generic
                || !matches!(
                    name.as_str(),
                    "Cell" | "RefCell" | "Cow" | "Mutex" | "RwLock"
                )))
    {
        return None;
    }
    let mut path = p.path.clone();
    if let Some(last) = path.segments.last_mut() {
        last.arguments = syn::PathArguments::None;
    }
    Some((path, owned))
}

/// The key of a field's name (`layer`, or `0` of a tuple struct) in the runtime's
/// `Field<H, M>` trait, which `#[derive(Differentiable)]` implements per field and
/// `self.layer.forward(x)` names the field's type by: FNV-1a, 64 bits. Two fields of one struct
/// with the same key would be conflicting impls, a compile error, never a wrong type.
pub fn field_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Std's types with interior mutability that take a type argument.
const CELLS: &[&str] = &[
    "Cell",
    "RefCell",
    "UnsafeCell",
    "OnceCell",
    "OnceLock",
    "Mutex",
    "RwLock",
];

/// Whether type `t` names a type with interior mutability (`Cell`, `RefCell`, `UnsafeCell`,
/// `OnceCell`, `OnceLock`, `Mutex`, `RwLock`, an atomic), anywhere inside it (`Rc<RefCell<_>>`,
/// `[Cell<f64>]`).
pub fn interior_mutable(t: &syn::Type) -> bool {
    fn any(ts: proc_macro2::TokenStream) -> bool {
        let mut tokens = ts.into_iter().peekable();
        while let Some(tt) = tokens.next() {
            let found = match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    let n = i.to_string();
                    // With its type argument: a struct of the user's may be named `Cell`.
                    let generic = matches!(tokens.peek(),
                        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '<');
                    n.starts_with("Atomic") || generic && CELLS.contains(&n.as_str())
                }
                proc_macro2::TokenTree::Group(g) => any(g.stream()),
                _ => false,
            };
            if found {
                return true;
            }
        }
        false
    }
    any(quote::quote!(#t))
}
