"""The perf harness: each function's cold start and warm invokes beside the function a user would
write by hand, in alternated runs, and the local server's throughput beside bare hyper. Standard
library only. Run it through scripts/perf.sh, which builds the binaries first.

- A Lambda Runtime API emulator spawns a function binary and measures init (spawn to its first
  GET /next), the first invoke, the median warm invoke, the CPU time per warm invoke (the sum of
  /proc/PID/task/*/schedstat, in nanoseconds) and the peak RSS after the invokes (VmHWM).
- DynamoDB (moto) sits behind a timing proxy, so each invoke's own share (invoke minus the
  DynamoDB time it waited for) is visible. The table holds what the committed events/ expect
  (testkit's seed-events), so each function answers its own request.
- The baselines answer the end-users request with one GetItem: hello-sdk as a user writes it from
  the SDK's examples (SDK defaults and HTTPS client, Cargo's default release profile), and
  hello-sdk-lean, the same on the project's own client set-up and release profile (the floor the
  SDK sets). Every process gets the environment Lambda gives it, credentials included.
- The local server and a bare hyper hello each run pinned to one core, loaded from the other by
  `bench load` (Rust, keep-alive, 16 clients), both built with the `server` profile.
"""

import hashlib
import hmac
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
SEED = os.path.join(ROOT, "target", "debug", "seed-events")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
EVENTS = os.path.join(ROOT, "events")
EVENTS_SECRET = "events-local-secret"
WEBHOOK_SECRET = b"events-webhook-signing-secret"
TABLE = "perf"
RUNS = int(os.environ.get("PERF_RUNS", "9"))
# A folder of older function binaries to measure in the same alternation (a "before" column).
BEFORE = os.environ.get("PERF_BEFORE")
WARM_INVOKES = int(os.environ.get("PERF_WARM_INVOKES", "200"))
# Rounds of init alone (spawn to the first /next, then ended).
INIT_RUNS = int(os.environ.get("PERF_INIT_RUNS", "31"))
# A cold-start run (warm-up at init on) needs its init and first invoke; a few more invokes check
# that it keeps answering.
COLD_START_INVOKES = 5
# Alternated local-server and bare hyper runs: this kind of machine varies by 2x between runs.
SERVER_ROUNDS = int(os.environ.get("PERF_SERVER_ROUNDS", "5"))
FUNCTIONS = ["end-users", "end-user-uids", "tickets", "customers", "webhooks"]
# PERF_FUNCTIONS=end-users,customers measures only those (a quicker look).
FUNCTIONS = [f for f in os.environ.get("PERF_FUNCTIONS", ",".join(FUNCTIONS)).split(",") if f]
# The functions the CPU, init, cold-start and warm-invoke goals are set for.
GOALS_FOR = ("end-users", "customers")
SIZE_BUDGET = 6_000_000
RSS_BUDGET_MIB = 24


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
        self.forward("POST")

    def do_GET(self):
        # The functions' warm-up at init opens its connection with a GET of the endpoint.
        self.forward("GET")

    def forward(self, method):
        started = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        connection = self.server.upstream()
        connection.request(method, self.path, body, headers)
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
        self.initialized = threading.Event()
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
            self.server.initialized.set()
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


def cpu_ns(pid):
    """CPU time of every thread of `pid` so far, from the scheduler's own accounting."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def lambda_env(api_port, proxy_port):
    """What Lambda sets for a function (credentials included), pointed at the emulator and moto."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "perf",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "perf",
        "AWS_LAMBDA_LOG_GROUP_NAME": "perf",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIAPERFHARNESS00000",
        "AWS_SECRET_ACCESS_KEY": "perf-harness-secret-access-key-0000000000",
        "AWS_SESSION_TOKEN": "perf-harness-session-token",
        "TABLE_NAME": TABLE,
        "JWT_SECRET": EVENTS_SECRET,
        # The project's functions read DYNAMODB_ENDPOINT; hello-sdk finds moto as the SDK's own
        # configuration does.
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{proxy_port}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{proxy_port}",
        # The baselines' tenant: the seeded end user's.
        "TENANT_ID": "1",
    }


