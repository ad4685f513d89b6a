#!/usr/bin/env python3
"""Writes a synthetic corpus of Kubernetes manifests for bench/scan.sh.

Usage: gen_corpus.py DIR FILES [MIX]

MIX (default `apps`) chooses what the corpus is made of:
- apps: each file a small application: a Deployment (or StatefulSet,
  DaemonSet, CronJob), its Service, ConfigMap, ServiceAccount, Role and
  RoleBinding, a NetworkPolicy, a Secret and an Ingress; roughly half the
  workloads trip some rule;
- workload-heavy: Deployments, Services and bare Pods, two to a file, few
  RBAC objects (about 15% of the documents) and ServiceAccounts;
- rbac-heavy: Roles, ClusterRoles (some aggregating), RoleBindings and
  ClusterRoleBindings (some granting workload creation cluster-wide) and
  ServiceAccounts over 40 namespaces, a few workloads;
- small-files: one document per file;
- large-files: FILES files of about 200 documents each (apps concatenated);
- findings: every workload insecure (host namespaces, privileged, root,
  hostPath, latest tags, credentials in env), wide roles bound to users.
The output is deterministic (fixed seed); the document count is printed.
"""

import os
import random
import sys

WORKLOAD = """apiVersion: {api}
kind: {kind}
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}, tier: {tier}}}
spec:
{spec_head}  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      serviceAccountName: {sa}
{pod_extra}      containers:
        - name: {name}
          image: {image}
          ports:
            - containerPort: {port}{host_port}
          env:
            - name: LOG_LEVEL
              value: info
            - name: {env_name}
              value: {env_value}
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
          securityContext:
{sc}      volumes:
        - name: data
{volume}"""

CRON = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-cron
  namespace: {ns}
spec:
  schedule: "*/15 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: {image}
              args: ["--once"]
"""

REST = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector: {{app: {name}}}
  ports:
    - port: 80
      targetPort: {port}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
data:
  config.yaml: |
    listen: :{port}
    upstreams: [a, b, c]
  feature_flags: "alpha,beta"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {sa}
  namespace: {ns}
automountServiceAccountToken: {automount}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {name}-reader
  namespace: {ns}
rules:
  - apiGroups: [""]
    resources: [{resources}]
    verbs: [{verbs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {name}-reader
  namespace: {ns}
subjects:
  - kind: {subject_kind}
    name: {subject}
    {subject_extra}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {name}-reader
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {ns}
spec:
  podSelector: {{matchLabels: {{app: {name}}}}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {{matchLabels: {{team: {tier}}}}}
---
apiVersion: v1
kind: Secret
metadata:
  name: {name}-tls
  namespace: {ns}
type: Opaque
data:
  token: c2VjcmV0LXZhbHVlLWZvci1iZW5jaG1hcmtz
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {ns}
spec:
  rules:
    - host: {name}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {{name: {name}, port: {{number: 80}}}}
"""


