#!/usr/bin/env bash
# Makes the base images every example and test starts from, offline:
#   busybox:latest   from Debian's busybox-static
#   debian:bookworm  from debootstrap --variant=minbase (skipped with --busybox-only)
# Usage: scripts/base-images.sh [--busybox-only]
# Uses $STRATA (default: target/release/strata, else `strata` on PATH) and the
# store in $STRATA_ROOT (default /var/lib/strata).
set -euo pipefail
cd "$(dirname "$0")/.."

only_busybox=false
[ "${1:-}" = "--busybox-only" ] && only_busybox=true

strata=${STRATA:-}
if [ -z "$strata" ]; then
  if [ -x target/release/strata ]; then strata=target/release/strata; else strata=strata; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# busybox: the static binary, its applets as symlinks, a minimal /etc.
rootfs="$work/busybox"
mkdir -p "$rootfs"/{bin,etc,root,tmp,home,var,proc,sys,dev}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
"$strata" import "$rootfs" busybox:latest \
  --change 'CMD ["sh"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message "busybox-static $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)" >/dev/null
echo "busybox:latest"

$only_busybox && exit 0

# debian:bookworm: debootstrap from the machine's own apt mirror, cached.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/strata
tarball="$cache/debian-bookworm-minbase.tar"
if [ ! -s "$tarball" ]; then
  mirror=$( (cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true) \
    | grep -E '^(URIs:|deb )' | grep -v security | grep -oE 'https?://[^ ]+/debian/?' | head -n 1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  mkdir -p "$cache"
  echo "debootstrap --variant=minbase bookworm from $mirror (about a minute)..." >&2
  debootstrap --variant=minbase bookworm "$work/debian" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/debian/var/cache/apt/archives/"*.deb "$work/debian/var/lib/apt/lists/"*
  tar -C "$work/debian" --numeric-owner --xattrs -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi
"$strata" import "$tarball" debian:bookworm \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message "debootstrap --variant=minbase bookworm" >/dev/null
echo "debian:bookworm"
