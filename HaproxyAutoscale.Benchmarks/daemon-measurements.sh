#!/usr/bin/env bash
# Whole-daemon measurements against a real local HAProxy: reaction time (slow log datagram -> enable command),
# then `haproxy-autoscale run` (Release) CPU, RSS and drops at 1,000 and 50,000 log lines/s over UDP.
# Usage: HaproxyAutoscale.Benchmarks/daemon-measurements.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
bench="dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll"
cli="$PWD/HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll"
$bench reaction 30
$bench daemon-load "$cli" 1000 "$seconds"
$bench daemon-load "$cli" 50000 "$seconds"
