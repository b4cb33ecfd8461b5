#!/usr/bin/env bash
# SIGHUP reloads at 10,000 backends (session 36): the scale rig (scale DAEMON 10000 RATE 70 10) with the daemon's GC
# trace every 5 s; 35 s after the daemon starts and 20 s later, be09999's drainTimeout is changed in its config and
# the daemon gets SIGHUP. Prints the RSS before each SIGHUP, the GC trace, the reloads' log lines and the rig's summary.
# Usage: HaproxyAutoscale.Benchmarks/scale-reload.sh OUTPREFIX DAEMON  (DAEMON: the Native AOT binary or the CLI .dll;
# build HaproxyAutoscale.Benchmarks in Release first)
set -euo pipefail
out=$(realpath -m "$1"); daemon=$2
cd "$(dirname "$0")/.."
export HAPROXY_AUTOSCALE_GC_TRACE=5
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll scale "$daemon" 10000 "${RATE:-100000}" 70 10 > "$out.log" 2>&1 &
rig=$!
pid=""
for _ in $(seq 600); do pid=$(pgrep -f "haproxy-autoscale.* run --config" | head -1 || true); [ -n "$pid" ] && break; sleep 0.2; done
cfg=$(tr '\0' '\n' < "/proc/$pid/cmdline" | grep -A1 -- '--config' | tail -1)
sleep 35
for timeout in 20s 30s; do
  python3 - "$cfg" "$timeout" <<'PY'
import json, sys
path = sys.argv[1]; config = json.load(open(path))
config["backends"]["be09999"]["scaleDown"] = {"drainTimeout": sys.argv[2]}
json.dump(config, open(path, "w"))
PY
  echo "SIGHUP at $(date +%T.%N), $(grep VmRSS "/proc/$pid/status")"
  kill -HUP "$pid"
  sleep 20
done
wait $rig
grep -E "gc-trace|Reload applied" "$out.log" | cut -c1-400
tail -1 "$out.log"
