#!/usr/bin/env bash
# Runs every event of events/manifest.json through `sam local invoke` against a local
# DynamoDB-compatible server (moto) holding the data the events expect, and prints one line per
# event and "N passed, M failed". Installs what it needs: the SAM CLI (pinned) into .venv-sam,
# and, where no container engine runs, podman and runc from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_VERSION=1.170.0
WORK=.sam-local
mkdir -p "$WORK"

if ! .venv-sam/bin/sam --version 2>/dev/null | grep -q "$SAM_VERSION"; then
  echo "Installing the SAM CLI $SAM_VERSION into .venv-sam ..."
  python3 -m venv .venv-sam
  .venv-sam/bin/pip install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION"
fi

if [ -z "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
  export SAM_EVENTS_ENGINE=docker
else
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v busybox >/dev/null; then
    echo "No container engine runs here: installing podman and runc (Debian packages) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q podman runc busybox-static >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q podman runc busybox-static >/dev/null; }
  fi
  # Containers start with limits below the sandbox's (raising them is refused), with runc
  # (crun fails on setrlimit here), served on a socket SAM reaches as DOCKER_HOST.
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$WORK/containers.conf"
  socket="$PWD/$WORK/podman.sock"
  # Only the service this script started (its pid, kept beside its socket) is ever stopped: a
  # podman service the user runs for anything else is left alone.
  pidfile="$PWD/$WORK/podman.pid"
  stop_own_podman() {
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  }
  stop_own_podman
  rm -f "$socket"
  CONTAINERS_CONF="$PWD/$WORK/containers.conf" \
    podman --runtime runc system service --time=0 "unix://$socket" >"$WORK/podman.log" 2>&1 &
  echo $! >"$pidfile"
  trap stop_own_podman EXIT
  for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
  export DOCKER_HOST="unix://$socket" SAM_EVENTS_ENGINE=podman
fi

# The functions once, as the tests built them (debug profile), and the seeding tool.
cargo build --quiet -p end-users -p end-user-imports -p end-user-lifecycle -p end-user-hygiene -p end-user-timeline -p end-user-sync -p end-user-uids -p openapi -p change-events -p contact-sync -p customers -p tickets -p webhooks -p retention -p erasure
cargo build --quiet -p answerpal-testkit --bin seed-events

status=0
SAM_CLI_TELEMETRY=0 .venv-sam/bin/python scripts/sam_events.py || status=$?
exit "$status"
