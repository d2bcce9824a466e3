#!/usr/bin/env bash
# fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]: builds every fuzz target once, then runs each
# (or the ones named) for SECONDS_PER_TARGET (default 60), one at a time, starting from its
# committed seed corpus (fuzz/corpus/<target>). Exits non-zero if any target crashed, hung or
# ran out of memory; the input that did it is in fuzz/artifacts/<target>/ (replay it with
# `cargo fuzz run <target> <file>` and keep it as a regression test beside the code).
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --version 0.13.2 --locked`). Only a stable
# toolchain is assumed: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass the -Z flags it needs.
# Inputs found along the way go to a temporary directory, so the committed corpus stays small;
# set FUZZ_KEEP_CORPUS=DIR to keep them in DIR/<target> (e.g. for a longer run resumed later).
set -euo pipefail

secs=${1:-60}
shift || true
cd "$(dirname "${BASH_SOURCE[0]}")"

export RUSTC_BOOTSTRAP=1
# Release code with debug assertions (overflow checks too); no sanitizer: the code under test
# is safe Rust, so a panic is the finding, and the build is much faster.
# Codegen units: cargo-fuzz defaults to 1 (fastest fuzzing, slowest build). A short run (CI's
# seconds per target) is dominated by the build, so it takes 16; FUZZ_CODEGEN_UNITS overrides.
if [[ $secs -le 30 ]]; then cgu_default=16; else cgu_default=1; fi
flags=(-O --debug-assertions --sanitizer none --codegen-units "${FUZZ_CODEGEN_UNITS:-$cgu_default}")
# Optimisation level: a short run takes opt-level 1 (the build of every target measured 263 s
# against 296 s at the release profile's 3 on a quiet 2-core host; seconds of fuzzing care
# little), a long one 3; FUZZ_OPT_LEVEL overrides.
if [[ $secs -le 30 ]]; then opt_default=1; else opt_default=3; fi
export CARGO_PROFILE_RELEASE_OPT_LEVEL=${FUZZ_OPT_LEVEL:-$opt_default}

t0=$SECONDS
cargo fuzz build "${flags[@]}"
echo "fuzz: built all targets in $((SECONDS - t0)) s"

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for t in "${targets[@]}"; do
    work=${FUZZ_KEEP_CORPUS:+$FUZZ_KEEP_CORPUS/$t}
    work=${work:-$scratch/$t}
    mkdir -p "$work" "artifacts/$t"
    log=$scratch/$t.log
    echo "==> fuzz $t for ${secs} s"
    t1=$SECONDS
    set +e
    # -timeout: an input taking longer than 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
    cargo fuzz run "${flags[@]}" "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    if [[ $rc -ne 0 ]]; then
        tail -n 60 "$log"
        failed+=("$t")
        summary+=("$(printf '%-14s FAILED (exit %s) after %s s; see fuzz/artifacts/%s' "$t" "$rc" "$((SECONDS - t1))" "$t")")
    else
        summary+=("$(printf '%-14s %10s execs  %-9s %4s s' "$t" "${execs:-?}" "${cov:-}" "$((SECONDS - t1))")")
    fi
done

echo "---- fuzz summary (${secs} s per target) ----"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: no crashes in ${#targets[@]} targets ($((SECONDS - t0)) s)"
