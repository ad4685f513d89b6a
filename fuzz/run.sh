#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) of the loaders that
# read hostile input: bash fuzz/run.sh [RUNS] [TARGET...]
#
#   RUNS     executions per target (default 1000000)
#   TARGET   yaml_stream admission_review config cel_policy rego_policy
#            image_parsers (default: all)
#
# Not part of .ci/run (it takes long). Needs cargo-fuzz
# (`cargo install cargo-fuzz`); on a stable toolchain RUSTC_BOOTSTRAP=1 lets
# it pass the sanitizer-coverage flags, and --sanitizer none skips
# AddressSanitizer (the crates forbid unsafe code; libFuzzer still finds
# panics, stack overflows, timeouts and memory blow-ups). The seed corpus is
# fuzz/corpus/TARGET (read only; python3 fuzz/seed.py regenerates it from
# testdata/); what the fuzzer adds goes to $FUZZ_WORK (default
# $CARGO_TARGET_DIR/fuzz-work). A crash is written to fuzz/artifacts/TARGET/:
# copy it to fuzz/regressions/TARGET/, fix it, and
# `cargo test -p palisade --test fuzz_regressions` replays it from then on.
# FUZZ_SECONDS=N caps each target's time (libFuzzer -max_total_time; 0, the
# default, means no cap): the run then stops at RUNS or N seconds, whichever
# comes first, and the executions printed say which.
# Prints the executions, the speed, the coverage, the outcome and the load
# average (1 min, at the start and the end) of each target.
set -uo pipefail
cd "$(dirname "$0")"
runs=${1:-1000000}
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(yaml_stream admission_review config cel_policy rego_policy image_parsers)
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
work=${FUZZ_WORK:-$CARGO_TARGET_DIR/fuzz-work}
mkdir -p "$work"
cargo fuzz build --sanitizer none || exit 2
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "artifacts/$t"
  log="$work/$t.log"
  start=$SECONDS
  load0=$(cut -d' ' -f1 /proc/loadavg)
  cargo fuzz run --sanitizer none "$t" "$work/$t" "corpus/$t" -- \
    -runs="$runs" -max_total_time="${FUZZ_SECONDS:-0}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # -a: the log may hold bytes of the inputs, and grep stops at a binary line
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then outcome="no crash"; else outcome="CRASH (exit $rc, see $log and artifacts/$t)"; status=1; fi
  load1=$(cut -d' ' -f1 /proc/loadavg)
  echo "$t: ${execs:-?} executions in $((SECONDS - start)) s (${speed:-?}/s, ${cov:-cov ?}, load $load0 to $load1): $outcome"
done
exit $status
