//! A tenant's CRM on loopback (SPEC 10): answers `GET /answerpal/lookup?...` as scripted per
//! query (404 for any other), after a delay when told, and records every request it received
//! with its headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct CrmAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl CrmAnswer {
    /// 200 with `record` as JSON.
    pub fn record(record: Value) -> Self {
        CrmAnswer::raw(200, record.to_string().into_bytes())
    }

    /// `status` with `body` as is.
    pub fn raw(status: u16, body: Vec<u8>) -> Self {
        CrmAnswer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            delay: Duration::ZERO,
        }
    }

    /// The answer with a header more.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The answer sent after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the CRM received: its target (path and query) and headers (names lower-case).
#[derive(Clone, Debug)]
pub struct CrmRequest {
    pub target: String,
    pub headers: HashMap<String, String>,
}

/// The CRM: its base URL, its script and what it received.
#[derive(Clone)]
pub struct FakeCrm {
    pub base_url: String,
    answers: Arc<Mutex<HashMap<String, CrmAnswer>>>,
    received: Arc<Mutex<Vec<CrmRequest>>>,
}

impl FakeCrm {
    /// A CRM on 127.0.0.1 under `/crm` that knows no one yet.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let crm = FakeCrm {
            base_url: format!("http://127.0.0.1:{port}/crm"),
            answers: Arc::default(),
            received: Arc::default(),
        };
        let serving = crm.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let crm = serving.clone();
                tokio::spawn(async move { crm.serve(stream).await });
            }
        });
        crm
    }

    /// Answers `answer` to the lookup whose query is `query` (`customerRef=C-1`,
    /// `uidType=Email&uid=a%40example.com`).
    pub fn answer(&self, query: &str, answer: CrmAnswer) {
        let target = format!("/crm/answerpal/lookup?{query}");
        self.answers.lock().expect("lock").insert(target, answer);
    }

    /// Every request received so far, first first.
    pub fn received(&self) -> Vec<CrmRequest> {
        self.received.lock().expect("lock").clone()
    }

    async fn serve(&self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.split("\r\n");
        let target = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .unwrap_or_default()
            .to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        let request = CrmRequest {
            target: target.clone(),
            headers,
        };
        self.received.lock().expect("lock").push(request);
        let scripted = self.answers.lock().expect("lock").get(&target).cloned();
        let answer = scripted.unwrap_or_else(|| CrmAnswer::raw(404, b"{}".to_vec()));
        tokio::time::sleep(answer.delay).await;
        let mut response = format!("HTTP/1.1 {} Scripted\r\n", answer.status);
        for (name, value) in &answer.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            answer.body.len()
        ));
        let mut bytes = response.into_bytes();
        bytes.extend_from_slice(&answer.body);
        drop(stream.write_all(&bytes).await);
        drop(stream.shutdown().await);
    }
}
