#!/usr/bin/env bash
# The README's integrator recipe, run end to end on a fresh SQLite database: connect an
# issuing body (the simulator), create an agency, and follow holder → request → record id
# → share code → agency read. Needs curl and jq. Uses target/debug/certverify.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/debug/certverify ] || cargo build --quiet
cv="$PWD/target/debug/certverify"
work=$(mktemp -d); cd "$work"
API=http://127.0.0.1:18480; SIM=127.0.0.1:18490
export CERTVERIFY_LISTEN=127.0.0.1:18480 CERTVERIFY_ALLOW_HTTP_ISSUERS=true
"$cv" serve 2>server.log & server=$!
trap 'kill $server $sim 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -fs $API/readyz >/dev/null 2>&1; do sleep 0.1; done

# 1. The registry, an admin and its token.
"$cv" registry import "$OLDPWD/samples/registry-sample.json" >/dev/null
admin=$("$cv" admin bootstrap --name "Bureau IT")
ADMIN=$(curl -fs -u "$(jq -r .client_id <<<"$admin"):$(jq -r .client_secret <<<"$admin")" \
  -d grant_type=client_credentials $API/v1/oauth/token | jq -r .access_token)

# 2. Connect an issuing body: run the simulator, register its address and its key.
"$cv" issuer-sim --listen $SIM --certificates "$OLDPWD/samples/issuer-sim-certificates.json" \
  --platform-jwks $API/.well-known/jwks.json >sim.jwk 2>sim.log & sim=$!
until [ -s sim.jwk ]; do sleep 0.1; done
body=$(curl -fs $API/v1/issuing-bodies | jq -r '.items[] | select(.code=="demo-hk-institute") | .id')
curl -fs -X PATCH -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/merge-patch+json' \
  -d "{\"verification_mode\": \"api\", \"api_base_url\": \"http://$SIM\"}" \
  $API/v1/admin/issuing-bodies/$body >/dev/null
curl -fs -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d "$(head -1 sim.jwk | jq -c '{kty, crv, x, kid}')" \
  $API/v1/admin/issuing-bodies/$body/keys >/dev/null

# 3. An agency with the scopes it needs, and its token.
agency=$(curl -fs -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"name": "Shanghai Exit-Entry Administration", "scopes": ["records:read", "eligibility:check"]}' \
  $API/v1/admin/agencies)
AGENCY=$(curl -fs -u "$(jq -r .client_id <<<"$agency"):$(jq -r .client_secret <<<"$agency")" \
  -d grant_type=client_credentials $API/v1/oauth/token | jq -r .access_token)

# 4. A holder registers, verifies its address, logs in and asks for a certificate to be verified.
curl -fs -o /dev/null -H 'Content-Type: application/json' -d '{"email": "ana.lima@example.org",
  "password": "a long passphrase", "full_name": "Ana Lima", "nationality": "BR",
  "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
  "identity_document": {"type": "passport", "number": "FZ1234567"},
  "residence_country": "BR", "shanghai_hukou": false}' $API/v1/holders
# The verification mail is a file in data/outbox (no CERTVERIFY_SMTP_URL); follow its link.
token=$("$OLDPWD/scripts/mail-token" data/outbox ana.lima@example.org)
curl -fs -H 'Content-Type: application/json' -d "{\"token\": \"$token\"}" $API/v1/holders/verify-email
HOLDER=$(curl -fs -H 'Content-Type: application/json' \
  -d '{"email": "ana.lima@example.org", "password": "a long passphrase"}' \
  $API/v1/auth/login | jq -r .access_token)
qualification=$(curl -fs "$API/v1/qualifications?q=financial" | jq -r '.items[0].id')
request=$(curl -fs -H "Authorization: Bearer $HOLDER" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)" \
  -d "{\"qualification_id\": \"$qualification\", \"certificate_number\": \"DCFA-2020-0042\",
       \"name_on_certificate\": \"Ana Lima\", \"issued_on\": \"2020-11-15\", \"applying_from\": \"BR\"}" \
  $API/v1/verification-requests | jq -r .id)

# 5. The body confirms; the request is issued and names its record.
for _ in $(seq 1 100); do
  view=$(curl -fs -H "Authorization: Bearer $HOLDER" $API/v1/verification-requests/$request)
  [ "$(jq -r .state <<<"$view")" = issued ] && break; sleep 0.1
done
record=$(jq -r .record_id <<<"$view")
echo "request $request: $(jq -r .state <<<"$view"), record $record"

# 6. The holder makes a share code; the agency reads the record with it.
code=$(curl -fs -H "Authorization: Bearer $HOLDER" -H 'Content-Type: application/json' \
  -d '{"expires_in_days": 30}' $API/v1/records/$record/share-codes | jq -r .code)
curl -fs -H "Authorization: Bearer $AGENCY" \
  "$API/v1/records/by-share-code/$code?purpose=work%20permit%20application" |
  jq -r '"agency read: record \(.id) is \(.status); issuer \(.credential.issuer)"'
