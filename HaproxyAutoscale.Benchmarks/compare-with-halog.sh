#!/usr/bin/env bash
# Whole-process comparison: `haproxy-autoscale analyze` (Release build) against `halog -srv` on the same
# generated 2,000,000-line httplog file. Prints each tool's median wall time over RUNS runs and the ratio.
# Usage: HaproxyAutoscale.Benchmarks/compare-with-halog.sh [LINES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
runs=${2:-5}
command -v halog >/dev/null || { echo "halog is missing: apt-get install -y haproxy" >&2; exit 1; }

dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
log=$(mktemp /tmp/hpa-compare-XXXXXX.log)
trap 'rm -f "$log"' EXIT
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-log "$log" "$lines"
cat "$log" > /dev/null # both tools read from the page cache

source HaproxyAutoscale.Benchmarks/timing.sh

ours=$(median_ms dotnet HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll analyze "$log")
theirs=$(median_ms sh -c "halog -srv < '$log'")
echo "lines: $lines ($(du -m "$log" | cut -f1) MB), cores: $(nproc), runs: $runs"
echo "haproxy-autoscale analyze: ${ours} ms"
echo "halog -srv:                ${theirs} ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio (analyze / halog): %.2f\n", a / b }'
