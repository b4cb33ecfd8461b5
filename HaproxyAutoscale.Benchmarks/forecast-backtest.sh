#!/usr/bin/env bash
# The forecast's backtest (issue 23, item 3): a three-day generated log with a daily morning ramp (LoadTraces.cs,
# "threeday", seed 1: 3 requests/s at night, 10 from 7:00, 10 → 150 within the minute from 8:00, 150 until 9:00, 12 by
# 9:05 until 19:00), simulated with the default policy (concurrency) and the forecast on, then off. The servers are the
# policy comparison's: four apps of 50 requests/s each (2 workers, 30-50 ms), maxconn 32, a 2 s cold start paid by the
# warm-up, timeout queue 10 s; s1 always up. The forecast learns from the log's own earlier days (day 1 has no history,
# so both runs are the same there). Per day: seconds whose p95 is over the 200 ms SLO, and server-seconds.
# Usage: HaproxyAutoscale.Benchmarks/forecast-backtest.sh   (prints the markdown of results/forecast-backtest.md)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
cli=HaproxyAutoscale.Cli/bin/Release/net10.0/haproxy-autoscale.dll
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-trace threeday "$tmp/threeday.log" 1
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
model = {"backends": [{"backend": "app", "serviceTimeQuantilesMs": [30 + 0.2 * i for i in range(101)], "workers": 2,
                       "maxConn": 32, "coldStartMs": 2000, "idleToColdS": 300}]}
json.dump(model, open(f"{tmp}/model.json", "w"))
for mode in ("on", "off"):
    servers = {"s1": {"alwaysUp": True}}
    servers.update({f"s{i}": {"warmupUrl": f"http://127.0.0.1:808{i}/"} for i in (2, 3, 4)})
    config = {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "evaluationInterval": "1s",
              "backends": {"app": {"settleTime": "10s", "forecast": {"mode": mode}, "servers": servers}}}
    json.dump(config, open(f"{tmp}/forecast-{mode}.json", "w"))
PY
args=(--model "$tmp/model.json" --slo 200ms --queue-timeout 10s)
echo '```'
echo "\$ haproxy-autoscale simulate threeday.log --config forecast-on.json --model model.json --slo 200ms --queue-timeout 10s"
/usr/bin/time -f "(%e s wall, %M KB max RSS)" dotnet "$cli" simulate "$tmp/threeday.log" --config "$tmp/forecast-on.json" "${args[@]}" --timeline "$tmp/on.csv" 2>&1
echo '```'
dotnet "$cli" simulate "$tmp/threeday.log" --config "$tmp/forecast-off.json" "${args[@]}" --timeline "$tmp/off.csv" >/dev/null
python3 - "$tmp" <<'PY'
import csv, collections, sys
tmp = sys.argv[1]
rows = {}
for mode in ("on", "off"):
    over, cost, morning, first = collections.Counter(), collections.Counter(), collections.Counter(), {}
    for r in csv.DictReader(open(f"{tmp}/{mode}.csv")):
        day, hhmm = r["time"][:10], r["time"][11:16]
        cost[day] += int(r["active"])
        if r["p95Ms"] and float(r["p95Ms"]) > 200:
            over[day] += 1
            if "07:00" <= hhmm < "10:00":
                morning[day] += 1
        if int(r["active"]) >= 4 and day not in first:
            first[day] = hhmm
    rows[mode] = (over, cost, morning, first)
print()
print("| day | forecast | seconds over SLO (07:00-10:00) | seconds over SLO (day) | server-seconds | four servers up from |")
print("|---|---|---|---|---|---|")
for day in sorted(rows["on"][1]):
    for mode in ("off", "on"):
        over, cost, morning, first = rows[mode]
        print(f"| {day} | {mode} | {morning[day]} | {over[day]} | {cost[day]} | {first.get(day, '-')} |")
on, off = rows["on"], rows["off"]
days = sorted(on[1])[1:]
extra = sum(on[1][d] - off[1][d] for d in days)
print()
print(f"Days 2-3 (the forecast has history): seconds over the SLO {sum(off[0][d] for d in days)} without the forecast, "
      f"{sum(on[0][d] for d in days)} with it; {extra:+d} server-seconds "
      f"({extra / sum(off[1][d] for d in days):+.1%} of the forecast-off cost of those days).")
PY
