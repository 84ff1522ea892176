#!/usr/bin/env bash
# Installs what the tests need, then runs every check and test:
#   - a project-local virtualenv (.venv) with moto (the DynamoDB-compatible server the suites
#     start on a free loopback port), cfn-lint, aws-sam-translator and schemathesis;
#   - the offline template check, rustfmt, clippy, and the whole Rust test suite;
#   - schemathesis against the local server, from the OpenAPI document it serves
#     (scripts/schemathesis.sh);
#   - then every event of events/ through `sam local invoke` (scripts/sam-events.sh: the SAM CLI
#     pinned in .venv-sam, podman and runc from Debian's packages where no container engine runs).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-test-tools.sh

.venv/bin/python scripts/check-template.py template.yaml
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
./scripts/schemathesis.sh
./scripts/sam-events.sh
