#!/usr/bin/env python3
"""Writes a synthetic corpus of Kubernetes manifests for bench/scan.sh.

Usage: gen_corpus.py DIR FILES [DOCS_PER_FILE]

Each file is a multi-document YAML stream of a small application: a
Deployment (or StatefulSet, DaemonSet, CronJob), its Service, ConfigMap,
ServiceAccount, Role and RoleBinding, a NetworkPolicy, a Secret and an
Ingress. Security settings vary with a fixed seed, so roughly half the
workloads trip some rule. The output is deterministic.
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


def workload(rng, i):
    name = "app-%04d" % i
    ns = rng.choice(["default", "payments", "search", "web", "batch", "monitoring"])
    secure = rng.random() < 0.5
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


def main():
    out, files = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261129)
    os.makedirs(out, exist_ok=True)
    docs = 0
    for f in range(files):
        text = workload(rng, f)
        docs += text.count("\n---\n") + 1
        sub = os.path.join(out, "team-%02d" % (f % 16))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "app-%04d.yaml" % f), "w") as fh:
            fh.write(text)
    print(docs)


if __name__ == "__main__":
    main()
