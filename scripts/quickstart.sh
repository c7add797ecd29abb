#!/usr/bin/env bash
# Quick start: installs what Strata needs, builds it, makes the base images,
# shows them and runs containers from them. Run as root (apt-get, and the default store /var/lib/strata).
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
echo "== strata run --rm busybox sh -c 'echo hello from \$(hostname); id'"
"$STRATA" run --rm busybox sh -c 'echo hello from $(hostname); id'
echo "== strata run -d -p 127.0.0.1:8080:80 --name web busybox httpd -f -p 80 -h /etc"
"$STRATA" rm -f web >/dev/null 2>&1 || true
"$STRATA" run -d -p 127.0.0.1:8080:80 --name web busybox httpd -f -p 80 -h /etc
"$STRATA" ps
for _ in $(seq 50); do
  if out=$(exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /hostname HTTP/1.0\r\n\r\n' >&3 && cat <&3) 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "== GET http://127.0.0.1:8080/hostname answers: $(printf '%s' "$out" | tail -n 1)"
"$STRATA" rm -f web >/dev/null
echo "== strata system df"
"$STRATA" system df
echo
echo "strata is at $STRATA; try: $STRATA run -it --rm debian:bookworm bash"
