#!/usr/bin/env bash
# Installs what the tests need, then runs every check and test:
#   - a project-local virtualenv (.venv) with moto (the DynamoDB-compatible server the suites
#     start on a free loopback port), cfn-lint and aws-sam-translator;
#   - the offline template check, rustfmt, clippy, and the whole Rust test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-test-tools.sh

.venv/bin/python scripts/check-template.py template.yaml
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
