#!/bin/bash
# switchyard.sh: the GW_CMD that puts Switchyard under test in run.sh.
#
# It runs `switchyard serve` on 127.0.0.1:18080 in a fresh data directory,
# as a user would start it (default settings, built-in catalog seeded),
# with a bootstrap admin token and the outbound allowlist opened to
# 127.0.0.1 only. In the background it waits for /readyz and then, through
# the admin API:
#   - creates an openai_compatible provider "<slug>" at http://127.0.0.1:18000/v1
#     (the mock) and the model "<upstream>" under it, where MODEL=<slug>/<upstream>
#     (default mock/gpt-4o-mini);
#   - creates a second provider "<slug>-slow" at http://127.0.0.1:18002/v1 (the
#     mock that pauses between SSE chunks) serving the same upstream id, used
#     only by the chunk-forwarding check;
#   - creates a connection allowed those two models and writes its gateway
#     key to GW_KEY_FILE, which run.sh waits for before it sends anything
#     (on failure it writes GW_KEY_FILE.failed instead).
# The script then becomes the server process itself (exec), so run.sh's CPU
# and RSS readings of the gateway's pid are Switchyard's own.
#
# Env: SWITCHYARD_BIN (./bin/switchyard), GW_KEY_FILE (required), BENCH_OUT
# (run.sh's result dir; the data dir goes there), MODEL.
set -u
BIN=${SWITCHYARD_BIN:-./bin/switchyard}
: "${GW_KEY_FILE:?GW_KEY_FILE must name the file to write the gateway key to}"
MODEL=${MODEL:-mock/gpt-4o-mini}
SLUG=${MODEL%%/*}; UPSTREAM=${MODEL#*/}
if [ "$SLUG" = "$MODEL" ] || [ -z "$UPSTREAM" ]; then
  echo "switchyard.sh: MODEL must be <provider-slug>/<model>, e.g. mock/gpt-4o-mini" >&2; exit 2; fi
DATA=${BENCH_OUT:-$(mktemp -d /tmp/switchyard-bench.XXXXXX)}/switchyard-data
rm -rf "$DATA" && mkdir -p "$DATA"
rm -f "$GW_KEY_FILE"
ADDR=127.0.0.1:18080
TOKEN=syt_bench-admin-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

api() { # method path json -> response body on stdout; non-2xx is fatal
  local out code
  out=$(curl -s -m 10 -w '\n%{http_code}' -X "$1" "http://$ADDR/api/v1$2" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$3") || return 1
  code=${out##*$'\n'}; out=${out%$'\n'*}
  if [ "${code:0:1}" != 2 ]; then echo "switchyard.sh: $1 $2 -> $code $out" >&2; return 1; fi
  printf '%s' "$out"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

configure() {
  for _ in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$ADDR/readyz")" = 200 ] && break
    sleep 0.05
  done
  local p slow conn
  p=$(api POST /providers "{\"name\":\"Bench mock\",\"slug\":\"$SLUG\",\"protocol\":\"openai_compatible\",
    \"base_url\":\"http://127.0.0.1:18000/v1\",\"credentials\":[{\"name\":\"k\",\"method\":\"api_key\",\"secrets\":{\"api_key\":\"sk-mock\"}}]}" | field id) || return 1
  api POST "/providers/$p/models" "{\"upstream_id\":\"$UPSTREAM\"}" >/dev/null || return 1
  slow=$(api POST /providers "{\"name\":\"Bench mock, paced chunks\",\"slug\":\"$SLUG-slow\",\"protocol\":\"openai_compatible\",
    \"base_url\":\"http://127.0.0.1:18002/v1\",\"credentials\":[{\"name\":\"k\",\"method\":\"api_key\",\"secrets\":{\"api_key\":\"sk-mock\"}}]}" | field id) || return 1
  api POST "/providers/$slow/models" "{\"upstream_id\":\"$UPSTREAM\"}" >/dev/null || return 1
  # A connection names a provider, a provider type or the models it may use.
  conn=$(api POST /connections "{\"name\":\"bench\",\"models\":[\"$SLUG/$UPSTREAM\",\"$SLUG-slow/$UPSTREAM\"]}") || return 1
  printf '%s' "$conn" | field key >"$GW_KEY_FILE.tmp" && mv "$GW_KEY_FILE.tmp" "$GW_KEY_FILE"
  echo "switchyard.sh: configured provider $SLUG ($p), $SLUG-slow ($slow), model $UPSTREAM, connection key in $GW_KEY_FILE" >&2
}
rm -f "$GW_KEY_FILE.failed"
(configure || echo "configuration through the admin API failed" >"$GW_KEY_FILE.failed") &

export SWITCHYARD_DATA_DIR="$DATA" SWITCHYARD_ADDR="$ADDR" SWITCHYARD_ADMIN_TOKEN="$TOKEN" SWITCHYARD_OUTBOUND_ALLOW=127.0.0.1/32
exec "$BIN" serve
