#!/usr/bin/env bash
# Side-by-side benchmark of access control: `strata registry serve --rbac`
# against Debian's docker-registry in token mode, trusting the same tokens
# (issued by strata's /token for a robot account), both on 127.0.0.1 with
# request logging off. wrk, 16 connections, $SECS s each:
#   - manifest GET by tag with a Bearer token: docker-registry vs strata,
#     and strata with --rbac vs strata without (the cost of checking);
#   - token issue (GET /token with the robot's Basic credentials).
# Also times `docker login`-like logins and a skopeo push/pull through the
# token flow on both (best of $REPS). Ratios above 1: strata is faster.
#
#   bench/registry-rbac.sh        (needs root; installs wrk and peers if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
registry_bench rbac
ref_port=5197 our_port=5198 plain_port=5199
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/v2/" && return; sleep 0.05; done; echo "port $1 down" >&2; exit 1; }

# Accounts: a private project and a robot that pushes and pulls.
reg() { "$strata" registry "$@" --storage "$work/ours"; }
echo admin-password | reg user add admin --admin --password-stdin 2>/dev/null
reg project create bench 2>/dev/null
read -r robot secret < <(reg robot create bench ci --perm pull,push 2>/dev/null | paste -sd' ')
"$strata" --log-level error registry serve --rbac --addr "127.0.0.1:$our_port" --storage "$work/ours" >"$work/ours.log" 2>&1 &
pids+=($!)
"$strata" --log-level error registry serve --addr "127.0.0.1:$plain_port" --storage "$work/plain" >"$work/plain.log" 2>&1 &
pids+=($!)
wait_up $our_port
# docker-registry trusts the token key's certificate.
openssl req -new -x509 -days 1 -subj /CN=strata-token -key "$work/ours/rbac/token.key" -out "$work/token.crt" 2>/dev/null
mkdir -p "$work/ref"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\nauth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: strata-registry\n    issuer: strata-registry\n    rootcertbundle: %s\n' \
  "$work/ref/data" "$ref_port" "$our_port" "$work/token.crt" >"$work/ref/config.yml"
docker-registry serve "$work/ref/config.yml" >"$work/ref/log" 2>&1 &
pids+=($!)
wait_up $ref_port
wait_up $plain_port

scripts/base-images.sh --busybox-only >/dev/null 2>&1 || STRATA=$strata scripts/base-images.sh --busybox-only >/dev/null
for port in $ref_port $our_port $plain_port; do
  echo "$secret" | "$strata" login -u "$robot" --password-stdin "127.0.0.1:$port" >/dev/null 2>&1
  "$strata" tag busybox:latest "127.0.0.1:$port/bench/busybox:1"
  "$strata" push -q "127.0.0.1:$port/bench/busybox:1" >/dev/null
done
token=$(curl -s -u "$robot:$secret" "http://127.0.0.1:$our_port/token?service=strata-registry&scope=repository:bench/busybox:pull" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

declare -A rps p99
run_wrk() { # name url [header]
  local name=$1 url=$2 out
  out=$(wrk -t2 -c16 -d"${load_secs}s" --latency -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    ${3:+-H "$3"} "$url")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "$name: errors" >&2; exit 1; fi
  rps[$name]=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p99[$name]=$(echo "$out" | awk '$1=="99%"{print $2}')
}
manifest=/v2/bench/busybox/manifests/1
run_wrk ref "http://127.0.0.1:$ref_port$manifest" "Authorization: Bearer $token"
run_wrk ours "http://127.0.0.1:$our_port$manifest" "Authorization: Bearer $token"
run_wrk plain "http://127.0.0.1:$plain_port$manifest"
basic=$(printf '%s:%s' "$robot" "$secret" | base64 -w0)
run_wrk token "http://127.0.0.1:$our_port/token?service=strata-registry&scope=repository:bench/busybox:pull,push" "Authorization: Basic $basic"

echo "$(nproc) cores; wrk, 16 connections, ${load_secs}s; docker-registry $(dpkg-query -W -f '${Version}' docker-registry)"
printf '\n%-44s %12s %10s\n' "request" "req/s" "p99"
printf '%-44s %12s %10s\n' "manifest GET, Bearer: docker-registry" "${rps[ref]}" "${p99[ref]}"
printf '%-44s %12s %10s\n' "manifest GET, Bearer: strata --rbac" "${rps[ours]}" "${p99[ours]}"
printf '%-44s %12s %10s\n' "manifest GET, no auth: strata" "${rps[plain]}" "${p99[plain]}"
printf '%-44s %12s %10s\n' "GET /token (robot, Basic): strata" "${rps[token]}" "${p99[token]}"
printf '\nstrata --rbac / docker-registry (token mode): %.1f x\n' "$(awk "BEGIN{print ${rps[ours]} / ${rps[ref]}}")"
printf 'strata --rbac / strata without auth:          %.2f\n' "$(awk "BEGIN{print ${rps[ours]} / ${rps[plain]}}")"

# skopeo through the token flow, with the robot's credentials.
mkdir -p "$work/oci"
"$strata" save --format oci-archive -o "$work/bb.tar" busybox:latest
tar -C "$work/oci" -xf "$work/bb.tar"
best() { # port
  local b="" t0 t1 s
  for i in $(seq "$reps"); do
    t0=$(date +%s.%N)
    skopeo copy -q --dest-tls-verify=false --dest-creds "$robot:$secret" "oci:$work/oci:latest" "docker://127.0.0.1:$1/bench/s$i:1" >/dev/null
    skopeo copy -q --src-tls-verify=false --src-creds "$robot:$secret" "docker://127.0.0.1:$1/bench/s$i:1" "oci:$work/pulled-$1-$i:x" >/dev/null
    t1=$(date +%s.%N); s=$(awk "BEGIN{print $t1 - $t0}")
    if [ -z "$b" ] || awk "BEGIN{exit !($s < $b)}"; then b=$s; fi
  done
  echo "$b"
}
ref_s=$(best $ref_port)
our_s=$(best $our_port)
printf 'skopeo push + pull of busybox with a robot: docker-registry %.2f s, strata %.2f s, ratio %.2f\n' \
  "$ref_s" "$our_s" "$(awk "BEGIN{print $ref_s / $our_s}")"
