#!/usr/bin/env bash
# How long `cargo check` takes on a long straight-line function with and without
# `#[differentiate]`: what a user waits for in the editor on every keystroke.
#
#     scripts/compile_time.sh [runs]        # default 5 runs per measurement
#     OPTIMIZED_MACRO=1 scripts/compile_time.sh   # the macro built with optimizations, as the
#                                                 # README's `build-override` setting does
#     SHAPE=sum scripts/compile_time.sh       # one expression instead: a sum of n terms
#                                             # c·x0.powi(k)·x1.sin(), as a computer algebra
#                                             # system prints a polynomial (n = 300, 1000, 3000)
#
# The functions are generated with a fixed seed: a random mix of `*`, `+`, `sin`, `cos`,
# `tanh` and `ln(1 + t²)` over 4 `f64` inputs, operands preferring values nobody uses yet,
# and the result summing every value left unused, so that every operation reaches the result
# (nothing is dead code for rustc or for the macro's activity analysis).
#
# "Generated code alone" checks the plain function followed by the items the macro generates
# for it, written out as source (`#[differentiate(dump)]`): what rustc spends on the generated
# code itself, without the macro's run. The difference to "differentiated" is the macro.
#
# Each figure is the median over the runs of the CPU time (user + system) of `cargo check`
# after touching the source: CPU time rather than wall time, because the machines this runs
# on are shared. Needs python3 (for the generator) and GNU time.
set -euo pipefail
# Every run checks the crate from scratch (incremental compilation would reuse the last run).
export CARGO_INCREMENTAL=0
runs="${1:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/target/compile-time"
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<EOF
[package]
name = "compile-time"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
autodiff = { path = "$root" }

[workspace]
EOF
if [ "${OPTIMIZED_MACRO:-0}" = 1 ]; then
    printf '\n[profile.dev.build-override]\nopt-level = 3\n' >> "$dir/Cargo.toml"
fi

generate() { # ops differentiated(0|1|dump)
    python3 - "$1" "$2" <<'EOF'
import os, random, sys
n, attr = int(sys.argv[1]), sys.argv[2]
r = random.Random(440)
if os.environ.get("SHAPE") == "sum":
    terms = [f"{r.uniform(-2, 2):.3f} * x0.powi({i % 5}) * x1.sin()" for i in range(n)]
    print("#![allow(clippy::all)]")
    if attr != "0":
        print("#[autodiff::differentiate(dump)]" if attr == "dump" else "#[autodiff::differentiate]")
    print("pub fn f(x0: f64, x1: f64) -> f64 {")
    print("    " + " + ".join(terms))
    print("}")
    sys.exit(0)
vals = ["x0", "x1", "x2", "x3"]
unused = list(vals)
def pick():
    v = r.choice(unused) if unused and r.random() < 0.7 else r.choice(vals)
    if v in unused:
        unused.remove(v)
    return v
lines = []
for i in range(n):
    op = r.choice(["mul", "add", "sin", "cos", "tanh", "ln"])
    a = pick()
    if op == "mul":
        e = f"{a} * {pick()}"
    elif op == "add":
        e = f"{a} + {pick()}"
    elif op == "ln":
        e = f"(1.0 + {a} * {a}).ln()"
    else:
        e = f"{a}.{op}()"
    lines.append(f"    let t{i} = {e};")
    vals.append(f"t{i}")
    unused.append(f"t{i}")
print("#![allow(clippy::all)]")
if attr == "1":
    print("#[autodiff::differentiate]")
elif attr == "dump":
    print("#[autodiff::differentiate(dump)]")
print("pub fn f(x0: f64, x1: f64, x2: f64, x3: f64) -> f64 {")
print("\n".join(lines))
print("    " + " + ".join(unused))
print("}")
EOF
}

measure() { # prints the median CPU seconds of `cargo check` over the runs
    local times=()
    for _ in $(seq "$runs"); do
        touch "$dir/src/lib.rs"
        local t
        t=$( { /usr/bin/time -f "%U %S" cargo check -q --manifest-path "$dir/Cargo.toml" \
            2>&1 >/dev/null; } | tail -n 1 | awk '{ print $1 + $2 }')
        times+=("$t")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

expanded() { # ops: the plain function followed by the items the macro generates for it,
    # as Rust source, so that rustc checks the same code without running the macro
    generate "$1" dump > "$dir/src/lib.rs"
    cargo check -q --manifest-path "$dir/Cargo.toml" 2> "$dir/dump.txt"
    { generate "$1" 0; sed -n '/^#\[differentiate\] f: generated code$/,$p' "$dir/dump.txt" \
        | tail -n +2; } > "$dir/src/lib.rs"
}

# Build the dependencies once.
generate 10 1 > "$dir/src/lib.rs"
cargo check -q --manifest-path "$dir/Cargo.toml" 2>/dev/null

printf '| ops | plain | differentiated | ratio | generated code alone | ratio |\n'
printf '|---:|---:|---:|---:|---:|---:|\n'
declare -A diff
if [ "${SHAPE:-}" = sum ]; then sizes=(300 1000 3000); else sizes=(500 2000 4000); fi
for n in "${sizes[@]}"; do
    generate "$n" 0 > "$dir/src/lib.rs"
    plain=$(measure)
    generate "$n" 1 > "$dir/src/lib.rs"
    d=$(measure)
    diff[$n]=$d
    expanded "$n"
    e=$(measure)
    awk -v n="$n" -v p="$plain" -v d="$d" -v e="$e" \
        'BEGIN { printf "| %d | %.2f s | %.2f s | %.1f× | %.2f s | %.1f× |\n", n, p, d, d / p, e, e / p }'
done
awk -v a="${diff[${sizes[1]}]}" -v b="${diff[${sizes[2]}]}" -v m="${sizes[1]}" -v n="${sizes[2]}" \
    'BEGIN { printf "\n%d ops / %d ops, differentiated: %.2f×\n", n, m, b / a }'
echo "CPU time of cargo check, median of $runs runs, macro optimized: ${OPTIMIZED_MACRO:-0}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