def run_function(binary, events, invokes, proxy, extra_env):
    """One cold start of `binary`: init, then `invokes` + 1 invokes of `events(n)` (none when
    `invokes` is None)."""
    api = RuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = lambda_env(api.server_address[1], proxy.server_address[1])
    env.update(extra_env)
    spawned = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    try:
        # Waiting on an event, not polling, leaves the emulator's thread the interpreter.
        while not api.initialized.wait(timeout=0.5):
            if process.poll() is not None:
                raise RuntimeError(f"{binary} exited during init")
        figures = {"init": api.first_next - spawned}
        if invokes is None:
            return figures
        timings = []
        cpu_before_warm = None
        for n in range(invokes + 1):
            if n == 1:
                cpu_before_warm = cpu_ns(process.pid)
            sent = time.perf_counter()
            api.events.put((f"req-{n}", events(n)))
            answered, path, body = api.responses.get(timeout=30)
            if not path.endswith("/response") or b'"statusCode":200' not in body.replace(b" ", b""):
                raise RuntimeError(f"{binary}: unexpected answer {body[:300]!r}")
            timings.append((answered - sent, proxy.waited_between(sent, answered)))
        figures["first"], figures["first_store"] = timings[0]
        figures["cold"] = figures["init"] + figures["first"]
        warm = timings[1:]
        figures["warm"] = statistics.median(t for t, _ in warm)
        figures["warm_store"] = statistics.median(s for _, s in warm)
        figures["cpu"] = (cpu_ns(process.pid) - cpu_before_warm) / invokes / 1e9
        figures["rss"] = peak_rss_mib(process.pid)
        return figures
    finally:
        process.kill()
        process.wait()
        api.shutdown()


def load_event(name):
    with open(os.path.join(EVENTS, name)) as f:
        return json.load(f)


def constant(event):
    return lambda n: event


def assign_existing_link():
    """The seeded end user's own e-mail assigned to it again: 200, the existing link."""
    event = load_event("assign-uid.json")
    event["body"] = json.dumps({"uid": "jane@example.com", "endUserID": 1000, "uidType": "Email", "isPrimary": False})
    return constant(event)


def email_from_known_sender(run):
    """A new e-mail of the seeded end user on e-mail channel 1, where its ticket is open: a
    message id of its own per invoke (the same id again would be a redelivery), signed as the
    provider signs it."""
    template = load_event("webhook-email.json")

    def event(n):
        body = json.dumps({
            "from": {"email": "jane@example.com", "name": "Jane Doe"},
            "to": "support@example.com",
            "subject": "Where is my order?",
            "messageID": f"<perf-{run}-{n}-{time.monotonic_ns()}@example.com>",
            "textBody": "Any news on order 1234?",
            "receivedAt": "2026-11-30T09:12:44Z",
        })
        signature = hmac.new(WEBHOOK_SECRET, body.encode(), hashlib.sha256).hexdigest()
        return dict(template, body=body, headers=dict(template["headers"], **{"x-webhook-signature": f"sha256={signature}"}))

    return event


def secrets_env():
    with open(os.path.join(EVENTS, "env.json")) as f:
        return {"SECRETS_LOCAL_KEY": json.load(f)["CustomersFunction"]["SECRETS_LOCAL_KEY"]}


def requests(run):
    """Each function's request, and what it needs beyond the common environment."""
    get_end_user = constant(load_event("get-end-user.json"))
    get_settings = constant(load_event("get-customer.json"))
    return {
        # The key of the suppression digests (SPEC 9), which these functions refuse to start without.
        "end-users": (get_end_user, secrets_env()),
        "end-user-uids": (assign_existing_link(), secrets_env()),
        "tickets": (constant(load_event("get-ticket.json")), {}),
        "customers": (get_settings, secrets_env()),
        "webhooks": (email_from_known_sender(run), secrets_env()),
        "hello-sdk": (get_end_user, {}),
        "hello-sdk-lean": (get_end_user, {}),
        "hello-sdk, settings": (get_settings, {}),
        "hello-sdk-lean, settings": (get_settings, {}),
    }


def configurations():
    """(label, binary, function name, warm-up at init, invokes) of one alternation round."""
    rounds = []
    for name in FUNCTIONS:
        binary = os.path.join(RELEASE, name)
        rounds.append((name, binary, name, False, WARM_INVOKES))
        rounds.append((f"{name}, cold", binary, name, True, COLD_START_INVOKES))
        if BEFORE and os.path.exists(os.path.join(BEFORE, name)):
            before = os.path.join(BEFORE, name)
            rounds.append((f"{name} (before)", before, name, False, WARM_INVOKES))
            rounds.append((f"{name} (before), cold", before, name, True, COLD_START_INVOKES))
    for baseline in ("hello-sdk", "hello-sdk-lean"):
        binary = os.path.join(RELEASE, baseline)
        rounds.append((baseline, binary, baseline, False, WARM_INVOKES))
        rounds.append((f"{baseline}, settings", binary, f"{baseline}, settings", False, WARM_INVOKES))
    return apart(rounds)


