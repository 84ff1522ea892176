//! The local server over real HTTP: routing, query strings, headers and body limits survive the
//! conversion to the Lambda request.

use std::sync::Arc;

use answerpal::config::JwtSettings;
use answerpal::families::mount_all;
use answerpal::http::Api;
use answerpal::http::auth::{Authenticator, hs256_token};
use answerpal::runtime::Resources;
use answerpal::store::memory::MemoryTable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "local-server-test";

async fn start() -> String {
    let auth = Authenticator::new(&JwtSettings::with_secret(SECRET)).expect("auth");
    let resources = Resources::new(Arc::new(MemoryTable::new()));
    let api = Arc::new(mount_all(Api::new(auth, None), &resources));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(answerpal_local::serve(listener, api));
    address
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
}
