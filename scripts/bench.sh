#!/usr/bin/env bash
# Prints the benchmark figures: the stripped size of each Lambda binary, then throughput and
# latency per operation on the local server, and DynamoDB calls per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh

# The functions are built with the release profile, as `cargo lambda build --release` builds
# them, here for this machine's own target (the arm64 standard library cannot be installed on it).
cargo build --release --quiet -p end-users -p end-user-uids
echo "Lambda binaries (release profile: opt-level z, fat LTO, panic=abort, stripped, non-PIE; $(uname -m)):"
for binary in end-users end-user-uids; do
  bytes=$(stat -c %s "target/release/$binary")
  awk -v name="$binary" -v bytes="$bytes" 'BEGIN {
    printf "  %-16s %9d bytes  %5.2f MiB  %s\n", name, bytes, bytes / 1048576,
      (bytes <= 6 * 1048576 ? "within 6 MiB" : "OVER 6 MiB")
  }'
done
echo
cargo run --release --quiet -p bench
