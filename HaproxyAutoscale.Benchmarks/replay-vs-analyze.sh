#!/usr/bin/env bash
# Replay throughput: `haproxy-autoscale replay` (Release) over a generated 2,000,000-line log, against `analyze`
# on the same file. Prints each median wall time over RUNS runs, replay's lines/s and the ratio.
# Usage: HaproxyAutoscale.Benchmarks/replay-vs-analyze.sh [LINES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
runs=${2:-5}

dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
log=$(mktemp /tmp/hpa-replay-XXXXXX.log)
config=$(mktemp /tmp/hpa-replay-XXXXXX.json)
trap 'rm -f "$log" "$config"' EXIT
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-log "$log" "$lines"
cat > "$config" <<'JSON'
{ "backends": {
    "app1backend": { "servers": { "server1": { "alwaysUp": true }, "server2": {}, "server3": {}, "server4": {} },
                     "policy": { "kind": "threshold", "thresholdMs": 150 } },
    "app2backend": { "servers": { "server1": { "alwaysUp": true }, "server2": {}, "server3": {}, "server4": {} },
                     "window": { "kind": "time", "duration": "30s", "statistic": "p95" },
                     "policy": { "kind": "band", "upperMs": 300, "lowerMs": 100 } },
    "static.be":   { "servers": { "server1": { "alwaysUp": true }, "server2": {}, "server3": {}, "server4": {} },
                     "window": { "kind": "ewma", "halfLife": "10s" },
                     "policy": { "kind": "target", "targetMs": 100 } } } }
JSON
cat "$log" > /dev/null

source HaproxyAutoscale.Benchmarks/timing.sh

cli=HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll
{ read -r replay; read -r analyze; } < <(medians_ms \
  "dotnet $cli replay '$log' --config '$config' --json" \
  "dotnet $cli analyze '$log'")
echo "lines: $lines, cores: $(nproc), runs: $runs (interleaved)"
echo "replay:  ${replay} ms ($(( lines * 1000 / replay )) lines/s)"
echo "analyze: ${analyze} ms"
awk -v a="$replay" -v b="$analyze" 'BEGIN { printf "ratio (replay / analyze): %.2f (target <= 2)\n", a / b }'
