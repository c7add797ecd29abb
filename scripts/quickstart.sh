#!/usr/bin/env bash
# Quick start: installs what Strata needs, builds it, makes the base images
# and shows them. Run as root (apt-get, and the default store /var/lib/strata).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cargo build --release --locked -p strata-cli
export STRATA=$PWD/target/release/strata
echo "== making base images (busybox from busybox-static, debian from debootstrap)"
scripts/base-images.sh
echo "== strata images"
"$STRATA" images
echo "== strata history debian:bookworm"
"$STRATA" history debian:bookworm
"$STRATA" save -o /tmp/busybox.tar busybox:latest
echo "== strata save -o /tmp/busybox.tar busybox:latest  ($(stat -c %s /tmp/busybox.tar) bytes; 'docker load -i' reads it)"
echo "== strata system df"
"$STRATA" system df
echo
echo "strata is at $STRATA; try: $STRATA image inspect --format '{{json .Config}}' busybox"
