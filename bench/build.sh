#!/usr/bin/env bash
# Side-by-side benchmark: `strata build` against `docker build` (dockerd 20.10,
# the legacy builder with DOCKER_BUILDKIT=0 and BuildKit with DOCKER_BUILDKIT=1)
# and `buildah bud` (Debian's buildah, --isolation chroot, --layers). Every tool
# builds the same Dockerfiles from the same contexts on the same busybox image
# (made here from Debian's busybox-static, loaded into docker and into a private
# buildah store from `strata save`). Nothing is pulled from a registry.
#
#   bench/build.sh      (needs root; installs buildah if missing, starts dockerd)
#
# Scenarios:
#   cold      a two-stage build with --no-cache (strata also in a store never used before)
#   cached    the same build again, nothing changed
#   edit      one file that a late COPY reads gets new content before every run
#   parallel  three independent `RUN sleep 1` stages and a final stage that
#             COPY --from's all three, --no-cache (buildah with --jobs 3); floor 1 s
#   big       COPY of a 200 MB / 20,000-file context and a RUN writing 256 MiB
#             (16 x a 16 MiB slice of the context's binaries: deterministic, and it
#             compresses like real files), --no-cache; also peak RSS and MB/s
#
# Not hyperfine: the runs are interleaved round-robin (tool A, B, C, D, then again,
# rotating who goes first), so load from other work on the machine shifts every
# tool alike; each run's wall time (perf_counter around fork/exec/wait4) and peak
# RSS (wait4's ru_maxrss: the largest process in the tool's own process tree) are
# kept. Medians of $RUNS runs (10; $BIG_RUNS = 5 for `big`) after one warm-up
# run (none for the cold `parallel` and `big`). docker does its work in dockerd,
# so its peak RSS is dockerd's, sampled every 50 ms during its runs. Ratios are
# strata / peer: below 1, strata is faster. About 10 minutes on 2 cores.
#
# Environment: RUNS, BIG_RUNS, BENCH_DIR (work directory, default
# /var/tmp/strata-bench-build), STRATA (a strata binary to use instead of
# building target/release/strata), KEEP_RESULTS (copy the per-run JSON there).
#
# Cleans up what it made: its work directory (strata stores, buildah's private
# store, contexts), the docker images it built (labelled, and the legacy
# builder's intermediate images under its own busybox), and the BuildKit cache
# records that descend from its own busybox (its big context's record too).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
scripts/deps.sh
command -v buildah >/dev/null \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends buildah >/dev/null
if [ -z "${STRATA:-}" ]; then
  cargo build --release --locked -q -p strata-cli
  strata=$repo/target/release/strata
else
  strata=$STRATA
fi
docker=/usr/bin/docker
runs=${RUNS:-10}
big_runs=${BIG_RUNS:-5}
work=${BENCH_DIR:-/var/tmp/strata-bench-build}
started_utc=$(date -u '+%Y-%m-%d %H:%M:%S')
buildah_cmd="buildah --root $work/buildah/root --runroot $work/buildah/run --storage-driver overlay"
base=strata-bench-busybox:latest

have_docker=false
docker_base_id=""

