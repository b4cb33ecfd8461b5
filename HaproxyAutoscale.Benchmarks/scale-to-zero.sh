#!/usr/bin/env bash
# Scale to zero: wake-to-first-byte over WAKES wakes (default 20) of a backend at zero, through a real local HAProxy
# holding the request with the shipped Lua script and the exec provider starting a python app with a cold start
# (default 1 s); median and p90, and the overhead beyond the up action's start + warm-up + enable. Loopback only,
# bounded (about 3 s a wake). Against HAProxy 3.0: HPA_HAPROXY=/path/to/haproxy-3.0/haproxy.
# Usage: HaproxyAutoscale.Benchmarks/scale-to-zero.sh [WAKES] [COLD_START_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll scale-to-zero "${1:-20}" "${2:-1}"
