#!/usr/bin/env bash
# Builds Palisade's container image as an OCI image layout in OUTDIR, with no
# container daemon: a statically linked release binary, the CA certificates
# and a non-root user (65532) in one layer (packaging/oci_layout.py), and a
# CycloneDX SBOM of the Rust dependency tree beside it (OUTDIR.sbom.cdx.json,
# from Cargo.lock by packaging/sbom.py) for `palisade image attest`.
#
#   bash packaging/build-image.sh OUTDIR
#   skopeo copy oci:OUTDIR docker://REGISTRY/palisade:VERSION
#
# Reproducible: SOURCE_DATE_EPOCH (default: the last commit's time) fixes every
# timestamp, paths are remapped out of the binary, entries are sorted and the
# gzip stream carries no name or time, so one commit gives one digest.
# PALISADE_BINARY=FILE packs a binary built elsewhere instead of building one.
set -euo pipefail
out=${1:?usage: bash packaging/build-image.sh OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
target=x86_64-unknown-linux-gnu
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}
revision=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  revision="$revision-dirty"
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
licenses=$(sed -n 's/^license = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
ca_certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}

binary=${PALISADE_BINARY:-}
if [ -z "$binary" ]; then
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  # crt-static: glibc linked in, no loader or libc needed in the image. The
  # --target keeps RUSTFLAGS off build scripts and proc-macros.
  RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=$root=/palisade --remap-path-prefix=$cargo_home=/cargo" \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --locked --release --target "$target" -p palisade
  binary=$CARGO_TARGET_DIR/$target/release/palisade
fi
if readelf -l "$binary" | grep -q 'INTERP'; then
  echo "build-image.sh: $binary is dynamically linked (it has a program interpreter)" >&2
  exit 1
fi
"$binary" --version >/dev/null

mkdir -p "$out"
digest=$(python3 "$root/packaging/oci_layout.py" --binary "$binary" --ca-certs "$ca_certs" --out "$out" \
  --version "$version" --revision "$revision" --source "https://github.com/palisade-k8s/palisade" \
  --licenses "$licenses")
python3 "$root/packaging/sbom.py" --lock "$root/Cargo.lock" --version "$version" > "$out.sbom.cdx.json"
echo "palisade $version ($revision): $out, manifest $digest, $(wc -c <"$binary") byte binary"
echo "$digest"
