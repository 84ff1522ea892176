//! The local server's transport: HTTP/1.1 on a TCP listener, each request converted into the
//! `lambda_http::Request` API Gateway would deliver and answered by the shared [`Api`]. It stays
//! up under abuse: a failed `accept` is logged and retried, connections are capped, headers and
//! bodies must arrive in time, idle keep-alive connections are closed, and a body that never fully
//! arrives never reaches a handler.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use answerpal::error::ApiError;
use answerpal::http::{Api, MAX_BODY_BYTES};
use answerpal::store::Table;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// API Gateway refuses larger payloads before they reach a function.
const API_GATEWAY_MAX_BYTES: usize = 10 * 1024 * 1024;
/// The pause after a failed `accept` (out of file descriptors, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What one client may hold of the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// To send a request's headers, and to start the next request on a kept-alive connection
    /// (hyper's header read timeout also runs while a connection waits idle).
    pub header_read: Duration,
    /// To send a request's body.
    pub body_read: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            connections: 512,
        }
    }
}

/// Serves `api` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, api: Arc<Api>, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.connections));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // The listener itself is fine: file descriptors run out, or a client left before
                // it was accepted. Serve on once there is room again.
                tracing::warn!(%error, "accepting a connection failed; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let api = Arc::clone(&api);
                async move { Ok::<_, Infallible>(answer(&api, request, limits.body_read).await) }
            });
            let mut connection = http1::Builder::new();
            // Responses are small: head and body copied into one buffer and sent with one plain
            // write served 3-5% more requests than a vectored write of the two.
            connection
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .writev(false);
            if let Err(error) = connection
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed");
            }
            drop(slot);
        });
    }
}

/// How often the local server works through pending erasure jobs (deployed: every 5 minutes).
pub const ERASURE_EVERY: Duration = Duration::from_secs(60);

/// Works through `table`'s pending erasure jobs (anonymized end users with a long history) every
/// `every`, as the deployed `ErasureFunction` does on its schedule.
pub async fn erase_in_background(table: Arc<dyn Table>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let stop_at = std::time::Instant::now() + every / 2;
        match answerpal::service::erasure::run(table.as_ref(), stop_at).await {
            Ok(erased) if erased.steps > 0 => {
                tracing::info!(
                    finished = erased.finished,
                    steps = erased.steps,
                    "erasure jobs"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "erasure jobs failed; next round later"),
        }
    }
}

/// The body, of which one byte past the limit at most is kept: enough for the shared handler to
/// answer 413. The rest, up to API Gateway's own cap, is read and dropped so the client sees the
/// answer rather than a reset. `Err` when the body ended before it was complete.
async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut bytes = Vec::new();
    let mut received = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            received += data.len();
            let room = (MAX_BODY_BYTES + 1).saturating_sub(bytes.len());
            bytes.extend_from_slice(&data[..data.len().min(room)]);
            if received > API_GATEWAY_MAX_BYTES {
                break;
            }
        }
    }
    Ok(bytes)
}

async fn answer(
    api: &Api,
    request: hyper::Request<Incoming>,
    body_read: Duration,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let response = match tokio::time::timeout(body_read, read_body(body)).await {
        Ok(Ok(bytes)) => {
            let body = if bytes.is_empty() {
                lambda_http::Body::Empty
            } else {
                lambda_http::Body::Binary(bytes)
            };
            api.handle(lambda_http::Request::from_parts(parts, body))
                .await
        }
        Ok(Err(_)) => Api::refuse(ApiError::MalformedBody(
            "the request body ended before it was complete".into(),
        )),
        Err(_) => Api::refuse(ApiError::BodyTimeout),
    };
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Bytes::new(),
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(binary) => Bytes::from(binary),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}
