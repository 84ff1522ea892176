//! The HTTPS client of the AWS SDK clients: HTTP/1.1 over rustls (on ring, which the JWT
//! verifier already links) through hyper, trusting only the compiled-in roots. The SDK's own
//! client also speaks HTTP/2, which DynamoDB and KMS do not need (h2 would add 140 KB to every
//! function), and its builder cannot be given an HTTP/1-only connector.

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tower_service::Service;

/// Amazon Root CA 1 to 4 and Starfield Services Root CA G2 (which cross-signs them): the roots of
/// Amazon Trust Services, which issues the certificates of the DynamoDB and KMS endpoints.
const AMAZON_TRUST_ROOTS: &[u8] = include_bytes!("amazon-trust-roots.pem");

/// How long a connection opened ahead of its first request stays usable: well inside the idle
/// time after which a server may close a connection that nobody uses.
const OPENED_AHEAD_FOR: Duration = Duration::from_secs(20);

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;
type BoxError = Box<dyn Error + Send + Sync>;

/// One pool of keep-alive connections, shared by every request of an SDK client; built at its
/// first use (the TLS set-up stays out of a function's init unless it opens a connection there).
#[derive(Clone, Debug)]
pub struct Https {
    pool: Arc<OnceLock<Pool>>,
    roots: fn() -> RootCertStore,
    connect_timeout: Duration,
    allow_http: bool,
}

impl Https {
    /// A client whose connections are established within `connect_timeout`. `https` only, or
    /// plain `http` too (a local endpoint such as moto).
    pub fn new(connect_timeout: Duration, allow_http: bool) -> Self {
        Self::trusting(trust_roots, connect_timeout, allow_http)
    }

    fn trusting(roots: fn() -> RootCertStore, connect_timeout: Duration, allow_http: bool) -> Self {
        Https {
            pool: Arc::new(OnceLock::new()),
            roots,
            connect_timeout,
            allow_http,
        }
    }

    /// Opens a connection to `url`'s host (DNS, TCP, TLS handshake, all within the connect
    /// timeout) for the next request there to use, if it comes within [`OPENED_AHEAD_FOR`]; no
    /// request is sent.
    pub async fn open_connection(&self, url: &str) -> Result<(), String> {
        let uri: Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        let mut connector = self.pool().connector.connector.clone();
        let stream = tokio::time::timeout(self.connect_timeout, connector.call(uri.clone()))
            .await
            .map_err(|_| format!("no connection within {:?}", self.connect_timeout))?
            .map_err(|e| e.to_string())?;
        self.pool().connector.keep(uri, stream);
        Ok(())
    }

    fn pool(&self) -> &Pool {
        self.pool
            .get_or_init(|| build_pool((self.roots)(), self.connect_timeout, self.allow_http))
    }
}

/// The keep-alive client, and its connector (which may hold a connection opened ahead).
#[derive(Debug)]
struct Pool {
    client: Client<Preconnected, SdkBody>,
    connector: Preconnected,
}

/// The pool's connector: hands out the connection opened ahead for its host while fresh, else
/// connects.
#[derive(Clone)]
struct Preconnected {
    connector: HttpsConnector<TcpConnector>,
    opened: Arc<Mutex<Option<Opened>>>,
}

struct Opened {
    uri: Uri,
    at: Instant,
    stream: Stream,
}

impl std::fmt::Debug for Preconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preconnected").finish_non_exhaustive()
    }
}

impl Preconnected {
    fn keep(&self, uri: Uri, stream: Stream) {
        if let Ok(mut opened) = self.opened.lock() {
            let at = Instant::now();
            *opened = Some(Opened { uri, at, stream });
        }
    }

    /// The connection opened ahead for `uri`'s scheme and host, while fresh; taken once.
    fn take(&self, uri: &Uri) -> Option<Stream> {
        let opened = self.opened.lock().ok()?.take()?;
        let same = opened.uri.scheme() == uri.scheme() && opened.uri.authority() == uri.authority();
        (same && opened.at.elapsed() < OPENED_AHEAD_FOR).then_some(opened.stream)
    }
}

impl Service<Uri> for Preconnected {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.connector.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self.take(&uri) {
            Some(stream) => Box::pin(std::future::ready(Ok(stream))),
            None => self.connector.call(uri),
        }
    }
}

/// The TLS crypto: *ring*. rustls 0.23.48 deprecates its *ring* provider for lacking
/// post-quantum key exchange, which its aws-lc-rs provider has; DynamoDB and KMS do not require
/// it, and the switch waits on measuring what it costs the functions (docs/decisions.md). The
/// clients present no certificate of their own, so the provider loads no private key (its RSA
/// and ECDSA signing code stays out of the binaries).
#[allow(deprecated)]
pub(crate) fn crypto() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::CryptoProvider {
        key_provider: &NoPrivateKeys,
        ..rustls::crypto::ring::default_provider()
    })
}

/// Refuses every private key: no client of this crate authenticates with a certificate.
#[derive(Debug)]
struct NoPrivateKeys;

