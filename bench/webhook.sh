#!/usr/bin/env bash
# Admission webhook benchmark: the release server on loopback, over TLS, with a
# mix of pod (allowed and denied), Deployment, Role and RoleBinding reviews.
# Prints p50, p99 and requests/second at a fixed rate (open loop, latency from
# the due time) and at saturation, for /validate and for the no-op handler of
# the same server, and the server's idle and loaded RSS. Load goes only to
# 127.0.0.1 and each run is bounded.
#
# The no-op handler (/noop, the limit) is the webhook with an empty policy, as
# an admission framework's no-op handler: it reads the body, decodes the
# AdmissionReview with the same code as /validate (Review::parse_with: the
# envelope and the object into JSON values) and encodes an AdmissionReview
# response (Response::to_json) answering allowed with the request's uid; no
# policy evaluation, no metrics. /noop-bare only reads the body and answers a
# fixed review (TLS and HTTP alone); its row is printed for transparency and
# is not the reference. The server CPU time per request is printed too (from
# /proc, less sensitive to other load on the machine than throughput).
#
#   bench/webhook.sh            # RATE=2000 DURATION=10 CONNS=8 WRK_CONNS=16 REPEAT=3
#
# Hostile load (not run by default):
#   bench/webhook.sh overload   # reviews of a pod with CONTAINERS (1000) containers: the
#                               # saturation throughput (closed loop, 4 connections), then
#                               # 5x that rate open loop for OVERLOAD_SECONDS (60) over 64
#                               # connections: every request must be answered within 5 s
#                               # (late=0) and the server's peak RSS stay under 64 MiB.
#   bench/webhook.sh slowloris  # normal load at SLOW_RATE (500) rps for DURATION s, alone and
#                               # then beside 1,000 slowloris connections (a second loadgen:
#                               # TLS, then a header line per second, never ending the headers).
#   bench/webhook.sh all        # the three
# Review time against container count (in process, no server):
#   cargo run --release -p palisade-webhook --example containers [N...]
set -euo pipefail
MODE=${1:-throughput}
cd "$(dirname "$0")/.."
RATE=${RATE:-2000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
WRK_CONNS=${WRK_CONNS:-16}
REPEAT=${REPEAT:-3}

PROFILE=${PROFILE:-release}   # PROFILE=debug: a quick check of the script, not figures
FLAG=--release; [ "$PROFILE" = release ] || FLAG=
cargo build $FLAG -q -p palisade --bin palisade
cargo build $FLAG -q -p palisade-webhook --example loadgen
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/$PROFILE/palisade
LOADGEN=$TARGET/$PROFILE/examples/loadgen
BODIES=(bench/webhook/pod-allowed.json bench/webhook/pod-denied.json bench/webhook/deployment.json bench/webhook/role.json bench/webhook/rolebinding.json)

TMP=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

$BIN certs --service palisade --namespace palisade-system --san localhost --san 127.0.0.1 --out-dir "$TMP" >/dev/null
# SERVE_CONFIG=FILE: a palisade.yaml for the server (e.g. other webhook limits)
$BIN serve ${SERVE_CONFIG:+--config "$SERVE_CONFIG"} --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" --addr 127.0.0.1:0 --health-addr off --noop-route --log-level error 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$TMP/server.log" && break; sleep 0.1; done
ADDR=$(sed -n 's|.*listening on https://||p' "$TMP/server.log" | head -1)
[ -n "$ADDR" ] || { cat "$TMP/server.log"; exit 1; }
sleep 1
rss() { awk -v k="$1:" '$1==k {print $2}' /proc/$SERVER_PID/status; }
ticks() { awk '{print $14 + $15}' /proc/$SERVER_PID/stat; }
HZ=$(getconf CLK_TCK)
declare -A CPU
IDLE_RSS=$(rss VmRSS)

# Every body must be answered with an AdmissionReview (warm-up too).
$LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate --rate 200 --duration 1 --connections 2 "${BODIES[@]}" >/dev/null

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

overload() {
  local n=${CONTAINERS:-1000} secs=${OVERLOAD_SECONDS:-60}
  python3 - "$n" >"$TMP/big.json" <<'PY'
import json, sys
n = int(sys.argv[1])
c = lambda i: {"name": f"c{i}", "image": "nginx:latest", "securityContext": {"privileged": True}}
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "bench"},
       "spec": {"containers": [c(i) for i in range(n)]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "big", "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "bench", "name": "big",
    "operation": "CREATE", "userInfo": {"username": "bench"}, "object": pod}}))
