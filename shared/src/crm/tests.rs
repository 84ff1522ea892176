//! The address rules with a stub resolver and a dialer that records where it was asked to
//! connect and connects to a loopback server instead: no test sends traffic outside loopback.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::domain::Secret;
use crate::domain::crm::CrmAuth;
use crate::testing::{self, Canned};

/// Answers each name with the next of its scripted answers (the last one repeating).
struct StubResolver {
    answers: Mutex<VecDeque<Vec<IpAddr>>>,
    asked: Mutex<Vec<String>>,
}

impl StubResolver {
    fn answering(answers: &[&[&str]]) -> Arc<Self> {
        let parsed = answers
            .iter()
            .map(|ips| {
                ips.iter()
                    .map(|ip| ip.parse().expect("an address"))
                    .collect()
            })
            .collect();
        Arc::new(StubResolver {
            answers: Mutex::new(parsed),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> usize {
        self.asked.lock().expect("lock").len()
    }
}

#[async_trait]
impl Resolver for StubResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.asked.lock().expect("lock").push(host.to_owned());
        let mut answers = self.answers.lock().expect("lock");
        let ips = match answers.len() {
            0 => return Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
            1 => answers[0].clone(),
            _ => answers.pop_front().unwrap_or_default(),
        };
        Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }
}

/// Records each address it is asked for and connects to the loopback server instead.
struct RecordingDialer {
    server: u16,
    asked: Mutex<Vec<SocketAddr>>,
}

impl RecordingDialer {
    fn to(server: &Canned) -> Arc<Self> {
        Arc::new(RecordingDialer {
            server: server.port,
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> Vec<SocketAddr> {
        self.asked.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Dialer for RecordingDialer {
    async fn dial(&self, address: SocketAddr) -> io::Result<TcpStream> {
        self.asked.lock().expect("lock").push(address);
        TcpStream::connect(("127.0.0.1", self.server)).await
    }
}

const RECORD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n{\"firstname\":\"Jane\"}";

fn target(base: &str, auth: CrmAuth) -> CrmTarget {
    CrmTarget {
        base: Url::parse(base).expect("a URL"),
        auth,
    }
}

fn by_ref() -> Lookup {
    Lookup::CustomerRef("C-1".into())
}

fn client(resolver: Arc<StubResolver>, dialer: Arc<RecordingDialer>) -> CrmClient {
    CrmClient::with(
        resolver,
        dialer,
        ConnectorPolicy::PublicOnly,
        testing::test_ca(),
    )
}

#[tokio::test]
async fn every_address_a_name_resolves_to_must_be_public() {
    let server = testing::tls_server(RECORD.to_vec()).await;
    let refused: &[&[&str]] = &[
        &["127.0.0.1"],
        &["10.1.2.3"],
        &["172.16.0.1"],
        &["192.168.1.1"],
        &["169.254.169.254"],
        &["100.64.0.1"],
        &["0.0.0.0"],
        &["224.0.0.1"],
        &["255.255.255.255"],
        &["::1"],
        &["fe80::1"],
        &["fc00::1"],
        &["::ffff:127.0.0.1"],
        &["::ffff:169.254.169.254"],
        &["64:ff9b::a9fe:a9fe"],
        // One private address among public ones is enough to refuse the name.
        &["8.8.8.8", "10.0.0.1"],
    ];
    for answer in refused {
        let resolver = StubResolver::answering(&[answer]);
        let dialer = RecordingDialer::to(&server);
        let crm = client(resolver.clone(), dialer.clone());
        let target = target("https://localhost/", CrmAuth::None);
        let failed = crm.lookup(&target, &by_ref()).await.expect_err("refused");
        assert!(
            failed.0.contains("not a public address"),
            "{answer:?}: {failed}"
        );
        assert_eq!(resolver.asked(), 1);
        assert!(dialer.asked().is_empty(), "{answer:?} was dialed");
    }
    assert_eq!(server.accepted(), 0);
}

#[tokio::test]
async fn an_address_written_in_the_url_is_checked_without_resolving() {
    let server = testing::tls_server(RECORD.to_vec()).await;
    for base in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/",
        "https://[::1]:8443/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://127.0.0.1/",
    ] {
        let resolver = StubResolver::answering(&[&["8.8.8.8"]]);
        let dialer = RecordingDialer::to(&server);
        let crm = client(resolver.clone(), dialer.clone());
        let failed = crm
            .lookup(&target(base, CrmAuth::None), &by_ref())
            .await
            .expect_err(base);
        assert!(
            failed.0.contains("not a public address"),
            "{base}: {failed}"
        );
        assert_eq!(resolver.asked(), 0);
        assert!(dialer.asked().is_empty());
    }
}

#[tokio::test]
async fn the_connection_goes_to_the_checked_address_so_a_changed_dns_answer_cannot_reach_loopback()
{
    let server = testing::tls_server(RECORD.to_vec()).await;
    // Public when first asked, loopback from then on (DNS rebinding).
    let resolver = StubResolver::answering(&[&["8.8.8.8"], &["127.0.0.1"]]);
    let dialer = RecordingDialer::to(&server);
    let crm = client(resolver.clone(), dialer.clone());
    let token = CrmAuth::Bearer(Secret::new("tok-1"));
    let target = target("https://localhost:8443/crm/", token);

    let body = crm.lookup(&target, &by_ref()).await.expect("an answer");
    assert_eq!(body.as_deref(), Some(&b"{\"firstname\":\"Jane\"}"[..]));
    let dialed: SocketAddr = "8.8.8.8:8443".parse().expect("an address");
    assert_eq!(dialer.asked(), [dialed]);
    let request = &server.requests()[0];
    assert!(request.starts_with("GET /crm/answerpal/lookup?customerRef=C-1 HTTP/1.1\r\n"));
    assert!(request.contains("host: localhost:8443\r\n"), "{request}");
    assert!(
        request.contains("authorization: Bearer tok-1\r\n"),
        "{request}"
    );

    let failed = crm.lookup(&target, &by_ref()).await.expect_err("refused");
    assert!(
        failed
            .0
            .contains("127.0.0.1, which is not a public address")
    );
    assert_eq!(
        dialer.asked(),
        [dialed],
        "the loopback answer was not dialed"
    );
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn tls_verifies_the_certificate_against_the_trusted_roots() {
    let server = testing::tls_server(RECORD.to_vec()).await;
    let resolver = StubResolver::answering(&[&["8.8.8.8"]]);
    let dialer = RecordingDialer::to(&server);
    let crm = CrmClient::with(
        resolver,
        dialer,
        ConnectorPolicy::PublicOnly,
        system_roots(),
    );
    let failed = crm
        .lookup(&target("https://localhost/", CrmAuth::None), &by_ref())
        .await
        .expect_err("a certificate of no public CA");
    assert!(failed.0.contains("TLS"), "{failed}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn plain_http_reaches_loopback_only_and_only_when_allowed() {
    let server = testing::plain_server(RECORD.to_vec()).await;
    let loopback = format!("http://127.0.0.1:{}/", server.port);
    let deployed = CrmClient::new(ConnectorPolicy::PublicOnly);
    let failed = deployed
        .lookup(&target(&loopback, CrmAuth::None), &by_ref())
        .await
        .expect_err("plain http");
    assert!(failed.0.contains("https"), "{failed}");
    assert_eq!(server.accepted(), 0);

    let local = CrmClient::new(ConnectorPolicy::AllowLoopback);
    let body = local
        .lookup(&target(&loopback, CrmAuth::None), &by_ref())
        .await
        .expect("loopback over http, allowed");
    assert!(body.is_some());

    // Allowed loopback does not make plain http to a public address allowed.
    let resolver = StubResolver::answering(&[&["8.8.8.8"]]);
    let dialer = RecordingDialer::to(&server);
    let crm = CrmClient::with(
        resolver,
        dialer.clone(),
        ConnectorPolicy::AllowLoopback,
        testing::test_ca(),
    );
    let failed = crm
        .lookup(&target("http://crm.example/", CrmAuth::None), &by_ref())
        .await
        .expect_err("plain http to a public address");
    assert!(failed.0.contains("8.8.8.8"), "{failed}");
    assert!(dialer.asked().is_empty());
}

#[tokio::test]
async fn an_unknown_host_and_a_closed_port_are_failures() {
    let server = testing::plain_server(RECORD.to_vec()).await;
    let unknown = StubResolver::answering(&[]);
    let crm = client(unknown, RecordingDialer::to(&server));
    let failed = crm
        .lookup(&target("https://crm.invalid/", CrmAuth::None), &by_ref())
        .await
        .expect_err("no such host");
    assert!(failed.0.contains("does not resolve"), "{failed}");

    let closed = CrmClient::new(ConnectorPolicy::AllowLoopback);
    let failed = closed
        .lookup(&target("http://127.0.0.1:1/", CrmAuth::None), &by_ref())
        .await
        .expect_err("nothing listens");
    assert!(failed.0.contains("refused the connection"), "{failed}");
}
