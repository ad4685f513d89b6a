#!/usr/bin/env bash
# Work of `palisade scan` against `palisade scan --parse-only`, counted in
# instructions (valgrind's callgrind, every thread), on testdata/real-world
# and on each corpus mix of bench/gen_corpus.py. Instruction counts do not
# move with other load on the machine, so the ratio can be checked on a busy
# 2-core machine where wall times say little; bench/scan.sh gives the wall
# times on an idle one. Target (issue 12, point 5): scan <= 2x parse-only.
#
# Usage: bench/scan_ir.sh   (PALISADE_BIN=/path/to/palisade to skip the build;
#                            MIXES="apps rbac-heavy" to choose; needs valgrind)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mixes=${MIXES:-apps workload-heavy rbac-heavy small-files large-files findings}
if ! command -v valgrind > /dev/null; then
  echo "bench/scan_ir.sh needs valgrind: apt-get install -y valgrind" >&2
  exit 1
fi
. "$root/bench/lib.sh"
palisade_bin "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files_for() {
  case $1 in
    apps | findings | rbac-heavy) echo 250 ;;
    workload-heavy) echo 750 ;;
    small-files) echo 2000 ;;
    large-files) echo 11 ;;
  esac
}

# instructions CMD... -> instructions executed by CMD (all threads)
instructions() {
  { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null || true; } |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-16s %10s %16s %16s %7s\n' corpus documents "parse-only Ir" "scan Ir" ratio
run() {
  local label=$1 dir=$2 docs p s
  docs=$( ("$bin" scan --parse-only "$dir" || true) | sed -n 's/.* \([0-9]*\) documents.*/\1/p')
  p=$(instructions "$bin" scan --parse-only "$dir")
  s=$(instructions "$bin" scan --format json -o /dev/null "$dir")
  printf '%-16s %10s %16s %16s %7s\n' "$label" "$docs" "$p" "$s" \
    "$(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }')"
}

run real-world "$root/testdata/real-world"
for mix in $mixes; do
  python3 "$root/bench/gen_corpus.py" "$tmp/$mix" "$(files_for "$mix")" "$mix" > /dev/null
  run "$mix" "$tmp/$mix"
done
