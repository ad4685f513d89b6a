# Shared by the bench scripts (sourced, after `set -euo pipefail`):
#   palisade_bin ROOT   sets $bin: $PALISADE_BIN when set (measure a binary
#                       built elsewhere), else the release binary, built now
#                       into $CARGO_TARGET_DIR (or ROOT/target).
#   measure CMD...      runs CMD $runs times and sets $secs (the best wall
#                       time, seconds) and $rss_kb (peak RSS of that run,
#                       KiB); CMD's stdout goes to $MEASURE_OUT (default
#                       /dev/null), stderr to $tmp/err. Needs $runs and $tmp.

palisade_bin() {
  local root=$1
  if [ -n "${PALISADE_BIN:-}" ]; then
    bin=$PALISADE_BIN
  else
    (cd "$root" && cargo build --release -p palisade --quiet)
    bin=${CARGO_TARGET_DIR:-$root/target}/release/palisade
  fi
}

measure() {
  secs=; rss_kb=
  local start end s
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$tmp/rss" "$@" > "${MEASURE_OUT:-/dev/null}" 2> "$tmp/err" || true
    end=$(date +%s%N)
    s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ -z "$secs" ] || awk -v a="$s" -v b="$secs" 'BEGIN { exit !(a < b) }'; then
      secs=$s
      rss_kb=$(tail -n 1 "$tmp/rss")
    fi
  done
}
