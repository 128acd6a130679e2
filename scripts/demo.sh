#!/usr/bin/env bash
# ./dev demo: a local broker, a realistic stream of agent events, the worker
# draining it until caught up, then the pattern report. Everything lives in
# .demo/ (recreated at each run); the broker and worker are stopped on exit.
set -euo pipefail
patternd=$1
root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/.demo
rm -rf "$demo"
mkdir -p "$demo"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

count=300000

echo "== Starting a local Kafka-protocol broker (librdkafka mock cluster)"
"$patternd" dev-broker --partitions 32 > "$demo/broker.out" 2> "$demo/broker.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$demo/broker.out" ] && break; sleep 0.1; done
brokers=$(head -n 1 "$demo/broker.out")
echo "   bootstrap: $brokers"

cat > "$demo/patternd.yaml" <<YAML
kafka:
  brokers: $brokers
  group_id: patternd-demo
storage:
  path: $demo/patternd.db
metrics:
  listen: 127.0.0.1:0
api:
  listen: 127.0.0.1:0
detection:
  rules: $root/config/patterns.yaml
YAML

echo
echo "== A fleet of agents publishes $count workflows and events (2% duplicates, 0.5% invalid)"
"$patternd" produce --brokers "$brokers" --config "$demo/patternd.yaml" --kind mixed \
  --count "$count" --seed 42 --duplicates 0.02 --invalid 0.005

echo
echo "== The worker drains the backlog (decode -> detect -> one SQLite transaction per batch)"
"$patternd" run --config "$demo/patternd.yaml" 2> "$demo/worker.log" &
worker=$!
pids+=($worker)
started=$(date +%s%N)
covered=0
for tick in $(seq 1 600); do
  sleep 0.2
  covered=$(sqlite3 "$demo/patternd.db" "SELECT coalesce(sum(next_offset),0) FROM kafka_offsets" 2>/dev/null || echo 0)
  if [ -t 1 ]; then
    printf '\r   %s of %s messages persisted' "$covered" "$count"
  elif [ $((tick % 5)) = 0 ] || [ "$covered" -ge "$count" ]; then
    echo "   $covered of $count messages persisted"
  fi
  [ "$covered" -ge "$count" ] && break
done
[ -t 1 ] && echo
if [ "$covered" -lt "$count" ]; then
  echo "demo: the worker did not catch up in 2 minutes; see $demo/worker.log" >&2
  exit 1
fi
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "   caught up in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s (including the consumer group join)"
metrics_url=$(grep -o 'http://[^ ]*/metrics' "$demo/worker.log" | head -n 1)
sleep 1.5  # gauges refresh once a second
echo
echo "== Metrics and health, served by the worker at $metrics_url"
if command -v curl > /dev/null; then
  base=${metrics_url%/metrics}
  echo "   GET /readyz -> $(curl -s "$base/readyz")"
  curl -s "$metrics_url" | grep -E '^patternd_(messages_[a-z_]+_total|queue_depth_messages|patterns|ready)[{ ]' \
    | sed 's/^/   /'
fi
kill -TERM "$worker"
wait "$worker"
echo "   worker stopped cleanly"
tail -n 1 "$demo/worker.log" | sed 's/^/   /'

echo
echo "== Pattern report"
"$patternd" report --config "$demo/patternd.yaml" --top 10

echo
echo "== An agent hits an error and asks the memory: seen before? (the read API's /v1/failures/lookup)"
"$patternd" query --config "$demo/patternd.yaml" failures --lookup "KeyError: 'session_token'"

echo
echo "== A finished session played back (patternd replay; GET /v1/sessions/{id}/replay streams the same)"
session=$("$patternd" query --config "$demo/patternd.yaml" sessions --active false --limit 1000 \
  --format json | grep -o '"session_id":"[^"]*"[^}]*"state":"completed"' | head -n 1 |
  cut -d'"' -f4 || true)
if [ -n "$session" ]; then
  "$patternd" replay --config "$demo/patternd.yaml" --session "$session" --speed 0 \
    --types lifecycle,error > "$demo/replay.ndjson"
  echo "   $session: $(wc -l < "$demo/replay.ndjson") entries (its state changes and errors, then the end); the first five:"
  head -n 5 "$demo/replay.ndjson" | cut -c1-160 | sed 's/^/   /'
fi

echo
echo "== The same question from inside an agent's loop: patternd mcp (Model Context Protocol on stdio)"
printf '%s\n' \
  '{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "demo", "version": "1"}}}' \
  '{"jsonrpc": "2.0", "method": "notifications/initialized"}' \
  '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "best_fixes", "arguments": {"error": "KeyError: '"'"'session_token'"'"'", "limit": 2}}}' |
  "$patternd" mcp --config "$demo/patternd.yaml" 2> "$demo/mcp.log" | tail -n 1 | cut -c1-400 | sed 's/^/   /'
echo "   (tools: lookup_error, best_fixes, top_patterns, session_history, search_prompts, agent_stats)"

cat <<TXT

The database is $demo/patternd.db; worker log: $demo/worker.log. Try
  $patternd report --config $demo/patternd.yaml --format json
  $patternd query --config $demo/patternd.yaml extractions --type error --limit 5
  $patternd replay --config $demo/patternd.yaml --session SESSION --speed 10
  $patternd serve --config $demo/patternd.yaml    # logs the page's address: open it in a browser
  sqlite3 $demo/patternd.db 'SELECT reason_class, reason FROM dead_letters LIMIT 5'
With the worker running, /metrics, /healthz and /readyz are on metrics.listen
(127.0.0.1:9464 by default); dashboards/ holds the Grafana dashboard and the
Prometheus alert rules.
TXT
