//! The CRM connector (SPEC 10): asks a tenant's CRM one lookup over HTTP/1.1, and cannot be
//! turned against the service. Every address the base URL's host resolves to is checked against
//! the [`ConnectorPolicy`] when connecting (not only when the URL was saved), and the connection
//! goes to the checked address itself, so a DNS answer that changes in between cannot reach the
//! service's own network. TLS verifies the URL's host against the system's trust roots;
//! redirects are answers, not followed; an answer is read up to 1 MiB, the whole exchange within
//! 3 s.
//! Credentials go in the request's headers only (marked sensitive), never in a log line.

mod exchange;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use rustls::RootCertStore;
use tokio::net::TcpStream;
use url::{Host, Url};

use crate::domain::crm::{CrmTarget, Lookup};
use crate::domain::customer::ConnectorPolicy;

/// How long one lookup may take, connection and answer included.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// The largest answer read.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Why the CRM gave no usable answer, as the 502 says it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CrmUnavailable(pub String);

/// Resolves a host name to the addresses the connector would connect to.
#[async_trait]
pub trait Resolver: Send + Sync {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// Opens the TCP connection to an address the connector checked.
#[async_trait]
pub trait Dialer: Send + Sync {
    async fn dial(&self, address: SocketAddr) -> io::Result<TcpStream>;
}

/// The system's resolver (Lambda's: the VPC or the public DNS).
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// Plain TCP.
pub struct TcpDialer;

#[async_trait]
impl Dialer for TcpDialer {
    async fn dial(&self, address: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// Resolves no name: a connector that stays on this machine (with [`LoopbackDialer`]).
pub struct NoResolver;

#[async_trait]
impl Resolver for NoResolver {
    async fn resolve(&self, host: &str, _port: u16) -> io::Result<Vec<SocketAddr>> {
        let refused = format!("{host}: this connector resolves no names");
        Err(io::Error::new(io::ErrorKind::NotFound, refused))
    }
}

/// Connects to loopback addresses only.
pub struct LoopbackDialer;

#[async_trait]
impl Dialer for LoopbackDialer {
    async fn dial(&self, address: SocketAddr) -> io::Result<TcpStream> {
        if !address.ip().is_loopback() {
            let refused = format!("{address}: this connector stays on this machine");
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, refused));
        }
        TcpDialer.dial(address).await
    }
}

/// The connector: asks a tenant's CRM one [`Lookup`] at a time.
#[derive(Clone)]
pub struct CrmClient {
    resolver: Arc<dyn Resolver>,
    dialer: Arc<dyn Dialer>,
    policy: ConnectorPolicy,
    tls: Arc<Tls>,
}

/// The TLS client configuration: given, or on the system's trust roots, read at first use.
struct Tls {
    config: OnceLock<Arc<rustls::ClientConfig>>,
}

impl Tls {
    fn config(&self) -> &Arc<rustls::ClientConfig> {
        self.config.get_or_init(|| client_config(system_roots()))
    }
}

/// The TLS client configuration of the connector: HTTP/1.1 over TLS 1.2 or 1.3 on `roots`.
fn client_config(roots: RootCertStore) -> Arc<rustls::ClientConfig> {
    let mut tls = rustls::ClientConfig::builder_with_provider(crate::aws::crypto())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(tls)
}

/// The system's trust roots (Amazon Linux's CA bundle in Lambda: Mozilla's list, updated with the
/// runtime; `SSL_CERT_FILE` or `SSL_CERT_DIR` where set). None read: every TLS connection fails,
/// each sync a 502.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 || !found.errors.is_empty() {
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        tracing::warn!(added, ignored, ?errors, "the system's trust roots, read");
    }
    roots
}

impl CrmClient {
    /// The connector of a deployed function (`PublicOnly`) or of the local server: the system's
    /// resolver and trust roots (read at the first TLS connection, not at start).
    pub fn new(policy: ConnectorPolicy) -> Self {
        CrmClient {
            resolver: Arc::new(SystemResolver),
            dialer: Arc::new(TcpDialer),
            policy,
            tls: Arc::new(Tls {
                config: OnceLock::new(),
            }),
        }
    }

