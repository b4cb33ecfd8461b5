#!/usr/bin/env bash
# `analyze` against `halog -srv` and against the previous analyze, side by side in one run, on one generated
# 2,000,000-line httplog file in the page cache: wall, user and system time of every run from /usr/bin/time, the
# five commands interleaved round by round (halog, old AOT, new AOT, old JIT, new JIT) so that a slow spell of a
# shared machine hits all of them alike; prints median and range per command and the ratios to halog's medians.
# Then hyperfine (when installed) on the same commands as a cross-check of the wall times.
#
# Usage: [LOG=mixed] HaproxyAutoscale.Benchmarks/analyze-vs-halog.sh [OLD_REF] [LINES] [ROUNDS]
#   OLD_REF: the git revision of the "old" analyze (default ingest); OLD_AOT_DIR / OLD_JIT_DIR reuse old builds.
#   LOG=mixed: the log operators have (30 % captured headers, 1 % lines outside the common shape, two processes)
#   instead of the default generator's (captures on every line).
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
build . "$out/new-jit" "$out/new-aot"
old_jit=${OLD_JIT_DIR:-$out/old-jit}
old_aot=${OLD_AOT_DIR:-$out/old-aot}
if [[ -z ${OLD_JIT_DIR:-} || -z ${OLD_AOT_DIR:-} ]]; then
  mkdir "$out/old-src"
  git archive "$old_ref" | tar -x -C "$out/old-src"
  build "$out/old-src" "$old_jit" "$old_aot"
fi

dotnet build HaproxyAutoscale.Benchmarks -c Release -v quiet -nologo >/dev/null
log="$out/access.log"
dotnet HaproxyAutoscale.Benchmarks/bin/Release/net10.0/HaproxyAutoscale.Benchmarks.dll generate-log "$log" "$lines" ${LOG:-}
cat "$log" > /dev/null

names=(halog old-aot new-aot old-jit new-jit)
cmds=(
  "halog -srv < '$log'"
  "$old_aot/haproxy-autoscale analyze '$log'"
  "$out/new-aot/haproxy-autoscale analyze '$log'"
  "dotnet $old_jit/haproxy-autoscale.dll analyze '$log'"
  "dotnet $out/new-jit/haproxy-autoscale.dll analyze '$log'"
)

# The old and new analyze must print the same table.
cmp <(sh -c "${cmds[1]}") <(sh -c "${cmds[2]}") && cmp <(sh -c "${cmds[3]}") <(sh -c "${cmds[4]}") \
  || { echo "old and new analyze print different results" >&2; exit 1; }

for round in $(seq "$rounds"); do
  for i in "${!cmds[@]}"; do
    /usr/bin/time -o "$out/t" -f "%e %U %S" sh -c "${cmds[$i]}" > /dev/null 2>&1
    echo "${names[$i]} $(cat "$out/t")" >> "$out/times"
  done
done

echo "lines: $lines ($(du -m "$log" | cut -f1) MB), cores: $(nproc), rounds: $rounds (interleaved), old: $old_ref"
echo "wall and CPU (user+sys) in seconds: median [min-max]"
awk -v rounds="$rounds" '
  { wall[$1, ++n[$1]] = $2; cpu[$1, n[$1]] = $3 + $4 }
  function median(a, k,   v, i, j, t) { for (i = 1; i <= rounds; i++) v[i] = a[k, i]
    for (i = 1; i <= rounds; i++) for (j = i + 1; j <= rounds; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    lo = v[1]; hi = v[rounds]; return v[int((rounds + 1) / 2)] }
  END {
    split("halog old-aot new-aot old-jit new-jit", order, " ")
    for (o = 1; o <= 5; o++) { k = order[o]
      w = median(wall, k); wl = lo; wh = hi; c = median(cpu, k); cl = lo; ch = hi
      if (k == "halog") { hw = w; hc = c }
      printf "%-8s wall %.2f [%.2f-%.2f]  cpu %.2f [%.2f-%.2f]  wall/halog %.2f  cpu/halog %.2f\n", k, w, wl, wh, c, cl, ch, w / hw, c / hc } }
' "$out/times"

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs "$rounds" --style basic -n halog "${cmds[0]}" -n old-aot "${cmds[1]}" -n new-aot "${cmds[2]}" \
    -n old-jit "${cmds[3]}" -n new-jit "${cmds[4]}" 2>&1 | grep -Ev '^ *$|Range'
fi
