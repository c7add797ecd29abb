#!/usr/bin/env bash
# Side-by-side benchmark: making and saving an image from a ~200 MB / 20,000-file
# root file system with strata, docker (dockerd 20.10) and skopeo.
#
#   bench/import-save.sh            (needs root and dockerd; installs peers if missing)
#
# Every run starts from `sync` and a store directory never used before (deleting
# a big tree just before makes ext4's inode allocator slow for every tool alike).
# Prints wall time and peak RSS per step and the ratio peer/strata (above 1:
# strata is faster). docker's work happens in dockerd, so its RSS column is the
# CLI's only; dockerd's own growth is printed separately.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/dockerd.sh
cargo build --release --locked -q -p strata-cli
strata=$PWD/target/release/strata
docker=/usr/bin/docker
reps=${REPS:-3}

work=${BENCH_DIR:-/var/tmp/strata-bench}
mkdir -p "$work"
rm -rf "$work/stores" "$work/out"
mkdir -p "$work/stores" "$work/out"
rootfs=$work/rootfs
[ -d "$rootfs" ] || python3 bench/make-rootfs.py "$rootfs" 20000 200
files=$(find "$rootfs" -type f | wc -l)
bytes=$(du -sb --apparent-size "$rootfs" | cut -f1)
[ -s "$work/rootfs.tar" ] || tar -C "$rootfs" -cf "$work/rootfs.tar" .
cat "$work/rootfs.tar" >/dev/null
n=0
fresh_store() { n=$((n + 1)); export STRATA_ROOT=$work/stores/$n; }

declare -A secs rss
# shellcheck source=bench/lib.sh
source bench/lib.sh
dockerd_rss() { awk '/VmHWM/{print int($2/1024)}' "/proc/$(pidof dockerd)/status"; }

echo "rootfs: $files files, $((bytes / 1000000)) MB; $(nproc) cores; best of $reps"
echo
echo "make an image from the rootfs (unpacked and stored):"
BEFORE="fresh_store"
measure "strata import DIR (gzip)" "$strata" import "$rootfs" bench/strata:1
measure "strata import TAR (gzip)" "$strata" import "$work/rootfs.tar" bench/strata:1
measure "strata import TAR (zstd)" "$strata" import --compression zstd "$work/rootfs.tar" bench/strata:1
measure "strata import TAR (uncompressed)" "$strata" import --compression none "$work/rootfs.tar" bench/strata:1
BEFORE="$docker rmi -f bench/docker:1 >/dev/null 2>&1 || true"
hwm_before=$(dockerd_rss)
measure "docker import TAR (uncompressed)" "$docker" import "$work/rootfs.tar" bench/docker:1
echo "  (dockerd peak RSS: ${hwm_before} MiB before, $(dockerd_rss) MiB after)"

echo
echo "save the image:"
fresh_store
"$strata" import "$work/rootfs.tar" bench/strata:1 >/dev/null
BEFORE="rm -f $work/out/*"
measure "strata save (docker-archive)" "$strata" save -o "$work/out/strata.tar" bench/strata:1
measure "docker save" "$docker" save -o "$work/out/docker.tar" bench/docker:1
measure "strata save --format oci-archive" "$strata" save --format oci-archive -o "$work/out/strata-oci.tar" bench/strata:1
"$strata" save -o "$work/saved.tar" bench/strata:1

echo
echo "gzip the layer into an OCI layout:"
BEFORE="rm -rf $work/out/*"
measure "skopeo copy docker-archive: oci:" skopeo copy --quiet "docker-archive:$work/saved.tar" "oci:$work/out/skopeo:x"
skopeo_layer=$(find "$work/out/skopeo/blobs" -type f -size +1M -printf '%s\n' | sort -n | tail -1)
strata_layer=$(find "$STRATA_ROOT/blobs" -type f -size +1M -printf '%s\n' | sort -n | tail -1)
echo "  gzip layer size: strata $((strata_layer / 1000000)) MB, skopeo $((skopeo_layer / 1000000)) MB"
BEFORE=""

echo
echo "ratios (peer time / strata time; above 1 means strata is faster):"
echo "  docker import / strata import (uncompressed): $(ratio 'docker import TAR (uncompressed)' 'strata import TAR (uncompressed)')"
echo "  docker import / strata import (gzip):         $(ratio 'docker import TAR (uncompressed)' 'strata import TAR (gzip)')"
echo "  docker save   / strata save:                  $(ratio 'docker save' 'strata save (docker-archive)')"
echo "  skopeo copy   / strata import (gzip):         $(ratio 'skopeo copy docker-archive: oci:' 'strata import TAR (gzip)')"
mb=$((bytes / 1000000))
echo
echo "strata layer creation (gzip, from TAR, unpacking included): $(awk "BEGIN{printf \"%.0f\", $mb / ${secs['strata import TAR (gzip)']}}") MB/s, peak RSS $(awk "BEGIN{printf \"%.1f\", ${rss['strata import TAR (gzip)']}/1024}") MiB"
"$docker" rmi -f bench/docker:1 >/dev/null 2>&1 || true
rm -rf "$work/stores" "$work/out"
