#!/usr/bin/env bash
# Signed images at admission: Debian's docker-registry on 127.0.0.1, one image
# signed and attested by `palisade image` with four keys (build signature,
# vulnerability-scan, dependency-review and integration-test attestations),
# `palisade serve` over TLS. Prints:
#   cold   /validate of a pod whose image is verified from scratch on every
#          request (imageCacheTtlSeconds: 0, imageTagTtlSeconds: 0: tag
#          resolution, .sig and .att manifests and blobs, four verifications;
#          the registry client keeps its connections), at COLD_RATE rps;
#   warm   /validate at RATE rps with the verdict cached, against the same
#          server config without `images:` (no verification): p50/p99 and the
#          server CPU time per request, whose difference is what a warm
#          verification adds to /validate.
# Load goes only to 127.0.0.1 and each run is bounded.
#
#   bench/images.sh             # RATE=2000 DURATION=10 CONNS=8 COLD_RATE=20 REPEAT=3
#   PROFILE=debug bench/images.sh   # a quick check of the script, not figures
#   PALISADE_BIN=... LOADGEN_BIN=... bench/images.sh   # binaries built elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-2000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
COLD_RATE=${COLD_RATE:-20}
REPEAT=${REPEAT:-3}
PROFILE=${PROFILE:-release}
FLAG=--release; [ "$PROFILE" = release ] || FLAG=
TARGET=${CARGO_TARGET_DIR:-target}
# PALISADE_BIN / LOADGEN_BIN: measure binaries built elsewhere instead.
if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build $FLAG -q -p palisade --bin palisade
  PALISADE_BIN=$TARGET/$PROFILE/palisade
fi
if [ -z "${LOADGEN_BIN:-}" ]; then
  cargo build $FLAG -q -p palisade-webhook --example loadgen
  LOADGEN_BIN=$TARGET/$PROFILE/examples/loadgen
fi
BIN=$(realpath "$PALISADE_BIN")
LOADGEN=$(realpath "$LOADGEN_BIN")
command -v docker-registry >/dev/null || { echo "needs docker-registry and skopeo (Debian packages)" >&2; exit 2; }

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The registry.
HOST=127.0.0.1:$(free_port)
cat >"$TMP/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $TMP/storage}}
http: {addr: $HOST}
EOF
docker-registry serve "$TMP/registry.yml" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/${HOST%:*}/${HOST#*:}) 2>/dev/null && break; sleep 0.1; done
skopeo copy --quiet --dest-tls-verify=false \
  "oci:testdata/supply/synth-two-attestors/image-oci-layout:v1" "docker://$HOST/demo/shop:v1"
IMAGE=$HOST/demo/shop:v1

# Four keys, one signature, three attestations, by palisade itself.
export PALISADE_PASSWORD=bench
NAMES=(build vulnerability-scan dependency-review integration-test)
echo '{"scanner": {"result": {"criticalCount": 0}}}' >"$TMP/vuln.json"
echo '{"result": "pass"}' >"$TMP/ok.json"
for n in "${NAMES[@]}"; do (cd "$TMP" && "$BIN" image keygen --output-key-prefix "$n" >/dev/null 2>>"$TMP/sign.log"); done
(cd "$TMP" && "$BIN" image sign "$IMAGE" --key build.key --legacy --insecure-registry "$HOST" >/dev/null 2>>"$TMP/sign.log")
for n in "${NAMES[@]:1}"; do
  pred=ok.json; [ "$n" = vulnerability-scan ] && pred=vuln.json
  (cd "$TMP" && "$BIN" image attest "$IMAGE" --key "$n.key" --legacy --predicate "$pred" \
     --type "https://example.com/$n/v1" --insecure-registry "$HOST" >/dev/null 2>>"$TMP/sign.log")
done

# Configurations: the image rules enforce, the rest of the default profile audits.
base() {
  printf 'profiles:\n- {name: default, action: audit}\nrules:\n'
  printf '  image-signature-missing: {action: enforce}\n  image-attestation-missing: {action: enforce}\n'
  printf '  image-verification-failed: {action: enforce}\nwebhook:\n  mutate: false\n'
}
images() {
  printf 'images:\n- name: shop\n  match: ["127.0.0.1:*/demo/*"]\n  attestors:\n'
  for n in "${NAMES[@]}"; do
    printf '  - name: %s\n    key: %s/%s.pub\n' "$n" "$TMP" "$n"
    [ "$n" = build ] || printf '    attestation:\n      predicateType: https://example.com/%s/v1\n' "$n"
    [ "$n" = vulnerability-scan ] && printf '      condition: "predicate.scanner.result.criticalCount == 0"\n'
  done
  printf 'registries:\n  "%s": {insecure: true}\n' "$HOST"
}
{ base; printf '  imageCacheTtlSeconds: 0\n  imageTagTtlSeconds: 0\n'; images; } >"$TMP/cold.yaml"
{ base; images; } >"$TMP/warm.yaml"
base >"$TMP/none.yaml"

python3 - "$IMAGE" >"$TMP/pod.json" <<'PY'
import json, sys
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shop", "namespace": "shop"},
       "spec": {"containers": [{"name": "app", "image": sys.argv[1]}]}}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "shop",
    "name": "shop", "operation": "CREATE", "userInfo": {"username": "bench"}, "object": pod}}))
