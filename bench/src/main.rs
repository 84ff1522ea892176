//! Prints, per operation: requests/s and p50/p99 latency on the local server with the embedded
//! table (HTTP over loopback at a fixed concurrency), and the DynamoDB calls the same operation
//! makes on the DynamoDB adapter (counted by an SDK interceptor, against moto).
//!
//! `scripts/bench.sh` runs it after building the release Lambdas and printing their sizes.

mod bulk;
mod duplicates;
mod paging;
mod timeline;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use answerpal::config::JwtSettings;
use answerpal::http::auth::hs256_token;
use answerpal::http::signature;
use answerpal::store::memory::MemoryTable;
use answerpal_testkit::{TestApi, api_on};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "bench-secret";
/// The bench tenant's `webhookSigningSecret`.
const WEBHOOK_SECRET: &str = "bench-webhook-secret";
/// Senders whose tickets are open before the known-sender webhook run.
const KNOWN_SENDERS: u64 = 200;
const CONCURRENCY: usize = 16;
const SEEDED_END_USERS: u64 = 1000;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Target {
    client: HttpClient,
    base: String,
    token: String,
}

impl Target {
    /// Sends a request as the bench tenant: a bearer token on `/api`, the webhook signature of
    /// the body on `/webhooks`.
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        let bytes = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        request = match path.starts_with("/webhooks/") {
            true => request.header(
                "x-webhook-signature",
                signature::sha256_header(WEBHOOK_SECRET, &bytes),
            ),
            false => request.header("authorization", format!("Bearer {}", self.token)),
        };
        let response = self
            .client
            .request(request.body(Full::new(bytes)).expect("request"))
            .await
            .expect("the local server answers");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// Starts the local server's transport on its own runtime thread, so load and service do not
/// share one scheduler.
fn start_server(table: Arc<MemoryTable>) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let jwt = JwtSettings::with_secret(SECRET);
            let api = Arc::new(api_on(table, answerpal_testkit::local_vault(), &jwt));
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = listener.local_addr().expect("address");
            sender
                .send(format!("http://{address}"))
                .expect("report address");
            answerpal_local::serve(listener, api, answerpal_local::Limits::default()).await;
        });
    });
    receiver.recv().expect("server address")
}

/// Every request's latency, sorted, and the time the whole run took.
struct Latencies {
    sorted: Vec<Duration>,
    elapsed: Duration,
}

