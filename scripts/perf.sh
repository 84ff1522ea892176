#!/usr/bin/env bash
# The perf harness (bench/perf/harness.py): every function's init, cold start, warm invoke, CPU
# and memory beside the hand-written SDK function (hello-sdk) and the same on the project's own
# client set-up (hello-sdk-lean), alternated runs; local-server throughput beside bare hyper.
# Not part of the test command. PERF_BEFORE=DIR also runs the function binaries in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh
functions=(end-users end-user-uids tickets customers webhooks hello-sdk-lean)
packages=()
for binary in "${functions[@]}"; do packages+=(-p "$binary"); done
cargo build --release --quiet "${packages[@]}"
# hello-sdk is a project of its own (bench/baselines/hello-sdk/Cargo.toml): Cargo's default
# release profile and every crate's default features, as `cargo lambda build --release` builds a
# fresh project. Same target folder, so its binary lands beside the functions'.
cargo build --release --quiet --locked --manifest-path bench/baselines/hello-sdk/Cargo.toml \
  --target-dir target
# The seed of the events' data, and the local server, its baseline and the load generator, tuned
# for speed (Cargo.toml's `server` profile).
cargo build --quiet -p answerpal-testkit --bin seed-events
cargo build --profile server --quiet -p local-api -p hello-hyper -p bench
exec .venv/bin/python bench/perf/harness.py
