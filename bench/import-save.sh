#!/usr/bin/env bash
# Side-by-side benchmark: making and saving an image from a ~200 MB / 20,000-file
# root file system with strata, docker (dockerd 20.10) and skopeo.
#
#   bench/import-save.sh            (needs root, dockerd; installs peers if missing)
#
# Prints wall time and peak RSS per step and the ratio peer/strata (>1: strata
# faster). docker's work happens in dockerd, so its RSS column is the CLI's only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/dockerd.sh
cargo build --release --locked -q -p strata-cli
strata=$PWD/target/release/strata
docker=/usr/bin/docker
reps=${REPS:-2}

work=${BENCH_DIR:-/var/tmp/strata-bench}
mkdir -p "$work"
export STRATA_ROOT=$work/store
rootfs=$work/rootfs
if [ ! -d "$rootfs" ]; then
  python3 bench/make-rootfs.py "$rootfs" 20000 200
fi
files=$(find "$rootfs" -type f | wc -l)
bytes=$(du -sb "$rootfs" | cut -f1)
tar -C "$rootfs" -cf "$work/rootfs.tar" .
cat "$work/rootfs.tar" >/dev/null

declare -A secs rss
# measure NAME CMD...: best wall time of $reps runs and the peak RSS of that run.
measure() {
  local name=$1; shift
  local best="" best_rss=""
  for _ in $(seq "$reps"); do
    [ -n "${BEFORE:-}" ] && eval "$BEFORE"
    /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null 2>"$work/err.out" \
      || { cat "$work/err.out" >&2; exit 1; }
    read -r s kb <"$work/time.out"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; best_rss=$kb; fi
  done
  secs[$name]=$best
  rss[$name]=$best_rss
  printf '  %-34s %7.2f s  %7.1f MiB\n' "$name" "$best" "$(awk "BEGIN{print $best_rss/1024}")"
}
ratio() { awk "BEGIN{printf \"%.2f\", ${secs[$1]} / ${secs[$2]}}"; }

echo "rootfs: $files files, $((bytes / 1000000)) MB; $(nproc) cores"
echo
echo "make an image from the rootfs (best of $reps):"
BEFORE="rm -rf $STRATA_ROOT; $docker rmi -f bench/docker:1 >/dev/null 2>&1 || true"
measure "strata import DIR (gzip)" "$strata" import "$rootfs" bench/strata:1
measure "strata import TAR (gzip)" "$strata" import "$work/rootfs.tar" bench/strata:1
measure "strata import TAR (zstd)" "$strata" import --compression zstd "$work/rootfs.tar" bench/strata:1
measure "strata import TAR (uncompressed)" "$strata" import --compression none "$work/rootfs.tar" bench/strata:1
measure "docker import TAR (uncompressed)" "$docker" import "$work/rootfs.tar" bench/docker:1
BEFORE=""
"$strata" import "$work/rootfs.tar" bench/strata:1 >/dev/null
"$docker" import "$work/rootfs.tar" bench/docker:1 >/dev/null

echo
echo "save the image (best of $reps):"
BEFORE="rm -f $work/*.out.tar"
measure "strata save (docker-archive)" "$strata" save -o "$work/strata.out.tar" bench/strata:1
measure "docker save" "$docker" save -o "$work/docker.out.tar" bench/docker:1
measure "strata save --format oci-archive" "$strata" save --format oci-archive -o "$work/strata-oci.out.tar" bench/strata:1
"$strata" save -o "$work/saved.tar" bench/strata:1

echo
echo "skopeo: read a docker-archive, gzip the layer, write an OCI layout (best of $reps):"
BEFORE="rm -rf $work/skopeo-oci"
measure "skopeo copy docker-archive: oci: (gzip)" skopeo copy --quiet "docker-archive:$work/saved.tar" "oci:$work/skopeo-oci:x"
BEFORE=""

echo
echo "ratios (peer time / strata time; above 1 means strata is faster):"
echo "  docker import      / strata import (uncompressed): $(ratio 'docker import TAR (uncompressed)' 'strata import TAR (uncompressed)')"
echo "  docker import      / strata import (gzip):         $(ratio 'docker import TAR (uncompressed)' 'strata import TAR (gzip)')"
echo "  docker save        / strata save:                  $(ratio 'docker save' 'strata save (docker-archive)')"
echo "  skopeo copy (gzip) / strata import (gzip):         $(ratio 'skopeo copy docker-archive: oci: (gzip)' 'strata import TAR (gzip)')"
mb=$((bytes / 1000000))
echo
echo "layer creation throughput (gzip, from TAR): $(awk "BEGIN{printf \"%.0f\", $mb / ${secs['strata import TAR (gzip)']}}") MB/s; peak RSS $(awk "BEGIN{printf \"%.1f\", ${rss['strata import TAR (gzip)']}/1024}") MiB"
"$docker" rmi -f bench/docker:1 >/dev/null 2>&1 || true
