#!/usr/bin/env bash
# Schema-based fuzzing of buzon's JSON API: starts a live `buzon serve --demo` on a free port
# with a database of its own, makes a token of each role with the CLI, and runs schemathesis
# against /api/v1/openapi.json once per role (viewer, agent, then admin, who may revoke and
# demote). It fails on any 5xx, any answer the document does not describe (status, content
# type, headers, body schema), any route that works without a token, and any change a viewer
# manages to make.
#
#   tests/schemathesis/run.sh            # after `cargo build -p buzon` (or `cargo test`)
#   MAX_EXAMPLES=200 tests/schemathesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin="${BUZON_BIN:-$root/target/debug/buzon}"
[ -x "$bin" ] || cargo build -p buzon
command -v schemathesis >/dev/null || python3 -m pip install --quiet 'schemathesis>=4.3,<5'

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
export BUZON_DATABASE_URL="sqlite://$work/buzon.db"
export BUZON_SERVER_BIND="127.0.0.1:$port"
export BUZON_SERVER_PUBLIC_URL="$base"
"$bin" serve --demo >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
    curl -sf "$base/healthz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.5
done
curl -sf "$base/healthz" >/dev/null || { echo "buzon did not start" >&2; cat "$work/serve.log"; exit 1; }

status=0
# The admin's last pass is token revocation alone: earlier, it would revoke the run's own token
# and leave the rest of the admin's run to 401s.
for pass in viewer agent admin admin-revoking; do
    role=${pass%-revoking}
    only=()
    if [ "$pass" = admin-revoking ]; then
        only=(--include-path '/api/v1/tokens/{id}' --include-method DELETE)
    elif [ "$role" = admin ]; then
        only=(--exclude-path '/api/v1/tokens/{id}')
    fi
    token=$("$bin" token create "schemathesis-$pass" --role "$role" | tail -n 1)
    echo "== schemathesis with a $role token ($pass)"
    seen=$(wc -l <"$work/serve.log")
    BUZON_ROLE=$role PYTHONPATH="$root/tests/schemathesis" SCHEMATHESIS_HOOKS=hooks \
        schemathesis run "$base/api/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks "${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth,viewer_changes_nothing}" \
        --max-examples "${MAX_EXAMPLES:-40}" \
        --workers 2 \
        --seed 20261206 \
        --warnings off \
        --no-color "${only[@]}" || status=1
    # What the server answered this role, by status: a run that only met 401s proves little.
    echo "== answers to the $role token ($pass), by status"
    tail -n +"$((seen + 1))" "$work/serve.log" | sed 's/\x1b\[[0-9;]*m//g' |
        { grep -o 'route=/api/v1[^ ]*: request done status=[0-9]*' || true; } |
        sed 's/.*status=//' | sort | uniq -c | sort -rn
done
if [ "$status" -ne 0 ]; then
    echo "== the server's log (last 60 lines)"
    tail -n 60 "$work/serve.log"
fi
exit $status
