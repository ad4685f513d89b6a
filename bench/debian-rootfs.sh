#!/usr/bin/env bash
# Regenerates testdata/images/debian-bookworm-minbase.* from a real Debian
# minbase rootfs (debootstrap, Debian package; needs root and the Debian
# mirror). The tests use only the recorded list (see testdata/SOURCES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >/dev/null
echo "debootstrap: $((SECONDS - start)) s" >&2
out=testdata/images
(cd "$work/rootfs" && find . -mindepth 1 -printf '%y\t%m\t%s\t/%P\t%l\n') \
  | LC_ALL=C sort -t$'\t' -k4 > "$out/debian-bookworm-minbase.files"
cp "$work/rootfs/usr/lib/os-release" "$out/debian-bookworm-minbase.os-release"
cp "$work/rootfs/etc/passwd" "$out/debian-bookworm-minbase.passwd"
wc -l "$out/debian-bookworm-minbase.files" >&2