PY
  echo "overload: pod reviews with $n containers ($(( $(stat -c %s "$TMP/big.json") / 1024 )) KiB), server: $(nproc) cores, default pool"
  local sat rate out
  sat=$($LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate --rate 0 --duration 10 --connections 4 "$TMP/big.json")
  echo "saturation (closed loop, 4 conns, within the byte budget, 10 s): $sat"
  # Saturation counts evaluated answers only: past the byte budget
  # (webhook.maxQueuedBytes) the closed loop's other connections are answered
  # "overloaded" at once, and those fast answers are not capacity.
  local evaluated
  evaluated=$(awk -v n="$(field requests <<<"$sat")" -v o="$(field overloaded <<<"$sat")" 'BEGIN {printf "%.1f", (n - o) / 10}')
  echo "evaluated answers/s at saturation: $evaluated"
  rate=$(awk -v r="$evaluated" 'BEGIN {printf "%d", 5 * r + 1}')
  out=$($LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate --rate "$rate" --duration "$secs" --connections 64 --timeout 5 "$TMP/big.json")
  echo "5x saturation = $rate rps open loop, 64 conns, $secs s: $out"
  echo "server RSS after overload: $(( $(rss VmRSS) / 1024 )) MiB, peak (VmHWM) $(( $(rss VmHWM) / 1024 )) MiB (target < 64 MiB); late (no answer within 5 s): $(field late <<<"$out")"
}

slowloris() {
  local rate=${SLOW_RATE:-500} base out
  base=$($LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate --rate "$rate" --duration "$DURATION" --connections "$CONNS" "${BODIES[@]}")
  echo "normal load alone ($rate rps, $CONNS conns, $DURATION s):      $base"
  $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /noop --rate 0.001 --duration $((DURATION + 30)) --connections 1 --slowloris 1000 bench/webhook/pod-allowed.json >"$TMP/slow.out" 2>"$TMP/slow.err" &
  local slow_pid=$!
  for _ in $(seq 100); do grep -q "connections held" "$TMP/slow.err" 2>/dev/null && break; sleep 0.2; done
  echo "slowloris: $(cat "$TMP/slow.err")"
  out=$($LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate --rate "$rate" --duration "$DURATION" --connections "$CONNS" "${BODIES[@]}")
  echo "normal load beside 1,000 slowloris connections:      $out"
  kill "$slow_pid" 2>/dev/null; wait "$slow_pid" 2>/dev/null || true
  echo "server RSS: $(( $(rss VmRSS) / 1024 )) MiB, peak $(( $(rss VmHWM) / 1024 )) MiB"
}

case "$MODE" in
  overload) overload; exit 0 ;;
  slowloris) slowloris; exit 0 ;;
  throughput|all) ;;
  *) echo "usage: bench/webhook.sh [throughput|overload|slowloris|all]" >&2; exit 2 ;;
esac

fixed() { $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path "$1" --rate "$RATE" --duration "$DURATION" --connections "$CONNS" "${BODIES[@]}"; }
closed() { $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path "$1" --rate 0 --duration "$DURATION" --connections "$WRK_CONNS" "${BODIES[@]}"; }

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
row() { printf '%-40s %10s %10s %10s %8s\n' "$@"; }
PATHS=(/validate /noop /noop-bare)

