//! Loopback servers of the unit tests of this crate's HTTP clients (the AWS SDK's, KMS's and the
//! CRM connector's): each answers every request with the same bytes and records what it received.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// `200 ok`.
pub const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// A server on 127.0.0.1: its port, the connections it accepted and the requests it read.
#[derive(Clone)]
pub struct Canned {
    pub port: u16,
    pub accepted: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Canned {
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The requests read so far, as text.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// The test CA of `aws/testdata`, which issued the `localhost` certificate of [`tls_server`].
pub fn test_ca() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(
        CertificateDer::pem_slice_iter(include_bytes!("aws/testdata/ca.pem")).flatten(),
    );
    roots
}

async fn listen() -> (TcpListener, Canned) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let canned = Canned {
        port: listener.local_addr().expect("address").port(),
        accepted: Arc::new(AtomicUsize::new(0)),
        requests: Arc::new(Mutex::new(Vec::new())),
    };
    (listener, canned)
}

/// Answers `answer` to each request on `stream` (one read each) until it closes.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, answer: &[u8], canned: &Canned) {
    let mut request = vec![0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut request).await {
        if n == 0 {
            return;
        }
        if let Ok(mut requests) = canned.requests.lock() {
            requests.push(String::from_utf8_lossy(&request[..n]).into_owned());
        }
        if stream.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// Plain HTTP/1.1, keeping connections alive.
pub async fn plain_server(answer: Vec<u8>) -> Canned {
    let (listener, canned) = listen().await;
    let server = canned.clone();
    let answer: Arc<[u8]> = answer.into();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            server.accepted.fetch_add(1, Ordering::SeqCst);
            let (server, answer) = (server.clone(), Arc::clone(&answer));
            tokio::spawn(async move { serve(stream, &answer, &server).await });
        }
    });
    canned
}

/// TLS with a certificate for `localhost` issued by [`test_ca`], keeping connections alive.
pub async fn tls_server(answer: Vec<u8>) -> Canned {
    let chain = CertificateDer::pem_slice_iter(include_bytes!("aws/testdata/localhost.pem"))
        .collect::<Result<Vec<_>, _>>()
        .expect("the leaf certificate");
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("aws/testdata/localhost.key"))
        .expect("the leaf key");
    // A server loads its key: the full provider, not the clients' (which loads none).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (listener, canned) = listen().await;
    let server = canned.clone();
    let answer: Arc<[u8]> = answer.into();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            server.accepted.fetch_add(1, Ordering::SeqCst);
            let (acceptor, server, answer) = (acceptor.clone(), server.clone(), answer.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve(tls, &answer, &server).await;
                }
            });
        }
    });
    canned
}
