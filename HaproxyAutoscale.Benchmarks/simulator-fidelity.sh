#!/usr/bin/env bash
# Simulator fidelity (issue 12, part 4): a step and a spike load (open-loop Poisson) through a real HAProxy to real
# capacity-limited apps with the autoscaler live; then the model is fitted from the log HAProxy wrote during the run
# and the simulator runs on that log with the same options. Prints live vs predicted server-seconds, p95, scale-ups.
# Usage: HaproxyAutoscale.Benchmarks/simulator-fidelity.sh [step|spike|all] [LOG_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
which=${1:-all}
logs=${2:-$(mktemp -d)}
mkdir -p "$logs"
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll fidelity "$which" "$logs"
echo "logs and per-second timelines (live vs predicted) in $logs" >&2
