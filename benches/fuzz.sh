#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for a number of executions
# each and prints a table: target, executions, seconds, rate, coverage,
# corpus size, crashes. Needs cargo-fuzz (cargo install cargo-fuzz); on a
# stable toolchain RUSTC_BOOTSTRAP=1 lets it use libFuzzer's flags.
#
#   benches/fuzz.sh [RUNS] [TARGET...]      (default 1000000 runs, all targets)
#   SANITIZER=address benches/fuzz.sh ...   (default none)
#
# The parsers are safe Rust: what the fuzzers hunt is panics, arithmetic
# overflow (debug assertions stay on) and broken invariants, none of which
# needs AddressSanitizer; without it the regex-heavy targets run several
# times faster.
#
# A crash leaves its input in fuzz/artifacts/TARGET/; make it a regression
# test in tests/properties.rs (regressions()), then fix it.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
runs=${1:-1000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list 2>/dev/null)
fi
export RUSTC_BOOTSTRAP=1
sanitizer=${SANITIZER:-none}
cargo fuzz build -O -s "$sanitizer" >/dev/null
printf '%-22s %10s %8s %10s %6s %7s %7s\n' target runs seconds exec/s cov corpus crashes
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds="seeds/$t"
    [ -d "$seeds" ] || seeds=""
    log=$(mktemp)
    start=$(date +%s.%N)
    cargo fuzz run -O -s "$sanitizer" "$t" "corpus/$t" $seeds -- -runs="$runs" -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
    status=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    corpus=$(ls "corpus/$t" | wc -l)
    crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
    rate=$(awk -v n="$done_runs" -v s="$secs" 'BEGIN { printf "%d", n / s }')
    printf '%-22s %10s %8.0f %10s %6s %7s %7s\n' "$t" "$done_runs" "$secs" "$rate" "$cov" "$corpus" "$crashes"
    [ $status -eq 0 ] || { echo "  $t stopped (exit $status); its last lines:"; tail -20 "$log" | sed 's/^/  /'; }
    rm -f "$log"
done