impl Latencies {
    async fn gather(
        workers: Vec<tokio::task::JoinHandle<Vec<Duration>>>,
        started: Instant,
    ) -> Self {
        let mut sorted = Vec::new();
        for worker in workers {
            sorted.extend(worker.await.expect("worker"));
        }
        let elapsed = started.elapsed();
        sorted.sort();
        Latencies { sorted, elapsed }
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        self.sorted[((self.sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
    }
}

struct Operation {
    name: &'static str,
    requests: u64,
    /// Builds request number `n`: method, path, body.
    request: fn(u64) -> (&'static str, String, Option<Value>),
    expect: u16,
}

fn seeded_id(ids: &[u64], n: u64) -> u64 {
    ids[(n % ids.len() as u64) as usize]
}

static IDS: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();

fn ids() -> &'static [u64] {
    IDS.get().expect("seeded")
}

fn list_page(n: u64) -> (&'static str, String, Option<Value>) {
    let page = n % 40 + 1;
    (
        "GET",
        format!("/api/EndUsers?pageSize=25&pageNumber={page}&sortBy=name"),
        None,
    )
}

/// In order: the lists run before and after the creates grow the tenant to 11000 end users.
const OPERATIONS: &[Operation] = &[
    Operation {
        name: "GET by id",
        requests: 20_000,
        request: |n| {
            (
                "GET",
                format!("/api/EndUsers/{}", seeded_id(ids(), n)),
                None,
            )
        },
        expect: 200,
    },
    Operation {
        name: "byUid",
        requests: 20_000,
        request: |n| {
            let user = n % SEEDED_END_USERS;
            (
                "GET",
                format!("/api/EndUsers/byUid?uid=User{user}%40Example.com"),
                None,
            )
        },
        expect: 200,
    },
    Operation {
        name: "list (25 by name, of 1000 end users)",
        requests: 3_000,
        request: list_page,
        expect: 200,
    },
    Operation {
        name: "create",
        requests: 10_000,
        request: |n| {
            let body = json!({"firstname": "Load", "lastname": format!("Test {n}"), "country": "BE",
                "uids": [{"uidType": "Email", "uid": format!("load{n}@example.com")},
                         {"uidType": "Phone", "uid": format!("+3247{:07}", n)}]});
            ("POST", "/api/EndUsers".into(), Some(body))
        },
        expect: 201,
    },
    Operation {
        name: "assign",
        requests: 10_000,
        request: |n| {
            let body = json!({"uid": format!("visitor-{n}"), "endUserID": seeded_id(ids(), n), "uidType": "Webchat"});
            ("POST", "/api/EndUserUIDs/assign".into(), Some(body))
        },
        expect: 201,
    },
    Operation {
        name: "PUT",
        requests: 10_000,
        request: |n| {
            let body = json!({"firstname": format!("Renamed {n}"), "city": "Antwerp"});
            (
                "PUT",
                format!("/api/EndUsers/{}", seeded_id(ids(), n)),
                Some(body),
            )
        },
        expect: 200,
    },
    Operation {
        name: "list (25 by name, of 11000 end users)",
        requests: 300,
        request: list_page,
        expect: 200,
    },
    Operation {
        name: "webhook (e-mail), new senders",
        requests: 10_000,
        request: |n| {
            let body = json!({"from": {"email": format!("new{n}@example.com"), "name": "New"},
                "messageID": format!("new-{n}"), "textBody": "Hello, a first message"});
            ("POST", "/webhooks/email/1/1".into(), Some(body))
        },
        expect: 200,
    },
    Operation {
        name: "webhook (e-mail), known senders",
        requests: 10_000,
        request: |n| {
            let body = json!({"from": {"email": format!("known{}@example.com", n % KNOWN_SENDERS)},
                "messageID": format!("known-{n}"), "textBody": "And another message"});
            ("POST", "/webhooks/email/1/1".into(), Some(body))
        },
        expect: 200,
    },
];

async fn run(target: &Arc<Target>, operation: &Operation) {
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let target = Arc::clone(target);
            let next = Arc::clone(&next);
            let failures = Arc::clone(&failures);
            let (requests, build, expect) =
                (operation.requests, operation.request, operation.expect);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        return latencies;
                    }
                    let (method, path, body) = build(n);
                    let sent = Instant::now();
                    let (status, _) = target.send(method, &path, body).await;
                    latencies.push(sent.elapsed());
                    if status != expect {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let latencies = Latencies::gather(workers, started).await;
    println!(
        "{:<38} {:>9.0} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   unexpected statuses: {}",
        operation.name,
        operation.requests as f64 / latencies.elapsed.as_secs_f64(),
        latencies.percentile_ms(0.50),
        latencies.percentile_ms(0.99),
        failures.load(Ordering::Relaxed),
    );
}

/// The process's resident memory (Linux), in MiB.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The embedded table's items: those that are not outbox items, and the outbox items (which
/// only their TTL removes, a day after their change: the local server has no stream).
fn counted_items(table: &MemoryTable) -> (usize, usize) {
    let items = table.snapshot().expect("the embedded table's items");
    let outbox = items
        .iter()
        .filter(|item| answerpal::store::Kind::of(item) == Some(answerpal::store::Kind::Outbox))
        .count();
    (items.len() - outbox, outbox)
}

/// Create+delete pairs on the local server: the process and the embedded table must not grow but
/// by the changes' outbox items (two a pair, gone with their TTL).
async fn churn(target: &Arc<Target>, table: &MemoryTable) {
    const PAIRS: u64 = 30_000;
    let (items_before, outbox_before) = counted_items(table);
    let memory_before = resident_mib();
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (target, next) = (Arc::clone(target), Arc::clone(&next));
            tokio::spawn(async move {
                let mut failures = 0;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= PAIRS {
                        return failures;
                    }
                    let body = json!({"firstname": "Churn", "customerRef": format!("churn-{n}"),
                        "uids": [{"uidType": "Email", "uid": format!("churn{n}@example.com")}]});
                    let (status, user) = target.send("POST", "/api/EndUsers", Some(body)).await;
                    let path = format!("/api/EndUsers/{}", user["endUserID"]);
                    let (deleted, _) = target.send("DELETE", &path, None).await;
                    failures += u64::from(status != 201 || deleted != 204);
                }
            })
        })
        .collect();
    let mut failures = 0;
    for worker in workers {
        failures += worker.await.expect("worker");
    }
    let memory_after = resident_mib();
    let (items_after, outbox_after) = counted_items(table);
    println!(
        "{PAIRS} create+delete pairs: resident memory {memory_before:.1} -> {memory_after:.1} MiB, \
         embedded table items but outbox {items_before} -> {items_after}, outbox items (a day's \
         TTL) {outbox_before} -> {outbox_after}, unexpected statuses: {failures}",
    );
}

