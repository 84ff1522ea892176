"""The perf harness: Lambda init and invoke costs and local-server throughput, each beside a bare
baseline built with the same release profile, in alternating runs. Standard library only.

Run it through scripts/perf.sh, which builds the binaries first.

- A Lambda Runtime API emulator spawns a function binary and measures init (spawn to its first
  GET /next), the first invoke, the median warm invoke, the CPU time per warm invoke
  (/proc/PID/stat) and the peak RSS after the invokes (VmHWM).
- DynamoDB (moto) sits behind a timing proxy, so each invoke's own share (invoke minus the
  DynamoDB time it waited for) is visible.
- The local server and a bare hyper hello each run pinned to one core, loaded from the other by
  `bench load` (Rust, keep-alive, 16 clients). These three are built with the `server` profile
  (opt-level 3: the local server is not deployed, so it is tuned for speed); the functions and the
  bare lambda_http hello with the size-tuned release profile.
"""

import http.client
import http.server
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")
# The local server, the bare hyper hello and the load generator: Cargo.toml's `server` profile.
SERVER = os.path.join(ROOT, "target", "server")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
EVENTS_SECRET = "events-local-secret"
TABLE = "perf"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
RUNS = int(os.environ.get("PERF_RUNS", "15"))
# An older end-users binary to measure in the same alternation (a "before" column).
BEFORE = os.environ.get("PERF_BEFORE")
WARM_INVOKES = 200
# Alternated local-server and bare hyper runs: this kind of machine varies by 2x between runs.
SERVER_ROUNDS = int(os.environ.get("PERF_SERVER_ROUNDS", "5"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded server whose connections send small segments at once (no Nagle delay, which
    with the client's delayed ACK would add 40 ms to an exchange) and whose clients may hang up."""

    daemon_threads = True

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class TimingProxy(QuietServer):
    """Forwards each HTTP request to moto and records when it started and ended."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.spans = []
        self.lock = threading.Lock()
        self.local = threading.local()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    def upstream(self):
        if not hasattr(self.local, "connection"):
            connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.local.connection = connection
        return self.local.connection

    def waited_between(self, start, end):
        with self.lock:
            return sum(e - s for s, e in self.spans if s >= start and e <= end)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        started = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        connection = self.server.upstream()
        connection.request("POST", self.path, body, headers)
        response = connection.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        with self.server.lock:
            self.server.spans.append((started, time.perf_counter()))


class RuntimeApi(QuietServer):
    """The Lambda Runtime API, one function process at a time."""

    def __init__(self):
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.first_next = None
        super().__init__(("127.0.0.1", 0), RuntimeHandler)


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/invocation/next"):
            self.send_error(404)
            return
        if self.server.first_next is None:
            self.server.first_next = time.perf_counter()
        request_id, event = self.server.events.get()
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:perf")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if "/invocation/" in self.path:
            self.server.responses.put((time.perf_counter(), self.path, body))
        else:
            print("init error:", body.decode(errors="replace"), file=sys.stderr)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_function(binary, event, proxy_port, extra_env):
    """One cold start of `binary`: init, first invoke, warm invokes. Returns the figures."""
    api = RuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "perf",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "perf",
        "AWS_LAMBDA_LOG_GROUP_NAME": "perf",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "JWT_SECRET": EVENTS_SECRET,
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{proxy_port}",
        "RUST_LOG": "warn",
    }
    env.update(extra_env)
    spawned = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    try:
        while api.first_next is None:
            time.sleep(0.0002)
            if process.poll() is not None:
                raise RuntimeError(f"{binary} exited during init")
        figures = {"init": api.first_next - spawned}
        invokes = []
        cpu_before_warm = None
        for n in range(WARM_INVOKES + 1):
            if n == 1:
                cpu_before_warm = cpu_seconds(process.pid)
            sent = time.perf_counter()
            api.events.put((f"req-{n}", event))
            answered, path, body = api.responses.get(timeout=30)
            if not path.endswith("/response") or b'"statusCode":200' not in body.replace(b" ", b""):
                raise RuntimeError(f"{binary}: unexpected answer {body[:300]!r}")
            invokes.append((answered - sent, proxy.waited_between(sent, answered)))
        figures["first"], figures["first_store"] = invokes[0]
        warm = invokes[1:]
        figures["warm"] = statistics.median(t for t, _ in warm)
        figures["warm_store"] = statistics.median(s for _, s in warm)
        figures["cpu"] = (cpu_seconds(process.pid) - cpu_before_warm) / WARM_INVOKES
        figures["rss"] = peak_rss_mib(process.pid)
        return figures
    finally:
        process.kill()
        process.wait()
        api.shutdown()


def start_moto():
    moto = subprocess.Popen(
        [PYTHON, os.path.join(ROOT, "testkit", "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return moto, int(moto.stdout.readline())


def start_local_server(port, extra_env, cpu="0"):
    env = dict(os.environ, PORT=str(port), JWT_SECRET=EVENTS_SECRET, RUST_LOG="warn", TABLE_NAME=TABLE)
    env.pop("DYNAMODB_ENDPOINT", None)
    env.update(extra_env)
    server = subprocess.Popen(
        ["taskset", "-c", cpu, os.path.join(SERVER, "local-api")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    server.stdout.readline()
    return server


def create_end_user(port):
    token = events_token()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/EndUsers",
        data=json.dumps({"firstname": "Perf", "lastname": "Test", "uids": [{"uidType": "Email", "uid": "perf@example.com"}]}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["endUserID"]


def events_token():
    with open(os.path.join(ROOT, "events", "get-end-user.json")) as f:
        return json.load(f)["headers"]["authorization"].split(" ", 1)[1]


def get_event(end_user_id):
    with open(os.path.join(ROOT, "events", "get-end-user.json")) as f:
        text = f.read()
    return json.loads(text.replace("/api/EndUsers/1000", f"/api/EndUsers/{end_user_id}").replace('"id": "1000"', f'"id": "{end_user_id}"'))


def load(url, token, requests):
    output = subprocess.run(
        ["taskset", "-c", "1", os.path.join(SERVER, "bench"), "load", url, token, str(requests)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.split()[0])


def customers_event_and_env():
    """GET /api/Customers/me, with the local secrets key of events/env.json."""
    with open(os.path.join(ROOT, "events", "get-customer.json")) as f:
        event = json.load(f)
    with open(os.path.join(ROOT, "events", "env.json")) as f:
        key = json.load(f)["CustomersFunction"]["SECRETS_LOCAL_KEY"]
    return event, {"WARM_STORE_AT_INIT": "false", "SECRETS_LOCAL_KEY": key}


def lambda_figures(proxy_port, end_user_id):
    event = get_event(end_user_id)
    customers_event, customers_env = customers_event_and_env()
    functions = {
        "end-users": (os.path.join(RELEASE, "end-users"), {"WARM_STORE_AT_INIT": "false"}, event),
        "end-users, warm-up at init": (os.path.join(RELEASE, "end-users"), {}, event),
        "customers": (os.path.join(RELEASE, "customers"), customers_env, customers_event),
        "bare lambda_http": (os.path.join(RELEASE, "hello-lambda"), {}, event),
    }
    if BEFORE:
        functions["before"] = (BEFORE, {}, event)
    runs = {name: [] for name in functions}
    for n in range(RUNS):
        for name, (binary, env, function_event) in functions.items():
            runs[name].append(run_function(binary, function_event, proxy_port, env))
        print(f"  lambda run {n + 1}/{RUNS} done", file=sys.stderr)
    return {name: {key: statistics.median(r[key] for r in figures) for key in figures[0]} for name, figures in runs.items()}


def server_figures():
    token = events_token()
    results = {"local": [], "hyper": []}
    for _ in range(SERVER_ROUNDS):
        port = free_port()
        server = start_local_server(port, {})
        try:
            end_user = create_end_user(port)
            results["local"].append(load(f"http://127.0.0.1:{port}/api/EndUsers/{end_user}", token, 40_000))
        finally:
            server.kill()
            server.wait()
        port = free_port()
        hello = subprocess.Popen(
            ["taskset", "-c", "0", os.path.join(SERVER, "hello-hyper")],
            env=dict(os.environ, PORT=str(port)),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            hello.stdout.readline()
            results["hyper"].append(load(f"http://127.0.0.1:{port}/", "", 40_000))
        finally:
            hello.kill()
            hello.wait()
    return {name: statistics.median(values) for name, values in results.items()}


def main():
    global proxy
    moto, moto_port = start_moto()
    proxy = TimingProxy(moto_port)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_port = proxy.server_address[1]
    try:
        # The local server creates the table on the proxied moto and seeds one end user through
        # the API, as any client would.
        seed_port = free_port()
        seeder = start_local_server(seed_port, {"DYNAMODB_ENDPOINT": f"http://127.0.0.1:{proxy_port}"}, cpu="0,1")
        try:
            end_user_id = create_end_user(seed_port)
        finally:
            seeder.kill()
            seeder.wait()
        figures = lambda_figures(proxy_port, end_user_id)
        served = server_figures()
    finally:
        moto.kill()
    report(figures, served)


def report(figures, served):
    eu, warmed, bare = figures["end-users"], figures["end-users, warm-up at init"], figures["bare lambda_http"]
    before = figures.get("before")
    size = lambda name: os.path.getsize(os.path.join(RELEASE, name))
    ms = lambda s: f"{s * 1000:.2f} ms"
    rows = [
        ("init: spawn to first /next", ms(eu["init"]), ms(bare["init"]), eu["init"] / bare["init"], "<= 1.5x"),
        ("init, warm-up at init on", ms(warmed["init"]), ms(bare["init"]), warmed["init"] / bare["init"], "(billed)"),
        ("first invoke", ms(eu["first"]), ms(bare["first"]), eu["first"] / bare["first"], ""),
        ("first invoke, warm-up at init on", ms(warmed["first"]), ms(bare["first"]), warmed["first"] / bare["first"], "~ warm invoke"),
        ("first invoke minus its DynamoDB time", ms(eu["first"] - eu["first_store"]), ms(bare["first"]), (eu["first"] - eu["first_store"]) / bare["first"], ""),
        ("warm invoke (GET by id), median", ms(eu["warm"]), ms(bare["warm"]), eu["warm"] / bare["warm"], ""),
        ("warm invoke / its own DynamoDB time", f"{eu['warm'] / eu['warm_store']:.2f}", "", eu["warm"] / eu["warm_store"], "<= 1.10"),
        ("CPU per warm invoke", ms(eu["cpu"]), ms(bare["cpu"]), eu["cpu"] / bare["cpu"] if bare["cpu"] else float("inf"), "<= 2x"),
        (f"peak RSS after {WARM_INVOKES} invokes", f"{eu['rss']:.1f} MiB", f"{bare['rss']:.1f} MiB", eu["rss"] / bare["rss"], "<= 24 MiB"),
        ("local server GET by id, 1 core, 16 clients", f"{served['local']:.0f} req/s", f"{served['hyper']:.0f} req/s", served["local"] / served["hyper"], ">= 0.5x"),
        ("stripped binary end-users", f"{size('end-users'):,} B", f"{size('hello-lambda'):,} B", size("end-users") / size("hello-lambda"), "<= 6,000,000 B"),
    ]
    print(f"Perf harness: medians of {RUNS} alternating cold starts, {WARM_INVOKES} warm invokes each (DynamoDB: moto behind a timing proxy)")
    print(f"{'figure':<46} {'end-users':>16} {'bare baseline':>16} {'ratio':>7}  goal")
    for name, value, base, ratio, goal in rows:
        print(f"{name:<46} {value:>16} {base:>16} {ratio:>6.2f}x  {goal}")
    customers = figures["customers"]
    print("\nThe customers function in the same run (GET /api/Customers/me; warm-up at init off):")
    for name, value, base, ratio, goal in [
        ("init: spawn to first /next", ms(customers["init"]), ms(bare["init"]), customers["init"] / bare["init"], "<= 1.5x"),
        ("first invoke minus its DynamoDB time", ms(customers["first"] - customers["first_store"]), ms(bare["first"]), (customers["first"] - customers["first_store"]) / bare["first"], ""),
        ("warm invoke / its own DynamoDB time", f"{customers['warm'] / customers['warm_store']:.2f}", "", customers["warm"] / customers["warm_store"], "<= 1.10"),
        ("CPU per warm invoke", ms(customers["cpu"]), ms(bare["cpu"]), customers["cpu"] / bare["cpu"] if bare["cpu"] else float("inf"), "<= 2x"),
        (f"peak RSS after {WARM_INVOKES} invokes", f"{customers['rss']:.1f} MiB", f"{bare['rss']:.1f} MiB", customers["rss"] / bare["rss"], "<= 24 MiB"),
        ("stripped binary customers", f"{size('customers'):,} B", f"{size('hello-lambda'):,} B", size("customers") / size("hello-lambda"), "<= 6,000,000 B"),
    ]:
        print(f"{name:<46} {value:>16} {base:>16} {ratio:>6.2f}x  {goal}")
    if before:
        print(f"\nThe same run, {BEFORE} (before) beside end-users:")
        for key, label in [("init", "init"), ("first", "first invoke"), ("warm", "warm invoke"), ("cpu", "CPU per warm invoke")]:
            print(f"  {label:<22} before {ms(before[key]):>10}   now {ms(eu[key]):>10}   bare {ms(bare[key]):>10}")
        print(f"  {'peak RSS':<22} before {before['rss']:>6.1f} MiB   now {eu['rss']:>6.1f} MiB   bare {bare['rss']:>6.1f} MiB")


if __name__ == "__main__":
    main()
