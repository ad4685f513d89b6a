#!/usr/bin/env python3
"""Extracts Kubernetes' bootstrap RBAC policy from the cluster snapshots in
testdata/audit/snapshots into data/bootstrap/v1.N.json: every ClusterRole,
ClusterRoleBinding, Role and RoleBinding labelled
`kubernetes.io/bootstrapping: rbac-defaults` (the objects the API server
reconciles at start, plugin/pkg/auth/authorizer/rbac/bootstrappolicy), with
only the fields the authorizer reads. Run from the repository root:
    python3 crates/palisade-rbac/data/extract_bootstrap.py
"""
import json
import os

SNAP = "testdata/audit/snapshots"
SOURCES = {
    "v1.21": (
        f"{SNAP}/sonobuoy-kind-1.21/resources",
        ["cluster/rbac.authorization.k8s.io_v1_clusterroles.json",
         "cluster/rbac.authorization.k8s.io_v1_clusterrolebindings.json",
         "ns/kube-system/rbac.authorization.k8s.io_v1_roles.json",
         "ns/kube-system/rbac.authorization.k8s.io_v1_rolebindings.json",
         "ns/kube-public/rbac.authorization.k8s.io_v1_roles.json",
         "ns/kube-public/rbac.authorization.k8s.io_v1_rolebindings.json"],
    ),
    "v1.27": (
        f"{SNAP}/kubehound-kind-1.27/kind-kubehound.test.local",
        ["clusterroles.rbac.authorization.k8s.io.json",
         "clusterrolebindings.rbac.authorization.k8s.io.json",
         "kube-system/roles.rbac.authorization.k8s.io.json",
         "kube-system/rolebindings.rbac.authorization.k8s.io.json",
         "kube-public/roles.rbac.authorization.k8s.io.json",
         "kube-public/rolebindings.rbac.authorization.k8s.io.json"],
    ),
}
KINDS = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
KEEP = ["rules", "aggregationRule", "roleRef", "subjects"]


def items(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["items"] if isinstance(doc, dict) else doc


def slim(obj, kind):
    meta = obj["metadata"]
    out = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": meta["name"]}}
    if meta.get("namespace"):
        out["metadata"]["namespace"] = meta["namespace"]
    out["metadata"]["labels"] = meta.get("labels") or {}
    for k in KEEP:
        if obj.get(k) is not None:
            out[k] = obj[k]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for version, (root, files) in SOURCES.items():
        objs = []
        for rel in files:
            kind = None
            for base, k in [("clusterrolebindings", "ClusterRoleBinding"),
                            ("clusterroles", "ClusterRole"),
                            ("rolebindings", "RoleBinding"), ("roles", "Role")]:
                if base in rel:
                    kind = k
                    break
            for obj in items(os.path.join(root, rel)):
                labels = obj["metadata"].get("labels") or {}
                if labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
                    objs.append(slim(obj, obj.get("kind") or kind))
        objs.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace", ""),
                                 o["metadata"]["name"]))
        doc = {"apiVersion": "v1", "kind": "List", "items": objs}
        path = os.path.join(here, "bootstrap", f"{version}.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print(version, len(objs), "objects ->", path)


if __name__ == "__main__":
    main()
