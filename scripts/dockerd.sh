#!/usr/bin/env bash
# Starts dockerd in the background (if it is not answering already) and waits
# until it answers. The interop tests use it as an oracle.
set -euo pipefail
docker=/usr/bin/docker
if "$docker" info >/dev/null 2>&1; then
  exit 0
fi
log=${STRATA_DOCKERD_LOG:-/tmp/strata-dockerd.log}
echo "dockerd: starting (log: $log)" >&2
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if "$docker" info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "dockerd did not come up; last log lines:" >&2
tail -n 30 "$log" >&2
exit 1
