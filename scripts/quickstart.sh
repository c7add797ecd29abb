#!/usr/bin/env bash
# Quick start: installs what Strata needs, builds it, makes the base images,
# shows them, runs containers from them, builds an image from a Dockerfile,
# and ships it through a private registry (strata registry serve --rbac, with a robot account) to a second store. Run as root (apt-get, and the default store /var/lib/strata).
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
echo "== strata build: the seed's multi-stage example, with busybox in place of golang/alpine"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cat > "$ctx/main.sh" <<'SCRIPT'
#!/bin/sh
echo "hello from myapp, built by strata"
SCRIPT
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
# Stage 1: the build environment
FROM busybox AS builder
WORKDIR /app
COPY . .
RUN mkdir -p out && cp main.sh out/myapp && chmod 755 out/myapp
# Stage 2: the runtime image
FROM busybox
COPY --from=builder /app/out/myapp /usr/local/bin/
CMD ["myapp"]
DOCKERFILE
"$STRATA" build --progress plain -t myapp:v1 "$ctx"
echo "== strata build again: every step comes from the cache"
"$STRATA" build --progress plain -t myapp:v1 "$ctx" 2>&1 | grep -c CACHED | sed 's/$/ steps CACHED/'
echo "== strata run --rm myapp:v1"
"$STRATA" run --rm myapp:v1
echo "== strata registry serve --rbac on 127.0.0.1:5555: a public project, a robot account for CI, push and pull"
reg=$(mktemp -d)
R=(--storage "$reg/storage")
echo "quickstart-admin" | "$STRATA" registry user add admin --admin --password-stdin "${R[@]}"
"$STRATA" registry project create demo --public "${R[@]}"
read -r robot secret < <("$STRATA" registry robot create demo ci --perm pull,push --expires 1d "${R[@]}" | paste -sd' ')
"$STRATA" registry serve --rbac --addr 127.0.0.1:5555 "${R[@]}" 2>"$reg/log" &
regpid=$!
trap 'kill $regpid 2>/dev/null; rm -rf "$reg" "$ctx"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/5555) 2>/dev/null && break; sleep 0.1; done
export DOCKER_CONFIG=$reg/docker   # the robot's login stays in this demo
echo "$secret" | "$STRATA" login -u "$robot" --password-stdin 127.0.0.1:5555
"$STRATA" tag myapp:v1 127.0.0.1:5555/demo/myapp:v1
"$STRATA" push 127.0.0.1:5555/demo/myapp:v1
echo "== strata pull into a second, empty store (anonymous: the project is public), and run it from there"
STRATA_ROOT="$reg/client" DOCKER_CONFIG="$reg/anonymous" "$STRATA" pull 127.0.0.1:5555/demo/myapp:v1
STRATA_ROOT="$reg/client" "$STRATA" run --rm 127.0.0.1:5555/demo/myapp:v1
echo "== strata registry audit: who did what"
"$STRATA" registry audit --project demo "${R[@]}"
unset DOCKER_CONFIG
echo "== strata system df"
"$STRATA" system df
echo
echo "strata is at $STRATA; try: $STRATA run -it --rm debian:bookworm bash"
