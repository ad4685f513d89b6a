#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/TARGET/) from the
repository's testdata/ (see testdata/SOURCES.md for where each comes from).
Deterministic: the same testdata gives the same files, named by content
hash. Run once when testdata changes; the corpus is kept in the repository.
Needs PyYAML only to pull expressions and Rego modules out of YAML files."""

import glob
import hashlib
import json
import os
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX = 64 * 1024


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def files(pattern, limit):
    return sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))[:limit]


def docs(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
    except Exception:
        return []


def main():
    for p in files("testdata/real-world/*/**/*.yaml", 60) + files("testdata/psa/restricted/v1.32/fail/*.yaml", 20):
        put("yaml_stream", open(p, "rb").read())
    for p in files("crates/palisade-core/tests/**/*.yaml", 40):
        put("yaml_stream", open(p, "rb").read())
    put("yaml_stream", "a: &x [1, *x]\n")
    put("yaml_stream", '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod"}]}')
    for p in files("examples/*.yaml", 20):
        if "palisade" in os.path.basename(p):
            put("config", open(p, "rb").read())
    put("config", "webhook:\n  namespace: palisade-system\n  excludeNamespaces: [kube-system]\n  maxBodyBytes: 1024\n")
    put("config", "images:\n- name: shop\n  match: ['r/*']\n  require: all\n  attestors:\n  - name: b\n    key: b.pub\n")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    for op in ["CREATE", "UPDATE", "DELETE", "CONNECT"]:
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": op,
            "namespace": "app", "name": "p", "userInfo": {"username": "alice", "groups": ["dev"]},
            "object": pod, "oldObject": pod if op != "CREATE" else None, "dryRun": False}}
        put("admission_review", json.dumps(review))
    for p in files("testdata/gatekeeper-library/**/update.yaml", 10):
        for d in docs(p):
            put("admission_review", json.dumps(d))
    for p in files("testdata/gatekeeper-library/**/*.yaml", 100000):
        for d in docs(p):
            spec = d.get("spec") or {}
            if d.get("kind") == "ConstraintTemplate":
                for t in spec.get("targets") or []:
                    if isinstance(t, dict) and isinstance(t.get("rego"), str):
                        put("rego_policy", t["rego"])
                    for c in (t.get("code") or []) if isinstance(t, dict) else []:
                        src = (c.get("source") or {}) if isinstance(c, dict) else {}
                        for v in (src.get("validations") or []) + (src.get("variables") or []):
                            if isinstance(v, dict) and isinstance(v.get("expression"), str):
                                put("cel_policy", v["expression"])
            if d.get("kind") == "ValidatingAdmissionPolicy":
                for v in (spec.get("validations") or []) + (spec.get("variables") or []):
                    if isinstance(v, dict) and isinstance(v.get("expression"), str):
                        put("cel_policy", v["expression"])
    for i, p in enumerate(files("testdata/supply/**/*.pub", 12)):
        put("image_parsers", b"\x01" + open(p, "rb").read())
    for ref in ["nginx", "ghcr.io/a/b:1@sha256:" + "0" * 64, "127.0.0.1:5000/x/y:v1", "docker.io/library/busybox:latest"]:
        put("image_parsers", b"\x00" + ref.encode())
    for p in files("testdata/supply/**/manifest*.json", 10):
        put("image_parsers", b"\x02" + open(p, "rb").read())
    for p in files("testdata/supply/**/*envelope*.json", 10):
        put("image_parsers", b"\x03" + open(p, "rb").read())
    for p in files("testdata/supply/**/*payload*.json", 10):
        put("image_parsers", b"\x04" + open(p, "rb").read())
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))), file=sys.stderr)


if __name__ == "__main__":
    main()
