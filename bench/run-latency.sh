#!/usr/bin/env bash
# Side-by-side benchmark: start-to-exit latency of `run --rm busybox true` with
# strata, docker (dockerd 20.10), podman (4.3, with runc) and bare `runc run` of
# a prepared bundle. All four run the same busybox image (made here from
# Debian's busybox-static, loaded into docker and podman from `strata save`).
#
#   bench/run-latency.sh      (needs root; installs and starts the peers)
#
# Uses hyperfine (mean of $RUNS runs after 3 warm-ups) and prints ratios
# peer/strata (above 1: strata is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
command -v hyperfine >/dev/null && command -v podman >/dev/null \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine podman >/dev/null
scripts/dockerd.sh
cargo build --release --locked -q -p strata-cli
strata=$PWD/target/release/strata
docker=/usr/bin/docker
podman="podman --runtime /usr/sbin/runc --cgroup-manager cgroupfs"
# Podman asks runc for nofile/nproc limits above the caller's hard limits, which
# fails where root lacks CAP_SYS_RESOURCE (as in some VMs and sandboxes); fixed
# low limits work everywhere and cost nothing.
podman_run="$podman run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
runs=${RUNS:-30}

work=${BENCH_DIR:-/var/tmp/strata-bench-run}
rm -rf "$work"
mkdir -p "$work"
export STRATA_ROOT=$work/store
STRATA=$strata scripts/base-images.sh --busybox-only >/dev/null
"$strata" save busybox:latest -o "$work/busybox.tar"
$docker load -i "$work/busybox.tar" >/dev/null
$podman load -i "$work/busybox.tar" >/dev/null

# Bare runc: the busybox rootfs and runc's own default spec, running `true`.
bundle=$work/bundle
mkdir -p "$bundle/rootfs"
$docker create --name strata-bench-export busybox:latest true >/dev/null
$docker export strata-bench-export | tar -C "$bundle/rootfs" -xf -
$docker rm strata-bench-export >/dev/null
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
json.dump(spec, open(path, "w"))
EOF

# Bare runc with the spec strata generates (Docker's seccomp profile, cgroup
# limits, masked paths): what the runtime alone costs for strata's containers.
spec_id=$("$strata" create --network host busybox true)
"$strata" start "$spec_id" >/dev/null
ours=$work/bundle-strata-spec
mkdir -p "$ours"
python3 - "$STRATA_ROOT/containers/$spec_id/bundle/config.json" "$ours/config.json" "$bundle/rootfs" <<'EOF2'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["root"]["path"] = sys.argv[3]
spec["mounts"] = [m for m in spec["mounts"] if not m["destination"].startswith("/etc/")]
spec["linux"]["cgroupsPath"] = "/strata-bench/runc"
json.dump(spec, open(sys.argv[2], "w"))
EOF2
"$strata" rm -f "$spec_id" >/dev/null

echo "run --rm busybox true, start to exit; $(nproc) cores; mean of $runs runs"
hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$work/results.json" \
  -n "strata (bridge)" "$strata run --rm busybox true" \
  -n "strata (--network none)" "$strata run --rm --network none busybox true" \
  -n "docker (bridge)" "$docker run --rm busybox true" \
  -n "docker (--network none)" "$docker run --rm --network none busybox true" \
  -n "podman (bridge)" "$podman_run --rm busybox true" \
  -n "podman (--network none)" "$podman_run --rm --network none busybox true" \
  -n "bare runc run" "runc run --bundle $bundle strata-bench-runc" \
  -n "bare runc run, strata's spec" "runc run --bundle $ours strata-bench-runc2" >/dev/null

python3 - "$work/results.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print()
for name, x in r.items():
    print(f"  {name:26} {x['mean'] * 1000:7.1f} ms  ± {x['stddev'] * 1000:5.1f}")
print()
for net in ("bridge", "--network none"):
    ours = r[f"strata ({net})"]["mean"]
    for peer in ("docker", "podman"):
        theirs = r[f"{peer} ({net})"]["mean"]
        print(f"  {peer} / strata ({net}): {theirs / ours:5.2f}x   "
              f"(strata at {ours / theirs:.2f} of {peer}'s latency)")
runc = r["bare runc run"]["mean"]
for net in ("bridge", "--network none"):
    print(f"  strata ({net}) / bare runc: {r[f'strata ({net})']['mean'] / runc:5.2f}x")
spec = r["bare runc run, strata's spec"]["mean"]
print(f"  runc with strata's spec / runc with its default spec: {spec / runc:5.2f}x")
EOF
$podman rmi -f busybox:latest >/dev/null 2>&1 || true
rm -rf "$work"
