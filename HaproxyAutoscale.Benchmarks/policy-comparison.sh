#!/usr/bin/env bash
# The measurement behind the default policy (issue 13): every built-in policy with its defaults and with tune's
# recommendation, simulated on four generated load traces (step, spike, noisy, noisy diurnal; LoadTraces.cs, seed 1) and,
# when a fidelity log folder is given (simulator-fidelity.sh all DIR writes step.log and spike.log), on the real runs.
# Usage: HaproxyAutoscale.Benchmarks/policy-comparison.sh [FIDELITY_LOG_DIR]
# Writes HaproxyAutoscale.Benchmarks/results/policy-comparison-table.md (policy-comparison.md explains it).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
python3 HaproxyAutoscale.Benchmarks/policy-comparison.py HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll \
  HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll \
  HaproxyAutoscale.Benchmarks/results/policy-comparison-table.md ${1:+"$1"}
