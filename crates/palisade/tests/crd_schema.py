"""Validates the items of a Kubernetes List (JSON) against CRD schemas.

Usage: python3 crd_schema.py SCHEMAS.json LIST.json
SCHEMAS.json maps a kind to the openAPIV3Schema of the CRD version the
items use (the test extracts them from the CRD files in testdata).
Exit 0 valid, 1 invalid, 3 setup (jsonschema missing).
"""

import json
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("jsonschema is not installed: python3 -m pip install jsonschema\n")
    sys.exit(3)

schemas = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
bad = 0
for i, item in enumerate(doc["items"]):
    schema = schemas.get(item.get("kind"))
    if schema is None:
        print("items[%d]: no schema for kind %r" % (i, item.get("kind")))
        bad += 1
        continue
    for e in jsonschema.Draft7Validator(schema).iter_errors(item):
        print("items[%d] (%s): %s at %s" % (i, item["kind"], e.message, "/".join(map(str, e.absolute_path))))
        bad += 1
print("%d items, %d errors" % (len(doc["items"]), bad))
sys.exit(1 if bad else 0)
