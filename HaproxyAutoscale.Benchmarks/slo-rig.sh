#!/usr/bin/env bash
# Issue 23's rig (four apps of 2 workers x 30-50 ms, 2 s cold start, maxconn 32, timeout queue 10 s, SLO p95 200 ms,
# open-loop Poisson, 150 s traces): each policy live through a real HAProxy, then simulated on the run's own log
# (fitted model, as simulate does, and the apps' known model). Prints seconds over SLO and server-seconds, live vs
# simulated; per-second timelines and both decision timelines are written next to the logs.
# Usage: HaproxyAutoscale.Benchmarks/slo-rig.sh [step|spike|step,spike] [threshold|target|concurrency|concurrency-in-flight|all|a,b] [LOG_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
traces=${1:-step}
policies=${2:-threshold}
logs=${3:-$(mktemp -d)}
mkdir -p "$logs"
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll slo-rig "$traces" "$policies" "$logs"
echo "logs, timelines and decisions in $logs" >&2
