//! The local server over real HTTP: routing, query strings, headers and body limits survive the
//! conversion to the Lambda request, and abusive clients do not bring it down.

use std::sync::Arc;
use std::time::Duration;

use answerpal::config::JwtSettings;
use answerpal::domain::Secret;
use answerpal::families::mount_all;
use answerpal::http::Api;
use answerpal::http::auth::{Authenticator, hs256_token};
use answerpal::runtime::Resources;
use answerpal::store::memory::MemoryTable;
use answerpal::vault::Vault;
use answerpal::vault::local::LocalKeys;
use answerpal::vault::suppression::Suppressions;
use answerpal_local::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "local-server-test";

async fn start() -> String {
    start_with(Limits::default()).await
}

async fn start_with(limits: Limits) -> String {
    let auth = Authenticator::new(&JwtSettings::with_secret(SECRET)).expect("auth");
    let key = LocalKeys::generate_base64().expect("a key");
    let vault = Vault::new(LocalKeys::from_base64(&Secret::new(key.clone())).expect("the key"));
    let suppressions =
        Suppressions::new(LocalKeys::from_base64(&Secret::new(key)).expect("the key"));
    let resources = Resources::new(Arc::new(MemoryTable::new()))
        .with_vault(vault)
        .with_suppressions(suppressions);
    let api = Arc::new(mount_all(Api::new(auth, None), &resources).expect("every family"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(answerpal_local::serve(listener, api, limits));
    address
}

/// Sends `raw` as is, closes the sending side, and returns everything the server answered.
async fn raw_exchange(address: &str, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(raw).await.expect("write");
    stream.shutdown().await.expect("half-close");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).to_string()
}

fn bearer() -> String {
    format!(
        "Authorization: Bearer {}\r\n",
        hs256_token(SECRET, 1, 600).expect("token")
    )
}

/// A guard against a hang, far past the limits the tests set: that the server acts is what they
/// assert; how soon is the bench's to measure.
const HANG: Duration = Duration::from_secs(30);

/// Whether the server closes `stream` (reads end), sending nothing more, before [`HANG`].
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    matches!(
        tokio::time::timeout(HANG, stream.read(&mut buffer)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// One HTTP/1.1 exchange; returns the status, the raw head and the body.
async fn exchange(
    address: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    authorized: bool,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if authorized {
        let token = hs256_token(SECRET, 1, 600).expect("token");
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    if let Some(body) = body {
        stream.write_all(body.as_bytes()).await.expect("write body");
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn serves_the_api_over_http() {
    let address = start().await;
    let (status, head, body) = exchange(
        &address,
        "POST",
        "/api/EndUsers",
        Some(r#"{"firstname": "Jane", "uids": [{"uidType": "Email", "uid": "jane@example.com"}]}"#),
        true,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(head.contains("location: /api/endusers/"), "{head}");
    assert!(head.contains("x-request-id: "), "{head}");

    let (status, _, body) = exchange(
        &address,
        "GET",
        "/api/EndUsers/byUid?uid=%20JANE%40example.com",
        None,
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"firstname\":\"Jane\""), "{body}");

    let (status, head, _) = exchange(&address, "GET", "/api/EndUsers", None, false).await;
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_by_the_shared_rule() {
    let address = start().await;
    let big = format!("{{\"aiDocumentation\": \"{}\"}}", "x".repeat(300 * 1024));
    let (status, _, body) = exchange(&address, "POST", "/api/EndUsers", Some(&big), true).await;
    assert_eq!(status, 413, "{body}");
    // A webhook too: the body cut at the limit is refused as too large, not as badly signed.
    let webhook = "/webhooks/email/1/1";
    let (status, _, body) = exchange(&address, "POST", webhook, Some(&big), false).await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test]
async fn a_body_that_ends_early_never_reaches_a_handler() {
    let address = start().await;
    let body = r#"{"firstname":"x"}"#;
    let short = format!(
        "POST /api/EndUsers HTTP/1.1\r\nHost: x\r\n{}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{body}",
        bearer()
    );
    let answer = raw_exchange(&address, short.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id: "),
        "{answer}"
    );
    let chunked = format!(
        "POST /api/EndUsers HTTP/1.1\r\nHost: x\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n",
        bearer(),
        body.len()
    );
    let answer = raw_exchange(&address, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let (status, _, list) = exchange(&address, "GET", "/api/EndUsers", None, true).await;
    assert_eq!(status, 200);
    assert!(
        list.contains("\"totalCount\":0"),
        "an end user was created: {list}"
    );
}

#[tokio::test]
async fn slow_idle_and_garbled_clients_are_shed_and_the_server_serves_on() {
    let address = start_with(Limits {
        header_read: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
        connections: 64,
    })
    .await;
    // Connected, sending nothing.
    let mut silent = TcpStream::connect(&address).await.expect("connect");
    assert!(closed(&mut silent).await);

    // Kept alive after a complete exchange, then idle.
    let mut idle = TcpStream::connect(&address).await.expect("connect");
    let request = format!("GET /api/EndUsers HTTP/1.1\r\nHost: x\r\n{}\r\n", bearer());
    idle.write_all(request.as_bytes()).await.expect("write");
    let mut first = [0u8; 4096];
    let read = idle.read(&mut first).await.expect("read");
    assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));
    assert!(closed(&mut idle).await);

    // Headers sent, the body never.
    let mut slow = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /api/EndUsers HTTP/1.1\r\nHost: x\r\n{}Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{{",
        bearer()
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(HANG, slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("/problems/request-timeout"), "{answer}");

    // Not HTTP at all: hyper answers 400 itself (no problem body: it writes that answer).
    let answer = raw_exchange(&address, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    let (status, _, _) = exchange(&address, "GET", "/api/EndUsers", None, true).await;
    assert_eq!(status, 200, "the server serves on");
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_one() {
    let address = start_with(Limits {
        connections: 2,
        ..Limits::default()
    })
    .await;
    let held: Vec<TcpStream> = vec![
        TcpStream::connect(&address).await.expect("connect"),
        TcpStream::connect(&address).await.expect("connect"),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiting = tokio::spawn({
        let address = address.clone();
        async move { exchange(&address, "GET", "/api/EndUsers", None, true).await }
    });
    // Not served while both are held (a slow machine could only make this pass late, never
    // fail wrongly).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a third connection was served past the cap"
    );
    drop(held);
    let (status, _, _) = tokio::time::timeout(HANG, waiting)
        .await
        .expect("served once a connection closed")
        .expect("the exchange");
    assert_eq!(status, 200);
}
