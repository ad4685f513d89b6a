#!/usr/bin/env bash
# Benchmark of large inputs (figures go in the README, "Large inputs").
#
# Generates cluster exports with bench/gen_list.py and prints, for each, the wall
# time and peak RSS of `palisade scan --parse-only` (the loader exactly as the scan
# runs it: a source of 8 MiB or more is read twice, objects built as far as the
# rules read them and dropped one at a time) and of `palisade scan` with the
# default profile (JSON report to /dev/null), plus the memory per object: peak RSS
# above that of a scan of one tiny file, divided by the objects.
#   - list100k.json: `kubectl get ... -A -o json` of 100,000 objects (pods,
#     deployments, services, configmaps, serviceaccounts), one List, ~55 MB;
#     targets: parse-only <= 1.5 s and <= 300 MiB, scan <= 3 s and <= 500 MiB;
#   - list30k.json and stream30k.yaml: the same 30,000 small pods as a List and
#     as a multi-document stream.
# Wall time is the best of RUNS runs (default 3).
#
# Usage: bench/list.sh   (RUNS=N to override; needs GNU time: apt-get install -y time)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
. "$root/bench/lib.sh"
palisade_bin "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/bench/gen_list.py" "$tmp/list100k.json" 100000
python3 "$root/bench/gen_list.py" "$tmp/list30k.json" 30000 --pods-only
python3 "$root/bench/gen_list.py" "$tmp/stream30k.yaml" 30000 --pods-only --stream
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: c}]}\n' > "$tmp/tiny.yaml"


measure "$bin" scan -f json "$tmp/tiny.yaml"
base_kb=$rss_kb
echo "baseline (scan of one tiny file): $((base_kb / 1024)) MiB peak RSS"
printf '%-16s %8s %9s | %-10s %9s %9s %10s\n' input MB objects mode seconds "RSS MiB" "B/object"
for f in list100k.json list30k.json stream30k.yaml; do
  mb=$(awk -v b="$(stat -c %s "$tmp/$f")" 'BEGIN { printf "%.1f", b / 1e6 }')
  objects=$("$bin" scan --parse-only "$tmp/$f" | sed -n 's/.* documents, \([0-9]*\) objects.*/\1/p')
  for mode in parse-only scan; do
    if [ "$mode" = parse-only ]; then
      measure "$bin" scan --parse-only "$tmp/$f"
    else
      measure "$bin" scan -f json "$tmp/$f"
    fi
    per=$(( (rss_kb - base_kb) * 1024 / objects ))
    printf '%-16s %8s %9s | %-10s %9s %9s %10s\n' "$f" "$mb" "$objects" "$mode" "$secs" "$((rss_kb / 1024))" "$per"
  done
done
