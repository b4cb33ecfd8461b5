#!/usr/bin/env bash
# Whole-process speed of simulate and tune on a generated 1,000,000-request log of load steps (30 <-> 250 req/s every
# 10 minutes, four servers): wall time of `simulate` (fit + simulation, one pass) and of `tune` (144 settings of the
# threshold policy on both cores). Usage: HaproxyAutoscale.Benchmarks/simulate-speed.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-steps "$dir/steps.log" "$lines"
cat > "$dir/config.json" <<'JSON'
{ "haproxy": { "endpoints": ["/run/haproxy/admin.sock"] },
  "backends": { "app": { "policy": { "kind": "threshold", "thresholdMs": 100 },
    "servers": { "s1": { "alwaysUp": true }, "s2": {}, "s3": {}, "s4": {} } } } }
JSON
cli="dotnet HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll"
echo "log: $lines requests, $(du -h "$dir/steps.log" | cut -f1)"
for run in 1 2 3; do
  /usr/bin/time -f "simulate: %e s wall, %U s user, %M KB max RSS" $cli simulate "$dir/steps.log" --config "$dir/config.json" --slo 200ms >/dev/null 2>"$dir/err" || true
  tail -1 "$dir/err"
done
$cli simulate "$dir/steps.log" --config "$dir/config.json" --slo 200ms 2>/dev/null
/usr/bin/time -f "tune: %e s wall, %U s user, %M KB max RSS" $cli tune "$dir/steps.log" --config "$dir/config.json" --backend app --slo 200ms --budget 1% 2>"$dir/err" | head -3 || true
tail -1 "$dir/err"