PY

$BIN certs --service palisade --namespace palisade-system --san localhost --san 127.0.0.1 --out-dir "$TMP" >/dev/null
SERVER_PID=
start() {
  "$BIN" serve --config "$TMP/$1.yaml" --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" \
    --addr 127.0.0.1:0 --health-addr off --log-level error 2>"$TMP/$1.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do grep -q "listening on" "$TMP/$1.log" && break; sleep 0.1; done
  ADDR=$(sed -n 's|.*listening on https://||p' "$TMP/$1.log" | head -1)
  [ -n "$ADDR" ] || { cat "$TMP/$1.log"; exit 1; }
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
load() { $LOADGEN --ca "$TMP/ca.crt" --addr "$ADDR" --path /validate "$@" "$TMP/pod.json"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
ticks() { awk '{print $14 + $15}' /proc/$SERVER_PID/stat; }
HZ=$(getconf CLK_TCK)
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
row() { printf '%-52s %9s %9s %9s %7s %12s\n' "$@"; }

echo "palisade image admission benchmark ($PROFILE): $(nproc) cores shared by registry, server and load generator"
echo "one image, four attestors (1 signature + 3 attestations, ECDSA P-256), registry on loopback"
row "run" "rps" "p50 ms" "p99 ms" "errors" "cpu us/req"

# The pod must be admitted (all four attestors verified) before anything is measured.
admitted() {
  local answer
  answer=$(curl -s --cacert "$TMP/ca.crt" -H 'content-type: application/json' --data @"$TMP/pod.json" \
    "https://$ADDR/validate")
  grep -q '"allowed":true' <<<"$answer" || { echo "the pod is not admitted on $1: $answer" >&2; exit 1; }
}
start cold
admitted cold
out=$(load --rate "$COLD_RATE" --duration "$DURATION" --connections 2)
row "cold: verified on every request, $COLD_RATE rps" "$(field rps <<<"$out")" "$(field p50_ms <<<"$out")" "$(field p99_ms <<<"$out")" "$(field errors <<<"$out")" "-"
stop

declare -A P50 P99 RPS CPU ERR
for _ in $(seq "$REPEAT"); do
  for cfg in warm none; do
    start "$cfg"
    admitted "$cfg"
    load --rate 100 --duration 1 --connections 2 >/dev/null   # warm-up: verdict cached
    t0=$(ticks)
    out=$(load --rate "$RATE" --duration "$DURATION" --connections "$CONNS")
    t1=$(ticks)
    stop
    RPS[$cfg]+="$(field rps <<<"$out") "; P50[$cfg]+="$(field p50_ms <<<"$out") "; P99[$cfg]+="$(field p99_ms <<<"$out") "
    ERR[$cfg]=$(( ${ERR[$cfg]:-0} + $(field errors <<<"$out") ))
    CPU[$cfg]+="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field requests <<<"$out")" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') "
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
row "warm: verdict cached, $RATE rps, $CONNS conns" "$(med "${RPS[warm]}")" "$(med "${P50[warm]}")" "$(med "${P99[warm]}")" "${ERR[warm]}" "$(med "${CPU[warm]}")"
row "same pod, no images: policy, $RATE rps" "$(med "${RPS[none]}")" "$(med "${P50[none]}")" "$(med "${P99[none]}")" "${ERR[none]}" "$(med "${CPU[none]}")"
awk -v a="$(med "${CPU[warm]}")" -v b="$(med "${CPU[none]}")" -v p="$(med "${P50[warm]}")" -v q="$(med "${P50[none]}")" \
  'BEGIN {printf "warm verification adds %.1f us of server CPU and %.1f us of p50 per /validate (medians of %d runs)\n", a - b, (p - q) * 1000, '"$REPEAT"'}'
