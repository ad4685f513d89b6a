#!/usr/bin/env python3
"""Writes a generated cluster's RBAC for bench/rbac.sh: 100 namespaces,
5,000 ServiceAccounts, 2,000 roles (500 ClusterRoles, every 40th
aggregating by label, and 1,500 Roles) and 10,000 bindings (RoleBindings and
ClusterRoleBindings to users, groups and service accounts; some to the
default roles, a third with palisade.io/expires-at). One YAML file per
namespace plus cluster.yaml. Deterministic; mirrors
crates/palisade-rbac/benches/graph.rs.

Usage: gen_rbac.py DIR
"""

import os
import sys

NAMESPACES, SAS, ROLES, CLUSTER_ROLES, BINDINGS = 100, 5000, 2000, 500, 10000
VERBS = [["get", "list", "watch"], ["create", "update", "patch", "delete"], ["get"], ["*"], ["list"]]
RESOURCES = [("", "pods"), ("", "configmaps"), ("", "secrets"), ("apps", "deployments"),
             ("batch", "jobs"), ("", "pods/exec"), ("", "services"), ("networking.k8s.io", "ingresses")]
RBAC = "rbac.authorization.k8s.io"


def rules(i):
    out = []
    for k in range(4):
        g, r = RESOURCES[(i + k) % len(RESOURCES)]
        verbs = ", ".join(f'"{v}"' for v in VERBS[(i + 2 * k) % len(VERBS)])
        out.append(f'- {{apiGroups: ["{g}"], resources: ["{r}"], verbs: [{verbs}]}}')
    return "\n".join(out)


def role(i):
    if i < CLUSTER_ROLES:
        doc = f"apiVersion: {RBAC}/v1\nkind: ClusterRole\nmetadata:\n  name: cr-{i}\n  labels: {{tier: t{i % 7}}}\n"
        if i % 40 == 0:
            doc += ("aggregationRule:\n  clusterRoleSelectors:\n"
                    f"  - matchLabels: {{tier: t{i % 5}}}\n"
                    "  - matchExpressions: [{key: tier, operator: In, values: [t6]}]\n")
        return None, doc + "rules:\n" + rules(i) + "\n"
    ns = f"ns-{i % NAMESPACES}"
    name = f"role-{(i - CLUSTER_ROLES) // NAMESPACES}"
    return ns, f"apiVersion: {RBAC}/v1\nkind: Role\nmetadata:\n  name: {name}\n  namespace: {ns}\nrules:\n{rules(i)}\n"


def binding(i):
    ns = f"ns-{i % NAMESPACES}"
    if i % 5 == 0:
        subject = f"{{kind: User, name: user{i % 700}@example.com}}"
    elif i % 5 == 1:
        subject = f"{{kind: Group, name: team-{i % 60}}}"
    else:
        subject = f"{{kind: ServiceAccount, name: sa-{i % (SAS // NAMESPACES)}, namespace: {ns}}}"
    meta = f"  name: b-{i}\n"
    if i % 3 == 0:
        exp = "2026-01-01T00:00:00Z" if i % 6 == 0 else "2027-01-01"
        meta += f'  annotations: {{palisade.io/expires-at: "{exp}"}}\n'
    if i % 10 == 7:
        return None, (f"apiVersion: {RBAC}/v1\nkind: ClusterRoleBinding\nmetadata:\n{meta}"
                      f"roleRef: {{apiGroup: {RBAC}, kind: ClusterRole, name: cr-{i % CLUSTER_ROLES}}}\nsubjects: [{subject}]\n")
    m = i % 50
    if m == 0:
        ref = f"kind: ClusterRole, name: {['cluster-admin', 'admin', 'edit', 'view'][i // 50 % 4]}"
    elif m <= 20:
        ref = f"kind: ClusterRole, name: cr-{i % CLUSTER_ROLES}"
    else:
        ref = f"kind: Role, name: role-{i % ((ROLES - CLUSTER_ROLES) // NAMESPACES)}"
    return ns, (f"apiVersion: {RBAC}/v1\nkind: RoleBinding\nmetadata:\n{meta}  namespace: {ns}\n"
                f"roleRef: {{apiGroup: {RBAC}, {ref}}}\nsubjects: [{subject}]\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {None: []}
    for n in range(NAMESPACES):
        files[f"ns-{n}"] = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{n}\n"]
    for i in range(SAS):
        ns = f"ns-{i % NAMESPACES}"
        files[ns].append(f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{i // NAMESPACES}\n  namespace: {ns}\n")
    for i in range(ROLES):
        ns, doc = role(i)
        files[ns].append(doc)
    for i in range(BINDINGS):
        ns, doc = binding(i)
        files[ns].append(doc)
    for ns, docs in files.items():
        with open(os.path.join(out, f"{ns or 'cluster'}.yaml"), "w") as f:
            f.write("---\n".join(docs))
    print(sum(len(d) for d in files.values()), "documents in", len(files), "files")


if __name__ == "__main__":
    main()
