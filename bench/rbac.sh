#!/usr/bin/env bash
# Benchmark of the RBAC analysis through the release binary.
#
# Generates a cluster of 10,000 bindings, 2,000 roles and 5,000 service
# accounts in 100 namespaces (bench/gen_rbac.py) and prints, best of RUNS
# (default 5), the wall time and peak RSS of:
#   - `palisade scan --parse-only` (reading and parsing the YAML: the floor),
#   - `palisade rbac report -f json` (graph, aggregation, every RBAC rule,
#     workload paths, per-group summary),
#   - `palisade rbac who-can get secrets -A` and `rbac can group:team-1`.
# Target: the analysis of such a cluster in under one second. The analysis
# alone (no YAML) is measured by `cargo bench -p palisade-rbac --bench graph`.
#
# Usage: bench/rbac.sh   (RUNS=N to override)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
. "$root/bench/lib.sh"
palisade_bin "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "generated: $(python3 "$root/bench/gen_rbac.py" "$tmp/cluster")"

MEASURE_OUT=$tmp/out

row() { printf "  %-44s %7s s %8.1f MiB peak RSS\n" "$1" "$2" "$(awk -v k="$3" 'BEGIN { print k / 1024 }')"; }

measure "$bin" scan --parse-only "$tmp/cluster"
row "scan --parse-only (parse floor)" "$secs" "$rss_kb"
parse=$secs
measure "$bin" rbac report -f json "$tmp/cluster"
python3 -c "import json,sys; d=json.load(open('$tmp/out')); s=d['summary']; print('  report: %d objects, %d findings, %d groups summarised' % (s['resources'], s['findings'], len(d['groups'])))"
row "rbac report -f json" "$secs" "$rss_kb"
report=$secs
measure "$bin" rbac who-can get secrets -A "$tmp/cluster"
row "rbac who-can get secrets -A" "$secs" "$rss_kb"
measure "$bin" rbac can group:team-1 "$tmp/cluster"
row "rbac can group:team-1" "$secs" "$rss_kb"
echo "  analysis beyond parsing (report - parse-only): $(awk -v a="$report" -v b="$parse" 'BEGIN { printf "%.3f", a - b }') s (target < 1 s)"
