#!/usr/bin/env python3
"""A cluster export as `kubectl get pods,deployments,services,configmaps,serviceaccounts -A -o json`
writes it: one `List` of N objects (kubectl's key order: apiVersion, items, kind, metadata),
no anchors, no aliases. With --pods-only: small pods only; with --stream: the same objects
as a multi-document YAML stream (one document per object).

Usage: gen_list.py OUT N [--pods-only] [--stream]
"""
import json
import sys


def pod(i, ns):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{i}", "namespace": ns, "labels": {"app": f"web-{i % 50}"}},
        "spec": {
            "containers": [{"name": "web", "image": f"registry.example/web:{i % 7}.0",
                            "ports": [{"containerPort": 8080}]}],
            "serviceAccountName": "web",
        },
    }


def deployment(i, ns):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"api-{i}", "namespace": ns, "labels": {"app": f"api-{i}"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": f"api-{i}"}},
            "template": {
                "metadata": {"labels": {"app": f"api-{i}"}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000},
                    "containers": [{
                        "name": "api",
                        "image": f"registry.example/api@sha256:{i:064x}",
                        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                        "env": [{"name": "MODE", "value": "prod"}],
                    }],
                },
            },
        },
    }


def service(i, ns):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{i}", "namespace": ns},
        "spec": {"selector": {"app": f"api-{i}"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def configmap(i, ns):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cfg-{i}", "namespace": ns},
        "data": {"LOG_LEVEL": "info", "FEATURE": f"f{i}"},
    }


def serviceaccount(i, ns):
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "web" if i % 2 == 0 else f"sa-{i}", "namespace": ns}}


def objects(n, pods_only):
    makers = [pod] if pods_only else [pod, pod, deployment, service, configmap, serviceaccount]
    for i in range(n):
        yield makers[i % len(makers)](i, f"team-{i % 40}")


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    pods_only, stream = "--pods-only" in sys.argv, "--stream" in sys.argv
    with open(out, "w") as f:
        if stream:
            for o in objects(n, pods_only):
                f.write("---\n")
                f.write(json.dumps(o))  # JSON is YAML: one flow mapping per document
                f.write("\n")
        else:
            f.write('{\n    "apiVersion": "v1",\n    "items": [\n')
            for k, o in enumerate(objects(n, pods_only)):
                # kubectl's layout (one field per line), indented by 2 to make the
                # 100,000-object export about the 50 MB of the issue
                text = json.dumps(o, indent=2).replace("\n", "\n    ")
                f.write(("        " if k == 0 else ",\n        ") + text)
            f.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')


if __name__ == "__main__":
    main()
