#!/usr/bin/env python3
"""Generates a cluster snapshot for `palisade audit --snapshot` (bench/audit.sh).

Usage: gen_cluster.py DIR [SCALE]
SCALE 1.0 (default) is 100,000 objects: 50,000 Pods, 10,000 ReplicaSets,
10,000 Deployments, 10,000 RBAC objects (Roles, RoleBindings,
ServiceAccounts), 5,000 Namespaces, 5,000 NetworkPolicies, 9,000 Services,
1,000 Nodes, and a `kubectl version -o json` output. Written as one JSON
List per kind and namespace block, as `kubectl get -A -o json` writes them.
Prints the number of objects.
"""

import json
import os
import sys

out = sys.argv[1]
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
os.makedirs(out, exist_ok=True)
n = lambda x: max(1, int(x * scale))
namespaces = n(5000)


def ns(i):
    return "team-%d" % (i % namespaces)


def pod_spec(i):
    return {
        "serviceAccountName": "sa-%d" % (i % 2),
        "containers": [{
            "name": "app", "image": "registry.example.com/app:%d.0" % (i % 7),
            "ports": [{"containerPort": 8080}],
            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": i % 5 != 0,
                                "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "env": [{"name": "MODE", "value": "prod"}],
        }],
        "hostNetwork": i % 97 == 0,
    }


def meta(name, i, **extra):
    m = {"name": name, "namespace": ns(i), "labels": {"app": "app-%d" % (i % 50)}}
    m.update(extra)
    return m


def write(name, items):
    with open(os.path.join(out, name), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f, indent=4)  # as kubectl prints
    return len(items)


total = 0
total += write("namespaces.json", [
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "team-%d" % i, "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}
    for i in range(namespaces)])
total += write("nodes.json", [
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-%d" % i},
     "status": {"nodeInfo": {"kubeletVersion": "v1.3%d.2" % (3 + i % 4)},
                "addresses": [{"type": "InternalIP", "address": "10.%d.%d.%d" % (i // 65536 % 256, i // 256 % 256, i % 256)}]
                + ([{"type": "ExternalIP", "address": "34.1.%d.%d" % (i // 256 % 256, i % 256)}] if i % 10 == 0 else [])}}
    for i in range(n(1000))])
for block in range(10):
    lo, hi = block * n(5000), (block + 1) * n(5000)
    total += write("pods-%d.json" % block, [
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta("pod-%d" % i, i), "spec": pod_spec(i)}
        for i in range(lo, hi)])
total += write("replicasets.json", [
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("rs-%d" % i, i),
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec(i)}}}
    for i in range(n(10000))])
total += write("deployments.json", [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("deploy-%d" % i, i),
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec(i)}}}
    for i in range(n(10000))])
total += write("serviceaccounts.json", [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("sa-%d" % (i % 2), i)} for i in range(n(4000))])
total += write("roles.json", [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("role-%d" % i, i),
     "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets" if i % 9 == 0 else "pods"], "verbs": ["get", "list"]}]}
    for i in range(n(3000))])
total += write("rolebindings.json", [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("rb-%d" % i, i),
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role-%d" % i},
     "subjects": [{"kind": "ServiceAccount", "name": "sa-0", "namespace": ns(i)}]}
    for i in range(n(3000))])
total += write("networkpolicies.json", [
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("default-deny", i),
     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"] if i % 3 else ["Ingress"]}}
    for i in range(n(5000))])
total += write("services.json", [
    {"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-%d" % i, i),
     "spec": {"type": ["ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"][i % 4], "ports": [{"port": 80}]}}
    for i in range(n(9000))])
with open(os.path.join(out, "version.json"), "w") as f:
    json.dump({"serverVersion": {"gitVersion": "v1.35.2", "major": "1", "minor": "35"}}, f)
print(total)
