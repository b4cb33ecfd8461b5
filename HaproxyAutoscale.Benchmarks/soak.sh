#!/usr/bin/env bash
# The soak (issue 22): the daemon (`haproxy-autoscale run`, Release build, run with `dotnet`) for MINUTES under
# 20,000 synthetic httplog lines/s plus a real HTTP load through two HAProxy instances, with HAProxy reloads every
# 60 s, the admin sockets unreachable 20 s every 5 min, a SIGHUP reload every 3 min and a provider whose start
# fails one time in five. tcp: the logs reach the daemon's one tcp@ source through the HAProxy rings; file: the
# daemon follows a file logrotate rotates every 60 s (rename+create and copytruncate in turn).
# Writes OUTDIR/samples.csv, summary.txt, soak.svg and daemon.log (the daemon's own log, not committed).
# Usage: HaproxyAutoscale.Benchmarks/soak.sh MINUTES OUTDIR [tcp|file] [dotnet|aot]
# dotnet (default): the framework-dependent build run with `dotnet` (JIT); aot: the Native AOT binary, what the tool
# package runs on linux-x64 (published here with `dotnet publish -r linux-x64`).
# In the background: `setsid HaproxyAutoscale.Benchmarks/soak.sh 60 OUT tcp > OUT.log 2>&1 &` (nohup works too: the rig
# starts the daemon through `env --default-signal=HUP`, as nohup's ignored SIGHUP would be inherited and ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?minutes}; out=${2:?output directory}; mode=${3:-tcp}; daemon=${4:-dotnet}
command -v logrotate >/dev/null || [ "$mode" = tcp ] || { echo "logrotate is missing: apt-get install -y logrotate" >&2; exit 1; }
if [ -z "${SOAK_NO_BUILD:-}" ]; then
  dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null
  dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
fi
mkdir -p "$out"
# Run from a copy: a rebuild during the hour must not replace the files under the running daemon and rig.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cp -r HaproxyAutoscale.Benchmarks/bin/Release/net10.0 "$bin/bench"
cp -r HaproxyAutoscale.Cli/bin/Release/net10.0 "$bin/cli"
cli="$bin/cli/haproxy-autoscale.dll"
if [ "$daemon" = aot ]; then
  dotnet publish HaproxyAutoscale.Cli -c Release -r linux-x64 -o "$bin/aot" -v quiet -nologo >/dev/null
  cli="$bin/aot/haproxy-autoscale"
fi
dotnet "$bin/bench/HaproxyAutoscale.Benchmarks.dll" soak "$cli" "$minutes" "$out" "$mode"
