#!/usr/bin/env python3
"""Generates `straight_gen.rs`: workload 2, a long straight-line scalar function.

    python3 autodiff-bench/benches/workloads/gen_straight.py > autodiff-bench/benches/workloads/straight_gen.rs

One random (fixed-seed) computation graph over 10 inputs, built from small templates that keep
every intermediate bounded (|v| <= ~2 for inputs in [-2, 2]), so nothing overflows or leaves a
domain: products scaled down, exp of -t^2 or sin t, sqrt and ln of 1 + t^2, division by 1 + t^2.
Operands prefer values nobody uses yet, and the output sums every value left unused, so every
operation reaches the output (nothing is dead code for rustc or for activity analysis).

Emits three versions of the same graph, one primitive operation per `let`:
  - `straight`       the plain function, with `#[differentiate]`;
  - `straight_hand`  the gradient as a careful person writes it: the forward sweep, then the
                     adjoints in reverse order, each adjoint a `let` at its first contribution
                     (no `0.0 +`), `exp`/`sqrt` derivatives from their results, one division per
                     `a / b` (`t = g / b; a += t; b -= t * y`);
  - `straight_tape`  the same operations on `easy-ml` `Record`s.
It also checks the graph numerically (bounds, finiteness) before writing anything.
"""

import math
import random

SEED = 440
N_INPUTS = 10
N_TEMPLATES = 42
POINT = [0.7, -1.3, 0.25, 1.9, -0.4, 1.1, -1.8, 0.05, 1.45, -0.95]

rng = random.Random(SEED)
stmts = []  # (name, op, args) ; args are names or float constants
uses = {}
values = {}


def new_name():
    return f"v{len(stmts) + N_INPUTS}"


def emit(op, *args):
    name = new_name()
    stmts.append((name, op, args))
    uses[name] = 0
    for a in args:
        if isinstance(a, str):
            uses[a] += 1
    return name


def pick(exclude=()):
    """An operand: an unused value if there is one (oldest first), else a recent one."""
    unused = [v for v, u in uses.items() if u == 0 and v not in exclude]
    if unused and rng.random() < 0.8:
        return unused[0]
    recent = [v for v in list(uses)[-16:] if v not in exclude]
    return rng.choice(recent)


def t_scaled_mul(a, b):
    return emit("mulc", emit("mul", a, b), 0.25)


def t_mean(a, b):
    return emit("mulc", emit("add", a, b), 0.5)


def t_gauss(a, b):
    return emit("exp", emit("neg", emit("mul", a, a)))


def t_sin_sum(a, b):
    return emit("sin", emit("add", a, b))


def t_ratio(a, b):
    return emit("div", a, emit("addc", emit("mul", b, b), 1.0))


def t_soft_abs(a, b):
    return emit("addc", emit("sqrt", emit("addc", emit("mul", a, a), 1.0)), -1.0)


def t_exp_sin(a, b):
    return emit("mulc", emit("exp", emit("sin", a)), 0.5)


def t_log1p_sq(a, b):
    return emit("ln", emit("addc", emit("mul", b, b), 1.0))


def t_dist(a, b):
    d = emit("sub", a, b)
    return emit("mulc", emit("sqrt", emit("addc", emit("mul", d, d), 0.5)), 0.4)


def t_sin_mul(a, b):
    return emit("mul", emit("sin", emit("mul", a, b)), emit("mulc", b, 0.5))


TEMPLATES = [
    t_scaled_mul,
    t_mean,
    t_gauss,
    t_sin_sum,
    t_ratio,
    t_soft_abs,
    t_exp_sin,
    t_log1p_sq,
    t_dist,
    t_sin_mul,
]

inputs = [f"x{i}" for i in range(N_INPUTS)]
for x in inputs:
    uses[x] = 0
for k in range(N_TEMPLATES):
    t = TEMPLATES[k % len(TEMPLATES)] if k < len(TEMPLATES) else rng.choice(TEMPLATES)
    a = pick()
    b = pick(exclude=(a,))
    t(a, b)

leaves = [v for v, u in uses.items() if u == 0]
acc = leaves[0]
sum_chain = set()
for leaf in leaves[1:]:
    acc = emit("add", acc, leaf)
    sum_chain.add(acc)
OUT = acc
OPS = len(stmts)

# ---------------------------------------------------------------- numerical check

for x, p in zip(inputs, POINT):
    values[x] = p


def apply(op, args, val):
    a = [val[x] if isinstance(x, str) else x for x in args]
    return {
        "add": lambda: a[0] + a[1],
        "sub": lambda: a[0] - a[1],
        "mul": lambda: a[0] * a[1],
        "div": lambda: a[0] / a[1],
        "mulc": lambda: a[0] * a[1],
        "addc": lambda: a[0] + a[1],
        "neg": lambda: -a[0],
        "exp": lambda: math.exp(a[0]),
        "sin": lambda: math.sin(a[0]),
        "sqrt": lambda: math.sqrt(a[0]),
        "ln": lambda: math.log(a[0]),
    }[op]()


for name, op, args in stmts:
    values[name] = apply(op, args, values)
    assert math.isfinite(values[name])
    if name not in sum_chain:
        assert abs(values[name]) < 5.0, (name, op, values[name])
assert all(uses[x] > 0 for x in inputs), "every input must be used"

# ---------------------------------------------------------------- emission