def workload(rng, i, insecure=False):
    name = "app-%04d" % i
    ns = rng.choice(["default", "payments", "search", "web", "batch", "monitoring"])
    secure = rng.random() < 0.5 and not insecure
    kind, api = rng.choice([("Deployment", "apps/v1")] * 3 + [("StatefulSet", "apps/v1"), ("DaemonSet", "apps/v1")])
    spec_head = "  selector:\n    matchLabels: {app: %s}\n" % name
    if kind != "DaemonSet":
        spec_head = "  replicas: %d\n" % rng.randint(1, 5) + spec_head
    if kind == "StatefulSet":
        spec_head += "  serviceName: %s\n" % name
    pod_extra = ""
    if not secure:
        pod_extra += rng.choice(["      hostNetwork: true\n", "      hostPID: true\n", "      hostIPC: true\n", ""])
    else:
        pod_extra += "      automountServiceAccountToken: false\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n"
    if secure:
        image = "registry.example.com/%s@sha256:%064x" % (name, rng.getrandbits(256))
        sc = "            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities: {drop: [ALL]}\n"
        volume = "          emptyDir: {}\n"
        env_name, env_value = "CACHE_SIZE", "256"
    else:
        image = rng.choice(["nginx", "nginx:latest", "redis:7.2", "registry.example.com/%s:1.%d" % (name, i % 9)])
        sc = rng.choice(["            privileged: true\n", "            capabilities: {add: [NET_ADMIN]}\n", "            runAsUser: 0\n"])
        volume = rng.choice(["          hostPath: {path: /var/lib/%s}\n" % name, "          emptyDir: {}\n"])
        env_name, env_value = rng.choice([("API_TOKEN", "tok-%08x" % rng.getrandbits(32)), ("DB_PASSWORD", "pw%06d" % i), ("MODE", "prod")])
    host_port = "\n              hostPort: %d" % (30000 + i % 2000) if not secure and rng.random() < 0.3 else ""
    fields = dict(
        api=api, kind=kind, name=name, ns=ns, tier=rng.choice(["frontend", "backend", "data"]),
        spec_head=spec_head, sa=name if secure else "default", pod_extra=pod_extra, image=image,
        port=8000 + i % 1000, host_port=host_port, env_name=env_name, env_value=env_value, sc=sc, volume=volume,
    )
    docs = [WORKLOAD.format(**fields)]
    if rng.random() < 0.3:
        docs.append(CRON.format(**fields))
    wide = not secure and rng.random() < 0.4
    user = rng.random() < 0.3
    docs.append(REST.format(
        automount="false" if secure else "true",
        resources='"*"' if wide else '"configmaps", "pods"',
        verbs='"*"' if wide else '"get", "list", "watch"',
        subject_kind="User" if user else "ServiceAccount",
        subject=("dev%d@example.com" % i) if user else fields["sa"],
        subject_extra="apiGroup: rbac.authorization.k8s.io" if user else "namespace: " + ns,
        **fields,
    ))
    return "---\n".join(docs)


POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}}}
spec:
  serviceAccountName: {sa}
{pod_extra}  containers:
    - name: main
      image: {image}
      ports: [{{containerPort: {port}}}]
      securityContext:
{sc}"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  type: {svc_type}
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: {port}}}]
"""


def pod(rng, i):
    secure = rng.random() < 0.5
    ns = "team-%02d" % (i % 12)
    return POD.format(
        name="pod-%05d" % i, ns=ns, sa=rng.choice(["default", "runner-%d" % (i % 8)]),
        pod_extra="" if secure else rng.choice(["  hostNetwork: true\n", "  hostPID: true\n", ""]),
        image=rng.choice(["busybox", "busybox:1.36", "registry.example.com/tool@sha256:%064x" % i]),
        port=9000 + i % 500,
        sc="        runAsNonRoot: true\n        allowPrivilegeEscalation: false\n" if secure
        else "        privileged: true\n",
    )


def service(rng, i):
    return SERVICE.format(name="svc-%05d" % i, ns="team-%02d" % (i % 12), port=8080,
                          svc_type=rng.choice(["ClusterIP"] * 4 + ["LoadBalancer", "NodePort"]))


def workload_heavy(rng, f):
    docs = []
    for k in range(2):
        i = 2 * f + k
        r = rng.random()
        if r < 0.45:
            full = workload(rng, i).split("\n---\n")
            docs.append(full[0])
            if rng.random() < 0.25:
                docs.extend(d for d in full[1:] if "kind: Role" in d or "kind: ServiceAccount" in d)
        elif r < 0.65:
            docs.append(pod(rng, i))
        else:
            docs.append(service(rng, i))
    return docs


RBAC_NS = ["ns-%02d" % n for n in range(40)]
VERBS = ['"get", "list", "watch"', '"create", "update", "patch", "delete"', '"*"', '"get"']
RES = ['"", "pods"', '"", "secrets"', '"apps", "deployments"', '"", "configmaps"', '"batch", "jobs"',
       '"", "pods/exec"', '"rbac.authorization.k8s.io", "rolebindings"']


def rbac_doc(rng, i):
    ns = RBAC_NS[i % len(RBAC_NS)]
    g, r = RES[i % len(RES)].split(", ")
    verbs = VERBS[(i // 3) % len(VERBS)]
    rbac = "rbac.authorization.k8s.io/v1"
    k = i % 10
    if k in (0, 1, 2):
        return f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i}, namespace: {ns}}}\n"
    if k in (3, 4):
        return (f"apiVersion: {rbac}\nkind: Role\nmetadata: {{name: role-{i}, namespace: {ns}}}\n"
                f"rules:\n- {{apiGroups: [{g}], resources: [{r}], verbs: [{verbs}]}}\n")
    if k == 5:
        labels = "labels: {agg: \"true\"}, " if i % 20 == 5 else ""
        return (f"apiVersion: {rbac}\nkind: ClusterRole\nmetadata: {{{labels}name: crole-{i}}}\n"
                f"rules:\n- {{apiGroups: [{g}], resources: [{r}], verbs: [{verbs}]}}\n")
    if k in (6, 7, 8):
        ref = f"{{apiGroup: rbac.authorization.k8s.io, kind: Role, name: role-{i - k + 3}}}"
        subject = rng.choice([f"{{kind: ServiceAccount, name: sa-{i - k}, namespace: {ns}}}",
                              f"{{kind: User, name: dev{i}@example.com}}", f"{{kind: Group, name: team-{i % 7}}}"])
        return (f"apiVersion: {rbac}\nkind: RoleBinding\nmetadata: {{name: rb-{i}, namespace: {ns}}}\n"
                f"subjects: [{subject}]\nroleRef: {ref}\n")
    ref = f"{{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crole-{i - 4}}}"
    subject = rng.choice([f"{{kind: ServiceAccount, name: sa-{i - 9}, namespace: {ns}}}",
                          f"{{kind: Group, name: ops-{i % 5}}}"])
    kind = "ClusterRoleBinding" if i % 30 == 9 else "RoleBinding"
    meta = f"{{name: crb-{i}}}" if kind == "ClusterRoleBinding" else f"{{name: crb-{i}, namespace: {ns}}}"
    return f"apiVersion: {rbac}\nkind: {kind}\nmetadata: {meta}\nsubjects: [{subject}]\nroleRef: {ref}\n"


def rbac_heavy(rng, f):
    docs = [rbac_doc(rng, 8 * f + k) for k in range(8)]
    if f % 10 == 0:
        docs.append(workload(rng, f).split("\n---\n")[0])
    return docs


def join(docs):
    return "---\n".join(d.rstrip("\n") + "\n" for d in docs)


def main():
    out, files = sys.argv[1], int(sys.argv[2])
    mix = sys.argv[3] if len(sys.argv) > 3 else "apps"
    rng = random.Random(20261129)
    os.makedirs(out, exist_ok=True)
    docs = 0
    written = []
    if mix == "apps":
        written = [workload(rng, f) for f in range(files)]
    elif mix == "findings":
        written = [workload(rng, f, insecure=True) for f in range(files)]
    elif mix == "workload-heavy":
        written = [join(workload_heavy(rng, f)) for f in range(files)]
    elif mix == "rbac-heavy":
        written = [join(rbac_heavy(rng, f)) for f in range(files)]
    elif mix == "small-files":
        parts = []
        f = 0
        while len(parts) < files:
            parts.extend(workload(rng, f).split("\n---\n"))
            f += 1
        written = [p.rstrip("\n") + "\n" for p in parts[:files]]
    elif mix == "large-files":
        written = ["---\n".join(workload(rng, f * 20 + k) for k in range(20)) for f in range(files)]
    else:
        sys.exit(f"unknown mix {mix}")
    for f, text in enumerate(written):
        docs += text.count("\n---\n") + 1
        sub = os.path.join(out, "team-%02d" % (f % 16))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "app-%05d.yaml" % f), "w") as fh:
            fh.write(text)
    print(docs)


if __name__ == "__main__":
    main()