async fn local_server_figures() {
    let table = Arc::new(MemoryTable::new());
    let base = start_server(Arc::clone(&table));
    let token = hs256_token(SECRET, 1, 3600).expect("token");
    let client = Client::builder(TokioExecutor::new()).build_http();
    let target = Arc::new(Target {
        client,
        base,
        token,
    });
    let mut seeded = Vec::new();
    for n in 0..SEEDED_END_USERS {
        let body = json!({"firstname": format!("User {n}"), "customerRef": format!("REF-{n}"),
            "uids": [{"uidType": "Email", "uid": format!("user{n}@example.com")}]});
        let (status, user) = target.send("POST", "/api/EndUsers", Some(body)).await;
        assert_eq!(status, 201, "seeding failed: {user}");
        seeded.push(user["endUserID"].as_u64().expect("id"));
    }
    IDS.set(seeded).expect("seed once");
    let account = json!({"webhookSigningSecret": WEBHOOK_SECRET});
    assert_eq!(
        target
            .send("PUT", "/api/Customers/me", Some(account))
            .await
            .0,
        200
    );
    let inbox = json!({"channelType": "Email", "address": "support@example.com"});
    let (status, _) = target
        .send("PUT", "/api/Customers/channels/1", Some(inbox))
        .await;
    assert_eq!(status, 201);
    for n in 0..KNOWN_SENDERS {
        let body = json!({"from": {"email": format!("known{n}@example.com")},
            "messageID": format!("first-{n}"), "textBody": "Opening the ticket"});
        let (status, _) = target.send("POST", "/webhooks/email/1/1", Some(body)).await;
        assert_eq!(status, 200, "seeding a known sender");
    }
    println!(
        "Local server, embedded table, HTTP/1.1 keep-alive over loopback, {CONCURRENCY} concurrent clients, {SEEDED_END_USERS} end users and {KNOWN_SENDERS} open tickets seeded:"
    );
    for operation in OPERATIONS {
        run(&target, operation).await;
    }
    churn(&target, &table).await;
}

/// Calls counted per operation on the DynamoDB adapter, with the budget of each.
async fn dynamodb_call_counts() {
    let api = TestApi::dynamodb().await;
    println!("DynamoDB adapter against moto, calls counted by an SDK interceptor:");
    for n in 0..30 {
        api.create(1, json!({"firstname": format!("Filler {n}")}))
            .await;
    }
    let mut last = api.call_count();
    let mut report = |name: &str, budget: u64, api: &TestApi| {
        let calls = api.call_count() - last;
        last = api.call_count();
        let verdict = if calls <= budget {
            "within budget"
        } else {
            "OVER BUDGET"
        };
        println!("{name:<38} {calls} DynamoDB call(s)   budget {budget}   {verdict}");
    };
    let user = api
        .create(1, json!({"customerRef": "C-1", "uids": [{"uidType": "Email", "uid": "count@example.com"}, {"uidType": "Phone", "uid": "+32470000000"}]}))
        .await;
    // The new addresses' suppressions in one batch beside a query per match key gained (the
    // e-mail, the phone, the customerRef), then one transaction.
    report("create (2 UIDs and a customerRef)", 2 + 3, &api);
    let id = user["endUserID"].as_u64().expect("id");
    let path = format!("/api/EndUsers/{id}");
    api.get(&path, 1).await;
    report("GET by id", 1, &api);
    api.get("/api/EndUsers/byUid?uid=0032470000000", 1).await;
    report("byUid", 2, &api);
    api.post(
        "/api/EndUserUIDs/assign",
        1,
        json!({"uid": "v-1", "endUserID": id, "uidType": "Webchat"}),
    )
    .await;
    report("assign (new link)", 3, &api);
    api.put(
        &path,
        1,
        json!({"firstname": "Changed", "customerRef": "C-2"}),
    )
    .await;
    // Gained: the customerRef, the new name with the e-mail's domain.
    report("PUT", 2 + 2, &api);
    api.get(&format!("{path}/duplicates"), 1).await;
    // The record, then its four match keys.
    report("duplicate candidates", 1 + 4, &api);
    api.get("/api/EndUsers?pageSize=25&sortBy=name", 1).await;
    report("list page (25 of 31)", 2, &api);
    api.get(&format!("{path}/timeline"), 1).await;
    report("timeline page", 2, &api);
    let event = json!({"type": "order.placed", "message": "Order 1", "initiatedBy": "shop"});
    api.post(&format!("{path}/events"), 1, event).await;
    report("external event", 2, &api);
    api.delete(&path, 1).await;
    // Its partition, its timeline's first records (removed with it), one transaction.
    report("DELETE", 3, &api);

    let secrets = json!({"twilioAuthToken": "bench-twilio", "webhookSigningSecret": "bench-wh"});
    api.put("/api/Customers/me", 1, secrets).await;
    report("PUT /api/Customers/me (secrets)", 2, &api);
    api.get("/api/Customers/me", 1).await;
    report("GET /api/Customers/me", 1, &api);
    api.get("/api/Customers/models", 1).await;
    report("GET /api/Customers/models", 1, &api);
    let sms = json!({"channelType": "SMS", "address": "+32470999001"});
    api.put("/api/Customers/channels/2", 1, sms).await;
    report("PUT channel", 1, &api);
    api.get("/api/Customers/channels", 1).await;
    report("GET channels", 1, &api);
    let message = |sid: &'static str| {
        [
            ("From", "+32470313131"),
            ("Body", "hi"),
            ("MessageSid", sid),
        ]
    };
    api.twilio(1, 2, &message("SM-1"), "bench-twilio").await;
    report("webhook, new sender", 3 + 1, &api);
    api.twilio(1, 2, &message("SM-2"), "bench-twilio").await;
    report("webhook, known sender, open ticket", 3, &api);
    let redelivered = api.twilio(1, 2, &message("SM-2"), "bench-twilio").await;
    assert_eq!(redelivered.status, 200);
    report("webhook, redelivery", 3, &api);
    let person = api
        .get("/api/EndUsers/byUid?uid=%2B32470313131", 1)
        .await
        .body;
    report("byUid (the new sender)", 2, &api);
    let tickets = api
        .get(&format!("/api/EndUsers/{}/tickets", person["endUserID"]), 1)
        .await
        .body;
    report("tickets list", 2, &api);
    let ticket = format!("/api/Tickets/{}", tickets["items"][0]["ticketID"]);
    api.get(&ticket, 1).await;
    report("ticket GET", 1, &api);
    api.put(&ticket, 1, json!({"status": "Pending"})).await;
    report("ticket PUT", 2, &api);
    api.get(&format!("{ticket}/messages"), 1).await;
    report("messages page", 2, &api);
}

