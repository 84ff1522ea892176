#!/usr/bin/env bash
# Fuzzes every /api route of the local server (embedded table) with schemathesis (pinned in
# tests/requirements.txt), from the OpenAPI document the server itself serves, with JWT auth.
# Fails on any 5xx, any response off its schema, status, content type or headers, a route that
# ignores its credentials, and a deleted resource still answering. Set ST_SEED for another seed
# and ST_EXAMPLES for more cases per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh

WORK=target/schemathesis
mkdir -p "$WORK"
cargo build --quiet -p local-api

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="schemathesis-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')"
base="http://127.0.0.1:$port"
PORT=$port JWT_SECRET=$secret CRM_OFFLINE=true target/debug/local-api >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "$base/api/openapi.json" >/dev/null 2>&1 && break
  sleep 0.1
done

# HS256 tokens of tenant 1: a desk token, and a phone-auth one (the only kind my-secrets takes).
token() {
  .venv/bin/python - "$secret" "$1" <<'EOF'
import base64, hashlib, hmac, json, sys, time
secret, claims = sys.argv[1], json.loads(sys.argv[2])
claims["exp"] = int(time.time()) + 3600
part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
head = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
sig = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
print(head + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode())
EOF
}
desk=$(token '{"customerID": 1}')
phone=$(token '{"customerID": 1, "auth": "phone"}')

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth,use_after_free,ensure_resource_availability
# Run from the work folder, where schemathesis keeps its cache of earlier failures.
fuzz() {
  (cd "$WORK" && PYTHONPATH=../../scripts SCHEMATHESIS_HOOKS=schemathesis_hooks ../../.venv/bin/st run "$base/api/openapi.json" --url "$base" --checks "$checks" \
    --max-examples "${ST_EXAMPLES:-100}" --seed "${ST_SEED:-7}" --workers 2 --warnings off "$@")
}
echo "schemathesis on every /api route (the desk's token) ..."
fuzz -H "Authorization: Bearer $desk" --include-path-regex '^/api/' \
  --exclude-path /api/Customers/my-secrets
echo "schemathesis on my-secrets (a phone-auth token) ..."
fuzz -H "Authorization: Bearer $phone" --include-path /api/Customers/my-secrets \
  --phases coverage,fuzzing
