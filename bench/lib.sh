# Shared by the side-by-side benchmarks (sourced, not run).
# Callers set $reps and $work, and `declare -A secs rss`.

# measure NAME CMD...: best wall time of $reps runs, and the peak RSS of that
# run. $BEFORE, if set, is evaluated before each run; $n counts the runs.
n=0
measure() {
  local name=$1; shift
  local best="" best_rss=""
  for _ in $(seq "$reps"); do
    n=$((n + 1))
    if [ -n "${BEFORE:-}" ]; then eval "$BEFORE"; fi
    sync
    /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null 2>"$work/err.out" \
      || { cat "$work/err.out" >&2; exit 1; }
    read -r s kb <"$work/time.out"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; best_rss=$kb; fi
  done
  secs[$name]=$best
  rss[$name]=$best_rss
  printf '  %-40s %7.2f s  %7.1f MiB\n' "$name" "$best" "$(awk "BEGIN{print $best_rss/1024}")"
}

# ratio A B: secs[A] / secs[B].
ratio() { awk "BEGIN{printf \"%.2f\", ${secs[$1]} / ${secs[$2]}}"; }
