#!/usr/bin/env bash
# Whole-daemon measurements against a real local HAProxy: reaction time (slow log datagram -> enable command),
# then `haproxy-autoscale run` (Release) CPU, RSS and drops at 1,000 and 50,000 log lines/s over UDP, then the
# TCP source at full speed (2,000,000 lines over 1 and 8 connections: lines per CPU-second, lost lines).
# With OLD=path/to/an/older/haproxy-autoscale.dll the UDP loads run for both builds, interleaved (side by side).
# Usage: [OLD=…/haproxy-autoscale.dll] HaproxyAutoscale.Benchmarks/daemon-measurements.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
bench="dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll"
cli="$PWD/HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll"
$bench reaction 30
for rate in 1000 50000; do
  if [ -n "${OLD:-}" ]; then echo -n "old: "; $bench daemon-load "$OLD" "$rate" "$seconds"; echo -n "new: "; fi
  $bench daemon-load "$cli" "$rate" "$seconds"
done
$bench daemon-load-tcp "$cli" 2000000 1
$bench daemon-load-tcp "$cli" 2000000 8