def apart(rounds):
    """`rounds` taken in turn by binary, so that none runs right after itself (also across rounds):
    a binary that just ran starts faster (its pages and the caches are warm), which no real cold
    start sees."""
    groups = {}
    for entry in rounds:
        groups.setdefault(entry[1], []).append(entry)
    ordered = []
    while any(groups.values()):
        ordered.extend(group.pop(0) for group in groups.values() if group)
    return ordered


def lambda_figures(proxy, moto_port):
    rounds = configurations()
    runs = {label: [] for label, *_ in rounds}
    for n in range(RUNS):
        events = requests(n)
        for label, binary, name, warm_up, invokes in rounds:
            request, env = events[name]
            env = dict(env, WARM_STORE_AT_INIT=str(warm_up).lower())
            if name == "webhooks":
                seed(moto_port)
            with proxy.lock:
                proxy.spans.clear()
            runs[label].append(run_function(binary, request, invokes, proxy, env))
        print(f"  lambda round {n + 1}/{RUNS} done", file=sys.stderr)
    medians = {label: {key: statistics.median(r[key] for r in figures) for key in figures[0]} for label, figures in runs.items()}
    # Init alone, in rounds of spawns back to back: the figure this machine's noise moves most
    # (the same binary's init varied 2x between the slots of the rounds above).
    # Each binary once a round, none right after itself.
    spawns = {}
    for label, binary, name, warm_up, _ in rounds:
        if not warm_up:
            spawns.setdefault(binary, (label, binary, name, warm_up, None))
    spawns = apart(list(spawns.values()))
    inits = {binary: [] for _, binary, *_ in spawns}
    events = requests(0)
    for n in range(INIT_RUNS):
        for _, binary, name, _, _ in spawns:
            env = dict(events[name][1], WARM_STORE_AT_INIT="false")
            inits[binary].append(run_function(binary, None, None, proxy, env)["init"])
    for label, binary, _, warm_up, _ in rounds:
        if not warm_up:
            medians[label]["init"] = statistics.median(inits[binary])
    return medians


