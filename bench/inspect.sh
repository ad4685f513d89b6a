#!/usr/bin/env bash
# Benchmark of `palisade image inspect` on a ~200 MB (uncompressed) image:
# a real Debian bookworm minbase rootfs (debootstrap, or ROOTFS=DIR), packed
# as a one-layer gzip OCI layout with tar/gzip. Prints, best of RUNS (default
# 3), the wall and CPU time and peak RSS of the inspection (cache off), the
# decompressed tar MB/s per CPU-second, and the same for plain `gzip -dc` of
# the layer (the limit). Targets: >= 300 MB/s per core, <= 32 MiB peak RSS.
#
# Usage: bench/inspect.sh   (ROOTFS=dir to skip debootstrap; RUNS=N;
#        PALISADE_BIN=path to measure another build than the release binary)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
. "$root/bench/lib.sh"
palisade_bin "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rootfs=${ROOTFS:-}
if [ -z "$rootfs" ]; then
  rootfs=$tmp/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian > /dev/null
fi

oci=$tmp/oci
mkdir -p "$oci/blobs/sha256"
tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf "$tmp/layer.tar" .
tar_bytes=$(stat -c %s "$tmp/layer.tar")
diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -6 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
rm "$tmp/layer.tar"
put() { # FILE -> "digest size", stored as a blob
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  cp "$1" "$oci/blobs/sha256/$d"
  echo "$d $s"
}
read -r ld ls < <(put "$tmp/layer.tar.gz")
printf '{"architecture":"amd64","os":"linux","created":"2026-12-01T00:00:00Z","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff_id" > "$tmp/config.json"
read -r cd cs < <(put "$tmp/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$cd" "$cs" "$ld" "$ls" > "$tmp/manifest.json"
read -r md ms < <(put "$tmp/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' "$md" "$ms" > "$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
echo "image: $tar_bytes bytes of tar, $ls bytes gzip (one layer)"

# best of $runs: wall, user+sys seconds, peak RSS KiB
measure() {
  best=; best_cpu=; best_rss=
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" > /dev/null
    read -r e u s m < "$tmp/t"
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    if [ -z "$best" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
      best=$e; best_cpu=$cpu; best_rss=$m
    fi
  done
}
report() {
  awk -v n="$1" -v b="$tar_bytes" -v e="$best" -v c="$best_cpu" -v m="$best_rss" \
    'BEGIN { printf "%-22s wall %6.2f s  cpu %6.2f s  %7.1f MB/s per core  peak RSS %6.1f MiB\n", n, e, c, b / 1e6 / c, m / 1024 }'
}
measure "$bin" image inspect "oci:$oci:bench" --no-cache -f json
report "palisade inspect"
measure gzip -dc "$tmp/layer.tar.gz"
report "gzip -dc (the limit)"
# The report's first lines (written whole first: head closing the pipe
# early would fail the script under pipefail).
"$bin" image inspect "oci:$oci:bench" --no-cache > "$tmp/report.txt" || true
head -20 "$tmp/report.txt"
