#!/usr/bin/env bash
# Runs real Prometheus against the embedded demo daemon with the generated rules
# and reports every alert that is pending or firing (expected: none) and every
# rule that failed to evaluate. Not part of `pnpm test` (it takes minutes); run it
# after `pnpm build`:  bash scripts/live-alerts-check.sh [MINUTES]   (default 8)
# The demo runs on a 1-minute interval, so the rules are generated for a
# 1-minute schedule. Everything lives in a temp dir and on loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-8}
CLI=apps/reference-scheduler/dist/cli.js
[ -f "$CLI" ] || { echo "live-alerts-check: run pnpm build first" >&2; exit 2; }
command -v prometheus >/dev/null || { echo "live-alerts-check: prometheus not installed (apt-get install prometheus)" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DAEMON_PORT=$(free_port)
PROM_PORT=$(free_port)

node "$CLI" start --state-dir "$WORK/state" --host 127.0.0.1 --port "$DAEMON_PORT" --interval-seconds 60 >"$WORK/daemon.log" 2>&1 &
PIDS+=($!)

# The rules depend only on the schedule, the thresholds and the job name.
cat >"$WORK/rules-config.yaml" <<YAML
scheduleMinutes: 1
tables:
  - { source: k2.bronze_trades_binance, target: cold.bronze_trades_binance, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }
YAML
node "$CLI" rules --config "$WORK/rules-config.yaml" >"$WORK/rules.yml"
cat >"$WORK/prometheus.yml" <<YAML
global: { scrape_interval: 5s, evaluation_interval: 5s }
rule_files: [rules.yml]
scrape_configs:
  - job_name: iceberg-scheduler
    static_configs: [{ targets: ["127.0.0.1:$DAEMON_PORT"] }]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

API="http://127.0.0.1:$PROM_PORT/api/v1"
# Warm-up: until Prometheus has scraped the daemon once, SchedulerDown is rightly pending.
for ((i = 0; i < 120; i++)); do
  up=$(curl -sf --max-time 5 "$API/query" --data-urlencode 'query=up{job="iceberg-scheduler"}' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true)
  [ "$up" = "1" ] && break
  sleep 2
done
[ "$up" = "1" ] || { echo "live-alerts-check: Prometheus never scraped the daemon"; tail -5 "$WORK/daemon.log"; exit 1; }
sleep 10
echo "live-alerts-check: daemon :$DAEMON_PORT scraped by prometheus :$PROM_PORT; watching alerts for $MINUTES minutes"
bad=0
for ((i = 1; i <= MINUTES * 4; i++)); do
  sleep 15
  alerts=$(curl -sf --max-time 10 "$API/alerts" | python3 -c 'import json,sys; print(" ".join(sorted("%s(%s,%s)" % (a["labels"]["alertname"], a["labels"].get("table","-"), a["state"]) for a in json.load(sys.stdin)["data"]["alerts"])))' || echo "prometheus-unreachable")
  [ -n "$alerts" ] && { echo "  $(date -u +%T) alerts: $alerts"; bad=1; }
done
rules=$(curl -sf --max-time 10 "$API/rules" | python3 -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
broken = [r["name"] + ": " + r.get("lastError", "") for r in rules if r["health"] != "ok"]
print(f"{len(rules)} rules evaluated, {len(broken)} unhealthy" + "".join("\n  " + b for b in broken))')
echo "live-alerts-check: $rules"
series=$(curl -sf --max-time 10 "$API/query" --data-urlencode 'query=offload_last_batch_rows' | python3 -c 'import json,sys; print(", ".join("%s=%s" % (r["metric"]["table"], r["value"][1]) for r in json.load(sys.stdin)["data"]["result"]) or "none yet")')
cycles=$(curl -sf --max-time 10 "$API/query" --data-urlencode 'query=sum by (status) (offload_cycles_total)' | python3 -c 'import json,sys; print(", ".join("%s=%s" % (r["metric"]["status"], r["value"][1]) for r in json.load(sys.stdin)["data"]["result"]))')
echo "live-alerts-check: cycles $cycles; last batch rows: $series"
case "$rules" in *", 0 unhealthy"*) ;; *) bad=1 ;; esac
if [ "$bad" -ne 0 ]; then echo "live-alerts-check: FAILED (daemon log: last lines below)"; tail -5 "$WORK/daemon.log"; exit 1; fi
echo "live-alerts-check: OK, no alert pending or firing on the healthy demo"