def lit(c):
    s = repr(float(c))
    return s if "." in s or "e" in s else s + ".0"


def rust_expr(op, args, tape=False):
    a = [x if isinstance(x, str) else lit(x) for x in args]
    if op in ("add", "addc"):
        return f"{a[0]} + {a[1]}"
    if op == "sub":
        return f"{a[0]} - {a[1]}"
    if op in ("mul", "mulc"):
        return f"{a[0]} * {a[1]}"
    if op == "div":
        return f"{a[0]} / {a[1]}"
    if op == "neg":
        return f"-{a[0]}"
    return f"{a[0]}.{op}()"


counts = {}
for _, op, _ in stmts:
    counts[op] = counts.get(op, 0) + 1
params = ", ".join(f"{x}: f64" for x in inputs)
grad_ty = "(" + ", ".join("f64" for _ in inputs) + ")"
out = []
w = out.append
w("// @generated by autodiff-bench/benches/workloads/gen_straight.py (seed %d): do not edit by hand." % SEED)
w("//! Workload 2: one long straight-line scalar function of %d inputs, %d operations" % (N_INPUTS, OPS))
w("//! (%s)," % ", ".join(f"{n} {op}" for op, n in sorted(counts.items())))
w("//! as the plain function, a hand-written gradient and a tape version. See `gen_straight.py`.")
w("")
w("#![allow(clippy::too_many_arguments, clippy::let_and_return, clippy::type_complexity)]")
w("")
w("use autodiff::differentiate;")
w("use easy_ml::differentiation::{Record, WengertList};")
w("use easy_ml::numeric::extra::{Exp, Ln, Sin, Sqrt};")
w("")
w(f"/// Operations of one evaluation (every one reaches the output).")
w(f"pub const OPS: usize = {OPS};")
w(f"/// The point the benchmark evaluates at.")
w(f"pub const POINT: [f64; {N_INPUTS}] = [{', '.join(lit(p) for p in POINT)}];")
w("")
w("#[differentiate]")
w("#[rustfmt::skip]")
w(f"pub fn straight({params}) -> f64 {{")
for name, op, args in stmts:
    w(f"    let {name} = {rust_expr(op, args)};")
w(f"    {OUT}")
w("}")
w("")

# hand-written gradient
w("/// The gradient of [`straight`] written out by hand, adjoint by adjoint.")
w("#[rustfmt::skip]")
w("#[inline]")
w(f"pub fn straight_hand({params}) -> (f64, {grad_ty}) {{")
for name, op, args in stmts:
    w(f"    let {name} = {rust_expr(op, args)};")
w("    // backward sweep: `vN_b` is the adjoint ∂out/∂vN")
backward = []  # lines; adjoint contributions are ("acc", v, expr)


def contrib(v, expr):
    backward.append(("acc", v, expr))


for name, op, args in reversed(stmts):
    g = f"{name}_b"
    a = args[0]
    b = args[1] if len(args) > 1 else None
    if op == "add":
        contrib(a, g)
        contrib(b, g)
    elif op == "addc":
        contrib(a, g)
    elif op == "sub":
        contrib(a, g)
        contrib(b, f"-{g}")
    elif op == "mul":
        if a == b:
            contrib(a, f"2.0 * {g} * {a}")
        else:
            contrib(a, f"{g} * {b}")
            contrib(b, f"{g} * {a}")
    elif op == "mulc":
        contrib(a, f"{g} * {lit(b)}")
    elif op == "div":
        backward.append(("let", f"{name}_t", f"{g} / {b}"))
        contrib(a, f"{name}_t")
        contrib(b, f"-{name}_t * {name}")
    elif op == "neg":
        contrib(a, f"-{g}")
    elif op == "exp":
        contrib(a, f"{g} * {name}")
    elif op == "sin":
        contrib(a, f"{g} * {a}.cos()")
    elif op == "sqrt":
        contrib(a, f"0.5 * {g} / {name}")
    elif op == "ln":
        contrib(a, f"{g} / {a}")
    else:
        raise ValueError(op)
n_contrib = {}
for kind, v, _ in backward:
    if kind == "acc":
        n_contrib[v] = n_contrib.get(v, 0) + 1
w(f"    let {OUT}_b = 1.0;")
seen = set()
for kind, v, expr in backward:
    if kind == "let":
        w(f"    let {v} = {expr};")
    elif v in seen:
        w(f"    {v}_b += {expr};")
    else:
        seen.add(v)
        mut = "mut " if n_contrib[v] > 1 else ""
        w(f"    let {mut}{v}_b = {expr};")
w(f"    ({OUT}, ({', '.join(f'{x}_b' for x in inputs)}))")
w("}")
w("")

# tape
w("/// [`straight`] on the `easy-ml` tape: value and gradient.")
w("#[rustfmt::skip]")
w(f"pub fn straight_tape(list: &WengertList<f64>, x: [f64; {N_INPUTS}]) -> (f64, [f64; {N_INPUTS}]) {{")
w("    list.clear();")
for i, x in enumerate(inputs):
    w(f"    let {x} = Record::variable(x[{i}], list);")
for name, op, args in stmts:
    w(f"    let {name} = {rust_expr(op, args, tape=True)};")
w(f"    let d = {OUT}.derivatives();")
w(f"    ({OUT}.number, [{', '.join(f'd[&{x}]' for x in inputs)}])")
w("}")

print("\n".join(out))