# ---------------------------------------------------------------- clean up --
# Docker images: the labelled ones (every final image, dangling or not) and
# everything whose parent chain reaches this run's busybox (the legacy builder's
# intermediate and stage images), deepest first, then the busybox itself.
docker_cleanup() {
  [ -n "$docker_base_id" ] || return 0
  local ids
  ids=$("$docker" images -aq --no-trunc | sort -u | xargs -r "$docker" image inspect 2>/dev/null \
    | python3 -c '
import json, sys
base = sys.argv[1]
parent, mine = {}, set()
for img in json.load(sys.stdin):
    parent[img["Id"]] = img.get("Parent") or ""
    if ((img.get("Config") or {}).get("Labels") or {}).get("strata-bench") == "build":
        mine.add(img["Id"])
def depth(i):
    d, seen = 0, set()
    while i and i not in seen:
        seen.add(i)
        if i == base:
            return d
        i, d = parent.get(i, ""), d + 1
    return None
for i in parent:
    if i != base and depth(i) is not None:
        mine.add(i)
order = sorted(mine, key=lambda i: -(depth(i) or 0))
print("\n".join(order + [base]))' "$docker_base_id")
  for _ in 1 2; do
    # shellcheck disable=SC2086
    echo "$ids" | xargs -r "$docker" rmi >/dev/null 2>&1 || true
  done
}

# BuildKit cache: the records whose parent chain reaches the root that a record
# of ours (a RUN mentioning "strata-bench") descends from, i.e. this run's own
# busybox, deepest first; and the big context's local-source record (the only
# one of 100 MB or more made since the start). Others' records are left alone.
buildkit_cleanup() {
  $have_docker || return 0
  local pass ids
  for pass in 1 2 3; do
    ids=$("$docker" system df -v --format '{{json .BuildCache}}' | python3 -c '
import json, re, sys
since = sys.argv[1]
recs = {r["ID"].rstrip("*"): r for r in (json.load(sys.stdin) or [])}
def size(s):
    m = re.match(r"([\d.]+)\s*([kMGT]?)B", s)
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m.group(2)] if m else 0
def chain(i):
    out = []
    while i in recs and i not in out:
        out.append(i)
        i = recs[i]["Parent"]
    return out
roots = {chain(i)[-1] for i, r in recs.items() if "strata-bench" in r["Description"]}
mine = {}
for i in recs:
    c = chain(i)
    if c[-1] in roots:
        mine[i] = len(c)
for i, r in recs.items():
    if (r["CacheType"] == "source.local" and r["CreatedAt"][:19] >= since
            and size(r["Size"]) >= 100e6):
        mine[i] = 0
for i in sorted(mine, key=lambda i: -mine[i]):
    print(mine[i], i)' "$started_utc")
    [ -n "$ids" ] || break
    # Children before parents: one depth at a time, four prunes at once.
    for d in $(echo "$ids" | cut -d' ' -f1 | uniq); do
      echo "$ids" | awk -v d="$d" '$1 == d {print $2}' \
        | xargs -r -P4 -I{} "$docker" builder prune -af --filter id={} >/dev/null 2>&1 || true
    done
  done
}

cleanup() {
  set +e
  if $have_docker; then
    docker_cleanup
    buildkit_cleanup
  fi
  if [ -d "$work/buildah/root" ]; then
    $buildah_cmd rm --all >/dev/null 2>&1
    $buildah_cmd rmi --all --force >/dev/null 2>&1
  fi
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$work"
  echo "done in $SECONDS s"
}

# A previous run that was killed may have left its store mounted.
if [ -d "$work" ]; then
  [ -d "$work/buildah/root" ] && { $buildah_cmd rm --all >/dev/null 2>&1; $buildah_cmd rmi --all --force >/dev/null 2>&1; } || true
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$work"
fi
mkdir -p "$work"
trap cleanup EXIT

# ----------------------------------------------------------------- images --
export STRATA_ROOT=$work/strata
STRATA=$strata scripts/base-images.sh --busybox-only >/dev/null
"$strata" tag busybox:latest "$base"
"$strata" save "$base" -o "$work/busybox.tar"

# -------------------------------------------------------------- contexts --
# Two-stage: a builder stage that "compiles" (checksums, archives) 40 source
# files, a final stage that takes its output, a config directory and a RUN.
two=$work/ctx-two
mkdir -p "$two/src" "$two/config"
for i in $(seq 40); do seq "$i" 3 4000 >"$two/src/f$i.txt"; done
echo "initial" >"$two/config/app.conf"
cat >"$two/Dockerfile" <<'EOF'
FROM strata-bench-busybox AS builder
WORKDIR /src
COPY src/ ./
RUN mkdir -p /out && for f in *.txt; do sort -n "$f" | md5sum >/out/"$f".sum; done && tar -cf /out/src.tar . && echo strata-bench >/out/built-by
FROM strata-bench-busybox
COPY --from=builder /out/ /app/
COPY config/ /etc/app/
RUN ls -la /app /etc/app >/app/manifest && echo strata-bench >>/app/manifest
CMD ["sh"]
EOF

par=$work/ctx-par
mkdir -p "$par"
cat >"$par/Dockerfile" <<'EOF'
FROM strata-bench-busybox AS a
RUN sleep 1 && echo strata-bench-a >/a
FROM strata-bench-busybox AS b
RUN sleep 1 && echo strata-bench-b >/b
FROM strata-bench-busybox AS c
RUN sleep 1 && echo strata-bench-c >/c
FROM strata-bench-busybox
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
EOF

big=$work/ctx-big
python3 bench/make-rootfs.py "$big/data" 20000 200 >/dev/null
find "$big/data" -type f -print0 | LC_ALL=C sort -z | xargs -0 cat 2>/dev/null \
  | head -c $((16 << 20)) >"$work/seed.bin" || true
mv "$work/seed.bin" "$big/data/seed.bin"
cat >"$big/Dockerfile" <<'EOF'
FROM strata-bench-busybox
COPY data/ /data/
RUN i=0; while [ $i -lt 16 ]; do cat /data/seed.bin; i=$((i+1)); done >/blob && echo strata-bench >/blob.done
EOF
big_files=$(find "$big/data" -type f | wc -l)
big_bytes=$(find "$big/data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

smoke=$work/ctx-smoke
mkdir -p "$smoke"
printf 'FROM strata-bench-busybox\nRUN echo strata-bench-smoke >/ok\n' >"$smoke/Dockerfile"

# ------------------------------------------------------------------ peers --
tools=strata
skip_reasons=()
if "$strata" build -q -t strata-bench/smoke "$smoke" >"$work/smoke.log" 2>&1; then :; else
  cat "$work/smoke.log" >&2; echo "strata build does not work here; nothing to compare" >&2; exit 1
fi
if scripts/dockerd.sh 2>"$work/dockerd.err"; then
  have_docker=true
  "$docker" load -i "$work/busybox.tar" >/dev/null
  docker_base_id=$("$docker" image inspect -f '{{.Id}}' "$base")
  for b in 0 1; do
    name=$([ $b = 0 ] && echo legacy || echo buildkit)
    if DOCKER_BUILDKIT=$b "$docker" build --label strata-bench=build -t "strata-bench/smoke:$name" \
      "$smoke" >"$work/smoke.log" 2>&1; then
      tools+=",$name"
    else
      skip_reasons+=("docker ($name): smoke build failed: $(tail -n 1 "$work/smoke.log")")
    fi
  done
else
  skip_reasons+=("docker (legacy and BuildKit): dockerd did not start: $(tail -n 1 "$work/dockerd.err")")
fi
if $buildah_cmd pull -q "docker-archive:$work/busybox.tar" >"$work/smoke.log" 2>&1 \
  && $buildah_cmd bud --isolation chroot --layers --pull-never -t strata-bench/smoke \
    "$smoke" >"$work/smoke.log" 2>&1; then
  tools+=",buildah"
else
  skip_reasons+=("buildah: $(tail -n 1 "$work/smoke.log")")
fi
for r in "${skip_reasons[@]}"; do echo "skipped: $r"; done

# ----------------------------------------------------------------- measure --
git_rev="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo '+dirty')"
echo "strata build benchmark: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "strata $git_rev, docker $("$docker" version --format '{{.Server.Version}}' 2>/dev/null || echo n/a)," \
  "buildah $(buildah --version | awk '{print $3}'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "big context: $big_files files, $((big_bytes / 1000000)) MB; RUN writes 256 MiB"
echo "medians of $runs runs (big: $big_runs), runs interleaved round-robin; ratio = strata / peer"
echo "(set up in $SECONDS s)"
measure_start=$SECONDS
echo

WORK=$work STRATA_BIN=$strata DOCKER=$docker BUILDAH=$buildah_cmd TOOLS=$tools \
RUNS=$runs BIG_RUNS=$big_runs BIG_BYTES=$big_bytes REPO=$repo \
  python3 - <<'EOF'
import json, os, re, statistics, subprocess, sys, threading, time

E = os.environ
work, strata, docker = E["WORK"], E["STRATA_BIN"], E["DOCKER"]
buildah = E["BUILDAH"].split()
tools = E["TOOLS"].split(",")
runs, big_runs = int(E["RUNS"]), int(E["BIG_RUNS"])
big_bytes = int(E["BIG_BYTES"]) + (256 << 20)
label = {"strata": "strata", "strata-fresh": "strata, new store", "legacy": "docker legacy",
         "buildkit": "docker BuildKit", "buildah": "buildah"}
peers = [t for t in tools if t != "strata"]

def command(tool, ctx, tag, no_cache, jobs=None):
    env = dict(os.environ)
    nc = ["--no-cache"] if no_cache else []
    if tool == "strata":
        cmd = [strata, "build", "--progress", "plain", *nc, "-t", tag, ctx]
    elif tool == "strata-fresh":
        cmd = [strata, "--root", f"{work}/fresh/cur", "build", "--progress", "plain", "-t", tag, ctx]
    elif tool in ("legacy", "buildkit"):
        env["DOCKER_BUILDKIT"] = "0" if tool == "legacy" else "1"
        extra = ["--progress", "plain"] if tool == "buildkit" else ["--force-rm"]
        cmd = [docker, "build", *extra, *nc, "--label", "strata-bench=build", "-t", f"{tag}:{tool}", ctx]
    else:
        j = ["--jobs", str(jobs)] if jobs else []
        cmd = [*buildah, "bud", "--isolation", "chroot", "--layers", "--pull-never", *j, *nc, "-t", tag, ctx]
    return cmd, env

def dockerd_pid():
    try:
        return int(subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()[0])
    except Exception:
        return None

def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

def timed(cmd, env, log, sample_pid=None):
    peak = [0]
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(sample_pid))
            stop.wait(0.05)
    th = None
    if sample_pid:
        th = threading.Thread(target=sample, daemon=True)
        th.start()
    with open(log, "wb") as out:
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter_ns()
        p.returncode = os.waitstatus_to_exitcode(status)
    if th:
        stop.set()
        th.join()
    return (t1 - t0) / 1e9, (peak[0] if sample_pid else ru.ru_maxrss), p.returncode

fresh_n = [0]
def fresh_store():
    fresh_n[0] += 1
    root = f"{work}/fresh/{fresh_n[0]}"
    env = dict(os.environ, STRATA_ROOT=root, STRATA=strata)
    subprocess.run([f"{E['REPO']}/scripts/base-images.sh", "--busybox-only"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([strata, "--root", root, "tag", "busybox:latest", "strata-bench-busybox:latest"],
                   check=True)
    cur = f"{work}/fresh/cur"
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(root, cur)

def edit_config():
    with open(f"{work}/ctx-two/config/app.conf", "w") as f:
        f.write(f"edited {time.time_ns()}\n")

results = {}
def scenario(key, title, ctx, tag, no_cache, n, warmup, prepare=None, extra_tools=(), jobs=None):
    ts = [t for t in tools] + list(extra_tools)
    times = {t: [] for t in ts}
    rss = {t: [] for t in ts}
    failed = {}
    dpid = dockerd_pid()
    for r in range(warmup + n):
        k = r % len(ts)
        for t in ts[k:] + ts[:k]:
            if t in failed:
                continue
            if prepare:
                prepare(t)
            if t == "strata-fresh":
                fresh_store()
            cmd, env = command(t, ctx, tag, no_cache, jobs if t == "buildah" else None)
            log = f"{work}/{key}-{t}.log"
            s, kb, rc = timed(cmd, env, log, dpid if t in ("legacy", "buildkit") else None)
            if rc != 0:
                tail = open(log, errors="replace").read().strip().splitlines()[-3:]
                failed[t] = f"exit {rc}: " + " | ".join(tail)
                print(f"  {label[t]} failed in '{title}': {failed[t]}", file=sys.stderr)
                continue
            if r >= warmup:
                times[t].append(s)
                rss[t].append(kb)
    res = {}
    for t in ts:
        if times[t]:
            res[t] = {"median": statistics.median(times[t]), "min": min(times[t]),
                      "max": max(times[t]), "times": times[t], "peak_rss_kib": max(rss[t])}
        else:
            res[t] = {"failed": failed.get(t, "no runs")}
    results[key] = {"title": title, "tools": res}
    print(f"{title}:")
    for t in ts:
        x = res[t]
        if "median" not in x:
            print(f"  {label[t]:18} failed: {x['failed']}")
            continue
        line = f"  {label[t]:18} {x['median']:8.3f} s  (min {x['min']:.3f}, max {x['max']:.3f})"
        if t in peers and "median" in res.get("strata", {}):
            line += f"   strata/{label[t]}: {res['strata']['median'] / x['median']:.2f}"
        print(line)
    sys.stdout.flush()

def sync(_t):
    os.sync()

two, par, big = f"{work}/ctx-two", f"{work}/ctx-par", f"{work}/ctx-big"
scenario("cold", "two-stage build, cold (--no-cache)", two, "strata-bench/two", True, runs, 1,
         extra_tools=("strata-fresh",))
scenario("cached", "two-stage build, fully cached", two, "strata-bench/two", False, runs, 1)
scenario("edit", "one file of a late COPY edited", two, "strata-bench/two", False, runs, 1,
         prepare=lambda t: edit_config())
scenario("parallel", "three RUN sleep 1 stages + COPY --from (--no-cache; buildah --jobs 3)", par,
         "strata-bench/par", True, runs, 0, jobs=3)
scenario("big", "200 MB / 20k-file COPY + 256 MiB RUN (--no-cache)", big, "strata-bench/big", True,
         big_runs, 0, prepare=sync)

# Per-step times of the last big build, from the plain progress of strata and BuildKit.
def steps(log):
    names, done = {}, {}
    for line in open(log, errors="replace"):
        m = re.match(r"#(\d+) (.*)", line.rstrip())
        if m and m.group(1) not in names:
            names[m.group(1)] = m.group(2)[:60]
        m = re.match(r"#(\d+) DONE ([\d.]+)s", line)
        if m:
            done[m.group(1)] = float(m.group(2))
    return [(names.get(k, f"#{k}"), v) for k, v in done.items() if v >= 0.05]

print()
print(f"big: {big_bytes / 1e6:.0f} MB of layer content (COPY + RUN)")
goals = {"cold": 0.5, "cached": 0.3, "edit": 0.5, "parallel": 0.65, "big": 0.5}
bx = results["big"]["tools"]
for t in tools:
    if "median" in bx[t]:
        print(f"  {label[t]:18} {big_bytes / 1e6 / bx[t]['median']:6.0f} MB/s end to end")
for t in ("strata", "buildkit"):
    log = f"{work}/big-{t}.log"
    if t in tools and os.path.exists(log):
        for name, secs in steps(log):
            moved = (big_bytes - (256 << 20) if "COPY data/" in name else
                     256 << 20 if "RUN " in name else 0)
            rate = f"  ({moved / 1e6 / secs:.0f} MB/s)" if moved else ""
            print(f"    {label[t]} step {name}: {secs:.1f} s{rate}")
print("peak RSS during big (strata, buildah: largest process of the tool's tree; docker: dockerd, sampled):")
base_rss = rss_kib(dockerd_pid()) if dockerd_pid() else 0
for t in tools:
    if "median" in bx[t]:
        who = "dockerd" if t in ("legacy", "buildkit") else t
        print(f"  {label[t]:18} {bx[t]['peak_rss_kib'] / 1024:7.1f} MiB ({who})")
if "median" in results["cold"]["tools"].get("strata", {}):
    print(f"  (strata in the small cold build: {results['cold']['tools']['strata']['peak_rss_kib'] / 1024:.1f} MiB;"
          f" dockerd now: {base_rss / 1024:.0f} MiB)")

# Summary, as a markdown table (bench/RESULTS.md takes it as is).
cols = [t for t in ("legacy", "buildkit", "buildah") if t in tools]
def fmt(x):
    return f"{x['median']:.3f} s" if "median" in x else "failed"
print()
hdr = ["scenario", "strata"] + [label[c] for c in cols] + ["strata / best peer", "goal"] + \
      [f"strata / {label[c]}" for c in cols]
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for key, sc in results.items():
    x = sc["tools"]
    row = [sc["title"], fmt(x["strata"])] + [fmt(x[c]) for c in cols]
    ok = [c for c in cols if "median" in x[c]]
    if "median" in x["strata"] and ok:
        best = min(ok, key=lambda c: x[c]["median"])
        ratio = x["strata"]["median"] / x[best]["median"]
        row += [f"**{ratio:.2f}** ({label[best]})",
                f"≤ {goals[key]} {'met' if ratio <= goals[key] else 'MISSED'}"]
        row += [f"{x['strata']['median'] / x[c]['median']:.2f}" if c in ok else "–" for c in cols]
    else:
        row += ["–", f"≤ {goals[key]}"] + ["–" for _ in cols]
    print("| " + " | ".join(row) + " |")
if "median" in results["cold"]["tools"].get("strata-fresh", {}):
    print(f"\nstrata cold in a store never used before: {results['cold']['tools']['strata-fresh']['median']:.3f} s")
print(f"load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}")
json.dump(results, open(f"{work}/results.json", "w"), indent=1)
EOF
if [ -n "${KEEP_RESULTS:-}" ]; then cp "$work/results.json" "$KEEP_RESULTS"; fi
echo
echo "measured in $((SECONDS - measure_start)) s; cleaning up..."
