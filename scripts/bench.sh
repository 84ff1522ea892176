#!/usr/bin/env bash
# Prints the benchmark figures: the stripped size of each Lambda binary, then throughput and
# latency per operation on the local server, and DynamoDB calls per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh

# The functions are built with the release profile, as `cargo lambda build --release` builds
# them, here for this machine's own target (the arm64 standard library cannot be installed on it).
functions=(end-users end-user-imports end-user-lifecycle end-user-hygiene end-user-timeline end-user-sync end-user-uids openapi change-events contact-sync customers tickets webhooks retention erasure)
packages=()
for binary in "${functions[@]}"; do packages+=(-p "$binary"); done
cargo build --release --quiet "${packages[@]}"
echo "Lambda binaries (release profile: opt-level z, fat LTO, panic=abort, stripped, non-PIE; $(uname -m)):"
for binary in "${functions[@]}"; do
  bytes=$(stat -c %s "target/release/$binary")
  awk -v name="$binary" -v bytes="$bytes" 'BEGIN {
    printf "  %-16s %9d bytes  %5.2f MiB  %s\n", name, bytes, bytes / 1048576,
      (bytes <= 6000000 ? "within 6,000,000 bytes" : "OVER 6,000,000 bytes")
  }'
done
echo
cargo run --release --quiet -p bench
