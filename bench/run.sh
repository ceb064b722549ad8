#!/bin/bash
# Side-by-side gateway overhead run: direct-to-mock vs bare httputil.ReverseProxy vs the gateway under test.
# Start it ONLY as:   unshare -n bash run.sh <phase-name>
# (a fresh network namespace with nothing but loopback: the gateway cannot reach anything off-box).
# Env:
#   GW_CMD   command that starts the gateway under test (it must route MODEL to http://127.0.0.1:18000)
#   GW_URL   its base URL (default http://127.0.0.1:18080)    GW_KEY  client key it expects (default sk-client)
#   GW_KEY_FILE  when set, wait for GW_CMD to write the key there and use it (for gateways that issue keys)
#   MODEL    model field sent to all three targets (default openai/gpt-4o-mini; the mock ignores it)
#   MOCK_LATENCY (0s) ROUNDS (5) SERIAL_N (1000) WARMUP (200) STREAM (1) WRK_C (64) WRK_D (10s) RATES ("500 2000") OUT (results)
#   WRK_ROUNDS (3) RATE_ROUNDS (3) RATE_D (10s): rounds of the wrk and fixed-rate steps, and the length of each fixed-rate run
#   PIN=1    pin gateway+rproxy to CPU 1 and mock+load generators to CPU 0
#   CHUNK_DELAY (20ms)  pause between SSE chunks of the second mock (:18002) used by the chunk-forwarding check;
#            the gateway must route <slug>-slow/<model> there (bench/switchyard.sh does); CHUNKCHECK=0 skips it
set -u
ip link set lo up
cd "$(dirname "$0")"
PHASE=${1:-p0}
OUT=${OUT:-results}/$PHASE; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); export BENCH_OUT=$OUT
: >"$OUT/results.jsonl"; rm -f "$OUT/wrkcpu.jsonl" "$OUT/chunks.jsonl" "$OUT"/wrk-*.txt
MOCK_LATENCY=${MOCK_LATENCY:-0s}; ROUNDS=${ROUNDS:-5}; SERIAL_N=${SERIAL_N:-1000}; WARMUP=${WARMUP:-200}; STREAM=${STREAM:-1}
WRK_C=${WRK_C:-64}; WRK_D=${WRK_D:-10s}; RATES=${RATES:-"500 2000"}
WRK_ROUNDS=${WRK_ROUNDS:-3}; RATE_ROUNDS=${RATE_ROUNDS:-3}; RATE_D=${RATE_D:-10s}
export MODEL=${MODEL:-openai/gpt-4o-mini}
GW_URL=${GW_URL:-http://127.0.0.1:18080}; GW_KEY=${GW_KEY:-sk-client}
if [ "${PIN:-0}" = 1 ]; then C0="taskset -c 0"; C1="taskset -c 1"; else C0=""; C1=""; fi
$C0 ./bin/mock -addr 127.0.0.1:18000 -latency "$MOCK_LATENCY" >"$OUT/mock.log" 2>&1 & MOCK=$!
$C1 ./bin/rproxy -addr 127.0.0.1:18001 >"$OUT/rproxy.log" 2>&1 & RP=$!
CHUNK_DELAY=${CHUNK_DELAY:-20ms}; CHUNKCHECK=${CHUNKCHECK:-1}
$C0 ./bin/mock -addr 127.0.0.1:18002 -chunk-delay "$CHUNK_DELAY" >"$OUT/mock-slow.log" 2>&1 & MOCK2=$!
$C1 ./bin/rproxy -addr 127.0.0.1:18003 -upstream http://127.0.0.1:18002 >"$OUT/rproxy-slow.log" 2>&1 & RP2=$!
$C1 bash -c "exec $GW_CMD" >"$OUT/gw.log" 2>&1 & GW=$!
trap 'kill $GW $RP $MOCK $RP2 $MOCK2 2>/dev/null; wait 2>/dev/null' EXIT
{ echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc=$(nproc)"
  echo "kernel: $(uname -r)"; echo "go: $(go version 2>/dev/null)"; echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "settings: MODEL=$MODEL ROUNDS=$ROUNDS SERIAL_N=$SERIAL_N WARMUP=$WARMUP WRK_C=$WRK_C WRK_D=$WRK_D RATES=$RATES WRK_ROUNDS=$WRK_ROUNDS RATE_ROUNDS=$RATE_ROUNDS RATE_D=$RATE_D PIN=${PIN:-0} MOCK_LATENCY=$MOCK_LATENCY"
  echo "gw_cmd: $GW_CMD"; } >"$OUT/machine.txt"
if [ -n "${GW_KEY_FILE:-}" ]; then
  for i in $(seq 1 600); do [ -s "$GW_KEY_FILE" ] && break; [ -e "$GW_KEY_FILE.failed" ] && break; kill -0 $GW 2>/dev/null || break; sleep 0.1; done
  [ -s "$GW_KEY_FILE" ] || { echo "the gateway wrote no key to $GW_KEY_FILE; its log:"; tail -20 "$OUT/gw.log"; exit 1; }
  GW_KEY=$(cat "$GW_KEY_FILE")
fi
ok=0
for i in $(seq 1 120); do
  curl -s -o /dev/null -m 2 -w '%{http_code}' "$GW_URL/v1/chat/completions" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $GW_KEY" -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" | grep -q 200 && { ok=1; break; }
  sleep 0.5; done
[ $ok = 1 ] || { echo "the gateway never answered 200 for $MODEL; its log:"; tail -20 "$OUT/gw.log"; exit 1; }
declare -A URL=([direct]=http://127.0.0.1:18000 [rproxy]=http://127.0.0.1:18001 [gateway]=$GW_URL)
declare -A KEY=([direct]=sk-client [rproxy]=sk-client [gateway]=$GW_KEY)
declare -A PID=([direct]=$MOCK [rproxy]=$RP [gateway]=$GW)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }   # utime+stime, clock ticks (1/100 s)
rss() { awk -v k=$2 '$1==k":"{print $2}' /proc/$1/status; }
echo "rss_start_kb rproxy=$(rss $RP VmRSS) gateway=$(rss $GW VmRSS)" | tee "$OUT/mem.txt"
lg() { $C0 ./bin/loadgen -url ${URL[$1]}/v1/chat/completions -key ${KEY[$1]} -model "$MODEL" -label "$1" -json "${@:3}" | sed "s/^{/{\"test\":\"$2\",/"; }
# 1) serial latency (c=1), interleaved rounds: added latency = target - direct within each round
for r in $(seq 1 $ROUNDS); do for t in direct rproxy gateway; do
  lg $t serial -c 1 -n $SERIAL_N -warmup $WARMUP | sed "s/^{/{\"round\":$r,/" >>"$OUT/results.jsonl"; done; done
# 2) serial streaming (10 SSE chunks): time to first byte + total
if [ "$STREAM" = 1 ]; then for r in $(seq 1 $ROUNDS); do for t in direct rproxy gateway; do
  lg $t stream -stream -c 1 -n $((SERIAL_N/2)) -warmup $((WARMUP/2)) | sed "s/^{/{\"round\":$r,/" >>"$OUT/results.jsonl"; done; done; fi
# 2b) chunk forwarding: against a mock pausing CHUNK_DELAY between its 10 SSE chunks, count the events that
#     arrive on their own (at least half the pause after the previous one): 9 per stream when nothing coalesces
if [ "$CHUNKCHECK" = 1 ]; then
  gap=$(( ${CHUNK_DELAY%ms} / 2 ))ms
  $C0 ./bin/loadgen -chunkcheck -n 20 -gap $gap -url http://127.0.0.1:18002/v1/chat/completions -model "$MODEL" -label direct >>"$OUT/chunks.jsonl"
  $C0 ./bin/loadgen -chunkcheck -n 20 -gap $gap -url http://127.0.0.1:18003/v1/chat/completions -model "$MODEL" -label rproxy >>"$OUT/chunks.jsonl"
  $C0 ./bin/loadgen -chunkcheck -n 20 -gap $gap -url $GW_URL/v1/chat/completions -key "$GW_KEY" -model "${MODEL%%/*}-slow/${MODEL#*/}" -label gateway >>"$OUT/chunks.jsonl"
fi
# 3) closed-loop max throughput (wrk, WRK_C connections); CPU time of the process under test per request
for r in $(seq 1 $WRK_ROUNDS); do for t in direct rproxy gateway; do
  c0=$(cpu ${PID[$t]})
  KEY=${KEY[$t]} $C0 wrk -t2 -c$WRK_C -d$WRK_D --latency -s post.lua ${URL[$t]}/v1/chat/completions >"$OUT/wrk-$t-$r.txt" 2>&1
  echo "{\"round\":$r,\"label\":\"$t\",\"cpu_ticks\":$(( $(cpu ${PID[$t]}) - c0 ))}" >>"$OUT/wrkcpu.jsonl"; sleep 1
done; done
# 4) open-loop fixed rates (latency counted from the intended send time)
for rate in $RATES; do for r in $(seq 1 $RATE_ROUNDS); do for t in direct rproxy gateway; do
  lg $t rate$rate -rate $rate -d $RATE_D -warmup $WARMUP -c 8 | sed "s/^{/{\"round\":$r,/" >>"$OUT/results.jsonl"; done; done; done
echo "rss_peak_kb rproxy=$(rss $RP VmHWM) gateway=$(rss $GW VmHWM) | rss_end_kb rproxy=$(rss $RP VmRSS) gateway=$(rss $GW VmRSS)" | tee -a "$OUT/mem.txt"