impl rustls::crypto::KeyProvider for NoPrivateKeys {
    fn load_private_key(
        &self,
        _key: rustls_pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "this process's TLS clients present no certificate".into(),
        ))
    }
}

fn build_pool(roots: RootCertStore, connect_timeout: Duration, allow_http: bool) -> Pool {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    let tls = rustls::ClientConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
    let builder = match allow_http {
        true => builder.https_or_http(),
        false => builder.https_only(),
    };
    let connector = Preconnected {
        connector: builder.enable_http1().wrap_connector(tcp),
        opened: Arc::new(Mutex::new(None)),
    };
    let client = Client::builder(TokioExecutor::new()).build(connector.clone());
    Pool { client, connector }
}

/// The compiled-in roots: the system's bundle would be read (a directory walk) on the first
/// connection, which lands in the function's init.
fn trust_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_slice_iter(AMAZON_TRUST_ROOTS).flatten();
    roots.add_parsable_certificates(certificates);
    roots
}

impl HttpConnector for Https {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let sent = self.pool().client.request(request);
        HttpConnectorFuture::new(async move {
            let response = sent.await.map_err(connector_error)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

impl HttpClient for Https {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A failed exchange as the SDK's retry policy reads it: a connection that failed or broke is an
/// I/O error (retried), a response cut short a transient one.
fn connector_error(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let hyper_error = find_source::<hyper::Error>(&error);
    let io = error.is_connect()
        || find_source::<std::io::Error>(&error).is_some()
        || hyper_error.is_some_and(|e| e.is_closed() || e.is_canceled());
    if io {
        return ConnectorError::io(error.into());
    }
    if hyper_error.is_some_and(hyper::Error::is_incomplete_message) {
        return ConnectorError::other(error.into(), Some(ErrorKind::TransientError));
    }
    ConnectorError::other(error.into(), None)
}

fn find_source<'a, E: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn the_clients_provider_loads_no_private_key() {
        use rustls_pki_types::PrivateKeyDer;
        let key = PrivateKeyDer::from_pem_slice(include_bytes!("testdata/localhost.key"))
            .expect("the test key");
        assert!(crypto().key_provider.load_private_key(key).is_err());
    }

    #[test]
    fn the_compiled_in_trust_roots_are_five_certificates() {
        let roots = CertificateDer::pem_slice_iter(AMAZON_TRUST_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(roots.len(), 5);
        assert_eq!(trust_roots().len(), 5);
    }

    async fn tls_server() -> String {
        let server = crate::testing::tls_server(crate::testing::OK.to_vec()).await;
        format!("https://localhost:{}/", server.port)
    }

    fn get(url: &str) -> HttpRequest {
        let request = lambda_http::http::Request::get(url)
            .body(SdkBody::empty())
            .expect("a request");
        HttpRequest::try_from(request).expect("an SDK request")
    }

    #[tokio::test]
    async fn an_opened_connection_serves_the_next_request() {
        let server = crate::testing::plain_server(crate::testing::OK.to_vec()).await;
        let url = format!("http://127.0.0.1:{}/", server.port);
        let https = Https::new(Duration::from_secs(1), true);
        https.open_connection(&url).await.expect("a connection");
        // The server counts a connection once its accept loop has run.
        for _ in 0..100 {
            if server.accepted() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.accepted(), 1);
        let response = https.call(get(&url)).await.expect("a response");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(server.accepted(), 1, "the opened connection was used");

        // Nothing listening: an error to log, not a panic.
        let closed = Https::new(Duration::from_secs(1), true);
        assert!(closed.open_connection("http://127.0.0.1:1/").await.is_err());
        // A server that takes the connection and never answers the TLS handshake: an error
        // within the connect timeout.
        let frozen = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = frozen.local_addr().expect("address").port();
        let https_only = Https::new(Duration::from_millis(200), false);
        let started = std::time::Instant::now();
        let opened = https_only
            .open_connection(&format!("https://127.0.0.1:{port}/"))
            .await;
        assert!(opened.is_err_and(|e| e.contains("no connection within")));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn requests_go_over_tls_to_servers_the_roots_trust_only() {
        let url = tls_server().await;
        let trusting = Https::trusting(crate::testing::test_ca, Duration::from_secs(1), false);
        let response = trusting.call(get(&url)).await.expect("a response over TLS");
        assert_eq!(response.status().as_u16(), 200);
        let body = response.into_body().collect().await.expect("the body");
        assert_eq!(body.to_bytes().as_ref(), b"ok");

        // With the Amazon roots the same server is refused, as an I/O failure, not a panic.
        let deployed = Https::new(Duration::from_secs(1), false);
        let refused = deployed
            .call(get(&url))
            .await
            .expect_err("an untrusted server");
        assert!(refused.is_io(), "{refused:?}");
        // And an https-only client refuses plain http.
        let plain = deployed.call(get("http://localhost:1/")).await;
        assert!(plain.is_err());
    }
}