/// Reads one HTTP/1.1 response with a `Content-Length` from `stream` into `buffer`; its status.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> u16 {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = head_end + 4 + length;
            while buffer.len() < total {
                let read = stream.read(&mut chunk).await.expect("read the body");
                assert!(read > 0, "connection closed mid-response");
                buffer.extend_from_slice(&chunk[..read]);
            }
            buffer.drain(..total);
            return status;
        }
        let read = stream.read(&mut chunk).await.expect("read the head");
        assert!(read > 0, "connection closed before a response");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// `bench load URL [TOKEN] [REQUESTS]`: GET `URL` over 16 keep-alive connections, the request's
/// bytes built once and the responses read without an HTTP library, so that the load is not the
/// bottleneck; prints requests/s and p50/p99 (the perf harness's load generator).
async fn load(url: &str, token: Option<&str>, requests: u64) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (address, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request: Arc<[u8]> =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}\r\n")
            .into_bytes()
            .into();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (request, next) = (Arc::clone(&request), Arc::clone(&next));
            let address = address.to_owned();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&address).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut buffer = Vec::with_capacity(16 * 1024);
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let sent = Instant::now();
                    stream.write_all(&request).await.expect("write");
                    let status = read_response(&mut stream, &mut buffer).await;
                    assert_eq!(status, 200, "unexpected status");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let latencies = Latencies::gather(workers, started).await;
    println!(
        "{:.0} req/s p50 {:.3} ms p99 {:.3} ms",
        requests as f64 / latencies.elapsed.as_secs_f64(),
        latencies.percentile_ms(0.50),
        latencies.percentile_ms(0.99),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("load") {
        let url = args.get(2).expect("bench load URL [TOKEN] [REQUESTS]");
        let token = args.get(3).filter(|t| !t.is_empty());
        let requests = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(50_000);
        load(url, token.map(String::as_str), requests).await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("paging") {
        paging::cursor_page_figures().await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("bulk") {
        bulk::bulk_figures().await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("duplicates") {
        duplicates::candidate_figures().await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("timeline") {
        timeline::page_figures().await;
        return;
    }
    local_server_figures().await;
    println!();
    paging::cursor_page_figures().await;
    println!();
    bulk::bulk_figures().await;
    println!();
    duplicates::candidate_figures().await;
    println!();
    timeline::page_figures().await;
    println!();
    dynamodb_call_counts().await;
}
