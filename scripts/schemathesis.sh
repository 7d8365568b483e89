#!/usr/bin/env bash
# Schemathesis against a real server on a fresh database, as four callers: anonymous, a
# holder, an agency with every agency scope, and an admin (DESIGN.md "Who uses it").
#
#   scripts/schemathesis.sh                 # local: random seed, 200 examples per operation
#   SEED=1 EXAMPLES=50 scripts/schemathesis.sh   # what .ci/run does
#   CALLERS="admin" POSTGRES=postgres://postgres@127.0.0.1:5432/postgres scripts/schemathesis.sh
#       (a fresh database is made on that server for the run, and dropped after)
#   BASELINE=openapi/schemathesis-baseline scripts/schemathesis.sh   # fail only on failures
#       not recorded there (one file per caller and backend); UPDATE_BASELINE=1 records them
#
# Uses target/debug/certverify (built if missing) and a venv with a pinned schemathesis in
# target/venv (made if missing). Exits non-zero when any caller's run finds a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SCHEMATHESIS_VERSION=4.32.5
seed="${SEED:-$RANDOM$RANDOM}"
examples="${EXAMPLES:-200}"
callers="${CALLERS:-anonymous holder agency admin}"
venv="${VENV:-$root/target/venv}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ -x target/debug/certverify ] || cargo build --quiet
bin="$root/target/debug/certverify"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export CERTVERIFY_LISTEN="127.0.0.1:$port"
export CERTVERIFY_ARGON2_MEMORY_KIB=64 CERTVERIFY_ARGON2_ITERATIONS=1
# Generous limits: the run explores inputs; the limits themselves are tested in tests/api.
export CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE=100000
export CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE=100000
export CERTVERIFY_DISPATCHER_CONCURRENCY=0
dropdb=:
if [ -n "${POSTGRES:-}" ]; then
  db="schemathesis_$$"
  psql -q -d "$POSTGRES" -c "CREATE DATABASE $db"
  dropdb="psql -q -d '$POSTGRES' -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)'"
  export DATABASE_URL="${POSTGRES%/*}/$db"
  export CERTVERIFY_KEY_FILE="$work/platform.pem"
  export CERTVERIFY_PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  (cd "$work" && "$bin" keys generate --out "$work/platform.pem" >/dev/null)
fi

(cd "$work" && exec "$bin" serve 2>"$work/server.log") &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; eval "$dropdb"; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/readyz" >/dev/null

(cd "$work" && "$bin" registry import "$root/samples/registry-sample.json" >/dev/null)
admin=$(cd "$work" && "$bin" admin bootstrap --name "schemathesis")
token() { # client_id client_secret
  curl -fs -u "$1:$2" -d grant_type=client_credentials "$base/v1/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
admin_token=$(token "$(field "$admin" client_id)" "$(field "$admin" client_secret)")
agency=$(curl -fs -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d '{"name":"Schemathesis agency","scopes":["records:read","records:search","eligibility:check"]}' \
  "$base/v1/admin/agencies")
agency_token=$(token "$(field "$agency" client_id)" "$(field "$agency" client_secret)")
curl -fs -o /dev/null -H 'Content-Type: application/json' -d '{
  "email": "schemathesis@example.org", "password": "a long passphrase", "full_name": "Ana Lima",
  "nationality": "BR", "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
  "identity_document": {"type": "passport", "number": "FZ1234567"},
  "residence_country": "BR", "shanghai_hukou": false}' "$base/v1/holders"
# The holder verifies its address through the mailed link, as a person would.
mail_token=$("$root/scripts/mail-token" "$work/data/outbox" schemathesis@example.org)
curl -fs -o /dev/null -H 'Content-Type: application/json' -d "{\"token\": \"$mail_token\"}" \
  "$base/v1/holders/verify-email"
holder_token=$(curl -fs -H 'Content-Type: application/json' \
  -d '{"email":"schemathesis@example.org","password":"a long passphrase"}' "$base/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

status=0
echo "schemathesis $SCHEMATHESIS_VERSION, seed $seed, $examples examples per operation, against $base"
for caller in $callers; do
  auth=()
  case "$caller" in
    anonymous) ;;
    holder) auth=(-H "Authorization: Bearer $holder_token") ;;
    agency) auth=(-H "Authorization: Bearer $agency_token") ;;
    admin) auth=(-H "Authorization: Bearer $admin_token") ;;
    *) echo "unknown caller $caller" >&2; exit 2 ;;
  esac
  echo "== as $caller"
  baseline=()
  if [ -n "${BASELINE:-}" ]; then
    backend=sqlite; [ -n "${POSTGRES:-}" ] && backend=postgres
    file="$BASELINE/$caller-$backend.json"
    if [ -n "${UPDATE_BASELINE:-}" ]; then
      mkdir -p "$BASELINE"; rm -f "$file"
      baseline=(--baseline "$file" --baseline-update)
    elif [ -f "$file" ]; then
      baseline=(--baseline "$file")
    fi
  fi
  if ! "$venv/bin/schemathesis" run "$base/openapi.json" "${auth[@]}" "${baseline[@]}" \
      --checks all --max-examples "$examples" --seed "$seed" \
      --generation-database none --no-color --workers 1 \
      --report junit --report-dir "${REPORT_DIR:-$work/report}/$caller" \
      ${SCHEMATHESIS_ARGS:-}; then
    status=1
  fi
done
exit $status
