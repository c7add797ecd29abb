#!/usr/bin/env bash
# Installs the system packages Strata's tests, quick start and benchmarks use.
# Idempotent: only missing packages are installed. Needs root (apt-get).
set -euo pipefail

packages=(
  busybox-static   # base image for docs and tests
  debootstrap      # debian:bookworm base image
  skopeo           # interop oracle: OCI layouts and archives
  docker.io        # interop oracle: docker load/save/run (dockerd 20.10)
  runc             # the OCI runtime strata runs containers with
  containernetworking-plugins  # CNI bridge, portmap, firewall, loopback for container networks
  iptables         # used by the CNI plugins for NAT and published ports
  zstd             # zstd CLI as an oracle for our zstd layers
  time             # /usr/bin/time -v for peak RSS in benchmarks
  xz-utils
  bsdutils         # script(1): gives the terminal tests a pseudo-terminal
  docker-registry  # the reference distribution registry: pull/push/login interop
  apache2-utils    # htpasswd -B: bcrypt users for the registry's Basic auth
  openssl          # test CAs and certificates for TLS registries
  python3          # the test proxy adding token auth and faults (testdata/registry)
  curl             # raw HTTP against the registry server in tests
  podman           # interop: podman push/pull against strata registry serve
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
