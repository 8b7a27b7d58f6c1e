#!/usr/bin/env bash
# A newcomer's first build, timed: each of the README's set-up commands from an empty target
# directory (a fresh `CARGO_TARGET_DIR` per command, removed afterwards), then the trybuild UI
# test alone (`cargo test --test ui`, also from empty). Sources already in cargo's download
# cache are not fetched again, so the figures are build time, not download time.
#
#   scripts/first_build.sh            # all three
#   scripts/first_build.sh lecture    # one of: lecture, test, ui
#
# Prints, per command, the wall time, user+system CPU time and peak memory from
# `/usr/bin/time -v`, and the load average before and after (a shared machine's other work
# shows up there). For `test` and `ui` it also prints how long the `ui` test binary itself ran.
set -euo pipefail
cd "$(dirname "$0")/.."

nice_cmd=()
if [ "${FIRST_BUILD_NICE:-1}" = 1 ]; then nice_cmd=(nice -n 10); fi

measure() {
    local label=$1
    shift
    local target log
    target=$(mktemp -d)
    log=$(mktemp)
    echo "== $label: $* (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! CARGO_TARGET_DIR=$target /usr/bin/time -v -o "$log.time" "${nice_cmd[@]}" "$@" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "== $label: FAILED"
        rm -rf "$target"
        return 1
    fi
    local wall user sys rss
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log.time")
    user=$(sed -n 's/.*User time (seconds): //p' "$log.time")
    sys=$(sed -n 's/.*System time (seconds): //p' "$log.time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log.time")
    echo "   wall $wall, cpu $(echo "$user + $sys" | bc) s, peak rss $((rss / 1024)) MB"
    # libtest closes each test binary with "test result: ... finished in Ns".
    local ui
    ui=$(awk '/Running tests\/ui\.rs/ {u = 1} u && /^test result:/ {print $NF; exit}' "$log")
    if [ -n "$ui" ]; then echo "   ui test binary ran $ui"; fi
    { grep -E '^test result:' "$log" || true; } |
        awk '{p += $4; f += $6; n++} END {if (n) print "   tests: " p " passed, " f " failed in " n " binaries"}'
    echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$target" "$log" "$log.time"
}

what=${1:-all}
case $what in
    lecture | all) measure lecture cargo run --release --example lecture ;;&
    test | all) measure test cargo test --workspace ;;&
    ui | all) measure ui cargo test --test ui ;;
    lecture | test) ;;
    *) echo "usage: $0 [lecture|test|ui|all]" >&2; exit 2 ;;
esac
