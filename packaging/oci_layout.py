#!/usr/bin/env python3
"""Writes Palisade's image as an OCI image layout, reproducibly.

One layer holding only: the binary (/usr/local/bin/palisade), the CA
certificates (/etc/ssl/certs/ca-certificates.crt) and /etc/passwd and
/etc/group naming the non-root user 65532. Entries sorted, owned by root
(the user's home by 65532), every mtime SOURCE_DATE_EPOCH, gzip with no
name and mtime 0, JSON with sorted keys: the same inputs give the same
digest. Python standard library only (tarfile, gzip, hashlib, json).

    oci_layout.py --binary FILE --ca-certs FILE --out DIR \
        --version V --revision SHA --source URL --licenses SPDX

Prints the manifest digest on stdout.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time

UID = 65532
BINARY = "usr/local/bin/palisade"
CA_CERTS = "etc/ssl/certs/ca-certificates.crt"
PASSWD = "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
GROUP = "nonroot:x:65532:\n"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def entry(name, mtime, mode, data=None, owner=0):
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.mode = mode
    info.uid = info.gid = owner
    info.uname = info.gname = ""
    if data is None:
        info.type = tarfile.DIRTYPE
    else:
        info.size = len(data)
    return info, data


def layer_entries(binary, ca_certs, mtime):
    """Every entry of the layer, parents before children, sorted by path."""
    files = {
        BINARY: (binary, 0o755),
        CA_CERTS: (ca_certs, 0o644),
        "etc/passwd": (PASSWD.encode(), 0o644),
        "etc/group": (GROUP.encode(), 0o644),
    }
    dirs = {"home/nonroot"}
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    for d in list(dirs):
        parts = d.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    out = []
    for d in dirs:
        owner = UID if d == "home/nonroot" else 0
        out.append(entry(d + "/", mtime, 0o755, owner=owner))
    for path, (data, mode) in files.items():
        out.append(entry(path, mtime, mode, data))
    out.sort(key=lambda e: e[0].name.rstrip("/"))
    return out


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def write_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def annotations(args, created):
    return {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.description": "Kubernetes security policy agent",
        "org.opencontainers.image.licenses": args.licenses,
        "org.opencontainers.image.revision": args.revision,
        "org.opencontainers.image.source": args.source,
        "org.opencontainers.image.title": "palisade",
        "org.opencontainers.image.version": args.version,
    }


def build(args):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    with open(args.binary, "rb") as f:
        binary = f.read()
    with open(args.ca_certs, "rb") as f:
        ca_certs = f.read()
    tar = tar_bytes(layer_entries(binary, ca_certs, epoch))
    layer = gzip_bytes(tar)
    os.makedirs(os.path.join(args.out, "blobs", "sha256"), exist_ok=True)
    layer_desc = dict(write_blob(args.out, layer), mediaType=LAYER)
    notes = annotations(args, created)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            "User": str(UID),
            "Entrypoint": ["/" + BINARY],
            "WorkingDir": "/home/nonroot",
            "Env": [
                "PATH=/usr/local/bin",
                "SSL_CERT_FILE=/" + CA_CERTS,
            ],
            "Labels": notes,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": "packaging/build-image.sh"}],
    }
    config_desc = dict(write_blob(args.out, canonical(config)), mediaType=CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": config_desc,
        "layers": [layer_desc],
        "annotations": notes,
    }
    manifest_desc = dict(write_blob(args.out, canonical(manifest)), mediaType=MANIFEST)
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": args.version}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}
    with open(os.path.join(args.out, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(args.out, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    return manifest_desc["digest"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--ca-certs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--revision", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--licenses", required=True)
    args = p.parse_args()
    if os.path.exists(os.path.join(args.out, "index.json")):
        sys.exit(f"oci_layout.py: {args.out} already holds a layout; give an empty or new directory")
    try:
        print(build(args))
    except OSError as e:
        sys.exit(f"oci_layout.py: {e.filename}: {e.strerror}")


if __name__ == "__main__":
    main()
