#!/usr/bin/env bash
# Prints the benchmark figures: the stripped size of each Lambda binary (release profile), then
# throughput and latency per operation on the local server, and DynamoDB calls per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-tools.sh
cargo build --release --quiet -p end-users -p end-user-uids
echo "Lambda binaries (release profile: opt-level z, fat LTO, panic=abort, stripped; $(uname -m)):"
for binary in end-users end-user-uids; do
  bytes=$(stat -c %s "target/release/$binary")
  awk -v name="$binary" -v bytes="$bytes" 'BEGIN { printf "  %-16s %9d bytes  %5.2f MB  %s\n", name, bytes, bytes / 1048576, (bytes <= 6 * 1048576 ? "within 6 MB" : "OVER 6 MB") }'
done
echo
cargo run --release --quiet -p bench
