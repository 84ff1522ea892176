//! One HTTP/1.1 exchange with the CRM on a connection to a checked address: the request with
//! its credentials, TLS to the URL's host, and the answer read within its cap.

use std::sync::Arc;

use base64::Engine;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, AUTHORIZATION, HOST, HeaderValue, USER_AGENT};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::{Position, Url};

use super::{CrmUnavailable, MAX_ANSWER_BYTES};
use crate::domain::crm::CrmAuth;

const AGENT: &str = concat!("answerpal-crm-connector/", env!("CARGO_PKG_VERSION"));

fn unavailable(what: &str) -> CrmUnavailable {
    CrmUnavailable(what.to_owned())
}

/// `GET` of `url`'s path and query, authenticated by `auth`.
pub(super) fn request(url: &Url, auth: &CrmAuth) -> Result<Request<Empty<Bytes>>, CrmUnavailable> {
    let authority = &url[Position::BeforeHost..Position::AfterPort];
    let target = &url[Position::BeforePath..Position::AfterQuery];
    let mut builder = Request::get(target)
        .header(HOST, authority)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, AGENT);
    let credential = match auth {
        CrmAuth::None => None,
        CrmAuth::Basic { username, password } => {
            let pair = format!("{username}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            Some((
                AUTHORIZATION.as_str(),
                format!("Basic {encoded}"),
                "apiPassword",
            ))
        }
        CrmAuth::Bearer(token) => Some((
            AUTHORIZATION.as_str(),
            format!("Bearer {}", token.expose()),
            "apiToken",
        )),
        CrmAuth::ApiKey(token) => Some(("x-api-key", token.expose().to_owned(), "apiToken")),
    };
    if let Some((name, value, field)) = credential {
        let mut value = HeaderValue::try_from(value).map_err(|_| {
            CrmUnavailable(format!(
                "the stored {field} cannot be sent in an HTTP header"
            ))
        })?;
        value.set_sensitive(true);
        builder = builder.header(name, value);
    }
    builder
        .body(Empty::new())
        .map_err(|_| unavailable("apiBaseUrl does not make a request"))
}

/// TLS over `stream`, verifying the certificate names `host`.
pub(super) async fn tls(
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, CrmUnavailable> {
    // An IPv6 host comes bracketed; the certificate names the address itself.
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|_| unavailable("apiBaseUrl's host is not a TLS server name"))?
        .to_owned();
    TlsConnector::from(Arc::clone(config))
        .connect(name, stream)
        .await
        .map_err(|error| {
            tracing::info!(%error, "TLS with the CRM failed");
            unavailable("the CRM's TLS certificate or handshake was refused")
        })
}

/// A connection to the CRM, plain or TLS: one type, so that hyper's client is built once.
pub(super) trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Connection for S {}

/// Sends `request` on `stream` and reads the answer, driving the connection meanwhile (in
/// this task: when the lookup's time limit drops it, the socket goes with it).
pub(super) async fn exchange(
    stream: Box<dyn Connection>,
    request: Request<Empty<Bytes>>,
) -> Result<Option<Vec<u8>>, CrmUnavailable> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(broken)?;
    let exchange = async move { answer(sender.send_request(request).await.map_err(broken)?).await };
    tokio::pin!(connection, exchange);
    tokio::select! {
        biased;
        answer = &mut exchange => answer,
        // Closed or failed: what the exchange got of the answer tells which.
        _ = &mut connection => exchange.await,
    }
}

fn broken(error: hyper::Error) -> CrmUnavailable {
    tracing::info!(%error, "the exchange with the CRM broke");
    unavailable("the CRM closed the connection without a complete answer")
}

/// The CRM's answer: its body for 200, `None` for 404, anything else a failure.
async fn answer(response: Response<Incoming>) -> Result<Option<Vec<u8>>, CrmUnavailable> {
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Ok(None),
        status if status.is_redirection() => {
            return Err(CrmUnavailable(format!(
                "the CRM answered {} (a redirect, which the connector does not follow)",
                status.as_u16()
            )));
        }
        status => {
            return Err(CrmUnavailable(format!(
                "the CRM answered {}",
                status.as_u16()
            )));
        }
    }
    let too_large = || CrmUnavailable(format!("the CRM's answer is over {MAX_ANSWER_BYTES} bytes"));
    let declared = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_ANSWER_BYTES as u64) {
        return Err(too_large());
    }
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                unavailable("the CRM closed the connection without a complete answer")
            }
        })?;
    Ok(Some(body.to_bytes().to_vec()))
}