def start_moto():
    moto = subprocess.Popen(
        [PYTHON, os.path.join(ROOT, "testkit", "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return moto, int(moto.stdout.readline())


def seed(moto_port):
    """A table with only what the events expect. Moto copies a whole table for every item of a
    transaction, so the webhook runs, which add messages, each start from a new one."""
    reset = urllib.request.Request(f"http://127.0.0.1:{moto_port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    key = secrets_env()["SECRETS_LOCAL_KEY"]
    subprocess.run([SEED, f"http://127.0.0.1:{moto_port}", TABLE, key], check=True)


def start_local_server(port):
    env = dict(os.environ, PORT=str(port), JWT_SECRET=EVENTS_SECRET, RUST_LOG="warn", TABLE_NAME=TABLE)
    env.pop("DYNAMODB_ENDPOINT", None)
    server = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(SERVER, "local-api")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    server.stdout.readline()
    return server


def events_token():
    return load_event("get-end-user.json")["headers"]["authorization"].split(" ", 1)[1]


def create_end_user(port):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/EndUsers",
        data=json.dumps({"firstname": "Perf", "lastname": "Test", "uids": [{"uidType": "Email", "uid": "perf@example.com"}]}).encode(),
        headers={"Authorization": f"Bearer {events_token()}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["endUserID"]


def load(url, token, count):
    output = subprocess.run(
        ["taskset", "-c", "1", os.path.join(SERVER, "bench"), "load", url, token, str(count)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.split()[0])


def server_figures():
    token = events_token()
    results = {"local": [], "hyper": []}
    for _ in range(SERVER_ROUNDS):
        port = free_port()
        server = start_local_server(port)
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
    moto, moto_port = start_moto()
    proxy = TimingProxy(moto_port)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        seed(moto_port)
        figures = lambda_figures(proxy, moto_port)
        served = server_figures()
    finally:
        moto.kill()
    report(figures, served)


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def size(path):
    return os.path.getsize(path)


def cell(ratio, goal):
    """A ratio, with its goal and whether the figure meets it."""
    if ratio is None:
        return ""
    if goal is None:
        return f"{ratio:.2f}x"
    return f"{ratio:.2f}x (<= {goal:.2f}x {'met' if ratio <= goal else 'NOT MET'})"


def function_rows(name, f, cold, sdk, lean, end_users):
    """(figure, value, / hello-sdk, / hello-sdk-lean) of one function: goals where set."""
    g = name in GOALS_FOR
    own = lambda x: x["warm"] - x["warm_store"]
    cold_own = lambda x: x["cold"] - x["first_store"]
    rows = [
        ("CPU per warm invoke", ms(f["cpu"]), cell(f["cpu"] / sdk["cpu"], 0.7 if g else None), cell(f["cpu"] / lean["cpu"], 1.15 if g else None)),
        (f"init (warm-up at init off; {INIT_RUNS} rounds)", ms(f["init"]), cell(f["init"] / sdk["init"], 0.3 if g else None), cell(f["init"] / lean["init"], None)),
        ("cold start: init + first invoke, warm-up on", ms(cold["cold"]), cell(cold["cold"] / sdk["cold"], 0.5 if g else None), cell(cold["cold"] / lean["cold"], None)),
        ("  beyond its wait for DynamoDB", ms(cold_own(cold)), cell(cold_own(cold) / cold_own(sdk), None), cell(cold_own(cold) / cold_own(lean), None)),
        ("warm invoke, median", ms(f["warm"]), cell(f["warm"] / sdk["warm"], 1.0 if g else None), cell(f["warm"] / lean["warm"], None)),
        ("  beyond its wait for DynamoDB", ms(own(f)), cell(own(f) / own(sdk), None), cell(own(f) / own(lean), None)),
        ("peak RSS", f"{f['rss']:.1f} MiB", f"<= {RSS_BUDGET_MIB} MiB {'met' if f['rss'] <= RSS_BUDGET_MIB else 'NOT MET'}", ""),
    ]
    if name == "webhooks":
        rows.append(("CPU per warm invoke / end-users'", ms(f["cpu"]), cell(f["cpu"] / end_users["cpu"], 1.5), ""))
    return rows


def print_rows(rows):
    print(f"  {'figure':<44} {'value':>12}   {'/ hello-sdk':<28} {'/ hello-sdk-lean'}")
    for figure, value, sdk, lean in rows:
        print(f"  {figure:<44} {value:>12}   {sdk:<28} {lean}")


def print_baseline(label, figures):
    print(f"  {label}: init {ms(figures['init'])}, cold start {ms(figures['cold'])}, warm invoke {ms(figures['warm'])} "
          f"(DynamoDB {ms(figures['warm_store'])}), CPU per warm invoke {ms(figures['cpu'])}, peak RSS {figures['rss']:.1f} MiB")


def report(figures, served):
    print(f"Perf harness: medians of {RUNS} alternated cold starts per configuration, {WARM_INVOKES} warm invokes "
          "each (a cold start with warm-up at init: its first invoke); DynamoDB is moto behind a timing proxy; "
          "CPU is the schedstat time of every thread.\n")
    print("Baselines, each answering the end user (GET /api/EndUsers/{id}) and the tenant's settings (GET /api/Customers/me):")
    for baseline, about in (("hello-sdk", "SDK defaults, Cargo's default release profile"), ("hello-sdk-lean", "the project's client set-up and release profile")):
        print(f"  {baseline} ({about}), {size(os.path.join(RELEASE, baseline)):,} B")
        print_baseline("  end user", figures[baseline])
        print_baseline("  settings", figures[f"{baseline}, settings"])
    for name in FUNCTIONS:
        f, cold = figures[name], figures[f"{name}, cold"]
        # Each function beside the baselines reading what it reads: customers the settings item.
        variant = ", settings" if name == "customers" else ""
        sdk, lean = figures[f"hello-sdk{variant}"], figures[f"hello-sdk-lean{variant}"]
        binary = os.path.join(RELEASE, name)
        print(f"\n{name}{' (goals)' if name in GOALS_FOR else ''}, beside the baselines' {'settings' if variant else 'end user'}")
        rows = function_rows(name, f, cold, sdk, lean, figures["end-users"])
        bytes_ = size(binary)
        rows.append(("stripped binary", f"{bytes_:,} B", f"<= {SIZE_BUDGET:,} B {'met' if bytes_ <= SIZE_BUDGET else 'NOT MET'}", ""))
        print_rows(rows)
        before = figures.get(f"{name} (before)")
        if before:
            before_cold = figures[f"{name} (before), cold"]
            print(f"  before ({os.path.join(BEFORE, name)}): init {ms(before['init'])}, cold start {ms(before_cold['cold'])}, "
                  f"warm invoke {ms(before['warm'])}, CPU per warm invoke {ms(before['cpu'])}, "
                  f"peak RSS {before['rss']:.1f} MiB, {size(os.path.join(BEFORE, name)):,} B")
    ratio = served["local"] / served["hyper"]
    print(f"\nlocal server GET by id, 1 core, 16 clients: {served['local']:.0f} req/s, bare hyper {served['hyper']:.0f} req/s, "
          f"{ratio:.2f}x (>= 0.50x {'met' if ratio >= 0.5 else 'NOT MET'})")


if __name__ == "__main__":
    main()
