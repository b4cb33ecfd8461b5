#!/usr/bin/env bash
# One daemon, many backends (issue 22): for 10, 100, 1,000 and 10,000 backends of 8 servers each, a real HAProxy,
# the daemon (Release build, JIT) fed Zipf-spread httplog lines over its tcp@ source at RATE lines/s for SECONDS,
# then three steps of slow requests on idle backends. Prints CPU, RSS, lines read, the evaluation pass p50/p99 and
# the step-to-enabled median per size.
# Usage: HaproxyAutoscale.Benchmarks/scale-measurements.sh [RATE] [SECONDS] [SIZES...]
# With AOT=1 the daemon is the Native AOT binary (what the tool and Debian packages run on linux-x64), published here.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-100000}
seconds=${2:-20}
shift $(( $# > 2 ? 2 : $# ))
sizes=("${@:-10 100 1000 10000}")
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
daemon="$PWD/HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll"
if [ "${AOT:-}" = 1 ]; then
  aot=$(mktemp -d)
  trap 'rm -rf "$aot"' EXIT
  dotnet publish HaproxyAutoscale.Cli -c Release -r linux-x64 -o "$aot" -v quiet -nologo >/dev/null
  daemon="$aot/haproxy-autoscale"
fi
for b in ${sizes[@]}; do
  dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll scale "$daemon" "$b" "$rate" "$seconds"
done
