#!/usr/bin/env bash
# Benchmark of `palisade audit --snapshot` through the release binary.
#
# Generates snapshots (bench/gen_cluster.py) of 20,000, 50,000 and 100,000
# objects (50% Pods, 10% ReplicaSets, 10% Deployments, 10% RBAC, 5%
# Namespaces, 5% NetworkPolicies, 9% Services, 1% Nodes) and prints, best of
# RUNS (default 3), the wall time and peak RSS of `palisade audit -f json`
# and `-f policyreport` (default profile), then the growth per 10,000 objects
# between 50,000 and 100,000. Target: 100,000 objects in <= 5 s and
# <= 500 MiB.
#
# Then the same objects through the fake API server of the test suite
# (crates/palisade/examples/fake_apiserver.rs, a real HTTP server on
# 127.0.0.1 serving discovery and paginated lists): `palisade audit
# --kubeconfig ... -f json` (pages of 500, 4 kinds at once, --qps 0 so the
# client-side limit does not set the pace). Target: <= 15 s for 100,000.
#
# Usage: bench/audit.sh   (RUNS=N, SIZES="0.2 0.5 1.0" to override;
#        PALISADE_BIN=path to measure another build instead of building the release binary,
#        FAKE_BIN=path of the fake_apiserver example, LIVE=0 to skip the live path)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
sizes=${SIZES:-"0.2 0.5 1.0"}
target=${CARGO_TARGET_DIR:-$root/target}
. "$root/bench/lib.sh"
palisade_bin "$root"
live=${LIVE:-1}
if [ "$live" = 1 ] && [ -z "${FAKE_BIN:-}" ]; then
  (cd "$root" && cargo build --release -p palisade --example fake_apiserver --quiet)
  FAKE_BIN=$target/release/examples/fake_apiserver
fi

tmp=$(mktemp -d)
fake_pid=
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2> /dev/null; rm -rf "$tmp"; }
trap cleanup EXIT


declare -A T M LT LM
for scale in $sizes; do
  dir="$tmp/cluster-$scale"
  objects=$(python3 "$root/bench/gen_cluster.py" "$dir" "$scale")
  measure "$bin" audit --snapshot "$dir" -f json
  printf "%7d objects  audit -f json          %6.3f s  %5d MiB\n" "$objects" "$secs" $((rss_kb / 1024))
  T[$scale]=$secs; M[$scale]=$rss_kb
  measure "$bin" audit --snapshot "$dir" -f policyreport
  printf "%7d objects  audit -f policyreport  %6.3f s  %5d MiB\n" "$objects" "$secs" $((rss_kb / 1024))
  if [ "$live" = 1 ]; then
    (cd "$tmp" && exec "$FAKE_BIN" "$dir" > "$tmp/fake.out") &
    fake_pid=$!
    for _ in $(seq 600); do [ -s "$tmp/fake.out" ] && break; sleep 0.1; done
    kc=$(cut -d' ' -f1 "$tmp/fake.out")
    measure "$bin" audit --kubeconfig "$kc" --qps 0 -f json
    printf "%7d objects  audit live (fake API)  %6.3f s  %5d MiB\n" "$objects" "$secs" $((rss_kb / 1024))
    LT[$scale]=$secs; LM[$scale]=$rss_kb
    kill "$fake_pid"; wait "$fake_pid" 2> /dev/null || true; fake_pid=
    rm -f "$tmp/fake.out"
  fi
  rm -rf "$dir"
done
if [ -n "${T[0.5]:-}" ] && [ -n "${T[1.0]:-}" ]; then
  awk -v a="${T[0.5]}" -v b="${T[1.0]}" -v ma="${M[0.5]}" -v mb="${M[1.0]}" \
    'BEGIN { printf "growth per 10,000 objects (50,000 -> 100,000, -f json): %.3f s, %.1f MiB\n", (b - a) / 5, (mb - ma) / 5 / 1024 }'
fi
if [ -n "${LT[0.5]:-}" ] && [ -n "${LT[1.0]:-}" ]; then
  awk -v a="${LT[0.5]}" -v b="${LT[1.0]}" -v ma="${LM[0.5]}" -v mb="${LM[1.0]}" \
    'BEGIN { printf "growth per 10,000 objects (50,000 -> 100,000, live): %.3f s, %.1f MiB\n", (b - a) / 5, (mb - ma) / 5 / 1024 }'
fi
