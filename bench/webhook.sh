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
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-2000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
WRK_CONNS=${WRK_CONNS:-16}
REPEAT=${REPEAT:-3}

cargo build --release -q -p palisade --bin palisade
cargo build --release -q -p palisade-webhook --example loadgen
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/palisade
LOADGEN=$TARGET/release/examples/loadgen
BODIES=(bench/webhook/pod-allowed.json bench/webhook/pod-denied.json bench/webhook/deployment.json bench/webhook/role.json bench/webhook/rolebinding.json)

TMP=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

$BIN certs --service palisade --namespace palisade-system --san localhost --san 127.0.0.1 --out-dir "$TMP" >/dev/null
$BIN serve --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" --addr 127.0.0.1:0 --noop-route --log-level warn 2>"$TMP/server.log" &
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

fixed() { $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path "$1" --rate "$RATE" --duration "$DURATION" --connections "$CONNS" "${BODIES[@]}"; }
closed() { $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path "$1" --rate 0 --duration "$DURATION" --connections "$WRK_CONNS" "${BODIES[@]}"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

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
