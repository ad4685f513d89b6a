#!/usr/bin/env python3
"""Builds k8s-releases.json (the release data of the `cluster` rules) from
testdata/audit/k8s-releases: every minor's latest patch from endoflife-date's
release-data, end-of-maintenance and end-of-life dates from the summary table.

Run from the repository root: python3 crates/palisade-rules/data/make-k8s-releases.py
"""
import csv, json, os

SRC = "testdata/audit/k8s-releases"
versions = json.load(open(os.path.join(SRC, "release-data/kubernetes.json")))["versions"]
minors = {}
for v in versions.values():
    parts = v["name"].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        continue  # pre-releases are not patches
    key = (int(parts[0]), int(parts[1]))
    patch = int(parts[2])
    m = minors.setdefault(key, {"latestPatch": -1})
    if patch > m["latestPatch"]:
        m["latestPatch"], m["latestPatchDate"] = patch, v["date"]
    if patch == 0:
        m["released"] = v["date"]
table = {r["minor"]: r for r in csv.DictReader(open(os.path.join(SRC, "k8s-minor-summary.csv")))}
out = []
for (major, minor), m in sorted(minors.items(), reverse=True):
    name = f"{major}.{minor}"
    row = {"minor": name, "latestPatch": f"{name}.{m['latestPatch']}", "latestPatchDate": m["latestPatchDate"]}
    if "released" in m:
        row["released"] = m["released"]
    t = table.get(name)
    if t:
        row["released"] = t["release_date"]
        row["endOfMaintenance"] = t["end_of_maintenance(eoas)"]
        row["endOfLife"] = t["end_of_life"]
    out.append(row)
as_of = max(v["date"] for v in versions.values())
doc = {
    "source": "endoflife-date/release-data@f626bdef8bf9d1503707c05034905184c3a795d6 releases/kubernetes.json (MIT); "
              "end-of-life dates from endoflife-date/endoflife.date@a70eca3 products/kubernetes.md (MIT); "
              "see testdata/audit/k8s-releases/SOURCES.md",
    "asOf": as_of,
    "minors": out,
    # kubernetes.io/releases/version-skew-policy/#kubelet: "kubelet must not be newer than
    # kube-apiserver, and may be up to three minor versions older" (two before 1.28).
    "kubeletSkew": {
        "source": "https://kubernetes.io/releases/version-skew-policy/#kubelet (three older minors from v1.28, KEP-3935; two before)",
        "olderMinors": [{"fromMinor": "1.28", "max": 3}, {"fromMinor": "1.0", "max": 2}],
    },
}
with open("crates/palisade-rules/data/k8s-releases.json", "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
