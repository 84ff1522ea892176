#!/usr/bin/env bash
# Installs the Python tools of the tests into the project-local virtualenv .venv: moto (the
# DynamoDB-compatible server), cfn-lint, aws-sam-translator and schemathesis. Does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cmp -s tests/requirements.txt .venv/installed-requirements.txt 2>/dev/null; then
  echo "Installing test tools into .venv ..."
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt .venv/installed-requirements.txt
fi
