"""Every event of events/manifest.json through `sam local invoke` (run by scripts/sam-events.sh).

Each event gets a fresh table on a moto server reachable from the containers, seeded with the
data the events expect (testkit's seed-events), and runs with events/env.json pointed at it. The
functions run from the x86_64 copy of template.yaml this script writes (the machine has no arm64
toolchain). When the official base image cannot be pulled, a stand-in is built from the
functions' own binaries: a static busybox, the loader and libraries `ldd` lists, CA
certificates, and the directories the Lambda runtime expects.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import docker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".sam-local")
BASE_IMAGE = "public.ecr.aws/lambda/provided:al2023-x86_64"
DEBUG = os.path.join(ROOT, "target", "debug")


def functions_of_template(text):
    """{logical id: binary} of every function with a cargo-lambda binary."""
    found = re.findall(r"\n  (\w+):\n    Type: AWS::Serverless::Function\n    Metadata:\n(?:      .*\n)*?        Binary: ([\w-]+)", text)
    return dict(found)


def write_template(functions):
    """The x86_64 copy of template.yaml whose functions run their debug binaries."""
    with open(os.path.join(ROOT, "template.yaml")) as f:
        text = f.read()
    text = text.replace("Architectures: [arm64]", "Architectures: [x86_64]")
    for logical_id, binary in functions.items():
        code = os.path.join(WORK, "code", binary)
        os.makedirs(code, exist_ok=True)
        bootstrap = os.path.join(code, "bootstrap")
        if os.path.exists(bootstrap):
            os.remove(bootstrap)
        try:
            os.link(os.path.join(DEBUG, binary), bootstrap)
        except OSError:
            shutil.copy2(os.path.join(DEBUG, binary), bootstrap)
        text = re.sub(
            rf"(\n  {logical_id}:\n(?:    .*\n|      .*\n)*?      CodeUri: )\.",
            lambda m: m.group(1) + code,
            text,
            count=1,
        )
    path = os.path.join(WORK, "template.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def ensure_base_image(client, binary):
    try:
        client.images.get(BASE_IMAGE)
        return "present"
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(BASE_IMAGE)
        return "pulled"
    except docker.errors.APIError:
        pass
    context = tempfile.mkdtemp(dir=WORK)
    root = os.path.join(context, "root")
    for directory in ["bin", "etc/ssl/certs", "var/task", "var/runtime", "opt", "tmp"]:
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    shutil.copy2(shutil.which("busybox"), os.path.join(root, "bin", "busybox"))
    os.symlink("busybox", os.path.join(root, "bin", "sh"))
    listed = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for library in re.findall(r"(/\S+) \(0x", listed):
        target = os.path.join(root, library.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.realpath(library), target)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", os.path.join(root, "etc/ssl/certs/"))
    with open(os.path.join(root, "etc", "nsswitch.conf"), "w") as f:
        f.write("hosts: files dns\n")
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY root/ /\nENV PATH=/bin\n")
    client.images.build(path=context, tag=BASE_IMAGE, rm=True)
    shutil.rmtree(context)
    return "built (a stand-in: the official image cannot be pulled here)"


def start_moto():
    env = dict(os.environ, MOTO_HOST="0.0.0.0")
    moto = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "testkit", "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    return moto, int(moto.stdout.readline())


def container_host(client):
    """How a container reaches this machine: the podman bridge's gateway, or Docker's host."""
    if os.environ.get("SAM_EVENTS_ENGINE") == "podman":
        network = client.networks.get("podman").attrs
        configs = network.get("IPAM", {}).get("Config") or [{}]
        return configs[0].get("Gateway", "10.88.0.1"), []
    return "host.docker.internal", ["--add-host", "host.docker.internal:host-gateway"]


def response_of(output):
    """The function's response: the first JSON object SAM printed on stdout."""
    decoder = json.JSONDecoder()
    start = output.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(output[start:])
            if isinstance(value, dict) and ("statusCode" in value or "batchItemFailures" in value):
                return value
        except json.JSONDecodeError:
            pass
        start = output.find("{", start + 1)
    return None


def main():
    started = time.monotonic()
    with open(os.path.join(ROOT, "template.yaml")) as f:
        functions = functions_of_template(f.read())
    with open(os.path.join(ROOT, "events", "manifest.json")) as f:
        manifest = json.load(f)
    # Queued batches (SQS): their answer names the messages to deliver again.
    with open(os.path.join(ROOT, "events", "queue", "manifest.json")) as f:
        manifest += json.load(f)
    with open(os.path.join(ROOT, "events", "env.json")) as f:
        env_vars = json.load(f)
    client = docker.from_env()
    template = write_template(functions)
    print("sam local invoke, every event of events/manifest.json:")
    print("  template: an x86_64 copy of template.yaml (this machine cannot build for arm64)")
    print(f"  base image {BASE_IMAGE}: {ensure_base_image(client, os.path.join(DEBUG, 'end-users'))}")
    host, extra = container_host(client)
    moto, port = start_moto()
    sam = os.path.join(ROOT, ".venv-sam", "bin", "sam")
    passed, failed = 0, 0
    try:
        for entry in manifest:
            table = f"events-{uuid.uuid4().hex[:12]}"
            key = env_vars["CustomersFunction"]["SECRETS_LOCAL_KEY"]
            subprocess.run(
                [os.path.join(DEBUG, "seed-events"), f"http://127.0.0.1:{port}", table, key],
                check=True,
            )
            env = {
                name: dict(values, TABLE_NAME=table, DYNAMODB_ENDPOINT=f"http://{host}:{port}")
                for name, values in env_vars.items()
            }
            env_path = os.path.join(WORK, "env.json")
            with open(env_path, "w") as f:
                json.dump(env, f)
            result = subprocess.run(
                [sam, "local", "invoke", "-t", template, entry["function"],
                 "-e", os.path.join(ROOT, "events", entry["event"]),
                 "--env-vars", env_path, "--skip-pull-image", *extra],
                capture_output=True,
                text=True,
                timeout=300,
            )
            response = response_of(result.stdout) or {}
            if "failures" in entry:
                expected = entry["failures"]
                failures = response.get("batchItemFailures")
                got = None if failures is None else [f.get("itemIdentifier") for f in failures]
            else:
                expected, got = entry["status"], response.get("statusCode")
            ok = got == expected
            passed, failed = passed + ok, failed + (not ok)
            print(f"  {'ok  ' if ok else 'FAIL'} {entry['event']:<36} {entry['function']:<20} {got} (expected {expected})")
            if not ok:
                print(result.stderr[-3000:], file=sys.stderr)
    finally:
        moto.kill()
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
