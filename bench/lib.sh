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

# registry_bench NAME: what the registry benchmarks share. Installs the peers
# and wrk, builds a release strata ($strata), makes a fresh $work
# (/var/tmp/strata-bench-NAME unless $BENCH_DIR) with the client's config
# inside it, sets $reps and $load_secs (each wrk or ab run), and kills the
# servers in $pids on exit.
registry_bench() {
  scripts/deps.sh
  command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  cargo build --release --locked -q -p strata-cli
  strata=$PWD/target/release/strata
  reps=${REPS:-3}
  load_secs=${SECS:-10}
  work=${BENCH_DIR:-/var/tmp/strata-bench-$1}
  rm -rf "$work"
  mkdir -p "$work"
  export DOCKER_CONFIG=$work/docker-config STRATA_REGISTRIES_CONF=$work/none.conf STRATA_CERTS_D=$work/certs.d
  export STRATA_ROOT=$work/store
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
}
