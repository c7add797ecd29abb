#!/usr/bin/env bash
# Side-by-side benchmark: push and pull against a fresh local registry (Debian's
# docker-registry on 127.0.0.1) with strata, skopeo and podman.
#
#   bench/registry.sh            (needs root; installs peers if missing)
#
# Two images: one 256 MiB layer of incompressible data, and ten 16 MiB layers.
# - push: strata from its store; skopeo from an OCI layout on disk; podman from
#   its own storage. Every run pushes to a registry emptied and restarted just
#   before, and strata forgets which repositories had its blobs (no mounts).
# - pull: strata into a fresh store, unpacked (it can run at once); skopeo into
#   an OCI layout, NOT unpacked; podman into fresh storage, unpacked.
# Prints the best wall time of $REPS runs with that run's peak RSS, and
# peer/strata ratios (above 1: strata is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
command -v podman >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null; }
cargo build --release --locked -q -p strata-cli
strata=$PWD/target/release/strata
reps=${REPS:-3}
work=${BENCH_DIR:-/var/tmp/strata-bench-registry}
# podman leaves its storage mounted: detach everything under $work first.
unmount_work() { awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l; }
unmount_work
rm -rf "$work"
mkdir -p "$work"
port=5099
reg=127.0.0.1:$port
export DOCKER_CONFIG=$work/docker-config STRATA_REGISTRIES_CONF=$work/none.conf STRATA_CERTS_D=$work/certs.d
mkdir -p "$DOCKER_CONFIG" && echo "{}" >"$DOCKER_CONFIG/config.json"

regpid=""
restart_registry() {
  [ -n "$regpid" ] && kill "$regpid" 2>/dev/null && wait "$regpid" 2>/dev/null || true
  rm -rf "$work/reg"
  mkdir -p "$work/reg"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/reg/data" "$reg" >"$work/reg/config.yml"
  docker-registry serve "$work/reg/config.yml" >"$work/reg/log" 2>&1 &
  regpid=$!
  for _ in $(seq 100); do curl -sf "http://$reg/v2/" >/dev/null && return; sleep 0.05; done
  echo "registry did not start" >&2; exit 1
}
trap '[ -n "$regpid" ] && kill $regpid 2>/dev/null; unmount_work' EXIT

# Images, made once: a random 256 MiB file; ten random 16 MiB files, one per layer.
export STRATA_ROOT=$work/src
mkdir -p "$work/ctx"
head -c $((256 << 20)) /dev/urandom >"$work/ctx/big"
for i in $(seq 0 9); do head -c $((16 << 20)) /dev/urandom >"$work/ctx/part$i"; done
mkdir -p "$work/ctx1" && mv "$work/ctx/big" "$work/ctx1/big"
"$strata" import "$work/ctx1" bench/one:1 >/dev/null
{ echo "FROM scratch"; for i in $(seq 0 9); do echo "COPY part$i /part$i"; done; } >"$work/ctx/Dockerfile"
"$strata" build -q -t bench/ten:1 "$work/ctx" >/dev/null
for img in one ten; do
  "$strata" save --format oci-archive -o "$work/$img.tar" bench/$img:1
  mkdir -p "$work/$img.oci" && tar -C "$work/$img.oci" -xf "$work/$img.tar"
  "$strata" save -o "$work/$img.docker.tar" bench/$img:1
  "$strata" tag bench/$img:1 "$reg/strata/$img:1"
done
podman_root() { echo "--root $work/podman/$1 --runroot $work/podman-run/$1 --storage-driver overlay"; }
# shellcheck disable=SC2046
for img in one ten; do
  podman $(podman_root src) load -q -i "$work/$img.docker.tar" | awk '{print $NF}' >"$work/$img.podman-id"
done

declare -A secs rss
# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "$(nproc) cores; best of $reps; registry: docker-registry $(dpkg-query -W -f '${Version}' docker-registry)"
for img in one ten; do
  label=$([ $img = one ] && echo "1 x 256 MiB layer" || echo "10 x 16 MiB layers")
  echo
  echo "push, $label:"
  BEFORE='restart_registry; rm -rf $STRATA_ROOT/distribution'
  measure "strata push" "$strata" push "$reg/strata/$img:1"
  measure "skopeo copy oci: -> docker://" skopeo copy -q --dest-tls-verify=false "oci:$work/$img.oci:1" "docker://$reg/skopeo/$img:1"
  # shellcheck disable=SC2046
  measure "podman push" podman $(podman_root src) push -q --tls-verify=false "$(cat "$work/$img.podman-id")" "docker://$reg/podman/$img:1"
  echo "  ratios: skopeo/strata $(ratio "skopeo copy oci: -> docker://" "strata push")  podman/strata $(ratio "podman push" "strata push")"

  echo "pull, $label:"
  restart_registry
  "$strata" push -q "$reg/strata/$img:1" >/dev/null
  BEFORE='export STRATA_ROOT=$work/pull/$n; rm -rf $work/skopeo-out'
  measure "strata pull (unpacked)" "$strata" pull -q "$reg/strata/$img:1"
  measure "skopeo copy -> oci: (packed)" skopeo copy -q --src-tls-verify=false "docker://$reg/strata/$img:1" "oci:$work/skopeo-out:x"
  BEFORE='podman $(podman_root pull) system reset -f >/dev/null 2>&1 || true; rm -rf $work/podman/pull $work/podman-run/pull'
  # shellcheck disable=SC2046
  measure "podman pull (unpacked)" podman $(podman_root pull) pull -q --tls-verify=false "docker://$reg/strata/$img:1"
  echo "  ratios: skopeo/strata $(ratio "skopeo copy -> oci: (packed)" "strata pull (unpacked)")  podman/strata $(ratio "podman pull (unpacked)" "strata pull (unpacked)")"
  rm -rf "$work/pull"
  export STRATA_ROOT=$work/src
done
