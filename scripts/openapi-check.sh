#!/usr/bin/env bash
# The committed OpenAPI document (a test keeps it equal to the served one) validates as
# OpenAPI 3.1, its operationIds are unique, and openapi-python-client generates a client
# from it without skipping any operation or response.
# Usage: scripts/openapi-check.sh   (venv in target/venv, made if missing; VENV= to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-$PWD/target/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "openapi-spec-validator==0.9.0" "openapi-python-client==0.29.1"
"$venv/bin/python" - openapi/openapi.json <<'PY'
import collections, json, sys
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator
doc = json.load(open(sys.argv[1]))
errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
for e in errors[:20]:
    print("invalid:", e.message.splitlines()[0])
ids = collections.Counter(op.get("operationId") for item in doc["paths"].values()
                          for m, op in item.items() if m in ("get", "post", "put", "patch", "delete"))
twice = [i for i, n in ids.items() if n > 1 or i is None]
for i in twice:
    print("operationId not unique or missing:", i)
print(f"{len(errors)} validation errors, {len(ids)} operations, {len(twice)} duplicate ids")
sys.exit(1 if errors or twice else 0)
PY
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$("$venv/bin/openapi-python-client" generate --path openapi/openapi.json --meta none \
  --config scripts/openapi-client.yaml --output-path "$out/client" 2>&1)
if grep -E "WARNING|will not be generated|Unsupported|Error" <<<"$log"; then
  echo "openapi-python-client skipped something" >&2
  exit 1
fi
echo "openapi-python-client: $(find "$out/client/api" -name '*.py' ! -name '__init__.py' | wc -l) operations generated"
