#!/usr/bin/env bash
# `analyze` against `halog -srv` and against the previous analyze, side by side in one run, on one generated
# 2,000,000-line httplog file in the page cache: wall, user and system time of every run from /usr/bin/time, the
# five commands interleaved round by round (halog, old AOT, new AOT, old JIT, new JIT) so that a slow spell of a
# shared machine hits all of them alike; prints median and range per command and the ratios to halog's medians.
# Then hyperfine (when installed) on the same commands as a cross-check of the wall times.
#
# Usage: [LOG=mixed] HaproxyAutoscale.Benchmarks/analyze-vs-halog.sh [OLD_REF] [LINES] [ROUNDS]
#   OLD_REF: the git revision of the "old" analyze (default ingest); OLD_AOT_DIR / OLD_JIT_DIR reuse old builds,
#   NEW_AOT_DIR / NEW_JIT_DIR reuse builds of this tree (dotnet publish HaproxyAutoscale.Cli -c Release -r linux-x64).
#   LOG=mixed: the log operators have (30 % captured headers, 1 % lines outside the common shape, two processes)
#   instead of the default generator's (captures on every line). LOG_FILE: an existing log instead of a generated one.
#   AOT_ONLY=1: only halog and the two Native AOT builds (the JIT builds take a third of the time on a busy machine).
# The load average is printed before and after the rounds: on a shared machine, compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
old_ref=${1:-ingest}
lines=${2:-2000000}
rounds=${3:-7}
command -v halog >/dev/null || { echo "halog is missing: apt-get install -y haproxy" >&2; exit 1; }

out=$(mktemp -d /tmp/hpa-analyze-XXXXXX)
trap 'rm -rf "$out"' EXIT
build() { # build SRC_DIR JIT_OUT AOT_OUT
  (cd "$1" && dotnet build HaproxyAutoscale.Cli -c Release -v quiet -nologo >/dev/null \
    && cp -r HaproxyAutoscale.Cli/bin/Release/net10.0 "$2" \
    && dotnet publish HaproxyAutoscale.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$3" -v quiet -nologo >/dev/null)
}
new_jit=${NEW_JIT_DIR:-$out/new-jit}
new_aot=${NEW_AOT_DIR:-$out/new-aot}
if [[ -z ${NEW_JIT_DIR:-} || -z ${NEW_AOT_DIR:-} ]]; then
  build . "$new_jit" "$new_aot"
fi
old_jit=${OLD_JIT_DIR:-$out/old-jit}
old_aot=${OLD_AOT_DIR:-$out/old-aot}
if [[ -z ${OLD_JIT_DIR:-} || -z ${OLD_AOT_DIR:-} ]]; then
  mkdir "$out/old-src"
  git archive "$old_ref" | tar -x -C "$out/old-src"
  build "$out/old-src" "$old_jit" "$old_aot"
fi

log=${LOG_FILE:-$out/access.log}
if [[ -z ${LOG_FILE:-} ]]; then
  dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
  dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-log "$log" "$lines" ${LOG:-}
fi
cat "$log" > /dev/null
lines=$(wc -l < "$log")

names=(halog old-aot new-aot old-jit new-jit)
cmds=(
  "halog -srv < '$log'"
  "$old_aot/haproxy-autoscale analyze '$log'"
  "$new_aot/haproxy-autoscale analyze '$log'"
  "dotnet $old_jit/haproxy-autoscale.dll analyze '$log'"
  "dotnet $new_jit/haproxy-autoscale.dll analyze '$log'"
)
if [[ -n ${AOT_ONLY:-} ]]; then
  names=("${names[@]:0:3}")
  cmds=("${cmds[@]:0:3}")
fi

# The old and new analyze must print the same table (and the same JSON).
cmp <(sh -c "${cmds[1]}") <(sh -c "${cmds[2]}") && cmp <(sh -c "${cmds[1]} --json") <(sh -c "${cmds[2]} --json") \
  && { [[ -n ${AOT_ONLY:-} ]] || cmp <(sh -c "${cmds[3]}") <(sh -c "${cmds[4]}"); } \
  || { echo "old and new analyze print different results" >&2; exit 1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for round in $(seq "$rounds"); do
  for i in "${!cmds[@]}"; do
    /usr/bin/time -o "$out/t" -f "%e %U %S" sh -c "${cmds[$i]}" > /dev/null 2>&1
    echo "${names[$i]} $(cat "$out/t")" >> "$out/times"
  done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "lines: $lines ($(du -m "$log" | cut -f1) MB), cores: $(nproc), rounds: $rounds (interleaved), old: $old_ref"
echo "wall and CPU (user+sys) in seconds: median [min-max]"
awk -v rounds="$rounds" '
  { wall[$1, ++n[$1]] = $2; cpu[$1, n[$1]] = $3 + $4 }
  function median(a, k,   v, i, j, t) { for (i = 1; i <= rounds; i++) v[i] = a[k, i]
    for (i = 1; i <= rounds; i++) for (j = i + 1; j <= rounds; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    lo = v[1]; hi = v[rounds]; return v[int((rounds + 1) / 2)] }
  END {
    split("halog old-aot new-aot old-jit new-jit", order, " ")
    for (o = 1; o <= 5; o++) { k = order[o]; if (!(k in n)) continue
      w = median(wall, k); wl = lo; wh = hi; c = median(cpu, k); cl = lo; ch = hi
      if (k == "halog") { hw = w; hc = c }
      printf "%-8s wall %.2f [%.2f-%.2f]  cpu %.2f [%.2f-%.2f]  wall/halog %.2f  cpu/halog %.2f\n", k, w, wl, wh, c, cl, ch, w / hw, c / hc } }
' "$out/times"

# Round by round: the CPU ratios to halog's run of the same round (the figure a shared machine's load moves least).
awk '{ if ($1 == "halog") { hc = $3 + $4; hw = $2; r++ } else if ($1 ~ /aot/) printf "round %d %s cpu/halog %.2f wall/halog %.2f\n", r, $1, ($3 + $4) / hc, $2 / hw }' "$out/times"

if command -v hyperfine >/dev/null && [[ -z ${AOT_ONLY:-} ]]; then
  hyperfine --warmup 1 --runs "$rounds" --style basic -n halog "${cmds[0]}" -n old-aot "${cmds[1]}" -n new-aot "${cmds[2]}" \
    -n old-jit "${cmds[3]}" -n new-jit "${cmds[4]}" 2>&1 | grep -Ev '^ *$|Range'
fi
