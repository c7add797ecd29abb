#!/usr/bin/env bash
# The test command: installs what the tests need, starts dockerd, then runs
# the format check, clippy and every test (interop tests included: they fail
# rather than skip when a peer is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/dockerd.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
STRATA_REQUIRE_PEERS=1 cargo test --workspace --locked
