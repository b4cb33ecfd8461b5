# Sourced by the comparison scripts.
# medians_ms "CMD1" "CMD2" ...: runs every command (a shell command line, output discarded) $runs times,
# interleaved (1, 2, …, 1, 2, …) so that a slow spell of a shared machine hits all of them alike; prints each
# command's median wall time in milliseconds, one line per command.
medians_ms() {
  local -a times
  local round i start end
  for round in $(seq "$runs"); do
    for i in $(seq 0 $(($# - 1))); do
      local cmd=${@:$((i + 1)):1}
      start=$(date +%s%N)
      sh -c "$cmd" > /dev/null 2>&1
      end=$(date +%s%N)
      times[$((i * runs + round - 1))]=$(( (end - start) / 1000000 ))
    done
  done
  for i in $(seq 0 $(($# - 1))); do
    printf '%s\n' "${times[@]:$((i * runs)):runs}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
  done
}
