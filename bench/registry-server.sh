#!/usr/bin/env bash
# Side-by-side benchmark of `strata registry serve` against Debian's
# docker-registry (the reference distribution registry), both on 127.0.0.1
# with filesystem storage, request logging off, in one run:
#   - manifest GET and HEAD, by tag and by digest: wrk, 16 connections, 10 s
#     (requests/s and p99 latency);
#   - a 64 MiB blob GET: wrk, 16 connections, 10 s (MiB/s);
#   - skopeo pushing and pulling a 256 MiB single-layer image (best of $REPS).
# Prints peer/strata ratios (above 1: strata is faster).
#
#   bench/registry-server.sh        (needs root; installs wrk and peers if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
registry_bench server
ref_port=5097 our_port=5098

start_ref() {
  rm -rf "$work/ref"; mkdir -p "$work/ref"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/ref/data" "$ref_port" >"$work/ref/config.yml"
  docker-registry serve "$work/ref/config.yml" >"$work/ref/log" 2>&1 & ref_pid=$!; pids+=("$ref_pid")
}
start_ours() {
  rm -rf "$work/ours"
  "$strata" --log-level error registry serve --addr "127.0.0.1:$our_port" --storage "$work/ours" >"$work/ours.log" 2>&1 & our_pid=$!; pids+=("$our_pid")
}
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/v2/" >/dev/null && return; sleep 0.05; done; echo "port $1 down" >&2; exit 1; }
restart_both() {
  for p in ${ref_pid:-} ${our_pid:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  start_ref; start_ours; wait_up $ref_port; wait_up $our_port
}
restart_both

# Test content: busybox, and an image with one 64 MiB random layer.
scripts/base-images.sh --busybox-only >/dev/null 2>&1 || STRATA=$strata scripts/base-images.sh --busybox-only >/dev/null
mkdir -p "$work/big64" "$work/big256"
head -c $((64 << 20)) /dev/urandom >"$work/big64/blob"
head -c $((256 << 20)) /dev/urandom >"$work/big256/blob"
"$strata" import "$work/big64" bench/b64:1 >/dev/null
"$strata" import "$work/big256" bench/b256:1 >/dev/null
"$strata" save --format oci-archive -o "$work/b256.tar" bench/b256:1
mkdir -p "$work/b256.oci" && tar -C "$work/b256.oci" -xf "$work/b256.tar"
for port in $ref_port $our_port; do
  for img in busybox:latest bench/b64:1; do
    "$strata" tag "$img" "127.0.0.1:$port/bench/${img//[:\/]/-}:1"
    "$strata" push -q "127.0.0.1:$port/bench/${img//[:\/]/-}:1" >/dev/null
  done
done
manifest_digest=$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://127.0.0.1:$our_port/v2/bench/busybox-latest/manifests/1" | awk 'tolower($1)=="docker-content-digest:"{print $2}' | tr -d '\r')
blob64=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://127.0.0.1:$our_port/v2/bench/bench-b64-1/manifests/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')

declare -A rps p99 mibs
run_wrk() { # name port path [head]
  local name=$1 port=$2 path=$3
  if [ "${4:-}" = head ]; then run_ab "$@"; return; fi
  local out
  out=$(wrk -t2 -c16 -d"${load_secs}s" --latency \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$port$path")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "$name: errors" >&2; exit 1; fi
  rps[$name]=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p99[$name]=$(echo "$out" | awk '$1=="99%"{print $2}')
  mibs[$name]=$(echo "$out" | awk '/Transfer\/sec/{v=$2; u=substr(v,length(v)-1); n=substr(v,1,length(v)-2); if(u=="GB") n*=1024; if(u=="KB") n/=1024; print n}')
}

# wrk's parser waits for a body after a HEAD response that has a length, so
# HEAD is measured with ab (apache2-utils), keep-alive, 16 at a time.
run_ab() { # name port path
  local name=$1 port=$2 path=$3 out
  out=$(ab -q -k -i -c16 -t"$load_secs" -n 10000000 \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$port$path" 2>&1)
  if ! echo "$out" | grep -q "Non-2xx responses" ; then :; else echo "$out" >&2; echo "$name: errors" >&2; exit 1; fi
  rps[$name]=$(echo "$out" | awk '/Requests per second/{print $4}')
  p99[$name]=$(echo "$out" | awk '$1=="99%"{print $2 "ms"}')
}

echo "$(nproc) cores; wrk (GET) and ab (HEAD), 16 connections, ${load_secs}s; skopeo best of $reps"
echo "registry: docker-registry $(dpkg-query -W -f '${Version}' docker-registry) vs strata"
printf '\n%-28s %14s %14s %8s %10s %10s\n' "request" "ref req/s" "strata req/s" "ratio" "ref p99" "strata p99"
for case in "manifest GET by tag|/v2/bench/busybox-latest/manifests/1|" \
            "manifest HEAD by tag|/v2/bench/busybox-latest/manifests/1|head" \
            "manifest GET by digest|/v2/bench/busybox-latest/manifests/$manifest_digest|" \
            "manifest HEAD by digest|/v2/bench/busybox-latest/manifests/$manifest_digest|head"; do
  IFS='|' read -r label path head <<<"$case"
  run_wrk "ref $label" $ref_port "$path" "$head"
  run_wrk "ours $label" $our_port "$path" "$head"
  printf '%-28s %14s %14s %8s %10s %10s\n' "$label" "${rps[ref $label]}" "${rps[ours $label]}" \
    "$(awk "BEGIN{printf \"%.2f\", ${rps[ours $label]} / ${rps[ref $label]}}")" "${p99[ref $label]}" "${p99[ours $label]}"
done
run_wrk "ref blob" $ref_port "/v2/bench/bench-b64-1/blobs/$blob64"
run_wrk "ours blob" $our_port "/v2/bench/bench-b64-1/blobs/$blob64"
printf '%-28s %11.0f MiB/s %8.0f MiB/s %8s\n' "64 MiB blob GET" "${mibs[ref blob]}" "${mibs[ours blob]}" \
  "$(awk "BEGIN{printf \"%.2f\", ${mibs[ours blob]} / ${mibs[ref blob]}}")"

declare -A secs_ rss
best() { # name cmd...
  local name=$1; shift; local b=""
  for _ in $(seq "$reps"); do
    eval "$BEFORE"
    sync
    local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "$name failed" >&2; exit 1; }; t1=$(date +%s.%N)
    local s; s=$(awk "BEGIN{print $t1 - $t0}")
    if [ -z "$b" ] || awk "BEGIN{exit !($s < $b)}"; then b=$s; fi
  done
  secs_[$name]=$b
}
echo
echo "skopeo, 256 MiB single-layer image:"
BEFORE='restart_both'
best "push ref" skopeo copy -q --dest-tls-verify=false "oci:$work/b256.oci:1" "docker://127.0.0.1:$ref_port/s/b:1"
best "push ours" skopeo copy -q --dest-tls-verify=false "oci:$work/b256.oci:1" "docker://127.0.0.1:$our_port/s/b:1"
skopeo copy -q --dest-tls-verify=false "oci:$work/b256.oci:1" "docker://127.0.0.1:$ref_port/s/b:1"
skopeo copy -q --dest-tls-verify=false "oci:$work/b256.oci:1" "docker://127.0.0.1:$our_port/s/b:1"
BEFORE='rm -rf $work/pulled'
best "pull ref" skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$ref_port/s/b:1" "oci:$work/pulled:x"
best "pull ours" skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$our_port/s/b:1" "oci:$work/pulled:x"
for op in push pull; do
  printf '  skopeo %s: reference %.2f s, strata %.2f s, ratio ref/strata %.2f\n' "$op" "${secs_[$op ref]}" "${secs_[$op ours]}" \
    "$(awk "BEGIN{print ${secs_[$op ref]} / ${secs_[$op ours]}}")"
done
