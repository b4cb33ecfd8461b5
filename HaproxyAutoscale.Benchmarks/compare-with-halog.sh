#!/usr/bin/env bash
# Whole-process comparison: `haproxy-autoscale analyze` (Release) against `halog -srv` on the same generated
# 2,000,000-line httplog file, both as the Native AOT single-file binary and as the framework-dependent build the
# dotnet tool runs. Prints each median wall time over RUNS interleaved runs and the ratios.
# Usage: HaproxyAutoscale.Benchmarks/compare-with-halog.sh [LINES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
runs=${2:-11}
command -v halog >/dev/null || { echo "halog is missing: apt-get install -y haproxy" >&2; exit 1; }

out=$(mktemp -d /tmp/hpa-compare-XXXXXX)
trap 'rm -rf "$out"' EXIT
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet publish HaproxyAutoscale.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
log="$out/access.log"
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-log "$log" "$lines"
cat "$log" > /dev/null # every run reads from the page cache

source HaproxyAutoscale.Benchmarks/timing.sh

{ read -r aot; read -r jit; read -r halog; } < <(medians_ms \
  "$out/aot/haproxy-autoscale analyze '$log'" \
  "dotnet HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll analyze '$log'" \
  "halog -srv < '$log'")
echo "lines: $lines ($(du -m "$log" | cut -f1) MB), cores: $(nproc), runs: $runs (interleaved)"
echo "haproxy-autoscale analyze, Native AOT:    ${aot} ms"
echo "haproxy-autoscale analyze, dotnet (JIT):  ${jit} ms"
echo "halog -srv:                               ${halog} ms"
awk -v a="$aot" -v j="$jit" -v h="$halog" 'BEGIN { printf "ratio (analyze / halog): %.2f Native AOT, %.2f JIT\n", a / h, j / h }'
