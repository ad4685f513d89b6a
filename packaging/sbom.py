#!/usr/bin/env python3
"""A CycloneDX 1.5 SBOM of Palisade's Rust dependency tree, from Cargo.lock.

Every package of the lock file is a component with its purl (pkg:cargo) and,
for registry packages, the checksum Cargo.lock records; the workspace crates
are the metadata component and its first-party parts. Deterministic: sorted,
the timestamp from SOURCE_DATE_EPOCH, no random serial number.

    sbom.py --lock Cargo.lock --version V > palisade.cdx.json
"""

import argparse
import json
import os
import sys
import time
import tomllib


def component(pkg):
    c = {
        "type": "library",
        "bom-ref": f"pkg:cargo/{pkg['name']}@{pkg['version']}",
        "name": pkg["name"],
        "version": pkg["version"],
        "purl": f"pkg:cargo/{pkg['name']}@{pkg['version']}",
    }
    if "checksum" in pkg:
        c["hashes"] = [{"alg": "SHA-256", "content": pkg["checksum"]}]
    return c


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lock", required=True)
    p.add_argument("--version", required=True)
    args = p.parse_args()
    try:
        with open(args.lock, "rb") as f:
            lock = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        sys.exit(f"sbom.py: {args.lock}: {e}")
    packages = sorted(lock.get("package", []), key=lambda p: (p["name"], p["version"]))
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
            "component": {
                "type": "application",
                "bom-ref": f"pkg:cargo/palisade@{args.version}",
                "name": "palisade",
                "version": args.version,
                "purl": f"pkg:cargo/palisade@{args.version}",
            },
        },
        "components": [component(p) for p in packages if "source" in p],
        "dependencies": [
            {
                "ref": f"pkg:cargo/{p['name']}@{p['version']}",
                "dependsOn": sorted(dep_refs(p, packages)),
            }
            for p in packages
        ],
    }
    print(json.dumps(bom, indent=2, sort_keys=True))


def dep_refs(pkg, packages):
    """Cargo.lock names a dependency `name` or `name version` when ambiguous."""
    out = []
    for d in pkg.get("dependencies", []):
        parts = d.split(" ")
        if len(parts) >= 2:
            out.append(f"pkg:cargo/{parts[0]}@{parts[1]}")
        else:
            versions = [p["version"] for p in packages if p["name"] == parts[0]]
            out.append(f"pkg:cargo/{parts[0]}@{versions[0]}" if versions else f"pkg:cargo/{parts[0]}")
    return out


if __name__ == "__main__":
    main()
