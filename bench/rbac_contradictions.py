#!/usr/bin/env python3
"""Counts RBAC messages that contradict the input: runs `palisade rbac
report DIR -f json` and checks each message's claims against the objects,
read independently here (PyYAML):

- "no binding in the input grants it yet" on a role: some binding refers to
  the role (same identity; a Role in the binding's namespace), or to a
  ClusterRole that aggregates it;
- "held by SUBJECT (BINDING)": the binding exists and names that subject;
- rbac-binding-missing-role "... is neither in the input ...": a role with
  that identity is in the input;
- rbac-binding-missing-subject "ServiceAccount NS/NAME is not in the input":
  such a ServiceAccount is in the input (namespace defaulted to `default`);
- rbac-workload-create "run them as sa:NS/NAME": NS and NAME are valid names.

Usage: bench/rbac_contradictions.py PALISADE DIR  (prints the count, exit 1 if any)
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

RBAC = "rbac.authorization.k8s.io"
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def objects(root):
    for p in sorted(Path(root).rglob("*")):
        if p.suffix not in (".yaml", ".yml", ".json") or not p.is_file():
            continue
        try:
            docs = list(yaml.safe_load_all(p.read_text(errors="replace")))
        except Exception:
            continue
        for d in docs:
            if isinstance(d, dict) and str(d.get("kind", "")).endswith("List") and isinstance(d.get("items"), list):
                yield from (i for i in d["items"] if isinstance(i, dict))
            elif isinstance(d, dict):
                yield d


def ns(o):
    return (o.get("metadata") or {}).get("namespace") or "default"


def name(o):
    return str((o.get("metadata") or {}).get("name") or "")


def main():
    exe, root = sys.argv[1], sys.argv[2]
    roles, bindings, sas = {}, [], set()
    for o in objects(root):
        kind, api = o.get("kind"), str(o.get("apiVersion", ""))
        if api.startswith(RBAC) and kind in ("Role", "ClusterRole"):
            key = (kind, ns(o) if kind == "Role" else None, name(o))
            roles.setdefault(key, []).append(o)
        elif api.startswith(RBAC) and kind in ("RoleBinding", "ClusterRoleBinding"):
            bindings.append(o)
        elif kind == "ServiceAccount" and api == "v1":
            sas.add((ns(o), name(o)))
    refs = set()
    for b in bindings:
        rr = b.get("roleRef") or {}
        if rr.get("kind") == "Role" and b.get("kind") == "RoleBinding":
            refs.add(("Role", ns(b), rr.get("name")))
        elif rr.get("kind") == "ClusterRole":
            refs.add(("ClusterRole", None, rr.get("name")))

    def aggregated_into_bound(labels):
        for (k, _, n), copies in roles.items():
            if k != "ClusterRole" or (k, None, n) not in refs:
                continue
            for c in copies:
                for sel in ((c.get("aggregationRule") or {}).get("clusterRoleSelectors") or []):
                    ml = (sel or {}).get("matchLabels") or {}
                    if ml and all(labels.get(a) == v for a, v in ml.items()):
                        return True
        return False

    out = subprocess.run([exe, "rbac", "report", root, "-f", "json"], capture_output=True, text=True)
    findings = json.loads(out.stdout)["findings"]
    bad = []
    for f in findings:
        m, r = f["message"], f["resource"]
        kind, key_ns = r["kind"], r.get("namespace") or "default"
        if "no binding in the input grants it yet" in m:
            key = (kind, key_ns if kind == "Role" else None, r["name"])
            labels = {}
            for c in roles.get(key, []):
                labels.update((c.get("metadata") or {}).get("labels") or {})
            if key in refs or aggregated_into_bound(labels):
                bad.append(f)
        for subj, bind in re.findall(r"(\S+) \((\w+Binding/[^ )]+(?: \([^)]*\))?)\)", m.split("held by ", 1)[1] if "held by " in m else ""):
            bkind, rest = bind.split("/", 1)
            bname = rest.split(" (")[0]
            if not any(b.get("kind") == bkind and name(b) == bname for b in bindings):
                bad.append(f)
        mm = re.search(r"(ClusterRole|Role) `([^`]+)` is neither in (?:namespace (\S+) of )?the input", m)
        if mm and f["rule"] == "rbac-binding-missing-role":
            k, n, nsp = mm.group(1), mm.group(2), mm.group(3)
            if (k, nsp if k == "Role" else None, n) in roles:
                bad.append(f)
        mm = re.search(r"ServiceAccount (\S+)/(\S+) is not in the input", m)
        if mm and (mm.group(1), mm.group(2)) in sas:
            bad.append(f)
        mm = re.search(r"run them as sa:([^/\s]+)/(\S+),", m)
        if mm and not (LABEL.match(mm.group(1)) and all(LABEL.match(p) for p in mm.group(2).split("."))):
            bad.append(f)
    for f in bad:
        print(f"{f['file']}:{f['line']}: {f['rule']}: {f['message']}", file=sys.stderr)
    print(f"{len(findings)} RBAC findings, {len(bad)} contradict the input")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
