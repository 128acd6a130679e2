#!/usr/bin/env bash
# ./dev demo: a realistic stream of agent events through the pipeline, then
# the pattern report. Everything lives in .demo/ (removed at the start of each
# run). Until the Kafka consumer lands, the stream is fed through the same
# pipeline by `patternd ingest`.
set -euo pipefail
patternd=$1
root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/.demo
rm -rf "$demo"
mkdir -p "$demo"

cat > "$demo/patternd.yaml" <<YAML
storage:
  path: $demo/patternd.db
detection:
  rules: $root/config/patterns.yaml
YAML

echo "== A fleet of agents: 150,000 workflows and 150,000 extracted events (2% duplicates, 0.5% invalid)"
"$patternd" produce --kind workflows --count 150000 --seed 42 --duplicates 0.02 --invalid 0.005 \
  --output "$demo/workflows.jsonl"
"$patternd" produce --kind extractions --count 150000 --seed 43 --duplicates 0.02 --invalid 0.005 \
  --output "$demo/extractions.jsonl"

echo
echo "== Ingesting (decode -> detect -> store, one transaction per batch)"
"$patternd" ingest --config "$demo/patternd.yaml" --topic workflows "$demo/workflows.jsonl"
"$patternd" ingest --config "$demo/patternd.yaml" --topic extractions "$demo/extractions.jsonl"

echo
echo "== Ingesting the same files again: exactly once, nothing changes"
"$patternd" ingest --quiet --config "$demo/patternd.yaml" --topic workflows "$demo/workflows.jsonl"

echo
echo "== Pattern report"
"$patternd" report --config "$demo/patternd.yaml" --top 10

cat <<TXT

The database is $demo/patternd.db; try
  $patternd report --config $demo/patternd.yaml --format json
  sqlite3 $demo/patternd.db 'SELECT reason_class, reason FROM dead_letters LIMIT 5'
TXT
