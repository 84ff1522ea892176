#!/usr/bin/env bash
# The perf harness (bench/perf/harness.py): Lambda init and invoke costs and local-server
# throughput beside bare baselines, release builds, alternating runs. Not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh
cargo build --release --quiet -p end-users -p customers -p hello-lambda
# The local server, its baseline and the load generator: tuned for speed (Cargo.toml).
cargo build --profile server --quiet -p local-api -p hello-hyper -p bench
exec .venv/bin/python bench/perf/harness.py