echo "palisade webhook benchmark: $(nproc) cores, server and load generator share them; $DURATION s per run,"
echo "each run repeated $REPEAT times with the paths interleaved (validate, noop, noop-bare, validate, ...); medians"
echo "mix: ${BODIES[*]##*/}"
row "run" "rps" "p50 ms" "p99 ms" "errors"
declare -A RPS P50 P99 ERR
add() { RPS[$1]+="$2 "; P50[$1]+="$3 "; P99[$1]+="$4 "; ERR[$1]=$(( ${ERR[$1]:-0} + ${5:-0} )); }
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
for _ in $(seq "$REPEAT"); do
  for path in /validate /noop; do
    out=$(fixed $path)
    add "fixed $path" "$(field rps <<<"$out")" "$(field p50_ms <<<"$out")" "$(field p99_ms <<<"$out")" "$(field errors <<<"$out")"
  done
done
for path in /validate /noop; do
  k="fixed $path"
  row "fixed $RATE rps, $CONNS conns $path" "$(med "${RPS[$k]}")" "$(med "${P50[$k]}")" "$(med "${P99[$k]}")" "${ERR[$k]}"
done
for _ in $(seq "$REPEAT"); do
  for path in "${PATHS[@]}"; do
    t0=$(ticks)
    out=$(closed $path)
    t1=$(ticks)
    k="loadgen $path"
    add "$k" "$(field rps <<<"$out")" "$(field p50_ms <<<"$out")" "$(field p99_ms <<<"$out")" "$(field errors <<<"$out")"
    CPU[$path]+="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field requests <<<"$out")" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') "
  done
  if command -v wrk >/dev/null; then
    for path in "${PATHS[@]}"; do
      out=$(wrk -t1 -c"$WRK_CONNS" -d"${DURATION}s" --latency -s bench/webhook/post.lua "https://$ADDR$path" -- "${BODIES[@]}")
      ms() { awk -v p="$1" '$1==p {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}'; }
      add "wrk $path" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(ms 50% <<<"$out")" "$(ms 99% <<<"$out")" "$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    done
  fi
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }
for tool in loadgen wrk; do
  [ -n "${RPS[$tool /validate]:-}" ] || { echo "wrk not installed (apt-get install wrk): saturation from loadgen only"; continue; }
  for path in "${PATHS[@]}"; do
    k="$tool $path"
    row "saturation $tool $WRK_CONNS conns $path" "$(med "${RPS[$k]}")" "$(med "${P50[$k]}")" "$(med "${P99[$k]}")" "${ERR[$k]}"
  done
done
for tool in loadgen wrk; do
  [ -n "${RPS[$tool /validate]:-}" ] || continue
  v=$(med "${RPS[$tool /validate]}"); n=$(med "${RPS[$tool /noop]}"); b=$(med "${RPS[$tool /noop-bare]}")
  echo "$tool: validate/noop throughput = $(ratio "$v" "$n") (runs: $(paste -d/ <(tr ' ' '\n' <<<"${RPS[$tool /validate]}" | grep .) <(tr ' ' '\n' <<<"${RPS[$tool /noop]}" | grep .) | awk -F/ '{printf "%.0f%% ", 100 * $1 / $2}')); validate/noop-bare $(ratio "$v" "$b")"
done
echo "server CPU per request at saturation (loadgen, median): /validate $(med "${CPU[/validate]}") us, /noop $(med "${CPU[/noop]}") us, /noop-bare $(med "${CPU[/noop-bare]}") us"
echo "server RSS: idle $((IDLE_RSS / 1024)) MiB ($IDLE_RSS kB), after load $(( $(rss VmRSS) / 1024 )) MiB, peak (VmHWM) $(( $(rss VmHWM) / 1024 )) MiB"
if [ "$MODE" = all ]; then
  overload
  slowloris
fi