    /// A connector that sends nothing off this machine: it resolves no name and connects to
    /// loopback only (the API suites and the fuzzer; the local server's `CRM_OFFLINE=true`).
    pub fn offline(policy: ConnectorPolicy) -> Self {
        let roots = RootCertStore::empty();
        Self::with(
            Arc::new(NoResolver),
            Arc::new(LoopbackDialer),
            policy,
            roots,
        )
    }

    /// The connector resolving with `resolver`, connecting with `dialer` and trusting `roots`.
    pub fn with(
        resolver: Arc<dyn Resolver>,
        dialer: Arc<dyn Dialer>,
        policy: ConnectorPolicy,
        roots: RootCertStore,
    ) -> Self {
        CrmClient {
            resolver,
            dialer,
            policy,
            tls: Arc::new(Tls {
                config: OnceLock::from(client_config(roots)),
            }),
        }
    }

    /// Asks `target` `lookup`: the answer's body when the CRM answers 200, `None` for 404.
    pub async fn lookup(
        &self,
        target: &CrmTarget,
        lookup: &Lookup,
    ) -> Result<Option<Vec<u8>>, CrmUnavailable> {
        self.lookup_within(target, lookup, TIMEOUT).await
    }

    /// [`CrmClient::lookup`] given at most `left` (less than its own [`TIMEOUT`] when the time
    /// of the sync it is part of runs out).
    pub async fn lookup_within(
        &self,
        target: &CrmTarget,
        lookup: &Lookup,
        left: Duration,
    ) -> Result<Option<Vec<u8>>, CrmUnavailable> {
        let url = lookup.url(&target.base);
        let allowed = TIMEOUT.min(left);
        match tokio::time::timeout(allowed, self.ask(&url, target)).await {
            Ok(answer) => answer,
            Err(_) if allowed == TIMEOUT => Err(CrmUnavailable(format!(
                "the CRM did not answer within {} s",
                TIMEOUT.as_secs()
            ))),
            Err(_) => Err(CrmUnavailable(format!(
                "the CRM did not answer in the {} ms left of the sync's time",
                allowed.as_millis()
            ))),
        }
    }

    async fn ask(&self, url: &Url, target: &CrmTarget) -> Result<Option<Vec<u8>>, CrmUnavailable> {
        let addresses = self.checked_addresses(url).await?;
        let stream = self.connect(&addresses).await?;
        let request = exchange::request(url, &target.auth)?;
        match url.scheme() {
            "https" => {
                let host = url.host_str().unwrap_or_default();
                let tls = exchange::tls(self.tls.config(), host, stream).await?;
                exchange::exchange(Box::new(tls), request).await
            }
            _ => exchange::exchange(Box::new(stream), request).await,
        }
    }

    /// Every address `url`'s host stands for, each one the policy lets the connector reach
    /// (plain `http` only to loopback, when allowed at all).
    async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, CrmUnavailable> {
        let refused = |why: String| Err(CrmUnavailable(why));
        let plain = match url.scheme() {
            "https" => false,
            "http" if self.policy == ConnectorPolicy::AllowLoopback => true,
            _ => return refused("apiBaseUrl must be an https URL".into()),
        };
        let Some(port) = url.port_or_known_default() else {
            return refused("apiBaseUrl has no port".into());
        };
        let addresses = match url.host() {
            Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(Host::Domain(name)) => match self.resolver.resolve(name, port).await {
                Ok(addresses) => addresses,
                Err(_) => return refused(format!("the CRM's host {name} does not resolve")),
            },
            None => return refused("apiBaseUrl has no host".into()),
        };
        if addresses.is_empty() {
            return refused("the CRM's host resolves to no address".into());
        }
        for address in &addresses {
            let ip = address.ip();
            let allowed = match plain {
                true => self.policy.allows_plain_http(ip),
                false => self.policy.allows(ip),
            };
            if !allowed {
                return refused(format!(
                    "the CRM's host resolves to {ip}, which is not a public address"
                ));
            }
        }
        Ok(addresses)
    }

    /// A connection to the first of `addresses` that accepts one.
    async fn connect(&self, addresses: &[SocketAddr]) -> Result<TcpStream, CrmUnavailable> {
        for address in addresses {
            match self.dialer.dial(*address).await {
                Ok(stream) => return Ok(stream),
                Err(error) => tracing::info!(%address, %error, "the CRM refused a connection"),
            }
        }
        Err(CrmUnavailable("the CRM refused the connection".into()))
    }
}
